/**
 * Vertex normals: the area-weighted mean of the normals of the triangles around each vertex
 * (the cross product's length is twice the area, so summing raw cross products weights by area).
 * Isomorphic: no Node built-ins here.
 */
import { faceCross, type TriangleMesh } from './triangleMesh.ts';

/** Unit normal per vertex (x, y, z); a vertex without area gets (0, 0, 1). */
export function vertexNormals(mesh: TriangleMesh): Float32Array {
  const { positions: p, indices: t } = mesh;
  const sum = new Float64Array(p.length);
  const n = new Float64Array(3);
  for (let f = 0; f < t.length; f += 3) {
    const a = t[f] * 3;
    const b = t[f + 1] * 3;
    const c = t[f + 2] * 3;
    faceCross(p, a, b, c, n);
    const [nx, ny, nz] = n;
    sum[a] += nx;
    sum[a + 1] += ny;
    sum[a + 2] += nz;
    sum[b] += nx;
    sum[b + 1] += ny;
    sum[b + 2] += nz;
    sum[c] += nx;
    sum[c + 1] += ny;
    sum[c + 2] += nz;
  }
  const out = new Float32Array(p.length);
  for (let v = 0; v < p.length; v += 3) {
    const len = Math.hypot(sum[v], sum[v + 1], sum[v + 2]);
    if (len > 0) {
      out[v] = sum[v] / len;
      out[v + 1] = sum[v + 1] / len;
      out[v + 2] = sum[v + 2] / len;
    } else {
      out[v + 2] = 1;
    }
  }
  return out;
}

