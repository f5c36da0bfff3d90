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
 * 1. Count both directions of every triangle edge per vertex.
 * 2. Fill the rows, then drop repeats inside each row (each edge of a closed mesh is met twice).
 */
export function vertexAdjacency(mesh: TriangleMesh): VertexAdjacency {
  const t = mesh.indices;
  const n = mesh.positions.length / 3;

  // 1. Upper bound of each row.
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

  // 2. Unique neighbours, compacted in place.
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
