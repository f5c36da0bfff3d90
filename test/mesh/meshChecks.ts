/**
 * Independent measurements used by the mesh tests: voxel centroids through the affine, how far a
 * structure's vertices reach into a neighbour's voxels, and how "staircased" a surface is.
 */
import { applyAffine, invertAffine, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';

/** Centroid of a label's voxel centres in LPS mm, and its voxel count. */
export function voxelCentroid(labels: LabelMap, label: number): { centroid: Vec3; voxels: number } {
  const [nx, ny, nz] = labels.dims;
  let sx = 0;
  let sy = 0;
  let sz = 0;
  let count = 0;
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (labels.data[n] !== label) continue;
        sx += i;
        sy += j;
        sz += k;
        count++;
      }
    }
  }
  return { centroid: applyAffine(labels.affine, [sx / count, sy / count, sz / count]), voxels: count };
}

/**
 * Vertices of `mesh` (structure `label`, LPS mm) that lie deep inside another structure: the nearest
 * voxel and all six of its face neighbours carry the same other label, so the vertex is at least about
 * half a voxel past the shared boundary. Returns the count and the vertices examined.
 */
export function deepIntrusions(labels: LabelMap, label: number, mesh: TriangleMesh): { deep: number; vertices: number } {
  const inverse = invertAffine(labels.affine);
  const [nx, ny, nz] = labels.dims;
  const at = (i: number, j: number, k: number) => (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz ? 0 : labels.data[i + nx * (j + ny * k)]);
  const p = mesh.positions;
  let deep = 0;
  for (let v = 0; v < p.length; v += 3) {
    const [x, y, z] = applyAffine(inverse, [p[v], p[v + 1], p[v + 2]]).map(Math.round);
    const other = at(x, y, z);
    if (other === 0 || other === label) continue;
    if ([at(x + 1, y, z), at(x - 1, y, z), at(x, y + 1, z), at(x, y - 1, z), at(x, y, z + 1), at(x, y, z - 1)].every((l) => l === other)) deep++;
  }
  return { deep, vertices: p.length / 3 };
}

/** Angles (degrees) between the normals of triangles that share an edge, sorted ascending. */
export function dihedralAngles(mesh: TriangleMesh): Float64Array {
  const { positions: p, indices: t } = mesh;
  const faces = t.length / 3;
  const normals = new Float64Array(faces * 3);
  for (let f = 0; f < faces; f++) {
    const [a, b, c] = [t[3 * f] * 3, t[3 * f + 1] * 3, t[3 * f + 2] * 3];
    const u = [p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2]];
    const w = [p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2]];
    const n = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
    const len = Math.hypot(n[0], n[1], n[2]) || 1;
    normals.set([n[0] / len, n[1] / len, n[2] / len], f * 3);
  }
  const firstFace = new Map<number, number>();
  const angles: number[] = [];
  const vertices = p.length / 3;
  for (let f = 0; f < faces; f++) {
    for (let e = 0; e < 3; e++) {
      const a = t[3 * f + e];
      const b = t[3 * f + ((e + 1) % 3)];
      const key = Math.min(a, b) * vertices + Math.max(a, b);
      const g = firstFace.get(key);
      if (g === undefined) {
        firstFace.set(key, f);
        continue;
      }
      const dot = normals[3 * f] * normals[3 * g] + normals[3 * f + 1] * normals[3 * g + 1] + normals[3 * f + 2] * normals[3 * g + 2];
      angles.push((Math.acos(Math.max(-1, Math.min(1, dot))) * 180) / Math.PI);
    }
  }
  return Float64Array.from(angles).sort();
}

/** Fraction of edges whose dihedral angle exceeds `degrees`. */
export function fractionSharperThan(angles: Float64Array, degrees: number): number {
  let n = 0;
  for (const a of angles) if (a > degrees) n++;
  return n / Math.max(1, angles.length);
}

export function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
