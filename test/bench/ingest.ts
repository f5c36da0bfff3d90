/**
 * Ingest throughput (budgets in the design guide): the real JPEG 2000 fixture series (20 slices of
 * 512×512) and a synthetic 512×512×500 uncompressed series built from it at bench time (decoded,
 * tiled along z, written with `writeDicomSeries`). Peers measured in the same run on the same files:
 * dicom-parser parsing alone and dcmjs parsing alone (no decoding, no volume), and ingest with a single
 * decoder thread. Figures are medians of several runs; the first (cold) run is reported apart.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import dicomParser from 'dicom-parser';
import type { Mat4 } from '../../mesh/grid.ts';
import { closeSharedDecodePool, createDecodePool, type DecodePool } from '../../server/volume/dicom/decodePool.ts';
import { writeDicomSeries } from '../../server/volume/dicomWriter.ts';
import { ingest } from '../../server/volume/ingest.ts';
import type { Volume } from '../../server/volume/volume.ts';
import { median } from './median.ts';

const FIXTURE = resolve(import.meta.dirname, '../../../shared/fixtures/totalsegmentator/example_ct_dicom');

export interface IngestBenchOptions {
  /** Timed runs per measurement (the median is reported). */
  runs?: number;
  /** Slices of the synthetic uncompressed series. */
  syntheticSlices?: number;
}

export const INGEST_BENCH_DEFAULTS = { runs: 5, syntheticSlices: 500 } satisfies Required<IngestBenchOptions>;

async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times;
}

function rate(bytes: number, slices: number, ms: number) {
  return { ms: Math.round(ms), pixelMBps: Math.round(bytes / 1e6 / (ms / 1000)), slicesPerS: Math.round((slices / (ms / 1000)) * 10) / 10 };
}

/** Reads and parses every file with dicom-parser alone (pixel data located, not decoded). */
async function parseWithDicomParser(files: string[]): Promise<number> {
  let pixelBytes = 0;
  for (const f of files) {
    const ds = dicomParser.parseDicom(await readFile(f));
    pixelBytes += ds.elements.x7fe00010.length === 0xffffffff ? ds.elements.x7fe00010.fragments!.reduce((s, x) => s + x.length, 0) : ds.elements.x7fe00010.length;
  }
  return pixelBytes;
}

/** Reads and parses every file with dcmjs alone. */
async function parseWithDcmjs(files: string[]): Promise<void> {
  const dcmjs = createRequire(import.meta.url)('dcmjs') as { data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: object): unknown } } };
  for (const f of files) {
    const bytes = await readFile(f);
    dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { untilTag: undefined });
  }
}

/** The fixture decoded, tiled along z to `slices` slices (same in-plane grid, 2 mm apart). */
function tiled(volume: Volume<Int16Array>, slices: number): Volume<Int16Array> {
  const plane = volume.dims[0] * volume.dims[1];
  const data = new Int16Array(plane * slices);
  for (let k = 0; k < slices; k++) data.set(volume.data.subarray((k % volume.dims[2]) * plane, ((k % volume.dims[2]) + 1) * plane), k * plane);
  return { ...volume, dims: [volume.dims[0], volume.dims[1], slices], affine: [...volume.affine] as Mat4, data };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

export async function bench(options: IngestBenchOptions = {}): Promise<Record<string, unknown>> {
  const { runs, syntheticSlices } = { ...INGEST_BENCH_DEFAULTS, ...options };
  const cores = availableParallelism();
  const result: Record<string, unknown> = {
    machine: { availableParallelism: cores, cpu: cpus()[0]?.model, node: process.version },
    runs,
  };

  // 1. The JPEG 2000 fixture: cold (fresh process state: codecs and decoder threads start), then warm.
  await closeSharedDecodePool();
  const fixtureFiles = await listFiles(FIXTURE);
  const coldStart = performance.now();
  const fixture = await ingest(FIXTURE);
  const coldMs = performance.now() - coldStart;
  const slices = fixture.volume.dims[2];
  const fixtureBytes = fixture.volume.data.byteLength; // decoded pixel data (16-bit)
  const pool: DecodePool = createDecodePool({ size: cores });
  const single: DecodePool = createDecodePool({ size: 1 });
  try {
    await ingest(FIXTURE, { decodePool: pool });
    await ingest(FIXTURE, { decodePool: single });
    const warm = await timeRuns(runs, () => ingest(FIXTURE, { decodePool: pool }));
    const oneThread = await timeRuns(runs, () => ingest(FIXTURE, { decodePool: single }));
    const parseOnly = await timeRuns(runs, () => parseWithDicomParser(fixtureFiles));
    result.fixtureJpeg2000 = {
      workload: `example_ct_dicom: ${slices} slices of 512×512, JPEG 2000 Lossless, ${(fixtureBytes / 1e6).toFixed(1)} MB of decoded pixel data`,
      budget: '≥ 25 slices/s of 512×512 on 2 cores',
      ingestCold: { ...rate(fixtureBytes, slices, coldMs), note: 'first ingest in the process: codec loading and decoder-thread start-up included' },
      ingest: { ...rate(fixtureBytes, slices, median(warm)), decoderThreads: cores },
      peers: {
        ingestOneDecoderThread: { ...rate(fixtureBytes, slices, median(oneThread)), decoderThreads: 1 },
        dicomParserParseOnly: { ms: Math.round(median(parseOnly) * 10) / 10, slicesPerS: Math.round(slices / (median(parseOnly) / 1000)), note: 'read + parse of the compressed files, no decoding' },
      },
    };
  } finally {
    await pool.close();
    await single.close();
  }

  // 2. The synthetic uncompressed series, written at bench time into a temporary folder.
  const dir = await mkdtemp(join(tmpdir(), 'holocase-bench-ingest-'));
  try {
    const volume = tiled(fixture.volume as Volume<Int16Array>, syntheticSlices);
    await writeDicomSeries(volume, dir);
    const files = await listFiles(dir);
    const pixelBytes = volume.data.byteLength;
    await ingest(dir); // warm the page cache and the code
    const ingestTimes = await timeRuns(runs, () => ingest(dir));
    const parserTimes = await timeRuns(runs, () => parseWithDicomParser(files));
    const dcmjsTimes = await timeRuns(Math.min(runs, 3), () => parseWithDcmjs(files));
    result.syntheticUncompressed = {
      workload: `${volume.dims.join('×')} uncompressed series tiled from the fixture, ${files.length} files, ${(pixelBytes / 1e6).toFixed(0)} MB of pixel data, written by writeDicomSeries`,
      budget: '≥ 500 MB/s of pixel data',
      ingest: rate(pixelBytes, syntheticSlices, median(ingestTimes)),
      ingestRunsMs: ingestTimes.map(Math.round),
      peers: {
        dicomParserParseOnly: { ...rate(pixelBytes, syntheticSlices, median(parserTimes)), note: 'read + parse, no Hounsfield conversion, no volume' },
        dcmjsParseOnly: { ...rate(pixelBytes, syntheticSlices, median(dcmjsTimes)), note: 'read + DicomMessage.readFile' },
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await closeSharedDecodePool();
  }
  return result;
}
