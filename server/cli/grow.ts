/**
 * `holocase grow <ct> --seeds seeds.nii.gz -o labels.nii.gz`: grow from seeds on the command line —
 * the same competitive region growing the editor's preview runs (`server/segment/growFromSeeds.ts`).
 */
import { spacingOf, voxelVolumeMm3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import { labelMapFromVolume } from '../mesh/labelMapFromVolume.ts';
import { growFromSeeds } from '../segment/growFromSeeds.ts';
import { ingest } from '../volume/ingest.ts';
import { readNifti, writeNifti } from '../volume/nifti.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase grow <ct> --seeds <seeds.nii.gz> -o <labels.nii.gz> [options]

Grows every labelled seed stroke into a whole structure on the CT (competitive region growing, like
3D Slicer's "Grow from seeds"). Seeds: a label map on the CT's grid, 0 = unknown, every other value
a structure; paint background strokes under a label of their own.

options:
  -s, --seeds <path>      seed label map (.nii/.nii.gz on the CT's grid; required)
  -o, --out <path>        grown label map, .nii.gz or .nii (required)
      --hu-range <lo,hi>  never grow into voxels outside this HU range (they stay 0)
      --json              print the result as JSON
  -h, --help              this help`;

function parseHuRange(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((v) => (v.trim() === '' ? Number.NaN : Number(v)));
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v)) || parts[0]! >= parts[1]!) {
    throw new UsageError(`--hu-range takes two numbers lo,hi with lo < hi, e.g. -100,300 (got "${value}")`);
  }
  return parts as [number, number];
}

/**
 * 1. Read the CT and the seeds; they must share a grid.
 * 2. Grow; write the label map (uint16 on the CT's grid).
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, { seeds: { type: 'string', short: 's' }, out: { type: 'string', short: 'o' }, 'hu-range': { type: 'string' }, json: { type: 'boolean' } }, HELP, { min: 1, max: 1 });
  if (!args) return 0;
  const { values, positionals } = args;
  if (!values.seeds) throw new UsageError(`--seeds is required\n\n${HELP}`);
  if (!values.out) throw new UsageError(`-o/--out is required\n\n${HELP}`);
  if (!/\.nii(\.gz)?$/i.test(values.out)) throw new UsageError(`--out must end in .nii.gz or .nii (got "${values.out}")`);
  const huRange = parseHuRange(values['hu-range']);

  // 1. Inputs.
  const { volume: ct } = await ingest(positionals[0]!);
  const seeds = labelMapFromVolume(await readNifti(values.seeds), 'the seed map');
  if (seeds.dims.some((d, a) => d !== ct.dims[a])) {
    throw new HolocaseError('LABELS_INVALID', `the seed map is ${seeds.dims.join('×')} voxels but the CT is ${ct.dims.join('×')}; paint the seeds on the CT's grid`);
  }
  const spacing = spacingOf(ct.affine);
  const spacingDiff = spacingOf(seeds.affine).map((s, a) => Math.abs(s - spacing[a]!));
  if (Math.max(...spacingDiff) > 1e-3) throw new HolocaseError('LABELS_INVALID', 'the seed map has another voxel spacing than the CT; paint the seeds on the CT\'s grid');

  // 2. Grow and write.
  const started = Date.now();
  const result = growFromSeeds(ct.data, Uint16Array.from(seeds.data), ct.dims, { spacing, huRange });
  const ms = Date.now() - started;
  await writeNifti({ dims: ct.dims, affine: ct.affine, data: result.labels, meta: { source: 'nifti' } }, values.out, 'holocase grow from seeds');
  const voxelMl = voxelVolumeMm3(ct.affine) / 1000;
  const labels = [...result.counts].sort((a, b) => a[0] - b[0]).map(([label, voxels]) => ({ label, voxels, volumeMl: Math.round(voxels * voxelMl * 10) / 10 }));
  if (values.json) {
    console.log(JSON.stringify({ output: values.out, dims: ct.dims, ms, labels, unreached: result.unreached }, null, 2));
    return 0;
  }
  console.log(`${values.out}: ${labels.length} label(s) grown over ${ct.dims.join('×')} voxels in ${(ms / 1000).toFixed(1)} s`);
  for (const l of labels) console.log(`  ${String(l.label).padStart(5)}  ${l.volumeMl.toFixed(1).padStart(9)} mL`);
  if (result.unreached) console.log(`  ${result.unreached} voxel(s) outside the HU range stay 0`);
  return 0;
}
