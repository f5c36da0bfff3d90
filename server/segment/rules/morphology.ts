/**
 * Binary morphology for the rules model: dilation and erosion by a ball of a radius in millimetres
 * (exact, through the Euclidean distance transform, so anisotropic voxels are handled), and hole
 * filling in 3-D or slice by slice, optionally only for holes that pass a test (e.g. their mean HU).
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import { squaredDistanceTransform } from '../distanceTransform.ts';

/** Largest radius (in voxels along the finest axis) painted ball by ball; larger ones use the distance transform. */
const MAX_PAINTED_RADIUS_VOXELS = 6;

/** A ball as rows along i: for each (dj, dk) it reaches, the half-width of its row. */
interface BallRows {
  dj: Int32Array;
  dk: Int32Array;
  half: Int32Array;
}

/** Sets every voxel of `ball` centred on (i, j, k) that lies inside the grid. */
function paintBall(out: Uint8Array, i: number, j: number, k: number, dims: Vec3, ball: BallRows): void {
  const [nx, ny, nz] = dims;
  const { dj, dk, half } = ball;
  for (let r = 0; r < dj.length; r++) {
    const jj = j + dj[r];
    const kk = k + dk[r];
    if (jj < 0 || kk < 0 || jj >= ny || kk >= nz) continue;
    const row = (kk * ny + jj) * nx;
    const to = row + Math.min(nx - 1, i + half[r]);
    for (let q = row + Math.max(0, i - half[r]); q <= to; q++) out[q] = 1;
  }
}

/** The ball of `radiusMm` as rows along i. */
function ballRows(spacing: Vec3, radiusMm: number): BallRows {
  const r = spacing.map((s) => Math.floor(radiusMm / s + 1e-9));
  const r2 = radiusMm * radiusMm + 1e-6;
  const dj: number[] = [];
  const dk: number[] = [];
  const half: number[] = [];
  for (let k = -r[2]; k <= r[2]; k++) {
    for (let j = -r[1]; j <= r[1]; j++) {
      const rest = r2 - (j * spacing[1]) ** 2 - (k * spacing[2]) ** 2;
      if (rest < 0) continue;
      dj.push(j);
      dk.push(k);
      half.push(Math.floor(Math.sqrt(rest) / spacing[0] + 1e-9));
    }
  }
  return { dj: Int32Array.from(dj), dk: Int32Array.from(dk), half: Int32Array.from(half) };
}

/**
 * Voxels within `radiusMm` of any set voxel of `mask`. The nearest set voxel of any unset voxel is on
 * the mask's 6-boundary, so painting a ball (row by row) around each boundary voxel is exact; past a
 * few voxels of radius the distance transform is cheaper.
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
  const ball = ballRows(spacing, radiusMm);
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
        paintBall(out, i, j, k, dims, ball);
      }
    }
  }
  return out;
}

/**
 * Mask voxels (non-zero) within `radiusMm` of a voxel outside it: the mask's inner shell, the same as
 * the mask less its erosion (the volume border counts as inside), without building the complement.
 */
export function innerShell(mask: ArrayLike<number>, dims: Vec3, spacing: Vec3, radiusMm: number): Uint8Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const out = new Uint8Array(nx * ny * nz);
  const ball = ballRows(spacing, radiusMm);
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        // An outside voxel next to the mask paints its ball.
        if (mask[p]) continue;
        const touches =
          (i > 0 && mask[p - 1]) || (i < nx - 1 && mask[p + 1]) || (j > 0 && mask[p - nx]) || (j < ny - 1 && mask[p + nx]) ||
          (k > 0 && mask[p - plane]) || (k < nz - 1 && mask[p + plane]);
        if (!touches) continue;
        paintBall(out, i, j, k, dims, ball);
      }
    }
  }
  for (let q = 0; q < out.length; q++) if (!mask[q]) out[q] = 0;
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

/** A growable list of voxel indices (a BFS front) without per-voxel allocation. */
class VoxelQueue {
  items: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.items = new Int32Array(Math.max(16, capacity));
  }
  push(p: number): void {
    if (this.length === this.items.length) {
      const grown = new Int32Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.length++] = p;
  }
}

/** Calls `visit` with every face neighbour (inside the grid) of every voxel in `front`. */
function visitFaceNeighbours(front: VoxelQueue, dims: Vec3, visit: (q: number) => void): void {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const items = front.items;
  for (let f = 0; f < front.length; f++) {
    const p = items[f];
    const i = p % nx;
    const r = (p - i) / nx;
    const j = r % ny;
    const k = (r - j) / ny;
    if (i > 0) visit(p - 1);
    if (i < nx - 1) visit(p + 1);
    if (j > 0) visit(p - nx);
    if (j < ny - 1) visit(p + nx);
    if (k > 0) visit(p - plane);
    if (k < nz - 1) visit(p + plane);
  }
}

/** Largest number of steps `geodesicSteps` counts; farther voxels read `UNREACHED`. */
export const UNREACHED = 255;

/**
 * Geodesic distance in 6-neighbour steps from `seed` through `within` (everywhere when undefined), up to
 * `maxSteps` (at most 254): 0 on the seeds, `UNREACHED` where the growth does not get within that many steps.
 */
export function geodesicSteps(seed: Uint8Array, within: Uint8Array | undefined, dims: Vec3, maxSteps: number): Uint8Array {
  const steps = new Uint8Array(seed.length).fill(UNREACHED);
  let front = new VoxelQueue();
  for (let p = 0; p < seed.length; p++) {
    if (seed[p]) {
      steps[p] = 0;
      front.push(p);
    }
  }
  let next = new VoxelQueue(front.length);
  const limit = Math.min(maxSteps, UNREACHED - 1);
  for (let s = 1; s <= limit && front.length > 0; s++) {
    next.length = 0;
    visitFaceNeighbours(front, dims, (q) => {
      if (steps[q] === UNREACHED && (within === undefined || within[q])) {
        steps[q] = s;
        next.push(q);
      }
    });
    [front, next] = [next, front];
  }
  return steps;
}

export interface GeodesicDilateOptions {
  /**
   * Steps at which a rival growth reached each voxel (from `geodesicSteps`): a voxel is entered at
   * step s only when the rival got there no earlier (s ≤ rival). Ties go to this growth.
   */
  rival?: Uint8Array;
}

/** Geodesic dilation: `steps` rounds of 6-neighbour growth of `seed` inside `within` (new mask). */
export function geodesicDilate(seed: Uint8Array, within: Uint8Array, dims: Vec3, steps: number, options: GeodesicDilateOptions = {}): Uint8Array {
  const out = seed.slice();
  const rival = options.rival;
  let front = new VoxelQueue();
  for (let p = 0; p < out.length; p++) if (out[p]) front.push(p);
  let next = new VoxelQueue(front.length);
  for (let s = 1; s <= steps && front.length > 0; s++) {
    next.length = 0;
    visitFaceNeighbours(front, dims, (q) => {
      if (!out[q] && within[q] && (rival === undefined || rival[q] >= s)) {
        out[q] = 1;
        next.push(q);
      }
    });
    [front, next] = [next, front];
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
