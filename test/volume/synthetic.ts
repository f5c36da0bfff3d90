/**
 * Small synthetic DICOM series for geometry tests, written with dcmjs (an independent DICOM writer).
 * Every pixel's Hounsfield value is a function of its LPS position, so a series read back with a wrong
 * order, flip or affine shows up as values that do not match their positions. Files get shuffled names,
 * so nothing can rely on file order.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Vec3 } from '../../mesh/grid.ts';

// dcmjs ships no types; its data helpers are used untyped here.
const dcmjs = createRequire(import.meta.url)('dcmjs') as { data: Record<string, any> };
const { DicomMetaDictionary, DicomDict } = dcmjs.data;

/** HU at an LPS point: linear in position, so any misplacement changes it. */
export function positionValue(p: Vec3): number {
  return Math.round(20 * p[0] - 30 * p[1] + 50 * p[2]);
}

/** Values as DICOM decimal strings hold them (dcmjs truncates longer ones). */
const ds = (v: number, digits = 4): number => Number(v.toFixed(digits));

export interface SyntheticSeriesSpec {
  rows: number;
  columns: number;
  slices: number;
  /** [between rows, between columns] mm. */
  pixelSpacing: [number, number];
  rowDirection: Vec3;
  columnDirection: Vec3;
  /** IPP of slice 0. */
  origin: Vec3;
  /** IPP step from one slice to the next (the normal × spacing, or sheared for a tilted series). */
  step: Vec3;
  /** Slice indices left out (a gap). */
  omit?: number[];
  /** Extra IPP offset for given slice indices (uneven spacing). */
  shift?: Record<number, Vec3>;
  /** Slices written twice (a duplicate under another name). */
  duplicate?: number[];
  /** Slices written with a different size (rows + 2). */
  resize?: number[];
  seriesUid?: string;
  modality?: string;
  /** Extra attributes for every file (e.g. a patient identity). */
  attributes?: Record<string, unknown>;
  /** Pixel Padding Value (stored) and which pixel indices carry it. */
  padding?: { value: number; pixels: number[] };
  /** One Enhanced CT file with per-frame positions instead of one file per slice. */
  enhanced?: boolean;
  value?: (p: Vec3) => number;
}

const add = (a: Vec3, b: Vec3, s = 1): Vec3 => [a[0] + b[0] * s, a[1] + b[1] * s, a[2] + b[2] * s];

function slicePixels(spec: SyntheticSeriesSpec, ipp: Vec3, rows: number): Int16Array {
  const value = spec.value ?? positionValue;
  const px = new Int16Array(rows * spec.columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < spec.columns; c++) {
      let p = add(ipp, spec.rowDirection, c * spec.pixelSpacing[1]);
      p = add(p, spec.columnDirection, r * spec.pixelSpacing[0]);
      px[r * spec.columns + c] = value(p) + 1024; // stored = HU − intercept
    }
  }
  for (const i of spec.padding?.pixels ?? []) px[i] = spec.padding!.value;
  return px;
}

function encode(dataset: Record<string, unknown>): Buffer {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '1.2.826.0.1.3680043.9.7433.1',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}

/** Writes the series into `dir` with shuffled file names; returns the paths written. */
export async function writeSyntheticSeries(dir: string, input: SyntheticSeriesSpec): Promise<string[]> {
  // Directions as the file will hold them, so pixel values match what a reader computes.
  const spec = { ...input, rowDirection: input.rowDirection.map((v) => ds(v, 8)) as Vec3, columnDirection: input.columnDirection.map((v) => ds(v, 8)) as Vec3 };
  const thickness = ds(Math.hypot(...spec.step));
  const seriesUid = spec.seriesUid ?? '1.2.826.0.1.3680043.9.7433.2.1';
  const common = {
    SOPClassUID: spec.enhanced ? '1.2.840.10008.5.1.4.1.1.2.1' : '1.2.840.10008.5.1.4.1.1.2',
    Modality: spec.modality ?? 'CT',
    SeriesInstanceUID: seriesUid,
    StudyInstanceUID: '1.2.826.0.1.3680043.9.7433.3',
    FrameOfReferenceUID: '1.2.826.0.1.3680043.9.7433.4',
    Columns: spec.columns,
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 1,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    ...(spec.padding ? { PixelPaddingValue: spec.padding.value } : {}),
    ...spec.attributes,
  };
  const slices: { index: number; ipp: Vec3 }[] = [];
  for (let k = 0; k < spec.slices; k++) {
    if (spec.omit?.includes(k)) continue;
    const ipp = add(add(spec.origin, spec.step, k), spec.shift?.[k] ?? [0, 0, 0]).map((v) => ds(v)) as Vec3;
    slices.push({ index: k, ipp });
  }
  // Shuffle deterministically: names say nothing about position.
  const order = slices.map((s, i) => ({ s, key: (i * 7919 + 13) % 104729 })).sort((a, b) => a.key - b.key).map((x) => x.s);
  const written: string[] = [];
  if (spec.enhanced) {
    const frames = order.map((s) => slicePixels(spec, s.ipp, spec.rows));
    const pixels = new Int16Array(frames.length * spec.rows * spec.columns);
    frames.forEach((f, i) => pixels.set(f, i * f.length));
    const dataset = {
      ...common,
      SOPInstanceUID: `${seriesUid}.1`,
      Rows: spec.rows,
      NumberOfFrames: frames.length,
      SharedFunctionalGroupsSequence: [
        {
          PlaneOrientationSequence: [{ ImageOrientationPatient: [...spec.rowDirection, ...spec.columnDirection] }],
          PixelMeasuresSequence: [{ PixelSpacing: spec.pixelSpacing, SliceThickness: thickness }],
          PixelValueTransformationSequence: [{ RescaleIntercept: -1024, RescaleSlope: 1, RescaleType: 'HU' }],
        },
      ],
      PerFrameFunctionalGroupsSequence: order.map((s) => ({ PlanePositionSequence: [{ ImagePositionPatient: s.ipp }] })),
      PixelData: pixels.buffer,
      _vrMap: { PixelData: 'OW' },
    };
    const path = join(dir, 'enhanced.dcm');
    await writeFile(path, encode(dataset));
    return [path];
  }
  let n = 0;
  for (const s of order) {
    const copies = spec.duplicate?.includes(s.index) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const rows = spec.resize?.includes(s.index) ? spec.rows + 2 : spec.rows;
      const dataset = {
        ...common,
        SOPInstanceUID: `${seriesUid}.${s.index + 1}.${c}`,
        InstanceNumber: 1000 - s.index, // deliberately unrelated to position
        Rows: rows,
        ImagePositionPatient: s.ipp,
        ImageOrientationPatient: [...spec.rowDirection, ...spec.columnDirection],
        PixelSpacing: spec.pixelSpacing,
        SliceThickness: thickness,
        RescaleIntercept: -1024,
        RescaleSlope: 1,
        PixelData: slicePixels(spec, s.ipp, rows).buffer,
        _vrMap: { PixelData: 'OW' },
      };
      const path = join(dir, `IM${String(n++).padStart(4, '0')}`);
      await writeFile(path, encode(dataset));
      written.push(path);
    }
  }
  return written;
}

/** An axial series in LPS order: rows along +P, columns along +L, slices towards +S. */
export function axialSpec(overrides: Partial<SyntheticSeriesSpec> = {}): SyntheticSeriesSpec {
  return {
    rows: 12,
    columns: 10,
    slices: 9,
    pixelSpacing: [0.8, 0.7],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    origin: [-30, -20, 40],
    step: [0, 0, 2.5],
    ...overrides,
  };
}
