/**
 * Lungs and airway from the air inside the body. The airway (trachea and main bronchi) is pure air
 * reached from the top of the scan; the lungs are the large low-density regions whose median is lung
 * parenchyma rather than pure air (bowel gas), split into left and right when they separate cleanly.
 */
import { connectedComponents } from '../connectedComponents.ts';
import { squaredDistanceTransform } from '../distanceTransform.ts';
import type { Vec3 } from '../../../mesh/grid.ts';
import { erode } from './morphology.ts';

export interface AirwayOptions {
  /** Airway lumen: below this. Default −900 HU. */
  airHu?: number;
  /** Largest trachea cross-section accepted as a seed. Default 600 mm². */
  maxSeedAreaMm2?: number;
}

export const AIRWAY_DEFAULTS = { airHu: -900, maxSeedAreaMm2: 600 } satisfies Required<AirwayOptions>;

export interface LungOptions {
  /** Lung and air: below this. Default −400 HU. */
  airHu?: number;
  /** A lung's median HU is above this (bowel gas is pure air). Default −950. */
  minMedianHu?: number;
  /** Smallest lung piece kept. Default 20 mL. */
  minVolumeMl?: number;
}

export const LUNG_DEFAULTS = { airHu: -400, minMedianHu: -950, minVolumeMl: 20 } satisfies Required<LungOptions>;

/** 2-D components (8-connected) of `mask` in axial slice `k`; each a list of voxel indices. */
function sliceComponents(mask: Uint8Array, dims: Vec3, k: number): number[][] {
  const [nx, ny] = dims;
  const base = k * nx * ny;
  const seen = new Uint8Array(nx * ny);
  const out: number[][] = [];
  for (let q = 0; q < nx * ny; q++) {
    if (seen[q] || !mask[base + q]) continue;
    const comp: number[] = [];
    const stack = [q];
    seen[q] = 1;
    while (stack.length) {
      const c = stack.pop()!;
      comp.push(base + c);
      const i = c % nx;
      const j = (c - i) / nx;
      for (let dj = -1; dj <= 1; dj++) {
        for (let di = -1; di <= 1; di++) {
          const ii = i + di;
          const jj = j + dj;
          if (ii < 0 || jj < 0 || ii >= nx || jj >= ny) continue;
          const r = jj * nx + ii;
          if (!seen[r] && mask[base + r]) {
            seen[r] = 1;
            stack.push(r);
          }
        }
      }
    }
    out.push(comp);
  }
  return out;
}

/**
 * Trachea and main bronchi: seeded by small, central air regions in the top slices of the body that
 * belong to the lungs' air system, grown downwards slice by slice through pure air; growth stops
 * where a slice's airway area jumps (the threshold leaking into lung parenchyma).
 * `lungAir` is the set of large low-density components (lungs with their airways).
 */
