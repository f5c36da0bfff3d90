/**
 * Is this CT contrast-enhanced, and where are the contrast-filled vessels?
 *
 * Unenhanced blood is about 40 HU, like every other soft tissue, so vessels cannot be found by
 * intensity without contrast. With intravenous contrast the blood pool (heart chambers, aorta, vena
 * cava, portal vein) rises to 150–500 HU. The test looks for that blood pool: voxels in the enhanced
 * range that lie well inside a bright region (a vessel lumen, not the rim of a bone) and whose
 * neighbourhood is homogeneous (blood, unlike marrow, has no trabecular texture). Enough of it means
 * contrast; the vessels are then grown from it through voxels above the half-way level between the
 * blood pool and soft tissue, stopping at denser (bony) voxels.
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import { connectedComponents } from '../connectedComponents.ts';
import { featureTransform } from '../distanceTransform.ts';
import { boxHalfSize, homogeneousMask } from './homogeneity.ts';
import { dilate, erode, geodesicDilate } from './morphology.ts';

export interface ContrastOptions {
  /** Enhanced blood is at least this dense. Default 130 HU (portal-venous aorta is 130–200). */
  bloodMinHu?: number;
  /** ... and at most this (denser is cortical bone or calcium). Default 600 HU. */
  bloodMaxHu?: number;
  /** Blood-pool voxels lie at least this deep inside the bright region. Default 3 mm. */
  coreMm?: number;
  /** Largest local standard deviation of a blood pool. Default 45 HU. */
  maxLocalStdHu?: number;
  /** The scan is enhanced when the blood pool holds at least this. Default 1.5 mL (a few cm of aorta core). */
  minPoolMl?: number;
  /**
   * Largest median HU of the tissue 1–7 mm around a blood-pool piece: a vessel lumen is surrounded by
   * fat and soft tissue, a marrow cavity (femoral head, vertebral body) by bone. Default 100 HU; where
   * the scan holds an enhanced organ (a portal-phase liver or spleen, 100–150 HU, that veins run
   * through), up to that organ's level + 20 HU.
   */
  maxRingMedianHu?: number;
  /**
   * ... or at least this much below the piece's mean HU: an arterial-phase aorta is far brighter than
   * whatever surrounds it; marrow is not far brighter than the bone around it. Default 150 HU.
   */
  minRingContrastHu?: number;
  /**
   * Largest fraction of that shell denser than the piece by 200 HU or more: a vessel is not wrapped in
   * cortex, a marrow cavity is. A calcified aorta's patchy plaque fills about a tenth of it (the marrow
   * of a vertebral body or the sternum, from about a sixth up). Default 0.15.
   */
  maxDenseRingFraction?: number;
  /**
   * Thickest calcified plaque (mm): dense voxels this close to the lumen, through dense-enough tissue,
   * that no bone reaches first are calcium in the vessel wall. Default 5 (plaque and its blooming).
   */
  plaqueMm?: number;
  /** Vessel wall around the lumen and its plaque (mm): segmented vessels are whole vessels, wall included. Default 1.5. */
  wallMm?: number;
  /** The wall is denser than this (HU; half-way between fat and soft tissue), so fat beside a vessel stays out. Default −30. */
  wallMinHu?: number;
}

export const CONTRAST_DEFAULTS = {
  bloodMinHu: 130,
  bloodMaxHu: 600,
  coreMm: 3,
  maxLocalStdHu: 45,
  minPoolMl: 1.5,
  maxRingMedianHu: 100,
  minRingContrastHu: 150,
  maxDenseRingFraction: 0.15,
  plaqueMm: 5,
  wallMm: 1.5,
  wallMinHu: -30,
} satisfies Required<ContrastOptions>;

