/**
 * STL for 3D printing: binary, millimetres, LPS; one file per structure or all merged; read back with
 * the right triangle count and coordinates.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCaseMeshes, type CaseMeshes } from '../../mesh/buildCaseMeshes.ts';
import { applyAffine, type LabelMap } from '../../mesh/grid.ts';
import { readStl, writeStl } from '../../mesh/stl.ts';
import { stlFileName, writeMergedStl, writeStlFiles } from '../../server/mesh/meshFiles.ts';
import { exampleSeg, plainSpecs, totalV2Names } from './labelMaps.ts';

let seg: LabelMap;
let meshed: CaseMeshes;
let dir: string;

beforeAll(async () => {
  seg = await exampleSeg();
  meshed = await buildCaseMeshes(seg, plainSpecs(await totalV2Names()));
  dir = await mkdtemp(path.join(tmpdir(), 'holocase-stl-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('writeStl', () => {
  it('writes one structure as binary STL that reads back triangle for triangle, in LPS mm', () => {
    const liver = meshed.meshes.find((m) => m.structure.name === 'liver')!;
    const bytes = writeStl(liver.mesh);
    expect(bytes.length).toBe(84 + 50 * liver.structure.triangles);
    const stl = readStl(bytes);
    expect(stl.header.startsWith('solid')).toBe(false);
    expect(stl.triangles).toBe(liver.structure.triangles);
    const { positions, indices } = liver.mesh;
    for (let f = 0; f < stl.triangles; f++) {
      for (let c = 0; c < 3; c++) {
        for (let a = 0; a < 3; a++) expect(stl.vertices[f * 9 + c * 3 + a]).toBe(positions[indices[f * 3 + c] * 3 + a]);
      }
      // Facet normals are unit length.
      const n = [stl.normals[f * 3], stl.normals[f * 3 + 1], stl.normals[f * 3 + 2]];
      expect(Math.hypot(n[0], n[1], n[2])).toBeCloseTo(1, 4);
    }
  });

  it('places the structure where the CT has it (LPS mm through the affine)', () => {
    const liver = meshed.meshes.find((m) => m.structure.name === 'liver')!;
    const stl = readStl(writeStl(liver.mesh));
    // Bounding box of the liver's voxels in LPS (voxel centres ± half a voxel, through the affine).
    const [nx, ny] = seg.dims;
    const min = [Infinity, Infinity, Infinity];
    const max = [-Infinity, -Infinity, -Infinity];
    seg.data.forEach((label, n) => {
      if (label !== liver.structure.label) return;
      const p = applyAffine(seg.affine, [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))]);
      for (let a = 0; a < 3; a++) {
        min[a] = Math.min(min[a], p[a]);
        max[a] = Math.max(max[a], p[a]);
      }
    });
    const smin = [Infinity, Infinity, Infinity];
    const smax = [-Infinity, -Infinity, -Infinity];
    for (let v = 0; v < stl.vertices.length; v += 3) {
      for (let a = 0; a < 3; a++) {
        smin[a] = Math.min(smin[a], stl.vertices[v + a]);
        smax[a] = Math.max(smax[a], stl.vertices[v + a]);
      }
    }
    // Within 1.5 voxels (3 mm grid) of the voxel extent on every side, in millimetres.
    for (let a = 0; a < 3; a++) {
      expect(Math.abs(smin[a] - min[a])).toBeLessThan(4.5);
      expect(Math.abs(smax[a] - max[a])).toBeLessThan(4.5);
    }
  });

  it('writes one file per structure, and one merged file with every triangle', async () => {
    const files = await writeStlFiles(meshed.meshes, path.join(dir, 'parts'));
    expect(files).toHaveLength(meshed.meshes.length);
    expect((await readdir(path.join(dir, 'parts'))).sort()).toEqual(meshed.meshes.map((m) => stlFileName(m.structure.name)).sort());
    for (const [i, file] of files.entries()) {
      expect(readStl(new Uint8Array(await readFile(file))).triangles).toBe(meshed.meshes[i].structure.triangles);
    }
    const merged = path.join(dir, 'case.stl');
    await writeMergedStl(meshed.meshes, merged);
    const stl = readStl(new Uint8Array(await readFile(merged)));
    expect(stl.triangles).toBe(meshed.structures.reduce((s, m) => s + m.triangles, 0));
    // No temporary files left behind.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a truncated file with a clear reason', () => {
    const bytes = writeStl(meshed.meshes[0].mesh);
    expect(() => readStl(bytes.subarray(0, bytes.length - 10))).toThrow(/holds/);
  });
});
