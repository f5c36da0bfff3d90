/**
 * Every input is sized before it is decompressed or allocated: a 4 MB gzip stream that declares a
 * 512×512×8000 CT (4 GiB of zeros), DICOM files whose Pixel Data length lies, series beyond the size
 * limits, and MR scans given to a CT model are refused from their headers with a message — quickly and
 * without allocating what they declare. Real files, made here or taken from the fixtures.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { HolocaseError } from '../../server/errors.ts';
import { caseAdmission } from '../../server/pipeline/caseAdmission.ts';
import { planCaseMemory } from '../../server/pipeline/memoryPlan.ts';
import { loadModelBundle } from '../../server/segment/bundle.ts';
import { closeSharedDecodePool } from '../../server/volume/dicom/decodePool.ts';
import { writeDicomSeries } from '../../server/volume/dicomWriter.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import type { VolumeShape } from '../../server/volume/volumeLimits.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';
import { CT_DICOM, ENCODINGS, TOTALSEG, removeTempDirs, tempDir } from './fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
import { gzipBombNifti, niftiHeader } from './gzipBomb.ts';

afterAll(async () => {
  await closeSharedDecodePool();
  await removeTempDirs();
});

/** Runs `work` and reports how much the process's memory grew meanwhile (resident and array buffers). */
async function memoryGrowth<T>(work: () => Promise<T>): Promise<{ result: T; rssMb: number; buffersMb: number }> {
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakBuffers = before.arrayBuffers;
  const sample = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
  }, 5);
  try {
    const result = await work();
    const end = process.memoryUsage();
    peakRss = Math.max(peakRss, end.rss);
    peakBuffers = Math.max(peakBuffers, end.arrayBuffers);
    return { result, rssMb: (peakRss - before.rss) / 1024 ** 2, buffersMb: (peakBuffers - before.arrayBuffers) / 1024 ** 2 };
  } finally {
    clearInterval(sample);
  }
}

describe('a gzip bomb NIfTI (512×512×8000 int16: 4 GiB of zeros in 4 MB)', () => {
  it('is a real, valid gzip file of about 4 MB whose first bytes declare the whole volume', async () => {
    const bomb = gzipBombNifti();
    expect(bomb.length).toBeLessThan(5 * 1024 ** 2);
    let declared: VolumeShape | undefined;
    const stop = (shape: VolumeShape) => {
      declared = shape;
      throw new HolocaseError('VOLUME_TOO_LARGE', 'sized from the header');
    };
    expect((await holocaseErrorOf(readNifti(bomb, { admit: stop }))).message).toBe('sized from the header');
    expect(declared).toEqual({ format: 'nifti', dims: [512, 512, 8000], spacingMm: [1, 1, 1], bytesPerVoxel: 2 });
  });

  it('is refused by the memory plan from its header, before a byte of voxels is inflated or allocated', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bomb.nii.gz');
    await writeFile(path, gzipBombNifti());
    const model = await loadModelBundle('hu-anatomy');
    const { result: error, buffersMb, rssMb } = await memoryGrowth(() =>
      holocaseErrorOf(ingest(path, { admit: caseAdmission(model, { memoryBudgetBytes: 16 * 1024 ** 3 }) })),
    );
    expect(error.code).toBe('VOLUME_TOO_LARGE');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/512×512×8000 voxels\) needs about \d+\.\d GiB of memory/);
    expect(error.message).toMatch(/16\.0 GiB, HOLOCASE_JOB_MEMORY/);
    // Nothing near the declared 4 GiB was inflated or allocated.
    expect(buffersMb).toBeLessThan(50);
    expect(rssMb).toBeLessThan(200);
  });

  it('is refused by the voxel limit when it declares more than the largest real study', async () => {
    const dir = await tempDir();
    const path = join(dir, 'huge.nii.gz');
    // 1024×1024×2048 uint8: more voxels than 1024×1024×2000, only 2 GiB of bytes.
    await writeFile(path, gzipBombNifti([1024, 1024, 2048], 2, 8));
    const { result: error, buffersMb } = await memoryGrowth(() => holocaseErrorOf(ingest(path)));
    expect(error.code).toBe('VOLUME_TOO_LARGE');
    expect(error.message).toMatch(/^huge\.nii\.gz is 1024×1024×2048 voxels \(2\.1 billion\), more than holocase accepts/);
    expect(buffersMb).toBeLessThan(50);
  });

  it('never inflates more than the header declares: trailing data is not read', async () => {
    const dir = await tempDir();
    const path = join(dir, 'small-then-junk.nii.gz');
    const header = niftiHeader([8, 8, 8], 2, 8);
    const voxels = Buffer.alloc(512, 7);
    await writeFile(path, gzipSync(Buffer.concat([header, voxels, Buffer.alloc(128 * 1024 ** 2)]), { level: 1 }));
    const { result: volume, buffersMb } = await memoryGrowth(() => readNifti(path));
    expect(volume.dims).toEqual([8, 8, 8]);
    expect(Array.from(volume.data.slice(0, 4))).toEqual([7, 7, 7, 7]);
    expect(buffersMb).toBeLessThan(50);
  });

  it('inflates a real CT straight into its voxel array, equal to the whole-file read', async () => {
    const streamed = await readNifti(join(TOTALSEG, 'example_ct.nii.gz'));
    expect(streamed.dims).toEqual([122, 101, 112]);
    const bytes = await readFile(join(TOTALSEG, 'example_ct.nii.gz'));
    const fromBytes = await readNifti(bytes);
    expect(Buffer.compare(Buffer.from(streamed.data.buffer), Buffer.from(fromBytes.data.buffer))).toBe(0);
  });
});

