/**
 * End to end with an exact ground truth: the procedural phantom written as a shuffled multi-file DICOM
 * series (by the phantom's `writeDicomSeries`, a writer independent of the reader) must ingest
 * back to the same HU at the same LPS points in every orientation — LPS, RAS, a reordered PIR grid, an
 * oblique affine, anisotropic spacing — and tilted or incomplete series must be refused by name. The
 * writer's fake identity must not survive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, multiplyMat4, orientationCodes, spacingOf, type Mat4, type Vec3 } from '../../mesh/grid.ts';
import { closeSharedDecodePool } from '../../server/volume/dicom/decodePool.ts';
import { DEFAULT_IDENTITY, writeDicomSeries, type DicomSeriesOptions } from '../../server/volume/dicomWriter.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { makePhantom, type PhantomOptions } from '../../server/volume/phantom.ts';
import type { Volume } from '../../server/volume/volume.ts';
import { removeTempDirs, tempDir } from './fixtures.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';

const SMALL: PhantomOptions = { spacingMm: [4, 4, 5], fieldOfViewMm: [220, 180, 90], noiseHu: 15, seed: 7 };

function phantom(options: PhantomOptions = {}): Volume<Int16Array> {
  return makePhantom({ ...SMALL, ...options }).ct;
}

/** Rotates a grid about its centre: same voxels, placed obliquely in the patient. */
function rotated(volume: Volume<Int16Array>, axis: Vec3, degrees: number): Volume<Int16Array> {
  const [x, y, z] = axis.map((v) => v / Math.hypot(...axis));
  const a = (degrees * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const t = 1 - c;
  const centre = applyAffine(volume.affine, volume.dims.map((n) => (n - 1) / 2) as Vec3);
  const r = [t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
  const rotation: Mat4 = [r[0], r[1], r[2], 0, r[3], r[4], r[5], 0, r[6], r[7], r[8], 0, 0, 0, 0, 1];
  const toOrigin: Mat4 = [1, 0, 0, -centre[0], 0, 1, 0, -centre[1], 0, 0, 1, -centre[2], 0, 0, 0, 1];
  const back: Mat4 = [1, 0, 0, centre[0], 0, 1, 0, centre[1], 0, 0, 1, centre[2], 0, 0, 0, 1];
  return { ...volume, affine: multiplyMat4(back, multiplyMat4(rotation, multiplyMat4(toOrigin, volume.affine))) };
}

/** Every ingested voxel against the phantom voxel at the same LPS point (which must be a voxel centre). */
function compareAtSamePoints(truth: Volume<Int16Array>, read: Volume): { compared: number; mismatches: number; offGrid: number } {
  const toTruth = invertAffine(truth.affine);
  const [nx, ny, nz] = read.dims;
  let compared = 0;
  let mismatches = 0;
  let offGrid = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const q = applyAffine(toTruth, applyAffine(read.affine, [i, j, k]));
        const r = q.map(Math.round) as Vec3;
        if (q.some((v, a) => Math.abs(v - r[a]) > 1e-3)) offGrid++;
        if (r.some((v, a) => v < 0 || v >= truth.dims[a])) {
          offGrid++;
          continue;
        }
        compared++;
        if (read.data[i + nx * (j + ny * k)] !== truth.data[r[0] + truth.dims[0] * (r[1] + truth.dims[1] * r[2])]) mismatches++;
      }
    }
  }
  return { compared, mismatches, offGrid };
}

const identityValues = Object.entries(DEFAULT_IDENTITY)
  .filter(([key]) => !['PatientSex', 'PatientAge'].includes(key))
  .flatMap(([, v]) => [v, ...v.split(/[\^,]/)])
  .map((v) => v.trim())
  .filter((v) => v.length >= 4)
  .concat(['2024-03-15']);

function leaks(text: string): string[] {
  return identityValues.filter((v) => text.toLowerCase().includes(v.toLowerCase()));
}

afterAll(async () => {
  await closeSharedDecodePool();
  await removeTempDirs();
});

