/**
 * Bone by hysteresis thresholding: dense-enough voxels inside the body that are connected to clearly
 * dense ones (cortex), bridged across small cortical gaps and filled where the enclosed marrow is
 * denser than soft tissue (so vertebral bodies come out solid but the spinal canal stays open).
 *
 * In a contrast-enhanced scan the vessel lumen is never bone, and dense voxels that the lumen reaches
 * before any bone does (calcified plaque in the vessel wall, which touches the lumen; a vertebra lies
 * beyond the wall and the fat around it) are left to the vessel: bone neither starts from them nor
 * grows, closes or fills into them.
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import { connectedComponents, removeSmallComponents } from '../connectedComponents.ts';
import { boxHalfSize, homogeneousMask } from './homogeneity.ts';
import { close, fillHolesInSlices, geodesicDilate, geodesicSteps, UNREACHED } from './morphology.ts';

export interface BoneMaskOptions {
  /** Candidate bone: at least this dense. Default 100 HU (cancellous bone at 3 mm is 100–250). */
  lowHu?: number;
  /** A candidate component is bone when it holds a voxel at least this dense. Default 200 HU. */
  seedHu?: number;
  /**
   * How far (mm, through candidate voxels) bone may extend from its dense seeds. Marrow deeper inside is
   * recovered by hole filling; what touches bone from outside (an enhanced organ) is not taken whole.
   * Default: no limit (without contrast nothing outside bone reaches `lowHu`).
   */
  growMm?: number;
  /** Enclosed holes are filled when their mean HU is above this (marrow yes, spinal canal no). Default 60. */
  holeMinMeanHu?: number;
  /**
   * Largest enclosed hole filled (mm² in an axial slice): a vertebral body or femoral head, not the
   * chest or abdomen a ring of ribs closes around. Default 2500 (25 cm²).
   */
  maxHoleMm2?: number;
  /** Closing radius (mm) that bridges gaps in thin cortex before hole filling. Default 3. */
  closeMm?: number;
  /** Pieces smaller than this (mL) are dropped as noise or calcifications. Default 0.1. */
  minVolumeMl?: number;
  /**
   * With a vessel lumen: how far (mm, through candidate voxels) the lumen claims dense voxels that bone
   * does not reach first — the thickness of calcified plaque in a vessel wall. Default 3.
   */
  lumenReachMm?: number;
  /**
   * Largest local standard deviation (HU, in a box of about ±1.5 mm) of the smooth enhanced organs bone
   * does not grow into: connected regions of at least 50 mL (a liver, spleen or kidney, not a costal
   * cartilage or a marrow cavity) whose local mean stays clearly below `seedHu`. An enhanced liver
   * against the ribs is smooth; bone and cartilage are dense or small. Default: no limit (without
   * contrast no soft tissue reaches `lowHu`).
   */
  maxSmoothStdHu?: number;
}

export const BONE_MASK_DEFAULTS = { lowHu: 100, seedHu: 200, growMm: Infinity, holeMinMeanHu: 60, maxHoleMm2: 2500, closeMm: 3, minVolumeMl: 0.1, lumenReachMm: 3, maxSmoothStdHu: Infinity } satisfies Required<BoneMaskOptions>;

/** Smallest smooth region (mL) taken for an enhanced organ rather than cartilage or marrow. */
const SMOOTH_ORGAN_ML = 50;

export interface BoneMask {
  bone: Uint8Array;
  /** Candidate voxels the vessel lumen reached first and bone did not take (plaque, the lumen's dense rim); all 0 without a lumen. */
  claimed: Uint8Array;
}

/**
 * Bone mask on an LPS grid. `body` limits it (the table is outside); `lumen` (contrast-filled vessels)
 * is never bone.
 * 1. candidates = body ∧ HU ≥ lowHu ∧ ¬lumen, less smooth regions below `seedHu` (`maxSmoothStdHu`);
 * 2. the lumen's reach: geodesic steps from the lumen through candidates, up to `lumenReachMm`;
 * 3. seeds = candidates ≥ seedHu outside that reach, grown through candidates by up to `growMm`
 *    (hysteresis with a reach), entering a voxel the lumen reached only if no later than the lumen;
 *    what the lumen reached and bone did not is `claimed`;
 * 4. close by `closeMm` (inside the body, never into the lumen or what it claimed);
 * 5. fill axial holes up to `maxHoleMm2` whose mean HU exceeds `holeMinMeanHu` (and that hold no lumen);
 * 6. drop pieces under `minVolumeMl`.
 */
