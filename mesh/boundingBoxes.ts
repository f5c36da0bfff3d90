/**
 * Where each label lies in a label map: its voxel bounding box and voxel count, found in one pass.
 * Meshing scans only a structure's box (±1 voxel), so this pass is what makes small structures cheap.
 * Isomorphic: no Node built-ins here.
 */
import type { LabelMap, Vec3 } from './grid.ts';

/** Inclusive voxel index box. */
export interface VoxelBox {
  min: Vec3;
  max: Vec3;
}

export interface LabelExtent {
  label: number;
  box: VoxelBox;
  /** Voxels with this label. */
  voxels: number;
}

/** Number of voxels inside a box. */
export function boxVoxelCount(box: VoxelBox): number {
  return (box.max[0] - box.min[0] + 1) * (box.max[1] - box.min[1] + 1) * (box.max[2] - box.min[2] + 1);
}

/** A box grown by `margin` voxels on every side (not clamped to the grid). */
export function growBox(box: VoxelBox, margin: number): VoxelBox {
  return {
    min: [box.min[0] - margin, box.min[1] - margin, box.min[2] - margin],
    max: [box.max[0] + margin, box.max[1] + margin, box.max[2] + margin],
  };
}

/**
 * Bounding box and voxel count of every non-zero label present, in ascending label order.
 *
 * 1. Scan rows; inside a row, only x extremes and counts are updated per voxel.
 * 2. y and z extremes are updated once per row in which a label occurs.
 */
export function labelBoundingBoxes(labels: Pick<LabelMap, 'dims' | 'data'>): LabelExtent[] {
  const [nx, ny, nz] = labels.dims;
  const data = labels.data;
  let maxLabel = 0;
  for (let n = 0; n < data.length; n++) if (data[n] > maxLabel) maxLabel = data[n];
  if (maxLabel > 0xffffff) throw new RangeError(`label ${maxLabel} is too large for a label map`);
  const size = maxLabel + 1;
  const count = new Float64Array(size);
  const minX = new Int32Array(size).fill(nx);
  const maxX = new Int32Array(size).fill(-1);
  const minY = new Int32Array(size).fill(ny);
  const maxY = new Int32Array(size).fill(-1);
  const minZ = new Int32Array(size).fill(nz);
  const maxZ = new Int32Array(size).fill(-1);
  const seenRow = new Int32Array(size).fill(-1);

  // 1. Rows.
  let row = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++, row++) {
      const base = row * nx;
      for (let x = 0; x < nx; x++) {
        const v = data[base + x];
        if (v === 0) continue;
        count[v]++;
        if (x < minX[v]) minX[v] = x;
        if (x > maxX[v]) maxX[v] = x;
        if (seenRow[v] !== row) {
          // 2. Once per row and label.
          seenRow[v] = row;
          if (y < minY[v]) minY[v] = y;
          if (y > maxY[v]) maxY[v] = y;
          if (z < minZ[v]) minZ[v] = z;
          if (z > maxZ[v]) maxZ[v] = z;
        }
      }
    }
  }
  const extents: LabelExtent[] = [];
  for (let v = 1; v < size; v++) {
    if (count[v] === 0) continue;
    extents.push({ label: v, voxels: count[v], box: { min: [minX[v], minY[v], minZ[v]], max: [maxX[v], maxY[v], maxZ[v]] } });
  }
  return extents;
}
