/**
 * Which vertices share an edge with each vertex, in compressed rows (CSR): neighbours of vertex v are
 * `neighbours[offsets[v] … offsets[v + 1] − 1]`, each listed once. Smoothing walks these rows.
 * Isomorphic: no Node built-ins here.
 */
import type { TriangleMesh } from './triangleMesh.ts';

export interface VertexAdjacency {
  offsets: Uint32Array;
  neighbours: Uint32Array;
}

/**
 * 1. Rows of outgoing half-edges: each triangle (a, b, c) gives a → b, b → c, c → a.
 * 2. On a closed, consistently oriented manifold surface (what marching cubes makes) every edge is
 *    met once each way, so these rows already list every neighbour exactly once: check that (each
 *    v → u has its u → v, no v → u twice) and return them. Half the memory of listing both directions.
 * 3. Otherwise (open or non-manifold meshes): both directions of every edge, repeats dropped.
 */
export function vertexAdjacency(mesh: TriangleMesh): VertexAdjacency {
  const t = mesh.indices;
  const n = mesh.positions.length / 3;

  // 1. Outgoing rows.
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < t.length; i++) offsets[t[i] + 1]++;
  for (let v = 0; v < n; v++) offsets[v + 1] += offsets[v];
  const fill = offsets.slice(0, n);
  const neighbours = new Uint32Array(t.length);
  for (let f = 0; f < t.length; f += 3) {
    const a = t[f];
    const b = t[f + 1];
    const c = t[f + 2];
    neighbours[fill[a]++] = b;
    neighbours[fill[b]++] = c;
    neighbours[fill[c]++] = a;
  }

  // 2. Closed and oriented?
  let closed = true;
  for (let v = 0; v < n && closed; v++) {
    for (let k = offsets[v]; k < offsets[v + 1] && closed; k++) {
      const u = neighbours[k];
      for (let m = offsets[v]; m < k; m++) if (neighbours[m] === u) closed = false;
      let back = false;
      for (let m = offsets[u]; m < offsets[u + 1]; m++) {
        if (neighbours[m] === v) {
          back = true;
          break;
        }
      }
      if (!back) closed = false;
    }
  }
  return closed ? { offsets, neighbours } : bothWays(mesh);
}

/** Step 3: count both directions of every triangle edge per vertex, fill the rows, drop repeats. */
function bothWays(mesh: TriangleMesh): VertexAdjacency {
  const t = mesh.indices;
  const n = mesh.positions.length / 3;
  const start = new Uint32Array(n + 1);
  for (let i = 0; i < t.length; i++) start[t[i] + 1] += 2;
  for (let v = 0; v < n; v++) start[v + 1] += start[v];
  const fill = start.slice(0, n);
  const all = new Uint32Array(start[n]);
  for (let f = 0; f < t.length; f += 3) {
    for (let e = 0; e < 3; e++) {
      const a = t[f + e];
      const b = t[f + ((e + 1) % 3)];
      all[fill[a]++] = b;
      all[fill[b]++] = a;
    }
  }
  const offsets = new Uint32Array(n + 1);
  let out = 0;
  for (let v = 0; v < n; v++) {
    offsets[v] = out;
    const rowStart = out;
    for (let k = start[v]; k < start[v + 1]; k++) {
      const u = all[k];
      let seen = false;
      for (let m = rowStart; m < out; m++) {
        if (all[m] === u) {
          seen = true;
          break;
        }
      }
      if (!seen) all[out++] = u;
    }
  }
  offsets[n] = out;
  return { offsets, neighbours: all.slice(0, out) };
}
