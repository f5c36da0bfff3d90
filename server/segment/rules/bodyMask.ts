/**
 * The patient's body: everything denser than air that belongs to the largest connected object, with
 * the CT table and blankets cut off, and the air inside (lungs, airways, bowel gas) filled in. Its
 * outer shell is the `skin`.
 */
import { labelBoundingBoxes } from '../../../mesh/boundingBoxes.ts';
import type { Vec3 } from '../../../mesh/grid.ts';
import { connectedComponents } from '../connectedComponents.ts';
import { dilate, erode, fillHolesInSlices, innerShell } from './morphology.ts';

export interface BodyMaskOptions {
  /** Voxels above this are tissue (air is about −1000 HU, lung about −800). Default −500. */
  thresholdHu?: number;
  /**
   * Opening radius (mm) before the largest component is taken: thin contacts with the table, a
   * mattress or a blanket break, and come back only where they belong to the body. Default 4.
   */
  openingMm?: number;
}

export const BODY_MASK_DEFAULTS = { thresholdHu: -500, openingMm: 4 } satisfies Required<BodyMaskOptions>;

/**
 * The largest component, and every other component of at least 100 mL (and 2 % of the largest) that
 * is at least 30 mm thick front to back and not flat (thickness ≥ a quarter of its width): arms, not
 * the table. LPS grid: i = left, j = posterior.
 */
function bodyPieces(mask: Uint8Array, dims: Vec3, spacing: Vec3): Uint8Array {
  const { ids, count, sizes } = connectedComponents(mask, dims, { connectivity: 6 });
  const out = new Uint8Array(mask.length);
  if (count === 0) return out;
  let largest = 1;
  for (let id = 2; id <= count; id++) if (sizes[id] > sizes[largest]) largest = id;
  const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
  const minVoxels = Math.max(100 / voxelMl, 0.02 * sizes[largest]);
  const [nx, ny] = dims;
  const extent = new Map<number, number[]>(); // id → [minI, maxI, minJ, maxJ]
  for (let id = 1; id <= count; id++) if (id !== largest && sizes[id] >= minVoxels) extent.set(id, [Infinity, -Infinity, Infinity, -Infinity]);
  if (extent.size > 0) {
    for (let p = 0; p < ids.length; p++) {
      const e = extent.get(ids[p]);
      if (!e) continue;
      const i = p % nx;
      const j = Math.floor(p / nx) % ny;
      if (i < e[0]) e[0] = i;
      if (i > e[1]) e[1] = i;
      if (j < e[2]) e[2] = j;
      if (j > e[3]) e[3] = j;
    }
  }
  const keep = new Uint8Array(count + 1);
  keep[largest] = 1;
  for (const [id, e] of extent) {
    const width = (e[1] - e[0] + 1) * spacing[0];
    const thickness = (e[3] - e[2] + 1) * spacing[1];
    if (thickness >= 30 && thickness >= 0.25 * width) keep[id] = 1;
  }
  for (let p = 0; p < ids.length; p++) out[p] = keep[ids[p]];
  return out;
}

/**
 * Body mask of a CT in Hounsfield units on an LPS-ordered grid (axial slices along k).
 * 1. tissue = HU above the threshold;
 * 2. opening by a ball (erode, largest component, dilate back inside the tissue), so the table only
 *    stays if it is thicker than the opening where it touches;
 * 3. the largest component of what remains, plus big pieces that are not flat (arms lying beside the
 *    body); the table, a mattress or a blanket are flat and go;
 * 4. holes filled slice by slice (lungs and airways open to the outside only through the neck).
 */
export function bodyMask(hu: ArrayLike<number>, dims: Vec3, spacing: Vec3, options: BodyMaskOptions = {}): Uint8Array {
  const { thresholdHu, openingMm } = { ...BODY_MASK_DEFAULTS, ...options };
  const n = dims[0] * dims[1] * dims[2];
  const tissue = new Uint8Array(n);
  for (let p = 0; p < n; p++) tissue[p] = hu[p] > thresholdHu ? 1 : 0;
  let kept: Uint8Array;
  const core = openingMm > 0 ? erode(tissue, dims, spacing, openingMm) : tissue;
  if (openingMm > 0 && core.some((v) => v)) {
    // Back to full size inside the tissue: thin contacts (table, blanket) stay cut.
    kept = dilate(core, dims, spacing, openingMm);
    for (let p = 0; p < n; p++) kept[p] &= tissue[p];
  } else {
    kept = tissue;
  }
  const body = bodyPieces(kept, dims, spacing);
  fillHolesInSlices(body, dims, { axis: 2 });
  return body;
}

/**
 * Body voxels (non-zero) whose centre lies within `thicknessMm` of the body surface, the surface taken
 * half a voxel beyond the outermost body voxels (the cut faces at the scan's ends are not skin).
 */
export function bodyShell(body: ArrayLike<number>, dims: Vec3, spacing: Vec3, thicknessMm: number): Uint8Array {
  // Distance to the nearest outside voxel centre = distance to the surface + half a voxel; at least one voxel.
  const radius = Math.max(thicknessMm + Math.min(...spacing) / 2, Math.min(...spacing));
  // Only the air around the body makes skin: the scan's ends are not outside.
  return innerShell(body, dims, spacing, radius);
}

/** Number of connected pieces of tissue outside the body (the table, arms, …) — for the notes. Counted within the pieces' bounding box. */
export function outsidePieces(hu: ArrayLike<number>, body: Uint8Array, dims: Vec3, thresholdHu: number, minVoxels: number): number {
  const rest = new Uint8Array(body.length);
  for (let p = 0; p < body.length; p++) rest[p] = !body[p] && hu[p] > thresholdHu ? 1 : 0;
  const [extent] = labelBoundingBoxes({ dims, data: rest });
  if (!extent) return 0;
  const { min, max } = extent.box;
  const box = [0, 1, 2].map((a) => max[a] - min[a] + 1) as Vec3;
  const crop = new Uint8Array(box[0] * box[1] * box[2]);
  for (let k = 0, q = 0; k < box[2]; k++) {
    for (let j = 0; j < box[1]; j++, q += box[0]) {
      const from = ((k + min[2]) * dims[1] + j + min[1]) * dims[0] + min[0];
      crop.set(rest.subarray(from, from + box[0]), q);
    }
  }
  const { count, sizes } = connectedComponents(crop, box, { connectivity: 26 });
  let pieces = 0;
  for (let id = 1; id <= count; id++) if (sizes[id] >= minVoxels) pieces++;
  return pieces;
}
