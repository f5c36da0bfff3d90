/**
 * Measurements of a closed triangle mesh: enclosed volume, surface area, volume centroid, and whether
 * it is watertight. Units follow the positions (mm in, mm³ / mm² out).
 * Isomorphic: no Node built-ins here.
 */
import type { Vec3 } from './grid.ts';
import { faceCross, type TriangleMesh } from './triangleMesh.ts';

/** Signed volume enclosed by the mesh (divergence theorem); positive when triangles face outwards. */
export function enclosedVolume(mesh: TriangleMesh): number {
  const { positions: p, indices: t } = mesh;
  let sum = 0;
  for (let n = 0; n < t.length; n += 3) {
    const a = t[n] * 3;
    const b = t[n + 1] * 3;
    const c = t[n + 2] * 3;
    // a · (b × c)
    sum +=
      p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1]) +
      p[a + 1] * (p[b + 2] * p[c] - p[b] * p[c + 2]) +
      p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
  }
  return sum / 6;
}

/** Total triangle area. */
export function surfaceArea(mesh: TriangleMesh): number {
  const { positions: p, indices: t } = mesh;
  const cross = new Float64Array(3);
  let sum = 0;
  for (let n = 0; n < t.length; n += 3) {
    const a = t[n] * 3;
    const b = t[n + 1] * 3;
    const c = t[n + 2] * 3;
    faceCross(p, a, b, c, cross);
    sum += Math.hypot(cross[0], cross[1], cross[2]);
  }
  return sum / 2;
}

/**
 * Centroid of the enclosed solid (not of the vertices), so it compares with a voxel centroid.
 * Falls back to the vertex mean when the enclosed volume is zero.
 */
export function volumeCentroid(mesh: TriangleMesh): Vec3 {
  const { positions: p, indices: t } = mesh;
  let volume = 0;
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (let n = 0; n < t.length; n += 3) {
    const a = t[n] * 3;
    const b = t[n + 1] * 3;
    const c = t[n + 2] * 3;
    const v =
      p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1]) +
      p[a + 1] * (p[b + 2] * p[c] - p[b] * p[c + 2]) +
      p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
    volume += v;
    cx += v * (p[a] + p[b] + p[c]);
    cy += v * (p[a + 1] + p[b + 1] + p[c + 1]);
    cz += v * (p[a + 2] + p[b + 2] + p[c + 2]);
  }
  if (Math.abs(volume) < 1e-12) {
    const count = p.length / 3;
    let mx = 0;
    let my = 0;
    let mz = 0;
    for (let v = 0; v < p.length; v += 3) {
      mx += p[v];
      my += p[v + 1];
      mz += p[v + 2];
    }
    return count ? [mx / count, my / count, mz / count] : [0, 0, 0];
  }
  // Each signed tetrahedron (origin, a, b, c) has volume v/6 and centroid (a + b + c)/4.
  return [cx / (4 * volume), cy / (4 * volume), cz / (4 * volume)];
}

export interface EdgeCheck {
  /** Every edge is used by exactly two triangles, once in each direction. */
  watertight: boolean;
  /** Edges used by one triangle only (holes). */
  boundaryEdges: number;
  /** Edges used by more than two triangles. */
  nonManifoldEdges: number;
  /** Edges used twice in the same direction (flipped neighbours). */
  misorientedEdges: number;
}

/**
 * Checks that a mesh is closed and consistently oriented: each undirected edge must appear exactly
 * twice, in opposite directions. Sorts one key per directed edge (key = 2·edge + direction).
 */
export function checkEdges(mesh: TriangleMesh): EdgeCheck {
  const t = mesh.indices;
  const n = mesh.positions.length / 3;
  const keys = new Float64Array(t.length);
  for (let f = 0; f < t.length; f += 3) {
    for (let e = 0; e < 3; e++) {
      const a = t[f + e];
      const b = t[f + ((e + 1) % 3)];
      keys[f + e] = a < b ? (a * n + b) * 2 : (b * n + a) * 2 + 1;
    }
  }
  keys.sort();
  let boundaryEdges = 0;
  let nonManifoldEdges = 0;
  let misorientedEdges = 0;
  for (let i = 0; i < keys.length; ) {
    const edge = Math.floor(keys[i] / 2);
    let j = i;
    let forward = 0;
    while (j < keys.length && Math.floor(keys[j] / 2) === edge) {
      if (keys[j] % 2 === 0) forward++;
      j++;
    }
    const uses = j - i;
    if (uses === 1) boundaryEdges++;
    else if (uses > 2) nonManifoldEdges++;
    else if (forward !== 1) misorientedEdges++;
    i = j;
  }
  return {
    watertight: boundaryEdges === 0 && nonManifoldEdges === 0 && misorientedEdges === 0,
    boundaryEdges,
    nonManifoldEdges,
    misorientedEdges,
  };
}