export function boneMask(hu: ArrayLike<number>, body: Uint8Array, dims: Vec3, spacing: Vec3, options: BoneMaskOptions = {}, lumen?: Uint8Array): BoneMask {
  const o = { ...BONE_MASK_DEFAULTS, ...options };
  const n = body.length;
  const step = Math.min(...spacing);
  // 1. Candidates.
  const candidates = new Uint8Array(n);
  for (let p = 0; p < n; p++) candidates[p] = body[p] && hu[p] >= o.lowHu && !(lumen && lumen[p]) ? 1 : 0;
  const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
  if (Number.isFinite(o.maxSmoothStdHu)) {
    const smooth = homogeneousMask(hu, dims, { half: boxHalfSize(spacing, 1.5), maxStd: o.maxSmoothStdHu, within: candidates, meanRange: [-Infinity, o.seedHu - o.maxSmoothStdHu] });
    const { ids, sizes } = connectedComponents(smooth, dims, { connectivity: 26 });
    const organ = Math.ceil(SMOOTH_ORGAN_ML / voxelMl);
    for (let p = 0; p < n; p++) if (ids[p] && sizes[ids[p]] >= organ) candidates[p] = 0;
  }
  // 2. How soon the lumen reaches each candidate.
  const reach = lumen ? geodesicSteps(lumen, candidates, dims, Math.max(1, Math.round(o.lumenReachMm / step))) : undefined;
  // 3. Seeds outside the lumen's reach, grown (ties with the lumen go to bone).
  const seeds = new Uint8Array(n);
  for (let p = 0; p < n; p++) seeds[p] = candidates[p] && hu[p] >= o.seedHu ? 1 : 0;
  if (reach) {
    // A dense piece mostly within the lumen's reach is a calcified wall however thick it is in places:
    // all of it is the lumen's (bone may take only what touches its own seeds).
    const { ids, count, sizes } = connectedComponents(seeds, dims, { connectivity: 26 });
    const near = new Float64Array(count + 1);
    for (let p = 0; p < n; p++) if (ids[p] && reach[p] !== UNREACHED) near[ids[p]]++;
    for (let p = 0; p < n; p++) {
      const id = ids[p];
      if (!id) continue;
      if (near[id] >= 0.5 * sizes[id] && reach[p] === UNREACHED) reach[p] = 1;
      if (reach[p] !== UNREACHED) seeds[p] = 0;
    }
  }
  const growSteps = Number.isFinite(o.growMm) ? Math.max(1, Math.round(o.growMm / step)) : Infinity;
  let bone: Uint8Array = geodesicDilate(seeds, candidates, dims, growSteps, { rival: reach });
  const claimed = new Uint8Array(n);
  const blocked = new Uint8Array(n);
  if (lumen && reach) {
    for (let p = 0; p < n; p++) {
      claimed[p] = reach[p] !== UNREACHED && reach[p] > 0 && !bone[p] ? 1 : 0;
      blocked[p] = lumen[p] | claimed[p];
    }
  }
  // 4. Close cortical gaps.
  if (o.closeMm > 0) {
    bone = close(bone, dims, spacing, o.closeMm);
    for (let p = 0; p < n; p++) if (!body[p] || blocked[p]) bone[p] = 0;
  }
  // 5. Fill marrow.
  fillHolesInSlices(bone, dims, {
    axis: 2,
    accept: (hole) => {
      if (hole.length * spacing[0] * spacing[1] > o.maxHoleMm2) return false;
      let sum = 0;
      for (const p of hole) {
        if (blocked[p]) return false;
        sum += hu[p];
      }
      return sum / hole.length > o.holeMinMeanHu;
    },
  });
  // 6. Small pieces.
  return { bone: removeSmallComponents(bone, dims, Math.max(1, Math.ceil(o.minVolumeMl / voxelMl)), { connectivity: 26 }), claimed };
}
