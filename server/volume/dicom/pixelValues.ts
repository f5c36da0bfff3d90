/**
 * From stored sample bytes to numbers: stored values honour Pixel Representation and Bits Stored
 * (signed values sign-extended from their top stored bit, unsigned ones masked to their stored bits),
 * and Hounsfield units apply the modality LUT (Rescale Slope/Intercept) with padding mapped to air.
 * The Hounsfield path reads the frame's bytes once and writes straight into the volume: no copies.
 */
import type { PixelLayout, PixelPadding, Rescale } from './imageHeader.ts';

export type StoredPixels = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/** Little-endian sample bytes viewed as the header's integer type (copied only when misaligned). */
function rawView(bytes: Uint8Array, layout: PixelLayout): StoredPixels {
  const size = layout.bitsAllocated / 8;
  // A copy when misaligned (`new Uint8Array(x)` copies; Buffer#slice would not).
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  const count = aligned.byteLength / size;
  const signed = layout.pixelRepresentation === 1;
  if (size === 1) return signed ? new Int8Array(aligned.buffer, aligned.byteOffset, count) : new Uint8Array(aligned.buffer, aligned.byteOffset, count);
  if (size === 2) return signed ? new Int16Array(aligned.buffer, aligned.byteOffset, count) : new Uint16Array(aligned.buffer, aligned.byteOffset, count);
  return signed ? new Int32Array(aligned.buffer, aligned.byteOffset, count) : new Uint32Array(aligned.buffer, aligned.byteOffset, count);
}

/**
 * The stored values of a frame (Modality LUT not applied), in the header's integer type: signed values
 * sign-extended from Bits Stored, unsigned ones masked to Bits Stored. A view when nothing changes.
 */
export function storedValues(bytes: Uint8Array, layout: PixelLayout): StoredPixels {
  const raw = rawView(bytes, layout);
  const bits = layout.bitsStored;
  if (bits >= layout.bitsAllocated) return raw;
  const out = new (raw.constructor as new (values: StoredPixels) => StoredPixels)(raw);
  if (layout.pixelRepresentation === 1) {
    const shift = 32 - bits;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] << shift) >> shift;
  } else {
    const mask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] & mask) >>> 0;
  }
  return out;
}

/** Byte-swaps big-endian samples in place (Explicit VR Big Endian pixel data). */
export function swapToLittleEndian(bytes: Uint8Array, bitsAllocated: number): void {
  if (bitsAllocated === 8) return;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bitsAllocated === 16) buffer.swap16();
  else if (bitsAllocated === 32) buffer.swap32();
}

export interface HounsfieldOptions {
  rescale: Rescale;
  padding?: PixelPadding;
  /** Value written for padding pixels (−1024, air, for CT). */
  paddingOutput: number;
}

const INT16_MIN = -32768;
const INT16_MAX = 32767;

/** The stored values that are padding, `[low, high]` inclusive; an empty range when there is no padding. */
function paddingRange(padding: PixelPadding | undefined): [number, number] {
  if (!padding) return [Infinity, -Infinity];
  const { value, rangeLimit = value } = padding;
  return [Math.min(value, rangeLimit), Math.max(value, rangeLimit)];
}

/**
 * Writes one frame's values after the modality LUT (`stored × slope + intercept`, rounded, clamped to
 * the Int16 range) into `target` from `offset`, mapping padding to `paddingOutput`. Returns how many
 * values were clamped (more than a handful means the data is not what it claims to be).
 *
 * 16-bit data (nearly all CT) goes through a 65536-entry lookup table that folds sign extension,
 * masking, padding, rescale, rounding and clamping into one table read per voxel.
 */
