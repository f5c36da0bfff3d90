/**
 * NIfTI-1 reading and writing. Headers are built byte by byte here (not with `encodeNifti`), so the
 * reader is checked against the format itself: every scalar datatype, scaling, byte order, sform over
 * qform, qform quaternions, the pixdim fallback, and the refusals.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, orientationCodes, spacingOf, type Mat4, type Vec3 } from '../../mesh/grid.ts';
import { isHolocaseError } from '../../server/errors.ts';
import { decodeNifti, encodeNifti, readNifti, writeNifti } from '../../server/volume/nifti.ts';
import { reorient } from '../../server/volume/reorient.ts';
import type { Volume } from '../../server/volume/volume.ts';

const FIXTURES = path.resolve('../shared/fixtures/totalsegmentator');

interface HeaderSpec {
  dims: number[];
  datatype: number;
  bitpix: number;
  data: Uint8Array;
  littleEndian?: boolean;
  pixdim?: number[];
  slope?: number;
  inter?: number;
  sform?: { code: number; rows: number[][] };
  qform?: { code: number; b: number; c: number; d: number; offset: Vec3; qfac: number };
  magic?: string;
}

/** A single-file NIfTI-1 as the specification lays it out (348-byte header, 4 bytes extension flag). */
function niftiBytes(spec: HeaderSpec): Uint8Array {
  const le = spec.littleEndian ?? true;
  const out = new Uint8Array(352 + spec.data.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, le);
  v.setInt16(40, spec.dims.length, le);
  spec.dims.forEach((n, i) => v.setInt16(42 + 2 * i, n, le));
  v.setInt16(70, spec.datatype, le);
  v.setInt16(72, spec.bitpix, le);
  const pixdim = spec.pixdim ?? [1, 1, 1, 1];
  pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, 352, le);
  v.setFloat32(112, spec.slope ?? 0, le);
  v.setFloat32(116, spec.inter ?? 0, le);
  if (spec.qform) {
    v.setInt16(252, spec.qform.code, le);
    v.setFloat32(76, spec.qform.qfac, le);
    [spec.qform.b, spec.qform.c, spec.qform.d, ...spec.qform.offset].forEach((x, i) => v.setFloat32(256 + 4 * i, x, le));
  }
  if (spec.sform) {
    v.setInt16(254, spec.sform.code, le);
    spec.sform.rows.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, le)));
  }
  const magic = spec.magic ?? 'n+1';
  for (let i = 0; i < magic.length; i++) out[344 + i] = magic.charCodeAt(i);
  out.set(spec.data, 352);
  return out;
}

function typedBytes(array: ArrayBufferView, littleEndian = true, size = 1): Uint8Array {
  const bytes = new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
  if (!littleEndian) for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  return bytes;
}

async function expectError(work: () => unknown, code: string, text: RegExp): Promise<void> {
  try {
    await work();
  } catch (error) {
    expect(isHolocaseError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    expect((error as Error).message).toMatch(text);
    return;
  }
  throw new Error(`expected ${code}`);
}

const IDENTITY_SFORM = { code: 1, rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] };

