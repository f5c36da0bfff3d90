/**
 * The mesh quality measurement itself, on cases whose answer is known: a mesh lying exactly on the voxel
 * boundary is 0 away from it, one grown by d everywhere is d away (both ways), a missing part of the
 * surface shows up in the voxel → mesh direction, and volumes compare with the voxel count.
 */
import { describe, expect, it } from 'vitest';
import { composeAffine, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import type { StructureMesh } from '../../mesh/structure.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';
import { meshQualityReport, surfaceDistances } from './meshQuality.ts';

/** A 40×30×20-voxel grid (0.8 × 0.8 × 1 mm, shifted origin) with a box of label 3 at voxels 10–29, 5–24, 4–15. */
function boxLabels(): LabelMap {
  const dims: Vec3 = [40, 30, 20];
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 4; k <= 15; k++) for (let j = 5; j <= 24; j++) for (let i = 10; i <= 29; i++) data[i + dims[0] * (j + dims[1] * k)] = 3;
  return { dims, affine: composeAffine([-12, 7, 30], [0.8, 0.8, 1], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), data };
}

/** An axis-aligned box mesh in LPS mm from corner lo to corner hi (12 triangles, outward). */
function boxMesh(lo: Vec3, hi: Vec3): TriangleMesh {
  const p: number[] = [];
  for (let c = 0; c < 8; c++) p.push(c & 1 ? hi[0] : lo[0], c & 2 ? hi[1] : lo[1], c & 4 ? hi[2] : lo[2]);
  const faces = [0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4, 2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5];
  return { positions: Float32Array.from(p), indices: Uint32Array.from(faces) };
}

/** The box's voxel boundary in LPS mm: voxel centres at origin + index · spacing, faces half a voxel out. */
const LO: Vec3 = [-12 + 9.5 * 0.8, 7 + 4.5 * 0.8, 30 + 3.5];
const HI: Vec3 = [-12 + 29.5 * 0.8, 7 + 24.5 * 0.8, 30 + 15.5];

describe('surface distances to the voxel boundary', () => {
  it('are zero for a mesh on the boundary and d for one grown by d', () => {
    const labels = boxLabels();
    const exact = surfaceDistances(labels, 3, boxMesh(LO, HI));
    expect(exact.hausdorff95Mm).toBeLessThan(1e-3);
    expect(exact.boundaryFaces).toBe(2 * (20 * 20 + 20 * 12 + 20 * 12));
    const d = 0.3;
    const grown = surfaceDistances(labels, 3, boxMesh([LO[0] - d, LO[1] - d, LO[2] - d], [HI[0] + d, HI[1] + d, HI[2] + d]));
    expect(grown.meshToVoxelsP95Mm).toBeGreaterThan(d - 0.01);
    expect(grown.meshToVoxelsP95Mm).toBeLessThan(d * Math.sqrt(3) + 0.01);
    expect(grown.voxelsToMeshP95Mm).toBeCloseTo(d, 2);
  });

  it('see a surface that covers only part of the structure from the voxels’ side', () => {
    const labels = boxLabels();
    // A mesh around the lower half in z only: the top faces of the voxels are 6 mm from it.
    const half = surfaceDistances(labels, 3, boxMesh(LO, [HI[0], HI[1], LO[2] + 6]));
    expect(half.meshToVoxelsP95Mm).toBeLessThan(6.01);
    expect(half.voxelsToMeshP95Mm).toBeGreaterThan(3);
    expect(half.hausdorff95Mm).toBe(half.voxelsToMeshP95Mm);
  });
});

describe('meshQualityReport', () => {
  it('reports volume error, triangles, closedness and distance in voxels', () => {
    const labels = boxLabels();
    const mesh = boxMesh(LO, HI);
    const structure = { label: 3, name: 'box', displayName: 'Box', group: 'other' as const, color: '#808080', voxelVolumeMl: 0, meshVolumeMl: 0, surfaceCm2: 0, triangles: 12, watertight: true, simplifyErrorMm: 0 };
    const [row] = meshQualityReport(labels, [{ structure, mesh, centroidLpsMm: [0, 0, 0] } satisfies StructureMesh]);
    expect(row.voxelVolumeMl).toBeCloseTo((20 * 20 * 12 * 0.64) / 1000, 3);
    expect(row.volumeErrorPct).toBeCloseTo(0, 1);
    expect(row).toMatchObject({ label: 3, name: 'box', triangles: 12, watertight: true });
    expect(row.hausdorff95Voxels).toBeLessThan(0.01);
  });
});
