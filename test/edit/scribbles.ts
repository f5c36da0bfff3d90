/**
 * Seeds drawn from a reference label map the way a person scribbles them in a slice view before
 * "grow from seeds": on a few axial slices, three short strokes inside each target structure (along
 * its long axis, its short axis and a diagonal, kept off the edge), a dotted ring of background just
 * outside it, and one background stroke across each neighbouring structure. Deterministic: the same
 * reference gives the same seeds.
 */
import type { Vec3 } from '../../mesh/grid.ts';

export interface ScribbleOptions {
  /** Reference labels to scribble inside; each keeps its value in the seeds. */
  targets: readonly number[];
  /** Seed value of background strokes. */
  backgroundLabel: number;
  /** Number of axial slices drawn on, spread evenly over the volume. */
  slices: number;
  /** Voxels kept between an inside stroke and the structure's edge. */
  insideMargin: number;
  /** Chessboard distance (voxels) of the background ring from the structure. */
  ringDistance: number;
  /** A structure within this many voxels of a target on a slice is a neighbour and gets a stroke. */
  neighbourReach: number;
  /** Neighbours smaller than this on the slice (voxels) are left alone. */
  minNeighbourArea: number;
}

export const SCRIBBLE_DEFAULTS: ScribbleOptions = {
  targets: [],
  backgroundLabel: 100,
  slices: 5,
  insideMargin: 2,
  ringDistance: 2,
  neighbourReach: 4,
  minNeighbourArea: 12,
};

export interface Scribbles {
  seeds: Uint16Array;
  /** The axial slices drawn on. */
  slices: number[];
  /** Seeded voxels (all labels) and their fraction of the volume. */
  seeded: number;
  fraction: number;
}

/** In-slice chessboard dilation of a 2-D mask by `r` voxels. */
function dilate2d(mask: Uint8Array, nx: number, ny: number, r: number): Uint8Array {
  let current = mask;
  for (let step = 0; step < r; step++) {
    const next = current.slice();
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (current[i + j * nx]) continue;
        let hit = 0;
        for (let dj = -1; dj <= 1 && !hit; dj++) {
          for (let di = -1; di <= 1; di++) {
            const a = i + di;
            const b = j + dj;
            if (a >= 0 && a < nx && b >= 0 && b < ny && current[a + b * nx]) {
              hit = 1;
              break;
            }
          }
        }
        next[i + j * nx] = hit;
      }
    }
    current = next;
  }
  return current;
}

function erode2d(mask: Uint8Array, nx: number, ny: number, r: number): Uint8Array {
  const inverse = mask.map((v) => (v ? 0 : 1));
  return dilate2d(inverse, nx, ny, r).map((v) => (v ? 0 : 1));
}

/** Centroid and unit long/short axes of a 2-D mask (second moments). */
function axes(mask: Uint8Array, nx: number, ny: number): { ci: number; cj: number; long: [number, number]; short: [number, number]; area: number } {
  let area = 0;
  let si = 0;
  let sj = 0;
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (mask[i + j * nx]) (area++, (si += i), (sj += j));
  const ci = si / Math.max(1, area);
  const cj = sj / Math.max(1, area);
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (!mask[i + j * nx]) continue;
      xx += (i - ci) ** 2;
      yy += (j - cj) ** 2;
      xy += (i - ci) * (j - cj);
    }
  }
  const angle = 0.5 * Math.atan2(2 * xy, xx - yy);
  return { ci, cj, long: [Math.cos(angle), Math.sin(angle)], short: [-Math.sin(angle), Math.cos(angle)], area };
}

/**
 * A stroke along direction `d` through (ci, cj): the longest run of the line inside `mask`, shortened
 * by `keep` (a fraction of its length, centred), drawn with `value` where `paint` allows.
 */
