/**
 * What a DICOM image header says about its pixels and where they lie in the patient: the pixel layout
 * (rows, columns, Bits Allocated/Stored, Pixel Representation, …), the modality LUT (Rescale
 * Slope/Intercept), padding, and the plane geometry of every frame (classic single-frame images and
 * Enhanced multi-frame images with per-frame functional groups). Values are checked here, so later
 * stages can trust them; a header that cannot describe an image gives a `HolocaseError` naming the field.
 */
import type { DataSet } from 'dicom-parser';
import { HolocaseError } from '../../errors.ts';
import type { Vec3 } from '../../../mesh/grid.ts';
import type { TransferSyntax } from './transferSyntax.ts';

/** How the stored pixel values of one frame are laid out. */
export interface PixelLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  /** 8, 16 or 32. */
  bitsAllocated: number;
  /** Meaningful bits of each stored value (≤ Bits Allocated). */
  bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  photometricInterpretation: string;
  planarConfiguration: 0 | 1;
}

/** Where one frame lies in the patient (LPS millimetres). */
export interface PlaneGeometry {
  /** Image Position (Patient): centre of the first transmitted pixel. */
  position: Vec3;
  /** Unit vector along a row (direction of increasing column index). */
  rowDirection: Vec3;
  /** Unit vector along a column (direction of increasing row index). */
  columnDirection: Vec3;
  /** Pixel Spacing: [distance between rows, distance between columns] in mm. */
  pixelSpacing: [number, number];
}

/** The modality LUT: stored value × slope + intercept = output unit (Hounsfield units for CT). */
export interface Rescale {
  slope: number;
  intercept: number;
}

export interface PixelPadding {
  /** Pixel Padding Value, as a (sign-interpreted) stored value. */
  value: number;
  /** Pixel Padding Range Limit: stored values between `value` and this one are padding too. */
  rangeLimit?: number;
}

/** Location of the Pixel Data element's value in the parsed bytes. */
export interface PixelDataLocation {
  offset: number;
  /** Declared length in bytes (undefined length for encapsulated data). */
  length: number;
  encapsulated: boolean;
}

export interface DicomImageHeader {
  layout: PixelLayout;
  frames: number;
  modality?: string;
  seriesInstanceUid?: string;
  frameOfReferenceUid?: string;
  /** Image Type values, e.g. ORIGINAL\PRIMARY\AXIAL or …\LOCALIZER. */
  imageType: string[];
  /** Geometry of each frame; entries are undefined where the header gives none. */
  frameGeometry: (PlaneGeometry | undefined)[];
  /** Modality LUT of each frame. */
  frameRescale: Rescale[];
  sliceThicknessMm?: number;
  padding?: PixelPadding;
  /** Enhanced (multi-frame with functional groups) image. */
  enhanced: boolean;
  pixelData?: PixelDataLocation;
}

const TAG = {
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  planarConfiguration: 'x00280006',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  paddingValue: 'x00280120',
  paddingRangeLimit: 'x00280121',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  modality: 'x00080060',
  imageType: 'x00080008',
  seriesInstanceUid: 'x0020000e',
  frameOfReferenceUid: 'x00200052',
  imagePosition: 'x00200032',
  imageOrientation: 'x00200037',
  pixelSpacing: 'x00280030',
  sliceThickness: 'x00180050',
  sharedGroups: 'x52009229',
  perFrameGroups: 'x52009230',
  planePosition: 'x00209113',
  planeOrientation: 'x00209116',
  pixelMeasures: 'x00289110',
  pixelValueTransformation: 'x00289145',
  pixelData: 'x7fe00010',
} as const;

