/**
 * Reads a DICOM Segmentation back for tests, independently of the code that wrote it: dcmjs's parser
 * for the dataset, and bit unpacking, frame placement and label reconstruction written here from the
 * standard (PS3.3 C.8.20: binary frames, first pixel in the lowest bit, frames back to back; each frame's
 * segment and plane position in its per-frame functional groups).
 */
import { applyAffine, type Grid, type Vec3 } from '../../mesh/grid.ts';

export interface SegFrame {
  segmentNumber: number;
  position: Vec3;
  sourceSopInstanceUid: string;
  /** One byte per pixel, 0 or 1. */
  pixels: Uint8Array;
}

export interface ReadSegmentation {
  dataset: Record<string, any>;
  segments: { number: number; label: string; type: any; category: any; region?: any; algorithmName: string }[];
  frames: SegFrame[];
  rows: number;
  columns: number;
}

const first = (value: any) => (Array.isArray(value) ? value[0] : value);

export async function readSegmentation(bytes: Uint8Array): Promise<ReadSegmentation> {
  // @ts-expect-error dcmjs ships no type declarations
  const dcmjs = (await import('dcmjs')).default as any;
  const copy = bytes.slice();
  const message = dcmjs.data.DicomMessage.readFile(copy.buffer);
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
  const rows = Number(ds.Rows);
  const columns = Number(ds.Columns);
  const plane = rows * columns;
  const pixelBytes = new Uint8Array(Array.isArray(ds.PixelData) ? ds.PixelData[0] : ds.PixelData);
  const perFrame = ds.PerFrameFunctionalGroupsSequence as any[];
  const frames: SegFrame[] = perFrame.map((group, f) => {
    const pixels = new Uint8Array(plane);
    for (let i = 0; i < plane; i++) {
      const bit = f * plane + i;
      pixels[i] = (pixelBytes[bit >> 3] >> (bit & 7)) & 1;
    }
    const source = first(first(group.DerivationImageSequence).SourceImageSequence);
    return {
      segmentNumber: Number(first(group.SegmentIdentificationSequence).ReferencedSegmentNumber),
      position: first(group.PlanePositionSequence).ImagePositionPatient.map(Number) as Vec3,
      sourceSopInstanceUid: source.ReferencedSOPInstanceUID,
      pixels,
    };
  });
  const segments = (ds.SegmentSequence as any[]).map((s) => ({
    number: Number(s.SegmentNumber),
    label: s.SegmentLabel,
    type: first(s.SegmentedPropertyTypeCodeSequence),
    category: first(s.SegmentedPropertyCategoryCodeSequence),
    region: s.AnatomicRegionSequence ? first(s.AnatomicRegionSequence) : undefined,
    algorithmName: s.SegmentAlgorithmName,
  }));
  return { dataset: ds, segments, frames, rows, columns };
}

/**
 * The label map the SEG describes, on `grid` (whose slices must be the SEG's planes): each frame's
 * pixels set to the label `labelOf(segment)` on the slice at the frame's position.
 */
export function labelsFromSegmentation(seg: ReadSegmentation, grid: Grid, labelOf: (segmentNumber: number) => number): Uint8Array {
  const [nx, ny, nz] = grid.dims;
  if (nx !== seg.columns || ny !== seg.rows) throw new Error(`SEG frames are ${seg.columns}×${seg.rows}, the grid's slices ${nx}×${ny}`);
  const out = new Uint8Array(nx * ny * nz);
  const slicePositions = Array.from({ length: nz }, (_, k) => applyAffine(grid.affine, [0, 0, k]));
  for (const frame of seg.frames) {
    const k = slicePositions.findIndex((p) => Math.hypot(p[0] - frame.position[0], p[1] - frame.position[1], p[2] - frame.position[2]) < 0.05);
    if (k < 0) throw new Error(`SEG frame at ${frame.position.join(', ')} lies on no slice of the grid`);
    const label = labelOf(frame.segmentNumber);
    for (let i = 0; i < nx * ny; i++) if (frame.pixels[i]) out[k * nx * ny + i] = label;
  }
  return out;
}