/** Soft tissue without contrast, for the half-way vessel boundary. */
const SOFT_TISSUE_HU = 40;
/** Histogram of the body's HU from −50 to 250 in 5 HU bins. */
function softTissueHistogram(hu: ArrayLike<number>, body: Uint8Array): Float64Array {
  const bins = new Float64Array(60);
  for (let p = 0; p < body.length; p++) {
    if (!body[p]) continue;
    const b = Math.floor((hu[p] + 50) / 5);
    if (b >= 0 && b < 60) bins[b]++;
  }
  return bins;
}

const binHu = (b: number) => b * 5 - 50 + 2.5;
const smoothed = (bins: Float64Array, b: number) => bins[Math.max(0, b - 1)] + bins[b] + bins[Math.min(bins.length - 1, b + 1)];

/**
 * The most common HU of the body's soft tissue (between −50 and 250 HU): about 40 HU without contrast;
 * higher when the organs enhance (the liver and spleen dominate the histogram).
 */
function histogramMode(bins: Float64Array): number {
  let best = 0;
  for (let b = 1; b < bins.length - 1; b++) if (smoothed(bins, b) > smoothed(bins, best)) best = b;
  return binHu(best);
}

/**
 * The level of enhanced organs that are not the most common tissue (a portal-phase liver and spleen,
 * 100–130 HU, in a scan where muscle dominates): a peak of the histogram between the most common
 * tissue + 20 HU and `maxHu`, holding at least 1 % of the soft tissue; undefined when there is none.
 * Vessels run through such organs: the organ is their surroundings, and they are told from it
 * half-way between.
 */
function enhancedOrganPeak(bins: Float64Array, modeHu: number, maxHu: number): number | undefined {
  let total = 0;
  for (const c of bins) total += c;
  let best: number | undefined;
  for (let b = 1; b < bins.length - 1; b++) {
    const v = binHu(b);
    if (v < modeHu + 20 || v > maxHu) continue;
    const here = smoothed(bins, b);
    if (here > smoothed(bins, b - 1) && here >= smoothed(bins, b + 1) && bins[b] >= 0.01 * total && (best === undefined || here > smoothed(bins, best))) best = b;
  }
  return best === undefined ? undefined : binHu(best);
}

/** Neighbourhood (±mm, at least one voxel) in which a vessel lumen must be homogeneous. */
const HOMOGENEITY_RADIUS_MM = 1.5;

export interface ContrastFinding {
  enhanced: boolean;
  /** Volume of the homogeneous enhanced blood pool found (mL). */
  poolMl: number;
  /** Mean and standard deviation of the pool's HU (0 when there is none). */
  poolMeanHu: number;
  poolStdHu: number;
  /** The pool voxels (pieces of at least 0.5 mL that count towards `poolMl`). */
  pool: Uint8Array;
  /** Seeds for the vessels: every blood-like piece surrounded by soft tissue, however small. */
  seeds: Uint8Array;
  /**
   * HU range of the lumen: from half-way between the pool and soft tissue (at least the soft-tissue
   * mode + 25 HU, half-way between the pool and an enhanced organ that is not the mode, and
   * bloodMinHu − 20) to the pool's mean + 4 SD + 100 HU (at most bloodMaxHu). Denser voxels touching
   * the lumen are calcium, not blood.
   */
  lumenRangeHu: [number, number];
  /** One sentence for the notes. */
  summary: string;
}

/**
 * The shell from `coreMm + 1` to `coreMm + 7` mm around each component (indexed by id): its median HU
 * (−∞ without a shell) and the fraction of it at least 200 HU denser than the component. One feature
 * transform gives every voxel its nearest component, so a shell voxel counts for the closest piece.
 */
