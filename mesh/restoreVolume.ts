/**
 * Gives a smoothed surface back the volume of the voxels it was made from. Marching cubes cuts every
 * convex voxel corner and edge, and smoothing rounds thin parts, so thin structures (vessels, ribs,
 * cartilage) come out a few per cent small; the voxel count is the segmentation's measurement, so the
 * surface is moved along its vertex normals by the uniform distance d = ΔV / area that closes the gap
 * (the local form of the volume rescaling in Desbrun et al., "Implicit fairing", 1999), repeated a few
 * times because the area changes as the surface moves. The move is capped so it can never be more than
 * a fraction of a voxel.
 * Isomorphic: no Node built-ins here.
 */
import { enclosedVolume, surfaceArea } from './meshMetrics.ts';
import { vertexNormals } from './normals.ts';
import type { TriangleMesh } from './triangleMesh.ts';
import { withDefaults } from './withDefaults.ts';

export interface RestoreVolumeOptions {
  /** Largest total move along the normals, in the mesh's units (e.g. ⅓ of the smallest voxel spacing). */
  maxOffset: number;
  /** Stop when the volume is within this fraction of the target. */
  tolerance?: number;
  /** Most rounds of measuring and moving. */
  rounds?: number;
}

export const RESTORE_VOLUME_DEFAULTS = { tolerance: 0.002, rounds: 4 };

export interface RestoredVolume {
  mesh: TriangleMesh;
  /** Total distance moved along the normals (positive = outwards), in the mesh's units. */
  offset: number;
}

/**
 * 1. Measure volume V and area A; stop when |V − target| ≤ tolerance·target.
 * 2. Move every vertex by d = (target − V) / A along its area-weighted normal (d capped so the total
 *    stays within ±maxOffset); repeat.
 */
export function restoreVolume(mesh: TriangleMesh, targetVolume: number, options: RestoreVolumeOptions): RestoredVolume {
  const { maxOffset, tolerance, rounds } = withDefaults(RESTORE_VOLUME_DEFAULTS, options);
  let positions = mesh.positions;
  let total = 0;
  for (let round = 0; round < rounds; round++) {
    // 1. Measure.
    const current = { positions, indices: mesh.indices };
    const volume = enclosedVolume(current);
    const area = surfaceArea(current);
    if (area <= 0 || Math.abs(volume - targetVolume) <= tolerance * targetVolume) break;

    // 2. Move.
    let d = (targetVolume - volume) / area;
    d = Math.max(-maxOffset - total, Math.min(maxOffset - total, d));
    if (Math.abs(d) < 1e-9) break;
    const normals = vertexNormals(current);
    const moved = new Float32Array(positions.length);
    for (let i = 0; i < positions.length; i++) moved[i] = positions[i] + d * normals[i];
    positions = moved;
    total += d;
  }
  return { mesh: { positions, indices: mesh.indices }, offset: total };
}