function stroke(
  seeds: Uint16Array,
  offset: number,
  mask: Uint8Array,
  nx: number,
  ny: number,
  ci: number,
  cj: number,
  d: [number, number],
  value: number,
  keep: number,
): void {
  const reach = nx + ny;
  let best: [number, number] = [0, -1];
  let runStart = Number.NaN;
  for (let t = -reach; t <= reach + 1; t++) {
    const i = Math.round(ci + d[0] * t * 0.5);
    const j = Math.round(cj + d[1] * t * 0.5);
    const inside = t <= reach && i >= 0 && i < nx && j >= 0 && j < ny && mask[i + j * nx] === 1;
    if (inside && Number.isNaN(runStart)) runStart = t;
    if (!inside && !Number.isNaN(runStart)) {
      if (t - 1 - runStart > best[1] - best[0]) best = [runStart, t - 1];
      runStart = Number.NaN;
    }
  }
  if (best[1] < best[0]) return;
  const middle = (best[0] + best[1]) / 2;
  const half = ((best[1] - best[0]) / 2) * keep;
  for (let t = Math.ceil(middle - half); t <= Math.floor(middle + half); t++) {
    const i = Math.round(ci + d[0] * t * 0.5);
    const j = Math.round(cj + d[1] * t * 0.5);
    seeds[offset + i + j * nx] = value;
  }
}

/**
 * 1. Pick `slices` axial slices evenly spread over the volume.
 * 2. On each, for each target present: three inside strokes (long axis, short axis, diagonal) on the
 *    target eroded by `insideMargin`, each 70 % of its run.
 * 3. Background: a dotted ring `ringDistance` voxels outside each target (never on a target), and one
 *    stroke along the long axis of each neighbouring structure.
 */
export function scribbleSeeds(reference: ArrayLike<number>, dims: Vec3, options: Partial<ScribbleOptions> & Pick<ScribbleOptions, 'targets'>): Scribbles {
  const o = { ...SCRIBBLE_DEFAULTS, ...options };
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const seeds = new Uint16Array(plane * nz);
  const targets = new Set(o.targets);
  const slices = Array.from({ length: o.slices }, (_, s) => Math.min(nz - 1, Math.floor(((s + 0.5) * nz) / o.slices)));
  for (const k of slices) {
    const offset = k * plane;
    const anyTarget = new Uint8Array(plane);
    for (let p = 0; p < plane; p++) anyTarget[p] = targets.has(reference[offset + p]) ? 1 : 0;
    const nearTargets = dilate2d(anyTarget, nx, ny, 1);
    const neighbourZone = dilate2d(anyTarget, nx, ny, o.neighbourReach);
    // 2. Inside strokes.
    for (const label of o.targets) {
      const mask = new Uint8Array(plane);
      for (let p = 0; p < plane; p++) mask[p] = reference[offset + p] === label ? 1 : 0;
      const inner = erode2d(mask, nx, ny, o.insideMargin);
      const shape = axes(inner, nx, ny);
      if (shape.area < 4) continue;
      const diagonal: [number, number] = [(shape.long[0] + shape.short[0]) / Math.SQRT2, (shape.long[1] + shape.short[1]) / Math.SQRT2];
      for (const d of [shape.long, shape.short, diagonal]) stroke(seeds, offset, inner, nx, ny, shape.ci, shape.cj, d, label, 0.7);
      // 3a. Dotted ring just outside, never on a target.
      const ring = dilate2d(mask, nx, ny, o.ringDistance);
      const inside = dilate2d(mask, nx, ny, o.ringDistance - 1);
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const p = i + j * nx;
          if (ring[p] && !inside[p] && !nearTargets[p] && (i + j) % 2 === 0) seeds[offset + p] = o.backgroundLabel;
        }
      }
    }
    // 3b. One stroke across each neighbouring structure.
    const neighbours = new Set<number>();
    for (let p = 0; p < plane; p++) {
      const v = reference[offset + p];
      if (v && !targets.has(v) && neighbourZone[p]) neighbours.add(v);
    }
    for (const label of [...neighbours].sort((a, b) => a - b)) {
      const mask = new Uint8Array(plane);
      for (let p = 0; p < plane; p++) mask[p] = reference[offset + p] === label ? 1 : 0;
      const inner = erode2d(mask, nx, ny, 1);
      const shape = axes(inner, nx, ny);
      if (axes(mask, nx, ny).area < o.minNeighbourArea || shape.area < 2) continue;
      stroke(seeds, offset, inner, nx, ny, shape.ci, shape.cj, shape.long, o.backgroundLabel, 0.8);
    }
  }
  let seeded = 0;
  for (let p = 0; p < seeds.length; p++) if (seeds[p]) seeded++;
  return { seeds, slices, seeded, fraction: seeded / seeds.length };
}
