/**
 * The DICOM series writer, checked by reading its files back with dicom-parser (an independent reader):
 * file count, geometry that reproduces the affine, Pixel Spacing order, pixel values, shuffled names and
 * Instance Numbers, the fake identity, and the gap / duplicate / tilt / encoding options (lossless JPEG 2000
 * decoded by dcmjs-codecs, not by the decoder ingest uses).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, type Vec3 } from '../../mesh/grid.ts';
import { DEFAULT_IDENTITY, writeDicomSeries, writtenAffine, type DicomSeriesOptions } from '../../server/volume/dicomWriter.ts';
import { makePhantom, type Phantom } from '../../server/volume/phantom.ts';
import { loadDcmjsCodecs } from '../../server/volume/dicom/codecs.ts';
import type { Volume } from '../../server/volume/volume.ts';

interface Slice {
  file: string;
  ds: dicomParser.DataSet;
  position: Vec3;
  row: Vec3;
  column: Vec3;
  instance: number;
}

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'holocase-phantom-dicom-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const numbers = (ds: dicomParser.DataSet, tag: string): number[] => (ds.string(tag) ?? '').split('\\').map(Number);
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

async function readSeries(files: string[]): Promise<Slice[]> {
  return Promise.all(
    files.map(async (file) => {
      const ds = dicomParser.parseDicom(new Uint8Array(await readFile(file)));
      const iop = numbers(ds, 'x00200037');
      return {
        file,
        ds,
        position: numbers(ds, 'x00200032') as Vec3,
        row: iop.slice(0, 3) as Vec3,
        column: iop.slice(3, 6) as Vec3,
        instance: Number(ds.string('x00200013')),
      };
    }),
  );
}

/** Sorted along the slice normal, as a correct reader sorts. */
function byPosition(slices: Slice[]): Slice[] {
  const normal = cross(slices[0].row, slices[0].column);
  return [...slices].sort((a, b) => dot(a.position, normal) - dot(b.position, normal));
}

/** Hounsfield values of a file's pixels: stored value × slope + intercept. */
function huOf(ds: dicomParser.DataSet): Float64Array {
  const el = ds.elements.x7fe00010;
  const signed = ds.uint16('x00280103') === 1;
  const count = ds.uint16('x00280010')! * ds.uint16('x00280011')!;
  expect(el.length).toBe(count * 2);
  const bytes = ds.byteArray.slice(el.dataOffset, el.dataOffset + el.length);
  const stored = signed ? new Int16Array(bytes.buffer, bytes.byteOffset, count) : new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const slope = Number(ds.string('x00281053')), intercept = Number(ds.string('x00281052'));
  return Float64Array.from(stored, (v) => v * slope + intercept);
}

let phantom: Phantom;
let small: Volume<Int16Array>;

beforeAll(() => {
  // Anisotropic voxels so that a swapped Pixel Spacing or Rows/Columns shows.
  phantom = makePhantom({ spacingMm: [3, 4, 5], fieldOfViewMm: [380, 280, 200] });
  small = makePhantom({ spacingMm: [4, 4, 4], fieldOfViewMm: [380, 280, 60], centerLpsMm: [0, 30, -200], seed: 2 }).ct;
});

async function write(volume: Volume, options?: DicomSeriesOptions): Promise<{ dir: string; slices: Slice[] }> {
  const dir = join(await freshDir(), 'nested', 'series');
  const files = await writeDicomSeries(volume, dir, options);
  expect((await readdir(dir)).sort()).toEqual(files.map((f) => f.slice(dir.length + 1)).sort());
  return { dir, slices: await readSeries(files) };
}

