/**
 * One DICOM file in, its header and decoded frames out: parse, read the image header, find each
 * frame's bytes and decode them by transfer syntax. Used for single files and by the decode workers;
 * series assembly reads many files through the same pieces.
 */
import { HolocaseError } from '../../errors.ts';
import { decodeFrame } from './decodeFrame.ts';
import { encapsulatedFrameBytes, nativeFrameBytes } from './frames.ts';
import { hasPixelData, readImageHeader, type DicomImageHeader } from './imageHeader.ts';
import { parseDicom, type ParsedDicom } from './parse.ts';
import { storedValues, swapToLittleEndian, type StoredPixels } from './pixelValues.ts';
import type { TransferSyntax } from './transferSyntax.ts';

export interface ReadDicomImageOptions {
  /** Name used in error messages (a file name, never a patient attribute). */
  name?: string;
  /** Frames to decode (default: all). */
  frames?: number[];
}

export interface DicomImage {
  parsed: ParsedDicom;
  header: DicomImageHeader;
  transferSyntax: TransferSyntax;
  /** Decoded frames as little-endian stored sample bytes (see `storedValues`). */
  frames: Uint8Array[];
}

/** Reads and decodes a whole DICOM image file. Throws `HolocaseError`s that name the file and the fault. */
export async function readDicomImage(bytes: Uint8Array, options: ReadDicomImageOptions = {}): Promise<DicomImage> {
  const name = options.name ?? 'DICOM file';
  // 1. Parse the dataset and its image header.
  const parsed = parseDicom(bytes, { name });
  if (!hasPixelData(parsed.dataSet)) throw new HolocaseError('DICOM_UNSUPPORTED', `${name} is a DICOM file without an image (no Pixel Data)`);
  const header = readImageHeader(parsed.dataSet, parsed.transferSyntax, name);
  // 2. Decode the requested frames.
  const indices = options.frames ?? Array.from({ length: header.frames }, (_, i) => i);
  const frames: Uint8Array[] = [];
  for (const index of indices) frames.push(await readFrame(parsed, header, index, name));
  return { parsed, header, transferSyntax: parsed.transferSyntax, frames };
}

/** Decodes frame `index` of a parsed image into little-endian stored sample bytes. */
export async function readFrame(parsed: ParsedDicom, header: DicomImageHeader, index: number, name: string): Promise<Uint8Array> {
  const ts = parsed.transferSyntax;
  const frameName = header.frames > 1 ? `${name} (frame ${index + 1} of ${header.frames})` : name;
  if (!ts.encapsulated) {
    const view = nativeFrameBytes(parsed.bytes, header, index, name);
    if (ts.codec !== 'native-big-endian') return view;
    const copy = new Uint8Array(view);
    swapToLittleEndian(copy, header.layout.bitsAllocated);
    return copy;
  }
  const encoded = encapsulatedFrameBytes(parsed.dataSet, header, ts, index, name);
  return decodeFrame(encoded, ts, header.layout, frameName);
}

/** Convenience: the stored values (sign-extended, Modality LUT not applied) of every frame of a file. */
export async function readStoredValues(bytes: Uint8Array, options: ReadDicomImageOptions = {}): Promise<{ header: DicomImageHeader; frames: StoredPixels[] }> {
  const image = await readDicomImage(bytes, options);
  return { header: image.header, frames: image.frames.map((f) => storedValues(f, image.header.layout)) };
}
