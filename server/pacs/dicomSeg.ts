/**
 * A case's label map as a DICOM Segmentation (SEG) object that PACS viewers overlay on the original
 * CT: one segment per structure (SNOMED CT codes from the catalogue, the catalogue's colour), binary
 * frames only for the slices a structure touches, per-frame plane positions, and every frame tied to
 * the source slice it was derived from by that slice's original SOP Instance UID.
 *
 * dcmjs writes it: `normalizers.Normalizer` turns the source slices into the multi-frame reference
 * the derivation expects, `derivations.Segmentation` builds the SEG's modules (equipment, segment
 * sequence, dimension index, shared and per-frame functional groups, references), and `data` encodes
 * it. Two things are ours, both for clinical sizes (hundreds of structures × hundreds of 512² slices):
 * dcmjs keeps every frame unpacked (one byte per pixel) until the end, which would need gigabytes, so
 * frames are packed into bits (DICOM order: first pixel in the lowest bit, frames back to back) as they
 * are made; and its writer is slow for large binary values, so Pixel Data is appended after it.
 *
 * The patient and study identifiers the SEG must carry come in `source.patientStudy`, read from the
 * PACS copy by the caller; this function keeps nothing.
 */
// @ts-expect-error dcmjs ships no type declarations
import dcmjs from 'dcmjs';
import { axisVector, originOf, spacingOf, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import type { CodedConcept, StructureCodes } from '../../models/anatomyCodes.ts';
import { HolocaseError } from '../errors.ts';

/** One slice of the source series as the PACS holds it. */
export interface SegSourceSlice {
  sopClassUid: string;
  sopInstanceUid: string;
  /** Image Position (Patient), LPS mm. */
  position: Vec3;
}

/** The source series: its slices, geometry and the identifiers a SEG repeats. */
export interface SegSourceSeries {
  slices: SegSourceSlice[];
  /** Image Orientation (Patient): row direction then column direction. */
  orientation: [number, number, number, number, number, number];
  /** Pixel Spacing: between rows, then between columns (mm). */
  pixelSpacing: [number, number];
  rows: number;
  columns: number;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  /**
   * Patient and study attributes by DICOM keyword (PatientName, PatientID, PatientBirthDate,
   * PatientSex, StudyDate, StudyTime, StudyID, AccessionNumber, ReferringPhysicianName, …).
   */
  patientStudy: Record<string, string>;
}

/** One structure of the label map. */
export interface SegSegmentSpec {
  label: number;
  /** Shown by viewers as the segment label. */
  displayName: string;
  /** sRGB `#rrggbb`. */
  color: string;
  codes: StructureCodes;
}

export interface BuildSegmentationOptions {
  /** Segment Algorithm Name: the model that made the label map. */
  algorithmName: string;
  /**
   * A corrected revision (1, 2, …) of the model's label map: its segments are SEMIAUTOMATIC (a person
   * corrected the model's), and it is a series of its own (Series Number and Description count the
   * revision), so the PACS keeps each correction beside the model's output.
   */
  revision?: number;
  seriesDescription?: string;
  seriesNumber?: number;
  softwareVersion?: string;
  /** Largest distance (as a fraction of the slice spacing / pixel size) between a label slice and its source slice. */
  positionTolerance?: number;
}

export const DEFAULTS = {
  seriesDescription: 'holocase segmentation',
  seriesNumber: 9901,
  softwareVersion: '0',
  positionTolerance: 0.25,
} as const;

export interface BuiltSegmentation {
  bytes: Uint8Array;
  segments: number;
  frames: number;
}

const SEG_TRANSFER_SYNTAX = '1.2.840.10008.1.2.1';
const PATIENT_STUDY_KEYWORDS = [
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'StudyID',
  'AccessionNumber',
  'ReferringPhysicianName',
] as const;
/** Attributes of a CT image that the derivation carries over but a SEG must not have. */
const NOT_IN_SEG = [
  'WindowCenter',
  'WindowWidth',
  'RescaleSlope',
  'RescaleIntercept',
  'PresentationLUTShape',
  'PixelPresentation',
  'VolumetricProperties',
  'VolumeBasedCalculationTechnique',
  'PatientPosition',
  'BodyPartExamined',
];

/** dcmjs's segmentation derivation, with frames bit-packed as they are made instead of at the end. */
function packedSegmentationClass() {
  const Base = dcmjs.derivations.Segmentation as new (datasets: unknown[], options: unknown) => {
    dataset: Record<string, any>;
    addSegment(segment: unknown, pixelData: Uint8Array, referencedFrameNumbers: number[]): void;
  };
  return class PackedSegmentation extends Base {
    /** Allocates the packed pixel data (even length, as DICOM requires). */
    setNumberOfFrames(frames: number): void {
      const bits = frames * this.dataset.Rows * this.dataset.Columns;
      const bytes = Math.ceil(bits / 8);
      this.dataset.NumberOfFrames = frames;
      this.dataset.PixelData = new ArrayBuffer(bytes + (bytes % 2));
    }
    /** Pixels are written by `packFrames`; the unpacked copy dcmjs would make is skipped. */
    _addSegmentPixelData(): void {}
  };
}

/** A number as a Decimal String (at most 16 characters), e.g. 0.8000000000000114 → 0.8. */
export function decimalString(value: number): number {
  for (let digits = 15; digits > 1; digits--) {
    const rounded = Number(value.toPrecision(digits));
    if (String(rounded).length <= 16) return rounded;
  }
  return Math.round(value);
}

const code = (c: CodedConcept) => ({ CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning });

/** `#rrggbb` → DICOM CIELab (L*, a*, b* scaled to 0–65535). */
export function dicomLab(color: string): [number, number, number] {
  const channel = (i: number) => {
    const c = parseInt(color.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [0, 1, 2].map(channel);
  // sRGB (D65) → XYZ → CIELab, relative to the D65 white.
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const L = 116 * f(y) - 16;
  const A = 500 * (f(x) - f(y));
  const B = 200 * (f(y) - f(z));
  return [Math.round((L * 65535) / 100), Math.round(((A + 128) * 65535) / 255), Math.round(((B + 128) * 65535) / 255)];
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const unit = (v: Vec3): Vec3 => {
  const n = Math.hypot(...v) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
};

/**
 * For each label-map slice k, the index of the source slice at the same place. Throws when the label
 * map is not on the source series' grid (another size, orientation, spacing, or a slice with no source).
 */
export function matchSourceSlices(labels: LabelMap, source: SegSourceSeries, tolerance: number = DEFAULTS.positionTolerance): number[] {
  const [nx, ny, nz] = labels.dims;
  const mismatch = (what: string) =>
    new HolocaseError('SEG_GRID_MISMATCH', `the label map is not on the grid of the series in the PACS: ${what}`);
  if (nx !== source.columns || ny !== source.rows) {
    throw mismatch(`its slices are ${nx}×${ny} pixels, the series' ${source.columns}×${source.rows}`);
  }
  const rowDir = unit(source.orientation.slice(0, 3) as Vec3);
  const colDir = unit(source.orientation.slice(3, 6) as Vec3);
  const [si, sj, sk] = spacingOf(labels.affine);
  const iDir = unit(axisVector(labels.affine, 0));
  const jDir = unit(axisVector(labels.affine, 1));
  if (dot(iDir, rowDir) < 0.9999 || dot(jDir, colDir) < 0.9999) throw mismatch('its rows and columns run in other directions');
  const [rowSpacing, columnSpacing] = source.pixelSpacing;
  if (Math.abs(si - columnSpacing) > 1e-3 * columnSpacing || Math.abs(sj - rowSpacing) > 1e-3 * rowSpacing) {
    throw mismatch(`its pixels are ${si.toFixed(3)}×${sj.toFixed(3)} mm, the series' ${columnSpacing}×${rowSpacing} mm`);
  }
  const origin = originOf(labels.affine);
  const step = axisVector(labels.affine, 2);
  const normal = unit([rowDir[1] * colDir[2] - rowDir[2] * colDir[1], rowDir[2] * colDir[0] - rowDir[0] * colDir[2], rowDir[0] * colDir[1] - rowDir[1] * colDir[0]]);
  // Source slices sorted along the normal, for a binary search per label slice.
  const order = source.slices.map((s, index) => ({ index, d: dot(s.position, normal) })).sort((a, b) => a.d - b.d);
  const alongTolerance = tolerance * sk;
  const inPlaneTolerance = tolerance * Math.min(si, sj);
  const matches: number[] = [];
  for (let k = 0; k < nz; k++) {
    const p: Vec3 = [origin[0] + step[0] * k, origin[1] + step[1] * k, origin[2] + step[2] * k];
    const d = dot(p, normal);
    let lo = 0;
    let hi = order.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order[mid].d < d) lo = mid + 1;
      else hi = mid;
    }
    const candidates = [order[lo - 1], order[lo]].filter(Boolean);
    const best = candidates.sort((a, b) => Math.abs(a.d - d) - Math.abs(b.d - d))[0];
    const offset = best ? sub(source.slices[best.index].position, p) : undefined;
    const along = offset ? Math.abs(dot(offset, normal)) : Infinity;
    const sideways = offset ? Math.hypot(...sub(offset, normal.map((v) => v * dot(offset, normal)) as Vec3)) : Infinity;
    if (!best || along > alongTolerance || sideways > inPlaneTolerance) {
      throw mismatch(`slice ${k + 1} of ${nz} has no slice of the series at its position`);
    }
    matches.push(best.index);
  }
  return matches;
}

/** Which slices each label occupies: `present[label][k]`. */
function slicePresence(labels: LabelMap, wanted: Set<number>): Map<number, Uint8Array> {
  const [nx, ny, nz] = labels.dims;
  const plane = nx * ny;
  const present = new Map<number, Uint8Array>();
  for (const label of wanted) present.set(label, new Uint8Array(nz));
  const data = labels.data;
  for (let k = 0; k < nz; k++) {
    let last = 0;
    for (let i = k * plane, end = i + plane; i < end; i++) {
      const v = data[i];
      if (v === 0 || v === last) continue;
      last = v;
      const row = present.get(v);
      if (row) row[k] = 1;
    }
  }
  return present;
}

/**
 * 1. Match every label slice to its source slice (or refuse: a SEG on the wrong grid would be misplaced).
 * 2. Find the slices each structure occupies; structures with no voxels get no segment.
 * 3. Let dcmjs normalise the source slices and derive the SEG (modules, segments, per-frame groups).
 * 4. Pack each frame's bits straight from the label map.
 * 5. Finish the dataset (codes dcmjs does not carry, CT attributes out, UTF-8, OB pixel data) and encode it.
 * Returns undefined when no structure has a voxel (a SEG needs at least one segment).
 */
export function buildSegmentation(
  labels: LabelMap,
  segments: SegSegmentSpec[],
  source: SegSourceSeries,
  options: BuildSegmentationOptions,
): BuiltSegmentation | undefined {
  const o = { ...DEFAULTS, ...options };
  const [nx, ny, nz] = labels.dims;
  const plane = nx * ny;

  // 1. Label slice k ↔ source slice.
  const sourceOfSlice = matchSourceSlices(labels, source, o.positionTolerance);

  // 2. Occupied slices per structure.
  const present = slicePresence(labels, new Set(segments.map((s) => s.label)));
  const used = segments.filter((s) => present.get(s.label)!.some((v) => v === 1));
  if (used.length === 0) return undefined;

  // 3. The reference multi-frame and the derivation. Pixel data of the source is not needed: each
  //    slice gets a 2-byte stand-in so the normaliser's copy costs nothing.
  const identifiers: Record<string, string> = {};
  for (const keyword of PATIENT_STUDY_KEYWORDS) identifiers[keyword] = source.patientStudy[keyword] ?? '';
  const datasets = source.slices.map((s) => ({
    ...identifiers,
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: s.sopClassUid,
    SOPInstanceUID: s.sopInstanceUid,
    StudyInstanceUID: source.studyInstanceUid,
    SeriesInstanceUID: source.seriesInstanceUid,
    FrameOfReferenceUID: source.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    Modality: 'CT',
    Rows: source.rows,
    Columns: source.columns,
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 1,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    ImagePositionPatient: s.position.map(decimalString),
    ImageOrientationPatient: source.orientation.map(decimalString),
    PixelSpacing: source.pixelSpacing.map(decimalString),
    PixelData: new ArrayBuffer(2),
    _vrMap: { PixelData: 'OW' },
    _meta: { TransferSyntaxUID: { vr: 'UI', Value: [SEG_TRANSFER_SYNTAX] } },
  }));
  // Both the normaliser and the derivation need two or more frames; a one-slice series is refused earlier.
  const multiframe = dcmjs.normalizers.Normalizer.normalizeToDataset(datasets);
  const pixelMeasures = multiframe.SharedFunctionalGroupsSequence.PixelMeasuresSequence;
  pixelMeasures.SpacingBetweenSlices = decimalString(pixelMeasures.SpacingBetweenSlices);
  pixelMeasures.SliceThickness = decimalString(pixelMeasures.SliceThickness);
  // The normaliser orders frames by position (descending along the normal): frame number of each source slice.
  const frameNumberOf = new Map<string, number>();
  (multiframe.ReferencedSeriesSequence.ReferencedInstanceSequence as { ReferencedSOPInstanceUID: string }[]).forEach((r, i) =>
    frameNumberOf.set(r.ReferencedSOPInstanceUID, i + 1),
  );
  const Seg = packedSegmentationClass();
  const seg = new Seg([multiframe], {
    Manufacturer: 'holocase',
    ManufacturerModelName: 'holocase',
    SoftwareVersions: o.softwareVersion,
    DeviceSerialNumber: '1',
    SeriesDescription: o.revision ? `${o.seriesDescription}, corrected (revision ${o.revision})` : o.seriesDescription,
    SeriesNumber: String(o.seriesNumber + (o.revision ?? 0)),
    ContentCreatorName: 'holocase',
    ContentDescription: `${o.algorithmName} segmentation`,
    ImageComments: o.revision
      ? `Automatic segmentation by holocase, corrected in revision ${o.revision}; review before clinical use.`
      : 'Automatic segmentation by holocase; review before clinical use.',
    includeSliceSpacing: true,
  });
  const frames = used.reduce((sum, s) => sum + present.get(s.label)!.reduce((n, v) => n + v, 0), 0);
  seg.setNumberOfFrames(frames);

  // 4. Segments in label order, each with its frames in slice order; then every frame's bits in one
  //    pass over the label map (frame of label l on slice k: `frameOf[l][k]`).
  const frameOf = new Map<number, Int32Array>();
  let frame = 0;
  for (const s of used) {
    const slices = present.get(s.label)!;
    const frameIndex = new Int32Array(nz).fill(-1);
    const referenced: number[] = [];
    for (let k = 0; k < nz; k++) {
      if (!slices[k]) continue;
      frameIndex[k] = frame++;
      referenced.push(frameNumberOf.get(source.slices[sourceOfSlice[k]].sopInstanceUid)!);
    }
    frameOf.set(s.label, frameIndex);
    seg.addSegment(
      {
        SegmentLabel: s.displayName.slice(0, 64),
        SegmentedPropertyCategoryCodeSequence: code(s.codes.category),
        SegmentedPropertyTypeCodeSequence: {
          ...code(s.codes.type),
          ...(s.codes.typeModifier ? { SegmentedPropertyTypeModifierCodeSequence: code(s.codes.typeModifier) } : {}),
        },
        SegmentAlgorithmType: o.revision ? 'SEMIAUTOMATIC' : 'AUTOMATIC',
        SegmentAlgorithmName: o.algorithmName.slice(0, 64),
        RecommendedDisplayCIELabValue: dicomLab(s.color),
      },
      new Uint8Array(0),
      referenced,
    );
  }
  const packed = new Uint8Array(seg.dataset.PixelData as ArrayBuffer);
  const data = labels.data;
  for (let k = 0; k < nz; k++) {
    let last = -1;
    let base = -1;
    for (let i = 0, v = k * plane; i < plane; i++, v++) {
      const label = data[v];
      if (label === 0) continue;
      if (label !== last) {
        last = label;
        const f = frameOf.get(label)?.[k] ?? -1;
        base = f < 0 ? -1 : f * plane;
      }
      if (base < 0) continue;
      const bit = base + i;
      packed[bit >>> 3] |= 1 << (bit & 7);
    }
  }

  // 5. Finish and encode.
  const ds = seg.dataset;
  used.forEach((s, i) => {
    if (!s.codes.region) return;
    ds.SegmentSequence[i].AnatomicRegionSequence = {
      ...code(s.codes.region),
      ...(s.codes.regionModifier ? { AnatomicRegionModifierSequence: code(s.codes.regionModifier) } : {}),
    };
  });
  for (const keyword of NOT_IN_SEG) delete ds[keyword];
  ds.SpecificCharacterSet = 'ISO_IR 192';
  ds.SegmentsOverlap = 'NO';
  ds._meta = { TransferSyntaxUID: { vr: 'UI', Value: [SEG_TRANSFER_SYNTAX] } };
  delete ds.PixelData;
  delete ds._vrMap;
  return { bytes: appendPixelData(new Uint8Array(dcmjs.data.datasetToBuffer(ds)), packed), segments: used.length, frames };
}

/**
 * dcmjs writes large binary values a few bytes at a time (about 5 MB/s here: 25 s for a clinical SEG's
 * pixel data), so the dataset goes through dcmjs without Pixel Data, and Pixel Data — the last element
 * of the dataset by tag order — is appended here: tag (7FE0,0010), VR OB, two reserved bytes, 32-bit
 * length (explicit VR little endian, PS3.5 7.1.2), then the packed frames (even length).
 */
function appendPixelData(dataset: Uint8Array, pixels: Uint8Array): Uint8Array {
  const out = new Uint8Array(dataset.length + 12 + pixels.length);
  out.set(dataset, 0);
  const header = new DataView(out.buffer, dataset.length, 12);
  header.setUint16(0, 0x7fe0, true);
  header.setUint16(2, 0x0010, true);
  header.setUint8(4, 0x4f); // 'O'
  header.setUint8(5, 0x42); // 'B'
  header.setUint16(6, 0, true);
  header.setUint32(8, pixels.length, true);
  out.set(pixels, dataset.length + 12);
  return out;
}
