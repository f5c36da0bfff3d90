/**
 * Grouping DICOM images into series and choosing the one to read: the CT axial series with the most
 * slices (localizers and other modalities are reported, not read). Series are described to people by
 * what they are (modality, slice count, orientation, size), never by UIDs or descriptions, which can
 * identify a patient or an institution.
 */
import { HolocaseError } from '../../errors.ts';
import type { Vec3 } from '../../../mesh/grid.ts';
import type { PlaneGeometry, Rescale } from './imageHeader.ts';
import type { DicomInstance } from './scan.ts';

export type SeriesOrientation = 'axial' | 'coronal' | 'sagittal' | 'oblique' | 'unknown';

/** One slice: a frame of an image file with its place in the patient. */
export interface DicomSlice {
  instance: DicomInstance;
  /** Frame index in the file (0 for single-frame images). */
  frame: number;
  geometry?: PlaneGeometry;
  rescale: Rescale;
}

export interface DicomSeries {
  /** Grouping key (contains UIDs: internal only, never reported). */
  key: string;
  modality?: string;
  instances: DicomInstance[];
  slices: DicomSlice[];
  orientation: SeriesOrientation;
  rows: number;
  columns: number;
  /** Scout / localizer images (Image Type LOCALIZER). */
  localizer: boolean;
}

/** A series described without anything that could identify the patient. */
export interface SeriesSummary {
  modality: string;
  /** Slices (frames) in the series. */
  slices: number;
  orientation: SeriesOrientation;
  /** Columns × rows × slices. */
  dims: [number, number, number];
  /** Transfer syntax name(s), e.g. "JPEG 2000 Lossless". */
  transferSyntax: string;
  /** Why a series was skipped, e.g. "fewer slices than the chosen series". */
  note?: string;
}

/** Slice-plane orientation from its normal: the patient axis it faces, or oblique beyond 30°. */
export function classifyOrientation(geometry: PlaneGeometry | undefined): SeriesOrientation {
  if (!geometry) return 'unknown';
  const n = cross(geometry.rowDirection, geometry.columnDirection);
  const abs = n.map(Math.abs);
  const axis = abs.indexOf(Math.max(...abs));
  if (abs[axis] < Math.cos((30 * Math.PI) / 180)) return 'oblique';
  return (['sagittal', 'coronal', 'axial'] as const)[axis];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** The slices of one image file: every frame, with its geometry and modality LUT. */
export function slicesOf(instance: DicomInstance): DicomSlice[] {
  const { header } = instance;
  return Array.from({ length: header.frames }, (_, frame) => ({
    instance,
    frame,
    geometry: header.frameGeometry[frame],
    rescale: header.frameRescale[frame],
  }));
}

/**
 * Groups images by Series Instance UID (localizers apart). Images without a Series Instance UID (some
 * anonymisers blank it) are grouped by frame of reference, modality, size and orientation instead.
 */
export function groupSeries(instances: DicomInstance[]): DicomSeries[] {
  const groups = new Map<string, DicomInstance[]>();
  // A stable order first, so everything downstream is deterministic whatever the directory order.
  const ordered = [...instances].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const instance of ordered) {
    const h = instance.header;
    const localizer = h.imageType.includes('LOCALIZER');
    const geometry = h.frameGeometry[0];
    const orientationKey = geometry ? [...geometry.rowDirection, ...geometry.columnDirection].map((v) => v.toFixed(3)).join(',') : '-';
    const base = h.seriesInstanceUid
      ? `uid:${h.seriesInstanceUid}`
      : `nouid:${h.frameOfReferenceUid ?? '-'}|${h.modality ?? '-'}|${h.layout.columns}x${h.layout.rows}|${orientationKey}`;
    const key = localizer ? `${base}|localizer` : base;
    const list = groups.get(key) ?? [];
    list.push(instance);
    groups.set(key, list);
  }
  return [...groups.entries()].map(([key, list]) => {
    const first = list[0].header;
    return {
      key,
      modality: first.modality,
      instances: list,
      slices: list.flatMap(slicesOf),
      orientation: classifyOrientation(first.frameGeometry[0]),
      rows: first.layout.rows,
      columns: first.layout.columns,
      localizer: key.endsWith('|localizer'),
    };
  });
}

/** How suitable a series is as the case's CT: higher is better (ties broken by slice count). */
function rank(series: DicomSeries): number {
  if (series.localizer) return 0;
  const ct = series.modality === 'CT';
  if (ct && series.orientation === 'axial') return 4;
  if (ct) return 3;
  if (series.slices.length > 1) return 2;
  return 1;
}

export interface SeriesChoice {
  chosen: DicomSeries;
  skipped: { series: DicomSeries; note: string }[];
}

/** Chooses the CT axial series with the most slices; the rest are reported with the reason. */
export function chooseSeries(series: DicomSeries[]): SeriesChoice {
  if (series.length === 0) throw new HolocaseError('SERIES_EMPTY', 'no DICOM images were found');
  const sorted = [...series].sort((a, b) => rank(b) - rank(a) || b.slices.length - a.slices.length || b.rows * b.columns - a.rows * a.columns);
  const [chosen, ...rest] = sorted;
  const skipped = rest.map((s) => ({ series: s, note: skipReason(s, chosen) }));
  return { chosen, skipped };
}

function skipReason(series: DicomSeries, chosen: DicomSeries): string {
  if (series.localizer) return 'localizer (scout) images';
  if (series.modality !== chosen.modality && chosen.modality === 'CT') return `not CT (${series.modality ?? 'unknown modality'})`;
  if (series.orientation !== chosen.orientation && chosen.orientation === 'axial') return `not axial (${series.orientation})`;
  return 'fewer slices than the chosen series';
}

/** A description of a series that identifies nobody. */
export function summarizeSeries(series: DicomSeries, note?: string): SeriesSummary {
  const syntaxes = [...new Set(series.instances.map((i) => i.transferSyntax.name))];
  return {
    modality: series.modality ?? 'unknown',
    slices: series.slices.length,
    orientation: series.orientation,
    dims: [series.columns, series.rows, series.slices.length],
    transferSyntax: syntaxes.join(', '),
    ...(note ? { note } : {}),
  };
}
