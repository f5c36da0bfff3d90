/**
 * Sliding-window inference with Gaussian-weighted blending, as nnU-Net v2 does it
 * (`nnunetv2/inference/sliding_window_prediction.py`): patch positions from
 * `compute_steps_for_sliding_window`, each patch's output weighted by `compute_gaussian` (sigma = 1/8
 * of the patch size), summed, and divided by the summed weights. A scan smaller than the patch is
 * padded (centred, like `pad_nd_image`) with the manifest's pad value; padding is virtual (nothing
 * is copied) and cropped away again.
 *
 * Memory: outputs are accumulated in z-slabs, not over the whole volume. Patches run in order of their
 * k start, so once every patch starting at or before k₀ has run, every slice below the next start is
 * final: it is divided by its weights, handed to `sink`, and freed. At most about one patch depth
 * (plus one step) of slices × output channels is held at a time.
 *
 * Everything here is in voxel-axis order (i fastest): `[channel][k][j][i]`; the ONNX engine maps that
 * to the network's tensor axes.
 */
import type { Vec3 } from '../../mesh/grid.ts';

/**
 * nnU-Net's `compute_steps_for_sliding_window` along one axis (tile_step_size = 1 − overlap): as few
 * steps as keep neighbours at most `(1 − overlap)·tile` apart, spread evenly from 0 to `image − tile`.
 */
export function slidingWindowSteps(imageSize: number, tileSize: number, overlap: number): number[] {
  if (imageSize < tileSize) throw new Error(`image (${imageSize}) is smaller than the tile (${tileSize}); pad it first`);
  const targetStep = tileSize * (1 - overlap);
  const count = Math.ceil((imageSize - tileSize) / targetStep) + 1;
  const maxStart = imageSize - tileSize;
  const actualStep = count > 1 ? maxStart / (count - 1) : 99999999999;
  // NumPy rounds half to even; steps are non-negative, so emulate it.
  const roundHalfEven = (x: number) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  return Array.from({ length: count }, (_, s) => roundHalfEven(actualStep * s));
}

/**
 * nnU-Net's `compute_gaussian`: a unit impulse at the patch centre (index size // 2) filtered by
 * `scipy.ndimage.gaussian_filter` (sigma = size · sigmaScale per axis, truncate 4, constant mode),
 * scaled to a maximum of 1, zeros replaced by the smallest non-zero value. Separable, so built as the
 * product of three 1-D profiles. `patch` is in voxel-axis order; the result is `[k][j][i]`.
 */
export function gaussianImportanceMap(patch: Vec3, sigmaScale = 1 / 8): Float32Array {
  const profiles = patch.map((size) => {
    const sigma = size * sigmaScale;
    const radius = Math.floor(4 * sigma + 0.5);
    const center = Math.floor(size / 2);
    const profile = new Float64Array(size);
    for (let x = 0; x < size; x++) {
      const d = x - center;
      profile[x] = Math.abs(d) <= radius ? Math.exp((-0.5 * d * d) / (sigma * sigma)) : 0;
    }
    return profile;
  });
  const [px, py, pz] = patch;
  const map = new Float32Array(px * py * pz);
  let min = Infinity;
  let o = 0;
  for (let k = 0; k < pz; k++) {
    for (let j = 0; j < py; j++) {
      const jk = profiles[2][k] * profiles[1][j];
      for (let i = 0; i < px; i++, o++) {
        const v = jk * profiles[0][i];
        map[o] = v;
        if (v > 0 && v < min) min = v;
      }
    }
  }
  // The centre holds exp(0)³ = 1, already the maximum.
  for (let p = 0; p < map.length; p++) if (map[p] === 0) map[p] = min;
  return map;
}

/** Runs the network on `count` patches laid out `[patch][channel][k][j][i]`; returns outputs laid out the same way. */
export type PatchPredictor = (patches: Float32Array, count: number) => Promise<Float32Array>;

/** Receives each final, blended slice `[channel][j][i]` of the image, in increasing k; the array is handed over (never reused). */
export type SliceSink = (k: number, slice: Float32Array) => void;

