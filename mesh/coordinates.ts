/**
 * Coordinate frames of a mesh: voxel indices → LPS millimetres (through the grid's affine), and LPS
 * millimetres ↔ the glTF frame of the guide (metres, +X patient left, +Y superior, +Z anterior,
 * centred on the body's centre):
 *
 *   X = (L − cL) / 1000,  Y = (S − cS) / 1000,  Z = −(P − cP) / 1000
 *
 * Both LPS and this glTF frame are right-handed, so the mapping is a rotation and keeps triangle
 * winding. The body's centre `c` is defined by `bodyCentre`.
 * Isomorphic: no Node built-ins here.
 */
import type { Mat4, Vec3 } from './grid.ts';
import type { TriangleMesh } from './triangleMesh.ts';

/** Signed determinant of the affine's 3×3 part (negative for a mirrored voxel order). */
export function affineDeterminant(affine: Mat4): number {
  const [a, b, c, , d, e, f, , g, h, i] = affine;
  return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
}

/**
 * Places a mesh in voxel index coordinates into LPS millimetres. Handles anisotropic spacing and
 * oblique directions through the affine; a mirroring affine (negative determinant) would turn the
 * surface inside out, so triangle winding is reversed then to keep normals pointing outwards.
 */
export function toPatientSpace(mesh: TriangleMesh, affine: Mat4): TriangleMesh {
  const p = mesh.positions;
  const out = new Float32Array(p.length);
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11] = affine;
  for (let v = 0; v < p.length; v += 3) {
    const x = p[v];
    const y = p[v + 1];
    const z = p[v + 2];
    out[v] = m0 * x + m1 * y + m2 * z + m3;
    out[v + 1] = m4 * x + m5 * y + m6 * z + m7;
    out[v + 2] = m8 * x + m9 * y + m10 * z + m11;
  }
  let indices = mesh.indices;
  if (affineDeterminant(affine) < 0) {
    indices = new Uint32Array(mesh.indices);
    for (let t = 0; t < indices.length; t += 3) {
      const b = indices[t + 1];
      indices[t + 1] = indices[t + 2];
      indices[t + 2] = b;
    }
  }
  return { positions: out, indices };
}

/** glTF metres relative to `centre` → LPS millimetres (the inverse of `meshToGltfFrame`'s mapping). */
export function gltfToLps(point: Vec3, centre: Vec3): Vec3 {
  return [point[0] * 1000 + centre[0], -point[2] * 1000 + centre[1], point[1] * 1000 + centre[2]];
}

/** LPS millimetres → glTF metres relative to `centre` (the mapping `meshToGltfFrame` applies to every vertex). */
export function lpsToGltf(point: Vec3, centre: Vec3): Vec3 {
  return [(point[0] - centre[0]) / 1000, (point[2] - centre[2]) / 1000, -(point[1] - centre[1]) / 1000];
}

/** A mesh in LPS millimetres moved into the glTF frame (metres, centred on `centre`); normals rotate along. */
export function meshToGltfFrame(mesh: TriangleMesh, centre: Vec3): TriangleMesh {
  const p = mesh.positions;
  const out = new Float32Array(p.length);
  for (let v = 0; v < p.length; v += 3) {
    out[v] = (p[v] - centre[0]) / 1000;
    out[v + 1] = (p[v + 2] - centre[2]) / 1000;
    out[v + 2] = -(p[v + 1] - centre[1]) / 1000;
  }
  const result: TriangleMesh = { positions: out, indices: mesh.indices };
  if (mesh.normals) {
    const n = mesh.normals;
    const normals = new Float32Array(n.length);
    for (let v = 0; v < n.length; v += 3) {
      normals[v] = n[v];
      normals[v + 1] = n[v + 2];
      normals[v + 2] = -n[v + 1];
    }
    result.normals = normals;
  }
  return result;
}

/** Axis-aligned LPS box of the vertices of several meshes; `undefined` when all are empty. */
export function meshBounds(meshes: readonly TriangleMesh[]): { min: Vec3; max: Vec3 } | undefined {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const mesh of meshes) {
    const p = mesh.positions;
    for (let v = 0; v < p.length; v += 3) {
      for (let a = 0; a < 3; a++) {
        const x = p[v + a];
        if (x < min[a]) min[a] = x;
        if (x > max[a]) max[a] = x;
      }
    }
  }
  return min[0] <= max[0] ? { min, max } : undefined;
}

/**
 * The body's centre, the origin of the glTF frame: the centre of the axis-aligned LPS bounding box
 * of all the case's structure meshes (when a `body` or `skin` structure is meshed, that is its box).
 * Rounded to 0.01 mm so the value recorded in the GLB reads back exactly.
 */
export function bodyCentre(meshes: readonly TriangleMesh[]): Vec3 {
  const bounds = meshBounds(meshes);
  if (!bounds) return [0, 0, 0];
  return [0, 1, 2].map((a) => Math.round(((bounds.min[a] + bounds.max[a]) / 2) * 100) / 100) as Vec3;
}
