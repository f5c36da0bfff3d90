/**
 * DICOM series assembly on real and synthetic data: the TotalSegmentator CT series reads with the right
 * size, spacing and placement (checked against its reference label map through patient coordinates),
 * slices are ordered by position whatever the file names, and series that cannot be one volume (gap,
 * duplicate, tilt, uneven spacing, mixed sizes, a lone slice) are refused with a message naming the slice.
 */
import { copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, orientationCodes, spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { closeSharedDecodePool } from '../../server/volume/dicom/decodePool.ts';
import { ingest, type IngestResult } from '../../server/volume/ingest.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { CODECS, CT_DICOM, TOTALSEG, removeTempDirs, tempDir } from './fixtures.ts';
import { axialSpec, positionValue, writeSyntheticSeries, type SyntheticSeriesSpec } from './synthetic.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';

/** The fixture's files sorted by position along the normal, read independently of the code under test. */
async function fixtureFilesByPosition(): Promise<string[]> {
  const names = await readdir(CT_DICOM);
  const placed = await Promise.all(
    names.map(async (name) => {
      const ds = dicomParser.parseDicom(new Uint8Array(await readFile(join(CT_DICOM, name))), { untilTag: 'x7fe00010' } as dicomParser.ParseDicomOptions);
      return { name, z: Number(ds.string('x00200032')!.split('\\')[2]) };
    }),
  );
  return placed.sort((a, b) => a.z - b.z).map((p) => p.name);
}

let fixture: IngestResult;

beforeAll(async () => {
  fixture = await ingest(CT_DICOM);
});

afterAll(async () => {
  await closeSharedDecodePool();
  await removeTempDirs();
});

describe('example_ct_dicom (JPEG 2000, 20 slices)', () => {
  it('reads as 512×512×20 with 0.977×0.977×2.0 mm spacing, Int16 HU, LPS', () => {
    const { volume, report } = fixture;
    expect(volume.dims).toEqual([512, 512, 20]);
    const spacing = spacingOf(volume.affine);
    expect(spacing[0]).toBeCloseTo(0.977, 3);
    expect(spacing[1]).toBeCloseTo(0.977, 3);
    expect(spacing[2]).toBeCloseTo(2.0, 6);
    expect(volume.data).toBeInstanceOf(Int16Array);
    expect(orientationCodes(volume.affine)).toBe('LPS');
    expect(volume.meta.modality).toBe('CT');
    expect(report.format).toBe('dicom');
    expect(report.series?.chosen).toMatchObject({ modality: 'CT', slices: 20, orientation: 'axial', dims: [512, 512, 20], transferSyntax: 'JPEG 2000 Lossless' });
    let min = Infinity;
    for (const v of volume.data) if (v < min) min = v;
    expect(min).toBe(-1024); // air, after the −1024 intercept
  });

  it('lies on exactly the grid of example_seg_dicom.nii.gz (voxel centres coincide in patient space)', async () => {
    const seg = await readNifti(join(TOTALSEG, 'example_seg_dicom.nii.gz'));
    expect(orientationCodes(seg.affine)).toBe('LAS');
    const toCt = invertAffine(fixture.volume.affine);
    const [nx, ny, nz] = seg.dims;
    for (const corner of [[0, 0, 0], [nx - 1, 0, 0], [0, ny - 1, 0], [0, 0, nz - 1], [nx - 1, ny - 1, nz - 1]] as Vec3[]) {
      const q = applyAffine(toCt, applyAffine(seg.affine, corner));
      for (let a = 0; a < 3; a++) {
        expect(Math.abs(q[a] - Math.round(q[a]))).toBeLessThan(1e-3);
        expect(Math.round(q[a])).toBeGreaterThanOrEqual(0);
        expect(Math.round(q[a])).toBeLessThan(fixture.volume.dims[a]);
      }
    }
  });

  it('lines up with the reference labels: bone bright, soft tissue soft, through patient coordinates', async () => {
    const seg = await readNifti(join(TOTALSEG, 'example_seg_dicom.nii.gz'));
    const classes = JSON.parse(await readFile(join(TOTALSEG, 'classes_total_v2.json'), 'utf8')) as Record<string, string>;
    const ids = (pattern: RegExp) => new Set(Object.entries(classes).filter(([, n]) => pattern.test(n)).map(([id]) => Number(id)));
    const groups = { vertebrae: ids(/^vertebrae_/), ribs: ids(/^rib_/), lungs: ids(/^lung_/), liverSpleen: ids(/^(liver|spleen)$/) };
    const sums = Object.fromEntries(Object.keys(groups).map((g) => [g, { sum: 0, n: 0 }])) as Record<keyof typeof groups, { sum: number; n: number }>;
    const ct = fixture.volume;
    const toCt = invertAffine(ct.affine);
    const [nx, ny, nz] = seg.dims;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const label = seg.data[i + nx * (j + ny * k)];
          if (!label) continue;
          const group = (Object.keys(groups) as (keyof typeof groups)[]).find((g) => groups[g].has(label));
          if (!group) continue;
          const q = applyAffine(toCt, applyAffine(seg.affine, [i, j, k])).map(Math.round);
          if (q.some((v, a) => v < 0 || v >= ct.dims[a])) continue;
          sums[group].sum += ct.data[q[0] + ct.dims[0] * (q[1] + ct.dims[1] * q[2])];
          sums[group].n++;
        }
      }
    }
    const mean = (g: keyof typeof groups) => sums[g].sum / sums[g].n;
    expect(sums.vertebrae.n).toBeGreaterThan(10_000);
    expect(mean('vertebrae')).toBeGreaterThan(150);
    // Ribs are thin: a flip of any axis (or a shift of a few voxels) moves them off bone.
    expect(mean('ribs')).toBeGreaterThan(150);
    expect(mean('liverSpleen')).toBeGreaterThan(20);
    expect(mean('liverSpleen')).toBeLessThan(150);
    // This label map covers the upper abdomen; lungs are checked when present.
    if (sums.lungs.n > 0) expect(mean('lungs')).toBeLessThan(-500);
  });

  it('orders slices by position, not by file name (copied under shuffled, nested names)', async () => {
    const dir = await tempDir();
    const names = await readdir(CT_DICOM);
    await Promise.all(
      names.map(async (name, i) => {
        const sub = join(dir, i % 2 ? 'a' : 'b');
        await mkdir(sub, { recursive: true });
        await copyFile(join(CT_DICOM, name), join(sub, `${String((i * 7) % 20).padStart(3, '0')}.dcm`));
      }),
    );
    const { volume } = await ingest(dir);
    expect(volume.affine).toEqual(fixture.volume.affine);
    expect(Buffer.compare(Buffer.from(volume.data.buffer), Buffer.from(fixture.volume.data.buffer))).toBe(0);
  });

  it('reads a list of files the same as the folder', async () => {
    const names = await readdir(CT_DICOM);
    const { volume } = await ingest(names.map((n) => join(CT_DICOM, n)).reverse());
    expect(volume.affine).toEqual(fixture.volume.affine);
    expect(Buffer.compare(Buffer.from(volume.data.buffer), Buffer.from(fixture.volume.data.buffer))).toBe(0);
  });

  it('refuses the series with one slice missing, naming the slice', async () => {
    const ordered = await fixtureFilesByPosition();
    const dir = await tempDir();
    await Promise.all(ordered.filter((_, i) => i !== 7).map((name) => copyFile(join(CT_DICOM, name), join(dir, name))));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_GAP');
    expect(error.message).toBe('DICOM series has a gap: slice 8 of 20 missing (expected 2.0 mm, found 4.0 mm between positions 7 and 8)');
  });

  it('refuses a duplicated slice', async () => {
    const ordered = await fixtureFilesByPosition();
    const dir = await tempDir();
    await Promise.all(ordered.map((name) => copyFile(join(CT_DICOM, name), join(dir, name))));
    await copyFile(join(CT_DICOM, ordered[3]), join(dir, 'copy-of-a-slice.dcm'));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_DUPLICATE');
    expect(error.message).toMatch(/slices 4 and 5 of 21/);
  });

  it('refuses a lone slice for a case, and reads it as a one-slice image when allowed', async () => {
    const [first] = await fixtureFilesByPosition();
    const dir = await tempDir();
    await copyFile(join(CT_DICOM, first), join(dir, first));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_SINGLE_SLICE');
    expect(error.message).toMatch(/single slice/);
    const single = await ingest(join(dir, first), { allowSingleSlice: true });
    expect(single.volume.dims).toEqual([512, 512, 1]);
    // The same pixels as slice 1 of the whole series.
    const plane = 512 * 512;
    expect(Buffer.compare(Buffer.from(single.volume.data.buffer), Buffer.from(fixture.volume.data.buffer, 0, plane * 2))).toBe(0);
  });

  it('chooses the CT series with the most slices and describes the others without identifiers', async () => {
    const dir = await tempDir();
    for (const name of await readdir(CT_DICOM)) await copyFile(join(CT_DICOM, name), join(dir, name));
    await copyFile(join(CODECS, 'CT_small.dcm'), join(dir, 'other-ct.dcm'));
    await copyFile(join(CODECS, 'MR_small.dcm'), join(dir, 'an-mr.dcm'));
    const { volume, report } = await ingest(dir);
    expect(volume.dims).toEqual([512, 512, 20]);
    expect(report.series?.skipped).toHaveLength(2);
    expect(report.series?.skipped).toEqual(
      expect.arrayContaining([
        { modality: 'CT', slices: 1, orientation: 'axial', dims: [128, 128, 1], transferSyntax: 'Explicit VR Little Endian', note: 'fewer slices than the chosen series' },
        { modality: 'MR', slices: 1, orientation: 'axial', dims: [64, 64, 1], transferSyntax: 'Explicit VR Little Endian', note: 'not CT (MR)' },
      ]),
    );
    expect(JSON.stringify(report)).not.toMatch(/\d+\.\d+\.\d+\.\d+\.\d+/); // no UIDs
  });

  it('stops when a damaged file may belong to the series (a dropped end slice could not be noticed)', async () => {
    const dir = await tempDir();
    for (const name of await readdir(CT_DICOM)) await copyFile(join(CT_DICOM, name), join(dir, name));
    await copyFile(join(CODECS, 'MR_truncated.dcm'), join(dir, 'broken.dcm'));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('DICOM_TRUNCATED');
    // Named by its place in the folder, never by its name (export names often carry the patient's).
    expect(error.message).toMatch(/^file \d+ of 21 is cut short/);
    expect(error.message).not.toMatch(/broken/);
  });
});

