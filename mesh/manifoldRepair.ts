/**
 * Repairs the one defect aggressive simplification leaves in closed surfaces: two sheets pinched
 * together along edges (a thin wall collapsed until its two sides meet), so such an edge has four
 * triangles. Around the edge the triangles are paired the way the solid lies between them; around
 * each vertex of such an edge the triangles then fall into separate fans (sheets), and every fan but
 * the first gets its own copy of the vertex. Each sheet then has its own edges, used by exactly two
 * triangles, and the surface is manifold again (it still touches itself there, which is harmless for
 * display, volume and printing).
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

/**
 * 1. Find edges not used exactly twice in opposite directions; pair their faces by geometry.
 * 2. Around each vertex of such an edge, join faces that share a good edge or are paired across a bad
 *    one (union–find); where that leaves a pinched edge's faces in one fan at both its ends (a surface
 *    touching itself), use the other pairing.
 * 3. Each further fan gets a new vertex at the same position.
 * Returns the input when nothing needs splitting.
 */
export function splitPinchedVertices(mesh: TriangleMesh): TriangleMesh {
  const { positions, indices } = mesh;
  const vertexCount = positions.length / 3;
  const faceCount = indices.length / 3;

  // 1. Edge uses; bad edges and their pairings.
  const uses = new Map<number, EdgeUse[]>();
  for (let f = 0; f < faceCount; f++) {
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
  const isGood = (list: EdgeUse[]) => list.length === 2 && list[0].forward !== list[1].forward;
  const pairings = new Map<number, [number, number][] | undefined>();
  for (const [key, list] of uses) {
    if (isGood(list)) continue;
    const lo = Math.floor(key / vertexCount);
    const hi = key % vertexCount;
    pairings.set(key, pairAroundEdge(positions, lo, hi, list));
  }
  if (pairings.size === 0) return mesh;
  const suspects = new Set<number>();
  for (const key of pairings.keys()) {
    suspects.add(Math.floor(key / vertexCount));
    suspects.add(key % vertexCount);
  }
  const incident = new Map<number, number[]>();
  for (let f = 0; f < faceCount; f++) {
    for (let c = 0; c < 3; c++) {
      const v = indices[f * 3 + c];
      if (!suspects.has(v)) continue;
      const list = incident.get(v);
      if (list) list.push(f);
      else incident.set(v, [f]);
    }
  }

  // 2. Fans per suspect vertex: component root per (vertex, face).
  const fansOf = (v: number): Map<number, number> => {
    const faces = incident.get(v)!;
    const local = new Map(faces.map((f, i) => [f, i]));
    const parent = faces.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
    const join = (f: number, g: number) => {
      const i = local.get(f);
      const j = local.get(g);
      if (i !== undefined && j !== undefined) parent[find(i)] = find(j);
    };
    const others = new Set<number>();
    for (const f of faces) for (let c = 0; c < 3; c++) if (indices[f * 3 + c] !== v) others.add(indices[f * 3 + c]);
    for (const x of others) {
      const key = Math.min(v, x) * vertexCount + Math.max(v, x);
      const list = uses.get(key)!;
      if (isGood(list)) join(list[0].face, list[1].face);
      else for (const [f, g] of pairings.get(key) ?? []) join(f, g);
    }
    return new Map(faces.map((f, i) => [f, find(i)]));
  };
  // A pinched edge is separated when, at one of its ends, its faces fall into more than one fan. When a
  // surface touches itself, the geometric pairing keeps one fan at both ends; the other pairing of the
  // four faces separates them instead.
  let fans = new Map([...incident.keys()].map((v) => [v, fansOf(v)]));
  for (let pass = 0; pass < 2; pass++) {
    let flipped = false;
    for (const [key, pairs] of pairings) {
      const list = uses.get(key)!;
      const ends = [Math.floor(key / vertexCount), key % vertexCount];
      const separated = ends.some((v) => new Set(list.map((u) => fans.get(v)!.get(u.face))).size > 1);
      if (separated || !pairs || pairs.length !== 2) continue;
      pairings.set(key, [
        [pairs[0][0], pairs[1][1]],
        [pairs[1][0], pairs[0][1]],
      ]);
      flipped = true;
    }
    if (!flipped) break;
    fans = new Map([...incident.keys()].map((v) => [v, fansOf(v)]));
  }

  // 3. A new vertex for every fan but the first.
  const out = new Uint32Array(indices);
  const extra: number[] = [];
  let next = vertexCount;
  for (const [v, faces] of incident) {
    const rootOf = fans.get(v)!;
    const copyOf = new Map<number, number>();
    const firstRoot = rootOf.get(faces[0])!;
    for (const f of faces) {
      const root = rootOf.get(f)!;
      if (root === firstRoot) continue;
      let copy = copyOf.get(root);
      if (copy === undefined) {
        copy = next++;
        copyOf.set(root, copy);
        extra.push(positions[v * 3], positions[v * 3 + 1], positions[v * 3 + 2]);
      }
      for (let c = 0; c < 3; c++) if (out[f * 3 + c] === v) out[f * 3 + c] = copy;
    }
  }
  if (extra.length === 0) return mesh;
  const grown = new Float32Array(positions.length + extra.length);
  grown.set(positions);
  grown.set(extra, positions.length);
  return { positions: grown, indices: out };
}
