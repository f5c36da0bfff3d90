/**
 * Grow from seeds: competitive region growing on a CT from labelled strokes, in the manner of 3D
 * Slicer's segment editor effect. Every seed label grows at once, cheapest path first (Dijkstra on the
 * 6-connected voxel graph), and each voxel takes the label whose seeds reach it at the lowest
 * accumulated cost. The cost of a step of h mm from voxel p into voxel q is
 *
 *   h · (distanceWeight + (|I(q) − I(p)| / edgeScale)²)
 *
 * — Slicer's intensity difference along the path, squared so that noise inside a tissue costs little
 * and a real edge a lot, plus a little distance so growth stays compact.
 *
 * Two passes, coarse then fine:
 * 1. On the CT smoothed with a Gaussian of `smoothingMm`: robust against noise, which on a
 *    non-contrast scan is as strong as the borders between organs, so each label reaches the right
 *    tissue. A CT finer than `coarseSpacingMm` is first averaged in blocks of whole voxels (a 0.8 × 0.8 × 1 mm
 *    CT: 3×3×2), which is what keeps a 300³ region within seconds. On the 0.8 mm phantom that grid was
 *    both faster and closer than a 1.6 mm one (`npm run bench -- editing`: 6.8 s against 15.8 s, Dice
 *    0.93/0.99/0.98/0.88 against 0.92/0.99/0.97/0.86): pass 2 redraws every border anyway.
 * 2. Within `refineBand` pass-1 voxels of every border pass 1 drew, the labels are grown again from the voxels just
 *    outside the band, on the CT smoothed by edge-preserving diffusion instead: the Gaussian blurs thin
 *    fat planes (a kidney's sinus, the gap between two organs) shut, the diffusion keeps them, so the
 *    borders move onto the real edges.
 *
 * Memory: two smoothed copies of the region (Float32), costs (Float32), labels (Uint16), a done flag,
 * two band masks and the heap's two Int32 arrays: about 25 bytes per voxel, allocated once; nothing
 * per voxel.
 */
