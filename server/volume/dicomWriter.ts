/**
 * Writes a `Volume` as a real multi-file DICOM CT series (one CT Image Storage file per slice along the
 * volume's third voxel axis), with dcmjs's DICOM writer. Made for test data: names and Instance Numbers
 * are shuffled by default so nothing can rely on file order, fake identifying fields give
 * de-identification something to remove, and options make gaps, duplicates and gantry-tilted stacks.
 *
 * Geometry follows the affine exactly: Image Orientation (Patient) holds the unit i and j columns,
 * Image Position (Patient) the LPS position of each slice's first voxel, Pixel Spacing is
 * [between rows (j), between columns (i)], Rows = dims[1], Columns = dims[0].
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { applyAffine, axisVector, invertAffine, spacingOf, type Mat4, type Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import { encodeJpeg2000Lossless } from './dicom/encodeJpeg2000.ts';
import type { Volume } from './volume.ts';

/** The part of dcmjs used here (it ships no type declarations). */
interface DcmjsData {
  DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown> };
}
const dcmjs = createRequire(import.meta.url)('dcmjs') as { data: DcmjsData };

/** Identifying (and date) attributes written into every file; all fake. */
export interface DicomIdentity {
  PatientName: string;
  PatientID: string;
  PatientBirthDate: string;
  PatientSex: string;
  PatientAge: string;
  AccessionNumber: string;
  InstitutionName: string;
  InstitutionAddress: string;
  ReferringPhysicianName: string;
  PerformingPhysicianName: string;
  OperatorsName: string;
  StationName: string;
  DeviceSerialNumber: string;
  StudyDate: string;
  StudyTime: string;
  SeriesDate: string;
  SeriesTime: string;
  StudyID: string;
  StudyDescription: string;
}

/** The default fake identity: tests elsewhere search ingest's output for these exact strings. */
export const DEFAULT_IDENTITY: Readonly<DicomIdentity> = {
  PatientName: 'Doe^Jane^Phantom',
  PatientID: 'PHANTOM-0001',
  PatientBirthDate: '19700101',
  PatientSex: 'F',
  PatientAge: '054Y',
  AccessionNumber: 'ACC123456',
  InstitutionName: 'Holocase General Hospital',
  InstitutionAddress: '1 Phantom Way, Springfield',
  ReferringPhysicianName: 'Referrer^Rita',
  PerformingPhysicianName: 'Performer^Paul',
  OperatorsName: 'Operator^Olga',
  StationName: 'HOLOCT01',
  DeviceSerialNumber: 'SN-PHANTOM-4711',
  StudyDate: '20240315',
  StudyTime: '101500',
  SeriesDate: '20240315',
  SeriesTime: '101712',
  StudyID: 'STUDY-0042',
  StudyDescription: 'CT Chest Abdomen Pelvis (phantom)',
};

export interface DicomSeriesOptions {
  /** Random file names and Instance Numbers out of position order (default true). */
  shuffleFileNames?: boolean;
  /** Slice indices (along k, from 0) not written, to make a series with gaps (default none). */
  omitSlices?: number[];
  /** A slice index written twice: same position and pixels, another SOP Instance UID (default none). */
  duplicateSlice?: number;
  /**
   * Gantry tilt in degrees (default 0). Writes Gantry/Detector Tilt and a tilted acquisition: the column
   * direction is turned about the row direction (L for an axial volume) by the angle, while Image
   * Position steps along the volume's slice axis only, as a tilted scanner's table does; each slice is
   * resampled (nearest voxel) from the volume at its tilted plane, `fillValue` outside.
   */
  gantryTiltDeg?: number;
  /** Value for tilted-plane pixels that fall outside the volume (default −1000 HU). */
  fillValue?: number;
  /** Overrides of the fake identifying attributes (default `DEFAULT_IDENTITY`). */
  identity?: Partial<DicomIdentity>;
  seriesDescription?: string;
  /** DICOM Modality (default `CT`); `MR` files get the MR Image Storage class. */
  modality?: string;
  /** Writes Contrast/Bolus Agent (default: the volume's `meta.contrastAgent`). */
  contrast?: boolean;
  bodyPartExamined?: string;
  kvp?: number;
  manufacturer?: string;
  /** Slice Thickness in mm (default the spacing along k). */
  sliceThicknessMm?: number;
  /** Signed stored values (Pixel Representation 1, intercept 0) instead of unsigned (default false). */
  signed?: boolean;
  /** Bits Stored, 12 or 16 (default 12 when every stored value fits, else 16). */
  bitsStored?: 12 | 16;
  /**
   * Rescale Intercept (default −1024 unsigned, 0 signed; for unsigned data it is lowered to the
   * volume's minimum when a value lies below −1024).
   */
  rescaleIntercept?: number;
  /** Rescale Slope (default 1); stored values are rounded. */
  rescaleSlope?: number;
  /**
   * Transfer syntax (default explicit VR little endian). `jpeg2000-lossless` stores each slice as one
   * lossless JPEG 2000 fragment, as PACS archives do (encoding takes about 0.1 s per 512² slice).
   */
  transferSyntax?: 'explicit-little-endian' | 'implicit-little-endian' | 'jpeg2000-lossless';
  /** UIDs to put several series in one study (default: fresh random `2.25.` UIDs). */
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  frameOfReferenceUid?: string;
  seriesNumber?: number;
}

