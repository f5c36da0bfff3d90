/**
 * Shapes with known truth on awkward grids: anisotropic spacing, oblique (rotated) and mirrored axes.
 * Volume, position and smoothness are checked against the analytic shape, not against our own output.
 */
import { describe, expect, it } from 'vitest';
import { buildCaseMeshes } from '../../mesh/buildCaseMeshes.ts';
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { checkEdges, enclosedVolume, volumeCentroid } from '../../mesh/meshMetrics.ts';
import type { StructureSpec } from '../../mesh/structure.ts';
import { drawBlobs, rotation } from './labelMaps.ts';
import { deepIntrusions, distance } from './meshChecks.ts';

const SPECS: StructureSpec[] = [
  { label: 1, name: 'a', displayName: 'A', group: 'organ', color: '#aa4444' },
  { label: 2, name: 'b', displayName: 'B', group: 'vessel', color: '#4444aa' },
];

const CENTRE: Vec3 = [12.5, -40.25, 103.75];
const RADIUS = 20;
const SPHERE_ML = ((4 / 3) * Math.PI * RADIUS ** 3) / 1000;

/** A grid around CENTRE with the given spacing and rotation, origin placed so the sphere fits. */
function obliqueGrid(spacing: Vec3, degrees: Vec3, mirror = false) {
  const dirs = rotation(...degrees);
  if (mirror) dirs[0] = [-dirs[0][0], -dirs[0][1], -dirs[0][2]];
  const dims = spacing.map((s) => Math.ceil((2 * RADIUS + 12) / s)) as Vec3;
  // Origin so that the grid's middle sits on CENTRE (offset by a fraction of a voxel).
  const origin = [0, 1, 2].map((r) => CENTRE[r] - [0, 1, 2].reduce((sum, a) => sum + dirs[a][r] * spacing[a] * ((dims[a] - 1) / 2 + 0.37), 0)) as Vec3;
  return { dims, affine: composeAffine(origin, spacing, dirs) };
}

describe('a sphere on an oblique, anisotropic grid', () => {
  const spacing: Vec3 = [0.7, 0.9, 2.5];
  const { dims, affine } = obliqueGrid(spacing, [20, -35, 50]);
  const labels = drawBlobs(dims, affine, [{ label: 1, centreLpsMm: CENTRE, radiiMm: [RADIUS, RADIUS, RADIUS] }]);

  it('has the sphere\'s volume and position, and is round rather than stepped', async () => {
    const { meshes } = await buildCaseMeshes(labels, SPECS);
    expect(meshes).toHaveLength(1);
    const { mesh, structure } = meshes[0];
    expect(checkEdges(mesh).watertight).toBe(true);

    // Volume: against the voxels and against the true sphere (33.5 mL).
    const ml = enclosedVolume(mesh) / 1000;
    expect(Math.abs(ml / structure.voxelVolumeMl - 1)).toBeLessThan(0.03);
    expect(Math.abs(ml / SPHERE_ML - 1)).toBeLessThan(0.03);

    // Position: the solid's centroid on the true centre (LPS mm), well within one voxel.
    expect(distance(volumeCentroid(mesh), CENTRE)).toBeLessThan(0.5);

    // Shape: every vertex near the true radius, normals close to radial (a staircase would tilt them
    // towards the grid axes by up to 45°).
    const p = mesh.positions;
    const n = mesh.normals!;
    const deviations: number[] = [];
    for (let v = 0; v < p.length; v += 3) {
      const r: Vec3 = [p[v] - CENTRE[0], p[v + 1] - CENTRE[1], p[v + 2] - CENTRE[2]];
      const len = Math.hypot(...r);
      expect(Math.abs(len - RADIUS)).toBeLessThan(1.25);
      const cos = (r[0] * n[v] + r[1] * n[v + 1] + r[2] * n[v + 2]) / len;
      deviations.push((Math.acos(Math.min(1, cos)) * 180) / Math.PI);
    }
    deviations.sort((a, b) => a - b);
    expect(deviations[Math.floor(deviations.length * 0.95)]).toBeLessThan(12);
  });

  it('comes out the same on a mirrored grid (negative determinant), facing outwards', async () => {
    const mirrored = obliqueGrid(spacing, [20, -35, 50], true);
    const m = await buildCaseMeshes(drawBlobs(mirrored.dims, mirrored.affine, [{ label: 1, centreLpsMm: CENTRE, radiiMm: [RADIUS, RADIUS, RADIUS] }]), SPECS);
    const { mesh, structure } = m.meshes[0];
    expect(checkEdges(mesh).watertight).toBe(true);
    const ml = enclosedVolume(mesh) / 1000;
    expect(ml).toBeGreaterThan(0);
    expect(Math.abs(ml / structure.voxelVolumeMl - 1)).toBeLessThan(0.03);
    expect(distance(volumeCentroid(mesh), CENTRE)).toBeLessThan(0.5);
  });
});

describe('two structures sharing a boundary', () => {
  it('keep to their own side of it', async () => {
    // A sphere split by the plane through its centre normal to (1, 1, 0)/√2: label 1 on the minus side.
    const spacing: Vec3 = [1.2, 1.2, 2];
    const { dims, affine } = obliqueGrid(spacing, [10, 5, -15]);
    const labels = drawBlobs(dims, affine, [{ label: 1, centreLpsMm: CENTRE, radiiMm: [RADIUS, RADIUS, RADIUS] }]);
    const normal = [Math.SQRT1_2, Math.SQRT1_2, 0];
    for (let k = 0, n = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        for (let i = 0; i < dims[0]; i++, n++) {
          if (labels.data[n] === 0) continue;
          const p = [0, 1, 2].map((r) => affine[r * 4] * i + affine[r * 4 + 1] * j + affine[r * 4 + 2] * k + affine[r * 4 + 3] - CENTRE[r]);
          if (p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2] > 0) labels.data[n] = 2;
        }
      }
    }
    const { meshes } = await buildCaseMeshes(labels, SPECS);
    expect(meshes.map((m) => m.structure.label)).toEqual([1, 2]);
    for (const m of meshes) {
      expect(checkEdges(m.mesh).watertight).toBe(true);
      expect(deepIntrusions(labels, m.structure.label, m.mesh).deep).toBe(0);
      // Signed distance past the plane, towards the other half: at most a third of the finest voxel
      // (voxels straddle the plane, so the segmented boundary itself is only that exact).
      const side = m.structure.label === 1 ? 1 : -1;
      let worst = -Infinity;
      for (let v = 0; v < m.mesh.positions.length; v += 3) {
        const d = [0, 1, 2].reduce((s, a) => s + (m.mesh.positions[v + a] - CENTRE[a]) * normal[a], 0) * side;
        worst = Math.max(worst, d);
      }
      expect(worst).toBeLessThan(Math.hypot(1.2, 1.2) / 2 + 0.4);
    }
  });
});
