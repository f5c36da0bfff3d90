/**
 * The grid a network sees: the CT reoriented to the manifest's orientation, resampled to its spacing
 * (or fixed size), and which voxel axis feeds which tensor dim. Sizes follow nnU-Net's preprocessing:
 * `new_shape = round(old_shape · old_spacing / new_spacing)` per axis, the resampled grid covering the
 * same box as the original (cell-centred, see `resample.ts`).
 */
import { multiplyMat4, spacingOf, type Grid, type Mat4, type Vec3 } from '../../mesh/grid.ts';
import type { OnnxManifest } from './manifest.ts';

export interface NetworkGrid extends Grid {
  /** Actual voxel size of the network grid along i, j, k (mm). */
  spacing: Vec3;
  /** For tensor dims D, H, W: the voxel axis feeding it (0 = i, 1 = j, 2 = k). */
  tensorToVoxel: Vec3;
  /** Patch size along voxel axes i, j, k (whole-volume mode: the padded volume). */
  patch: Vec3;
}

const AXIS_INDEX = { i: 0, j: 1, k: 2 } as const;

/** A tensor-order triple (D, H, W) rearranged into voxel-axis order (i, j, k). */
export function tensorToVoxelOrder(values: readonly number[], tensorToVoxel: Vec3): Vec3 {
  const out: Vec3 = [0, 0, 0];
  for (let t = 0; t < 3; t++) out[tensorToVoxel[t]] = values[t];
  return out;
}

/** Plans the network grid for a CT already reoriented to `manifest.input.orientation`. */
export function planNetworkGrid(source: Grid, manifest: OnnxManifest): NetworkGrid {
  const tensorToVoxel = manifest.input.tensorAxes.map((a) => AXIS_INDEX[a]) as Vec3;
  const sourceSpacing = spacingOf(source.affine);
  // 1. Size along each voxel axis: fixed, or the box at the target spacing.
  let dims: Vec3;
  if (manifest.input.size) {
    dims = tensorToVoxelOrder(manifest.input.size, tensorToVoxel);
  } else {
    const target = tensorToVoxelOrder(manifest.input.spacing!, tensorToVoxel);
    dims = source.dims.map((n, a) => Math.max(1, Math.round((n * sourceSpacing[a]) / target[a]))) as Vec3;
  }
  // 2. Affine: network index n sits at source index (n + 0.5)·(source/target) − 0.5.
  const scale = source.dims.map((n, a) => n / dims[a]);
  const m: Mat4 = [scale[0], 0, 0, 0.5 * scale[0] - 0.5, 0, scale[1], 0, 0.5 * scale[1] - 0.5, 0, 0, scale[2], 0.5 * scale[2] - 0.5, 0, 0, 0, 1];
  const affine = multiplyMat4(source.affine, m);
  // 3. Patch: the manifest's, or the whole (padded) volume.
  let patch: Vec3;
  if (manifest.inference.mode === 'sliding-window') {
    patch = tensorToVoxelOrder(manifest.inference.patchSize, tensorToVoxel);
  } else {
    const multiple = manifest.inference.divisibleBy;
    patch = dims.map((n) => Math.ceil(n / multiple) * multiple) as Vec3;
  }
  return { dims, affine, spacing: spacingOf(affine), tensorToVoxel, patch };
}
