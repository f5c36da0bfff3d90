/**
 * Reading a DICOM file's dataset with `dicom-parser`, turning its failures into `HolocaseError`s that
 * say what is wrong with the file (not DICOM, cut short in the header, pixel data shorter than
 * declared, …). Nothing here allocates more than the file itself: a header that declares gigabytes of
 * pixel data in a small file is refused from the declared length, before anything is read or copied.
 */
import dicomParser, { type DataSet } from 'dicom-parser';
import { inflateRawSync } from 'node:zlib';
import { HolocaseError } from '../../errors.ts';
import { requireTransferSyntax, type TransferSyntax } from './transferSyntax.ts';

/** How a file presents itself in its first bytes. */
export type DicomSniff =
  | 'part10' // 128-byte preamble + "DICM" + file meta group
  | 'raw-explicit' // a bare dataset, explicit VR little endian (no preamble, no meta group)
  | 'raw-implicit'; // a bare dataset, implicit VR little endian

export interface ParseDicomOptions {
  /** Name used in error messages (a file name, never a patient attribute). */
  name?: string;
  /**
   * Stop at the Pixel Data element: its offset and declared length are recorded but its value is not
   * walked (used when only the header is needed, e.g. from the first bytes of a file).
   */
  untilPixelData?: boolean;
  /** Largest dataset accepted after inflating a Deflated transfer syntax (bytes). */
  maxInflatedBytes?: number;
}

export const PARSE_DEFAULTS = {
  name: 'DICOM file',
  untilPixelData: false,
  maxInflatedBytes: 1024 ** 3,
} satisfies Required<ParseDicomOptions>;

export interface ParsedDicom {
  dataSet: DataSet;
  transferSyntax: TransferSyntax;
  sniff: DicomSniff;
  /** Bytes the dataset was parsed from (the inflated copy for Deflated files). */
  bytes: Uint8Array;
}

const PIXEL_DATA = 'x7fe00010';
/** Groups a bare (preamble-less) dataset may plausibly start with. */
const RAW_START_GROUPS = new Set([0x0002, 0x0008]);

/**
 * Recognises DICOM from a file's first bytes (132 or more): the Part 10 preamble, or a bare dataset that
 * starts with a group 0002/0008 element, as some old exports are. `undefined` means "not DICOM".
 */
export function sniffDicom(head: Uint8Array): DicomSniff | undefined {
  if (head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d) {
    return 'part10';
  }
  if (head.length < 16) return undefined;
  const group = head[0] | (head[1] << 8);
  const element = head[2] | (head[3] << 8);
  if (!RAW_START_GROUPS.has(group)) return undefined;
  // Element numbers of the first element are small (0000–00FF) in every real file.
  if (element > 0x00ff) return undefined;
  const vr = String.fromCharCode(head[4], head[5]);
  if (/^(AE|AS|AT|CS|DA|DS|DT|FL|FD|IS|LO|LT|OB|OD|OF|OL|OW|PN|SH|SL|SQ|SS|ST|TM|UC|UI|UL|UN|UR|US|UT)$/.test(vr)) {
    return 'raw-explicit';
  }
  // Implicit VR: a 32-bit length that fits in the file prefix of a sane header element.
  const length = (head[4] | (head[5] << 8) | (head[6] << 16)) + head[7] * 2 ** 24;
  return length < 1024 ? 'raw-implicit' : undefined;
}

/**
 * Parses a DICOM file (Part 10 or a bare little-endian dataset). Throws `NOT_DICOM`, `DICOM_TRUNCATED`,
 * `DICOM_MALFORMED` or `DICOM_UNSUPPORTED` with a message that names the file and the problem.
 */
