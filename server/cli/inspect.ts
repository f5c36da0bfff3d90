/**
 * `holocase inspect <path> [--json]`: describes a CT as holocase reads it — size, spacing, orientation,
 * origin, modality, value range and, for DICOM, the series chosen and those skipped. A single DICOM
 * file is shown as a one-slice image. Bad input exits with code 2 and the reason.
 */
import { orientationCodes, originOf, spacingOf } from '../../mesh/grid.ts';
import { closeSharedDecodePool } from '../volume/dicom/decodePool.ts';
import { ingest, type IngestResult, type SeriesSummary } from '../volume/ingest.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `usage: holocase inspect <path> [--json]

Describes a CT: a DICOM file, folder or .zip, or a NIfTI file (.nii, .nii.gz).
Prints dims, spacing (mm), orientation codes, origin (LPS mm), modality, value range
(Hounsfield units for CT) and, for DICOM, the series chosen and the series skipped.

options:
  --json   print the description as JSON`;

export interface Inspection {
  format: 'dicom' | 'nifti';
  dims: [number, number, number];
  spacingMm: [number, number, number];
  orientation: string;
  originLpsMm: [number, number, number];
  modality?: string;
  values: { min: number; max: number; mean: number; unit: 'HU' | 'stored' };
  dataType: string;
  series?: { chosen: SeriesSummary; skipped: SeriesSummary[] };
  meta: IngestResult['volume']['meta'];
  warnings: string[];
}

/** The description `inspect` prints, from an ingest result. */
export function describeIngest(result: IngestResult): Inspection {
  const { volume, report } = result;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const data = volume.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const round = (v: number, d = 3) => Number(v.toFixed(d));
  const modality = volume.meta.modality;
  const hounsfield = modality === 'CT' || (report.format === 'nifti' && modality === undefined);
  return {
    format: report.format,
    dims: volume.dims,
    spacingMm: spacingOf(volume.affine).map((v) => round(v, 4)) as [number, number, number],
    orientation: orientationCodes(volume.affine),
    originLpsMm: originOf(volume.affine).map((v) => round(v)) as [number, number, number],
    ...(modality ? { modality } : {}),
    values: { min, max, mean: round(sum / Math.max(1, data.length), 1), unit: hounsfield ? 'HU' : 'stored' },
    dataType: data.constructor.name,
    ...(report.series ? { series: report.series } : {}),
    meta: volume.meta,
    warnings: report.warnings,
  };
}

function describeSeries(s: SeriesSummary): string {
  const note = s.note ? ` — ${s.note}` : '';
  return `${s.modality} ${s.orientation}, ${s.slices} slice${s.slices === 1 ? '' : 's'} of ${s.dims[0]}×${s.dims[1]}, ${s.transferSyntax}${note}`;
}

/** Human-readable lines for an inspection. */
export function formatInspection(path: string, i: Inspection): string {
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/0+$/, '').replace(/\.$/, ''));
  const lines = [
    `input:        ${path} (${i.format === 'dicom' ? 'DICOM' : 'NIfTI'})`,
    `dims:         ${i.dims.join(' × ')}`,
    `spacing:      ${i.spacingMm.map(fmt).join(' × ')} mm`,
    `orientation:  ${i.orientation}`,
    `origin:       ${i.originLpsMm.map(fmt).join(', ')} mm (LPS)`,
    `modality:     ${i.modality ?? 'not recorded'}`,
    `${(i.values.unit === 'HU' ? 'HU:' : 'values:').padEnd(14)}min ${i.values.min}, max ${i.values.max}, mean ${i.values.mean}`,
  ];
  if (i.series) {
    lines.push(`series:       ${describeSeries(i.series.chosen)}`);
    if (i.series.skipped.length === 0) lines.push('skipped:      none');
    else i.series.skipped.forEach((s, n) => lines.push(`${n === 0 ? 'skipped:' : '        '}      ${describeSeries(s)}`));
  }
  for (const w of i.warnings) lines.push(`warning:      ${w}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, { json: { type: 'boolean' } }, HELP, { min: 1, max: 1 });
  if (!args) return 0;
  const path = args.positionals[0];
  try {
    const result = await ingest(path, { allowSingleSlice: true });
    const inspection = describeIngest(result);
    console.log(args.values.json ? JSON.stringify(inspection, null, 2) : formatInspection(path, inspection));
    return 0;
  } finally {
    await closeSharedDecodePool();
  }
}
