/**
 * Placing a series' slices on one regular grid: sort by position along the slice normal (Image
 * Position (Patient) · normal; never by file name or Instance Number), derive the slice spacing from
 * those positions, and refuse what cannot be one volume — mixed sizes, orientations or pixel spacings,
 * duplicates, gaps, uneven spacing beyond 1 %, and gantry tilt (slices sheared along the table, which a
 * grid with orthogonal axes would misplace). Oblique, untilted series get their exact affine.
 */
import { HolocaseError } from '../../errors.ts';
import { composeAffine, type Mat4, type Vec3 } from '../../../mesh/grid.ts';
import { cross, type DicomSeries, type DicomSlice } from './series.ts';

export interface SliceStackOptions {
  /** Accept a single slice (an image, not a volume), as `inspect` does. */
  allowSingleSlice?: boolean;
  /** Largest relative deviation of a slice gap from the series' spacing (0.01 = 1 %). */
  spacingTolerance?: number;
  /** Two orientations are the same when their direction cosines agree to this (dot product ≥ 1 − value). */
  orientationTolerance?: number;
}

export const SLICE_STACK_DEFAULTS = {
  allowSingleSlice: false,
  spacingTolerance: 0.01,
  orientationTolerance: 1e-4,
} satisfies Required<SliceStackOptions>;

export interface SliceStack {
  /** Slices in grid order (k = 0 first), i.e. by increasing position along the normal. */
  slices: DicomSlice[];
  dims: Vec3;
  /** Voxel index → LPS mm. */
  affine: Mat4;
  /** Column, row and slice spacing in mm. */
  spacing: Vec3;
  warnings: string[];
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];

/** Formats millimetres for messages: one decimal where that is exact enough, more otherwise. */
export function mm(value: number): string {
  for (const digits of [1, 2, 3]) {
    const text = value.toFixed(digits);
    if (Math.abs(Number(text) - value) <= Math.abs(value) * 0.002 + 1e-9) return text;
  }
  return value.toFixed(3);
}

/** Sorts and checks a series' slices and computes its grid. Throws `SERIES_*` errors naming the slice. */
export function planSliceStack(series: DicomSeries, options: SliceStackOptions = {}): SliceStack {
  const { allowSingleSlice, spacingTolerance, orientationTolerance } = { ...SLICE_STACK_DEFAULTS, ...options };
  const warnings: string[] = [];
  const slices = series.slices;
  const count = slices.length;
  // 1. A case needs a volume, not one image.
  if (count === 0) throw new HolocaseError('SERIES_EMPTY', 'the DICOM series holds no images');
  if (count === 1) {
    if (!allowSingleSlice) {
      throw new HolocaseError(
        'SERIES_SINGLE_SLICE',
        'the DICOM input is a single slice (one image), not a CT volume: export the whole series (all slices) and try again',
      );
    }
    return singleSlice(slices[0], warnings);
  }
  // 2. Every slice must say where it is.
  const unplaced = slices.filter((s) => !s.geometry).length;
  if (unplaced > 0) {
    const multiFrame = slices[0].instance.header.frames > 1;
    throw new HolocaseError(
      'SERIES_INCONSISTENT',
      multiFrame
        ? `the multi-frame DICOM image gives no position for each frame (no per-frame Plane Position), so its ${count} frames cannot be placed as slices`
        : `${unplaced} of ${count} DICOM images give no position in the patient (Image Position/Orientation), so the slices cannot be placed`,
    );
  }
  // 3. One orientation for all.
  const first = slices[0].geometry!;
  const sameOrientation = (s: DicomSlice) =>
    dot(s.geometry!.rowDirection, first.rowDirection) >= 1 - orientationTolerance && dot(s.geometry!.columnDirection, first.columnDirection) >= 1 - orientationTolerance;
  const turned = slices.filter((s) => !sameOrientation(s)).length;
  if (turned > 0) {
    throw new HolocaseError('SERIES_INCONSISTENT', `the DICOM series is inconsistent: ${turned} of ${count} images have a different orientation from the others`);
  }
  // 4. Sort by position along the normal.
  const normal = cross(first.rowDirection, first.columnDirection);
  const placed = slices.map((s) => ({ slice: s, d: dot(s.geometry!.position, normal) }));
  placed.sort((a, b) => a.d - b.d);
  const sorted = placed.map((p) => p.slice);
  const positions = placed.map((p) => p.d);
  // 5. Same size and pixel spacing for every slice (named in sorted order).
  const ref = sorted[0];
  sorted.forEach((s, k) => {
    const h = s.instance.header.layout;
    const r = ref.instance.header.layout;
    if (h.rows !== r.rows || h.columns !== r.columns) {
      throw new HolocaseError('SERIES_INCONSISTENT', `the DICOM series is inconsistent: slice ${k + 1} of ${count} is ${h.columns}×${h.rows} pixels while slice 1 is ${r.columns}×${r.rows}`);
    }
    const [a0, a1] = s.geometry!.pixelSpacing;
    const [b0, b1] = ref.geometry!.pixelSpacing;
    if (Math.abs(a0 - b0) > spacingTolerance * b0 || Math.abs(a1 - b1) > spacingTolerance * b1) {
      throw new HolocaseError(
        'SERIES_INCONSISTENT',
        `the DICOM series is inconsistent: slice ${k + 1} of ${count} has ${mm(a1)}×${mm(a0)} mm pixels while slice 1 has ${mm(b1)}×${mm(b0)} mm`,
      );
    }
  });
  // 6. Duplicates, gaps and uneven spacing, from the positions along the normal.
  const gaps = positions.slice(1).map((d, k) => d - positions[k]);
  const spacing = estimateSpacing(gaps.filter((g) => g > 1e-3), spacingTolerance);
  gaps.forEach((g, k) => {
    if (!(spacing > 0) || g < Math.max(1e-3, spacing * spacingTolerance)) {
      throw new HolocaseError(
        'SERIES_DUPLICATE',
        `the DICOM series has two images at the same position: slices ${k + 1} and ${k + 2} of ${count} (at ${mm(positions[k])} mm along the slice direction); the folder may hold a copied file or two acquisitions mixed together`,
      );
    }
  });
  checkSpacing(gaps, spacing, count, spacingTolerance);
  // 7. Gantry tilt: the step from slice to slice must run along the normal.
  const firstPos = sorted[0].geometry!.position;
  const lastPos = sorted[count - 1].geometry!.position;
  const step = sub(lastPos, firstPos).map((v) => v / (count - 1)) as Vec3;
  const along = dot(step, normal);
  const lateral = sub(step, normal.map((v) => v * along) as Vec3);
  const lateralStep = Math.hypot(...lateral);
  const pixel = Math.min(...first.pixelSpacing);
  if (lateralStep * (count - 1) > 0.5 * pixel) {
    const angle = (Math.atan2(lateralStep, Math.abs(along)) * 180) / Math.PI;
    throw new HolocaseError(
      'SERIES_TILTED',
      `the DICOM series was acquired with a ${angle.toFixed(1)}° gantry tilt: its slices are sheared, not stacked straight along the slice normal; export a reconstruction without tilt (or one resampled to an upright grid)`,
    );
  }
  // 8. Every slice on the line from first to last (no slice shifted sideways).
  sorted.forEach((s, k) => {
    const expected = firstPos.map((v, a) => v + step[a] * k) as Vec3;
    const off = sub(s.geometry!.position, expected);
    const sideways = Math.hypot(...sub(off, normal.map((v) => v * dot(off, normal)) as Vec3));
    if (sideways > 0.5 * pixel) {
      throw new HolocaseError('SERIES_INCONSISTENT', `the DICOM series is inconsistent: slice ${k + 1} of ${count} is shifted ${mm(sideways)} mm sideways from the others`);
    }
  });
  // 9. The grid: columns along the row direction, rows along the column direction, slices along the normal.
  const [rowSpacing, columnSpacing] = first.pixelSpacing;
  const affine = composeAffine(firstPos, [columnSpacing, rowSpacing, along], [first.rowDirection, first.columnDirection, normal]);
  const layout = ref.instance.header.layout;
  return { slices: sorted, dims: [layout.columns, layout.rows, count], affine, spacing: [columnSpacing, rowSpacing, along], warnings };
}