export interface SlidingWindowOptions {
  /** Patch size along voxel axes i, j, k. */
  patch: Vec3;
  /** Fraction of a patch shared with a neighbour (0 = abutting patches). Default 0.5. */
  overlap?: number;
  /** Patches per predictor call. Default 1. */
  batchSize?: number;
  /** `gaussian` (nnU-Net) or `constant` (plain mean). Default `gaussian`. */
  blend?: 'gaussian' | 'constant';
  /** Gaussian sigma as a fraction of the patch size. Default 1/8. */
  sigmaScale?: number;
  /** Value of voxels outside the image (padding). Default 0. */
  padValue?: number;
  inputChannels?: number;
  outputChannels: number;
  /** Called after each batch: patches done and total. */
  onPatch?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export const SLIDING_WINDOW_DEFAULTS = {
  overlap: 0.5,
  batchSize: 1,
  blend: 'gaussian',
  sigmaScale: 1 / 8,
  padValue: 0,
  inputChannels: 1,
} satisfies Partial<SlidingWindowOptions>;

export interface SlidingWindowStats {
  patches: number;
  /** Patch starts per voxel axis, in padded coordinates. */
  steps: [number[], number[], number[]];
  /** Padding added before the image along each axis (after is the rest). */
  padBefore: Vec3;
  /** Time in the predictor. */
  inferenceMs: number;
  /** Time extracting patches, accumulating weighted outputs and dividing finished slices. */
  blendingMs: number;
  /** Time in the sink (what the caller does with finished slices). */
  sinkMs: number;
  /** Most slices held at once, and what they weigh. */
  peakSlices: number;
  peakBytes: number;
}

/**
 * Runs `predict` over the image in patches and streams the blended result to `sink`, slice by slice.
 * `input` is `[channel][k][j][i]` over `dims`.
 */
export async function slidingWindow(input: Float32Array, dims: Vec3, predict: PatchPredictor, sink: SliceSink, options: SlidingWindowOptions): Promise<SlidingWindowStats> {
  const o = { ...SLIDING_WINDOW_DEFAULTS, ...options };
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const volume = plane * nz;
  const [px, py, pz] = o.patch;
  const patchVoxels = px * py * pz;
  const cin = o.inputChannels;
  const cout = o.outputChannels;
  if (input.length !== volume * cin) throw new Error(`input holds ${input.length} values, expected ${cin}×${dims.join('×')}`);

  // 1. Pad (virtually) to at least the patch, centred; patch starts per axis; patches sorted by k start.
  const padded = dims.map((d, a) => Math.max(d, o.patch[a])) as Vec3;
  const padBefore = padded.map((p, a) => Math.floor((p - dims[a]) / 2)) as Vec3;
  const steps = padded.map((p, a) => slidingWindowSteps(p, o.patch[a], o.overlap)) as [number[], number[], number[]];
  const tiles: Vec3[] = [];
  for (const k of steps[2]) for (const j of steps[1]) for (const i of steps[0]) tiles.push([i, j, k]);
  const weights = o.blend === 'gaussian' ? gaussianImportanceMap(o.patch, o.sigmaScale) : new Float32Array(patchVoxels).fill(1);

  // 2. Accumulators, one per image slice currently touched by a patch.
  const slabs = new Map<number, { values: Float32Array; weight: Float32Array }>();
  let peakSlices = 0;
  const slab = (k: number) => {
    let s = slabs.get(k);
    if (!s) {
      s = { values: new Float32Array(cout * plane), weight: new Float32Array(plane) };
      slabs.set(k, s);
      peakSlices = Math.max(peakSlices, slabs.size);
    }
    return s;
  };
  let nextToEmit = 0;
  const stats: SlidingWindowStats = { patches: tiles.length, steps, padBefore, inferenceMs: 0, blendingMs: 0, sinkMs: 0, peakSlices: 0, peakBytes: 0 };
  /** Emits every image slice below `limit` (image coordinates). */
  const emitBelow = (limit: number) => {
    for (; nextToEmit < Math.min(limit, nz); nextToEmit++) {
      const s = slabs.get(nextToEmit);
      if (!s) throw new Error(`slice ${nextToEmit} was not covered by any patch`);
      for (let c = 0; c < cout; c++) {
        const values = s.values.subarray(c * plane, (c + 1) * plane);
        for (let p = 0; p < plane; p++) values[p] /= s.weight[p];
      }
      const t = performance.now();
      sink(nextToEmit, s.values);
      stats.sinkMs += performance.now() - t;
      slabs.delete(nextToEmit);
    }
  };

  // 3. Batches of patches: extract, predict, accumulate, emit what is final.
  const batchSize = Math.max(1, o.batchSize);
  const batch = new Float32Array(batchSize * cin * patchVoxels);
  for (let first = 0; first < tiles.length; first += batchSize) {
    o.signal?.throwIfAborted();
    const count = Math.min(batchSize, tiles.length - first);
    let t = performance.now();
    for (let b = 0; b < count; b++) extractPatch(input, dims, tiles[first + b], padBefore, o.patch, cin, o.padValue, batch, b * cin * patchVoxels);
    stats.blendingMs += performance.now() - t;
    t = performance.now();
    const view = count === batchSize ? batch : batch.subarray(0, count * cin * patchVoxels);
    const out = await predict(view, count);
    stats.inferenceMs += performance.now() - t;
    if (out.length !== count * cout * patchVoxels) {
      throw new Error(`the network returned ${out.length} values for ${count} patch(es); expected ${count}×${cout}×${o.patch.join('×')}`);
    }
    t = performance.now();
    const sinkBefore = stats.sinkMs;
    for (let b = 0; b < count; b++) accumulate(out, b * cout * patchVoxels, tiles[first + b], padBefore, o.patch, dims, cout, weights, slab);
    const next = first + count < tiles.length ? tiles[first + count][2] - padBefore[2] : nz;
    stats.peakBytes = Math.max(stats.peakBytes, slabs.size * (cout + 1) * plane * 4);
    emitBelow(next);
    stats.blendingMs += performance.now() - t - (stats.sinkMs - sinkBefore);
    o.onPatch?.(first + count, tiles.length);
  }
  stats.peakSlices = peakSlices;
  return stats;
}

/** Copies one patch (all channels) out of the image into `out` at `offset`, padding outside the image. */
function extractPatch(input: Float32Array, dims: Vec3, tile: Vec3, padBefore: Vec3, patch: Vec3, channels: number, padValue: number, out: Float32Array, offset: number): void {
  const [nx, ny, nz] = dims;
  const [px, py, pz] = patch;
  const x0 = tile[0] - padBefore[0];
  const iFrom = Math.max(0, -x0);
  const iTo = Math.min(px, nx - x0);
  let o = offset;
  for (let c = 0; c < channels; c++) {
    const channel = c * nx * ny * nz;
    for (let kk = 0; kk < pz; kk++) {
      const z = tile[2] - padBefore[2] + kk;
      for (let jj = 0; jj < py; jj++, o += px) {
        const y = tile[1] - padBefore[1] + jj;
        if (z < 0 || z >= nz || y < 0 || y >= ny || iTo <= iFrom) {
          out.fill(padValue, o, o + px);
          continue;
        }
        const row = channel + z * nx * ny + y * nx + x0;
        if (iFrom > 0) out.fill(padValue, o, o + iFrom);
        out.set(input.subarray(row + iFrom, row + iTo), o + iFrom);
        if (iTo < px) out.fill(padValue, o + iTo, o + px);
      }
    }
  }
}

/** Adds one patch's weighted outputs into the slice accumulators (image voxels only). */
function accumulate(
  out: Float32Array,
  offset: number,
  tile: Vec3,
  padBefore: Vec3,
  patch: Vec3,
  dims: Vec3,
  channels: number,
  weights: Float32Array,
  slab: (k: number) => { values: Float32Array; weight: Float32Array },
): void {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const [px, py, pz] = patch;
  const patchVoxels = px * py * pz;
  const x0 = tile[0] - padBefore[0];
  const iFrom = Math.max(0, -x0);
  const iTo = Math.min(px, nx - x0);
  for (let kk = 0; kk < pz; kk++) {
    const z = tile[2] - padBefore[2] + kk;
    if (z < 0 || z >= nz) continue;
    const s = slab(z);
    for (let jj = 0; jj < py; jj++) {
      const y = tile[1] - padBefore[1] + jj;
      if (y < 0 || y >= ny) continue;
      const w0 = kk * py * px + jj * px;
      const dst = y * nx + x0;
      for (let ii = iFrom; ii < iTo; ii++) s.weight[dst + ii] += weights[w0 + ii];
      for (let c = 0; c < channels; c++) {
        const src = offset + c * patchVoxels + w0;
        const dc = c * plane + dst;
        for (let ii = iFrom; ii < iTo; ii++) s.values[dc + ii] += out[src + ii] * weights[w0 + ii];
      }
    }
  }
}
