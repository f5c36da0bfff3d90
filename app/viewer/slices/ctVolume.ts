/**
 * The CT in the browser, as it arrives: the chunk manifest first, then the coarse level (every view
 * can be drawn from it), then the full-resolution slabs, nearest to the crosshair first and a few at a
 * time, so the slice the user looks at sharpens first and the rest fills in behind it. Each chunk is
 * gzip on the wire and inflated by the browser's own `DecompressionStream`, in a worker
 * (`volumeWorker.ts`). Slabs stay separate arrays
 * (no single 300 MB allocation); a voxel whose slab has not arrived reads from the coarse level.
 */
import type { StoredChunksManifest } from '../../../server/store/ctChunkStore.ts';
import type { Vec3 } from '../../../mesh/grid.ts';
import type { VolumeWorker } from './volumeWorker.ts';

export type CtManifest = StoredChunksManifest;

export interface CtVolume {
  manifest: CtManifest;
  dims: Vec3;
  /** Coarse level, once it arrived. */
  coarse: Int16Array | null;
  /** Full-resolution slabs along k (null until loaded). */
  slabs: (Int16Array | null)[];
  /** Slabs loaded so far. */
  slabsLoaded: number;
}

export interface LoadCtVolumeOptions {
  signal: AbortSignal;
  /** Fetches and inflates the chunks (`volumeWorker.ts`). */
  worker: VolumeWorker;
  /** Slice index along k the user looks at now: slabs nearest to it load first. */
  focusK: () => number;
  /** Called after each chunk lands (the views redraw). */
  onChunk: (volume: CtVolume, chunk: number) => void;
  /** Requests in flight at once. */
  concurrency?: number;
}

export const LOAD_CT_VOLUME_DEFAULTS = { concurrency: 4 } satisfies Partial<LoadCtVolumeOptions>;

/** Why the CT did not load, in words for the person looking at the screen. */
export class CtLoadError extends Error {}

/**
 * 1. Read the manifest.
 * 2. Load the coarse level (every view can be drawn from now on).
 * 3. Load the slabs, each time taking the one nearest to the crosshair among those not yet asked for.
 * Resolves once everything is in; `onChunk` reports each step.
 */
export async function loadCtVolume(baseUrl: string, options: LoadCtVolumeOptions): Promise<CtVolume> {
  const { signal, worker, focusK, onChunk, concurrency } = { ...LOAD_CT_VOLUME_DEFAULTS, ...options };
  // 1. Manifest.
  const response = await fetch(baseUrl, { signal, credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) {
    const message = await response.json().then((b: { error?: { message?: string } }) => b.error?.message, () => undefined);
    throw new CtLoadError(message ?? `the CT could not be opened (${response.status})`);
  }
  const manifest = (await response.json()) as CtManifest;
  const volume: CtVolume = { manifest, dims: manifest.dims, coarse: null, slabs: new Array(manifest.slabs.count).fill(null), slabsLoaded: 0 };
  const chunkUrl = (n: number) => `${baseUrl}/${n}?v=${manifest.build}`;
  await loadChunks(volume, { focusK, onChunk, concurrency }, (n, voxels) =>
    worker.ctChunk(chunkUrl(n), voxels, signal).catch((e: Error) => {
      throw signal.aborted ? e : new CtLoadError(e.message);
    }),
  );
  return volume;
}

/** Steps 2 and 3 of `loadCtVolume`: the coarse level, then the slabs nearest the crosshair first. */
async function loadChunks(
  volume: CtVolume,
  { focusK, onChunk, concurrency }: Required<Pick<LoadCtVolumeOptions, 'focusK' | 'onChunk' | 'concurrency'>>,
  fetchChunk: (chunk: number, voxels: number) => Promise<Int16Array>,
): Promise<void> {
  const { manifest } = volume;
  const [nx, ny, nz] = manifest.dims;
  const { depth, count } = manifest.slabs;
  // 2. Coarse level.
  const [cx, cy, cz] = manifest.coarse.dims;
  volume.coarse = await fetchChunk(0, cx * cy * cz);
  onChunk(volume, 0);

  // 3. Slabs, nearest first.
  const asked = new Uint8Array(count);
  const next = (): number => {
    const focus = Math.min(count - 1, Math.max(0, Math.floor(focusK() / depth)));
    for (let d = 0; d < count; d++) {
      for (const s of [focus - d, focus + d]) if (s >= 0 && s < count && !asked[s]) return s;
    }
    return -1;
  };
  const worker = async () => {
    for (let s = next(); s >= 0; s = next()) {
      asked[s] = 1;
      const slices = Math.min(nz, (s + 1) * depth) - s * depth;
      volume.slabs[s] = await fetchChunk(1 + s, nx * ny * slices);
      volume.slabsLoaded++;
      onChunk(volume, 1 + s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** The value at voxel (i, j, k): full resolution where its slab is in, else the coarse level. */
export function ctValueAt(volume: CtVolume, i: number, j: number, k: number): number {
  const [nx, ny] = volume.dims;
  const depth = volume.manifest.slabs.depth;
  const slab = volume.slabs[(k / depth) | 0];
  if (slab) return slab[i + j * nx + (k % depth) * nx * ny];
  const coarse = volume.coarse;
  if (!coarse) return volume.manifest.range[0];
  const [fx, fy, fz] = volume.manifest.coarse.factor;
  const [cx, cy] = volume.manifest.coarse.dims;
  return coarse[((i / fx) | 0) + ((j / fy) | 0) * cx + ((k / fz) | 0) * cx * cy];
}

/** Whether the full-resolution voxels of slice k have arrived. */
export function isSliceLoaded(volume: CtVolume, k: number): boolean {
  return volume.slabs[(k / volume.manifest.slabs.depth) | 0] !== null;
}