export const DEFAULTS = {
  shuffleFileNames: true,
  omitSlices: [] as number[],
  gantryTiltDeg: 0,
  fillValue: -1000,
  seriesDescription: 'holocase phantom CT',
  modality: 'CT',
  bodyPartExamined: 'CHEST',
  kvp: 120,
  manufacturer: 'holocase phantom',
  signed: false,
  rescaleSlope: 1,
  transferSyntax: 'explicit-little-endian' as NonNullable<DicomSeriesOptions['transferSyntax']>,
  seriesNumber: 2,
};

const TRANSFER_SYNTAX = {
  'explicit-little-endian': '1.2.840.10008.1.2.1',
  'implicit-little-endian': '1.2.840.10008.1.2',
  'jpeg2000-lossless': '1.2.840.10008.1.2.4.90',
} as const;
const SOP_CLASS: Record<string, string> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
};
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
/** holocase's implementation class (a fixed UUID-derived `2.25.` UID). */
const IMPLEMENTATION_CLASS_UID = '2.25.182347190512286744512367298447713525101';

/** A fresh UID under the `2.25.` (UUID-derived) root. */
export function randomUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

/** A decimal string (DS) of at most 16 characters, as close to `v` as that allows. */
function ds(v: number): string {
  if (Math.abs(v) < 1e-12) return '0';
  for (let p = 15; p >= 1; p--) {
    const text = String(Number(v.toPrecision(p)));
    if (text.length <= 16) return text;
  }
  return String(Math.round(v));
}

const unit = (v: Vec3): Vec3 => {
  const n = Math.hypot(...v);
  return [v[0] / n, v[1] / n, v[2] / n];
};
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Where each written slice lies: its first voxel's position, and the slice plane's row/column directions. */
interface SliceGeometry {
  row: Vec3;
  column: Vec3;
  /** Image Position (Patient) of slice k. */
  position: (k: number) => Vec3;
}

function sliceGeometry(volume: Volume, tiltDeg: number): SliceGeometry {
  const [ni, nj] = volume.dims;
  const a = volume.affine;
  const row = unit(axisVector(a, 0));
  const column0 = unit(axisVector(a, 1));
  if (tiltDeg === 0) return { row, column: column0, position: (k) => applyAffine(a, [0, 0, k]) };
  // Turn the column direction about the row direction; keep each slice's centre where it was.
  const t = (tiltDeg * Math.PI) / 180;
  const normal = cross(row, column0);
  const column = unit([0, 1, 2].map((n) => Math.cos(t) * column0[n] + Math.sin(t) * normal[n]) as Vec3);
  const [di, dj] = spacingOf(a);
  const ci = ((ni - 1) / 2) * di, cj = ((nj - 1) / 2) * dj;
  return {
    row,
    column,
    position: (k) => {
      const centre = applyAffine(a, [(ni - 1) / 2, (nj - 1) / 2, k]);
      return [0, 1, 2].map((n) => centre[n] - ci * row[n] - cj * column[n]) as Vec3;
    },
  };
}