describe('NIfTI-1 datatypes and scaling', () => {
  const cases: { name: string; code: number; values: ArrayBufferView & ArrayLike<number | bigint>; expected: number[] }[] = [
    { name: 'uint8', code: 2, values: new Uint8Array([0, 1, 254, 255]), expected: [0, 1, 254, 255] },
    { name: 'int8', code: 256, values: new Int8Array([-128, -1, 0, 127]), expected: [-128, -1, 0, 127] },
    { name: 'int16', code: 4, values: new Int16Array([-32768, -1024, 0, 32767]), expected: [-32768, -1024, 0, 32767] },
    { name: 'uint16', code: 512, values: new Uint16Array([0, 1, 40000, 65535]), expected: [0, 1, 40000, 65535] },
    { name: 'int32', code: 8, values: new Int32Array([-2147483648, -5, 7, 2147483647]), expected: [-2147483648, -5, 7, 2147483647] },
    { name: 'uint32', code: 768, values: new Uint32Array([0, 3, 3000000000, 4294967295]), expected: [0, 3, 3000000000, 4294967295] },
    { name: 'float32', code: 16, values: new Float32Array([-1.5, 0, 0.25, 1e6]), expected: [-1.5, 0, 0.25, 1e6] },
    { name: 'float64', code: 64, values: new Float64Array([-1e-9, 0, Math.PI, 1e300]), expected: [-1e-9, 0, Math.PI, 1e300] },
    { name: 'int64', code: 1024, values: new BigInt64Array([-5n, 0n, 123456789n, 9007199254740991n]), expected: [-5, 0, 123456789, 9007199254740991] },
    { name: 'uint64', code: 1280, values: new BigUint64Array([0n, 1n, 4294967296n, 9007199254740991n]), expected: [0, 1, 4294967296, 9007199254740991] },
  ];

  for (const c of cases) {
    for (const littleEndian of [true, false]) {
      it(`reads ${c.name} voxels (${littleEndian ? 'little' : 'big'} endian)`, () => {
        const size = c.values.byteLength / c.values.length;
        const bytes = niftiBytes({ dims: [4, 1, 1], datatype: c.code, bitpix: size * 8, data: typedBytes(c.values, littleEndian, size), littleEndian, sform: IDENTITY_SFORM });
        const volume = decodeNifti(bytes);
        expect(volume.dims).toEqual([4, 1, 1]);
        expect(Array.from(volume.data, Number)).toEqual(c.expected);
      });
    }
  }

  it('applies scl_slope/scl_inter, keeping integers integer and the rest real', () => {
    const stored = typedBytes(new Int16Array([0, 1, 2000, 4095]));
    const hu = decodeNifti(niftiBytes({ dims: [4, 1, 1], datatype: 4, bitpix: 16, data: stored, slope: 1, inter: -1024, sform: IDENTITY_SFORM }));
    expect(hu.data).toBeInstanceOf(Int16Array);
    expect(Array.from(hu.data)).toEqual([-1024, -1023, 976, 3071]);
    expect(hu.meta.rescale).toEqual({ slope: 1, intercept: -1024 });

    const wide = decodeNifti(niftiBytes({ dims: [4, 1, 1], datatype: 4, bitpix: 16, data: stored, slope: 20, inter: 0, sform: IDENTITY_SFORM }));
    expect(Array.from(wide.data)).toEqual([0, 20, 40000, 81900]);
    expect(wide.data).toBeInstanceOf(Int32Array);

    const real = decodeNifti(niftiBytes({ dims: [4, 1, 1], datatype: 4, bitpix: 16, data: stored, slope: 0.5, inter: 0.25, sform: IDENTITY_SFORM }));
    expect(real.data).toBeInstanceOf(Float32Array);
    expect(Array.from(real.data)).toEqual([0.25, 0.75, 1000.25, 2047.75]);

    // slope 0 means "no scaling" in NIfTI-1.
    const unscaled = decodeNifti(niftiBytes({ dims: [4, 1, 1], datatype: 4, bitpix: 16, data: stored, slope: 0, inter: 100, sform: IDENTITY_SFORM }));
    expect(Array.from(unscaled.data)).toEqual([0, 1, 2000, 4095]);
  });

  it('keeps NaN and infinities of real-valued files for the stages that handle them', () => {
    const data = typedBytes(new Float32Array([NaN, Infinity, -Infinity, 3]));
    const volume = decodeNifti(niftiBytes({ dims: [4, 1, 1], datatype: 16, bitpix: 32, data, sform: IDENTITY_SFORM }));
    expect(Array.from(volume.data)).toEqual([NaN, Infinity, -Infinity, 3]);
  });
});

