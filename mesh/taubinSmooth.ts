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
}

export const TAUBIN_DEFAULTS: Required<Omit<TaubinSmoothOptions, 'adjacency'>> = {
  iterations: 20,
  lambda: 0.5,
  passBand: 0.1,
};

/**
 * Returns a smoothed copy of the mesh (same triangles, moved vertices).
 *
 * 1. Build the vertex adjacency (uniform "umbrella" weights).
 * 2. Per iteration: p ← p + λ·Δp, then p ← p + μ·Δp, with Δp the mean of the neighbours minus p.
 */
export function taubinSmooth(mesh: TriangleMesh, options: TaubinSmoothOptions = {}): TriangleMesh {
  const { iterations, lambda, passBand } = withDefaults(TAUBIN_DEFAULTS, options);
  const mu = 1 / (passBand - 1 / lambda);
  const n = mesh.positions.length / 3;
  if (n === 0 || iterations <= 0) return { positions: mesh.positions.slice(), indices: mesh.indices };

  // 1. Neighbours.
  const { offsets, neighbours } = options.adjacency ?? vertexAdjacency(mesh);

  // 2. Alternate steps between two buffers.
  const current = Float64Array.from(mesh.positions);
  const next = new Float64Array(current.length);
  for (let i = 0; i < iterations; i++) {
    laplacianStep(current, next, offsets, neighbours, lambda);
    laplacianStep(next, current, offsets, neighbours, mu);
  }
  return { positions: Float32Array.from(current), indices: mesh.indices };
}

/** One umbrella step: to[v] = from[v] + factor · (mean of from over v's neighbours − from[v]). */
function laplacianStep(from: Float64Array, to: Float64Array, offsets: Uint32Array, neighbours: Uint32Array, factor: number): void {
  const n = offsets.length - 1;
  for (let v = 0, o = 0; v < n; v++, o += 3) {
    const start = offsets[v];
    const end = offsets[v + 1];
    const x = from[o];
    const y = from[o + 1];
    const z = from[o + 2];
    if (end === start) {
      to[o] = x;
      to[o + 1] = y;
      to[o + 2] = z;
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
    to[o] = x + (sx * w - factor * x);
    to[o + 1] = y + (sy * w - factor * y);
    to[o + 2] = z + (sz * w - factor * z);
  }
}