describe('synthetic series: the same HU at the same LPS point in any orientation', () => {
  const deg = Math.PI / 180;
  const rotZ = (a: number): [Vec3, Vec3, Vec3] => [[Math.cos(a), Math.sin(a), 0], [-Math.sin(a), Math.cos(a), 0], [0, 0, 1]];
  const oblique = (() => {
    // Rotate the axial frame by 20° about S then 12° about L.
    const [r, c] = rotZ(20 * deg);
    const tilt = (v: Vec3): Vec3 => [v[0], v[1] * Math.cos(12 * deg) - v[2] * Math.sin(12 * deg), v[1] * Math.sin(12 * deg) + v[2] * Math.cos(12 * deg)];
    const row = tilt(r);
    const col = tilt(c);
    const normal: Vec3 = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
    return { row, col, normal };
  })();
  const cases: [string, Partial<SyntheticSeriesSpec>, string][] = [
    ['axial LPS', {}, 'LPS'],
    ['axial stored RAS (rows towards R, columns towards A, slices downwards)', { rowDirection: [-1, 0, 0], columnDirection: [0, -1, 0], step: [0, 0, -2.5] }, 'RAS'],
    ['sagittal', { rowDirection: [0, 1, 0], columnDirection: [0, 0, -1], step: [-1.5, 0, 0] }, 'PIR'],
    ['coronal', { rowDirection: [1, 0, 0], columnDirection: [0, 0, -1], step: [0, 3, 0] }, 'LIP'],
    ['oblique', { rowDirection: oblique.row, columnDirection: oblique.col, step: oblique.normal.map((v) => v * 2) as Vec3 }, ''],
    ['anisotropic (0.4 × 1.3 mm pixels, 5 mm slices)', { pixelSpacing: [1.3, 0.4], step: [0, 0, 5] }, 'LPS'],
    ['Enhanced CT (one multi-frame file, frames out of order)', { enhanced: true }, 'LPS'],
  ];

  it.each(cases)('%s', async (_, overrides, codes) => {
    const dir = await tempDir();
    const spec = axialSpec(overrides);
    await writeSyntheticSeries(dir, spec);
    const { volume } = await ingest(dir);
    expect(volume.dims).toEqual([spec.columns, spec.rows, spec.slices]);
    if (codes) expect(orientationCodes(volume.affine)).toBe(codes);
    const [nx, ny, nz] = volume.dims;
    let worst = 0;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const expected = positionValue(applyAffine(volume.affine, [i, j, k]));
          worst = Math.max(worst, Math.abs(volume.data[i + nx * (j + ny * k)] - expected));
        }
      }
    }
    // Neighbouring voxels differ by ≥ 8 HU, so ±1 (rounding of oblique positions) still proves placement.
    expect(worst).toBeLessThanOrEqual(1);
    // Slice spacing comes from positions, not from Slice Thickness.
    expect(spacingOf(volume.affine)[2]).toBeCloseTo(Math.hypot(...spec.step), 3);
  });

  it('refuses a gantry-tilted series, naming the angle', async () => {
    const dir = await tempDir();
    await writeSyntheticSeries(dir, axialSpec({ step: [0, 2.5 * Math.tan(15 * deg), 2.5] }));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_TILTED');
    expect(error.message).toMatch(/15\.0° gantry tilt/);
  });

  it('names an omitted slice', async () => {
    const dir = await tempDir();
    await writeSyntheticSeries(dir, axialSpec({ slices: 12, omit: [4, 5] }));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_GAP');
    expect(error.message).toBe('DICOM series has a gap: slices 5–6 of 12 missing (expected 2.5 mm, found 7.5 mm between positions 4 and 5)');
  });

  it('refuses uneven spacing beyond 1 %', async () => {
    const dir = await tempDir();
    await writeSyntheticSeries(dir, axialSpec({ shift: { 5: [0, 0, 0.2] } }));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_SPACING');
    expect(error.message).toMatch(/between slices 5 and 6 of 9/);
  });

  it('accepts position noise within 1 %', async () => {
    const dir = await tempDir();
    await writeSyntheticSeries(dir, axialSpec({ shift: { 5: [0, 0, 0.01] } }));
    const { volume } = await ingest(dir);
    expect(volume.dims[2]).toBe(9);
  });

  it('refuses slices of different sizes, naming the slice', async () => {
    const dir = await tempDir();
    await writeSyntheticSeries(dir, axialSpec({ resize: [6] }));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_INCONSISTENT');
    expect(error.message).toBe('the DICOM series is inconsistent: slice 7 of 9 is 10×14 pixels while slice 1 is 10×12');
  });

  it('refuses a series whose images have different orientations', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeSyntheticSeries(join(dir, 'a'), axialSpec());
    await writeSyntheticSeries(join(dir, 'b'), axialSpec({ slices: 2, rowDirection: [0, 1, 0], columnDirection: [0, 0, -1], step: [1, 0, 0] }));
    const error = await holocaseErrorOf(ingest(dir));
    expect(error.code).toBe('SERIES_INCONSISTENT');
    expect(error.message).toMatch(/2 of 11 images have a different orientation|9 of 11 images have a different orientation/);
  });

  it('maps Pixel Padding Value to air (−1024) in CT', async () => {
    const dir = await tempDir();
    const spec = axialSpec({ origin: [10, 10, 10], padding: { value: -2000, pixels: [0, 1, 2] } });
    await writeSyntheticSeries(dir, spec);
    const { volume } = await ingest(dir);
    expect(Array.from(volume.data.subarray(0, 4)).slice(0, 3)).toEqual([-1024, -1024, -1024]);
    expect(volume.data[3]).toBe(positionValue(applyAffine(volume.affine, [3, 0, 0])));
    expect(volume.meta.paddingValue).toBe(-1024);
  });
});

