/**
 * The CT in the browser, as it arrives: the chunk manifest first (asked for by the page as soon as it
 * knows the case), then the coarse level (every view can be drawn from it), then the full-resolution slabs, nearest to the crosshair first and a few at a
 * time, so the slice the user looks at sharpens first and the rest fills in behind it. Each chunk is
 * gzip on the wire and inflated by the browser's own `DecompressionStream`, in a worker
 * (`volumeWorker.ts`). Slabs stay separate arrays
 * (no single 300 MB allocation); a voxel whose slab has not arrived reads from the coarse level.
 */
import type { StoredChunksManifest } from '../../../server/store/ctChunkStore.ts';
import type { Vec3 } from '../../../mesh/grid.ts';
import { inflateInt16Chunk, type VolumeWorker } from './volumeWorker.ts';

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
  /** The slabs wait for this (a page may want its coarse views and its hologram up first). */
  detailAfter?: Promise<unknown>;
}

export const LOAD_CT_VOLUME_DEFAULTS = { concurrency: 4 } satisfies Partial<LoadCtVolumeOptions>;

/** Why the CT did not load, in words for the person looking at the screen. */
export class CtLoadError extends Error {}

/** The manifest and the coarse level: enough to draw every view. */
interface CtHead {
  manifest: CtManifest;
  coarse: Int16Array;
}

/** Reads the manifest at `baseUrl`, then the coarse level (chunk 0) through `inflate`. */
async function fetchCtHead(baseUrl: string, inflate: (url: string, voxels: number) => Promise<Int16Array>, signal?: AbortSignal): Promise<CtHead> {
  const response = await fetch(baseUrl, { signal, credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) {
    const message = await response.json().then((b: { error?: { message?: string } }) => b.error?.message, () => undefined);
    throw new CtLoadError(message ?? `the CT could not be opened (${response.status})`);
  }
  const manifest = (await response.json()) as CtManifest;
  const [cx, cy, cz] = manifest.coarse.dims;
  return { manifest, coarse: await inflate(`${baseUrl}/0?v=${manifest.build}`, cx * cy * cz) };
}

/** Heads asked for ahead of the viewer, by base URL (each taken once). */
const prefetched = new Map<string, Promise<CtHead>>();

/**
 * Starts downloading the manifest and coarse level of the CT at `baseUrl` now, while the page is still
 * loading the viewer's code; `loadCtVolume` takes it from there. A failed prefetch is simply asked again.
 */
export function prefetchCtVolume(baseUrl: string): void {
  if (prefetched.has(baseUrl)) return;
  const head = fetchCtHead(baseUrl, (url, voxels) => inflateInt16Chunk(url, voxels));
  head.catch(() => prefetched.delete(baseUrl));
  prefetched.set(baseUrl, head);
}

function takePrefetched(baseUrl: string): Promise<CtHead | undefined> {
  const head = prefetched.get(baseUrl);
  prefetched.delete(baseUrl);
  return head ? head.catch(() => undefined) : Promise.resolve(undefined);
}

/**
 * 1. Read the manifest and the coarse level (prefetched by the page, or now); every view can be drawn.
 * 2. Once `detailAfter` resolves, load the slabs, each time taking the one nearest to the crosshair
 *    among those not yet asked for.
 * Resolves once everything is in; `onChunk` reports each step.
 */
export async function loadCtVolume(baseUrl: string, options: LoadCtVolumeOptions): Promise<CtVolume> {
  const { signal, worker, focusK, onChunk, concurrency } = { ...LOAD_CT_VOLUME_DEFAULTS, ...options };
  const inflate = (url: string, voxels: number) =>
    worker.ctChunk(url, voxels, signal).catch((e: Error) => {
      throw signal.aborted || e instanceof CtLoadError ? e : new CtLoadError(e.message);
    });
  // 1. Manifest and coarse level.
  const { manifest, coarse } = (await takePrefetched(baseUrl)) ?? (await fetchCtHead(baseUrl, inflate, signal));
  const volume: CtVolume = { manifest, dims: manifest.dims, coarse, slabs: new Array(manifest.slabs.count).fill(null), slabsLoaded: 0 };
  onChunk(volume, 0);
  // 2. Slabs.
  await options.detailAfter;
  if (signal.aborted) throw new CtLoadError('the CT download was cancelled');
  await loadSlabs(volume, { focusK, onChunk, concurrency }, (n, voxels) => inflate(`${baseUrl}/${n}?v=${manifest.build}`, voxels));
  return volume;
}

/** Step 2 of `loadCtVolume`: the slabs, nearest the crosshair first. */
async function loadSlabs(
  volume: CtVolume,
  { focusK, onChunk, concurrency }: Required<Pick<LoadCtVolumeOptions, 'focusK' | 'onChunk' | 'concurrency'>>,
  fetchChunk: (chunk: number, voxels: number) => Promise<Int16Array>,
): Promise<void> {
  const { manifest } = volume;
  const [nx, ny, nz] = manifest.dims;
  const { depth, count } = manifest.slabs;
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