export function airwayMask(hu: ArrayLike<number>, body: Uint8Array, lungAir: Uint8Array, dims: Vec3, spacing: Vec3, options: AirwayOptions = {}): Uint8Array {
  const o = { ...AIRWAY_DEFAULTS, ...options };
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const pixelMm2 = spacing[0] * spacing[1];
  const air = new Uint8Array(body.length);
  for (let p = 0; p < body.length; p++) air[p] = body[p] && lungAir[p] && hu[p] < o.airHu ? 1 : 0;
  const airway = new Uint8Array(body.length);
  // 1. Top body slice (largest k holding body).
  let top = -1;
  for (let k = nz - 1; k >= 0 && top < 0; k--) {
    for (let q = 0; q < plane; q++) {
      if (body[k * plane + q]) {
        top = k;
        break;
      }
    }
  }
  if (top < 0) return airway;
  // 2. Seeds: in the top 15 mm, 2-D air regions of trachea size in the central third of the body.
  const searchSlices = Math.max(1, Math.round(15 / spacing[2]));
  let seedSlice = -1;
  let seeds: number[][] = [];
  for (let k = top; k > top - searchSlices && k >= 0 && seedSlice < 0; k--) {
    let minI = nx;
    let maxI = -1;
    for (let q = 0; q < plane; q++) {
      if (!body[k * plane + q]) continue;
      const i = q % nx;
      if (i < minI) minI = i;
      if (i > maxI) maxI = i;
    }
    const third = (maxI - minI) / 3;
    const found = sliceComponents(air, dims, k).filter((c) => {
      const area = c.length * pixelMm2;
      if (area < 30 || area > o.maxSeedAreaMm2) return false;
      const ci = c.reduce((s, p) => s + (p % nx), 0) / c.length;
      return ci >= minI + third && ci <= maxI - third;
    });
    if (found.length > 0) {
      seedSlice = k;
      seeds = found;
    }
  }
  if (seedSlice < 0) return airway;
  // 3. Grow downwards: each slice keeps the air regions touching the airway in the slice above.
  let previous = seeds.flat();
  for (const p of previous) airway[p] = 1;
  let largest = previous.length;
  for (let k = seedSlice - 1; k >= 0 && previous.length > 0; k--) {
    const touched = new Uint8Array(plane);
    for (const p of previous) {
      const q = p - (k + 1) * plane;
      const i = q % nx;
      const j = (q - i) / nx;
      for (let dj = -1; dj <= 1; dj++) {
        for (let di = -1; di <= 1; di++) {
          const ii = i + di;
          const jj = j + dj;
          if (ii >= 0 && jj >= 0 && ii < nx && jj < ny) touched[jj * nx + ii] = 1;
        }
      }
    }
    const next = sliceComponents(air, dims, k).filter((c) => c.some((p) => touched[p - k * plane])).flat();
    // A jump in area means the airway has reached the lung: stop before it.
    if (next.length > Math.max(3 * largest, Math.ceil(o.maxSeedAreaMm2 / pixelMm2) * 2)) break;
    for (const p of next) airway[p] = 1;
    largest = Math.max(largest, next.length);
    previous = next;
  }
  return airway;
}

export interface LungMasks {
  left: Uint8Array;
  right: Uint8Array;
  /** Both lungs when they could not be separated (then `left`/`right` are empty). */
  both: Uint8Array;
  split: boolean;
  /** Low-density components (lungs with airway) before the airway was taken out. */
  air: Uint8Array;
}

/** Large low-density components inside the body whose median HU is lung, not pure air. */
export function lowDensityLungComponents(hu: ArrayLike<number>, body: Uint8Array, dims: Vec3, spacing: Vec3, options: LungOptions = {}): Uint8Array {
  const o = { ...LUNG_DEFAULTS, ...options };
  const n = body.length;
  const low = new Uint8Array(n);
  for (let p = 0; p < n; p++) low[p] = body[p] && hu[p] < o.airHu ? 1 : 0;
  const { ids, count, sizes } = connectedComponents(low, dims, { connectivity: 6 });
  const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
  // Median per component from a 1-HU histogram over [-1100, o.airHu].
  const bins = Math.max(1, Math.ceil(o.airHu + 1100) + 1);
  const keep = new Uint8Array(count + 1);
  const big: number[] = [];
  for (let id = 1; id <= count; id++) if (sizes[id] * voxelMl >= o.minVolumeMl) big.push(id);
  if (big.length > 0) {
    const index = new Map(big.map((id, i) => [id, i]));
    const hist = new Uint32Array(big.length * bins);
    for (let p = 0; p < n; p++) {
      const i = index.get(ids[p]);
      if (i === undefined) continue;
      const b = Math.min(bins - 1, Math.max(0, Math.round(hu[p] + 1100)));
      hist[i * bins + b]++;
    }
    big.forEach((id, i) => {
      let acc = 0;
      const half = sizes[id] / 2;
      for (let b = 0; b < bins; b++) {
        acc += hist[i * bins + b];
        if (acc >= half) {
          if (b - 1100 > o.minMedianHu) keep[id] = 1;
          break;
        }
      }
    });
  }
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) out[p] = ids[p] && keep[ids[p]] ? 1 : 0;
  return out;
}

/** Pieces smaller than this fraction of all the lung air are given to a side whole. */
const SMALL_PIECE_FRACTION = 0.05;

/**
 * Splits the lung mask into left and right: components wholly on one side of the body's midline go
 * to that side, small ones to the side holding most of them; a large component spanning both sides
 * is eroded (2 mm steps up to 12 mm) until it falls into two large parts, and every voxel joins the
 * nearer part. Patient left is +i on an LPS grid.
 */