function checkSpacing(gaps: number[], spacing: number, count: number, tolerance: number): void {
  const problems: { k: number; missing: number; gap: number }[] = [];
  gaps.forEach((g, k) => {
    if (Math.abs(g - spacing) <= tolerance * spacing) return;
    const multiple = Math.round(g / spacing);
    if (multiple >= 2 && Math.abs(g - multiple * spacing) <= tolerance * spacing * multiple) {
      problems.push({ k, missing: multiple - 1, gap: g });
      return;
    }
    throw new HolocaseError(
      'SERIES_SPACING',
      `the DICOM series has uneven slice spacing: ${mm(spacing)} mm between most slices, but ${mm(g)} mm between slices ${k + 1} and ${k + 2} of ${count} (more than ${Math.round(tolerance * 100)} % off)`,
    );
  });
  if (problems.length === 0) return;
  const total = count + problems.reduce((sum, p) => sum + p.missing, 0);
  const { k, missing, gap } = problems[0];
  const firstMissing = k + 2;
  const which = missing === 1 ? `slice ${firstMissing} of ${total} missing` : `slices ${firstMissing}–${firstMissing + missing - 1} of ${total} missing`;
  const more = problems.length > 1 ? `; ${problems.length - 1} more gap${problems.length > 2 ? 's' : ''} further on` : '';
  throw new HolocaseError(
    'SERIES_GAP',
    `DICOM series has a gap: ${which} (expected ${mm(spacing)} mm, found ${mm(gap)} mm between positions ${k + 1} and ${k + 2})${more}`,
  );
}

/**
 * The series' slice spacing: the mean of the unit gaps when every gap is a whole multiple of the
 * smallest (so a series with a missing slice still shows its true spacing), the median otherwise.
 */
function estimateSpacing(gaps: number[], tolerance: number): number {
  if (gaps.length === 0) return NaN;
  const smallest = Math.min(...gaps);
  const multiples = gaps.map((g) => Math.round(g / smallest));
  const whole = gaps.every((g, i) => Math.abs(g - multiples[i] * smallest) <= tolerance * smallest * multiples[i]);
  if (!whole) return median(gaps);
  const unit = gaps.filter((_, i) => multiples[i] === 1);
  return unit.reduce((a, b) => a + b, 0) / unit.length;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A one-slice grid: the slice axis along the normal, as thick as the slice (1 mm when unknown). */
function singleSlice(slice: DicomSlice, warnings: string[]): SliceStack {
  const layout = slice.instance.header.layout;
  const thickness = slice.instance.header.sliceThicknessMm ?? 1;
  const g = slice.geometry;
  let affine: Mat4;
  let spacing: Vec3;
  if (g) {
    const normal = cross(g.rowDirection, g.columnDirection);
    spacing = [g.pixelSpacing[1], g.pixelSpacing[0], thickness];
    affine = composeAffine(g.position, spacing, [g.rowDirection, g.columnDirection, normal]);
  } else {
    warnings.push('the image gives no position in the patient; shown with 1 mm pixels at the origin');
    spacing = [1, 1, 1];
    affine = composeAffine([0, 0, 0], spacing, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  }
  return { slices: [slice], dims: [layout.columns, layout.rows, 1], affine, spacing, warnings };
}
