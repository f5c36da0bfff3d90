/**
 * Label tables given on the command line: a JSON object from label value to structure name, such as
 * TotalSegmentator's `classes_total_v2.json` (`{ "1": "spleen", "2": "kidney_right", … }`).
 */
import { readFile } from 'node:fs/promises';
import { HolocaseError } from '../errors.ts';

export interface LabelName {
  label: number;
  name: string;
}

/** Parses a label table; label values must be whole numbers 1–65535 and names non-empty strings. */
export function parseLabelTable(json: unknown, source = 'label table'): LabelName[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new HolocaseError('LABELS_INVALID', `${source} must be a JSON object from label value to structure name, e.g. {"1": "spleen"}`);
  }
  const entries: LabelName[] = [];
  for (const [key, name] of Object.entries(json)) {
    const label = Number(key);
    if (!Number.isInteger(label) || label < 1 || label > 0xffff) {
      throw new HolocaseError('LABELS_INVALID', `${source}: "${key}" is not a label value (whole numbers 1–65535; 0 is background)`);
    }
    if (typeof name !== 'string' || name.trim() === '') {
      throw new HolocaseError('LABELS_INVALID', `${source}: label ${key} has no structure name`);
    }
    entries.push({ label, name: name.trim() });
  }
  if (entries.length === 0) throw new HolocaseError('LABELS_INVALID', `${source} lists no labels`);
  return entries.sort((a, b) => a.label - b.label);
}

/** Reads and parses a label table file. */
export async function readLabelTable(file: string): Promise<LabelName[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new HolocaseError('NOT_FOUND', `label table ${file} could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HolocaseError('LABELS_INVALID', `label table ${file} is not valid JSON`);
  }
  return parseLabelTable(json, `label table ${file}`);
}