export function splitLungs(lungs: Uint8Array, body: Uint8Array, dims: Vec3, spacing: Vec3): { left: Uint8Array; right: Uint8Array; split: boolean } {
  const [nx] = dims;
  const n = lungs.length;
  let sumI = 0;
  let countBody = 0;
  for (let p = 0; p < n; p++) {
    if (body[p]) {
      sumI += p % nx;
      countBody++;
    }
  }
  const midline = countBody ? sumI / countBody : nx / 2;
  const left = new Uint8Array(n);
  const right = new Uint8Array(n);
  const { ids, count, sizes } = connectedComponents(lungs, dims, { connectivity: 6 });
  let split = true;
  const onLeft = new Float64Array(count + 1);
  for (let p = 0; p < n; p++) if (ids[p] && p % nx > midline) onLeft[ids[p]]++;
  const side = new Int8Array(count + 1); // 1 left, -1 right, 0 straddles
  let total = 0;
  for (let id = 1; id <= count; id++) total += sizes[id];
  for (let id = 1; id <= count; id++) {
    const fraction = onLeft[id] / sizes[id];
    // A small piece across the midline (a bronchus tip, partial-volume air) goes where most of it is.
    const small = sizes[id] < SMALL_PIECE_FRACTION * total;
    side[id] = fraction > (small ? 0.5 : 0.85) ? 1 : fraction < (small ? 0.5 : 0.15) ? -1 : 0;
  }
  for (let p = 0; p < n; p++) {
    if (side[ids[p]] === 1) left[p] = 1;
    else if (side[ids[p]] === -1) right[p] = 1;
  }
  for (let id = 1; id <= count; id++) {
    if (side[id] !== 0) continue;
    // Straddles the midline: try to separate it by erosion.
    const piece = new Uint8Array(n);
    for (let p = 0; p < n; p++) piece[p] = ids[p] === id ? 1 : 0;
    const parts = separate(piece, dims, spacing, sizes[id]);
    if (!parts) {
      split = false;
      break;
    }
    const [a, b] = parts;
    const da = squaredDistanceTransform(a, dims, { spacing });
    const db = squaredDistanceTransform(b, dims, { spacing });
    let aLeft = 0;
    let aCount = 0;
    for (let p = 0; p < n; p++) {
      if (a[p]) {
        aCount++;
        if (p % nx > midline) aLeft++;
      }
    }
    const aIsLeft = aLeft / Math.max(1, aCount) > 0.5;
    for (let p = 0; p < n; p++) {
      if (!piece[p]) continue;
      const toA = da[p] <= db[p];
      (toA === aIsLeft ? left : right)[p] = 1;
    }
  }
  return { left, right, split };
}

function separate(piece: Uint8Array, dims: Vec3, spacing: Vec3, size: number): [Uint8Array, Uint8Array] | undefined {
  for (let r = 2; r <= 12; r += 2) {
    const eroded = erode(piece, dims, spacing, r);
    const { ids, count, sizes } = connectedComponents(eroded, dims, { connectivity: 6 });
    const order = Array.from({ length: count }, (_, i) => i + 1).sort((x, y) => sizes[y] - sizes[x]);
    if (order.length >= 2 && sizes[order[1]] >= 0.1 * size) {
      const a = new Uint8Array(piece.length);
      const b = new Uint8Array(piece.length);
      for (let p = 0; p < piece.length; p++) {
        if (ids[p] === order[0]) a[p] = 1;
        else if (ids[p] === order[1]) b[p] = 1;
      }
      return [a, b];
    }
    if (order.length === 0) return undefined;
  }
  return undefined;
}

/** Lungs (left/right when separable) and the low-density system they belong to. */
export function lungMasks(body: Uint8Array, airway: Uint8Array, air: Uint8Array, dims: Vec3, spacing: Vec3): LungMasks {
  const n = body.length;
  const lungs = new Uint8Array(n);
  for (let p = 0; p < n; p++) lungs[p] = air[p] && !airway[p] ? 1 : 0;
  const { left, right, split } = splitLungs(lungs, body, dims, spacing);
  if (split) return { left, right, both: new Uint8Array(n), split, air };
  return { left: new Uint8Array(n), right: new Uint8Array(n), both: lungs, split, air };
}
