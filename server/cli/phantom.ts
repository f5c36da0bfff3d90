/**
 * `holocase phantom -o demo.nii.gz`: writes the procedural CT torso, its exact label map and label
 * table, and optionally the same CT as a DICOM series.
 */
import path from 'node:path';
import { orientationCodes, spacingOf } from '../../mesh/grid.ts';
import { writeDicomSeries } from '../volume/dicomWriter.ts';
import { writeNifti } from '../volume/nifti.ts';
import { DEFAULTS, makePhantom } from '../volume/phantom.ts';
import { parseOrientationCode } from '../volume/reorient.ts';
import { writeFileAtomically } from '../writeFileAtomically.ts';
import { parseCommandArgs, parseNumberOption, parseTriple } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase phantom -o OUT.nii.gz [options]

Writes a procedural CT torso (skin, fat, muscle, spine, ribs, pelvis, lungs with airways, liver,
spleen, kidneys, heart, contrast-filled aorta and vena cava) with realistic HU values and noise, and its
exact label map (TotalSegmentator v2 ids). Files: OUT.nii.gz (CT), OUT_labels.nii.gz, OUT_labels.json.

  -o, --output FILE      CT NIfTI to write (.nii.gz or .nii)
  --dicom DIR            also write the CT as a DICOM series into DIR
  --spacing X,Y,Z        voxel size in mm along the output axes (default ${DEFAULTS.spacingMm.join(',')})
  --orientation CODE     axis order of the output, e.g. LPS, RAS, PIR (default ${DEFAULTS.orientation})
  --seed N               noise seed (default ${DEFAULTS.seed})
  --noise HU             noise standard deviation in HU (default ${DEFAULTS.noiseHu}; 0 for none)
  --no-contrast          unenhanced phase (aorta ≈ 40 HU, organs not enhanced)
  --no-table             leave out the CT couch`;

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  dicom: { type: 'string' },
  spacing: { type: 'string' },
  orientation: { type: 'string' },
  seed: { type: 'string' },
  noise: { type: 'string' },
  'no-contrast': { type: 'boolean' },
  'no-table': { type: 'boolean' },
} as const;

/** `demo.nii.gz` → `{ base: 'demo', ext: '.nii.gz' }`. */
function splitNiftiName(file: string): { base: string; ext: string } {
  const match = /^(.*?)(\.nii\.gz|\.nii)$/i.exec(file);
  if (!match || !path.basename(match[1])) throw new UsageError(`--output must name a .nii.gz or .nii file (got "${file}")\n\n${HELP}`);
  return { base: match[1], ext: match[2] };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, HELP);
  if (!args) return 0;
  const v = args.values;

  // 1. Options.
  if (!v.output) throw new UsageError(`-o/--output is required\n\n${HELP}`);
  const { base, ext } = splitNiftiName(v.output);
  const spacingMm = v.spacing === undefined ? undefined : parseTriple(v.spacing, '--spacing');
  let orientation: string | undefined;
  if (v.orientation !== undefined) {
    try {
      orientation = parseOrientationCode(v.orientation);
    } catch (error) {
      throw new UsageError(`--orientation: ${(error as Error).message}`);
    }
  }
  const seed = parseNumberOption(v.seed, '--seed', 'a whole number', Number.isInteger);
  const noiseHu = parseNumberOption(v.noise, '--noise', 'a noise level between 0 and 1000 HU', (n) => n >= 0 && n <= 1000);

  // 2. The phantom.
  const started = performance.now();
  const phantom = makePhantom({ spacingMm, orientation, seed, noiseHu, contrast: !v['no-contrast'], table: !v['no-table'] });
  const generatedMs = performance.now() - started;

  // 3. Files: CT, labels, label table (and the DICOM series).
  const labelsPath = `${base}_labels${ext}`;
  const tablePath = `${base}_labels.json`;
  await writeNifti(phantom.ct, v.output, 'holocase CT phantom');
  await writeNifti(phantom.labels, labelsPath, 'holocase CT phantom labels');
  const table = Object.fromEntries(Object.entries(phantom.table).map(([id, name]) => [String(id), name]));
  await writeFileAtomically(tablePath, `${JSON.stringify(table, null, 1)}\n`);
  const files = [v.output, labelsPath, tablePath];
  if (v.dicom) {
    const written = await writeDicomSeries(phantom.ct, v.dicom, { seriesDescription: 'holocase phantom CT' });
    files.push(`${v.dicom}${path.sep} (${written.length} DICOM files)`);
  }

  // 4. Summary.
  const ct = phantom.ct;
  const names = Object.values(phantom.table);
  console.log(`phantom: ${ct.dims.join('×')} voxels, spacing ${spacingOf(ct.affine).map((s) => +s.toFixed(3)).join('×')} mm, orientation ${orientationCodes(ct.affine)}, ${ct.meta.contrastAgent ? 'contrast' : 'no contrast'}, made in ${Math.round(generatedMs)} ms`);
  console.log(`structures (${names.length}): ${names.join(', ')}`);
  console.log(`files:\n${files.map((f) => `  ${f}`).join('\n')}`);
  return 0;
}
