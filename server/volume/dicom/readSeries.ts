/**
 * From a set of files to one CT volume: scan every file's header, group images into series, choose the
 * CT axial series with the most slices, place its slices on a grid and read their pixels as Hounsfield
 * units. Files that are not DICOM are ignored (and counted, for the message when nothing is usable);
 * a damaged file stops the read when it may belong to the chosen series, since a silently dropped slice
 * at either end of the stack could not be noticed later.
 */
import { spacingOf } from '../../../mesh/grid.ts';
import { HolocaseError } from '../../errors.ts';
import type { StageContext } from '../../pipeline/context.ts';
import type { Volume } from '../volume.ts';
import type { DeidentifyOptions } from '../deidentify.ts';
import { checkVolumeLimits, VOLUME_LIMITS, type AdmitVolume, type VolumeLimits } from '../volumeLimits.ts';
import { ASSEMBLE_DEFAULTS, assembleSliceStack } from './assemble.ts';
import { sharedDecodePool, type DecodePool } from './decodePool.ts';
import { scanFile, type DicomInstance, type InputFile, type ScanResult } from './scan.ts';
import { chooseSeries, groupSeries, summarizeSeries, type SeriesSummary } from './series.ts';
import { planSliceStack } from './sliceStack.ts';

export type { InputFile } from './scan.ts';

export interface ReadDicomSeriesOptions extends StageContext, DeidentifyOptions {
  /** Accept a lone slice as a one-slice image (for `inspect`). */
  allowSingleSlice?: boolean;
  /** Size limits, checked from the headers before any pixel is read (default `VOLUME_LIMITS`). */
  limits?: VolumeLimits;
  /** Asked with the series' shape and modality before its pixels are read or allocated; throws to refuse. */
  admit?: AdmitVolume;
  /** Worker pool for compressed frames (default: the process-wide pool). */
  pool?: DecodePool;
  /** Files whose headers are read between two yields to the event loop. */
  scanBatch?: number;
}

export const READ_DICOM_SERIES_DEFAULTS = { allowSingleSlice: false, scanBatch: 32 } as const;

export interface DicomSeriesResult {
  volume: Volume<Int16Array>;
  series: { chosen: SeriesSummary; skipped: SeriesSummary[] };
  warnings: string[];
}

/** What was found among the inputs, for messages when no image is usable. */
export interface ScanTally {
  images: number;
  withoutImage: number;
  damaged: { label: string; error: HolocaseError; seriesInstanceUid?: string }[];
  nifti: { path: string; label: string }[];
  other: Map<string, number>;
}

/**
 * Reads the headers of all files and sorts them into what they are, yielding to the event loop now and
 * then. Once enough compressed images have been seen for the decoder threads to be used, they are started,
 * so that they are ready when the pixels are read.
 */
