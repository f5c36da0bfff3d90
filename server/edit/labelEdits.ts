/**
 * Label-map operations of the segment editor that need more than a brush: islands (keep the largest
 * piece of a structure, or remove pieces smaller than a size) and fill between slices (a structure
 * painted on some slices is interpolated on the slices between them). Pure functions on typed arrays
 * (`x` fastest), used by the API on a box the browser sends; they change only the given label's voxels
 * and background.
 */
import type { Vec3 } from '../../mesh/grid.ts';
import { connectedComponents } from '../segment/connectedComponents.ts';
import { squaredDistanceTransform } from '../segment/distanceTransform.ts';

export interface IslandsOptions {
  /** `keep-largest`: only the largest 26-connected piece stays; `remove-small`: pieces under `minVoxels` go. */
  mode: 'keep-largest' | 'remove-small';
  /** Smallest piece kept by `remove-small`, in voxels. */
  minVoxels?: number;
}

export const ISLANDS_DEFAULTS = { minVoxels: 100 };

/** Removes islands of `label` (they become 0), in place. Returns the voxels removed. */
export function removeIslands(labels: Uint16Array, dims: Vec3, label: number, options: IslandsOptions): number {
  const mask = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) mask[p] = labels[p] === label ? 1 : 0;
  const { ids, count, sizes } = connectedComponents(mask, dims);
  if (count === 0) return 0;
  let largest = 1;
  for (let id = 2; id <= count; id++) if (sizes[id] > sizes[largest]) largest = id;
  const minVoxels = options.minVoxels ?? ISLANDS_DEFAULTS.minVoxels;
  let removed = 0;
  for (let p = 0; p < labels.length; p++) {
    const id = ids[p];
    if (!id) continue;
    const drop = options.mode === 'keep-largest' ? id !== largest : sizes[id] < minVoxels;
    if (drop) {
      labels[p] = 0;
      removed++;
    }
  }
  return removed;
}

/** Signed distance (mm, positive inside) of one slice's mask, from two exact distance transforms. */
function signedDistance(mask: Uint8Array, dims2: Vec3, spacing2: Vec3): Float32Array {
  const outside = mask.map((v) => (v ? 0 : 1));
  const toInside = squaredDistanceTransform(mask, dims2, { spacing: spacing2 });
  const toOutside = squaredDistanceTransform(outside, dims2, { spacing: spacing2 });
  const out = new Float32Array(mask.length);
  for (let p = 0; p < mask.length; p++) out[p] = mask[p] ? Math.sqrt(toOutside[p]) - 0.5 : 0.5 - Math.sqrt(toInside[p]);
  return out;
}

export interface FillBetweenOptions {
  /** Axis the slices are cut along (2: axial slices, k). */
  axis: 0 | 1 | 2;
  /** Voxel spacing in mm (distances within a slice). */
  spacing?: Vec3;
}

/**
 * Shape-based interpolation: between each pair of neighbouring painted slices of `label`, every slice
 * gets the voxels where the linear blend of the two slices' signed distance maps is inside. Only
 * voxels that are 0 are filled. In place; returns the voxels filled.
 * 1. Find the slices that hold the label.
 * 2. For each gap between two of them: signed distances of both, blended per slice in the gap.
 */
export function fillBetweenSlices(labels: Uint16Array, dims: Vec3, label: number, options: FillBetweenOptions): number {
  const { axis } = options;
  const spacing = options.spacing ?? [1, 1, 1];
  const [nx, ny] = dims;
  const strides = [1, nx, nx * ny];
  const inPlane = ([0, 1, 2] as const).filter((a) => a !== axis);
  const [u, v] = inPlane;
  const nu = dims[u];
  const nv = dims[v];
  const dims2: Vec3 = [nu, nv, 1];
  const spacing2: Vec3 = [spacing[u], spacing[v], 1];
  const index = (s: number, a: number, b: number) => s * strides[axis] + a * strides[u] + b * strides[v];
  const sliceMask = (s: number) => {
    const mask = new Uint8Array(nu * nv);
    for (let b = 0; b < nv; b++) for (let a = 0; a < nu; a++) mask[a + b * nu] = labels[index(s, a, b)] === label ? 1 : 0;
    return mask;
  };
  // 1. Painted slices.
  const painted: number[] = [];
  for (let s = 0; s < dims[axis]; s++) if (sliceMask(s).some((x) => x)) painted.push(s);
  // 2. Gaps.
  let filled = 0;
  for (let g = 0; g + 1 < painted.length; g++) {
    const s0 = painted[g];
    const s1 = painted[g + 1];
    if (s1 - s0 < 2) continue;
    const d0 = signedDistance(sliceMask(s0), dims2, spacing2);
    const d1 = signedDistance(sliceMask(s1), dims2, spacing2);
    for (let s = s0 + 1; s < s1; s++) {
      const w = (s - s0) / (s1 - s0);
      for (let b = 0; b < nv; b++) {
        for (let a = 0; a < nu; a++) {
          const q = a + b * nu;
          if ((1 - w) * d0[q] + w * d1[q] <= 0) continue;
          const p = index(s, a, b);
          if (labels[p] === 0) {
            labels[p] = label;
            filled++;
          }
        }
      }
    }
  }
  return filled;
}
