/**
 * Mesh simplification with meshoptimizer's `MeshoptSimplifier` (edge collapses under a quadric error
 * metric): fewer triangles where the surface is flat, within an error budget in the mesh's units
 * (millimetres here) and down to a triangle target. A closed surface has no border, so none is locked
 * and none can open. Collapsing a thin sliver can leave two back-to-back copies of one triangle hanging
 * on an edge (zero volume), or two thin walls pinched onto one edge; both are repaired, and the result
 * is checked. Anything still wrong is local (a few edges among millions on a noisy bone surface), so it
 * is fixed locally: the vertices around it are locked and simplification runs again; the rest of the
 * surface is simplified as before, never given up as a whole.
 * Isomorphic: no Node built-ins here (meshoptimizer is WebAssembly and runs in browsers too).
 */
import { MeshoptSimplifier } from 'meshoptimizer';
import { separatePinchedEdges } from './manifoldRepair.ts';
import { compactVertices, type TriangleMesh } from './triangleMesh.ts';
import { withDefaults } from './withDefaults.ts';

export interface SimplifyOptions {
  /** Largest deviation from the input surface, in the mesh's units (mm). */
  errorMm?: number;
  /** Stop at this many triangles or fewer (if the error budget allows); 0 = as few as the error allows. */
  targetTriangles?: number;
  /**
   * Never fewer than this many triangles: a collapse pass can overshoot the target by a few, so the
   * target is raised by the shortfall and simplification repeated (0 = no floor).
   */
  minTriangles?: number;
}

export const SIMPLIFY_DEFAULTS: Required<SimplifyOptions> = { errorMm: 0.5, targetTriangles: 0, minTriangles: 0 };

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
 *    (absolute error, in the mesh's units), never moving a locked vertex; below `minTriangles`, aim
 *    higher and go again.
 * 2. Drop back-to-back triangle pairs; where two thin walls were collapsed onto one edge, give each
 *    pair of faces its own edge (`separatePinchedEdges`).
 * 3. Keep the result only if it is closed, manifold and consistently oriented. Otherwise lock the
 *    input vertices around what is still wrong (so no collapse can make that defect again) and try
 *    again, up to `SIMPLIFY_ATTEMPTS` times; a defect is local, so every other part of the surface is
 *    simplified as before. Keep the input if none closes (a surface too small to lose a triangle).
 */
export function simplify(mesh: TriangleMesh, options: SimplifyOptions = {}): SimplifiedMesh {
  const { errorMm, minTriangles } = withDefaults(SIMPLIFY_DEFAULTS, options);
  let target = Math.max(options.targetTriangles ?? 0, minTriangles);
  const vertexCount = mesh.positions.length / 3;
  let lock: Uint8Array | undefined;
  for (let attempt = 0; attempt < SIMPLIFY_ATTEMPTS; attempt++) {
    if (mesh.indices.length === 0 || target * 3 >= mesh.indices.length) break;
    // 1. Collapse.
    const [indices, error] = lock
      ? MeshoptSimplifier.simplifyWithAttributes(mesh.indices, mesh.positions, 3, NO_ATTRIBUTES, 0, [], lock, target * 3, errorMm, ['ErrorAbsolute'])
      : MeshoptSimplifier.simplify(mesh.indices, mesh.positions, 3, target * 3, errorMm, ['ErrorAbsolute']);
    if (indices.length === 0) break;

    // 2. Drop back-to-back pairs, separate pinched edges (vertex numbers still those of the input).
    const result = separatePinchedEdges({ positions: mesh.positions, indices: dropBackToBackPairs(indices) });
    if (result.indices.length / 3 < minTriangles) {
      // Overshot the floor: aim higher by the shortfall.
      target += minTriangles - result.indices.length / 3 + 2;
      continue;
    }

    // 3. Closed? Otherwise lock around the defects and go again.
    const defects = defectVertices(result);
    if (defects.length === 0) return { mesh: compactVertices(result), errorMm: error, simplified: true };
    lock ??= new Uint8Array(vertexCount);
    for (const v of defects) if (v < vertexCount) lock[v] = 1;
    lockNeighbours(result, lock, vertexCount);
  }
  return { mesh, errorMm: 0, simplified: false };
}

const NO_ATTRIBUTES = new Float32Array(0);

/** How many times simplification is tried, with ever more vertices locked, before the input is kept. */
export const SIMPLIFY_ATTEMPTS = 4;

/** Vertices of the edges that are not used exactly twice in opposite directions. */
function defectVertices(mesh: TriangleMesh): number[] {
  const t = mesh.indices;
  const uses = new Map<number, number>();
  const n = mesh.positions.length / 3;
  for (let f = 0; f < t.length; f += 3) {
    for (let e = 0; e < 3; e++) {
      const a = t[f + e];
      const b = t[f + ((e + 1) % 3)];
      // Forward uses count +1, backward −1, in the upper 16 bits of the count the total.
      const key = Math.min(a, b) * n + Math.max(a, b);
      uses.set(key, (uses.get(key) ?? 0) + (a < b ? 1 : -1) + 65536);
    }
  }
  const out: number[] = [];
  for (const [key, count] of uses) {
    if (count === 2 * 65536) continue;
    out.push(Math.floor(key / n), key % n);
  }
  return out;
}

/** Also locks the vertices that share a triangle with a locked one (the defect's surroundings). */
function lockNeighbours(mesh: TriangleMesh, lock: Uint8Array, vertexCount: number): void {
  const t = mesh.indices;
  const add: number[] = [];
  for (let f = 0; f < t.length; f += 3) {
    if (!(lock[t[f]] || lock[t[f + 1]] || lock[t[f + 2]])) continue;
    for (let c = 0; c < 3; c++) if (t[f + c] < vertexCount) add.push(t[f + c]);
  }
  for (const v of add) lock[v] = 1;
}

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