describe('NIfTI-1 geometry', () => {
  const data = new Uint8Array(2 * 3 * 4).map((_, i) => i);

  it('converts the sform from RAS to LPS and prefers it over the qform', () => {
    const sform = { code: 2, rows: [[0, 0, 2.5, -100], [-0.8, 0, 0, 40], [0, 0.9, 0, 7]] };
    const qform = { code: 1, b: 0, c: 0, d: 0, offset: [1, 2, 3] as Vec3, qfac: 1 };
    const volume = decodeNifti(niftiBytes({ dims: [2, 3, 4], datatype: 2, bitpix: 8, data, pixdim: [1, 0.8, 0.9, 2.5], sform, qform }));
    // RAS (x, y, z) → LPS (−x, −y, z).
    expect(volume.affine).toEqual([0, 0, -2.5, 100, Math.fround(0.8), 0, 0, -40, 0, Math.fround(0.9), 0, 7, 0, 0, 0, 1]);
    expect(orientationCodes(volume.affine)).toBe('PSR');
  });

  it('builds the qform affine from the quaternion, pixdim and qfac', () => {
    // b = c = 0, d = 1: a 180° turn about z, so i runs to patient left and j to posterior (LPS storage).
    const qform = { code: 1, b: 0, c: 0, d: 1, offset: [10, 20, 30] as Vec3, qfac: 1 };
    const volume = decodeNifti(niftiBytes({ dims: [2, 3, 4], datatype: 2, bitpix: 8, data, pixdim: [1, 2, 3, 4], qform }));
    expect(volume.affine.map((x) => x + 0)).toEqual([2, 0, 0, -10, 0, 3, 0, -20, 0, 0, 4, 30, 0, 0, 0, 1]);
    expect(orientationCodes(volume.affine)).toBe('LPS');

    // qfac −1 flips the third axis (radiological storage).
    const flipped = decodeNifti(niftiBytes({ dims: [2, 3, 4], datatype: 2, bitpix: 8, data, pixdim: [1, 2, 3, 4], qform: { ...qform, qfac: -1 } }));
    expect(orientationCodes(flipped.affine)).toBe('LPI');

    // A 90° turn about x: b = sin(45°).
    const s = Math.SQRT1_2;
    const turned = decodeNifti(niftiBytes({ dims: [2, 3, 4], datatype: 2, bitpix: 8, data, pixdim: [1, 1, 1, 1], qform: { code: 1, b: s, c: 0, d: 0, offset: [0, 0, 0], qfac: 1 } }));
    // RAS: i → +x, j → +z, k → −y; in LPS: i → −L (R), j → +S, k → +P.
    expect(orientationCodes(turned.affine)).toBe('RSP');
  });

  it('falls back to pixdim scaling when neither form is set', () => {
    const volume = decodeNifti(niftiBytes({ dims: [2, 3, 4], datatype: 2, bitpix: 8, data, pixdim: [1, 0.5, 0.6, 0.7] }));
    expect(spacingOf(volume.affine).map((x) => Number(x.toFixed(6)))).toEqual([0.5, 0.6, 0.7]);
    expect(orientationCodes(volume.affine)).toBe('RAS');
  });

  it('reads the reference CT with the grid its README describes', async () => {
    const ct = await readNifti(path.join(FIXTURES, 'example_ct.nii.gz'));
    expect(ct.dims).toEqual([122, 101, 112]);
    expect(spacingOf(ct.affine).map((x) => Number(x.toFixed(3)))).toEqual([3, 3, 3]);
    expect(orientationCodes(ct.affine)).toBe('RAS');
    expect(ct.data).toBeInstanceOf(Int32Array);
    const labels = await readNifti(path.join(FIXTURES, 'example_seg_dicom.nii.gz'));
    expect(labels.dims).toEqual([512, 512, 20]);
    expect(orientationCodes(labels.affine)).toBe('LAS');
  });
});

