/**
 * Finding the bytes of one frame in a DICOM file's Pixel Data: a slice of the native pixel data, or
 * the fragments of an encapsulated (compressed) frame joined together, with or without a Basic Offset
 * Table. Declared lengths are checked against the bytes actually present, so a header that promises
 * more than the file holds is refused before anything is allocated.
 */
import type { DataSet, Fragment } from 'dicom-parser';
import { HolocaseError } from '../../errors.ts';
import type { DicomImageHeader, PixelLayout } from './imageHeader.ts';
import { formatBytes } from './parse.ts';
import type { TransferSyntax } from './transferSyntax.ts';

/** Bytes of one uncompressed frame. */
export function nativeFrameSize(layout: PixelLayout): number {
  return layout.rows * layout.columns * layout.samplesPerPixel * (layout.bitsAllocated / 8);
}

/**
 * Checks that native pixel data holds every frame, given the number of bytes actually available after
 * the Pixel Data value starts (`available`, e.g. file size − offset). Throws `DICOM_TRUNCATED`.
 */
export function checkNativePixelData(header: DicomImageHeader, available: number, name: string): void {
  const pixel = header.pixelData;
  if (!pixel) throw new HolocaseError('DICOM_MALFORMED', `${name} holds no pixel data`);
  const needed = nativeFrameSize(header.layout) * header.frames;
  const { rows, columns } = header.layout;
  if (pixel.length < needed) {
    throw new HolocaseError(
      'DICOM_TRUNCATED',
      `${name} is damaged: its pixel data holds ${formatBytes(pixel.length)}, but ${header.frames} frame${header.frames > 1 ? 's' : ''} of ${columns}×${rows} at ${header.layout.bitsAllocated} bits need ${formatBytes(needed)}`,
    );
  }
  // A declared length past the end of the file is a lie (or a cut): never read on the strength of it.
  if (available < needed || pixel.length > available) {
    throw new HolocaseError(
      'DICOM_TRUNCATED',
      `${name} is cut short: pixel data is shorter than declared (the header declares ${formatBytes(pixel.length)} of pixel data, the file holds ${formatBytes(Math.max(0, available))})`,
    );
  }
}

/** The native bytes of frame `index` inside `bytes` (a view, no copy). */
export function nativeFrameBytes(bytes: Uint8Array, header: DicomImageHeader, index: number, name: string): Uint8Array {
  const pixel = header.pixelData!;
  checkNativePixelData(header, bytes.length - pixel.offset, name);
  const size = nativeFrameSize(header.layout);
  const start = pixel.offset + index * size;
  return bytes.subarray(start, start + size);
}

const JPEG_SOI = [0xff, 0xd8];
const J2K_SOC = [0xff, 0x4f];

/** Does a fragment start a new codestream of this transfer syntax (used when there is no offset table)? */
function startsCodestream(bytes: Uint8Array, offset: number, transferSyntax: TransferSyntax): boolean {
  const marker = transferSyntax.codec === 'jpeg2000' || transferSyntax.codec === 'htj2k' ? J2K_SOC : JPEG_SOI;
  return bytes[offset] === marker[0] && bytes[offset + 1] === marker[1];
}

/**
 * The compressed bytes of frame `index` (fragments joined; a view when the frame is one fragment).
 * Frames are found from the Basic Offset Table when there is one; otherwise one fragment per frame when
 * the counts agree, all fragments for a single frame, or codestream start markers.
 */
export function encapsulatedFrameBytes(
  dataSet: DataSet,
  header: DicomImageHeader,
  transferSyntax: TransferSyntax,
  index: number,
  name: string,
): Uint8Array {
  const element = dataSet.elements.x7fe00010;
  const fragments: Fragment[] = element?.fragments ?? [];
  if (!element || fragments.length === 0) {
    throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: its compressed pixel data holds no fragments`);
  }
  const bytes = dataSet.byteArray as Uint8Array;
  // Fragment positions: `offset` is relative to the first fragment item, `position` is absolute.
  for (const fragment of fragments) {
    if (fragment.position + fragment.length > bytes.length) {
      throw new HolocaseError('DICOM_TRUNCATED', `${name} is cut short: its compressed pixel data ends in the middle of a fragment`);
    }
  }
  const frameFragments = fragmentsOfFrame(element.basicOffsetTable ?? [], fragments, header.frames, index, bytes, transferSyntax, name);
  if (frameFragments.length === 1) {
    const f = frameFragments[0];
    return bytes.subarray(f.position, f.position + f.length);
  }
  const total = frameFragments.reduce((sum, f) => sum + f.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of frameFragments) {
    out.set(bytes.subarray(f.position, f.position + f.length), at);
    at += f.length;
  }
  return out;
}

function fragmentsOfFrame(
  offsetTable: number[],
  fragments: Fragment[],
  frames: number,
  index: number,
  bytes: Uint8Array,
  transferSyntax: TransferSyntax,
  name: string,
): Fragment[] {
  if (index < 0 || index >= frames) throw new RangeError(`frame ${index} of ${frames}`);
  const damaged = (what: string) => new HolocaseError('DICOM_MALFORMED', `${name} is damaged: ${what}`);
  // 1. A Basic Offset Table gives each frame's first fragment.
  if (offsetTable.length > 0) {
    if (offsetTable.length !== frames) throw damaged(`its offset table lists ${offsetTable.length} frames but the header says ${frames}`);
    const start = offsetTable[index];
    const end = index + 1 < frames ? offsetTable[index + 1] : Infinity;
    const chosen = fragments.filter((f) => f.offset >= start && f.offset < end);
    if (chosen.length === 0 || chosen[0].offset !== start) throw damaged(`its offset table points frame ${index + 1} at no fragment`);
    return chosen;
  }
  // 2. No table: a single frame is all fragments; equal counts mean one fragment per frame.
  if (frames === 1) return fragments;
  if (fragments.length === frames) return [fragments[index]];
  // 3. Otherwise split where a fragment starts a new codestream.
  if (transferSyntax.codec === 'rle') throw damaged(`its ${fragments.length} RLE fragments cannot be divided among ${frames} frames`);
  const starts = fragments.map((f, i) => (startsCodestream(bytes, f.position, transferSyntax) ? i : -1)).filter((i) => i >= 0);
  if (starts.length !== frames || starts[0] !== 0) {
    throw damaged(`its ${fragments.length} compressed fragments cannot be divided among ${frames} frames`);
  }
  return fragments.slice(starts[index], index + 1 < frames ? starts[index + 1] : fragments.length);
}