import type { Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import { geodesicSteps } from './rules/morphology.ts';
import { VoxelHeap } from './voxelHeap.ts';

export interface GrowFromSeedsOptions {
  /** Voxel spacing in mm (i, j, k). */
  spacing: Vec3;
  /** Pass 1: Gaussian smoothing of the CT, σ in mm. */
  smoothingMm?: number;
  /** Cost per mm travelled, whatever the intensities (keeps growth compact). */
  distanceWeight?: number;
  /** HU difference between neighbours whose step costs 1 per mm. */
  edgeScale?: number;
  /** Pass 1 runs on a grid of about this spacing when the CT is finer (blocks of whole voxels). */
  coarseSpacingMm?: number;
  /** Pass 2: width of the band around pass 1's borders that is grown again, in pass-1 voxels (0: no pass 2). */
  refineBand?: number;
  /** Pass 2: iterations of edge-preserving (Perona–Malik) diffusion of the CT. */
  diffusionIterations?: number;
  /** Pass 2: HU difference at which diffusion stops smoothing across an edge. */
  diffusionConductanceHu?: number;
  /** Voxels outside [lo, hi] HU are never grown into (they stay 0); seeds there still count. */
  huRange?: [number, number];
  /** Called now and then with the fraction of the work done. */
  onProgress?: (fraction: number) => void;
}

export const GROW_DEFAULTS = {
  smoothingMm: 2,
  coarseSpacingMm: 2.4,
  distanceWeight: 0.01,
  edgeScale: 5,
  refineBand: 2,
  diffusionIterations: 10,
  diffusionConductanceHu: 20,
} satisfies Required<Omit<GrowFromSeedsOptions, 'spacing' | 'huRange' | 'onProgress'>>;

export interface GrowResult {
  labels: Uint16Array;
  /** Voxels per label value (the seed labels that grew). */
  counts: Map<number, number>;
  /** Voxels no seed could reach (outside `huRange`, or cut off by it): label 0. */
  unreached: number;
  /** Where the time went, and how many voxels pass 2 grew again. */
  timings: { pass1Ms: number; diffusionMs: number; pass2Ms: number; totalMs: number; bandVoxels: number };
}

/** Separable Gaussian smoothing (σ in mm per axis), into a new Float32Array. */
export function gaussianSmooth(data: ArrayLike<number>, dims: Vec3, spacing: Vec3, sigmaMm: number): Float32Array {
  const [nx, ny, nz] = dims;
  let src = Float32Array.from(data as ArrayLike<number>);
  if (sigmaMm <= 0) return src;
  let dst = new Float32Array(src.length);
  const strides = [1, nx, nx * ny];
  for (let axis = 0; axis < 3; axis++) {
    const sigma = sigmaMm / spacing[axis];
    const n = dims[axis];
    if (sigma < 0.3 || n < 2) continue;
    const radius = Math.min(n - 1, Math.ceil(3 * sigma));
    const kernel = new Float32Array(2 * radius + 1);
    let sum = 0;
    for (let t = -radius; t <= radius; t++) sum += kernel[t + radius] = Math.exp(-(t * t) / (2 * sigma * sigma));
    for (let t = 0; t < kernel.length; t++) kernel[t] /= sum;
    const stride = strides[axis];
    const line = new Float32Array(n);
    const lines = (nx * ny * nz) / n;
    for (let l = 0; l < lines; l++) {
      // Start of the l-th line along `axis`.
      let start: number;
      if (axis === 0) start = l * nx;
      else if (axis === 1) start = (l % nx) + Math.floor(l / nx) * nx * ny;
      else start = l;
      for (let t = 0; t < n; t++) line[t] = src[start + t * stride];
      for (let t = 0; t < n; t++) {
        let acc = 0;
        let weight = 0;
        const lo = Math.max(-radius, -t);
        const hi = Math.min(radius, n - 1 - t);
        for (let u = lo; u <= hi; u++) {
          const w = kernel[u + radius];
          acc += w * line[t + u];
          weight += w;
        }
        dst[start + t * stride] = acc / weight;
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/**
 * Perona–Malik anisotropic diffusion (6 neighbours, exponential conductance): smooths noise inside
 * tissues while keeping the edges between them (flux d·exp(−d²/K²)). With `within` (voxel indices),
 * only those voxels are updated (the others keep their values): pass 2 needs the diffused CT only
 * near pass 1's borders. Returns a new array.
 */
export function anisotropicDiffusion(image: Float32Array, dims: Vec3, spacing: Vec3, iterations: number, conductanceHu: number, within?: Int32Array): Float32Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  let src: Float32Array = image;
  let dst: Float32Array = image.slice();
  const k2 = conductanceHu * conductanceHu;
  const minSpacing = Math.min(...spacing);
  const [wx, wy, wz] = spacing.map((s) => (minSpacing / s) ** 2);
  const dt = 1 / 7;
  // The flux d·exp(−d²/K²) from a table (every neighbour of every voxel of every iteration would
  // otherwise call Math.exp): steps of 1/16 HU up to 6 K, linear in between; beyond 6 K it is below
  // 10⁻¹⁴ of d.
  const perHu = 16;
  const reach = 6 * conductanceHu;
  const table = new Float64Array(Math.ceil(reach * perHu) + 2);
  for (let n = 0; n < table.length; n++) {
    const d = n / perHu;
    table[n] = d * Math.exp(-(d * d) / k2);
  }
  const g = (d: number) => {
    const a = d < 0 ? -d : d;
    if (a >= reach) return 0;
    const x = a * perHu;
    const n = x | 0;
    const v = table[n] + (x - n) * (table[n + 1] - table[n]);
    return d < 0 ? -v : v;
  };
  const count = within ? within.length : image.length;
  for (let it = 0; it < iterations; it++) {
    for (let t = 0; t < count; t++) {
      const p = within ? within[t]! : t;
      const i = p % nx;
      const j = ((p - i) / nx) % ny;
      const k = (p - i - j * nx) / plane;
      const v = src[p];
      let flow = 0;
      if (i > 0) flow += wx * g(src[p - 1] - v);
      if (i < nx - 1) flow += wx * g(src[p + 1] - v);
      if (j > 0) flow += wy * g(src[p - nx] - v);
      if (j < ny - 1) flow += wy * g(src[p + nx] - v);
      if (k > 0) flow += wz * g(src[p - plane] - v);
      if (k < nz - 1) flow += wz * g(src[p + plane] - v);
      dst[p] = v + dt * flow;
    }
    [src, dst] = [dst, src];
  }
  return src;
}


interface Competition {
  image: Float32Array;
  ct: ArrayLike<number>;
  dims: Vec3;
  spacing: Vec3;
  distanceWeight: number;
  edgeScale: number;
  huRange: [number, number];
  labels: Uint16Array;
  /** 1 = label final (seeds and, in pass 2, everything outside the band). */
  done: Uint8Array;
  cost: Float32Array;
  heap: VoxelHeap;
  onFixed?: () => void;
}

/** Dijkstra from the voxels already in the heap; labels travel with the cheapest path. */
function compete(c: Competition): void {
  const { image, ct, labels, done, cost, heap } = c;
  const [nx, ny, nz] = c.dims;
  const plane = nx * ny;
  const [lo, hi] = c.huRange;
  const inv = 1 / c.edgeScale;
  const dw = c.distanceWeight;
  // The six neighbours: index offset and step length (mm), in the order of the edge bits below.
  const offset = Int32Array.of(-1, 1, -nx, nx, -plane, plane);
  const step = Float64Array.of(c.spacing[0], c.spacing[0], c.spacing[1], c.spacing[1], c.spacing[2], c.spacing[2]);
  for (;;) {
    const p = heap.pop();
    if (p < 0) break;
    done[p] = 1;
    c.onFixed?.();
    const label = labels[p];
    const base = cost[p];
    const from = image[p];
    const i = p % nx;
    const j = ((p - i) / nx) % ny;
    const k = (p - i - j * nx) / plane;
    const inside = (i > 0 ? 1 : 0) | (i < nx - 1 ? 2 : 0) | (j > 0 ? 4 : 0) | (j < ny - 1 ? 8 : 0) | (k > 0 ? 16 : 0) | (k < nz - 1 ? 32 : 0);
    for (let e = 0; e < 6; e++) {
      if (!(inside & (1 << e))) continue;
      const q = p + offset[e];
      if (done[q]) continue;
      const raw = ct[q];
      if (raw < lo || raw > hi) continue;
      const d = (image[q] - from) * inv;
      const next = base + step[e] * (dw + d * d);
      if (next < cost[q]) {
        labels[q] = label;
        heap.push(q, next);
      }
    }
  }
}

/**
 * How many 6-neighbour steps each voxel is from a border between two labels (or a label and an
 * unreached voxel): 0 on either side of a border, up to `maxSteps`; 255 farther. A breadth-first walk
 * from the border voxels, so the cost follows the band, not the region.
 */
function borderDistance(labels: Uint16Array, dims: Vec3, maxSteps: number): Uint8Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const border = new Uint8Array(labels.length);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let p = j * nx + k * plane;
      for (let i = 0; i < nx; i++, p++) {
        const v = labels[p];
        if (i < nx - 1 && labels[p + 1] !== v) border[p] = border[p + 1] = 1;
        if (j < ny - 1 && labels[p + nx] !== v) border[p] = border[p + nx] = 1;
        if (k < nz - 1 && labels[p + plane] !== v) border[p] = border[p + plane] = 1;
      }
    }
  }
  return geodesicSteps(border, undefined, dims, maxSteps);
}

/** Per-axis block size that brings the spacing up to about `targetMm` (1 where it already is). */
function coarseFactors(spacing: Vec3, targetMm: number): Vec3 {
  return spacing.map((s) => Math.max(1, Math.floor(targetMm / s + 1e-6))) as Vec3;
}

/**
 * Pass 1 on a coarser grid (blocks of `f` voxels: mean CT, the block's most frequent seed label), its
 * labels written back to every voxel of each block. Unreached blocks stay 0.
 */
function coarsePass(ct: ArrayLike<number>, seeds: Uint16Array, dims: Vec3, f: Vec3, o: typeof GROW_DEFAULTS & GrowFromSeedsOptions): Uint16Array {
  const [nx, ny, nz] = dims;
  const cd = dims.map((d, a) => Math.ceil(d / f[a]!)) as Vec3;
  const [cx, cy] = cd;
  const cn = cd[0] * cd[1] * cd[2];
  const sum = new Float32Array(cn);
  const count = new Uint16Array(cn);
  const seedVotes = new Map<number, Map<number, number>>();
  const blockOfI = Int32Array.from({ length: nx }, (_, i) => Math.floor(i / f[0]));
  for (let k = 0; k < nz; k++) {
    const ck = Math.floor(k / f[2]);
    for (let j = 0; j < ny; j++) {
      const row = Math.floor(j / f[1]) * cx + ck * cx * cy;
      let p = j * nx + k * nx * ny;
      for (let i = 0; i < nx; i++, p++) {
        const c = row + blockOfI[i]!;
        sum[c] += ct[p]!;
        count[c]++;
        const seed = seeds[p];
        if (seed) {
          let votes = seedVotes.get(c);
          if (!votes) seedVotes.set(c, (votes = new Map()));
          votes.set(seed, (votes.get(seed) ?? 0) + 1);
        }
      }
    }
  }
  for (let c = 0; c < cn; c++) sum[c] /= count[c]!;
  const coarseSeeds = new Uint16Array(cn);
  for (const [c, votes] of seedVotes) {
    let best = 0;
    let most = 0;
    for (const [label, n] of votes) if (n > most) (best = label), (most = n);
    coarseSeeds[c] = best;
  }
  const coarseSpacing = o.spacing.map((s, a) => s * f[a]!) as Vec3;
  const labels = new Uint16Array(cn);
  const done = new Uint8Array(cn);
  const cost = new Float32Array(cn).fill(Infinity);
  const heap = new VoxelHeap(cost);
  for (let c = 0; c < cn; c++) if (coarseSeeds[c]) (labels[c] = coarseSeeds[c]), heap.push(c, 0);
  compete({ image: gaussianSmooth(sum, cd, coarseSpacing, o.smoothingMm), ct: sum, dims: cd, spacing: coarseSpacing, distanceWeight: o.distanceWeight, edgeScale: o.edgeScale, huRange: o.huRange ?? [-Infinity, Infinity], labels, done, cost, heap });
  const out = new Uint16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    const ck = Math.floor(k / f[2]);
    for (let j = 0; j < ny; j++) {
      const row = Math.floor(j / f[1]) * cx + ck * cx * cy;
      let p = j * nx + k * nx * ny;
      for (let i = 0; i < nx; i++, p++) {
        const c = row + blockOfI[i]!;
        out[p] = done[c] ? labels[c]! : 0;
      }
    }
  }
  return out;
}

