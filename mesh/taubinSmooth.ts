/**
 * Taubin λ|μ smoothing ("A signal processing approach to fair surface design", SIGGRAPH 1995): a
 * shrinking Laplacian step (λ > 0) followed by an inflating one (μ < −λ), repeated. Together they form
 * a low-pass filter that removes the voxel staircase (high frequencies on the mesh) while keeping the
 * overall shape and size, unlike plain Laplacian smoothing, which shrinks.
 * Isomorphic: no Node built-ins here.
 */
import type { TriangleMesh } from './triangleMesh.ts';
import { vertexAdjacency, type VertexAdjacency } from './vertexAdjacency.ts';
import { withDefaults } from './withDefaults.ts';

export interface TaubinSmoothOptions {
  /** λ|μ pairs of steps; more removes longer waves. */
  iterations?: number;
  /** Shrinking step factor λ (0 < λ < 1). */
  lambda?: number;
  /**
   * Pass-band frequency k_PB (0 < k_PB < 1; the inflating factor is μ = 1 / (k_PB − 1/λ)). Shapes
   * with lower mesh frequency than this pass unchanged; the staircase of a voxel surface lies well
   * above it.
   */
  passBand?: number;
  /** Reuse an adjacency already built for this mesh. */
  adjacency?: VertexAdjacency;
  /** Keep every vertex inside a box around a point of its own (see `SmoothingConstraint`). */
  constraint?: SmoothingConstraint;
}

/**
 * Where each vertex may go: within ±halfWidth[a] of centres[3v + a] along each axis a of the mesh's
 * coordinates. Applied after every step, so the surface stays within a known distance of where it was
 * measured to be (e.g. the voxel boundary) however strongly it is smoothed.
 */
export interface SmoothingConstraint {
  centres: Float32Array | Float64Array;
  halfWidth: readonly [number, number, number];
}

export const TAUBIN_DEFAULTS: Required<Omit<TaubinSmoothOptions, 'adjacency' | 'constraint'>> = {
  iterations: 20,
  lambda: 0.5,
  passBand: 0.1,
};

/**
 * Returns a smoothed copy of the mesh (same triangles, moved vertices).
 *
 * 1. Build the vertex adjacency (uniform "umbrella" weights).
 * 2. Per iteration: p ← p + λ·Δp, then p ← p + μ·Δp, with Δp the mean of the neighbours minus p;
 *    with a constraint, each step's result is clamped into the vertex's box.
 *
 * The umbrella step is linear and acts on each axis alike, and the boxes are axis-aligned, so smoothing
 * in any axis-scaled frame (voxel indices or millimetres along the grid's axes) gives the same surface.
 * Work is in float32, in two buffers that take turns: the kernel is bound by memory traffic.
 */
export function taubinSmooth(mesh: TriangleMesh, options: TaubinSmoothOptions = {}): TriangleMesh {
  const { iterations, lambda, passBand } = withDefaults(TAUBIN_DEFAULTS, options);
  const mu = 1 / (passBand - 1 / lambda);
  const n = mesh.positions.length / 3;
  if (n === 0 || iterations <= 0) return { positions: mesh.positions.slice(), indices: mesh.indices };

  // 1. Neighbours.
  const { offsets, neighbours } = options.adjacency ?? vertexAdjacency(mesh);

  // 2. Alternate steps between two buffers (each step clamps to the constraint's boxes as it writes).
  const current = Float32Array.from(mesh.positions);
  const next = new Float32Array(current.length);
  const constraint = options.constraint;
  for (let i = 0; i < iterations; i++) {
    laplacianStep(current, next, offsets, neighbours, lambda, constraint);
    laplacianStep(next, current, offsets, neighbours, mu, constraint);
  }
  return { positions: current, indices: mesh.indices };
}

/**
 * One umbrella step: to[v] = from[v] + factor · (mean of from over v's neighbours − from[v]), clamped
 * into the vertex's box when there is a constraint.
 */
function laplacianStep(
  from: Float32Array,
  to: Float32Array,
  offsets: Uint32Array,
  neighbours: Uint32Array,
  factor: number,
  constraint: SmoothingConstraint | undefined,
): void {
  const n = offsets.length - 1;
  const centres = constraint?.centres;
  const [hx, hy, hz] = constraint?.halfWidth ?? [Infinity, Infinity, Infinity];
  const keep = 1 - factor;
  for (let v = 0, o = 0; v < n; v++, o += 3) {
    const start = offsets[v];
    const end = offsets[v + 1];
    if (end === start) {
      to[o] = from[o];
      to[o + 1] = from[o + 1];
      to[o + 2] = from[o + 2];
      continue;
    }
    let sx = 0;
    let sy = 0;
    let sz = 0;
    for (let k = start; k < end; k++) {
      const u = neighbours[k] * 3;
      sx += from[u];
      sy += from[u + 1];
      sz += from[u + 2];
    }
    const w = factor / (end - start);
    let nx = keep * from[o] + w * sx;
    let ny = keep * from[o + 1] + w * sy;
    let nz = keep * from[o + 2] + w * sz;
    if (centres) {
      const cx = centres[o];
      const cy = centres[o + 1];
      const cz = centres[o + 2];
      nx = nx < cx - hx ? cx - hx : nx > cx + hx ? cx + hx : nx;
      ny = ny < cy - hy ? cy - hy : ny > cy + hy ? cy + hy : ny;
      nz = nz < cz - hz ? cz - hz : nz > cz + hz ? cz + hz : nz;
    }
    to[o] = nx;
    to[o + 1] = ny;
    to[o + 2] = nz;
  }
}
