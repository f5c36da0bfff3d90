/**
 * DICOM RLE Lossless (PS3.5 Annex G). A frame is a 64-byte header (segment count and up to 15 segment
 * offsets) followed by one PackBits-coded segment per byte plane: for each sample, the most significant
 * byte first. dcmjs's decoder reads one segment only, so 16-bit images need this short decoder.
 */
import { HolocaseError } from '../../errors.ts';
import type { PixelLayout } from './imageHeader.ts';

/**
 * Decodes one RLE frame into little-endian stored bytes, samples interleaved (`R G B R G B …` for
 * colour), exactly `rows × columns × samples × bytesPerSample` long. Throws `DICOM_DECODE_FAILED` for a
 * header that does not match the image or a segment that ends early.
 */
export function decodeRle(encoded: Uint8Array, layout: PixelLayout, name = 'DICOM file'): Uint8Array {
  const fail = (what: string) => new HolocaseError('DICOM_DECODE_FAILED', `${name}: RLE frame ${what}`);
  // 1. Header: number of segments, then their offsets from the start of the frame.
  if (encoded.length < 64) throw fail('is shorter than its 64-byte header');
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const segments = view.getUint32(0, true);
  const bytesPerSample = layout.bitsAllocated / 8;
  const expectedSegments = layout.samplesPerPixel * bytesPerSample;
  if (segments !== expectedSegments) throw fail(`has ${segments} segments, but ${layout.bitsAllocated}-bit ${layout.samplesPerPixel === 1 ? 'greyscale' : 'colour'} needs ${expectedSegments}`);
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  const pixels = layout.rows * layout.columns;
  const out = new Uint8Array(pixels * expectedSegments);
  // 2. Each segment fills one byte plane: sample s, byte b (b = 0 is the most significant).
  for (let s = 0; s < segments; s++) {
    const start = offsets[s];
    const end = s + 1 < segments ? offsets[s + 1] : encoded.length;
    if (start < 64 || end > encoded.length || end < start) throw fail(`segment ${s + 1} lies outside the frame`);
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = expectedSegments;
    const first = sample * bytesPerSample + byteInSample;
    const written = unpackBits(encoded, start, end, out, first, stride, pixels);
    if (written < pixels) throw fail(`segment ${s + 1} ends after ${written} of ${pixels} pixels (the data is truncated or damaged)`);
  }
  return out;
}

/** PackBits: writes up to `count` bytes to `out[first + n·stride]`; returns how many were written. */
function unpackBits(src: Uint8Array, start: number, end: number, out: Uint8Array, first: number, stride: number, count: number): number {
  let i = start;
  let n = 0;
  let o = first;
  while (i < end && n < count) {
    const header = src[i++];
    if (header < 128) {
      // Literal run of header + 1 bytes.
      const run = Math.min(header + 1, count - n, end - i);
      for (let r = 0; r < run; r++, o += stride) out[o] = src[i + r];
      i += header + 1;
      n += run;
    } else if (header > 128) {
      // Replicate the next byte 257 − header times.
      if (i >= end) break;
      const value = src[i++];
      const run = Math.min(257 - header, count - n);
      for (let r = 0; r < run; r++, o += stride) out[o] = value;
      n += run;
    }
    // header === 128: no operation.
  }
  return n;
}
