/**
 * The rules' working grid. Their decisions (which tissue is body, blood, bone or lung, which pieces
 * belong together) need about 1.5–2 mm, not the 0.6–1 mm of a clinical scan: on a finer scan the
 * rules run on block means of whole numbers of voxels (4–8 times fewer voxels), and the label map is
 * brought back to the scan's own voxels cell by cell. Cells whose neighbourhood holds one label keep
 * it; at a boundary every voxel is decided by its own HU among the labels around it, so the surfaces
 * are as sharp as the scan.
 */
import type { Vec3 } from '../../../mesh/grid.ts';

export interface WorkingGridOptions {
  /** Finest working voxel (mm): an axis finer than this is merged by the largest whole factor that stays at or below it. Default 1.6. */
  maxSpacingMm?: number;
}

export const WORKING_GRID_DEFAULTS = { maxSpacingMm: 1.6 } satisfies Required<WorkingGridOptions>;

/** Whole merge factor per axis (1 where the scan is already coarse enough). */
export function workingFactors(spacing: Vec3, options: WorkingGridOptions = {}): Vec3 {
  const { maxSpacingMm } = { ...WORKING_GRID_DEFAULTS, ...options };
  return spacing.map((s) => Math.max(1, Math.floor(maxSpacingMm / s + 1e-6))) as Vec3;
}

/** Block means of `factors` voxels (partial blocks at the far edges average what they hold), rounded to whole HU. */
export function blockMeans(hu: ArrayLike<number>, dims: Vec3, factors: Vec3): { data: Int16Array; dims: Vec3 } {
  const [nx, ny, nz] = dims;
  const [fx, fy, fz] = factors;
  const cd: Vec3 = [Math.ceil(nx / fx), Math.ceil(ny / fy), Math.ceil(nz / fz)];
  const cplane = cd[0] * cd[1];
  const sum = new Float64Array(cplane);
  const count = new Float64Array(cplane);
  const out = new Int16Array(cplane * cd[2]);
  const cellOfI = new Int32Array(nx);
  for (let i = 0; i < nx; i++) cellOfI[i] = Math.floor(i / fx);
  for (let ck = 0; ck < cd[2]; ck++) {
    sum.fill(0);
    count.fill(0);
    for (let k = ck * fz; k < Math.min(nz, (ck + 1) * fz); k++) {
      for (let j = 0; j < ny; j++) {
        const row = Math.floor(j / fy) * cd[0];
        let p = (k * ny + j) * nx;
        for (let i = 0; i < nx; i++, p++) {
          const c = row + cellOfI[i];
          sum[c] += hu[p];
          count[c]++;
        }
      }
    }
    const base = ck * cplane;
    for (let c = 0; c < cplane; c++) out[base + c] = Math.round(sum[c] / count[c]);
  }
  return { data: out, dims: cd };
}

/**
 * What a label needs of a voxel's own HU at a boundary: `keep` to stay where the coarse grid put it,
 * `claim` to take a voxel from the background next to it. Ranges are inclusive [min, max].
 */
export interface VoxelTest {
  keep: [number, number];
  claim: [number, number];
  /** Structure labels this one claims from even where they keep (the airway's rim from the lung around it). */
  over?: number[];
}

export interface RefineOptions {
  /** Label of the body's background (soft tissue, fat), and of the outside (air). */
  body: number;
  outside: number;
  /** Label of tissue cut off the body (the table, a blanket): it stays as it is, never body. */
  removed?: number;
  /** Voxels above this are body, at or below it outside (where both meet). */
  bodyHu: number;
  /** Tests of the structure labels, indexed by label; later labels take precedence when several claim. */
  tests: (VoxelTest | undefined)[];
}

/**
 * The label map on the scan's own grid from the working grid's (`factors` voxels per cell).
 * 1. a voxel whose cell and the cell's 26 neighbours hold one label takes it;
 * 2. otherwise, among the labels of those cells: its own cell's structure if its HU passes that
 *    structure's `keep` test (unless a structure allowed `over` it claims the voxel); else the highest
 *    structure that `claim`s its HU; else body or outside by
 *    `bodyHu` (outside only where an outside cell is near). Removed tissue stays removed.
 */