describe('NIfTI-1 writing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'holocase-nifti-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const oblique: Mat4 = (() => {
    const t = (20 * Math.PI) / 180;
    // i along a rotated L/P direction (0.7 mm), j perpendicular to it (0.8 mm), k along S (2.5 mm).
    return [0.7 * Math.cos(t), -0.8 * Math.sin(t), 0, -120.5, 0.7 * Math.sin(t), 0.8 * Math.cos(t), 0, 35.25, 0, 0, 2.5, -300, 0, 0, 0, 1];
  })();

  const arrays = [
    new Uint8Array([0, 7, 255, 1, 2, 3]),
    new Int8Array([-128, 0, 127, 1, 2, 3]),
    new Int16Array([-1024, 0, 3071, 1, 2, 3]),
    new Uint16Array([0, 65535, 2, 1, 2, 3]),
    new Int32Array([-70000, 0, 70000, 1, 2, 3]),
    new Uint32Array([0, 4294967295, 2, 1, 2, 3]),
    new Float32Array([-0.5, 0, 1.25, NaN, 2, 3]),
    new Float64Array([-1e-12, 0, 1e12, 1, 2, 3]),
  ];

  for (const data of arrays) {
    it(`round-trips ${data.constructor.name} values and the affine exactly through .nii.gz`, async () => {
      const volume: Volume = { dims: [3, 2, 1], affine: oblique.map((x) => Math.fround(x)), data, meta: { source: 'nifti' } };
      const file = path.join(dir, `${data.constructor.name}.nii.gz`);
      await writeNifti(volume, file);
      const back = await readNifti(file);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data)).toEqual(Array.from(data));
      expect(back.affine).toEqual(volume.affine);
    });
  }

  it('writes a qform that agrees with the sform, for readers that use the qform', () => {
    for (const code of ['LPS', 'RAS', 'PIR', 'ASL']) {
      const base: Volume = { dims: [3, 2, 1], affine: oblique, data: new Int16Array(6), meta: { source: 'nifti' } };
      const volume = reorient(base, code);
      const bytes = encodeNifti(volume);
      new DataView(bytes.buffer).setInt16(254, 0, true); // drop the sform: the reader must use the qform
      const viaQform = decodeNifti(bytes);
      for (const corner of [[0, 0, 0], [2, 1, 0], [0, 1, 3]] as Vec3[]) {
        const want = applyAffine(volume.affine, corner);
        const got = applyAffine(viaQform.affine, corner);
        for (let a = 0; a < 3; a++) expect(got[a]).toBeCloseTo(want[a], 3);
      }
    }
  });

  it('a reoriented copy on disk gives the same HU at the same LPS point', async () => {
    const ct = await readNifti(path.join(FIXTURES, 'example_ct.nii.gz'));
    const file = path.join(dir, 'ct_lps.nii.gz');
    await writeNifti(reorient(ct, 'LPS'), file);
    const lps = await readNifti(file);
    expect(orientationCodes(lps.affine)).toBe('LPS');
    const [nx, ny] = ct.dims;
    const [mx, my] = lps.dims;
    for (const [i, j, k] of [[10, 20, 30], [60, 50, 56], [121, 0, 111], [0, 100, 0]] as Vec3[]) {
      const p = applyAffine(ct.affine, [i, j, k]);
      // In the LPS copy, L and P grow with i and j: find the voxel whose centre is p.
      const q = [0, 1, 2].map((a) => Math.round((p[a] - lps.affine[a * 4 + 3]) / lps.affine[a * 5])) as Vec3;
      expect(lps.data[q[0] + q[1] * mx + q[2] * mx * my]).toBe(ct.data[i + j * nx + k * nx * ny]);
    }
  });

  it('writes a label map held in shared memory and a view into a larger buffer, and gives back voxels that share nothing with the caller', async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(12)).map((_, i) => i * 7);
    const offset = new Int16Array(new ArrayBuffer(40), 8, 12).map((_, i) => i * 100 - 600);
    for (const data of [shared, offset]) {
      const file = path.join(dir, `view-${data.constructor.name}.nii.gz`);
      await writeNifti({ dims: [3, 2, 2], affine: oblique, data, meta: { source: 'nifti' } }, file);
      expect(Array.from((await readNifti(file)).data)).toEqual(Array.from(data));
      expect(Array.from(gunzipSync(await readFile(file)).subarray(352))).toEqual(Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    }
    // Bytes given by the caller are copied, never aliased.
    const bytes = encodeNifti({ dims: [3, 2, 2], affine: oblique, data: offset, meta: { source: 'nifti' } });
    const decoded = decodeNifti(bytes);
    bytes.fill(0, 352);
    expect(Array.from(decoded.data)).toEqual(Array.from(offset));
    expect(Array.from((await readNifti(bytes)).data)).toEqual(new Array(12).fill(0));
  });

  it('leaves no partial file when the target folder does not exist', async () => {
    const volume: Volume = { dims: [1, 1, 1], affine: oblique, data: new Uint8Array(1), meta: { source: 'nifti' } };
    await expect(writeNifti(volume, path.join(dir, 'missing', 'x.nii.gz'))).rejects.toThrow();
  });
});

