/**
 * The first look at each input file: is it DICOM, and if so what image does its header describe? Only
 * the first bytes of a file are read (the whole file only when its header is longer, or its dataset is
 * deflated), so scanning a folder of hundreds of slices costs little; pixel data is read later, once the
 * series and slice order are known. Files that are not DICOM are named by kind ("JPEG image", "text
 * file") for the message when nothing usable is found.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { DataSet } from 'dicom-parser';
import { HolocaseError, isHolocaseError } from '../../errors.ts';
import { deidentify, type DeidentifiedAttributes, type DeidentifyOptions } from '../deidentify.ts';
import { checkNativePixelData } from './frames.ts';
import { hasPixelData, readImageHeader, textOf, type DicomImageHeader } from './imageHeader.ts';
import { parseDicom, sniffDicom, type ParsedDicom } from './parse.ts';
import type { TransferSyntax } from './transferSyntax.ts';

/** One file of the input. */
export interface InputFile {
  path: string;
  /**
   * How messages name it: its position ("file 21 of 40"), or the file's own name when it was given on
   * its own. Names inside an export (folders, zip entries) often carry the patient's name: never here.
   */
  label: string;
  /** Its path relative to the input: file-type hints and a stable order only, never in a message. */
  name: string;
}

/** A readable DICOM image file. */
export interface DicomInstance {
  /** Path on disk. */
  path: string;
  /** How messages name it (see `InputFile.label`). */
  label: string;
  /** Relative path inside the input, for ordering only (see `InputFile.name`). */
  name: string;
  fileSize: number;
  header: DicomImageHeader;
  transferSyntax: TransferSyntax;
  /** The allow-listed, de-identified attributes of this file (see `deidentify`). */
  attributes: DeidentifiedAttributes;
}

export type ScanResult =
  | { kind: 'image'; instance: DicomInstance }
  /** DICOM without pixel data: DICOMDIR, structured reports, presentation states, … */
  | { kind: 'dicom-without-image'; label: string }
  /** Looked like DICOM but could not be read; `seriesInstanceUid` when the damaged header still named it. */
  | { kind: 'damaged'; label: string; error: HolocaseError; seriesInstanceUid?: string }
  | { kind: 'nifti'; label: string; path: string }
  | { kind: 'other'; label: string; what: string };

export interface ScanOptions extends DeidentifyOptions {
  /** Bytes read first; the whole file is read only when the header does not fit (default 16 KiB). */
  headBytes?: number;
}

export const SCAN_DEFAULTS = { headBytes: 16 * 1024 } as const;

/**
 * Reads up to `length` bytes from the start of a file, and its size. Synchronous on purpose: headers
 * are a few kilobytes, and for hundreds of files plain reads are several times faster than the thread
 * pool round trips of async ones (callers yield to the event loop between batches).
 */
function readHead(path: string, length: number): { head: Uint8Array; size: number } {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    const head = Buffer.allocUnsafe(Math.min(size, length));
    let at = 0;
    while (at < head.length) {
      const bytesRead = readSync(fd, head, at, head.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return { head: head.subarray(0, at), size };
  } finally {
    closeSync(fd);
  }
}

/** Classifies and, for DICOM images, reads the header of one file. Never throws for bad content (only for I/O). */
export function scanFile(file: InputFile, options: ScanOptions = {}): ScanResult {
  const { path, label, name } = file;
  const headBytes = options.headBytes ?? SCAN_DEFAULTS.headBytes;
  let { head, size } = readHead(path, headBytes);
  // 1. Not DICOM at all: say what it is.
  if (!sniffDicom(head)) {
    if (/\.nii(\.gz)?$/i.test(name) && looksLikeNifti(head)) return { kind: 'nifti', label, path };
    return { kind: 'other', label, what: describeFileKind(head, name) };
  }
  // 2. Parse the header from the head; parse the whole file instead when the head was not enough (the
  //    header or a deflated dataset runs past it, or it ended between two elements before the pixel data).
  let attempt = parseHeader(head, label);
  if (head.length < size && ('failure' in attempt || !hasPixelData(attempt.dataSet))) {
    ({ head, size } = readHead(path, size));
    attempt = parseHeader(head, label);
  }
  if ('failure' in attempt) {
    if (!isHolocaseError(attempt.failure)) throw attempt.failure;
    return { kind: 'damaged', label, error: attempt.failure, seriesInstanceUid: partialSeriesUid(head) };
  }
  const parsed = attempt;
  if (!hasPixelData(parsed.dataSet)) return { kind: 'dicom-without-image', label };
  // 3. The image header, and a check that native pixel data is all there.
  try {
    const header = readImageHeader(parsed.dataSet, parsed.transferSyntax, label);
    if (!parsed.transferSyntax.encapsulated && !parsed.transferSyntax.deflated) {
      checkNativePixelData(header, size - header.pixelData!.offset, label);
    }
    const attributes = deidentify(parsed.dataSet, options);
    return { kind: 'image', instance: { path, label, name, fileSize: size, header, transferSyntax: parsed.transferSyntax, attributes } };
  } catch (error) {
    if (!isHolocaseError(error)) throw error;
    return { kind: 'damaged', label, error, seriesInstanceUid: textOf(parsed.dataSet, 'x0020000e') };
  }
}

/** The dataset up to its Pixel Data, or what parsing threw. */
function parseHeader(bytes: Uint8Array, label: string): ParsedDicom | { failure: unknown } {
  try {
    return parseDicom(bytes, { name: label, untilPixelData: true });
  } catch (failure) {
    return { failure };
  }
}

/** The Series Instance UID of a damaged file, when the part before the damage names it. */
function partialSeriesUid(head: Uint8Array): string | undefined {
  try {
    const parsed = parseDicom(head, { untilPixelData: true });
    return textOf(parsed.dataSet as DataSet, 'x0020000e');
  } catch (error) {
    const partial = (error as { dataSet?: DataSet }).dataSet;
    return partial ? textOf(partial, 'x0020000e') : undefined;
  }
}

function looksLikeNifti(head: Uint8Array): boolean {
  if (head[0] === 0x1f && head[1] === 0x8b) return true; // gzip: checked properly when read
  if (head.length < 348) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getInt32(0, true) === 348 || view.getInt32(0, false) === 348;
}

/** A person's name for what a non-DICOM file is, from its magic bytes (and its name's extension). */
export function describeFileKind(head: Uint8Array, name = ''): string {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (head.length === 0) return 'empty file';
  if (starts(0xff, 0xd8, 0xff)) return 'JPEG image';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'PNG image';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'GIF image';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'TIFF image';
  if (starts(0x42, 0x4d)) return 'BMP image';
  if (starts(0x25, 0x50, 0x44, 0x46)) return 'PDF document';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'zip archive';
  if (starts(0x1f, 0x8b)) return /\.nii\.gz$/i.test(name) ? 'damaged NIfTI file' : 'gzip file';
  if (starts(0x52, 0x49, 0x46, 0x46) && head[8] === 0x57 && head[9] === 0x45) return 'WebP image';
  if (head.length >= 12 && String.fromCharCode(...head.subarray(4, 12)).startsWith('ftyphei')) return 'HEIC image';
  const sample = head.subarray(0, 512);
  let printable = 0;
  for (const b of sample) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128) printable++;
  if (printable === sample.length) return 'text file';
  return 'file of unknown type';
}