export function refineLabels(coarse: Uint8Array, coarseDims: Vec3, factors: Vec3, hu: ArrayLike<number>, dims: Vec3, options: RefineOptions): Uint8Array {
  const [nx, ny, nz] = dims;
  const [cx, cy, cz] = coarseDims;
  const cplane = cx * cy;
  const { body, outside, bodyHu, tests } = options;
  const removed = options.removed ?? -1;
  const notBody = (1 << outside) | (removed >= 0 ? 1 << removed : 0);
  // 1. Per cell: 0 when its neighbourhood holds one label, else a bit set of the labels present
  //    (labels < 16), OR-ed along i, then j, then k.
  const a = new Uint16Array(coarse.length);
  const present = new Uint16Array(coarse.length);
  for (let r = 0; r < cy * cz; r++) {
    const row = r * cx;
    for (let i = 0; i < cx; i++) {
      let bits = 1 << coarse[row + i];
      if (i > 0) bits |= 1 << coarse[row + i - 1];
      if (i < cx - 1) bits |= 1 << coarse[row + i + 1];
      a[row + i] = bits;
    }
  }
  for (let k = 0; k < cz; k++) {
    for (let j = 0; j < cy; j++) {
      const row = k * cplane + j * cx;
      for (let i = 0; i < cx; i++) present[row + i] = a[row + i] | (j > 0 ? a[row + i - cx] : 0) | (j < cy - 1 ? a[row + i + cx] : 0);
    }
  }
  for (let c = 0; c < coarse.length; c++) {
    const k = Math.floor(c / cplane);
    a[c] = present[c] | (k > 0 ? present[c - cplane] : 0) | (k < cz - 1 ? present[c + cplane] : 0);
  }
  for (let c = 0; c < coarse.length; c++) present[c] = a[c] === 1 << coarse[c] ? 0 : a[c];
  // Tests as flat arrays (NaN bounds fail every comparison: no test), and the structure labels in
  // precedence order (highest first) for the claims.
  const keepLo = new Float64Array(16).fill(NaN);
  const keepHi = new Float64Array(16).fill(NaN);
  const claimLo = new Float64Array(16).fill(NaN);
  const claimHi = new Float64Array(16).fill(NaN);
  const orderList: number[] = [];
  // over[own]: bit set of the labels that claim voxels from `own` even where it keeps them.
  const over = new Uint16Array(16);
  for (let label = tests.length - 1; label >= 0; label--) {
    const t = tests[label];
    if (!t) continue;
    [keepLo[label], keepHi[label]] = t.keep;
    [claimLo[label], claimHi[label]] = t.claim;
    for (const under of t.over ?? []) over[under] |= 1 << label;
    orderList.push(label);
  }
  const order = Int32Array.from(orderList);
  const cellOfI = new Int32Array(nx);
  for (let i = 0; i < nx; i++) cellOfI[i] = Math.floor(i / factors[0]);
  const out = new Uint8Array(nx * ny * nz);
  // 2. Voxel by voxel.
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const ck = Math.floor(k / factors[2]) * cplane;
    for (let j = 0; j < ny; j++) {
      const cj = ck + Math.floor(j / factors[1]) * cx;
      for (let i = 0; i < nx; i++, p++) {
        const c = cj + cellOfI[i];
        const own = coarse[c];
        const bits = present[c];
        if (bits === 0 || own === removed) {
          out[p] = own;
          continue;
        }
        const h = hu[p];
        const keeps = h >= keepLo[own] && h <= keepHi[own];
        if (keeps && !(over[own] & bits)) {
          out[p] = own;
          continue;
        }
        let label = -1;
        const claimers = keeps ? over[own] & bits : bits;
        for (let o = 0; o < order.length; o++) {
          const other = order[o];
          if (other !== own && claimers & (1 << other) && h >= claimLo[other] && h <= claimHi[other]) {
            label = other;
            break;
          }
        }
        if (label < 0 && keeps) label = own;
        if (label < 0) label = (h <= bodyHu && bits & notBody) || (own === outside && !(bits & ~notBody)) ? outside : body;
        out[p] = label;
      }
    }
  }
  return out;
}
