/**
 * `holocase phantom` run as a real child process: the three files (and a DICOM series), their content
 * equal to the phantom made in-process with the same options, and usage errors for bad options.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orientationCodes, spacingOf } from '../../mesh/grid.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { makePhantom } from '../../server/volume/phantom.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

async function holocase(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/holocase.mjs', ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holocase-phantom-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('holocase phantom', () => {
  it('writes the CT, the label map and the label table (and a DICOM series)', async () => {
    const out = join(dir, 'demo.nii.gz');
    const dicom = join(dir, 'dicom');
    const result = await holocase(['phantom', '-o', out, '--spacing', '4,5,4', '--orientation', 'RAS', '--seed', '3', '--noise', '5', '--no-contrast', '--dicom', dicom]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/RAS/);
    expect(result.stdout).toMatch(/vertebrae_L5/);

    const ct = await readNifti(out);
    const labels = await readNifti(join(dir, 'demo_labels.nii.gz'));
    const table = JSON.parse(await readFile(join(dir, 'demo_labels.json'), 'utf8')) as Record<string, string>;
    expect(orientationCodes(ct.affine)).toBe('RAS');
    expect(spacingOf(ct.affine).map((s) => +s.toFixed(4))).toEqual([4, 5, 4]);
    expect(labels.dims).toEqual(ct.dims);

    // The files hold exactly the phantom made in-process with the same options.
    const expected = makePhantom({ spacingMm: [4, 5, 4], orientation: 'RAS', seed: 3, noiseHu: 5, contrast: false });
    expect(ct.data).toBeInstanceOf(Int16Array);
    expect(labels.data).toBeInstanceOf(Uint8Array);
    let differ = 0;
    for (let n = 0; n < ct.data.length; n++) if (ct.data[n] !== expected.ct.data[n] || labels.data[n] !== expected.labels.data[n]) differ++;
    expect(differ).toBe(0);
    ct.affine.forEach((v, n) => expect(v).toBeCloseTo(expected.ct.affine[n], 3));

    // The table lists exactly the labels present, id → name like classes_total_v2.json.
    const present = new Set<number>(labels.data);
    present.delete(0);
    expect(Object.keys(table).map(Number).sort((a, b) => a - b)).toEqual([...present].sort((a, b) => a - b));
    expect(table['5']).toBe('liver');
    expect(table['200']).toBe('skin');

    expect(await readdir(dicom)).toHaveLength(ct.dims[2]);
  });

  it('prints help, and refuses bad options as usage errors', async () => {
    const help = await holocase(['phantom', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--orientation/);
    for (const args of [
      [],
      ['-o', join(dir, 'x.txt')],
      ['-o', join(dir, 'x.nii.gz'), '--spacing', '1,2'],
      ['-o', join(dir, 'x.nii.gz'), '--orientation', 'LLS'],
      ['-o', join(dir, 'x.nii.gz'), '--seed', 'abc'],
      ['-o', join(dir, 'x.nii.gz'), '--noise', '-3'],
      ['-o', join(dir, 'x.nii.gz'), '--colour', 'red'],
    ]) {
      const result = await holocase(['phantom', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(/holocase:/);
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('x'))).toEqual([]);
  });
});