/** A header field's text value (all values, backslash-separated), trimmed; undefined when absent or empty. */
export function textOf(dataSet: DataSet, tag: string): string | undefined {
  try {
    const value = dataSet.string(tag);
    return value === undefined || value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/** A multi-valued decimal string (DS) as numbers; undefined unless every value is a finite number. */
export function numbersOf(dataSet: DataSet, tag: string): number[] | undefined {
  const text = textOf(dataSet, tag);
  if (text === undefined) return undefined;
  const values = text.split('\\').map((s) => (s.trim() === '' ? NaN : Number(s)));
  return values.every(Number.isFinite) ? values : undefined;
}

function numberOf(dataSet: DataSet, tag: string): number | undefined {
  return numbersOf(dataSet, tag)?.[0];
}

function uint16Of(dataSet: DataSet, tag: string): number | undefined {
  const element = dataSet.elements[tag];
  if (!element || element.length < 2) return undefined;
  try {
    return dataSet.uint16(tag);
  } catch {
    return undefined;
  }
}

/** Reads and checks the image description of a parsed DICOM dataset. */
export function readImageHeader(dataSet: DataSet, transferSyntax: TransferSyntax, name = 'DICOM file'): DicomImageHeader {
  const layout = readPixelLayout(dataSet, name);
  // 1. Number of frames: IS text; anything that is not a whole number is refused, not guessed.
  let frames = 1;
  const framesText = textOf(dataSet, TAG.numberOfFrames);
  if (framesText !== undefined) {
    if (!/^\s*\+?\d+\s*$/.test(framesText)) {
      throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Number of Frames '${framesText}' is not a number`);
    }
    frames = Number(framesText);
    if (frames < 1) throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Number of Frames is ${frames}`);
  }
  // 2. Modality LUT and padding.
  const rescale = readRescale(dataSet, name);
  const padding = readPadding(dataSet, layout);
  // 3. Geometry: classic (one plane for the image) or per frame (Enhanced multi-frame).
  const shared = firstItem(dataSet, TAG.sharedGroups);
  const perFrame = dataSet.elements[TAG.perFrameGroups]?.items;
  const enhanced = Boolean(shared || perFrame);
  const frameGeometry: (PlaneGeometry | undefined)[] = [];
  const frameRescale: Rescale[] = [];
  let sliceThicknessMm = numberOf(dataSet, TAG.sliceThickness);
  if (enhanced) {
    for (let f = 0; f < frames; f++) {
      const own = perFrame?.[f]?.dataSet;
      frameGeometry.push(readEnhancedGeometry(own, shared, name));
      frameRescale.push(readEnhancedRescale(own, shared, name) ?? rescale);
    }
    const measures = firstItem(perFrame?.[0]?.dataSet, TAG.pixelMeasures) ?? firstItem(shared, TAG.pixelMeasures);
    sliceThicknessMm ??= measures ? numberOf(measures, TAG.sliceThickness) : undefined;
  } else {
    const geometry = readPlane(dataSet, dataSet, dataSet, name);
    for (let f = 0; f < frames; f++) {
      frameGeometry.push(f === 0 ? geometry : undefined);
      frameRescale.push(rescale);
    }
  }
  // 4. Pixel data location.
  const pixel = dataSet.elements[TAG.pixelData];
  const pixelData = pixel
    ? { offset: pixel.dataOffset, length: pixel.length, encapsulated: Boolean(pixel.encapsulatedPixelData || (transferSyntax.encapsulated && pixel.hadUndefinedLength) || pixel.length === 0xffffffff) }
    : undefined;
  if (pixelData && transferSyntax.encapsulated !== pixelData.encapsulated) {
    throw new HolocaseError(
      'DICOM_MALFORMED',
      `${name} is damaged: its transfer syntax (${transferSyntax.name}) says the pixel data is ${transferSyntax.encapsulated ? 'compressed' : 'uncompressed'}, but it is ${pixelData.encapsulated ? 'compressed' : 'uncompressed'}`,
    );
  }
  return {
    layout,
    frames,
    modality: textOf(dataSet, TAG.modality)?.toUpperCase(),
    seriesInstanceUid: textOf(dataSet, TAG.seriesInstanceUid),
    frameOfReferenceUid: textOf(dataSet, TAG.frameOfReferenceUid),
    imageType: (textOf(dataSet, TAG.imageType) ?? '').split('\\').map((s) => s.trim().toUpperCase()).filter(Boolean),
    frameGeometry,
    frameRescale,
    sliceThicknessMm: sliceThicknessMm !== undefined && sliceThicknessMm > 0 ? sliceThicknessMm : undefined,
    padding,
    enhanced,
    pixelData,
  };
}

/** True when a dataset carries an image (Pixel Data) rather than, say, a report or a DICOMDIR. */
export function hasPixelData(dataSet: DataSet): boolean {
  return dataSet.elements[TAG.pixelData] !== undefined;
}

function readPixelLayout(dataSet: DataSet, name: string): PixelLayout {
  const rows = uint16Of(dataSet, TAG.rows);
  const columns = uint16Of(dataSet, TAG.columns);
  const bitsAllocated = uint16Of(dataSet, TAG.bitsAllocated);
  if (!rows || !columns) throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: it gives no image size (Rows/Columns)`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new HolocaseError('DICOM_UNSUPPORTED', `${name} stores ${bitsAllocated ?? 'an unknown number of'} bits per pixel; holocase reads 8, 16 or 32`);
  }
  const bitsStored = uint16Of(dataSet, TAG.bitsStored) ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Bits Stored (${bitsStored}) does not fit in Bits Allocated (${bitsAllocated})`);
  }
  const samplesPerPixel = uint16Of(dataSet, TAG.samplesPerPixel) ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Samples per Pixel is ${samplesPerPixel}`);
  }
  const pixelRepresentation = uint16Of(dataSet, TAG.pixelRepresentation) === 1 ? 1 : 0;
  const planarConfiguration = uint16Of(dataSet, TAG.planarConfiguration) === 1 ? 1 : 0;
  const photometricInterpretation = (textOf(dataSet, TAG.photometric) ?? (samplesPerPixel === 1 ? 'MONOCHROME2' : 'RGB')).toUpperCase();
  return { rows, columns, samplesPerPixel, bitsAllocated, bitsStored, pixelRepresentation, photometricInterpretation, planarConfiguration };
}

function readRescale(dataSet: DataSet, name: string): Rescale {
  const slopeText = textOf(dataSet, TAG.rescaleSlope);
  const interceptText = textOf(dataSet, TAG.rescaleIntercept);
  const slope = slopeText === undefined ? 1 : Number(slopeText.split('\\')[0]);
  const intercept = interceptText === undefined ? 0 : Number(interceptText.split('\\')[0]);
  if (!Number.isFinite(slope) || slope === 0) throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Rescale Slope '${slopeText}' is not a usable number`);
  if (!Number.isFinite(intercept)) throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Rescale Intercept '${interceptText}' is not a number`);
  return { slope, intercept };
}

/** Pixel Padding Value (US or SS): read as 16 bits, interpreted with the image's Pixel Representation. */
function readPadding(dataSet: DataSet, layout: PixelLayout): PixelPadding | undefined {
  const read = (tag: string): number | undefined => {
    const element = dataSet.elements[tag];
    if (!element || element.length < 2) return undefined;
    try {
      if (element.length >= 4 && layout.bitsAllocated === 32) {
        return layout.pixelRepresentation ? dataSet.int32(tag) : dataSet.uint32(tag);
      }
      const raw = dataSet.uint16(tag);
      if (raw === undefined) return undefined;
      return layout.pixelRepresentation && raw > 0x7fff ? raw - 0x10000 : raw;
    } catch {
      return undefined;
    }
  };
  const value = read(TAG.paddingValue);
  if (value === undefined) return undefined;
  const rangeLimit = read(TAG.paddingRangeLimit);
  return rangeLimit === undefined ? { value } : { value, rangeLimit };
}

function firstItem(dataSet: DataSet | undefined, tag: string): DataSet | undefined {
  return dataSet?.elements[tag]?.items?.[0]?.dataSet;
}

/** Plane geometry from (possibly different) datasets holding position, orientation and spacing. */
function readPlane(positionSet: DataSet | undefined, orientationSet: DataSet | undefined, spacingSet: DataSet | undefined, name: string): PlaneGeometry | undefined {
  const position = positionSet && numbersOf(positionSet, TAG.imagePosition);
  const orientation = orientationSet && numbersOf(orientationSet, TAG.imageOrientation);
  const spacing = spacingSet && numbersOf(spacingSet, TAG.pixelSpacing);
  if (!position && !orientation) return undefined;
  if (!position || position.length < 3) throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Image Position (Patient) is missing or incomplete`);
  if (!orientation || orientation.length < 6) throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Image Orientation (Patient) is missing or incomplete`);
  const row = unit(orientation.slice(0, 3) as Vec3);
  const column = unit(orientation.slice(3, 6) as Vec3);
  if (!row || !column || Math.abs(row[0] * column[0] + row[1] * column[1] + row[2] * column[2]) > 1e-3) {
    throw new HolocaseError('DICOM_MALFORMED', `${name} is damaged: Image Orientation (Patient) '${orientation.join('\\')}' is not two perpendicular directions`);
  }
  if (!spacing || spacing.length < 2 || !(spacing[0] > 0) || !(spacing[1] > 0)) {
    throw new HolocaseError('DICOM_MALFORMED', `${name} gives no usable Pixel Spacing, so its size in millimetres is unknown`);
  }
  return { position: position.slice(0, 3) as Vec3, rowDirection: row, columnDirection: column, pixelSpacing: [spacing[0], spacing[1]] };
}

function readEnhancedGeometry(own: DataSet | undefined, shared: DataSet | undefined, name: string): PlaneGeometry | undefined {
  const pick = (tag: string) => firstItem(own, tag) ?? firstItem(shared, tag);
  return readPlane(pick(TAG.planePosition), pick(TAG.planeOrientation), pick(TAG.pixelMeasures), name);
}

function readEnhancedRescale(own: DataSet | undefined, shared: DataSet | undefined, name: string): Rescale | undefined {
  const item = firstItem(own, TAG.pixelValueTransformation) ?? firstItem(shared, TAG.pixelValueTransformation);
  return item ? readRescale(item, name) : undefined;
}

function unit(v: Vec3): Vec3 | undefined {
  const n = Math.hypot(v[0], v[1], v[2]);
  if (!(n > 0.5 && n < 1.5)) return undefined;
  return [v[0] / n, v[1] / n, v[2] / n];
}
