/**
 * Binary morphology for the rules model: dilation and erosion by a ball of a radius in millimetres
 * (exact, through the Euclidean distance transform, so anisotropic voxels are handled), and hole
 * filling in 3-D or slice by slice, optionally only for holes that pass a test (e.g. their mean HU).
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import { squaredDistanceTransform } from '../distanceTransform.ts';

/** Largest radius (in voxels along the finest axis) painted ball by ball; larger ones use the distance transform. */
const MAX_PAINTED_RADIUS_VOXELS = 6;

/** Offsets (di, dj, dk) of the voxels within `radiusMm` of the centre. */
function ballOffsets(spacing: Vec3, radiusMm: number): Vec3[] {
  const r = spacing.map((s) => Math.floor(radiusMm / s + 1e-9));
  const r2 = radiusMm * radiusMm + 1e-6;
  const out: Vec3[] = [];
  for (let dk = -r[2]; dk <= r[2]; dk++) {
    for (let dj = -r[1]; dj <= r[1]; dj++) {
      for (let di = -r[0]; di <= r[0]; di++) {
        if ((di * spacing[0]) ** 2 + (dj * spacing[1]) ** 2 + (dk * spacing[2]) ** 2 <= r2) out.push([di, dj, dk]);
      }
    }
  }
  return out;
}

/**
 * Voxels within `radiusMm` of any set voxel of `mask`. The nearest set voxel of any unset voxel is on
 * the mask's 6-boundary, so painting a ball around each boundary voxel is exact; past a few voxels of
 * radius the distance transform is cheaper.
 */
function grow(mask: Uint8Array, dims: Vec3, spacing: Vec3, radiusMm: number): Uint8Array {
  if (radiusMm / Math.min(...spacing) > MAX_PAINTED_RADIUS_VOXELS) {
    const d2 = squaredDistanceTransform(mask, dims, { spacing });
    const r2 = radiusMm * radiusMm + 1e-6;
    const out = new Uint8Array(mask.length);
    for (let p = 0; p < out.length; p++) out[p] = d2[p] <= r2 ? 1 : 0;
    return out;
  }
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const ball = ballOffsets(spacing, radiusMm);
  const out = mask.slice();
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        if (!mask[p]) continue;
        const interior =
          i > 0 && i < nx - 1 && j > 0 && j < ny - 1 && k > 0 && k < nz - 1 &&
          mask[p - 1] && mask[p + 1] && mask[p - nx] && mask[p + nx] && mask[p - plane] && mask[p + plane];
        if (interior) continue;
        for (const [di, dj, dk] of ball) {
          const ii = i + di;
          const jj = j + dj;
          const kk = k + dk;
          if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz) continue;
          out[kk * plane + jj * nx + ii] = 1;
        }
      }
    }
  }
  return out;
}

/** Voxels within `radiusMm` of the mask (a new mask). */
export function dilate(mask: Uint8Array, dims: Vec3, spacing: Vec3, radiusMm: number): Uint8Array {
  return grow(mask, dims, spacing, radiusMm);
}

/** Mask voxels farther than `radiusMm` from the outside (a new mask). The volume border counts as inside. */
export function erode(mask: Uint8Array, dims: Vec3, spacing: Vec3, radiusMm: number): Uint8Array {
  const outside = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p++) outside[p] = mask[p] ? 0 : 1;
  const near = grow(outside, dims, spacing, radiusMm);
  for (let p = 0; p < near.length; p++) near[p] = near[p] ? 0 : 1;
  return near;
}

/** Geodesic dilation: `steps` rounds of 6-neighbour growth of `seed` inside `within` (new mask). */
export function geodesicDilate(seed: Uint8Array, within: Uint8Array, dims: Vec3, steps: number): Uint8Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const out = seed.slice();
  let front: number[] = [];
  for (let p = 0; p < out.length; p++) if (out[p]) front.push(p);
  for (let s = 0; s < steps && front.length; s++) {
    const next: number[] = [];
    const visit = (q: number) => {
      if (!out[q] && within[q]) {
        out[q] = 1;
        next.push(q);
      }
    };
    for (const p of front) {
      const i = p % nx;
      const j = Math.floor(p / nx) % ny;
      const k = Math.floor(p / plane);
      if (i > 0) visit(p - 1);
      if (i < nx - 1) visit(p + 1);
      if (j > 0) visit(p - nx);
      if (j < ny - 1) visit(p + nx);
      if (k > 0) visit(p - plane);
      if (k < nz - 1) visit(p + plane);
    }
    front = next;
  }
  return out;
}

