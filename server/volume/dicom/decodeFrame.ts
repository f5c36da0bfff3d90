/**
 * Decoding one compressed frame, dispatched strictly by transfer syntax. Every result is checked: the
 * codestream must be of the kind the transfer syntax names and complete (several decoders return a
 * blurred, empty or garbage image instead of failing on truncated or mislabelled data), and the decoder
 * must report the header's size and deliver exactly that many samples.
 */
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import { HolocaseError } from '../../errors.ts';
import { loadDcmjsCodecs, loadWasmCodec, type WasmCodecName } from './codecs.ts';
import { nativeFrameSize } from './frames.ts';
import type { PixelLayout } from './imageHeader.ts';
import { decodeRle } from './rle.ts';
import type { TransferSyntax } from './transferSyntax.ts';

/**
 * Decodes an encapsulated frame into little-endian stored sample bytes, exactly
 * `rows × columns × samples × Bits Allocated / 8` long (samples interleaved). Throws
 * `DICOM_DECODE_FAILED` naming the frame and what was wrong.
 */
export async function decodeFrame(encoded: Uint8Array, transferSyntax: TransferSyntax, layout: PixelLayout, name = 'DICOM frame'): Promise<Uint8Array> {
  const fail = (what: string) => new HolocaseError('DICOM_DECODE_FAILED', `${name} could not be decoded (${transferSyntax.name}): ${what}`);
  const expected = nativeFrameSize(layout);
  switch (transferSyntax.codec) {
    case 'native':
    case 'native-big-endian':
      throw new Error('decodeFrame is for encapsulated frames');
    case 'rle':
      return decodeRle(encoded, layout, name);
    case 'jpeg2000': {
      checkJ2k(encoded, false, fail);
      return widen(await decodeWithWasm('openjpeg', encoded, layout, fail), layout, expected, fail);
    }
    case 'htj2k': {
      checkJ2k(encoded, true, fail);
      return widen(await decodeWithWasm('openjph', encoded, layout, fail), layout, expected, fail);
    }
    case 'jpeg-ls': {
      const sof = checkJpeg(encoded, fail);
      if (sof.marker !== 0xf7) throw fail(`the frame is not a JPEG-LS stream (start-of-frame marker FF${hex(sof.marker)})`);
      return widen(await decodeWithWasm('charls', encoded, layout, fail), layout, expected, fail);
    }
    case 'jpeg-baseline': {
      const sof = checkJpeg(encoded, fail);
      if (sof.marker !== 0xc0 && sof.marker !== 0xc1) throw fail(`the frame is not a baseline JPEG stream (start-of-frame marker FF${hex(sof.marker)})`);
      if (sof.precision !== 8) throw fail(`the frame holds ${sof.precision}-bit samples, but JPEG baseline is 8-bit`);
      return widen(await decodeWithWasm('libjpeg-turbo', encoded, layout, fail), layout, expected, fail);
    }
    case 'jpeg-extended': {
      const sof = checkJpeg(encoded, fail);
      if (sof.marker !== 0xc0 && sof.marker !== 0xc1) throw fail(`the frame is not a JPEG extended stream (start-of-frame marker FF${hex(sof.marker)})`);
      checkJpegSize(sof, layout, fail);
      return decodeJpegExtended(encoded, layout, sof.precision, expected, fail);
    }
    case 'jpeg-lossless': {
      const sof = checkJpeg(encoded, fail);
      if (sof.marker !== 0xc3) throw fail(`the frame is not a lossless JPEG stream (start-of-frame marker FF${hex(sof.marker)})`);
      checkJpegSize(sof, layout, fail);
      return decodeJpegLossless(encoded, layout, sof, expected, fail);
    }
  }
}

type Fail = (what: string) => HolocaseError;

interface DecodedSamples {
  bytes: Uint8Array;
  /** Bytes per sample as delivered by the codec (1 or 2). */
  bytesPerSample: number;
  signed: boolean;
}

