/**
 * DICOM transfer syntaxes holocase reads: how the dataset is encoded (VR explicit or implicit, byte
 * order, deflated) and which codec, if any, decodes the pixel data. Pixel decoding is dispatched
 * strictly by this table: several codecs return a plausible-looking wrong image when handed a stream
 * of another kind, so a frame never goes to a codec its transfer syntax does not name.
 */
import { HolocaseError } from '../../errors.ts';

/** How the pixel data of a transfer syntax is decoded. */
export type PixelCodec =
  | 'native' // uncompressed, little endian
  | 'native-big-endian' // uncompressed, big endian words (swapped on read)
  | 'rle' // DICOM RLE Lossless (PS3.5 Annex G)
  | 'jpeg-baseline' // JPEG baseline, 8 bit (libjpeg-turbo)
  | 'jpeg-extended' // JPEG extended, 12 bit (dcmjs-codecs / IJG)
  | 'jpeg-lossless' // JPEG lossless process 14 (jpeg-lossless-decoder-js)
  | 'jpeg-ls' // JPEG-LS (CharLS)
  | 'jpeg2000' // JPEG 2000 Part 1 (OpenJPEG)
  | 'htj2k'; // High-Throughput JPEG 2000 (OpenJPH)

export interface TransferSyntax {
  uid: string;
  /** Name a radiographer or PACS administrator recognises. */
  name: string;
  /** Dataset VRs are explicit (all but Implicit VR Little Endian). */
  explicitVr: boolean;
  littleEndian: boolean;
  /** The dataset after the file meta group is deflated (zlib raw deflate). */
  deflated: boolean;
  /** Pixel data is encapsulated (fragments) rather than native. */
  encapsulated: boolean;
  codec: PixelCodec;
  lossy: boolean;
}

function ts(uid: string, name: string, codec: PixelCodec, more: Partial<TransferSyntax> = {}): TransferSyntax {
  const encapsulated = codec !== 'native' && codec !== 'native-big-endian';
  return { uid, name, explicitVr: true, littleEndian: true, deflated: false, encapsulated, codec, lossy: false, ...more };
}

export const TRANSFER_SYNTAXES: readonly TransferSyntax[] = [
  ts('1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native', { explicitVr: false }),
  ts('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'),
  ts('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
  ts('1.2.840.10008.1.2.2', 'Explicit VR Big Endian', 'native-big-endian', { littleEndian: false }),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (8-bit, lossy)', 'jpeg-baseline', { lossy: true }),
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (12-bit, lossy)', 'jpeg-extended', { lossy: true }),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless (Process 14)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless (Process 14, SV1)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless', 'jpeg-ls', { lossy: true }),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless', 'jpeg2000'),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg2000', { lossy: true }),
  ts('1.2.840.10008.1.2.4.201', 'HTJ2K Lossless', 'htj2k'),
  ts('1.2.840.10008.1.2.4.202', 'HTJ2K Lossless RPCL', 'htj2k'),
  ts('1.2.840.10008.1.2.4.203', 'HTJ2K', 'htj2k', { lossy: true }),
];

/** Transfer syntaxes seen in the wild that holocase does not decode, with their names for the message. */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.52': 'JPEG Extended (Process 3 & 5)',
  '1.2.840.10008.1.2.4.53': 'JPEG Spectral Selection',
  '1.2.840.10008.1.2.4.55': 'JPEG Full Progression',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.100': 'MPEG2 video',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 video',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
};

const BY_UID = new Map(TRANSFER_SYNTAXES.map((t) => [t.uid, t]));

/**
 * The transfer syntax for `uid`; throws `DICOM_UNSUPPORTED` naming it (and what to do) when holocase
 * cannot decode it.
 */
export function requireTransferSyntax(uid: string | undefined): TransferSyntax {
  const clean = (uid ?? '').replace(/\0/g, '').trim();
  const found = BY_UID.get(clean);
  if (found) return found;
  const known = KNOWN_UNSUPPORTED[clean];
  const what = clean ? `"${clean}"${known ? ` (${known})` : ''}` : '(none given)';
  throw new HolocaseError(
    'DICOM_UNSUPPORTED',
    `DICOM transfer syntax ${what} is not supported; export the images uncompressed, or as JPEG 2000 or JPEG-LS`,
  );
}