describe('phantom written as a DICOM series reads back exactly', () => {
  let base: Volume<Int16Array>;
  beforeAll(() => {
    base = phantom();
  });

  const cases: [string, () => Volume<Int16Array>, DicomSeriesOptions, string | undefined][] = [
    ['LPS', () => base, {}, 'LPS'],
    ['RAS', () => phantom({ orientation: 'RAS' }), {}, 'RAS'],
    ['PIR (sagittal slices)', () => phantom({ orientation: 'PIR' }), {}, undefined],
    ['anisotropic spacing (2 × 3.5 × 6 mm)', () => phantom({ spacingMm: [2, 3.5, 6], fieldOfViewMm: [200, 170, 90] }), {}, 'LPS'],
    ['oblique (rotated 25° about an inclined axis)', () => rotated(base, [0.3, 0.2, 1], 25), {}, undefined],
    ['implicit VR, signed values', () => base, { transferSyntax: 'implicit-little-endian', signed: true }, 'LPS'],
  ];

  it.each(cases)('%s', async (_, make, options, codes) => {
    const truth = make();
    const dir = await tempDir();
    await writeDicomSeries(truth, dir, options);
    const { volume, report } = await ingest(dir);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expect(volume.dims.reduce((a, b) => a * b)).toBe(truth.dims.reduce((a, b) => a * b));
    if (codes) expect(orientationCodes(volume.affine)).toBe(codes);
    const spacing = spacingOf(volume.affine).sort((a, b) => a - b);
    const expected = spacingOf(truth.affine).sort((a, b) => a - b);
    spacing.forEach((s, a) => expect(s).toBeCloseTo(expected[a], 3));
    const { compared, mismatches, offGrid } = compareAtSamePoints(truth, volume);
    expect(offGrid).toBe(0);
    expect(compared).toBe(truth.data.length);
    expect(mismatches).toBe(0);
    // "Phantom" (a part of the fake patient name) is also in the allow-listed manufacturer "holocase phantom".
    const leaked = leaks(JSON.stringify({ meta: volume.meta, report })).filter((v) => !volume.meta.manufacturer?.toLowerCase().includes(v.toLowerCase()));
    expect(leaked).toEqual([]);
    expect(JSON.stringify(volume.meta)).not.toMatch(/Doe|Jane|PHANTOM-0001|ACC123456|Holocase General|Springfield|Rita|Paul|Olga|HOLOCT01|SN-PHANTOM|STUDY-0042|2024|1970/);
  });
});

describe('phantom series that cannot be one volume', () => {
  it('a gantry-tilted series is refused, naming the angle', async () => {
    const dir = await tempDir();
    await writeDicomSeries(phantom(), dir, { gantryTiltDeg: 15 });
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_TILTED');
    expect(error.message).toMatch(/15\.0° gantry tilt/);
    expect(leaks(error.message)).toEqual([]);
  });

  it('a series with an omitted slice names it', async () => {
    const volume = phantom();
    const dir = await tempDir();
    await writeDicomSeries(volume, dir, { omitSlices: [6] });
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_GAP');
    expect(error.message).toBe(`DICOM series has a gap: slice 7 of ${volume.dims[2]} missing (expected 5.0 mm, found 10.0 mm between positions 6 and 7)`);
    expect(leaks(error.message)).toEqual([]);
  });

  it('a duplicated slice is refused', async () => {
    const dir = await tempDir();
    await writeDicomSeries(phantom(), dir, { duplicateSlice: 3 });
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_DUPLICATE');
    expect(error.message).toMatch(/slices 4 and 5 of/);
    expect(leaks(error.message)).toEqual([]);
  });

  it('the writer really wrote the identity that must not survive', async () => {
    const dir = await tempDir();
    const [first] = await writeDicomSeries(phantom(), dir);
    const { readFile } = await import('node:fs/promises');
    const text = (await readFile(first)).toString('latin1');
    expect(text).toContain(DEFAULT_IDENTITY.PatientName);
    expect(text).toContain(DEFAULT_IDENTITY.InstitutionName);
  });
});
