/**
 * Bone by hysteresis thresholding: dense-enough voxels inside the body that are connected to clearly
 * dense ones (cortex), bridged across small cortical gaps and filled where the enclosed marrow is
 * denser than soft tissue (so vertebral bodies come out solid but the spinal canal stays open).
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import { removeSmallComponents } from '../connectedComponents.ts';
import { close, fillHolesInSlices, geodesicDilate } from './morphology.ts';

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
}

export const BONE_MASK_DEFAULTS = { lowHu: 100, seedHu: 200, growMm: Infinity, holeMinMeanHu: 60, maxHoleMm2: 2500, closeMm: 3, minVolumeMl: 0.1 } satisfies Required<BoneMaskOptions>;

/**
 * Bone mask on an LPS grid. `body` limits it (the table is outside); `exclude` (contrast-filled
 * vessels) is never bone.
 * 1. candidates = body ∧ HU ≥ lowHu ∧ ¬exclude;
 * 2. seeds = candidates ≥ seedHu, grown through candidates by up to `growMm` (hysteresis with a reach);
 * 3. close by `closeMm` (inside the body, never into `exclude`);
 * 4. fill axial holes up to `maxHoleMm2` whose mean HU exceeds `holeMinMeanHu`;
 * 5. drop pieces under `minVolumeMl`.
 */
export function boneMask(hu: ArrayLike<number>, body: Uint8Array, dims: Vec3, spacing: Vec3, options: BoneMaskOptions = {}, exclude?: Uint8Array): Uint8Array {
  const o = { ...BONE_MASK_DEFAULTS, ...options };
  const n = body.length;
  const candidates = new Uint8Array(n);
  for (let p = 0; p < n; p++) candidates[p] = body[p] && hu[p] >= o.lowHu && !(exclude && exclude[p]) ? 1 : 0;
  const seeds = new Uint8Array(n);
  for (let p = 0; p < n; p++) seeds[p] = candidates[p] && hu[p] >= o.seedHu ? 1 : 0;
  let bone: Uint8Array = geodesicDilate(seeds, candidates, dims, Number.isFinite(o.growMm) ? Math.max(1, Math.round(o.growMm / Math.min(...spacing))) : Infinity);
  if (o.closeMm > 0) {
    bone = close(bone, dims, spacing, o.closeMm);
    for (let p = 0; p < n; p++) if (!body[p] || (exclude && exclude[p])) bone[p] = 0;
  }
  fillHolesInSlices(bone, dims, {
    axis: 2,
    accept: (hole) => {
      if (hole.length * spacing[0] * spacing[1] > o.maxHoleMm2) return false;
      let sum = 0;
      for (const p of hole) {
        if (exclude && exclude[p]) return false;
        sum += hu[p];
      }
      return sum / hole.length > o.holeMinMeanHu;
    },
  });
  const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
  return removeSmallComponents(bone, dims, Math.max(1, Math.ceil(o.minVolumeMl / voxelMl)), { connectivity: 26 });
}