/**
 * 1. Pass 1: every seed in the heap at cost 0; compete on the Gaussian-smoothed CT — on a grid of about
 *    `coarseSpacingMm` when the CT is finer (a 0.8 mm CT: blocks of 2×2×1), which is what keeps a
 *    300³ region within seconds.
 * 2. Pass 2 (full resolution): free the band around pass 1's borders (seeds stay), put the voxels
 *    bordering it in the heap at cost 0 with their labels, compete again on the diffusion-smoothed CT.
 * 3. Voxels outside the HU range are 0; count the labels.
 */
export function growFromSeeds(ct: ArrayLike<number>, seeds: Uint16Array, dims: Vec3, options: GrowFromSeedsOptions): GrowResult {
  const o = { ...GROW_DEFAULTS, ...options };
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (ct.length !== n || seeds.length !== n) {
    throw new HolocaseError('BAD_REQUEST', `grow from seeds: the CT has ${ct.length} voxels and the seeds ${seeds.length}; the region ${dims.join('×')} needs ${n}`);
  }
  let seedCount = 0;
  for (let p = 0; p < n; p++) if (seeds[p]) seedCount++;
  if (seedCount === 0) throw new HolocaseError('BAD_REQUEST', 'grow from seeds needs at least one painted seed');
  const huRange = o.huRange ?? ([-Infinity, Infinity] as [number, number]);
  const cost = new Float32Array(n).fill(Infinity);
  const heap = new VoxelHeap(cost);
  const done = new Uint8Array(n);
  let labels: Uint16Array;
  let fixed = 0;
  const every = Math.max(1, Math.floor(n / 50));
  const onFixed = o.onProgress && (() => ++fixed % every === 0 && o.onProgress!(Math.min(1, fixed / (2 * n))));

  // 1. Pass 1.
  const started = performance.now();
  const timings = { pass1Ms: 0, diffusionMs: 0, pass2Ms: 0, totalMs: 0, bandVoxels: 0 };
  const f = coarseFactors(o.spacing, o.coarseSpacingMm);
  if (f.every((x) => x === 1)) {
    labels = new Uint16Array(n);
    for (let p = 0; p < n; p++) if (seeds[p]) (labels[p] = seeds[p]!), heap.push(p, 0);
    compete({ image: gaussianSmooth(ct, dims, o.spacing, o.smoothingMm), ct, dims, spacing: o.spacing, distanceWeight: o.distanceWeight, edgeScale: o.edgeScale, huRange, labels, done, cost, heap, onFixed });
  } else {
    labels = coarsePass(ct, seeds, dims, f, o);
    for (let p = 0; p < n; p++) {
      if (seeds[p]) labels[p] = seeds[p]!;
      done[p] = labels[p] ? 1 : 0;
    }
  }

  timings.pass1Ms = performance.now() - started;

  // 2. Pass 2.
  if (o.refineBand > 0) {
    const steps = o.refineBand * Math.max(...f);
    const distance = borderDistance(labels, dims, steps + 1);
    // The diffused CT is needed in the band only (and just around it: outside, the CT stands as it is).
    let reachCount = 0;
    for (let p = 0; p < n; p++) if (distance[p]! <= steps + 1) reachCount++;
    const reach = new Int32Array(reachCount);
    for (let p = 0, r = 0; p < n; p++) if (distance[p]! <= steps + 1) reach[r++] = p;
    for (let p = 0; p < n; p++) {
      if (distance[p]! < steps && !seeds[p]) {
        done[p] = 0;
        cost[p] = Infinity;
        timings.bandVoxels++;
      }
    }
    // Fixed voxels next to a freed one start pass 2 (collected first, so the scan does not feed itself).
    const plane = nx * ny;
    const starts: number[] = [];
    for (let p = 0; p < n; p++) {
      if (!done[p] || !labels[p]) continue;
      const i = p % nx;
      const j = ((p - i) / nx) % ny;
      const k = (p - i - j * nx) / plane;
      if (
        (i > 0 && !done[p - 1]) || (i < nx - 1 && !done[p + 1]) || (j > 0 && !done[p - nx]) ||
        (j < ny - 1 && !done[p + nx]) || (k > 0 && !done[p - plane]) || (k < nz - 1 && !done[p + plane])
      ) starts.push(p);
    }
    for (const p of starts) {
      done[p] = 0;
      heap.push(p, 0);
    }
    for (let p = 0; p < n; p++) if (!done[p] && !heap.has(p)) labels[p] = 0;
    const diffusionStarted = performance.now();
    const image = anisotropicDiffusion(Float32Array.from(ct as ArrayLike<number>), dims, o.spacing, o.diffusionIterations, o.diffusionConductanceHu, reach);
    timings.diffusionMs = performance.now() - diffusionStarted;
    const pass2Started = performance.now();
    compete({ image, ct, dims, spacing: o.spacing, distanceWeight: o.distanceWeight, edgeScale: o.edgeScale, huRange, labels, done, cost, heap, onFixed });
    timings.pass2Ms = performance.now() - pass2Started;
  }

  // 3. HU range and counts.
  const [lo, hi] = huRange;
  const perLabel = new Float64Array(65536);
  let unreached = 0;
  for (let p = 0; p < n; p++) {
    const v = ct[p]!;
    if (!done[p] || (!seeds[p] && (v < lo || v > hi))) {
      labels[p] = 0;
      unreached++;
    } else perLabel[labels[p]!]++;
  }
  const counts = new Map<number, number>();
  for (let label = 1; label < perLabel.length; label++) if (perLabel[label]) counts.set(label, perLabel[label]!);
  timings.totalMs = performance.now() - started;
  for (const key of ['pass1Ms', 'diffusionMs', 'pass2Ms', 'totalMs'] as const) timings[key] = Math.round(timings[key]);
  return { labels, counts, unreached, timings };
}