async function decodeWithWasm(codecName: WasmCodecName, encoded: Uint8Array, layout: PixelLayout, fail: Fail): Promise<DecodedSamples> {
  const codec = await loadWasmCodec(codecName);
  const decoder = codec.createDecoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    try {
      decoder.decode();
    } catch (error) {
      throw fail(`the decoder reported ${describeThrown(error)}`);
    }
    const info = decoder.getFrameInfo();
    if (info.width !== layout.columns || info.height !== layout.rows) {
      throw fail(`the frame is ${info.width}×${info.height} pixels, but the header says ${layout.columns}×${layout.rows}`);
    }
    if (info.componentCount !== layout.samplesPerPixel) {
      throw fail(`the frame has ${info.componentCount} components, but the header says ${layout.samplesPerPixel}`);
    }
    const bytesPerSample = info.bitsPerSample > 8 ? 2 : 1;
    const decoded = decoder.getDecodedBuffer();
    const want = layout.rows * layout.columns * layout.samplesPerPixel * bytesPerSample;
    if (decoded.length !== want) throw fail(`the decoder returned ${decoded.length} bytes instead of ${want}`);
    // Copy out of the WebAssembly heap: the view is invalid after the decoder is deleted.
    return { bytes: new Uint8Array(decoded), bytesPerSample, signed: Boolean(info.isSigned) || layout.pixelRepresentation === 1 };
  } finally {
    decoder.delete();
  }
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'number') return `error ${error}`;
  return String(error);
}

/** Brings codec output (1 or 2 bytes per sample) to the image's Bits Allocated. */
function widen(samples: DecodedSamples, layout: PixelLayout, expected: number, fail: Fail): Uint8Array {
  const target = layout.bitsAllocated / 8;
  if (samples.bytesPerSample === target) {
    if (samples.bytes.length !== expected) throw fail(`the decoder returned ${samples.bytes.length} bytes instead of ${expected}`);
    return samples.bytes;
  }
  if (samples.bytesPerSample > target) throw fail(`the frame holds ${samples.bytesPerSample * 8}-bit samples, but the header allocates ${layout.bitsAllocated} bits`);
  const count = samples.bytes.length / samples.bytesPerSample;
  const out = new Uint8Array(count * target);
  const view = new DataView(out.buffer);
  const src = new DataView(samples.bytes.buffer, samples.bytes.byteOffset, samples.bytes.byteLength);
  for (let i = 0; i < count; i++) {
    const v = samples.bytesPerSample === 1 ? (samples.signed ? src.getInt8(i) : src.getUint8(i)) : samples.signed ? src.getInt16(2 * i, true) : src.getUint16(2 * i, true);
    if (target === 2) view.setInt16(2 * i, v, true);
    else view.setInt32(4 * i, v, true);
  }
  if (out.length !== expected) throw fail(`the decoder returned ${out.length} bytes instead of ${expected}`);
  return out;
}

async function decodeJpegExtended(encoded: Uint8Array, layout: PixelLayout, precision: number, expected: number, fail: Fail): Promise<Uint8Array> {
  const codecs = await loadDcmjsCodecs();
  const context = new codecs.Context({
    width: layout.columns,
    height: layout.rows,
    bitsAllocated: precision > 8 ? 16 : 8,
    bitsStored: precision,
    samplesPerPixel: layout.samplesPerPixel,
    pixelRepresentation: layout.pixelRepresentation,
    planarConfiguration: layout.planarConfiguration,
    photometricInterpretation: layout.photometricInterpretation,
    // The codec may keep a reference; give it its own copy.
    encodedBuffer: new Uint8Array(encoded),
  });
  let decoded: Uint8Array | undefined;
  try {
    decoded = codecs.NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: false }).getDecodedBuffer();
  } catch (error) {
    throw fail(`the decoder reported ${describeThrown(error)}`);
  }
  if (!decoded) throw fail('the decoder returned no pixels');
  const bytesPerSample = precision > 8 ? 2 : 1;
  const want = layout.rows * layout.columns * layout.samplesPerPixel * bytesPerSample;
  if (decoded.length !== want) throw fail(`the decoder returned ${decoded.length} bytes instead of ${want}`);
  return widen({ bytes: new Uint8Array(decoded), bytesPerSample, signed: layout.pixelRepresentation === 1 }, layout, expected, fail);
}

function decodeJpegLossless(encoded: Uint8Array, layout: PixelLayout, sof: JpegFrameHeader, expected: number, fail: Fail): Uint8Array {
  const bytesPerSample = sof.precision > 8 ? 2 : 1;
  // A new decoder per frame: the library keeps the sample size of the first image it decoded.
  const decoder = new JpegLosslessDecoder();
  const copy = new Uint8Array(encoded); // a copy (Buffer#slice would be a view)
  let out: Uint8Array | Uint16Array;
  try {
    out = decoder.decode(copy.buffer, 0, copy.length, bytesPerSample);
  } catch (error) {
    throw fail(`the decoder reported ${describeThrown(error)}`);
  }
  const want = layout.rows * layout.columns * layout.samplesPerPixel;
  if (!out || out.length !== want) throw fail(`the decoder returned ${out?.length ?? 0} samples instead of ${want}`);
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  return widen({ bytes, bytesPerSample, signed: layout.pixelRepresentation === 1 }, layout, expected, fail);
}

