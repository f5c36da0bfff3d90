/**
 * `holocase mesh` as a person runs it: a real child process on the real label map with a label table
 * or a model bundle's table, writing the GLB and STL files; bad input exits with the reason.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStl } from '../../mesh/stl.ts';
import { CLASSES_TOTAL_V2, EXAMPLE_SEG } from './labelMaps.ts';
import { readCaseGlb } from './readGlb.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'holocase.mjs');
let dir: string;

async function mesh(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'mesh', ...args], { cwd: ROOT, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'holocase-mesh-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('holocase mesh', () => {
  it('meshes example_seg with the TotalSegmentator table: GLB, STL per structure and merged, JSON summary', async () => {
    const out = path.join(dir, 'case.glb');
    const { code, stdout, stderr } = await mesh(EXAMPLE_SEG.pathname, '--labels', CLASSES_TOTAL_V2.pathname, '-o', out, '--json', '--stl', path.join(dir, 'stl'), '--stl-merged', path.join(dir, 'all.stl'));
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary.structures).toHaveLength(41);
    expect(summary.bytes).toBe((await stat(out)).size);
    expect(summary.compressed).toBe(true);
    const liver = summary.structures.find((s: { name: string }) => s.name === 'liver');
    expect(liver).toMatchObject({ displayName: 'Liver', group: 'organ', watertight: true });
    expect(Math.abs(liver.meshVolumeMl / liver.voxelVolumeMl - 1)).toBeLessThan(0.03);
    expect(summary.triangles).toBe(summary.structures.reduce((s: number, x: { triangles: number }) => s + x.triangles, 0));
    expect(summary.totals.structures).toBe(41);

    const glb = await readCaseGlb(new Uint8Array(await readFile(out)));
    expect(glb.meshCount).toBe(41);
    expect(glb.sceneExtras).toEqual({ holocase: { version: 1, centerLpsMm: summary.centerLpsMm, units: 'm' } });

    expect((await readdir(path.join(dir, 'stl'))).length).toBe(41);
    const liverStl = readStl(new Uint8Array(await readFile(path.join(dir, 'stl', 'liver.stl'))));
    expect(liverStl.triangles).toBe(liver.triangles);
    expect(readStl(new Uint8Array(await readFile(path.join(dir, 'all.stl')))).triangles).toBe(summary.triangles);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('prints a table for people, with totals and the file size', async () => {
    const out = path.join(dir, 'plain.glb');
    const { code, stdout } = await mesh(EXAMPLE_SEG.pathname, '--labels', CLASSES_TOTAL_V2.pathname, '-o', out, '--uncompressed', '--max-triangles', '10000', '--error-mm', '0.8', '--workers', '1');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^structure\s+triangles\s+mesh mL\s+voxel mL$/m);
    expect(stdout).toMatch(/^Liver\s+\d+\s+104\d\.\d\s+1043\.1$/m);
    expect(stdout).toMatch(/^total \(41\)\s+\d+/m);
    expect(stdout).toMatch(/plain\.glb: [\d.]+ (kB|MB) \(uncompressed\)/);
    const total = Number(/^total \(41\)\s+(\d+)/m.exec(stdout)![1]);
    expect(total).toBeLessThanOrEqual(10_000);
    const glb = await readCaseGlb(new Uint8Array(await readFile(out)));
    expect(glb.extensionsUsed).toEqual([]);
  });

  it('takes the label table from a model bundle with --model', async () => {
    const { code, stdout, stderr } = await mesh(EXAMPLE_SEG.pathname, '--model', 'hu-anatomy', '-o', path.join(dir, 'model.glb'), '--json');
    expect(code, stderr).toBe(0);
    // hu-anatomy's table names labels 1–7 (skin, bone, …); example_seg has labels 1–7 too.
    const names = JSON.parse(stdout).structures.map((s: { name: string }) => s.name);
    expect(names).toEqual(expect.arrayContaining(['skin', 'bone', 'lung_left']));
  });

  it('says what is wrong with bad input', async () => {
    const table = path.join(dir, 'bad.json');
    await writeFile(table, JSON.stringify({ one: 'liver' }));
    const bad = await mesh(EXAMPLE_SEG.pathname, '--labels', table, '-o', path.join(dir, 'x.glb'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/LABELS_INVALID.*"one" is not a label value/);

    const none = path.join(dir, 'none.json');
    await writeFile(none, JSON.stringify({ 200: 'nothing_here' }));
    const empty = await mesh(EXAMPLE_SEG.pathname, '--labels', none, '-o', path.join(dir, 'y.glb'));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/none of the labels in the label map .* is in the label table/);
    await expect(stat(path.join(dir, 'y.glb'))).rejects.toThrow();

    const usage = await mesh(EXAMPLE_SEG.pathname, '-o', path.join(dir, 'z.glb'));
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/either --model <id> or --labels/);

    const model = await mesh(EXAMPLE_SEG.pathname, '--model', 'no-such-model', '-o', path.join(dir, 'z.glb'));
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/MODEL_NOT_FOUND/);
  });
});
