/**
 * The segmentation models an upload may name, as the API shows them, from the segment area's bundle
 * list (`models/<id>/model.json`).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HolocaseError } from '../errors.ts';

export interface ModelInfo {
  id: string;
  name: string;
  version: string;
  modality: string;
  description: string;
}

const SEGMENT_MODULE = '../segment/segment.ts';

type BundleLike = Record<string, unknown> & { manifest?: Record<string, unknown> };

function text(...values: unknown[]): string {
  for (const v of values) if (typeof v === 'string' && v.length > 0) return v;
  return '';
}

/** Manifests straight from `<modelsDir>/<id>/model.json`, for when the segment module cannot load. */
async function readManifests(): Promise<BundleLike[]> {
  const dir = process.env.HOLOCASE_MODELS ?? path.join(/* turbopackIgnore: true */ process.cwd(), 'models');
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const bundles: BundleLike[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const text = await readFile(path.join(dir, entry.name, 'model.json'), 'utf8').catch(() => undefined);
    if (text) bundles.push({ id: entry.name, manifest: JSON.parse(text) as Record<string, unknown> });
  }
  return bundles;
}

export async function listModels(): Promise<ModelInfo[]> {
  let bundles: BundleLike[];
  try {
    const segment = (await import(/* turbopackIgnore: true */ /* webpackIgnore: true */ SEGMENT_MODULE)) as { listModelBundles: () => Promise<BundleLike[]> };
    bundles = await segment.listModelBundles();
  } catch {
    bundles = await readManifests();
  }
  return bundles
    .map((b) => {
      const m = b.manifest ?? b;
      return {
        id: text(b.id, m.id),
        name: text(m.name, b.name, b.id),
        version: text(m.version, b.version),
        modality: text(m.modality, b.modality, 'CT'),
        description: text(m.description, b.description),
      };
    })
    .filter((m) => m.id)
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The model with this id; MODEL_NOT_FOUND naming the available ones otherwise. */
export async function findModel(id: string): Promise<ModelInfo> {
  const models = await listModels();
  const found = models.find((m) => m.id === id);
  if (!found) {
    throw new HolocaseError('MODEL_NOT_FOUND', `no model "${id}"; available: ${models.map((m) => m.id).join(', ') || 'none'}`);
  }
  return found;
}
