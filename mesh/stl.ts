/**
 * Binary STL for 3D printing: triangles with facet normals, in millimetres in LPS patient space, one
 * file per structure or several structures merged into one. STL has no units field; slicers assume
 * millimetres, which is what is written.
 * Isomorphic: no Node built-ins here.
 */
import { faceCross, type TriangleMesh } from './triangleMesh.ts';
import { withDefaults } from './withDefaults.ts';

export interface StlOptions {
  /** Text for the 80-byte header (ASCII; must not start with "solid", which marks text STL). */
  header?: string;
}

export const STL_DEFAULTS: Required<StlOptions> = { header: 'holocase binary STL, millimetres, LPS' };

/**
 * Writes one binary STL holding all given meshes.
 *
 * 1. Header (80 bytes) and triangle count (uint32).
 * 2. Per triangle: unit facet normal, three vertices (float32 ×3 each), attribute count 0.
 */
export function writeStl(meshes: TriangleMesh | readonly TriangleMesh[], options: StlOptions = {}): Uint8Array {
  const { header } = withDefaults(STL_DEFAULTS, options);
  const list = Array.isArray(meshes) ? (meshes as readonly TriangleMesh[]) : [meshes as TriangleMesh];
  const count = list.reduce((sum, m) => sum + m.indices.length / 3, 0);
  const bytes = new Uint8Array(84 + count * 50);
  const view = new DataView(bytes.buffer);

  // 1. Header.
  const text = header.replace(/^solid/i, 'STL').slice(0, 80);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  view.setUint32(80, count, true);

  // 2. Triangles.
  const n = new Float64Array(3);
  let o = 84;
  for (const { positions: p, indices: t } of list) {
    for (let f = 0; f < t.length; f += 3) {
      const a = t[f] * 3;
      const b = t[f + 1] * 3;
      const c = t[f + 2] * 3;
      faceCross(p, a, b, c, n);
      const len = Math.hypot(n[0], n[1], n[2]) || 1;
      view.setFloat32(o, n[0] / len, true);
      view.setFloat32(o + 4, n[1] / len, true);
      view.setFloat32(o + 8, n[2] / len, true);
      o += 12;
      for (const v of [a, b, c]) {
        view.setFloat32(o, p[v], true);
        view.setFloat32(o + 4, p[v + 1], true);
        view.setFloat32(o + 8, p[v + 2], true);
        o += 12;
      }
      view.setUint16(o, 0, true);
      o += 2;
    }
  }
  return bytes;
}

export interface StlContents {
  header: string;
  /** Triangle soup: 9 numbers per triangle (three vertices). */
  vertices: Float32Array;
  /** Facet normals: 3 numbers per triangle. */
  normals: Float32Array;
  triangles: number;
}

/** Reads a binary STL (for checks and round trips); throws on a size that does not match its count. */
export function readStl(bytes: Uint8Array): StlContents {
  if (bytes.length < 84) throw new RangeError(`STL is ${bytes.length} bytes, shorter than its 84-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const triangles = view.getUint32(80, true);
  if (bytes.length !== 84 + triangles * 50) {
    throw new RangeError(`STL says ${triangles} triangles (${84 + triangles * 50} bytes) but holds ${bytes.length} bytes`);
  }
  let header = '';
  for (let i = 0; i < 80 && bytes[i] !== 0; i++) header += String.fromCharCode(bytes[i]);
  const vertices = new Float32Array(triangles * 9);
  const normals = new Float32Array(triangles * 3);
  for (let f = 0, o = 84; f < triangles; f++, o += 50) {
    for (let k = 0; k < 3; k++) normals[f * 3 + k] = view.getFloat32(o + k * 4, true);
    for (let k = 0; k < 9; k++) vertices[f * 9 + k] = view.getFloat32(o + 12 + k * 4, true);
  }
  return { header, vertices, normals, triangles };
}
