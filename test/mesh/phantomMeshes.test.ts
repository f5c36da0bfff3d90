/**
 * Meshes stay true at any resolution. The CT phantom's chest at 0.8 × 0.8 × 1 mm (475 × 350 × 280
 * voxels, a clinical chest CT) goes through the rules model as `holocase run` sends it: a noisy bone
 * (ribs, spine and the rim of the contrast-filled aorta in one surface), a thin skin shell, lungs,
 * airway and vessels — the case whose bone used to defeat simplification, after which every other
 * structure was cut to a handful of triangles. (The whole 475 × 350 × 520 phantom at 0.8 mm, and at
 * 0.6 mm, is measured by the mesh benchmark.) The phantom's exact
 * 72-structure label map is meshed at 1.5 and 3 mm. For every structure of at least 1 mL, measured
 * against the label map it was made from (`meshQuality.ts`): a closed surface, at least 200 triangles,
 * volume within 3 % of the voxels, surface within one voxel of the voxel boundary (symmetric Hausdorff,
 * 95th percentile, in voxels of the smallest spacing); the case within 500 k triangles; and the
 * headset's level of detail within its budget, with one mesh (one draw call) per structure.
 */
import { describe, expect, it } from 'vitest';
import type { LabelMap } from '../../mesh/grid.ts';
import { meshLabelMap, type MeshLabelMapResult } from '../../server/mesh/meshLabelMap.ts';
import { structureSpecs } from '../../server/mesh/structureSpecs.ts';
import { loadModelBundle, segment } from '../../server/segment/segment.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { meshQualityReport, type StructureQuality } from './meshQuality.ts';
import { readCaseGlb } from './readGlb.ts';

/** Checks every structure of ≥ 1 mL and the case totals; returns the report for messages. */
async function expectTrueMeshes(labels: LabelMap, result: MeshLabelMapResult): Promise<StructureQuality[]> {
  const report = meshQualityReport(labels, result.meshes);
  const measured = report.filter((s) => s.voxelVolumeMl >= 1);
  expect(measured.length).toBeGreaterThan(0);
  for (const s of measured) {
    const line = JSON.stringify(s);
    expect(s.watertight, line).toBe(true);
    expect(s.triangles, line).toBeGreaterThanOrEqual(200);
    expect(Math.abs(s.volumeErrorPct), line).toBeLessThanOrEqual(3);
    expect(s.hausdorff95Voxels, line).toBeLessThanOrEqual(1);
  }
  expect(result.triangles).toBeLessThanOrEqual(500_000);
  expect(result.glb.byteLength).toBeLessThanOrEqual(15_000_000);

  // The headset's level: within its budget, closed, every structure kept as one mesh.
  expect(result.xr.triangles).toBeLessThanOrEqual(300_000);
  expect(result.xr.glb.byteLength).toBeLessThanOrEqual(8_000_000);
  expect(result.xr.triangles).toBeLessThanOrEqual(result.triangles);
  const xr = await readCaseGlb(result.xr.glb);
  expect(xr.meshCount).toBe(result.structures.length);
  expect(xr.structures.every((s) => s.primitives === 1)).toBe(true);
  for (const s of result.xr.structures) {
    expect(s.watertight, s.name).toBe(true);
    if (s.voxelVolumeMl >= 1) expect(s.triangles, s.name).toBeGreaterThanOrEqual(200);
  }
  return report;
}

describe('meshes of the phantom at clinical resolution', () => {
  it('0.8 mm through the rules model: skin, bone, lungs, airway and vessels all true, none starved', async () => {
    const phantom = makePhantom({ spacingMm: [0.8, 0.8, 1], fieldOfViewMm: [380, 280, 280], centerLpsMm: [0, 30, -130] });
    const segmented = await segment(phantom.ct, await loadModelBundle('hu-anatomy'));
    const labels: LabelMap = { dims: segmented.labels.dims, affine: segmented.labels.affine, data: segmented.labels.data };
    const result = await meshLabelMap(labels, structureSpecs(segmented.structures));
    const report = await expectTrueMeshes(labels, result);
    // The structures a noisy segmentation at this size used to lose (8 triangles of skin, 14 per lung).
    const names = report.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['skin', 'bone', 'lung_left', 'lung_right', 'airway']));
    const skin = report.find((s) => s.name === 'skin')!;
    expect(skin.triangles).toBeGreaterThan(2000);
  }, 900_000);

  for (const spacing of [1.5, 3]) {
    it(`${spacing} mm, the exact label map: all 72 structures true`, async () => {
      const phantom = makePhantom({ spacingMm: [spacing, spacing, spacing], noiseHu: 0 });
      const labels: LabelMap = { dims: phantom.labels.dims, affine: phantom.labels.affine, data: phantom.labels.data };
      const specs = structureSpecs(Object.entries(phantom.table).map(([label, name]) => ({ label: Number(label), name })));
      const result = await meshLabelMap(labels, specs);
      const report = await expectTrueMeshes(labels, result);
      expect(report).toHaveLength(72);
    }, 600_000);
  }
});

describe('the headset level under a tight budget', () => {
  it('holds its triangle and byte budgets by simplifying further, keeping every structure closed and above its floor', async () => {
    const phantom = makePhantom({ spacingMm: [3, 3, 3], noiseHu: 0 });
    const labels: LabelMap = { dims: phantom.labels.dims, affine: phantom.labels.affine, data: phantom.labels.data };
    const specs = structureSpecs(Object.entries(phantom.table).map(([label, name]) => ({ label: Number(label), name })));
    const byTriangles = await meshLabelMap(labels, specs, { xrMaxTriangles: 100_000 });
    expect(byTriangles.triangles).toBeGreaterThan(120_000);
    expect(byTriangles.xr.triangles).toBeLessThanOrEqual(100_000);
    expect(byTriangles.xr.triangles).toBeGreaterThan(95_000);
    expect(byTriangles.xr.glb.byteLength).toBeLessThan(byTriangles.glb.byteLength);
    for (const s of byTriangles.xr.structures) {
      expect(s.watertight, s.name).toBe(true);
      expect(s.triangles, s.name).toBeGreaterThanOrEqual(Math.min(200, byTriangles.structures.find((d) => d.name === s.name)!.triangles));
      expect(Math.abs(s.meshVolumeMl / s.voxelVolumeMl - 1), s.name).toBeLessThan(0.03);
    }
    // The desktop level is the same case (same centre, same structures), only finer.
    const desktop = await readCaseGlb(byTriangles.glb);
    const xr = await readCaseGlb(byTriangles.xr.glb);
    expect(xr.sceneExtras).toEqual(desktop.sceneExtras);
    expect(xr.structures.map((s) => s.nodeName)).toEqual(desktop.structures.map((s) => s.nodeName));

    // A byte budget smaller than the file: written again with fewer triangles until it fits.
    const maxBytes = Math.floor(byTriangles.glb.byteLength / 2);
    const byBytes = await meshLabelMap(labels, specs, { xrMaxBytes: maxBytes });
    expect(byBytes.xr.glb.byteLength).toBeLessThanOrEqual(maxBytes);
    expect(byBytes.xr.triangles).toBeLessThan(byBytes.triangles);
  }, 600_000);
});
