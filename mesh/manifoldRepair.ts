/**
 * Repairs the one defect aggressive simplification leaves in closed surfaces: two sheets pinched
 * together along an edge (a thin wall collapsed until its two sides meet), so the edge is used by four
 * (or 2k) triangles. Around the edge the triangles are paired the way the solid lies between them; the
 * first pair keeps the edge, and every further pair gets an edge of its own: a new vertex at the
 * edge's midpoint splits both of its triangles in two. Each edge is then used by exactly two
 * triangles, in opposite directions, whatever else meets at the edge's ends (the sheets still touch
 * there, which is harmless for display, volume and printing). Edges used an odd number of times, or
 * more often one way than the other, cannot be paired and are left for the caller to notice.
 * Isomorphic: no Node built-ins here.
 */
import type { TriangleMesh } from './triangleMesh.ts';

interface EdgeUse {
  face: number;
  /** The face runs along the edge from its lower to its higher vertex index. */
  forward: boolean;
  /** The face's third vertex. */
  apex: number;
}

/**
 * Pairs the faces around an edge used 2k times (k each way) so that each pair encloses solid: going
 * round the edge (a → b, angles measured about it), an outward face running b → a has the solid on its
 * far side, which ends at the next face, running a → b.
 */
function pairAroundEdge(positions: Float32Array, a: number, b: number, uses: EdgeUse[]): [number, number][] | undefined {
  const forwardCount = uses.filter((u) => u.forward).length;
  if (forwardCount * 2 !== uses.length) return undefined;
  const p = (v: number, k: number) => positions[v * 3 + k];
  const d = [p(b, 0) - p(a, 0), p(b, 1) - p(a, 1), p(b, 2) - p(a, 2)];
  const len = Math.hypot(d[0], d[1], d[2]) || 1;
  d[0] /= len;
  d[1] /= len;
  d[2] /= len;
  // A basis (e1, e2) across the edge with e1 × e2 = d.
  const helper = Math.abs(d[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  const e1 = [d[1] * helper[2] - d[2] * helper[1], d[2] * helper[0] - d[0] * helper[2], d[0] * helper[1] - d[1] * helper[0]];
  const l1 = Math.hypot(e1[0], e1[1], e1[2]);
  e1[0] /= l1;
  e1[1] /= l1;
  e1[2] /= l1;
  const e2 = [d[1] * e1[2] - d[2] * e1[1], d[2] * e1[0] - d[0] * e1[2], d[0] * e1[1] - d[1] * e1[0]];
  const sorted = uses
    .map((u) => {
      const w = [p(u.apex, 0) - p(a, 0), p(u.apex, 1) - p(a, 1), p(u.apex, 2) - p(a, 2)];
      // Runs a → b in the face's winding (a is the edge's lower index when `forward`).
      return { ...u, runsAB: u.forward === a < b, angle: Math.atan2(w[0] * e2[0] + w[1] * e2[1] + w[2] * e2[2], w[0] * e1[0] + w[1] * e1[1] + w[2] * e1[2]) };
    })
    .sort((x, y) => x.angle - y.angle);
  const pairs: [number, number][] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].runsAB) continue;
    const next = sorted[(i + 1) % sorted.length];
    if (!next.runsAB) return undefined;
    pairs.push([sorted[i].face, next.face]);
  }
  return pairs;
}

/** A balanced non-manifold edge and how its faces pair up (each pair: one face each way). */
interface PinchedEdge {
  a: number;
  b: number;
  pairs: [number, number][];
}

/**
 * 1. Find the edges used 2k times (k ≥ 2), k each way; pair their faces by geometry around the edge
 *    (or in the order found where the geometry is folded).
 * 2. Keep the first pair on the edge; for each further pair, a new vertex at the edge's midpoint
 *    splits both faces in two. A face split in this round is not split again until the next, which
 *    looks at the edges afresh; repeat until no pinched edge is left (at most `rounds` times).
 * Returns the input when nothing needs separating.
 */
export function separatePinchedEdges(mesh: TriangleMesh, rounds = 8): TriangleMesh {
  let current = mesh;
  for (let round = 0; round < rounds; round++) {
    const pinched = findPinchedEdges(current);
    if (pinched.length === 0) break;
    current = splitPairs(current, pinched);
  }
  return current;
}

/** Step 1: pinched edges of a mesh, with their face pairs. */
function findPinchedEdges(mesh: TriangleMesh): PinchedEdge[] {
  const { positions, indices } = mesh;
  const vertexCount = positions.length / 3;
  const uses = new Map<number, EdgeUse[]>();
  for (let f = 0; f < indices.length / 3; f++) {
    for (let e = 0; e < 3; e++) {
      const a = indices[f * 3 + e];
      const b = indices[f * 3 + ((e + 1) % 3)];
      const key = Math.min(a, b) * vertexCount + Math.max(a, b);
      const use = { face: f, forward: a < b, apex: indices[f * 3 + ((e + 2) % 3)] };
      const list = uses.get(key);
      if (list) list.push(use);
      else uses.set(key, [use]);
    }
  }
  const pinched: PinchedEdge[] = [];
  for (const [key, list] of uses) {
    if (list.length < 4) continue;
    const forward = list.filter((u) => u.forward);
    const backward = list.filter((u) => !u.forward);
    if (forward.length !== backward.length) continue;
    const a = Math.floor(key / vertexCount);
    const b = key % vertexCount;
    const pairs = pairAroundEdge(positions, a, b, list) ?? forward.map((u, i) => [u.face, backward[i].face] as [number, number]);
    pinched.push({ a, b, pairs });
  }
  return pinched;
}

/** Step 2: every pair but the first of each pinched edge gets its own midpoint vertex. */
function splitPairs(mesh: TriangleMesh, pinched: PinchedEdge[]): TriangleMesh {
  const { positions, indices } = mesh;
  const faceCount = indices.length / 3;
  const touched = new Uint8Array(faceCount);
  const extraPositions: number[] = [];
  const extraFaces: number[] = [];
  const out = Uint32Array.from(indices);
  let next = positions.length / 3;
  for (const { a, b, pairs } of pinched) {
    const split = pairs.slice(1);
    if (split.some(([f, g]) => touched[f] || touched[g])) continue;
    for (const [f, g] of split) {
      const m = next++;
      extraPositions.push((positions[a * 3] + positions[b * 3]) / 2, (positions[a * 3 + 1] + positions[b * 3 + 1]) / 2, (positions[a * 3 + 2] + positions[b * 3 + 2]) / 2);
      for (const face of [f, g]) {
        touched[face] = 1;
        // The face runs p → q along the edge, with apex r: (p, q, r) becomes (p, m, r) and (m, q, r).
        const corner = [0, 1, 2].find((c) => {
          const p = out[face * 3 + c];
          const q = out[face * 3 + ((c + 1) % 3)];
          return (p === a && q === b) || (p === b && q === a);
        })!;
        const p = out[face * 3 + corner];
        const q = out[face * 3 + ((corner + 1) % 3)];
        const r = out[face * 3 + ((corner + 2) % 3)];
        out[face * 3] = p;
        out[face * 3 + 1] = m;
        out[face * 3 + 2] = r;
        extraFaces.push(m, q, r);
      }
    }
  }
  if (extraPositions.length === 0) return mesh;
  const grownPositions = new Float32Array(positions.length + extraPositions.length);
  grownPositions.set(positions);
  grownPositions.set(extraPositions, positions.length);
  const grownIndices = new Uint32Array(out.length + extraFaces.length);
  grownIndices.set(out);
  grownIndices.set(extraFaces, out.length);
  return { positions: grownPositions, indices: grownIndices };
}
