/**
 * Mesh simplification with meshoptimizer's `MeshoptSimplifier` (edge collapses under a quadric error
 * metric): fewer triangles where the surface is flat, within an error budget in the mesh's units
 * (millimetres here) and down to a triangle target. A closed surface has no border, so none is locked
 * and none can open. Collapsing a thin sliver can leave two back-to-back copies of one triangle hanging
 * on an edge (zero volume, three triangles on that edge), or two thin walls pinched onto one edge; both
 * are repaired, and the result is checked (and simplification retried less aggressively if still open).
 * Isomorphic: no Node built-ins here (meshoptimizer is WebAssembly and runs in browsers too).
 */
import { MeshoptSimplifier } from 'meshoptimizer';
import { splitPinchedVertices } from './manifoldRepair.ts';
import { checkEdges } from './meshMetrics.ts';
import { compactVertices, type TriangleMesh } from './triangleMesh.ts';
import { withDefaults } from './withDefaults.ts';

export interface SimplifyOptions {
  /** Largest deviation from the input surface, in the mesh's units (mm). */
  errorMm?: number;
  /** Stop at this many triangles or fewer (if the error budget allows); 0 = as few as the error allows. */
  targetTriangles?: number;
}

export const SIMPLIFY_DEFAULTS: Required<SimplifyOptions> = { errorMm: 0.5, targetTriangles: 0 };

export interface SimplifiedMesh {
  mesh: TriangleMesh;
  /** Deviation reported by the simplifier (mm). */
  errorMm: number;
  /** False when simplification would have opened the surface and the input was kept instead. */
  simplified: boolean;
}

/** Resolves once the WebAssembly simplifier is ready (call before `simplify`). */
export function simplifierReady(): Promise<void> {
  return MeshoptSimplifier.ready;
}

/**
 * 1. Collapse edges until `targetTriangles` is reached or the next collapse would exceed `errorMm`
 *    (absolute error, in the mesh's units).
 * 2. Drop back-to-back triangle pairs and the vertices no longer used; where two thin walls were
 *    collapsed onto one edge, give each its own copy of the edge's vertices (`splitPinchedVertices`).
 * 3. Keep the result only if it is closed, manifold and consistently oriented. Otherwise try again a
 *    little less far — 20 % less error, 25 % more triangles — up to `SIMPLIFY_ATTEMPTS` times, and keep
 *    the input if none closes.
 */
export function simplify(mesh: TriangleMesh, options: SimplifyOptions = {}): SimplifiedMesh {
  const { errorMm, targetTriangles } = withDefaults(SIMPLIFY_DEFAULTS, options);
  if (mesh.indices.length === 0) return { mesh, errorMm: 0, simplified: false };
  for (let attempt = 0; attempt < SIMPLIFY_ATTEMPTS; attempt++) {
    // 1. Collapse.
    const target = targetTriangles > 0 ? Math.floor(targetTriangles * 1.25 ** attempt) : 0;
    if (target * 3 >= mesh.indices.length) break;
    const [indices, error] = MeshoptSimplifier.simplify(mesh.indices, mesh.positions, 3, target * 3, errorMm * 0.8 ** attempt, ['ErrorAbsolute']);

    // 2. Drop back-to-back pairs, compact, unpinch.
    let result = compactVertices({ positions: mesh.positions, indices: dropBackToBackPairs(indices) });
    if (result.indices.length === 0) continue;
    if (!checkEdges(result).watertight) result = splitPinchedVertices(result);

    // 3. Still closed?
    if (checkEdges(result).watertight) return { mesh: result, errorMm: error, simplified: true };
  }
  return { mesh, errorMm: 0, simplified: false };
}

/** How many ever less aggressive simplifications are tried before the input is kept. */
export const SIMPLIFY_ATTEMPTS = 4;

/**
 * Removes pairs of triangles made of the same three vertices with opposite winding: they enclose
 * nothing and make the edge they hang on non-manifold. Other triangles are kept in order.
 */
export function dropBackToBackPairs(indices: Uint32Array): Uint32Array {
  const count = indices.length / 3;
  // Key each triangle by its sorted vertices plus its winding parity.
  const keyed = new Map<string, number[]>();
  for (let f = 0; f < count; f++) {
    const a = indices[f * 3];
    const b = indices[f * 3 + 1];
    const c = indices[f * 3 + 2];
    const lo = Math.min(a, b, c);
    const hi = Math.max(a, b, c);
    const mid = a + b + c - lo - hi;
    const key = `${lo},${mid},${hi}`;
    const list = keyed.get(key);
    if (list) list.push(f);
    else keyed.set(key, [f]);
  }
  const drop = new Uint8Array(count);
  let dropped = 0;
  for (const faces of keyed.values()) {
    if (faces.length < 2) continue;
    const forward: number[] = [];
    const backward: number[] = [];
    for (const f of faces) (isEvenRotation(indices, f) ? forward : backward).push(f);
    const pairs = Math.min(forward.length, backward.length);
    for (let i = 0; i < pairs; i++) {
      drop[forward[i]] = 1;
      drop[backward[i]] = 1;
      dropped += 2;
    }
  }
  if (dropped === 0) return indices;
  const out = new Uint32Array((count - dropped) * 3);
  let o = 0;
  for (let f = 0; f < count; f++) {
    if (drop[f]) continue;
    out[o++] = indices[f * 3];
    out[o++] = indices[f * 3 + 1];
    out[o++] = indices[f * 3 + 2];
  }
  return out;
}

/** Whether triangle f lists its vertices as an even rotation of ascending order. */
function isEvenRotation(indices: Uint32Array, f: number): boolean {
  const a = indices[f * 3];
  const b = indices[f * 3 + 1];
  const c = indices[f * 3 + 2];
  return (a < b && b < c) || (b < c && c < a) || (c < a && a < b);
}
