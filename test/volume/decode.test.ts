/**
 * Pixel decoding against verified references: every case in dicom-encodings/cases.json must give
 * exactly the reference's stored values, every `bad` file a typed error (quickly, without allocating
 * what a damaged header declares), and codestreams that are truncated or mislabelled but wrapped in a
 * well-formed file must be refused rather than decoded into a wrong image.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { readStoredValues } from '../../server/volume/dicom/readImage.ts';
import { closeSharedDecodePool, createDecodePool } from '../../server/volume/dicom/decodePool.ts';
import { requireTransferSyntax } from '../../server/volume/dicom/transferSyntax.ts';
import { readDicomImage } from '../../server/volume/dicom/readImage.ts';
import { encapsulatedFrameBytes } from '../../server/volume/dicom/frames.ts';
import { CODECS, ENCODINGS, FIXTURES, cutFirstFragment, relabelTransferSyntax } from './fixtures.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';

interface Case {
  file: string;
  ts: string;
  ref: string;
  note?: string;
}

const catalogue = JSON.parse(readFileSync(join(ENCODINGS, 'cases.json'), 'utf8')) as { cases: Case[]; bad: { file: string; expect: string }[] };

async function stored(file: string) {
  const bytes = await readFile(join(FIXTURES, file));
  return readStoredValues(bytes, { name: file });
}

afterAll(closeSharedDecodePool);

describe('cases.json: every transfer syntax decodes to the reference stored values', () => {
  it('lists 39 cases', () => {
    expect(catalogue.cases).toHaveLength(39);
  });

  it.each(catalogue.cases.map((c) => [c.file, c] as const))('%s', async (_, c) => {
    const got = await stored(c.file);
    const ref = await stored(c.ref);
    expect(got.header.layout.rows).toBe(ref.header.layout.rows);
    expect(got.header.layout.columns).toBe(ref.header.layout.columns);
    const a = got.frames[0];
    const b = ref.frames[0];
    expect(a.length).toBe(b.length);
    let mismatches = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('keeps negative values of signed data (sign-extended from Bits Stored)', async () => {
    const neg12 = await stored('dicom-encodings/NEG12_jls_P12.dcm');
    expect(neg12.header.layout.bitsStored).toBe(12);
    expect(neg12.frames[0]).toBeInstanceOf(Int16Array);
    let min = 0;
    for (const v of neg12.frames[0]) min = Math.min(min, v);
    expect(min).toBeLessThan(0);
    expect(min).toBeGreaterThanOrEqual(-2048);
  });
});

describe('cases.json bad list: typed errors, quickly', () => {
  const expectedCode: Record<string, string[]> = {
    'dicom-codecs/MR_truncated.dcm': ['DICOM_TRUNCATED'],
    'dicom-codecs/badVR.dcm': ['DICOM_MALFORMED'],
    'dicom-encodings/bad/CTJ2K_cut_mid_fragment.dcm': ['DICOM_TRUNCATED'],
    'dicom-encodings/bad/JLS_cut_mid_fragment.dcm': ['DICOM_TRUNCATED'],
    'dicom-encodings/bad/DICM_then_garbage.dcm': ['DICOM_MALFORMED'],
    'dicom-encodings/bad/MR_cut_header_600.dcm': ['DICOM_TRUNCATED'],
    'dicom-encodings/bad/MR_pixlen_len100MB.dcm': ['DICOM_TRUNCATED'],
    'dicom-encodings/bad/MR_pixlen_len2GB.dcm': ['DICOM_TRUNCATED'],
    'dicom-encodings/bad/MR_pixlen_len4GB.dcm': ['DICOM_TRUNCATED'],
    'dicom-encodings/bad/random_4k.bin': ['NOT_DICOM'],
  };

  it('covers every bad entry', () => {
    expect(catalogue.bad.map((b) => b.file).sort()).toEqual(Object.keys(expectedCode).sort());
  });

  it.each(catalogue.bad.map((b) => [b.file, b] as const))('%s', async (file) => {
    const heapBefore = process.memoryUsage().arrayBuffers;
    const error = await holocaseErrorOf(stored(file));
    expect(expectedCode[file]).toContain(error.code);
    expect(error.message.length).toBeGreaterThan(20);
    // No allocation of what a damaged header declares (100 MB – 4 GB).
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(50 * 1024 ** 2);
  });

  it('says what is wrong in words', async () => {
    expect((await holocaseErrorOf(stored('dicom-codecs/MR_truncated.dcm'))).message).toMatch(/pixel data is shorter than declared/);
    expect((await holocaseErrorOf(stored('dicom-codecs/badVR.dcm'))).message).toMatch(/Number of Frames '1A' is not a number/);
    expect((await holocaseErrorOf(stored('dicom-encodings/bad/MR_cut_header_600.dcm'))).message).toMatch(/ends inside the DICOM header/);
    expect((await holocaseErrorOf(stored('dicom-encodings/bad/MR_pixlen_len4GB.dcm'))).message).toMatch(/4\.0 GB/);
    expect((await holocaseErrorOf(stored('dicom-encodings/bad/random_4k.bin'))).message).toMatch(/is not a DICOM file/);
  });

  it('recognises a bare dataset without preamble or meta group (old exports), implicit and explicit VR', async () => {
    const reference = await stored('dicom-codecs/MR_small.dcm');
    for (const file of ['MR_small_implicit.dcm', 'MR_small.dcm']) {
      const bytes = new Uint8Array(await readFile(join(CODECS, file)));
      const meta = dicomParser.readPart10Header(bytes) as unknown as { position: number };
      const bare = bytes.subarray(meta.position);
      expect(bare[0]).toBe(0x08); // starts with group 0008
      const got = await readStoredValues(bare, { name: 'bare' });
      expect(Array.from(got.frames[0])).toEqual(Array.from(reference.frames[0]));
    }
  });

  it('refuses non-DICOM files and text as not DICOM', async () => {
    const jpegBytes = new Uint8Array(4096);
    jpegBytes.set([0xff, 0xd8, 0xff, 0xe0]);
    expect((await holocaseErrorOf(readStoredValues(jpegBytes, { name: 'photo.jpg' }))).code).toBe('NOT_DICOM');
    expect((await holocaseErrorOf(readStoredValues(new TextEncoder().encode('hello '.repeat(100)), { name: 'notes.txt' }))).code).toBe('NOT_DICOM');
  });
});

describe('well-formed files with broken codestreams are refused, not decoded into a wrong image', () => {
  const cut = async (file: string, keep: number) => cutFirstFragment(await readFile(join(FIXTURES, file)), keep);

  it.each([
    ['JPEG 2000', 'dicom-codecs/MR_small_jp2klossless.dcm'],
    ['HTJ2K', 'dicom-encodings/MR_small_htj2k201.dcm'],
    ['JPEG-LS', 'dicom-encodings/MR_small_jls_dcmjscodecs.dcm'],
    ['JPEG lossless', 'dicom-encodings/MR_small_jpegll70.dcm'],
    ['JPEG baseline', 'dicom-encodings/MR_small_jpegbaseline8.dcm'],
    ['JPEG extended', 'dicom-encodings/MR_small_jpeg51_dcmtk.dcm'],
    ['RLE', 'dicom-codecs/MR_small_RLE.dcm'],
  ])('%s truncated inside the frame', async (_, file) => {
    const bytes = await cut(file, 1200);
    const error = await holocaseErrorOf(readStoredValues(bytes, { name: 'cut.dcm' }));
    expect(error.code).toBe('DICOM_DECODE_FAILED');
    expect(error.message).toMatch(/cut\.dcm/);
  });

  it('a JPEG 2000 Part 1 stream labelled HTJ2K is refused (OpenJPH would return an empty image)', async () => {
    const bytes = relabelTransferSyntax(await readFile(join(CODECS, 'MR_small_jp2klossless.dcm')), '1.2.840.10008.1.2.4.201');
    const error = await holocaseErrorOf(readStoredValues(bytes, { name: 'mislabelled.dcm' }));
    expect(error.code).toBe('DICOM_DECODE_FAILED');
    expect(error.message).toMatch(/not High-Throughput/);
  });

  it('a lossy JPEG labelled lossless is refused (jpeg-lossless-decoder-js would return garbage)', async () => {
    const bytes = relabelTransferSyntax(await readFile(join(ENCODINGS, 'MR_small_jpeg51_dcmtk.dcm')), '1.2.840.10008.1.2.4.70');
    const error = await holocaseErrorOf(readStoredValues(bytes, { name: 'mislabelled.dcm' }));
    expect(error.code).toBe('DICOM_DECODE_FAILED');
    expect(error.message).toMatch(/not a lossless JPEG/);
  });

  it('an unknown transfer syntax is refused by name', async () => {
    const bytes = relabelTransferSyntax(await readFile(join(CODECS, 'MR_small.dcm')), '1.2.840.10008.1.2.4.100');
    const error = await holocaseErrorOf(readStoredValues(bytes, { name: 'mpeg.dcm' }));
    expect(error.code).toBe('DICOM_UNSUPPORTED');
    expect(error.message).toMatch(/MPEG2/);
  });
});

describe('decode pool', () => {
  it('decodes frames in worker threads to the same values as the calling thread', async () => {
    const pool = createDecodePool({ size: 2 });
    try {
      const bytes = await readFile(join(ENCODINGS, 'NEG12_j2k.dcm'));
      const image = await readDicomImage(bytes, { name: 'NEG12_j2k.dcm' });
      const encoded = encapsulatedFrameBytes(image.parsed.dataSet, image.header, image.transferSyntax, 0, 'frame');
      const results = await Promise.all(
        [0, 1, 2, 3].map(() => pool.decode({ encoded, transferSyntax: requireTransferSyntax(image.transferSyntax.uid), layout: image.header.layout, name: 'frame' })),
      );
      for (const r of results) expect(Buffer.compare(Buffer.from(r.pixels.buffer, r.pixels.byteOffset, r.pixels.byteLength), Buffer.from(image.frames[0]))).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('decodes on the calling thread when worker threads cannot start', async () => {
    const pool = createDecodePool({ size: 2, workerEntry: new URL('./no-such-worker.ts', import.meta.url) });
    try {
      const bytes = await readFile(join(ENCODINGS, 'NEG12_j2k.dcm'));
      const image = await readDicomImage(bytes, { name: 'NEG12_j2k.dcm' });
      const encoded = encapsulatedFrameBytes(image.parsed.dataSet, image.header, image.transferSyntax, 0, 'frame');
      const results = await Promise.all([0, 1, 2, 3, 4].map(() => pool.decode({ encoded, transferSyntax: image.transferSyntax, layout: image.header.layout, name: 'frame' })));
      for (const r of results) expect(Buffer.compare(Buffer.from(r.pixels.buffer, r.pixels.byteOffset, r.pixels.byteLength), Buffer.from(image.frames[0]))).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('reports a frame that fails in a worker as a typed error naming it', async () => {
    const pool = createDecodePool({ size: 1 });
    try {
      const bytes = cutFirstFragment(await readFile(join(CODECS, 'MR_small_jp2klossless.dcm')), 1000);
      const image = await readDicomImage(await readFile(join(CODECS, 'MR_small_jp2klossless.dcm')));
      const encoded = encapsulatedFrameBytes((await import('../../server/volume/dicom/parse.ts')).parseDicom(bytes).dataSet, image.header, image.transferSyntax, 0, 'x');
      const error = await holocaseErrorOf(pool.decode({ encoded, transferSyntax: image.transferSyntax, layout: image.header.layout, name: 'slice 7 of 9' }));
      expect(error.code).toBe('DICOM_DECODE_FAILED');
      expect(error.message).toMatch(/slice 7 of 9/);
    } finally {
      await pool.close();
    }
  });
});
