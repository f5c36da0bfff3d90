/**
 * `holocase inspect` as a person runs it: a real child process on the fixture series, a single DICOM
 * file, a NIfTI file and bad input (exit code 2 with the reason).
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CODECS, CT_DICOM, TOTALSEG } from './fixtures.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'holocase.mjs');

async function inspect(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'inspect', ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('holocase inspect', () => {
  it('describes the fixture DICOM series (and the process exits by itself)', async () => {
    const { code, stdout } = await inspect(CT_DICOM);
    expect(code).toBe(0);
    expect(stdout).toMatch(/dims:\s+512 × 512 × 20/);
    expect(stdout).toMatch(/spacing:\s+0\.977 × 0\.977 × 2 mm/);
    expect(stdout).toMatch(/orientation:\s+LPS/);
    expect(stdout).toMatch(/origin:\s+-249\.512, -437\.512, -804\.5 mm \(LPS\)/);
    expect(stdout).toMatch(/modality:\s+CT/);
    expect(stdout).toMatch(/HU:\s+min -1024, max \d+, mean -\d+/);
    expect(stdout).toMatch(/series:\s+CT axial, 20 slices of 512×512, JPEG 2000 Lossless/);
    expect(stdout).toMatch(/skipped:\s+none/);
  });

  it('prints JSON with --json', async () => {
    const { code, stdout } = await inspect(CT_DICOM, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({ format: 'dicom', dims: [512, 512, 20], orientation: 'LPS', modality: 'CT' });
    expect(json.spacingMm[2]).toBe(2);
    expect(json.values.min).toBe(-1024);
    expect(json.series.chosen.slices).toBe(20);
  });

  it('describes a single DICOM file as a one-slice image', async () => {
    const { code, stdout } = await inspect(join(CT_DICOM, (await readdir(CT_DICOM))[0]), '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).dims).toEqual([512, 512, 1]);
    const small = await inspect(join(CODECS, 'CT_small.dcm'));
    expect(small.code).toBe(0);
    expect(small.stdout).toMatch(/dims:\s+128 × 128 × 1/);
  });

  it('describes a NIfTI file with its own orientation', async () => {
    const { code, stdout } = await inspect(join(TOTALSEG, 'example_ct.nii.gz'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/\(NIfTI\)/);
    expect(stdout).toMatch(/dims:\s+122 × 101 × 112/);
    expect(stdout).toMatch(/spacing:\s+3 × 3 × 3 mm/);
    expect(stdout).toMatch(/orientation:\s+RAS/);
  });

  it('exits with code 2 and the reason for bad input', async () => {
    const { code, stderr } = await inspect(join(CODECS, 'MR_truncated.dcm'));
    expect(code).toBe(2);
    expect(stderr).toMatch(/DICOM_TRUNCATED.*pixel data is shorter than declared/);
    const missing = await inspect('/nonexistent/ct.nii.gz');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