function ringStatistics(hu: ArrayLike<number>, ids: Uint32Array, count: number, dims: Vec3, spacing: Vec3, coreMm: number): { mean: Float64Array; median: Float64Array; denseFraction: Float64Array } {
  const inner2 = (coreMm + 1) ** 2;
  const outer2 = (coreMm + Number(process.env.RING ?? 7)) ** 2;
  const mean = new Float64Array(count + 1);
  const size = new Float64Array(count + 1);
  const [nx, ny] = dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  for (let p = 0; p < ids.length; p++) {
    if (!ids[p]) continue;
    mean[ids[p]] += hu[p];
    size[ids[p]]++;
    const c = [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      if (c[a] < lo[a]) lo[a] = c[a];
      if (c[a] > hi[a]) hi[a] = c[a];
    }
  }
  for (let id = 1; id <= count; id++) mean[id] /= size[id] || 1;
  const median = new Float64Array(count + 1).fill(-Infinity);
  const denseFraction = new Float64Array(count + 1);
  if (count === 0) return { mean, median, denseFraction };
  // The shells lie within coreMm + 7 mm of the pieces: work in their bounding box plus that margin.
  const from = lo.map((v, a) => Math.max(0, v - Math.ceil((coreMm + 7) / spacing[a]) - 1));
  const to = hi.map((v, a) => Math.min(dims[a] - 1, v + Math.ceil((coreMm + 7) / spacing[a]) + 1));
  const box = from.map((f, a) => to[a] - f + 1) as Vec3;
  const index = new Int32Array(box[0] * box[1] * box[2]);
  const boxIds = new Uint32Array(index.length);
  for (let k = 0, q = 0; k < box[2]; k++) {
    for (let j = 0; j < box[1]; j++) {
      const row = (k + from[2]) * nx * ny + (j + from[1]) * nx + from[0];
      for (let i = 0; i < box[0]; i++, q++) {
        index[q] = row + i;
        boxIds[q] = ids[row + i];
      }
    }
  }
  const { squaredDistance, nearest } = featureTransform(boxIds, box, { spacing });
  const rings: number[][] = Array.from({ length: count + 1 }, () => []);
  for (let q = 0; q < index.length; q++) {
    const d2 = squaredDistance[q];
    if (d2 > inner2 && d2 <= outer2) rings[boxIds[nearest[q]]].push(hu[index[q]]);
  }
  for (let id = 1; id <= count; id++) {
    const ring = rings[id];
    if (ring.length === 0) continue;
    ring.sort((x, y) => x - y);
    median[id] = ring[ring.length >> 1];
    let dense = 0;
    for (const v of ring) if (v >= mean[id] + 200) dense++;
    denseFraction[id] = dense / ring.length;
  }
  return { mean, median, denseFraction };
}

/**
 * Looks for a contrast-filled blood pool inside the body.
 * 1. bright = body ∧ HU in [bloodMinHu, bloodMaxHu];
 * 2. core = bright eroded by `coreMm` (lumen interiors; thin bony rims and partial volumes go);
 * 3. pool = core voxels whose neighbourhood (±coreMm, at least ±1 voxel) varies less than `maxLocalStdHu`;
 * 4. pieces whose surroundings are soft tissue (median ≤ `maxRingMedianHu` or an enhanced organ's
 *    level + 20 HU, or `minRingContrastHu` below the piece), not
 *    cortex (at most `maxDenseRingFraction` of it 200 HU denser than the piece);
 * 5. enhanced when they add up to `minPoolMl`.
 */
