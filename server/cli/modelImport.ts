/**
 * `holocase model import <path>`: an nnU-Net v2 trained model → a bundle in the models folder
 * (`importNnUnetModel` does the work; this parses options and prints the result).
 */
import { importNnUnetModel } from '../segment/nnunet/importModel.ts';
import { parseCommandArgs, parseNumberOption } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase model import <path> [options]

Turns an nnU-Net v2 trained model into a holocase model bundle, without Python. <path> is the
trained-model folder (<Trainer>__<Plans>__<configuration>/ with plans.json, dataset.json and
fold_N/checkpoint_final.pth), the Dataset folder above it, or a zip of either (TotalSegmentator's
weight releases are such zips). The bundle (model.onnx + model.json) goes into the models folder
(HOLOCASE_MODELS, default models/).

options:
      --id <id>              bundle id (default: from the dataset and configuration names)
      --fold <n|all>         one fold, or every fold present averaged as nnU-Net does (default all)
      --checkpoint <which>   final or best (default final)
      --configuration <c>    which trained model when <path> holds several (e.g. 3d_fullres)
      --orientation <code>   voxel orientation the network was trained on, read in SimpleITK's axis
                             order (default RAS, TotalSegmentator's; e.g. LPS for a network trained on
                             DICOM-ordered images)
      --name <text>          display name
      --license <spdx>       licence of the weights (default: what dataset.json states)
      --json                 print the result as JSON
  -h, --help                 this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(
    argv,
    {
      id: { type: 'string' },
      fold: { type: 'string' },
      checkpoint: { type: 'string' },
      configuration: { type: 'string' },
      orientation: { type: 'string' },
      name: { type: 'string' },
      license: { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
    { min: 1, max: 1 },
  );
  if (!args) return 0;
  const { values, positionals } = args;
  const fold = values.fold === undefined || values.fold === 'all' ? 'all' : parseNumberOption(values.fold, '--fold', 'a fold number or "all"', (n) => Number.isInteger(n) && n >= 0)!;
  if (values.checkpoint !== undefined && values.checkpoint !== 'final' && values.checkpoint !== 'best') {
    throw new UsageError(`--checkpoint takes final or best (got "${values.checkpoint}")`);
  }
  const result = await importNnUnetModel({
    source: positionals[0],
    id: values.id,
    fold,
    checkpoint: values.checkpoint as 'final' | 'best' | undefined,
    configuration: values.configuration,
    orientation: values.orientation,
    name: values.name,
    license: values.license,
    log: values.json ? undefined : (message) => console.error(message),
  });
  const m = result.manifest;
  if (values.json) {
    console.log(JSON.stringify({ bundleDir: result.bundleDir, onnxBytes: result.onnxBytes, weights: result.weights, notes: result.notes, timings: result.timings, manifest: m }, null, 2));
    return 0;
  }
  const structures = Object.values(m.output.labels);
  console.log(`${result.bundleDir}: model "${m.id}" (${m.name})`);
  console.log(`  ${result.weights.toLocaleString('en')} weights, ${(result.onnxBytes / 2 ** 20).toFixed(1)} MB, ${m.input.orientation} ${m.input.spacing!.join('×')} mm, patch ${m.inference.mode === 'sliding-window' ? m.inference.patchSize.join('×') : 'whole'}`);
  console.log(`  ${structures.length} structure(s): ${structures.length > 12 ? `${structures.slice(0, 12).join(', ')} …` : structures.join(', ')}`);
  console.log(`  licence: ${m.license}`);
  for (const note of result.notes) console.log(`note: ${note}`);
  console.log(`imported in ${(result.timings.totalMs / 1000).toFixed(1)} s; try it: npx holocase segment <ct> --model ${m.id} -o labels.nii.gz`);
  return 0;
}