export function parseDicom(bytes: Uint8Array, options: ParseDicomOptions = {}): ParsedDicom {
  const { name, untilPixelData, maxInflatedBytes } = { ...PARSE_DEFAULTS, ...options };
  // 1. Recognise the file from its first bytes.
  const sniff = sniffDicom(bytes);
  if (!sniff) throw new HolocaseError('NOT_DICOM', `${name} is not a DICOM file`);
  const parseOptions: Record<string, unknown> = {};
  if (untilPixelData) parseOptions.untilTag = PIXEL_DATA;
  if (sniff !== 'part10') parseOptions.TransferSyntaxUID = sniff === 'raw-explicit' ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2';
  let inflated: Uint8Array | undefined;
  parseOptions.inflater = (all: Uint8Array, position: number): Uint8Array => {
    inflated = inflateDataset(all, position, maxInflatedBytes, name);
    return inflated;
  };
  // 2. Check the transfer syntax before walking the dataset: an unknown one cannot be walked safely.
  if (sniff === 'part10') checkMetaTransferSyntax(bytes, name);
  // 3. Parse, translating dicom-parser's string exceptions.
  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, parseOptions as dicomParser.ParseDicomOptions);
  } catch (error) {
    throw describeParseFailure(error, inflated ?? bytes, name);
  }
  const transferSyntax = requireTransferSyntax(dataSet.string('x00020010') ?? String(parseOptions.TransferSyntaxUID));
  const parsedBytes = inflated ?? bytes;
  // 4. A dataset needs at least one non-meta element to be an image.
  const hasDataset = Object.keys(dataSet.elements).some((tag) => !tag.startsWith('x0002'));
  if (!hasDataset) throw new HolocaseError('DICOM_MALFORMED', `${name} holds DICOM file meta information but no dataset`);
  return { dataSet, transferSyntax, sniff, bytes: parsedBytes };
}

/** Reads the transfer syntax from the file meta group and refuses ones holocase cannot walk or decode. */
function checkMetaTransferSyntax(bytes: Uint8Array, name: string): void {
  let meta: DataSet;
  try {
    meta = dicomParser.readPart10Header(bytes) as DataSet;
  } catch (error) {
    throw describeParseFailure(error, bytes, name);
  }
  const uid = meta.string('x00020010');
  if (uid === undefined) {
    throw new HolocaseError('DICOM_MALFORMED', `${name} is not a readable DICOM dataset: its file meta information names no transfer syntax`);
  }
  requireTransferSyntax(uid);
}

/** Inflates a Deflated Explicit VR dataset (raw deflate after the meta group), never past `limit` bytes. */
function inflateDataset(all: Uint8Array, position: number, limit: number, name: string): Uint8Array {
  let body: Buffer;
  try {
    body = inflateRawSync(all.subarray(position), { maxOutputLength: limit });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || (error instanceof RangeError && /larger than/i.test(error.message))) {
      throw new HolocaseError('INPUT_TOO_LARGE', `${name} inflates to more than ${Math.round(limit / 1024 ** 2)} MB, more than one DICOM image can hold`);
    }
    throw new HolocaseError('DICOM_MALFORMED', `${name} has a damaged deflated dataset (${(error as Error).message})`);
  }
  const out = new Uint8Array(position + body.length);
  out.set(all.subarray(0, position), 0);
  out.set(body, position);
  return out;
}

/** Turns what dicom-parser throws (strings, `{exception, dataSet}` objects, Errors) into a HolocaseError. */
function describeParseFailure(error: unknown, bytes: Uint8Array, name: string): HolocaseError {
  if (error instanceof HolocaseError) return error;
  const partial = typeof error === 'object' && error !== null && 'dataSet' in error ? (error as { dataSet: DataSet }).dataSet : undefined;
  const inner = typeof error === 'object' && error !== null && 'exception' in error ? (error as { exception: unknown }).exception : error;
  const text = inner instanceof Error ? inner.message : String(inner);
  if (/DICM prefix not found/.test(text)) return new HolocaseError('NOT_DICOM', `${name} is not a DICOM file`);
  if (/missing required meta header attribute 0002,0010/.test(text)) {
    return new HolocaseError('DICOM_MALFORMED', `${name} is not a readable DICOM dataset: its file meta information names no transfer syntax`);
  }
  if (/overrun|overread|beyond|out of range|outside the bounds/i.test(text)) {
    const pixel = partial?.elements[PIXEL_DATA];
    if (pixel) {
      if (pixel.hadUndefinedLength || pixel.encapsulatedPixelData) {
        return new HolocaseError('DICOM_TRUNCATED', `${name} is cut short: its compressed pixel data ends in the middle of a fragment (the file holds ${bytes.length} bytes)`);
      }
      return new HolocaseError(
        'DICOM_TRUNCATED',
        `${name} is cut short: pixel data is shorter than declared (the header declares ${formatBytes(pixel.length)} of pixel data, the file holds ${formatBytes(Math.max(0, bytes.length - pixel.dataOffset))})`,
      );
    }
    return new HolocaseError('DICOM_TRUNCATED', `${name} is cut short: the file ends inside the DICOM header (after ${bytes.length} bytes)`);
  }
  return new HolocaseError('DICOM_MALFORMED', `${name} is not a readable DICOM dataset (${text.replace(/^dicomParser[.:]\w*:?\s*/, '')})`);
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