/** Dilation then erosion: closes gaps narrower than about twice the radius. */
export function close(mask: Uint8Array, dims: Vec3, spacing: Vec3, radiusMm: number): Uint8Array {
  return erode(dilate(mask, dims, spacing, radiusMm), dims, spacing, radiusMm);
}

/**
 * Fills background regions that do not touch the volume border (6-connected background), in place.
 * Returns the number of voxels filled.
 */
export function fillHoles3d(mask: Uint8Array, dims: Vec3): number {
  const [nx, ny, nz] = dims;
  // 1. Seed every background voxel on the border.
  const background = new Uint8Array(mask.length);
  const border = new Uint8Array(mask.length);
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        background[p] = mask[p] ? 0 : 1;
        if (background[p] && (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1)) border[p] = 1;
      }
    }
  }
  // 2. Flood the outside through background.
  const outside = geodesicDilate(border, background, dims, Infinity);
  // 3. Whatever background the flood did not reach is a hole.
  let filled = 0;
  for (let p = 0; p < mask.length; p++) {
    if (background[p] && !outside[p]) {
      mask[p] = 1;
      filled++;
    }
  }
  return filled;
}

export interface FillHolesInSlicesOptions {
  /** Voxel axis normal to the slices (2 = k, the axial planes of an LPS grid). Default 2. */
  axis?: 0 | 1 | 2;
  /** Decides whether one hole (its voxel indices) is filled. Default: every hole is. */
  accept?: (hole: readonly number[]) => boolean;
}

/**
 * Fills holes slice by slice (4-connected background not reaching the slice edge), in place. Slice-wise
 * filling closes cavities that open to the outside only through other slices, like the airways in the
 * body outline. Returns the number of voxels filled.
 */
export function fillHolesInSlices(mask: Uint8Array, dims: Vec3, options: FillHolesInSlicesOptions = {}): number {
  const axis = options.axis ?? 2;
  const strides = [1, dims[0], dims[0] * dims[1]];
  const [a, b] = [0, 1, 2].filter((x) => x !== axis);
  const na = dims[a];
  const nb = dims[b];
  const sa = strides[a];
  const sb = strides[b];
  const state = new Uint8Array(na * nb); // 0 unvisited, 1 outside, 2 assigned to a hole
  const stack: number[] = [];
  let filled = 0;
  for (let s = 0; s < dims[axis]; s++) {
    const base = s * strides[axis];
    state.fill(0);
    const at = (ia: number, ib: number) => base + ia * sa + ib * sb;
    // 1. Flood the slice's outside from its edges.
    const visit = (ia: number, ib: number, mark: number) => {
      const q = ia + ib * na;
      if (state[q] || mask[at(ia, ib)]) return;
      state[q] = mark;
      stack.push(q);
    };
    for (let ia = 0; ia < na; ia++) {
      visit(ia, 0, 1);
      visit(ia, nb - 1, 1);
    }
    for (let ib = 0; ib < nb; ib++) {
      visit(0, ib, 1);
      visit(na - 1, ib, 1);
    }
    const flood = (mark: number, collect?: number[]) => {
      while (stack.length) {
        const q = stack.pop()!;
        if (collect) collect.push(q);
        const ia = q % na;
        const ib = (q - ia) / na;
        if (ia > 0) visit(ia - 1, ib, mark);
        if (ia < na - 1) visit(ia + 1, ib, mark);
        if (ib > 0) visit(ia, ib - 1, mark);
        if (ib < nb - 1) visit(ia, ib + 1, mark);
      }
    };
    flood(1);
    // 2. Each remaining background region is a hole: fill it if accepted.
    for (let q = 0; q < na * nb; q++) {
      if (state[q]) continue;
      const ia = q % na;
      const ib = (q - ia) / na;
      if (mask[at(ia, ib)]) continue;
      const hole: number[] = [];
      state[q] = 2;
      stack.push(q);
      flood(2, hole);
      const voxels = hole.map((h) => at(h % na, Math.floor(h / na)));
      if (!options.accept || options.accept(voxels)) {
        for (const p of voxels) mask[p] = 1;
        filled += voxels.length;
      }
    }
  }
  return filled;
}