describe('NIfTI-1 refusals', () => {
  const data = new Uint8Array(8);

  it('a header that promises more voxels than the file holds', async () => {
    const bytes = niftiBytes({ dims: [100, 100, 100], datatype: 4, bitpix: 16, data, sform: IDENTITY_SFORM });
    await expectError(() => decodeNifti(bytes, 'scan.nii'), 'NIFTI_TRUNCATED', /scan\.nii is incomplete.*100×100×100 int16/);
  });

  it('a gzipped header that claims gigabytes is refused without inflating them', async () => {
    const bytes = gzipSync(niftiBytes({ dims: [2000, 2000, 2000], datatype: 16, bitpix: 32, data, sform: IDENTITY_SFORM }));
    const started = Date.now();
    await expectError(() => readNifti(bytes, { name: 'huge.nii.gz' }), 'VOLUME_TOO_LARGE', /huge\.nii\.gz is 2000×2000×2000 voxels \(8\.0 billion\), more than holocase accepts/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a gzipped file cut short', async () => {
    const full = gzipSync(niftiBytes({ dims: [64, 64, 64], datatype: 4, bitpix: 16, data: new Uint8Array(64 * 64 * 64 * 2).map((_, i) => i * 7), sform: IDENTITY_SFORM }));
    await expectError(() => readNifti(full.subarray(0, full.length / 2), { name: 'cut.nii.gz' }), 'NIFTI_TRUNCATED', /cut\.nii\.gz/);
  });

  it('not NIfTI, NIfTI-2, a .hdr/.img pair, 4-D, complex voxels', async () => {
    await expectError(() => decodeNifti(new Uint8Array(400).fill(7), 'photo.jpg'), 'NIFTI_MALFORMED', /not a NIfTI-1 file/);
    const nifti2 = new Uint8Array(600);
    new DataView(nifti2.buffer).setInt32(0, 540, true);
    await expectError(() => decodeNifti(nifti2), 'NIFTI_UNSUPPORTED', /NIfTI-2/);
    await expectError(() => decodeNifti(niftiBytes({ dims: [2, 2, 2], datatype: 2, bitpix: 8, data, magic: 'ni1' })), 'NIFTI_UNSUPPORTED', /\.hdr\/\.img/);
    await expectError(() => decodeNifti(niftiBytes({ dims: [2, 2, 1, 2], datatype: 2, bitpix: 8, data, sform: IDENTITY_SFORM })), 'NIFTI_UNSUPPORTED', /2 volumes \(4-D\)/);
    await expectError(() => decodeNifti(niftiBytes({ dims: [1, 1, 1], datatype: 32, bitpix: 64, data, sform: IDENTITY_SFORM })), 'NIFTI_UNSUPPORTED', /complex64/);
  });

  it('a missing file', async () => {
    await expectError(() => readNifti('/nonexistent/ct.nii.gz'), 'NOT_FOUND', /does not exist/);
  });

  it('a file written by readNifti-compatible tools is read from disk the same as from bytes', async () => {
    const file = path.join(os.tmpdir(), `holocase-nifti-${process.pid}.nii`);
    const bytes = niftiBytes({ dims: [2, 2, 2], datatype: 2, bitpix: 8, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), sform: IDENTITY_SFORM });
    await writeFile(file, bytes);
    try {
      expect(Array.from((await readNifti(file)).data)).toEqual(Array.from(decodeNifti(await readFile(file)).data));
    } finally {
      await rm(file, { force: true });
    }
  });
});
