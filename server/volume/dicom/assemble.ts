/**
 * Reading a planned slice stack's pixels into one Int16 volume of Hounsfield units. Uncompressed slices
 * are read straight from their files at the pixel-data offset and converted in the same pass (no
 * intermediate copies); compressed slices are decoded in parallel by the decode pool's worker threads,
 * which also apply the modality LUT, so this thread only reads files and places slices.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { HolocaseError } from '../../errors.ts';
import type { StageContext } from '../../pipeline/context.ts';
import type { DecodePool } from './decodePool.ts';
import { decodeInline, sharedDecodePool } from './decodePool.ts';
import { encapsulatedFrameBytes, nativeFrameSize } from './frames.ts';
import { parseDicom } from './parse.ts';
import { swapToLittleEndian, writeHounsfield, type HounsfieldOptions } from './pixelValues.ts';
import type { DicomSlice } from './series.ts';
import type { SliceStack } from './sliceStack.ts';

export interface AssembleOptions extends StageContext {
  /** Worker pool for compressed frames (default: the process-wide pool). */
  pool?: DecodePool;
  /** Value for padding pixels (−1024, air, for CT). */
  paddingOutput?: number;
  /** Uncompressed slices read between two yields to the event loop. */
  yieldEvery?: number;
  /** Compressed series with at most this many frames are decoded on this thread (no worker start-up). */
  inlineFrames?: number;
}

export const ASSEMBLE_DEFAULTS = {
  paddingOutput: -1024,
  yieldEvery: 16,
  inlineFrames: 2,
} as const;

/** The slices one file holds (several for a multi-frame image) and their places in the stack. */
interface FileWork {
  slices: { slice: DicomSlice; k: number }[];
}

export interface AssembledVolume {
  data: Int16Array;
  /** Voxels clamped to the Int16 range. */
  clamped: number;
}

/** Reads every slice of `stack` into an Int16Array (x fastest, then y, then slice). */
export async function assembleSliceStack(stack: SliceStack, options: AssembleOptions = {}): Promise<AssembledVolume> {
  const paddingOutput = options.paddingOutput ?? ASSEMBLE_DEFAULTS.paddingOutput;
  const [nx, ny, nz] = stack.dims;
  const plane = nx * ny;
  const data = new Int16Array(plane * nz);
  let clamped = 0;
  let done = 0;
  const report = () => {
    done++;
    if (options.onProgress && (done === nz || done % Math.max(1, Math.floor(nz / 20)) === 0)) {
      options.onProgress({ stage: 'ingest', fraction: 0.1 + 0.9 * (done / nz), message: `read slice ${done} of ${nz}` });
    }
  };
  // 1. Work per file (multi-frame files hold several slices), native and compressed apart.
  const byFile = new Map<string, FileWork>();
  stack.slices.forEach((slice, k) => {
    const entry = byFile.get(slice.instance.path) ?? { slices: [] };
    entry.slices.push({ slice, k });
    byFile.set(slice.instance.path, entry);
  });
  const files = [...byFile.values()];
  const hounsfieldOf = (slice: DicomSlice): HounsfieldOptions => ({
    rescale: slice.rescale,
    padding: slice.instance.header.padding,
    paddingOutput,
  });
  const isNative = (slice: DicomSlice) => !slice.instance.transferSyntax.encapsulated && !slice.instance.transferSyntax.deflated;
  const compressedFrames = stack.slices.filter((s) => !isNative(s)).length;
  const pool = compressedFrames > (options.inlineFrames ?? ASSEMBLE_DEFAULTS.inlineFrames) ? (options.pool ?? sharedDecodePool()) : undefined;
  const name = (k: number) => `slice ${k + 1} of ${nz}`;
  const yieldEvery = options.yieldEvery ?? ASSEMBLE_DEFAULTS.yieldEvery;

  // 2. Uncompressed: positioned reads into one reusable buffer, converted straight into the volume.
  //    Reads are synchronous (much faster than thread-pool round trips for hundreds of files; the
  //    conversion right after is CPU work anyway); the loop yields to the event loop between batches.
  let buffer: Buffer | undefined;
  let sinceYield = 0;
  async function readNative(entry: FileWork): Promise<void> {
    const instance = entry.slices[0].slice.instance;
    const layout = instance.header.layout;
    const size = nativeFrameSize(layout);
    const fd = openSync(instance.path, 'r');
    try {
      for (const { slice, k } of entry.slices) {
        if (++sinceYield >= yieldEvery) {
          sinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
          throwIfAborted(options.signal);
        }
        if (!buffer || buffer.length < size) buffer = Buffer.allocUnsafe(size);
        const bytes = buffer.subarray(0, size);
        const position = instance.header.pixelData!.offset + slice.frame * size;
        let at = 0;
        while (at < size) {
          const bytesRead = readSync(fd, bytes, at, size - at, position + at);
          if (bytesRead === 0) throw new HolocaseError('DICOM_TRUNCATED', `${name(k)} is cut short: its file ended while its pixel data was read`);
          at += bytesRead;
        }
        if (instance.transferSyntax.codec === 'native-big-endian') swapToLittleEndian(bytes, layout.bitsAllocated);
        clamped += writeHounsfield(bytes, layout, data, k * plane, hounsfieldOf(slice));
        report();
      }
    } finally {
      closeSync(fd);
    }
  }

  // 3. Compressed (or deflated): parse the whole file, decode frames in the pool (or here).
  async function readEncoded(entry: FileWork): Promise<void> {
    const instance = entry.slices[0].slice.instance;
    throwIfAborted(options.signal);
    const bytes = await readFile(instance.path);
    const parsed = parseDicom(bytes, { name: name(entry.slices[0].k) });
    await Promise.all(
      entry.slices.map(async ({ slice, k }) => {
        const header = instance.header;
        if (!parsed.transferSyntax.encapsulated) {
          // Deflated native data: the pixel bytes are in the inflated dataset.
          const pixel = parsed.dataSet.elements.x7fe00010;
          const size = nativeFrameSize(header.layout);
          const start = pixel.dataOffset + slice.frame * size;
          if (start + size > parsed.bytes.length) throw new HolocaseError('DICOM_TRUNCATED', `${name(k)} is cut short: its pixel data is shorter than declared`);
          clamped += writeHounsfield(parsed.bytes.subarray(start, start + size), header.layout, data, k * plane, hounsfieldOf(slice));
          report();
          return;
        }
        const encoded = encapsulatedFrameBytes(parsed.dataSet, header, parsed.transferSyntax, slice.frame, name(k));
        const job = { encoded, transferSyntax: parsed.transferSyntax, layout: header.layout, name: name(k), hounsfield: hounsfieldOf(slice) };
        const result = pool ? await pool.decode(job) : await decodeInline(job);
        data.set(result.pixels as Int16Array, k * plane);
        clamped += result.clamped;
        report();
      }),
    );
  }

  // 4. Run: native files one after another; compressed files a few at a time, so every decoder
  //    thread stays busy while this thread reads and parses the next files.
  throwIfAborted(options.signal);
  const native = files.filter((f) => isNative(f.slices[0].slice));
  const encoded = files.filter((f) => !isNative(f.slices[0].slice));
  for (const entry of native) await readNative(entry);
  const lanes = Math.max(1, pool ? pool.size * 2 : 1);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, encoded.length) }, async () => {
      while (next < encoded.length) await readEncoded(encoded[next++]);
    }),
  );
  return { data, clamped };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('ingest was cancelled');
}