export function detectContrast(hu: ArrayLike<number>, body: Uint8Array, dims: Vec3, spacing: Vec3, options: ContrastOptions = {}): ContrastFinding {
  const o = { ...CONTRAST_DEFAULTS, ...options };
  const n = body.length;
  const bright = new Uint8Array(n);
  for (let p = 0; p < n; p++) bright[p] = body[p] && hu[p] >= o.bloodMinHu && hu[p] <= o.bloodMaxHu ? 1 : 0;
  const core = o.coreMm > 0 ? erode(bright, dims, spacing, o.coreMm) : bright;
  const candidate = homogeneousMask(hu, dims, { half: boxHalfSize(spacing, o.coreMm), maxStd: o.maxLocalStdHu, within: core });
  const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
  const { ids, count, sizes } = connectedComponents(candidate, dims, { connectivity: 26 });
  const minPiece = Math.max(1, Math.ceil(0.5 / voxelMl));
  // Each piece judged by what surrounds it (soft tissue: blood; bone: marrow). Only pieces of at least
  // 0.5 mL count for the decision; all blood-like pieces seed the vessels.
  const ring = ringStatistics(hu, ids, count, dims, spacing, o.coreMm);
  // Soft surroundings: up to maxRingMedianHu, or up to an enhanced organ (below enhanced blood) + 20 HU.
  const histogram = softTissueHistogram(hu, body);
  const mode = histogramMode(histogram);
  const organ = enhancedOrganPeak(histogram, mode, o.bloodMinHu + 20);
  const surroundingsHu = Math.max(o.maxRingMedianHu, organ === undefined ? -Infinity : organ + 20);
  const accepted = new Uint8Array(count + 1);
  for (let id = 1; id <= count; id++) {
    const softSurroundings = ring.median[id] <= surroundingsHu || ring.median[id] <= ring.mean[id] - o.minRingContrastHu;
    accepted[id] = sizes[id] >= 2 && softSurroundings && ring.denseFraction[id] <= o.maxDenseRingFraction ? 1 : 0;
  }
  if (process.env.HU_DEBUG) {
    const sum = new Float64Array(count + 1); const cen = Array.from({ length: count + 1 }, () => [0, 0, 0]);
    for (let p = 0; p < n; p++) if (ids[p]) { sum[ids[p]] += hu[p]; const c = cen[ids[p]]; c[0] += p % dims[0]; c[1] += Math.floor(p / dims[0]) % dims[1]; c[2] += Math.floor(p / dims[0] / dims[1]); }
    for (let id = 1; id <= count; id++) if (sizes[id] * voxelMl >= 0.2) console.error('piece', id, (sizes[id] * voxelMl).toFixed(2), 'mL mean', (sum[id] / sizes[id]).toFixed(0), 'ringMed', ring.median[id], 'dense', ring.denseFraction[id].toFixed(3), 'acc', accepted[id], 'at', cen[id].map((v) => Math.round(v / sizes[id])).join(','));
  }
  const pool = new Uint8Array(n);
  const seeds = new Uint8Array(n);
  let voxels = 0;
  let sum = 0;
  let sum2 = 0;
  for (let p = 0; p < n; p++) {
    if (!accepted[ids[p]]) continue;
    seeds[p] = 1;
    if (sizes[ids[p]] < minPiece) continue;
    pool[p] = 1;
    voxels++;
    sum += hu[p];
    sum2 += hu[p] * hu[p];
  }

  const poolMl = voxels * voxelMl;
  const mean = voxels ? sum / voxels : 0;
  const std = voxels ? Math.sqrt(Math.max(0, sum2 / voxels - mean * mean)) : 0;
  const enhanced = poolMl >= o.minPoolMl;
  const lumenRangeHu: [number, number] = [
    Math.max((mean + SOFT_TISSUE_HU) / 2, mode + 25, o.bloodMinHu - 20, organ === undefined ? -Infinity : (organ + mean) / 2),
    Math.min(o.bloodMaxHu, mean + 4 * std + 100),
  ];
  const summary = enhanced
    ? `contrast-enhanced: a homogeneous blood pool of ${poolMl.toFixed(1)} mL at ${mean.toFixed(0)} ± ${std.toFixed(0)} HU (unenhanced blood is about 40 HU)`
    : `not contrast-enhanced: no homogeneous blood pool above ${o.bloodMinHu} HU (${poolMl.toFixed(1)} mL found, ${o.minPoolMl} mL needed); vessels cannot be told from soft tissue, so none are segmented`;
  return { enhanced, poolMl, poolMeanHu: mean, poolStdHu: std, pool, seeds, lumenRangeHu, summary };
}