describe('writeDicomSeries', () => {
  it('writes one CT file per slice whose geometry and pixels reproduce the volume', async () => {
    const { ct } = phantom;
    const [ni, nj, nk] = ct.dims;
    const { slices } = await write(ct);
    expect(slices).toHaveLength(nk);
    const sorted = byPosition(slices);
    sorted.forEach((s, k) => {
      expect(s.ds.string('x00080016')).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(s.ds.string('x00020010')).toBe('1.2.840.10008.1.2.1');
      expect(s.ds.string('x00080060')).toBe('CT');
      expect(s.ds.uint16('x00280010')).toBe(nj);
      expect(s.ds.uint16('x00280011')).toBe(ni);
      // Pixel Spacing is [between rows (j), between columns (i)].
      expect(numbers(s.ds, 'x00280030')).toEqual([4, 3]);
      expect(Number(s.ds.string('x00180050'))).toBe(5);
      expect(s.row).toEqual([1, 0, 0]);
      expect(s.column).toEqual([0, 1, 0]);
      const expected = applyAffine(ct.affine, [0, 0, k]);
      s.position.forEach((v, a) => expect(v).toBeCloseTo(expected[a], 4));
      expect(s.ds.uint16('x00280100')).toBe(16);
      expect([12, 16]).toContain(s.ds.uint16('x00280101'));
      expect(s.ds.uint16('x00280103')).toBe(0);
      expect(Number(s.ds.string('x00281052'))).toBe(-1024);
      expect(Number(s.ds.string('x00281053'))).toBe(1);
      const hu = huOf(s.ds);
      const base = k * ni * nj;
      for (let n = 0; n < ni * nj; n++) {
        if (hu[n] !== ct.data[base + n]) throw new Error(`slice ${k} pixel ${n}: ${hu[n]} HU written, ${ct.data[base + n]} in the volume`);
      }
    });
    // The slice step along the normal equals the affine's k spacing.
    const normal = cross(sorted[0].row, sorted[0].column);
    for (let k = 1; k < nk; k++) expect(dot(sorted[k].position, normal) - dot(sorted[k - 1].position, normal)).toBeCloseTo(5, 4);
  });

  it('shuffles file names and Instance Numbers so neither gives the slice order', async () => {
    const { slices } = await write(small);
    const sorted = byPosition(slices);
    const byName = [...slices].sort((a, b) => (a.file < b.file ? -1 : 1));
    const byInstance = [...slices].sort((a, b) => a.instance - b.instance);
    const same = (a: Slice[], b: Slice[]): boolean => a.every((s, n) => s === b[n]);
    const reversed = [...sorted].reverse();
    expect(same(byName, sorted) || same(byName, reversed)).toBe(false);
    expect(same(byInstance, sorted) || same(byInstance, reversed)).toBe(false);
    expect(slices.map((s) => s.instance).sort((a, b) => a - b)).toEqual(slices.map((_, n) => n + 1));

    const ordered = await write(small, { shuffleFileNames: false });
    const names = [...ordered.slices].sort((a, b) => (a.file < b.file ? -1 : 1));
    expect(same(names, byPosition(ordered.slices))).toBe(true);
    expect(names.map((s) => s.instance)).toEqual(names.map((_, n) => n + 1));
  });

  it('writes the fake identity, random 2.25 UIDs shared by the series, and the allowed technique fields', async () => {
    const { slices } = await write(small);
    const fields: Record<string, string> = {
      PatientName: 'x00100010', PatientID: 'x00100020', PatientBirthDate: 'x00100030', PatientSex: 'x00100040',
      AccessionNumber: 'x00080050', InstitutionName: 'x00080080', InstitutionAddress: 'x00080081',
      ReferringPhysicianName: 'x00080090', PerformingPhysicianName: 'x00081050', OperatorsName: 'x00081070',
      StationName: 'x00081010', DeviceSerialNumber: 'x00181000', StudyDate: 'x00080020', StudyTime: 'x00080030',
      SeriesDate: 'x00080021', StudyID: 'x00200010',
    };
    expect(DEFAULT_IDENTITY.PatientName).toBe('Doe^Jane^Phantom');
    expect(DEFAULT_IDENTITY.PatientID).toBe('PHANTOM-0001');
    expect(DEFAULT_IDENTITY.AccessionNumber).toBe('ACC123456');
    expect(DEFAULT_IDENTITY.InstitutionName).toBe('Holocase General Hospital');
    expect(DEFAULT_IDENTITY.ReferringPhysicianName).toBe('Referrer^Rita');
    for (const s of slices) {
      for (const [name, tag] of Object.entries(fields)) expect(s.ds.string(tag), name).toBe(DEFAULT_IDENTITY[name as keyof typeof DEFAULT_IDENTITY]);
      expect(s.ds.string('x00180015')).toBe('CHEST');
      expect(Number(s.ds.string('x00180060'))).toBe(120);
      expect(s.ds.string('x00080070')).toBe('holocase phantom');
      expect(s.ds.string('x00180010')).toBeTruthy(); // contrast agent: the phantom is enhanced
    }
    const uids = (tag: string): Set<string | undefined> => new Set(slices.map((s) => s.ds.string(tag)));
    for (const tag of ['x0020000d', 'x0020000e', 'x00200052']) {
      expect(uids(tag).size, tag).toBe(1);
      expect([...uids(tag)][0]).toMatch(/^2\.25\.[1-9][0-9]*$/);
    }
    expect(uids('x00080018').size).toBe(slices.length);
    for (const s of slices) expect(s.ds.string('x00020003')).toBe(s.ds.string('x00080018'));

    const other = await write(small, { identity: { PatientName: 'Roe^Richard' }, contrast: false, seriesDescription: 'second' });
    expect(other.slices[0].ds.string('x00100010')).toBe('Roe^Richard');
    expect(other.slices[0].ds.string('x00100020')).toBe('PHANTOM-0001');
    expect(other.slices[0].ds.string('x0008103e')).toBe('second');
    expect(other.slices[0].ds.elements.x00180010).toBeUndefined();
    expect(other.slices[0].ds.string('x0020000e')).not.toBe(slices[0].ds.string('x0020000e'));
  });

  it('leaves out slices and writes a duplicate when asked', async () => {
    const nk = small.dims[2];
    const gaps = await write(small, { omitSlices: [3, 7] });
    expect(gaps.slices).toHaveLength(nk - 2);
    const present = new Set(gaps.slices.map((s) => Math.round((s.position[2] - small.affine[11]) / small.affine[10])));
    for (let k = 0; k < nk; k++) expect(present.has(k), `slice ${k}`).toBe(![3, 7].includes(k));

    const dup = await write(small, { duplicateSlice: 4 });
    expect(dup.slices).toHaveLength(nk + 1);
    const at4 = dup.slices.filter((s) => Math.abs(s.position[2] - (small.affine[11] + 4 * small.affine[10])) < 1e-3);
    expect(at4).toHaveLength(2);
    expect(at4[0].ds.string('x00080018')).not.toBe(at4[1].ds.string('x00080018'));
    expect(huOf(at4[0].ds)).toEqual(huOf(at4[1].ds));
    expect(new Set(dup.slices.map((s) => s.instance)).size).toBe(nk + 1);
  });

  it('writes a gantry-tilted stack: turned orientation, positions stepping along S only', async () => {
    const tilt = 20;
    const { slices } = await write(small, { gantryTiltDeg: tilt });
    const sorted = byPosition(slices);
    const t = (tilt * Math.PI) / 180;
    for (const s of sorted) {
      expect(Number(s.ds.string('x00181120'))).toBe(tilt);
      expect(s.row).toEqual([1, 0, 0]);
      // The column direction is turned about L by the tilt angle.
      expect(Math.abs(s.column[1])).toBeCloseTo(Math.cos(t), 6);
      expect(Math.abs(s.column[2])).toBeCloseTo(Math.sin(t), 6);
      expect(s.column[0]).toBe(0);
    }
    const normal = cross(sorted[0].row, sorted[0].column);
    for (let k = 1; k < sorted.length; k++) {
      const step = [0, 1, 2].map((a) => sorted[k].position[a] - sorted[k - 1].position[a]) as Vec3;
      expect(step[0]).toBeCloseTo(0, 4);
      expect(step[1]).toBeCloseTo(0, 4);
      expect(step[2]).toBeCloseTo(4, 4);
      // Sheared: the step is not along the slice normal.
      expect(Math.abs(dot(step, normal))).toBeCloseTo(4 * Math.cos(t), 4);
    }
    // Each pixel holds the volume's value at the patient position its header gives (nearest voxel).
    const toVoxel = invertAffine(small.affine);
    const [ni, nj, nk] = small.dims;
    const spacing = numbers(sorted[0].ds, 'x00280030');
    let inside = 0;
    for (const s of sorted) {
      const hu = huOf(s.ds);
      for (let r = 0; r < nj; r += 3) {
        for (let c = 0; c < ni; c += 3) {
          const p = [0, 1, 2].map((a) => s.position[a] + c * spacing[1] * s.row[a] + r * spacing[0] * s.column[a]) as Vec3;
          const [i, j, k] = applyAffine(toVoxel, p).map(Math.round);
          const within = i >= 0 && i < ni && j >= 0 && j < nj && k >= 0 && k < nk;
          if (within) inside++;
          expect(hu[r * ni + c]).toBe(within ? small.data[i + j * ni + k * ni * nj] : -1000);
        }
      }
    }
    expect(inside).toBeGreaterThan(1000);
    // writtenAffine describes the same sheared grid.
    const sheared = writtenAffine(small, tilt);
    const expected = [
      sorted[0].row.map((v) => v * spacing[1]),
      sorted[0].column.map((v) => v * spacing[0]),
      [0, 1, 2].map((a) => sorted[1].position[a] - sorted[0].position[a]),
      sorted[0].position,
    ];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expect(sheared[r * 4 + c]).toBeCloseTo(expected[c][r], 4);
    expect(writtenAffine(small)).toEqual(small.affine);
  });

  it('writes implicit VR little endian and signed pixels on request', async () => {
    const implicit = await write(small, { transferSyntax: 'implicit-little-endian' });
    const signed = await write(small, { signed: true });
    for (const series of [implicit, signed]) {
      const sorted = byPosition(series.slices);
      const [ni, nj] = small.dims;
      sorted.forEach((s, k) => {
        const hu = huOf(s.ds);
        for (let n = 0; n < ni * nj; n++) if (hu[n] !== small.data[k * ni * nj + n]) throw new Error(`slice ${k} pixel ${n} differs`);
      });
    }
    expect(implicit.slices[0].ds.string('x00020010')).toBe('1.2.840.10008.1.2');
    expect(signed.slices[0].ds.uint16('x00280103')).toBe(1);
    expect(Number(signed.slices[0].ds.string('x00281052'))).toBe(0);
  });

  it('writes lossless JPEG 2000 (one fragment per slice) that another decoder restores exactly', async () => {
    const codecs = await loadDcmjsCodecs();
    const { slices } = await write(small, { transferSyntax: 'jpeg2000-lossless' });
    const sorted = byPosition(slices);
    const [ni, nj] = small.dims;
    expect(sorted).toHaveLength(small.dims[2]);
    sorted.forEach((s, k) => {
      expect(s.ds.string('x00020010')).toBe('1.2.840.10008.1.2.4.90');
      const fragments = s.ds.elements.x7fe00010.fragments!;
      expect(fragments).toHaveLength(1);
      const codestream = new Uint8Array(s.ds.byteArray.buffer, s.ds.byteArray.byteOffset + fragments[0].position, fragments[0].length);
      expect([...codestream.subarray(0, 4)]).toEqual([0xff, 0x4f, 0xff, 0x51]); // SOC, SIZ
      expect(codestream.length).toBeLessThan(ni * nj * 2); // compressed
      // dcmjs-codecs (its own OpenJPEG build and wrapper, not the one ingest uses) restores every value.
      const context = new codecs.Context({
        width: ni, height: nj, bitsAllocated: 16, bitsStored: s.ds.uint16('x00280101'), samplesPerPixel: 1, pixelRepresentation: 0,
        planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', encodedBuffer: new Uint8Array(codestream),
      });
      const decoded = codecs.NativeCodecs.decodeJpeg2000(context, {}).getDecodedBuffer()!;
      const stored = new Uint16Array(decoded.buffer, decoded.byteOffset, ni * nj);
      const intercept = Number(s.ds.string('x00281052'));
      for (let n = 0; n < ni * nj; n++) if (stored[n] + intercept !== small.data[k * ni * nj + n]) throw new Error(`slice ${k} pixel ${n} differs`);
    });
  });

  it('refuses slices that do not exist and leaves no temporary files', async () => {
    await expect(writeDicomSeries(small, await freshDir(), { omitSlices: [small.dims[2]] })).rejects.toThrow(/slice \d+ does not exist/);
    const { dir } = await write(small);
    expect((await readdir(dir)).filter((f) => f.startsWith('.') || f.endsWith('.tmp'))).toEqual([]);
  });
});