export async function scanFiles(files: InputFile[], options: ReadDicomSeriesOptions = {}): Promise<{ instances: DicomInstance[]; tally: ScanTally }> {
  const batch = options.scanBatch ?? READ_DICOM_SERIES_DEFAULTS.scanBatch;
  const results: ScanResult[] = [];
  let compressed = 0;
  for (let i = 0; i < files.length; i++) {
    if (i % batch === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('ingest was cancelled');
      if (i > 0) options.onProgress?.({ stage: 'ingest', fraction: 0.1 * (i / files.length), message: `read ${i} of ${files.length} file headers` });
    }
    try {
      const result = scanFile(files[i], options);
      results.push(result);
      if (result.kind === 'image' && (result.instance.transferSyntax.encapsulated || result.instance.transferSyntax.deflated) && ++compressed === ASSEMBLE_DEFAULTS.inlineFrames + 1) {
        (options.pool ?? sharedDecodePool()).prestart();
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new HolocaseError('NOT_FOUND', `${files[i].label} disappeared while it was being read`);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR') throw new HolocaseError('UNSUPPORTED_INPUT', `${files[i].label} cannot be read (${code === 'EISDIR' ? 'it is a folder' : 'permission denied'})`);
      throw error;
    }
  }
  options.onProgress?.({ stage: 'ingest', fraction: 0.1, message: `read ${files.length} file headers` });
  const tally: ScanTally = { images: 0, withoutImage: 0, damaged: [], nifti: [], other: new Map() };
  const instances: DicomInstance[] = [];
  for (const r of results) {
    if (r.kind === 'image') {
      tally.images++;
      instances.push(r.instance);
    } else if (r.kind === 'dicom-without-image') tally.withoutImage++;
    else if (r.kind === 'damaged') tally.damaged.push(r);
    else if (r.kind === 'nifti') tally.nifti.push(r);
    else tally.other.set(r.what, (tally.other.get(r.what) ?? 0) + 1);
  }
  return { instances, tally };
}

/** Describes what was found instead of DICOM images, e.g. "3 JPEG images and 1 text file". */
export function describeTally(tally: ScanTally): string {
  const parts: string[] = [];
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : what.endsWith('s') ? 'es' : 's'}`;
  for (const [what, n] of [...tally.other.entries()].sort((a, b) => b[1] - a[1])) parts.push(plural(n, what));
  if (tally.withoutImage) parts.push(`${tally.withoutImage} DICOM file${tally.withoutImage === 1 ? '' : 's'} without images`);
  if (parts.length === 0) return '';
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * Reads the CT series among scanned instances into a volume (Int16 Hounsfield units, affine to LPS)
 * with de-identified metadata. Throws `SERIES_*`/`DICOM_*` errors that name the slice and the fault.
 */
export async function readDicomSeries(instances: DicomInstance[], tally: ScanTally, options: ReadDicomSeriesOptions = {}): Promise<DicomSeriesResult> {
  const warnings: string[] = [];
  // 1. Group and choose.
  const { chosen, skipped } = chooseSeries(groupSeries(instances));
  // 2. Damaged files: fatal when they may belong to the chosen series, reported otherwise.
  const chosenUid = chosen.instances[0].header.seriesInstanceUid;
  for (const d of tally.damaged) {
    if (d.seriesInstanceUid && chosenUid && d.seriesInstanceUid !== chosenUid) {
      warnings.push(`a damaged DICOM file of another series was ignored (${d.error.message})`);
    } else {
      throw d.error;
    }
  }
  if (chosen.modality !== 'CT') {
    warnings.push(`the series is ${chosen.modality ?? 'of unknown modality'}, not CT: its values are not Hounsfield units`);
  }
  if (chosen.instances.some((i) => i.header.layout.samplesPerPixel !== 1)) {
    throw new HolocaseError('DICOM_UNSUPPORTED', 'the DICOM series holds colour images (e.g. screenshots or photographs), not CT slices');
  }
  if (chosen.instances.some((i) => i.transferSyntax.lossy)) {
    warnings.push('the series is stored with lossy compression: small details and exact Hounsfield values may be altered');
  }
  // 3. Its size from the headers (columns × rows × slices) against the limits, before anything is read.
  const limits = options.limits ?? VOLUME_LIMITS;
  checkVolumeLimits({ format: 'dicom', dims: [chosen.columns, chosen.rows, chosen.slices.length], spacingMm: [1, 1, 1], bytesPerVoxel: 2, modality: chosen.modality }, limits, 'the DICOM series');
  // 4. Sort, check and place the slices; the caller may still refuse the volume (memory, modality).
  const stack = planSliceStack(chosen, { allowSingleSlice: options.allowSingleSlice });
  warnings.push(...stack.warnings);
  await options.admit?.({ format: 'dicom', dims: stack.dims, spacingMm: spacingOf(stack.affine), bytesPerVoxel: 2, modality: chosen.modality });
  // 5. Read the pixels (padding to air for CT).
  const isCt = chosen.modality === 'CT';
  const { data, clamped } = await assembleSliceStack(stack, { ...options, paddingOutput: isCt ? -1024 : 0 });
  if (clamped > 0) warnings.push(`${clamped} voxel${clamped === 1 ? ' was' : 's were'} outside the range −32768…32767 and clamped`);
  // 6. Metadata: the allow-listed attributes of the first slice, plus how values were made.
  const first = stack.slices[0];
  const attributes = { ...first.instance.attributes };
  attributes.contrastAgent = chosen.instances.some((i) => i.attributes.contrastAgent);
  const hasPadding = chosen.instances.some((i) => i.header.padding !== undefined);
  const volume: Volume<Int16Array> = {
    dims: stack.dims,
    affine: stack.affine,
    data,
    meta: {
      source: 'dicom',
      ...attributes,
      rescale: { ...first.rescale },
      ...(hasPadding ? { paddingValue: isCt ? -1024 : 0 } : {}),
    },
  };
  return {
    volume,
    series: { chosen: summarizeSeries(chosen), skipped: skipped.map((s) => summarizeSeries(s.series, s.note)) },
    warnings,
  };
}
