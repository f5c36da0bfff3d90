/**
 * Clinician-validated cases as training data: an nnU-Net v2 raw dataset and the same as a MONAI
 * datalist, from the cases of one data folder.
 *
 *   DIR/imagesTr/<case>_0000.nii.gz   the de-identified CT (channel 0000: CT)
 *   DIR/labelsTr/<case>.nii.gz        the current revision's labels, renumbered 1…K by structure name
 *                                     (consecutive across the dataset), voxels of structures nobody
 *                                     validated in that case set to the `ignore` label K+1
 *   DIR/dataset.json                  channel_names, labels (background 0 … ignore K+1), numTraining, file_ending
 *   DIR/datalist.json                 MONAI: { training: [{ image, label }], labels }
 *
 * nnU-Net's rules (its documentation on the dataset format and on ignore labels): images and labels
 * share their geometry, labels are consecutive integers from 0, `ignore` is the highest, and
 * background voxels are trusted (only unvalidated structures are ignored). Case identifiers are the
 * server's opaque case ids; the uploader's case label is never written (people type names into it).
 * The folder is written under a scratch name and renamed into place, so it is complete or absent.
 */
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HolocaseError } from '../errors.ts';
import { labelMapFromVolume } from '../mesh/labelMapFromVolume.ts';
import type { Database } from '../store/database.ts';
import { CASE_FILES, caseLayout } from '../store/caseFolders.ts';
import { getCase, type CaseRow } from '../store/cases.ts';
import { readNifti, writeNifti } from '../volume/nifti.ts';
import { ensureRevisions } from './modelRevision.ts';
import { revisionLabelsFile } from './revisionFiles.ts';
import { latestRevision, listValidations } from './revisionRows.ts';
import { readRevisionStructures } from './revisionStructures.ts';

export interface DatasetExportOptions {
  /** Output folder (must not exist, or be empty). */
  outDir: string;
  /** Only cases segmented by this model. */
  modelId?: string;
  /** Only cases in which every structure is validated (no `ignore` voxels at all). */
  validatedOnly?: boolean;
  /** nnU-Net dataset name written into dataset.json. */
  name?: string;
  onCase?: (caseId: string, index: number, total: number) => void;
}

export const DATASET_DEFAULTS = { name: 'holocase_validated' };

export interface DatasetExportResult {
  cases: string[];
  /** Structure name → training label (background 0 and ignore included). */
  labels: Record<string, number>;
  ignoreLabel: number;
  /** Cases left out and why (no validated structure, not every structure validated). */
  skipped: { caseId: string; reason: string }[];
}

interface Selected {
  c: CaseRow;
  revision: number;
  /** Label value in the revision → structure name, for validated structures. */
  validated: Map<number, string>;
  present: Map<number, string>;
}

/**
 * 1. Choose the cases: finished, of the model, with at least one validated structure (all of them
 *    when `validatedOnly`).
 * 2. The label table: validated structure names, sorted, numbered 1…K; ignore = K+1.
 * 3. Per case: CT copied, labels renumbered (unvalidated → ignore) on the CT's grid.
 * 4. dataset.json and datalist.json; rename the folder into place.
 */