/**
 * The lumen of the contrast-filled vessels, grown from the blood pool:
 * 1. lumen = voxels whose ±1.5 mm neighbourhood is homogeneous and averages in the finding's lumen
 *    range, 26-connected to the pool. Marrow touching a vessel is not homogeneous across the contact,
 *    so growth stays out of bone;
 * 2. plus the lumen's outer layers, grown back through in-range voxels as far as the homogeneity box
 *    reaches, plus one voxel (the partial-volume edge).
 */
export function contrastLumen(hu: ArrayLike<number>, body: Uint8Array, finding: ContrastFinding, dims: Vec3, spacing: Vec3, options: ContrastOptions = {}): Uint8Array {
  const o = { ...CONTRAST_DEFAULTS, ...options };
  const n = body.length;
  const [low, high] = finding.lumenRangeHu;
  const inRange = new Uint8Array(n);
  for (let p = 0; p < n; p++) inRange[p] = body[p] && hu[p] >= low && hu[p] <= high ? 1 : 0;
  // The lumen is judged by its neighbourhood's mean, not voxel by voxel: noisy voxels of an enhanced
  // organ just below the level would otherwise percolate through it.
  const allowed = homogeneousMask(hu, dims, { half: boxHalfSize(spacing, HOMOGENEITY_RADIUS_MM), maxStd: o.maxLocalStdHu, within: body, meanRange: [low, high] });
  for (let p = 0; p < n; p++) if (finding.seeds[p]) allowed[p] = 1;
  const { ids, count } = connectedComponents(allowed, dims, { connectivity: 26 });
  const seeded = new Uint8Array(count + 1);
  for (let p = 0; p < n; p++) if (finding.seeds[p] && ids[p]) seeded[ids[p]] = 1;
  const lumen = new Uint8Array(n);
  for (let p = 0; p < n; p++) lumen[p] = ids[p] && seeded[ids[p]] ? 1 : 0;
  // The homogeneity box misses the lumen's outer layers: grow back through in-range voxels, one voxel
  // per step, as many steps as the box reaches (plus the partial-volume edge).
  const half = boxHalfSize(spacing, HOMOGENEITY_RADIUS_MM);
  return geodesicDilate(lumen, inRange, dims, Math.max(...half) + 1);
}

/**
 * Whole vessels from their lumen: the lumen, the calcified plaque in their wall (voxels the lumen
 * claimed before any bone, see `boneMask`, denser than blood), and the wall itself (voxels whose centre
 * lies within `wallMm` of the lumen's or plaque's surface, denser than fat), never bone. References
 * such as TotalSegmentator's draw the vessel to its outer wall, and a surgeon sees a calcified aorta as
 * aorta, not as bone fused to the spine.
 */
export function vesselsWithWall(hu: ArrayLike<number>, body: Uint8Array, lumen: Uint8Array, claimed: Uint8Array, bone: Uint8Array, finding: ContrastFinding, dims: Vec3, spacing: Vec3, options: ContrastOptions = {}): Uint8Array {
  const o = { ...CONTRAST_DEFAULTS, ...options };
  const n = lumen.length;
  const high = finding.lumenRangeHu[1];
  // 1. Lumen and plaque.
  const vessels = new Uint8Array(n);
  for (let p = 0; p < n; p++) vessels[p] = lumen[p] || (claimed[p] && hu[p] > high && !bone[p]) ? 1 : 0;
  if (o.wallMm <= 0) return vessels;
  // 2. The wall: a voxel's centre lies half a voxel beyond the surface of the voxels it touches.
  const near = dilate(vessels, dims, spacing, o.wallMm + Math.min(...spacing) / 2);
  for (let p = 0; p < n; p++) if (near[p] && !vessels[p] && body[p] && !bone[p] && hu[p] >= o.wallMinHu) vessels[p] = 1;
  return vessels;
}

