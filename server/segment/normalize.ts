/**
 * Intensity normalisation of the resampled CT, per input channel, as the manifest describes it. Every
 * scheme reduces to `y = clamp(x, low, high) · scale + offset`; what differs is where the numbers come
 * from (the manifest, or this scan's percentiles and statistics). Also the clean-up of NaN/Inf voxels,
 * which must happen before anything is interpolated.
 */
import type { VoxelArray } from '../../mesh/grid.ts';
import type { Normalization } from './manifest.ts';

export interface ResolvedNormalization {
  low: number;
  high: number;
  scale: number;
  offset: number;
  /** For the notes: what was applied, with the numbers. */
  description: string;
}

export interface PercentileOptions {
  /** Largest number of voxels sorted for a percentile; bigger scans are sampled evenly. Default 2²¹. */
  maxSamples?: number;
}

export const PERCENTILE_DEFAULTS = { maxSamples: 1 << 21 } satisfies Required<PercentileOptions>;

/** Percentiles (0–100) of the values, NumPy's default linear interpolation, on an even sample of big arrays. */
export function percentiles(values: ArrayLike<number>, ps: number[], options: PercentileOptions = {}): number[] {
  const { maxSamples } = { ...PERCENTILE_DEFAULTS, ...options };
  const step = Math.max(1, Math.ceil(values.length / maxSamples));
  const sample = new Float64Array(Math.ceil(values.length / step));
  let n = 0;
  for (let p = 0; p < values.length; p += step) sample[n++] = values[p];
  const sorted = sample.subarray(0, n).sort();
  return ps.map((q) => {
    const x = (q / 100) * (n - 1);
    const lo = Math.floor(x);
    const hi = Math.min(lo + 1, n - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
  });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Turns a manifest normalisation into numbers, looking at the scan where the manifest asks to. */
export function resolveNormalization(norm: Normalization, values: ArrayLike<number>): ResolvedNormalization {
  switch (norm.type) {
    case 'none':
      return { low: -Infinity, high: Infinity, scale: 1, offset: 0, description: 'none (Hounsfield units)' };
    case 'scale':
      return { low: -Infinity, high: Infinity, scale: norm.scale, offset: norm.offset, description: `x·${norm.scale} + ${norm.offset}` };
    case 'window': {
      const low = norm.center - norm.width / 2;
      const high = norm.center + norm.width / 2;
      const [r0, r1] = norm.range;
      const scale = (r1 - r0) / (high - low);
      return { low, high, scale, offset: r0 - low * scale, description: `window ${norm.center}/${norm.width} → [${r0}, ${r1}]` };
    }
    case 'clip-zscore': {
      let low = -Infinity;
      let high = Infinity;
      let clipText = 'no clipping';
      if (norm.clip) {
        [low, high] = norm.clip;
        clipText = `clip [${low}, ${high}]`;
      } else if (norm.clipPercentiles) {
        [low, high] = percentiles(values, norm.clipPercentiles);
        clipText = `clip to this scan's ${norm.clipPercentiles[0]}–${norm.clipPercentiles[1]} percentiles [${round(low)}, ${round(high)}]`;
      }
      let mean = norm.mean;
      let std = norm.std;
      let statsText = `mean ${mean}, std ${std}`;
      if (mean === undefined || std === undefined) {
        let sum = 0;
        let sum2 = 0;
        for (let p = 0; p < values.length; p++) {
          const v = Math.min(Math.max(values[p], low), high);
          sum += v;
          sum2 += v * v;
        }
        mean = sum / values.length;
        std = Math.sqrt(Math.max(sum2 / values.length - mean * mean, 0)) || 1;
        statsText = `this scan's mean ${round(mean)}, std ${round(std)}`;
      }
      return { low, high, scale: 1 / std, offset: -mean / std, description: `clip-zscore: ${clipText}, ${statsText}` };
    }
  }
}

/** Applies a resolved normalisation to `values`, writing into `out` (may be the same array). */
export function applyNormalization(values: ArrayLike<number>, n: ResolvedNormalization, out: Float32Array): Float32Array {
  const { low, high, scale, offset } = n;
  for (let p = 0; p < values.length; p++) {
    const v = values[p];
    out[p] = (v < low ? low : v > high ? high : v) * scale + offset;
  }
  return out;
}

export interface NonFiniteReport {
  /** The data with NaN/±Inf replaced (the same array when there were none). */
  data: VoxelArray;
  /** How many voxels were replaced. */
  replaced: number;
  /** Value NaN and −Inf became (the lowest finite voxel); +Inf became the highest. */
  low: number;
  high: number;
}

/**
 * Replaces NaN and −Inf by the lowest finite value (NaN usually marks outside the scanned field of
 * view, i.e. air) and +Inf by the highest. Integer data is returned as is; float data is copied only
 * when something must change.
 */
export function replaceNonFinite(data: VoxelArray): NonFiniteReport {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return { data, replaced: 0, low: 0, high: 0 };
  let low = Infinity;
  let high = -Infinity;
  let bad = 0;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    if (Number.isFinite(v)) {
      if (v < low) low = v;
      if (v > high) high = v;
    } else {
      bad++;
    }
  }
  if (bad === 0) return { data, replaced: 0, low, high };
  if (low === Infinity) {
    low = -1024;
    high = -1024;
  }
  const out = new (data.constructor as new (n: number) => Float32Array | Float64Array)(data.length);
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    out[p] = Number.isFinite(v) ? v : v === Infinity ? high : low;
  }
  return { data: out, replaced: bad, low, high };
}
