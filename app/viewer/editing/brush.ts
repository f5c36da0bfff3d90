/**
 * The voxels under a brush: a disc of a radius in millimetres in one view's plane, or a ball, on a grid
 * of any spacing; optionally only voxels whose CT value lies in a Hounsfield range. A stroke is a
 * chain of stamps along the pointer's path, close enough (half a radius apart) to leave no gaps.
 * Isomorphic.
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import { ctValueAt, type CtVolume } from '../slices/ctVolume.ts';
import type { SliceFrame } from '../slices/sliceGeometry.ts';

export interface BrushShape {
  dims: Vec3;
  /** Voxel size along i, j, k in mm. */
  spacing: Vec3;
  radiusMm: number;
  /** A disc in this view's plane; without it, a ball. */
  frame?: SliceFrame;
  /** Only voxels with a CT value in [lo, hi]. */
  huRange?: [number, number] | null;
  ct?: CtVolume | null;
}

/** Calls `visit` with the storage index of every voxel under the brush centred at `center` (voxel coordinates). */
export function forEachBrushVoxel(center: Vec3, shape: BrushShape, visit: (index: number) => void): void {
  const { dims, spacing, radiusMm, frame, huRange, ct } = shape;
  const [nx, ny] = dims;
  const r2 = radiusMm * radiusMm;
  const lo: Vec3 = [0, 0, 0];
  const hi: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const flat = frame && a === frame.normal;
    const reach = flat ? 0 : radiusMm / spacing[a];
    const c = flat ? Math.round(center[a]) : center[a];
    lo[a] = Math.max(0, Math.ceil(c - reach));
    hi[a] = Math.min(dims[a] - 1, Math.floor(c + reach));
  }
  for (let k = lo[2]; k <= hi[2]; k++) {
    const dk = frame?.normal === 2 ? 0 : (k - center[2]) * spacing[2];
    for (let j = lo[1]; j <= hi[1]; j++) {
      const dj = frame?.normal === 1 ? 0 : (j - center[1]) * spacing[1];
      for (let i = lo[0]; i <= hi[0]; i++) {
        const di = frame?.normal === 0 ? 0 : (i - center[0]) * spacing[0];
        if (di * di + dj * dj + dk * dk > r2) continue;
        if (huRange && ct) {
          const hu = ctValueAt(ct, i, j, k);
          if (hu < huRange[0] || hu > huRange[1]) continue;
        }
        visit(i + j * nx + k * nx * ny);
      }
    }
  }
}

/** Stamps the brush along the segment from `from` (already stamped) to `to` (voxel coordinates), every half radius. */
export function forEachStrokeVoxel(from: Vec3, to: Vec3, shape: BrushShape, visit: (index: number) => void): void {
  const mm = Math.hypot(...from.map((f, a) => (to[a] - f) * shape.spacing[a]));
  const steps = Math.max(1, Math.ceil(mm / Math.max(0.25, shape.radiusMm / 2)));
  for (let s = 1; s <= steps; s++) {
    const t = s / steps;
    forEachBrushVoxel(from.map((f, a) => f + (to[a] - f) * t) as Vec3, shape, visit);
  }
}