export function writeHounsfield(bytes: Uint8Array, layout: PixelLayout, target: Int16Array, offset: number, options: HounsfieldOptions): number {
  const count = layout.rows * layout.columns;
  const out = target.subarray(offset, offset + count);
  if (layout.bitsAllocated === 16 && layout.samplesPerPixel === 1) {
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : new Uint8Array(bytes);
    const table = hounsfieldTable(layout, options);
    return lookup(new Uint16Array(aligned.buffer, aligned.byteOffset, count), out, table);
  }
  return writeHounsfieldGeneric(bytes, layout, out, options);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Converts stored words through a table whose entries hold the output value in their low 16 bits and
 * 1 in bit 16 where that value was clamped: one load per voxel, and a clamp count for free. Two words
 * are read at a time when the frame is 4-byte aligned (on little-endian hosts).
 */
function lookup(words: Uint16Array, out: Int16Array, table: Int32Array): number {
  let clamped = 0;
  let i = 0;
  if (LITTLE_ENDIAN && words.byteOffset % 4 === 0) {
    const pairs = new Uint32Array(words.buffer, words.byteOffset, words.length >> 1);
    for (let p = 0; p < pairs.length; p++, i += 2) {
      const pair = pairs[p];
      const first = table[pair & 0xffff];
      const second = table[pair >>> 16];
      out[i] = first; // an Int16Array store keeps the low 16 bits: the output value
      out[i + 1] = second;
      clamped += (first >> 16) + (second >> 16);
    }
  }
  for (; i < out.length; i++) {
    const entry = table[words[i]];
    out[i] = entry;
    clamped += entry >> 16;
  }
  return clamped;
}

// Tables are cached by their inputs: a series shares one or two.
const tables = new Map<string, Int32Array>();

function hounsfieldTable(layout: PixelLayout, options: HounsfieldOptions): Int32Array {
  const key = `${layout.pixelRepresentation}|${layout.bitsStored}|${options.rescale.slope}|${options.rescale.intercept}|${options.padding?.value}|${options.padding?.rangeLimit}|${options.paddingOutput}`;
  let table = tables.get(key);
  if (table) return table;
  table = new Int32Array(65536);
  const signed = layout.pixelRepresentation === 1;
  const bits = layout.bitsStored;
  const shift = 32 - bits;
  const mask = 2 ** bits - 1;
  const { slope, intercept } = options.rescale;
  const [padLow, padHigh] = paddingRange(options.padding);
  for (let w = 0; w < 65536; w++) {
    // The stored value: sign-extended from Bits Stored, or masked to it.
    const v = signed ? (w << shift) >> shift : w & mask;
    let hu: number;
    let clamped = 0;
    if (v >= padLow && v <= padHigh) hu = options.paddingOutput;
    else {
      hu = Math.round(v * slope + intercept);
      if (hu < INT16_MIN || hu > INT16_MAX) {
        hu = hu < INT16_MIN ? INT16_MIN : INT16_MAX;
        clamped = 1;
      }
    }
    table[w] = (hu & 0xffff) | (clamped << 16);
  }
  if (tables.size > 64) tables.clear();
  tables.set(key, table);
  return table;
}

/** Any layout (8/32-bit, colour: first sample): the straightforward loop. */
function writeHounsfieldGeneric(bytes: Uint8Array, layout: PixelLayout, out: Int16Array, options: HounsfieldOptions): number {
  const raw = rawView(bytes, layout);
  const { slope, intercept } = options.rescale;
  const signed = layout.pixelRepresentation === 1;
  const bits = layout.bitsStored;
  const extend = signed && bits < layout.bitsAllocated ? 32 - bits : 0;
  const mask = !signed && bits < layout.bitsAllocated ? 2 ** bits - 1 : 0;
  const [padLow, padHigh] = paddingRange(options.padding);
  const step = layout.samplesPerPixel;
  let clamped = 0;
  for (let i = 0; i < out.length; i++) {
    let v = raw[i * step];
    if (extend) v = (v << extend) >> extend;
    else if (mask) v = (v & mask) >>> 0;
    let hu = Math.round(v * slope + intercept);
    if (v >= padLow && v <= padHigh) hu = options.paddingOutput;
    else if (hu < INT16_MIN) (hu = INT16_MIN), clamped++;
    else if (hu > INT16_MAX) (hu = INT16_MAX), clamped++;
    out[i] = hu;
  }
  return clamped;
}