describe('DICOM files whose declared Pixel Data length lies', () => {
  it.each(['MR_pixlen_len100MB.dcm', 'MR_pixlen_len2GB.dcm', 'MR_pixlen_len4GB.dcm'])('%s is refused with a message, without allocating it', async (file) => {
    const declared = { 'MR_pixlen_len100MB.dcm': /95\.4 MB/, 'MR_pixlen_len2GB.dcm': /2\.0 GB/, 'MR_pixlen_len4GB.dcm': /4\.0 GB/ }[file]!;
    // On its own, in a folder, and among a real series (where it could have been read silently).
    const dir = await tempDir();
    for (const name of await readdir(CT_DICOM)) await copyFile(join(CT_DICOM, name), join(dir, name));
    await copyFile(join(ENCODINGS, 'bad', file), join(dir, 'zz-liar.dcm'));
    const single = await tempDir();
    await copyFile(join(ENCODINGS, 'bad', file), join(single, 'liar.dcm'));
    for (const input of [join(single, 'liar.dcm'), single, dir]) {
      const { result: error, buffersMb } = await memoryGrowth(() => holocaseErrorOf(ingest(input)));
      expect(error.code).toBe('DICOM_TRUNCATED');
      expect(error.message).toMatch(declared);
      expect(error.message).toMatch(/pixel data is shorter than declared/);
      expect(buffersMb).toBeLessThan(50);
    }
    // Among a real series (whose UIDs are blank, so it may belong to it): the read stops, naming it by position.
    const mixed = await holocaseErrorOf(ingest(dir));
    expect(mixed.code).toBe('DICOM_TRUNCATED');
    expect(mixed.message).toMatch(/^file 21 of 21 is cut short/);
  });
});

describe('DICOM series beyond the limits', () => {
  it('is refused from its headers (columns × rows × slices) before a pixel is decoded', async () => {
    const started = Date.now();
    const error = await holocaseErrorOf(ingest(CT_DICOM, { limits: { maxVoxels: 512 * 512 * 10, maxBytes: 8 * 1024 ** 3 } }));
    expect(error.code).toBe('VOLUME_TOO_LARGE');
    expect(error.message).toBe(
      'the DICOM series is 512×512×20 voxels (5 million), more than holocase accepts (3 million voxels; a 1024×1024×2000 CT is the largest real study); nothing was read',
    );
    // Decoding 20 JPEG 2000 slices takes seconds here; reading 20 headers does not.
    expect(Date.now() - started).toBeLessThan(20_000);
    const bytes = await holocaseErrorOf(ingest(CT_DICOM, { limits: { maxVoxels: 1e9, maxBytes: 1024 ** 2 } }));
    expect(bytes.message).toMatch(/holding 10 MiB of voxel data, more than holocase accepts \(1 MiB\)/);
  });
});

describe('memory planning', () => {
  it('plans the 0.8 mm phantom near its measured peak, and a 512×512×8000 CT far beyond a workstation', async () => {
    const model = await loadModelBundle('hu-anatomy');
    const phantom = planCaseMemory({ format: 'nifti', dims: [475, 350, 520], spacingMm: [0.8, 0.8, 1], bytesPerVoxel: 2 }, model.manifest);
    // Measured on this phantom: 2.4 GB peak for the whole run (`holocase run`, rules model).
    expect(phantom.peakBytes / 1024 ** 3).toBeGreaterThan(2);
    expect(phantom.peakBytes / 1024 ** 3).toBeLessThan(3);
    const bomb = planCaseMemory({ format: 'nifti', dims: [512, 512, 8000], spacingMm: [1, 1, 1], bytesPerVoxel: 2 }, model.manifest);
    expect(bomb.peakBytes / 1024 ** 3).toBeGreaterThan(40);
  });
});

describe('an MR series given to a CT model', () => {
  it('is refused before its pixels are read, by the CT model and for every input route', async () => {
    const ct = await readNifti(join(TOTALSEG, 'example_ct_sm.nii.gz'));
    const dir = await tempDir();
    await writeDicomSeries({ ...ct, meta: { source: 'nifti' } }, dir, { modality: 'MR' });
    const model = await loadModelBundle('hu-anatomy');
    const error = await holocaseErrorOf(ingest(dir, { admit: caseAdmission(model) }));
    expect(error.code).toBe('MODALITY_MISMATCH');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('this scan is MR (modality in its header) but model "hu-anatomy" segments CT scans; choose a model made for MR');
    // A NIfTI the server wrote from that series records no modality: the job passes it on.
    const niftiError = await holocaseErrorOf(ingest(join(TOTALSEG, 'example_ct_sm.nii.gz'), { admit: caseAdmission(model, { modality: 'MR' }) }));
    expect(niftiError.code).toBe('MODALITY_MISMATCH');
    // Without a model (inspect), it is still read, with the warning.
    const { report } = await ingest(dir);
    expect(report.warnings.join(' ')).toMatch(/the series is MR, not CT/);
    // The command line refuses it too: exit code 2, the reason, no CT written.
    const out = join(await tempDir(), 'case');
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'holocase.mjs'), 'run', dir, '--model', 'hu-anatomy', '-o', out], { cwd: ROOT, encoding: 'utf8' });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('error [MODALITY_MISMATCH]: this scan is MR (modality in its header) but model "hu-anatomy" segments CT scans');
    expect(existsSync(join(out, 'ct.nii.gz'))).toBe(false);
  }, 120_000);
});