interface JpegFrameHeader {
  /** Second byte of the start-of-frame marker: C0 baseline, C1 extended, C3 lossless, F7 JPEG-LS. */
  marker: number;
  precision: number;
  rows: number;
  columns: number;
  components: number;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf, 0xf7, 0xf8]);

/**
 * Checks a JPEG-family stream (JPEG, JPEG-LS): starts with SOI, ends with EOI (after optional padding),
 * and has a start-of-frame segment before the first scan. Returns that frame header.
 */
function checkJpeg(bytes: Uint8Array, fail: Fail): JpegFrameHeader {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw fail('the frame is not a JPEG stream (no start-of-image marker)');
  if (!endsWithMarker(bytes, 0xd9)) throw fail('the compressed frame is truncated (no end-of-image marker)');
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw fail('the JPEG stream is damaged (marker expected)');
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (SOF_MARKERS.has(marker)) {
      if (at + 10 > bytes.length) break;
      return {
        marker,
        precision: bytes[at + 4],
        rows: (bytes[at + 5] << 8) | bytes[at + 6],
        columns: (bytes[at + 7] << 8) | bytes[at + 8],
        components: bytes[at + 9],
      };
    }
    if (marker === 0xda) break;
    at += 2 + length;
  }
  throw fail('the JPEG stream has no frame header');
}

function checkJpegSize(sof: JpegFrameHeader, layout: PixelLayout, fail: Fail): void {
  if (sof.columns !== layout.columns || sof.rows !== layout.rows) {
    throw fail(`the frame is ${sof.columns}×${sof.rows} pixels, but the header says ${layout.columns}×${layout.rows}`);
  }
  if (sof.components !== layout.samplesPerPixel) throw fail(`the frame has ${sof.components} components, but the header says ${layout.samplesPerPixel}`);
  if (sof.precision > layout.bitsAllocated) throw fail(`the frame holds ${sof.precision}-bit samples, but the header allocates ${layout.bitsAllocated} bits`);
}

/**
 * Checks a JPEG 2000 codestream: SOC then SIZ, ends with EOC (a truncated stream otherwise decodes to a
 * blurred image without any error), and for HTJ2K a CAP marker in the main header (OpenJPH returns an
 * empty image for a Part 1 stream).
 */
function checkJ2k(bytes: Uint8Array, highThroughput: boolean, fail: Fail): void {
  let start = 0;
  // A JP2 file wrapper (not allowed by DICOM but seen): find the contiguous codestream box.
  if (bytes.length > 12 && bytes[4] === 0x6a && bytes[5] === 0x50 && bytes[6] === 0x20 && bytes[7] === 0x20) {
    const at = findBox(bytes, 'jp2c');
    if (at < 0) throw fail('the JP2 file holds no codestream');
    start = at;
  }
  if (bytes[start] !== 0xff || bytes[start + 1] !== 0x4f || bytes[start + 2] !== 0xff || bytes[start + 3] !== 0x51) {
    throw fail('the frame is not a JPEG 2000 codestream');
  }
  if (!endsWithMarker(bytes, 0xd9)) throw fail('the compressed frame is truncated (no end-of-codestream marker)');
  // Walk the main header (marker segments) up to the first tile (SOT, FF90).
  let at = start + 2;
  let hasCap = false;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw fail('the JPEG 2000 main header is damaged');
    const marker = bytes[at + 1];
    if (marker === 0x90) break;
    if (marker === 0x50) hasCap = true;
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
  if (highThroughput && !hasCap) throw fail('the frame is a JPEG 2000 Part 1 stream, not High-Throughput JPEG 2000 as its transfer syntax says');
}

function findBox(bytes: Uint8Array, type: string): number {
  let at = 0;
  while (at + 8 <= bytes.length) {
    const size = ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
    const name = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (name === type) return at + 8;
    if (size < 8) return -1;
    at += size;
  }
  return -1;
}

/** Ends with FF `marker`, allowing up to 8 bytes of 00/FF padding after it (fragments have even length). */
function endsWithMarker(bytes: Uint8Array, marker: number): boolean {
  let end = bytes.length;
  for (let padding = 0; padding <= 8 && end >= 2; padding++) {
    if (bytes[end - 2] === 0xff && bytes[end - 1] === marker) return true;
    if (bytes[end - 1] !== 0x00 && bytes[end - 1] !== 0xff) return false;
    end--;
  }
  return false;
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
