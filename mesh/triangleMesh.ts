/**
 * An indexed triangle mesh on typed arrays: what every mesh operation takes and returns.
 * Isomorphic: no Node built-ins here.
 */

export interface TriangleMesh {
  /** x, y, z per vertex. Units depend on the stage: voxel indices, LPS millimetres, or glTF metres. */
  positions: Float32Array;
  /** Three vertex indices per triangle, counter-clockwise seen from outside (outward normals). */
  indices: Uint32Array;
  /** Unit normal per vertex (x, y, z), when computed. */
  normals?: Float32Array;
}

/**
 * Writes the cross product (b − a) × (c − a) of the triangle whose first coordinates sit at offsets
 * `a`, `b`, `c` of `p` into `out`: the face normal scaled by twice the triangle's area.
 */
export function faceCross(p: ArrayLike<number>, a: number, b: number, c: number, out: Float64Array): void {
  const ux = p[b] - p[a];
  const uy = p[b + 1] - p[a + 1];
  const uz = p[b + 2] - p[a + 2];
  const vx = p[c] - p[a];
  const vy = p[c + 1] - p[a + 1];
  const vz = p[c + 2] - p[a + 2];
  out[0] = uy * vz - uz * vy;
  out[1] = uz * vx - ux * vz;
  out[2] = ux * vy - uy * vx;
}

/**
 * Drops vertices no triangle uses and renumbers the rest in order of first use.
 * Returns the same mesh object when every vertex is used.
 */
export function compactVertices(mesh: TriangleMesh): TriangleMesh {
  const { positions, indices, normals } = mesh;
  const count = positions.length / 3;
  const remap = new Int32Array(count).fill(-1);
  let used = 0;
  for (let t = 0; t < indices.length; t++) {
    const v = indices[t];
    if (remap[v] < 0) remap[v] = used++;
  }
  if (used === count) {
    let ordered = true;
    for (let v = 0; v < count && ordered; v++) ordered = remap[v] === v;
    if (ordered) return mesh;
  }
  const outPositions = new Float32Array(used * 3);
  const outNormals = normals ? new Float32Array(used * 3) : undefined;
  for (let v = 0; v < count; v++) {
    const r = remap[v];
    if (r < 0) continue;
    outPositions[r * 3] = positions[v * 3];
    outPositions[r * 3 + 1] = positions[v * 3 + 1];
    outPositions[r * 3 + 2] = positions[v * 3 + 2];
    if (outNormals && normals) {
      outNormals[r * 3] = normals[v * 3];
      outNormals[r * 3 + 1] = normals[v * 3 + 1];
      outNormals[r * 3 + 2] = normals[v * 3 + 2];
    }
  }
  const outIndices = new Uint32Array(indices.length);
  for (let t = 0; t < indices.length; t++) outIndices[t] = remap[indices[t]];
  return outNormals ? { positions: outPositions, indices: outIndices, normals: outNormals } : { positions: outPositions, indices: outIndices };
}