export async function exportDataset(db: Database, dataDir: string, options: DatasetExportOptions): Promise<DatasetExportResult> {
  const o = { ...DATASET_DEFAULTS, ...options };
  const existing = await stat(o.outDir).then((s) => s, () => undefined);
  if (existing) {
    if (!existing.isDirectory() || (await readdir(o.outDir)).length > 0) throw new HolocaseError('CONFLICT', `${o.outDir} already exists and is not an empty folder; choose a new one`);
  }
  // 1. Cases.
  const rows = db.prepare(`SELECT id FROM cases WHERE status = 'done' ${o.modelId ? 'AND model_id = ?' : ''} ORDER BY created_at, id`).all(...(o.modelId ? [o.modelId] : [])) as { id: string }[];
  const selected: Selected[] = [];
  const skipped: DatasetExportResult['skipped'] = [];
  for (const { id } of rows) {
    const c = ensureRevisions(db, dataDir, getCase(db, id)!);
    const revision = latestRevision(db, id);
    if (revision < 0) continue;
    const table = readRevisionStructures(dataDir, id, revision);
    const present = new Map(table.structures.filter((s) => s.voxels > 0).map((s) => [s.label, s.name]));
    const validations = listValidations(db, id);
    const validated = new Map([...present].filter(([label]) => validations.has(label)));
    if (validated.size === 0) skipped.push({ caseId: id, reason: 'no validated structure' });
    else if (o.validatedOnly && validated.size < present.size) skipped.push({ caseId: id, reason: `${present.size - validated.size} structure(s) not validated` });
    else selected.push({ c, revision, validated, present });
  }
  if (selected.length === 0) throw new HolocaseError('NOT_FOUND', `no case to export: ${rows.length} finished case(s)${o.modelId ? ` of model ${o.modelId}` : ''}, none with ${o.validatedOnly ? 'every structure' : 'a structure'} validated`);

  // 2. Labels.
  const names = [...new Set(selected.flatMap((s) => [...s.validated.values()]))].sort();
  const labels: Record<string, number> = { background: 0 };
  names.forEach((name, i) => (labels[name] = i + 1));
  const ignoreLabel = names.length + 1;
  labels.ignore = ignoreLabel;

  // 3. Cases.
  const scratch = `${path.resolve(o.outDir)}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(path.join(scratch, 'imagesTr'), { recursive: true });
  await mkdir(path.join(scratch, 'labelsTr'), { recursive: true });
  try {
    for (const [index, s] of selected.entries()) {
      o.onCase?.(s.c.id, index, selected.length);
      const ctFile = path.join(caseLayout(dataDir, s.c.id).caseDir, CASE_FILES.ct);
      const ct = await readNifti(ctFile);
      const source = labelMapFromVolume(await readNifti(revisionLabelsFile(dataDir, s.c.id, s.revision)), `the labels of case ${s.c.id}`);
      if (source.dims.some((d, a) => d !== ct.dims[a])) throw new HolocaseError('LABELS_INVALID', `case ${s.c.id}: its label map and CT have different grids`);
      const map = new Uint16Array(65536);
      for (const [label] of s.present) map[label] = ignoreLabel;
      for (const [label, name] of s.validated) map[label] = labels[name]!;
      const out = ignoreLabel <= 0xff ? new Uint8Array(source.data.length) : new Uint16Array(source.data.length);
      for (let p = 0; p < out.length; p++) out[p] = map[source.data[p]!]!;
      await copyFile(ctFile, path.join(scratch, 'imagesTr', `${s.c.id}_0000.nii.gz`));
      await writeNifti({ dims: ct.dims, affine: ct.affine, data: out, meta: { source: 'nifti' } }, path.join(scratch, 'labelsTr', `${s.c.id}.nii.gz`), 'holocase training labels');
    }
    // 4. Descriptions.
    const dataset = {
      name: o.name,
      description: 'CT label maps validated by clinicians in holocase; voxels of structures not validated carry the ignore label',
      channel_names: { '0': 'CT' },
      labels,
      numTraining: selected.length,
      file_ending: '.nii.gz',
    };
    await writeFile(path.join(scratch, 'dataset.json'), `${JSON.stringify(dataset, null, 2)}\n`);
    const datalist = {
      labels: Object.fromEntries(Object.entries(labels).map(([name, value]) => [String(value), name])),
      training: selected.map((s) => ({ image: `imagesTr/${s.c.id}_0000.nii.gz`, label: `labelsTr/${s.c.id}.nii.gz` })),
    };
    await writeFile(path.join(scratch, 'datalist.json'), `${JSON.stringify(datalist, null, 2)}\n`);
    await rm(o.outDir, { recursive: true, force: true });
    await rename(scratch, o.outDir);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  return { cases: selected.map((s) => s.c.id), labels, ignoreLabel, skipped };
}
