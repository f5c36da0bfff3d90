/**
 * `ingest` on every kind of input and every kind of bad input: NIfTI in any orientation, zip archives
 * (nested, hostile, bombs), folders, and what a hospital might send by mistake. Each failure is a typed
 * error with a readable message, and nothing is written outside the work folder.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, orientationCodes, type Vec3 } from '../../mesh/grid.ts';
import { closeSharedDecodePool } from '../../server/volume/dicom/decodePool.ts';
import { ingest, type IngestResult } from '../../server/volume/ingest.ts';
import { writeNifti } from '../../server/volume/nifti.ts';
import { reorient } from '../../server/volume/reorient.ts';
import { CT_DICOM, TOTALSEG, removeTempDirs, tempDir } from './fixtures.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';

let folder: IngestResult;

beforeAll(async () => {
  folder = await ingest(CT_DICOM);
});

afterAll(async () => {
  await closeSharedDecodePool();
  await removeTempDirs();
});

describe('NIfTI input', () => {
  it('example_ct.nii.gz (RAS) and a copy reoriented to LPS give the same HU at the same LPS point', async () => {
    const ras = await ingest(join(TOTALSEG, 'example_ct.nii.gz'));
    expect(ras.report.format).toBe('nifti');
    expect(orientationCodes(ras.volume.affine)).toBe('RAS');
    const dir = await tempDir();
    const path = join(dir, 'lps.nii.gz');
    await writeNifti(reorient(ras.volume, 'LPS'), path);
    const lps = await ingest(path);
    expect(orientationCodes(lps.volume.affine)).toBe('LPS');
    const toLps = invertAffine(lps.volume.affine);
    const [nx, ny, nz] = ras.volume.dims;
    let compared = 0;
    for (let k = 0; k < nz; k += 5) {
      for (let j = 0; j < ny; j += 3) {
        for (let i = 0; i < nx; i += 3) {
          const point = applyAffine(ras.volume.affine, [i, j, k]);
          const q = applyAffine(toLps, point).map((v) => Math.round(v)) as Vec3;
          const a = ras.volume.data[i + nx * (j + ny * k)];
          const b = lps.volume.data[q[0] + lps.volume.dims[0] * (q[1] + lps.volume.dims[1] * q[2])];
          expect(b).toBe(a);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(10_000);
    // The stored order really differs (the first voxel is not the same one).
    expect(lps.volume.data[0]).not.toBe(ras.volume.data[0]);
  });

  it('keeps integer HU as Int16 (lossless)', async () => {
    const { volume } = await ingest(join(TOTALSEG, 'example_ct.nii.gz'));
    expect(volume.data).toBeInstanceOf(Int16Array);
    expect(volume.meta.source).toBe('nifti');
  });

  it('refuses a NIfTI whose header promises more data than the file holds', async () => {
    const raw = gunzipSync(new Uint8Array(await readFile(join(TOTALSEG, 'example_ct.nii.gz'))));
    const dir = await tempDir();
    const path = join(dir, 'cut.nii');
    await writeFile(path, raw.subarray(0, Math.floor(raw.length / 2)));
    const error = await holocaseErrorOf(ingest(path));
    expect(error.code).toBe('NIFTI_TRUNCATED');
    expect(error.message).toMatch(/incomplete/);
  });
});

describe('folders and lists', () => {
  it('refuses an empty folder', async () => {
    const dir = await tempDir();
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_EMPTY');
    expect(error.message).toMatch(/^no DICOM or NIfTI files found in .+ \(it is empty\)$/);
  });

  it('refuses a folder of JPEG photos, saying what was found', async () => {
    const dir = await tempDir();
    const jpeg = new Uint8Array(2048);
    jpeg.set([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10, 0x45, 0x78, 0x69, 0x66]);
    for (const name of ['IMG_0001.JPG', 'IMG_0002.JPG', 'IMG_0003.jpeg']) await writeFile(join(dir, name), jpeg);
    await writeFile(join(dir, 'notes.txt'), 'scan request\n');
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_EMPTY');
    expect(error.message).toMatch(/no DICOM or NIfTI files found in .+ \(found 3 JPEG images and 1 text file\)/);
  });

  it('reads a single NIfTI found in a folder', async () => {
    const dir = await tempDir();
    await copyFile(join(TOTALSEG, 'example_ct_sm.nii.gz'), join(dir, 'ct.nii.gz'));
    const { volume, report } = await ingest(dir);
    expect(report.format).toBe('nifti');
    expect(volume.dims).toEqual([122, 101, 30]);
  });

  it('ignores stray files and a DICOMDIR next to the series', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'DICOM', 'S1'), { recursive: true });
    for (const name of await readdir(CT_DICOM)) await copyFile(join(CT_DICOM, name), join(dir, 'DICOM', 'S1', name));
    await writeFile(join(dir, 'DICOMDIR'), new Uint8Array(400));
    await writeFile(join(dir, 'README.TXT'), 'exported by a PACS\n');
    await writeFile(join(dir, '.DS_Store'), new Uint8Array(50));
    const { volume } = await ingest(dir);
    expect(Buffer.compare(Buffer.from(volume.data.buffer), Buffer.from(folder.volume.data.buffer))).toBe(0);
  });

  it('says when a path does not exist', async () => {
    const error = await holocaseErrorOf(ingest('/nonexistent/holocase/ct'));
    expect(error.code).toBe('NOT_FOUND');
  });
});

describe('zip archives', () => {
  async function seriesEntries(prefix: string): Promise<Zippable> {
    const entries: Zippable = {};
    for (const name of await readdir(CT_DICOM)) entries[`${prefix}${name}`] = new Uint8Array(await readFile(join(CT_DICOM, name)));
    return entries;
  }

  async function listAll(dir: string): Promise<string[]> {
    return (await readdir(dir, { recursive: true })).map(String);
  }

  it('reads a series from nested folders in a zip, with a DICOMDIR and stray files, and cleans up', async () => {
    const root = await tempDir();
    const work = join(root, 'work');
    await mkdir(work);
    const zip = zipSync({ ...(await seriesEntries('PATIENT/STUDY/SERIES/')), DICOMDIR: new Uint8Array(300), 'README.txt': new TextEncoder().encode('hello'), '__MACOSX/PATIENT/._x': new Uint8Array(10) }, { level: 1 });
    const path = join(root, 'upload.zip');
    await writeFile(path, zip);
    const { volume } = await ingest(path, { workDir: work });
    expect(volume.dims).toEqual([512, 512, 20]);
    expect(Buffer.compare(Buffer.from(volume.data.buffer), Buffer.from(folder.volume.data.buffer))).toBe(0);
    expect(await listAll(work)).toEqual([]);
  });

  it.each([
    ['a parent-directory entry', '../escaped-holocase.txt', /climbs out of the folder/],
    ['a nested parent-directory entry', 'series/../../escaped-holocase.txt', /climbs out of the folder/],
    ['an absolute entry', '/tmp/escaped-holocase-absolute.txt', /absolute path/],
    ['a drive-letter entry', 'C:/escaped-holocase.txt', /drive letter/],
    ['a backslash entry', '..\\escaped-holocase.txt', /backslashes/],
  ])('refuses %s and writes nothing', async (_, entryName, message) => {
    const root = await tempDir();
    const work = join(root, 'work');
    await mkdir(work);
    const zip = zipSync({ ...(await seriesEntries('a/')), [entryName]: new TextEncoder().encode('escaped') });
    const path = join(root, 'evil.zip');
    await writeFile(path, zip);
    const error = await holocaseErrorOf(ingest(path, { workDir: work }));
    expect(error.code).toBe('ZIP_UNSAFE_PATH');
    expect(error.message).toMatch(message);
    expect(await listAll(work)).toEqual([]);
    expect(existsSync(join(root, 'escaped-holocase.txt'))).toBe(false);
    expect(existsSync(join(work, '..', 'escaped-holocase.txt'))).toBe(false);
    expect(existsSync('/tmp/escaped-holocase-absolute.txt')).toBe(false);
  });

  it('refuses a symbolic link entry', async () => {
    const root = await tempDir();
    const zip = zipSync({ 'link': [new TextEncoder().encode('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] });
    const path = join(root, 'link.zip');
    await writeFile(path, zip);
    const error = await holocaseErrorOf(ingest(path, { workDir: root }));
    expect(error.code).toBe('ZIP_UNSAFE_PATH');
    expect(error.message).toMatch(/symbolic link/);
  });

  it('refuses a zip whose central directory declares more than 2 GB, before inflating anything', async () => {
    const root = await tempDir();
    const work = join(root, 'work');
    await mkdir(work);
    const zip = zipSync({ 'a.dcm': new Uint8Array(1000), 'b.dcm': new Uint8Array(1000) }, { level: 0 });
    // Patch each central-directory record's uncompressed size to 1.5 GB (3 GB in total).
    const view = new DataView(zip.buffer);
    for (let at = 0; at + 4 <= zip.length; at++) {
      if (view.getUint32(at, true) === 0x02014b50) {
        view.setUint16(at + 10, 8, true); // method: deflate (a stored entry must have equal sizes)
        view.setUint32(at + 24, 1_500_000_000, true);
      }
    }
    const path = join(root, 'big.zip');
    await writeFile(path, zip);
    // Refused by default (each entry's ratio alone is absurd)…
    expect((await holocaseErrorOf(ingest(path, { workDir: work }))).code).toBe('ZIP_TOO_LARGE');
    // …and by the total size with the ratio check out of the way.
    const error = await holocaseErrorOf(ingest(path, { workDir: work, zip: { maxRatio: Number.POSITIVE_INFINITY } }));
    expect(error.code).toBe('ZIP_TOO_LARGE');
    expect(error.message).toMatch(/more than 2\.0 GB/);
    expect(await listAll(work)).toEqual([]);
  });

  it('refuses an entry that expands more than 100:1 (a zip bomb)', async () => {
    const root = await tempDir();
    const zip = zipSync({ 'bomb.dcm': new Uint8Array(20 * 1024 ** 2) }, { level: 9 });
    expect(zip.length).toBeLessThan(100_000);
    const path = join(root, 'bomb.zip');
    await writeFile(path, zip);
    const error = await holocaseErrorOf(ingest(path, { workDir: root }));
    expect(error.code).toBe('ZIP_TOO_LARGE');
    expect(error.message).toMatch(/zip bomb/);
  });

  it('enforces the limits while inflating when the directory lies about sizes', async () => {
    const root = await tempDir();
    const work = join(root, 'work');
    await mkdir(work);
    const zip = zipSync({ 'a.dcm': new Uint8Array(300_000).fill(7) }, { level: 9 });
    const view = new DataView(zip.buffer);
    for (let at = 0; at + 4 <= zip.length; at++) {
      if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, 1000, true); // claims 1000 bytes
    }
    const path = join(root, 'liar.zip');
    await writeFile(path, zip);
    const error = await holocaseErrorOf(ingest(path, { workDir: work }));
    expect(['ZIP_TOO_LARGE', 'ZIP_MALFORMED']).toContain(error.code);
    expect(await listAll(work)).toEqual([]);
  });

  it('refuses a file that is not a zip but is named like one', async () => {
    const root = await tempDir();
    const path = join(root, 'fake.zip');
    await writeFile(path, 'not a zip at all');
    const error = await holocaseErrorOf(ingest(path));
    expect(error.code).toBe('ZIP_MALFORMED');
  });
});

describe('a lone DICOM file', () => {
  it('needs a volume for a case', async () => {
    const error = await holocaseErrorOf(ingest(join(TOTALSEG, 'example_ct_dicom', (await readdir(CT_DICOM))[0])));
    expect(error.code).toBe('SERIES_SINGLE_SLICE');
  });
});