describe('one image through the whole ingest path (header scan, positioned reads, decode)', () => {
  it.each([
    'dicom-codecs/MR_small_implicit.dcm',
    'dicom-codecs/MR_small_bigendian.dcm',
    'dicom-codecs/MR_small_padded.dcm',
    'dicom-encodings/MR_small_deflate.dcm',
    'dicom-codecs/MR_small_RLE.dcm',
    'dicom-encodings/MR_small_jls_frag1k_nobot.dcm',
    'dicom-codecs/MR_small_jp2klossless.dcm',
    'dicom-encodings/MR_small_htj2k201.dcm',
    'dicom-encodings/MR_small_jpegll70_frag1k.dcm',
  ])('%s gives the same values as MR_small.dcm', async (file) => {
    const reference = await ingest(join(CODECS, 'MR_small.dcm'), { allowSingleSlice: true });
    const { volume } = await ingest(join(CODECS, '..', file), { allowSingleSlice: true });
    expect(volume.dims).toEqual(reference.volume.dims);
    expect(Array.from(volume.data)).toEqual(Array.from(reference.volume.data));
  });
});

describe('stage context', () => {
  it('reports progress up to 1 while reading a series', async () => {
    const fractions: number[] = [];
    await ingest(CT_DICOM, { onProgress: (p) => fractions.push(p.fraction) });
    expect(fractions.length).toBeGreaterThan(3);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the user'));
    await expect(ingest(CT_DICOM, { signal: controller.signal })).rejects.toThrow(/cancelled/);
  });
});
