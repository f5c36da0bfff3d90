/**
 * Simplification keeps surfaces closed: meshoptimizer's collapses within the error budget, and the
 * repairs for what aggressive collapses leave behind (back-to-back pairs, pinched edges).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCaseMeshes } from '../../mesh/buildCaseMeshes.ts';
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { separatePinchedEdges } from '../../mesh/manifoldRepair.ts';
import { checkEdges, enclosedVolume } from '../../mesh/meshMetrics.ts';
import { dropBackToBackPairs, simplifierReady, simplify } from '../../mesh/simplify.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';
import { drawBlobs } from './labelMaps.ts';

beforeAll(() => simplifierReady());

/** A closed tetrahedron on vertices a, b, c, d, wound so its normals face outwards. */
function tetrahedron(a: number, b: number, c: number, d: number, positions?: Float32Array): number[] {
  const faces = [a, c, b, a, b, d, b, c, d, c, a, d];
  if (positions && enclosedVolume({ positions, indices: Uint32Array.from(faces) }) < 0) {
    for (let f = 0; f < faces.length; f += 3) [faces[f + 1], faces[f + 2]] = [faces[f + 2], faces[f + 1]];
  }
  return faces;
}

describe('manifold repairs', () => {
  it('gives two solids that share only an edge an edge each, closed and with the same volume', () => {
    // Two tetrahedra on opposite sides of the shared edge 0–1.
    const positions = Float32Array.from([0, 0, 0, 1, 0, 0, 0.5, 1, 0.2, 0.5, 0.3, 1, 0.5, -1, 0.2, 0.5, -0.3, -1]);
    const first = tetrahedron(0, 1, 2, 3, positions);
    const second = tetrahedron(1, 0, 4, 5, positions);
    const mesh: TriangleMesh = { positions, indices: Uint32Array.from([...first, ...second]) };
    const volumes = [first, second].map((t) => enclosedVolume({ positions, indices: Uint32Array.from(t) }));
    expect(volumes.every((v) => v > 0)).toBe(true);
    expect(checkEdges(mesh).nonManifoldEdges).toBe(1);
    const repaired = separatePinchedEdges(mesh);
    expect(checkEdges(repaired)).toEqual({ watertight: true, boundaryEdges: 0, nonManifoldEdges: 0, misorientedEdges: 0 });
    // One midpoint vertex, and the two faces of one pair each split in two.
    expect(repaired.positions.length / 3).toBe(7);
    expect(repaired.indices.length / 3).toBe(10);
    expect(enclosedVolume(repaired)).toBeCloseTo(volumes[0] + volumes[1], 6);
  });

  it('separates edges pinched next to each other (two pinched edges meeting at a vertex)', () => {
    // Three tetrahedra around vertex 0: the first shares edge 0–1 with the second and edge 0–2 with the third.
    const positions = Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0.2, 0.2, 1, 0.6, -1, -0.3, 0.5, -0.4, -1, -1, 0.6, -0.3, -0.4, 0.5, -1]);
    const tets = [tetrahedron(0, 1, 2, 3, positions), tetrahedron(1, 0, 4, 5, positions), tetrahedron(0, 2, 6, 7, positions)];
    const mesh: TriangleMesh = { positions, indices: Uint32Array.from(tets.flat()) };
    expect(checkEdges(mesh).nonManifoldEdges).toBe(2);
    const repaired = separatePinchedEdges(mesh);
    expect(checkEdges(repaired).watertight).toBe(true);
    const total = tets.reduce((sum, t) => sum + enclosedVolume({ positions, indices: Uint32Array.from(t) }), 0);
    expect(enclosedVolume(repaired)).toBeCloseTo(total, 6);
  });

  it('drops back-to-back copies of a triangle and nothing else', () => {
    const indices = Uint32Array.from([0, 1, 2, 2, 1, 0, 0, 1, 3, 1, 2, 3, 3, 2, 1]);
    expect([...dropBackToBackPairs(indices)]).toEqual([0, 1, 3]);
  });
});

describe('simplify', () => {
  it('reduces a smoothed sphere within the error budget and keeps it closed', async () => {
    const centre: Vec3 = [0, 0, 0];
    const radius = 25;
    const labels = drawBlobs([60, 60, 60], composeAffine([-29.5, -29.5, -29.5], [1, 1, 1], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), [
      { label: 1, centreLpsMm: centre, radiiMm: [radius, radius, radius] },
    ]);
    const spec = { label: 1, name: 'ball', displayName: 'Ball', group: 'other' as const, color: '#808080' };
    const fine = await buildCaseMeshes(labels, [spec], { errorMm: 0.05 });
    const coarse = await buildCaseMeshes(labels, [spec], { errorMm: 0.5 });
    const [f, c] = [fine.meshes[0], coarse.meshes[0]];
    expect(c.structure.triangles).toBeLessThan(f.structure.triangles / 3);
    expect(c.structure.simplifyErrorMm).toBeLessThanOrEqual(0.5);
    expect(checkEdges(c.mesh).watertight).toBe(true);
    // Independent check of the deviation: every coarse vertex stays near the true sphere (the fine
    // mesh's own spread plus the budget).
    const spread = (mesh: TriangleMesh) => {
      let worst = 0;
      for (let v = 0; v < mesh.positions.length; v += 3) {
        worst = Math.max(worst, Math.abs(Math.hypot(mesh.positions[v], mesh.positions[v + 1], mesh.positions[v + 2]) - radius));
      }
      return worst;
    };
    expect(spread(c.mesh)).toBeLessThan(spread(f.mesh) + 0.5 + 0.2);
  });

  it('keeps the input when the target cannot be reached with a closed surface, never opening it', () => {
    // A single tetrahedron cannot lose triangles and stay closed.
    const mesh: TriangleMesh = { positions: Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]), indices: Uint32Array.from(tetrahedron(0, 1, 2, 3)) };
    const result = simplify(mesh, { targetTriangles: 1, errorMm: 10 });
    expect(checkEdges(result.mesh).watertight).toBe(true);
    expect(result.mesh.indices.length).toBe(12);
  });
});
