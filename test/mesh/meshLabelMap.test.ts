/**
 * The Node driver: worker threads give the same result as the calling thread, report progress,
 * stop on cancellation, and refuse label maps that cannot be meshed with a reason.
 */
import { describe, expect, it } from 'vitest';
import type { LabelMap } from '../../mesh/grid.ts';
import { isHolocaseError } from '../../server/errors.ts';
import { labelMapFromVolume } from '../../server/mesh/labelMapFromVolume.ts';
import { meshLabelMap } from '../../server/mesh/meshLabelMap.ts';
import { exampleSeg, plainSpecs, totalV2Names } from './labelMaps.ts';

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('meshLabelMap', () => {
  it('gives the same meshes on worker threads as on the calling thread, with progress up to 1', async () => {
    const seg = await exampleSeg();
    const specs = plainSpecs(await totalV2Names());
    const fractions: number[] = [];
    // A headset budget below the desktop level's, so both levels are finished on the workers.
    const parallel = await meshLabelMap(seg, specs, { workers: 2, minVoxelsPerWorker: 0, xrMaxTriangles: 15_000, onProgress: (p) => fractions.push(p.fraction) });
    const inline = await meshLabelMap(seg, specs, { workers: 0, xrMaxTriangles: 15_000 });
    expect(parallel.workers).toBe(2);
    expect(inline.workers).toBe(0);
    // Both threads take structures (not one doing all the work while the other waits).
    expect(parallel.structuresPerWorker.length).toBe(2);
    expect(Math.min(...parallel.structuresPerWorker)).toBeGreaterThan(0);
    expect(parallel.structuresPerWorker.reduce((a, b) => a + b, 0)).toBe(parallel.structures.length);
    expect(inline.structuresPerWorker).toEqual([]);
    expect(parallel.structures).toEqual(inline.structures);
    expect(parallel.centerLpsMm).toEqual(inline.centerLpsMm);
    expect(parallel.xr.triangles).toBeLessThanOrEqual(15_000);
    expect(parallel.xr.triangles).toBeLessThan(parallel.triangles);
    expect(parallel.xr.structures).toEqual(inline.xr.structures);
    expect(parallel.xr.glb).toEqual(inline.xr.glb);
    parallel.meshes.forEach((m, i) => {
      expect(m.mesh.positions).toEqual(inline.meshes[i].mesh.positions);
      expect(m.mesh.indices).toEqual(inline.meshes[i].mesh.indices);
    });
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
    expect(parallel.scannedVoxels).toBeGreaterThan(800_000);
  });

  it('stops when cancelled', async () => {
    const seg = await exampleSeg();
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    const promise = meshLabelMap(seg, plainSpecs(await totalV2Names()), {
      workers: 2,
      minVoxelsPerWorker: 0,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.fraction > 0.2) controller.abort(reason);
      },
    });
    expect(await caught(promise)).toBe(reason);
  });

  it('names labels that are not in the table, and refuses maps with nothing to mesh', async () => {
    const seg = await exampleSeg();
    const partial = await meshLabelMap(seg, [{ label: 5, name: 'liver', displayName: 'Liver', group: 'organ', color: '#a0522d' }], { workers: 1 });
    expect(partial.structures.map((s) => s.name)).toEqual(['liver']);
    expect(partial.warnings[0]).toMatch(/label values 1, 2, 3, .* not in the label table/);

    const empty: LabelMap = { dims: [4, 4, 4], affine: seg.affine, data: new Uint8Array(64) };
    const error = await caught(meshLabelMap(empty, [{ label: 1, name: 'x', displayName: 'X', group: 'other', color: '#000000' }]));
    expect(isHolocaseError(error) && error.code).toBe('LABELS_INVALID');
    expect((error as Error).message).toMatch(/empty/);

    const short: LabelMap = { dims: [4, 4, 4], affine: seg.affine, data: new Uint8Array(10) };
    expect(isHolocaseError(await caught(meshLabelMap(short, [])))).toBe(true);
  });
});

describe('labelMapFromVolume', () => {
  const grid = { dims: [2, 2, 1] as [number, number, number], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], meta: { source: 'nifti' as const } };

  it('accepts whole-number labels stored as float or signed integers', () => {
    const map = labelMapFromVolume({ ...grid, data: Float32Array.from([0, 1, 2, 300]) });
    expect(map.data).toBeInstanceOf(Uint16Array);
    expect([...map.data]).toEqual([0, 1, 2, 300]);
    expect(labelMapFromVolume({ ...grid, data: Int16Array.from([0, 1, 2, 3]) }).data).toBeInstanceOf(Uint8Array);
  });

  it('refuses a CT or probability map given as labels', () => {
    expect(() => labelMapFromVolume({ ...grid, data: Int16Array.from([-1000, 40, 0, 0]) }, 'ct.nii.gz')).toThrow(/ct\.nii\.gz is not a label map: voxel 0 holds -1000/);
    expect(() => labelMapFromVolume({ ...grid, data: Float32Array.from([0, 0.5, 1, 0]) })).toThrow(/holds 0\.5/);
  });
});

describe('worker count', () => {
  it('starts one worker per 8 M box voxels (at most the cores), none for a case smaller than that', async () => {
    const seg = await exampleSeg();
    const specs = plainSpecs(await totalV2Names());
    // example_seg scans 0.84 M box voxels: meshed on this thread, no worker start to pay for.
    expect((await meshLabelMap(seg, specs, { workers: 4 })).workers).toBe(0);
    expect((await meshLabelMap(seg, specs, { workers: 2, minVoxelsPerWorker: 400_000 })).workers).toBe(2);
  });
});
