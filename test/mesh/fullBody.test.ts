/**
 * A full-body-sized case (the real label map at 1.5 mm, stacked to 90 cm: 244 × 202 × 600 voxels,
 * 4.8 M triangles straight out of marching cubes) must come out light enough for a headset:
 * under 500 k triangles and 15 MB by default, and within any tighter triangle budget asked for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabelMap } from '../../mesh/grid.ts';
import type { StructureSpec } from '../../mesh/structure.ts';
import { meshLabelMap } from '../../server/mesh/meshLabelMap.ts';
import { structureSpecs } from '../../server/mesh/structureSpecs.ts';
import { exampleSeg, stackedCase, totalV2Names } from './labelMaps.ts';
import { validateGlb } from './readGlb.ts';

let body: LabelMap;
let specs: StructureSpec[];

beforeAll(async () => {
  body = stackedCase(await exampleSeg(), 1.5, 10);
  specs = structureSpecs([...(await totalV2Names())].map(([label, name]) => ({ label, name })));
});

describe('a full-body-sized case', () => {
  it('stays under 500 k triangles and 15 MB, closed, one mesh per structure, valid glTF', async () => {
    const result = await meshLabelMap(body, specs);
    expect(result.isosurfaceTriangles).toBeGreaterThan(2_000_000);
    expect(result.triangles).toBeLessThanOrEqual(500_000);
    expect(result.glb.byteLength).toBeLessThan(15 * 1024 * 1024);
    expect(result.structures).toHaveLength(41);
    for (const s of result.structures) expect(s.watertight, s.name).toBe(true);
    const report = await validateGlb(result.glb);
    expect(report.issues.numErrors).toBe(0);
  });

  it('keeps within a tighter triangle budget, shared by surface area', async () => {
    const result = await meshLabelMap(body, specs, { maxTriangles: 150_000 });
    expect(result.triangles).toBeLessThanOrEqual(150_000);
    expect(result.triangles).toBeGreaterThan(140_000);
    for (const s of result.structures) expect(s.watertight, s.name).toBe(true);
    // Bigger surfaces get more triangles.
    const liver = result.structures.find((s) => s.name === 'liver')!;
    const kidney = result.structures.find((s) => s.name === 'kidney_left')!;
    expect(liver.surfaceCm2).toBeGreaterThan(kidney.surfaceCm2);
    expect(liver.triangles).toBeGreaterThan(kidney.triangles);
  });
});