/** How voxel values become stored pixel values. */
interface Encoding {
  signed: boolean;
  bitsStored: 12 | 16;
  intercept: number;
  slope: number;
}

function chooseEncoding(volume: Volume, o: DicomSeriesOptions & typeof DEFAULTS, fill: number): Encoding {
  let min = fill, max = fill;
  for (let n = 0; n < volume.data.length; n++) {
    const v = volume.data[n];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const slope = o.rescaleSlope;
  if (!(slope > 0)) throw new HolocaseError('BAD_REQUEST', `rescale slope must be positive (got ${slope})`);
  let intercept = o.rescaleIntercept ?? (o.signed ? 0 : -1024);
  if (!o.signed && o.rescaleIntercept === undefined && min < intercept) intercept = Math.floor(min);
  const lo = Math.round((min - intercept) / slope), hi = Math.round((max - intercept) / slope);
  const fits = (bits: number): boolean => (o.signed ? lo >= -(2 ** (bits - 1)) && hi < 2 ** (bits - 1) : lo >= 0 && hi < 2 ** bits);
  const bitsStored = o.bitsStored ?? (fits(12) ? 12 : 16);
  if (!fits(bitsStored)) {
    throw new HolocaseError('BAD_REQUEST', `values ${min}…${max} do not fit ${bitsStored}-bit ${o.signed ? 'signed' : 'unsigned'} pixels with intercept ${intercept} and slope ${slope}`);
  }
  return { signed: o.signed, bitsStored, intercept, slope };
}

/** Stored pixels of one slice, row by row (column index fastest). */
function slicePixels(volume: Volume, k: number, geometry: SliceGeometry, tiltDeg: number, fill: number, e: Encoding): Int16Array | Uint16Array {
  const [ni, nj, nk] = volume.dims;
  const out = e.signed ? new Int16Array(ni * nj) : new Uint16Array(ni * nj);
  const store = (v: number): number => Math.round((v - e.intercept) / e.slope);
  if (tiltDeg === 0) {
    const base = k * ni * nj;
    const { data } = volume;
    if (e.slope === 1 && Number.isInteger(e.intercept) && !(data instanceof Float32Array || data instanceof Float64Array)) {
      for (let n = 0; n < ni * nj; n++) out[n] = data[base + n] - e.intercept;
    } else {
      for (let n = 0; n < ni * nj; n++) out[n] = store(data[base + n]);
    }
    return out;
  }
  // Tilted plane: nearest voxel of the volume at each pixel's patient position (applyAffine with the
  // inverse, written out so the loop allocates nothing).
  const m = invertAffine(volume.affine);
  const [di, dj] = spacingOf(volume.affine);
  const origin = geometry.position(k);
  const { row, column } = geometry;
  for (let r = 0; r < nj; r++) {
    for (let c = 0; c < ni; c++) {
      const x = origin[0] + c * di * row[0] + r * dj * column[0];
      const y = origin[1] + c * di * row[1] + r * dj * column[1];
      const z = origin[2] + c * di * row[2] + r * dj * column[2];
      const i = Math.round(m[0] * x + m[1] * y + m[2] * z + m[3]);
      const j = Math.round(m[4] * x + m[5] * y + m[6] * z + m[7]);
      const kk = Math.round(m[8] * x + m[9] * y + m[10] * z + m[11]);
      const inside = i >= 0 && i < ni && j >= 0 && j < nj && kk >= 0 && kk < nk;
      out[r * ni + c] = store(inside ? volume.data[i + j * ni + kk * ni * nj] : fill);
    }
  }
  return out;
}

/** A random permutation of 0…n−1 that is neither ascending nor descending (when n ≥ 3). */
function unsortedPermutation(n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  const ascending = p.every((v, i) => v === i), descending = p.every((v, i) => v === n - 1 - i);
  if (n >= 3 && (ascending || descending)) [p[0], p[1]] = [p[1], p[0]];
  return p;
}

/**
 * Writes `volume` as a DICOM series into `dir` (created when missing), one file per slice along k.
 * Returns the written paths in slice order (a duplicate right after its original). Every file is
 * written under a temporary name and renamed into place; on failure the files already written are
 * removed again.
 */
export async function writeDicomSeries(volume: Volume, dir: string, options: DicomSeriesOptions = {}): Promise<string[]> {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const o: DicomSeriesOptions & typeof DEFAULTS = { ...DEFAULTS, ...given };
  const [ni, nj, nk] = volume.dims;
  if (volume.data.length !== ni * nj * nk) throw new HolocaseError('BAD_REQUEST', `volume holds ${volume.data.length} voxels but its dimensions ${volume.dims.join('×')} need ${ni * nj * nk}`);
  if (ni > 65535 || nj > 65535) throw new HolocaseError('BAD_REQUEST', `slices of ${ni}×${nj} pixels are too large for DICOM Rows/Columns`);
  for (const k of [...o.omitSlices, ...(o.duplicateSlice === undefined ? [] : [o.duplicateSlice])]) {
    if (!Number.isInteger(k) || k < 0 || k >= nk) throw new HolocaseError('BAD_REQUEST', `slice ${k} does not exist: the volume has slices 0–${nk - 1}`);
  }

  // 1. Geometry and pixel encoding shared by all slices.
  const tilt = o.gantryTiltDeg;
  if (!(Math.abs(tilt) < 60)) throw new HolocaseError('BAD_REQUEST', `gantry tilt must be between −60° and 60° (got ${tilt})`);
  const geometry = sliceGeometry(volume, tilt);
  const encoding = chooseEncoding(volume, o, o.fillValue);
  const spacing = spacingOf(volume.affine);
  const normal = cross(geometry.row, geometry.column);
  const identity: DicomIdentity = { ...DEFAULT_IDENTITY, ...o.identity };
  const studyUid = o.studyInstanceUid ?? randomUid();
  const seriesUid = o.seriesInstanceUid ?? randomUid();
  const frameUid = o.frameOfReferenceUid ?? randomUid();
  const contrast = o.contrast ?? volume.meta.contrastAgent ?? false;
  const sopClass = SOP_CLASS[o.modality] ?? SECONDARY_CAPTURE;

  // 2. Which slices become files, their Instance Numbers and names.
  const omitted = new Set(o.omitSlices);
  const slices: number[] = [];
  for (let k = 0; k < nk; k++) {
    if (omitted.has(k)) continue;
    slices.push(k);
    if (k === o.duplicateSlice) slices.push(k);
  }
  const order = o.shuffleFileNames ? unsortedPermutation(slices.length) : slices.map((_, n) => n);
  let names = slices.map((_, n) => (o.shuffleFileNames ? `${randomBytes(8).toString('hex').toUpperCase()}.dcm` : `slice_${String(n + 1).padStart(4, '0')}.dcm`));
  if (o.shuffleFileNames && names.length >= 3) {
    const sorted = [...names].sort();
    if (sorted.every((v, n) => v === names[n]) || sorted.every((v, n) => v === names[names.length - 1 - n])) {
      names = [names[1], names[0], ...names.slice(2)];
    }
  }

  // 3. One dataset per file, written atomically.
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const writeOne = async (n: number): Promise<void> => {
    const k = slices[n];
    const position = geometry.position(k);
    const pixels = slicePixels(volume, k, geometry, tilt, o.fillValue, encoding);
    const jpeg2000 = o.transferSyntax === 'jpeg2000-lossless';
    const pixelData = jpeg2000
      ? [(await encodeJpeg2000Lossless({ samples: pixels, columns: ni, rows: nj, bitsStored: encoding.bitsStored })).slice().buffer]
      : pixels.buffer;
    const sopUid = randomUid();
    const dataset: Record<string, unknown> = {
      SpecificCharacterSet: 'ISO_IR 100',
      ImageType: ['ORIGINAL', 'PRIMARY', Math.abs(normal[2]) >= Math.SQRT1_2 ? 'AXIAL' : 'OTHER'],
      SOPClassUID: sopClass,
      SOPInstanceUID: sopUid,
      StudyDate: identity.StudyDate,
      SeriesDate: identity.SeriesDate,
      AcquisitionDate: identity.SeriesDate,
      ContentDate: identity.SeriesDate,
      StudyTime: identity.StudyTime,
      SeriesTime: identity.SeriesTime,
      AcquisitionTime: identity.SeriesTime,
      ContentTime: identity.SeriesTime,
      AccessionNumber: identity.AccessionNumber,
      Modality: o.modality,
      Manufacturer: o.manufacturer,
      InstitutionName: identity.InstitutionName,
      InstitutionAddress: identity.InstitutionAddress,
      ReferringPhysicianName: identity.ReferringPhysicianName,
      StationName: identity.StationName,
      StudyDescription: identity.StudyDescription,
      SeriesDescription: o.seriesDescription,
      PerformingPhysicianName: identity.PerformingPhysicianName,
      OperatorsName: identity.OperatorsName,
      ManufacturerModelName: 'Procedural CT',
      PatientName: identity.PatientName,
      PatientID: identity.PatientID,
      PatientBirthDate: identity.PatientBirthDate,
      PatientSex: identity.PatientSex,
      PatientAge: identity.PatientAge,
      ...(contrast ? { ContrastBolusAgent: 'Iohexol 350 mgI/ml' } : {}),
      BodyPartExamined: o.bodyPartExamined,
      SliceThickness: ds(o.sliceThicknessMm ?? spacing[2]),
      KVP: ds(o.kvp),
      DeviceSerialNumber: identity.DeviceSerialNumber,
      GantryDetectorTilt: ds(tilt),
      PatientPosition: 'HFS',
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: seriesUid,
      StudyID: identity.StudyID,
      SeriesNumber: o.seriesNumber,
      AcquisitionNumber: 1,
      InstanceNumber: order[n] + 1,
      ImagePositionPatient: position.map(ds),
      ImageOrientationPatient: [...geometry.row, ...geometry.column].map(ds),
      FrameOfReferenceUID: frameUid,
      PositionReferenceIndicator: '',
      SliceLocation: ds(dot(position, normal)),
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: nj,
      Columns: ni,
      PixelSpacing: [ds(spacing[1]), ds(spacing[0])],
      BitsAllocated: 16,
      BitsStored: encoding.bitsStored,
      HighBit: encoding.bitsStored - 1,
      PixelRepresentation: encoding.signed ? 1 : 0,
      WindowCenter: '40',
      WindowWidth: '400',
      RescaleIntercept: ds(encoding.intercept),
      RescaleSlope: ds(encoding.slope),
      RescaleType: 'HU',
      PixelData: pixelData,
      _vrMap: { PixelData: jpeg2000 ? 'OB' : 'OW' },
    };
    const meta = {
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: sopClass,
      MediaStorageSOPInstanceUID: sopUid,
      TransferSyntaxUID: TRANSFER_SYNTAX[o.transferSyntax],
      ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
      ImplementationVersionName: 'HOLOCASE_0_1',
    };
    const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
    dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
    const bytes = new Uint8Array(dict.write({ allowInvalidVRLength: false, fragmentMultiframe: false }));
    const file = path.join(dir, names[n]);
    await writeFileAtomically(file, bytes);
    written[n] = file;
  };

  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < slices.length) await writeOne(next++);
    };
    await Promise.all(Array.from({ length: Math.min(8, slices.length) }, worker));
  } catch (error) {
    await Promise.all(written.filter(Boolean).map((f) => rm(f, { force: true })));
    throw error;
  }
  return written;
}

/** The affine a correct reader derives from the series `writeDicomSeries` writes (sheared when tilted). */
export function writtenAffine(volume: Volume, gantryTiltDeg = 0): Mat4 {
  const g = sliceGeometry(volume, gantryTiltDeg);
  const [di, dj] = spacingOf(volume.affine);
  const p0 = g.position(0), p1 = g.position(1);
  const m: Mat4 = new Array(16).fill(0);
  for (let r = 0; r < 3; r++) {
    m[r * 4] = g.row[r] * di;
    m[r * 4 + 1] = g.column[r] * dj;
    m[r * 4 + 2] = p1[r] - p0[r];
    m[r * 4 + 3] = p0[r];
  }
  m[15] = 1;
  return m;
}
