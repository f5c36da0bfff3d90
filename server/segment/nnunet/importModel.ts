/**
 * `importNnUnetModel(options) → { bundleDir, manifest }`: an nnU-Net v2 trained model (folder, Dataset
 * folder, or a zip of either) in, a holocase model bundle (`model.onnx` + `model.json`) out, with no
 * Python. The manifest is generated from the plans: the configuration's spacing and patch size in tensor
 * order, `transpose_forward` as the tensor axes, one normalisation per channel, the labels of
 * `dataset.json`, nnU-Net's sliding window (step 0.5, Gaussian σ = patch/8), and where the weights came
 * from (file names and sha256, trainer, plans, configuration, folds, licence).
 *
 * Several folds become one ONNX graph whose output is the mean of the folds' logits, which is what
 * nnU-Net v2's predictor computes (`predict_logits_from_preprocessed_data` sums each fold's
 * sliding-window logits and divides by the number of folds; Gaussian blending is linear, so averaging
 * inside each patch is the same).
 *
 * The bundle is written into a hidden folder beside its final place and renamed into place only when
 * it is complete and its manifest checked against the graph: a failure leaves nothing under the id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { HolocaseError } from '../../errors.ts';
import { exists } from '../../store/caseFolders.ts';
import { checkManifestAgainstOnnx, modelsDirectory } from '../bundle.ts';
import { parseManifest, type OnnxManifest } from '../manifest.ts';
import { parseOnnxSignature } from '../onnxSignature.ts';
import { usedParameterNames, unetWeightCount } from './architecture.ts';
import { readNnUnetRecipe, type NnUnetRecipe } from './plans.ts';
import { checkStateDict, networkWeights, type StateDict } from './stateDict.ts';
import { field, openTorchCheckpoint, type TorchCheckpoint } from './torchCheckpoint.ts';
import { findTrainedModelFolder, foldsWithCheckpoint, type TrainedModelFolder } from './trainedModelFolder.ts';
import { buildUNetOnnx, writeOnnxModel, type OnnxModelPlan } from './unetOnnx.ts';

export interface ImportNnUnetOptions {
  /** A trained-model folder (`<Trainer>__<Plans>__<configuration>/`), a `Dataset…` folder above it, or a zip of either. */
  source: string;
  /** Bundle id (the folder name under the models folder). Default: from the dataset and configuration names. */
  id?: string;
  /** One fold, or `all` folds present (averaged like nnU-Net's ensemble). */
  fold?: number | 'all';
  /** `checkpoint_final.pth` or `checkpoint_best.pth`. */
  checkpoint?: 'final' | 'best';
  /** Which trained model, when the source holds several (e.g. `3d_fullres` and `2d`). */
  configuration?: string;
  /**
   * Orientation code of the voxels the network was trained on (nnU-Net does not record it). Default
   * `RAS`: TotalSegmentator reorients every scan with `as_closest_canonical`; read by SimpleITK.
   */
  orientation?: string;
  /** Display name. Default: dataset, configuration and folds. */
  name?: string;
  /** Licence of the weights (SPDX id or text). Default: what dataset.json states, else "not stated". */
  license?: string;
  /** What the model cannot do, shown to users. Default: a caution that the training data is unknown to holocase. */
  limits?: string;
  /** The models folder. Default: `HOLOCASE_MODELS`, else the project's `models/`. */
  modelsDir?: string;
  /** One line per step, for a person. */
  log?: (message: string) => void;
}

export const IMPORT_NNUNET_DEFAULTS = {
  fold: 'all' as number | 'all',
  checkpoint: 'final' as 'final' | 'best',
  orientation: 'RAS',
};

export interface ImportNnUnetResult {
  bundleDir: string;
  manifest: OnnxManifest;
  /** Size of `model.onnx`. */
  onnxBytes: number;
  /** Weights in the graph (all folds). */
  weights: number;
  /** What a person should know about how the model will run. */
  notes: string[];
  /** Milliseconds: reading and checking the checkpoints, writing the bundle, in all. */
  timings: { readMs: number; writeMs: number; totalMs: number };
}

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ORIENTATION = /^(?=.*[LR])(?=.*[PA])(?=.*[SI])[LRPAIS]{3}$/;

/** `Dataset903_TinyTotalOrgans` + `3d_fullres` → `dataset903_tinytotalorgans-3d_fullres`. */
export function defaultBundleId(datasetName: string, configuration: string, fold?: number): string {
  const clean = (text: string) => text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  const suffix = `-${clean(configuration)}${fold === undefined ? '' : `-fold${fold}`}`;
  return `${clean(datasetName).slice(0, 64 - suffix.length)}${suffix}`.replace(/^-+/, '') || 'nnunet-model';
}

/** sha256 of a file, read as a stream (hex). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readJson(folder: TrainedModelFolder, name: string): Promise<unknown> {
  const file = folder.files.get(name)!;
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new HolocaseError('NNUNET_INVALID', `${folder.label}/${name} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The folds to import, or `NNUNET_INVALID` naming what the folder has. */
function chooseFolds(folder: TrainedModelFolder, checkpointFile: string, wanted: number | 'all'): (number | 'all')[] {
  const present = foldsWithCheckpoint(folder, checkpointFile);
  const other = checkpointFile === 'checkpoint_final.pth' ? 'checkpoint_best.pth' : 'checkpoint_final.pth';
  const otherFolds = foldsWithCheckpoint(folder, other);
  const hint = otherFolds.length > 0 ? ` (it has ${other} in fold_${otherFolds.join(', fold_')}: use --checkpoint ${other.includes('best') ? 'best' : 'final'})` : '';
  if (present.length === 0) {
    throw new HolocaseError('NNUNET_INVALID', `${folder.label} has no fold with ${checkpointFile}: an nnU-Net trained model keeps its weights in fold_N/${checkpointFile}${hint}`);
  }
  if (wanted === 'all') return present;
  if (!present.includes(wanted)) {
    throw new HolocaseError('NNUNET_INVALID', `${folder.label} has no fold_${wanted}/${checkpointFile}; it has ${present.map((f) => `fold_${f}`).join(', ')}${hint}`);
  }
  return [wanted];
}

/** Trainer, configuration and mirroring axes the checkpoint records. */
function checkpointFacts(checkpoint: TorchCheckpoint): { trainer?: string; configuration?: string; mirroringAxes: number[] } {
  const trainer = field(checkpoint.root, 'trainer_name');
  const configuration = field(field(checkpoint.root, 'init_args'), 'configuration');
  const axes = field(checkpoint.root, 'inference_allowed_mirroring_axes');
  return {
    ...(typeof trainer === 'string' ? { trainer } : {}),
    ...(typeof configuration === 'string' ? { configuration } : {}),
    mirroringAxes: Array.isArray(axes) ? axes.filter((a): a is number => typeof a === 'number') : [],
  };
}

/** The bundle manifest for the recipe. */
function manifestFor(recipe: NnUnetRecipe, o: ManifestInputs): OnnxManifest {
  const foldText = o.folds.length === 1 ? `fold ${o.folds[0]}` : `${o.folds.length} folds (${o.folds.join(', ')})`;
  const limits = o.limits ?? `An imported nnU-Net model: what it was trained on, and so what it cannot do, is not known to holocase. Check it on scans whose segmentation you trust before relying on it.${o.notes.length ? ` ${o.notes.join('; ')}.` : ''}`;
  return parseManifest(
    {
      id: o.id,
      name: o.name ?? `${recipe.datasetName} (nnU-Net ${recipe.configuration}, ${foldText})`,
      version: `${o.trainer}-${o.sourceDigest.slice(0, 12)}`,
      description: `nnU-Net v2 ${o.trainer}__${recipe.plansName}__${recipe.configuration}, ${foldText} (${o.checkpointFile}), ${recipe.architecture.kind}; imported from ${o.source} with holocase model import.`,
      license: o.license,
      modality: recipe.modality,
      limits,
      references: ['https://github.com/MIC-DKFZ/nnUNet'],
      engine: 'onnx',
      weights: 'model.onnx',
      input: {
        orientation: o.orientation,
        tensorAxes: recipe.tensorAxes,
        spacing: recipe.spacing,
        channels: recipe.architecture.inputChannels,
        normalization: recipe.normalization.length === 1 ? recipe.normalization[0] : recipe.normalization,
        padValue: 0,
      },
      inference: { mode: 'sliding-window', patchSize: recipe.patchSize, overlap: 0.5, batchSize: 1, blend: 'gaussian', sigmaScale: 0.125 },
      output: { activation: 'softmax', labels: recipe.labels },
      provenance: {
        importedWith: 'holocase model import',
        importedAt: new Date().toISOString(),
        framework: 'nnU-Net v2',
        source: o.source,
        ...(o.sourceSha256 ? { sha256: o.sourceSha256 } : {}),
        files: o.files,
        dataset: recipe.datasetName,
        trainer: o.trainer,
        plans: recipe.plansName,
        configuration: recipe.configuration,
        folds: o.folds,
        checkpoint: o.checkpointFile,
      },
    },
    `the manifest generated for ${o.source}`,
  ) as OnnxManifest;
}

interface ManifestInputs {
  id: string;
  name?: string;
  license: string;
  limits?: string;
  orientation: string;
  source: string;
  sourceSha256?: string;
  /** Digest over every source file (for the version). */
  sourceDigest: string;
  files: { path: string; sha256: string }[];
  trainer: string;
  folds: (number | 'all')[];
  checkpointFile: string;
  /** How the bundle will run differently from nnU-Net (added to the limits). */
  notes: string[];
}

/** The graph's declared inputs and outputs checked against the manifest, without writing anything. */
function checkPlanAgainstManifest(plan: OnnxModelPlan, manifest: OnnxManifest): void {
  const header = onnxProto.onnx.ModelProto.encode({ irVersion: 8, graph: { name: 'unet', input: plan.inputs, output: plan.outputs } }).finish();
  checkManifestAgainstOnnx(manifest, parseOnnxSignature(header, 'the generated network'), 'the generated network');
}

function licenseOf(datasetJson: unknown): string | undefined {
  if (!datasetJson || typeof datasetJson !== 'object') return undefined;
  const d = datasetJson as Record<string, unknown>;
  const value = d.license ?? d.licence;
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/**
 * Imports an nnU-Net v2 trained model as a bundle in the models folder. Throws `HolocaseError`:
 * `NOT_FOUND`, `NNUNET_INVALID` (not an nnU-Net trained model, no such fold), `NNUNET_UNSUPPORTED`
 * (another network class, region-based labels, a cascade stage), `CHECKPOINT_MALFORMED` (damaged or
 * truncated checkpoint), `MODEL_MISMATCH` (weights that do not fit the plans), `ZIP_*` (a bad zip),
 * `CONFLICT` (a bundle with that id exists), `BAD_REQUEST` (a bad id or orientation).
 */
export async function importNnUnetModel(options: ImportNnUnetOptions): Promise<ImportNnUnetResult> {
  const started = performance.now();
  // Options left undefined (the CLI passes every flag) take the defaults.
  const o = {
    ...options,
    fold: options.fold ?? IMPORT_NNUNET_DEFAULTS.fold,
    checkpoint: options.checkpoint ?? IMPORT_NNUNET_DEFAULTS.checkpoint,
    orientation: options.orientation ?? IMPORT_NNUNET_DEFAULTS.orientation,
  };
  const log = options.log ?? (() => undefined);
  if (o.id !== undefined && !ID_PATTERN.test(o.id)) throw new HolocaseError('BAD_REQUEST', `"${o.id}" is not a bundle id: use lower-case letters, digits, . _ - (at most 64)`);
  const orientation = o.orientation.toUpperCase();
  if (!ORIENTATION.test(orientation)) throw new HolocaseError('BAD_REQUEST', `"${o.orientation}" is not an orientation code: three letters, one each of L/R, P/A and S/I (e.g. RAS, LPS)`);
  if (o.fold !== 'all' && (!Number.isInteger(o.fold) || o.fold < 0)) throw new HolocaseError('BAD_REQUEST', `fold must be a fold number or "all" (got ${o.fold})`);
  const modelsDir = modelsDirectory({ modelsDir: o.modelsDir });
  if (o.id && (await exists(join(modelsDir, o.id)))) throw new HolocaseError('CONFLICT', `a model "${o.id}" already exists in ${modelsDir}; choose another --id or remove it first`);
  await mkdir(modelsDir, { recursive: true });
  const scratch = join(modelsDir, `.import-${randomBytes(6).toString('hex')}`);
  const partial = join(modelsDir, `.partial-${randomBytes(6).toString('hex')}`);
  const checkpoints: TorchCheckpoint[] = [];
  try {
    // 1. The trained-model folder, its plans, and the folds to import.
    const folder = await findTrainedModelFolder(o.source, { scratchDir: join(scratch, 'unpacked'), configuration: o.configuration });
    log(`trained model: ${folder.label}`);
    const checkpointFile = `checkpoint_${o.checkpoint}.pth`;
    const folds = chooseFolds(folder, checkpointFile, o.fold);
    const plansJson = await readJson(folder, 'plans.json');
    const datasetJson = await readJson(folder, 'dataset.json');
    // 2. Each fold's checkpoint: opened (directory and pickle only) and its weights' shapes checked.
    const readStarted = performance.now();
    const stateDicts: StateDict[] = [];
    let facts: ReturnType<typeof checkpointFacts> | undefined;
    let recipe: NnUnetRecipe | undefined;
    for (const fold of folds) {
      const path = `fold_${fold}/${checkpointFile}`;
      const label = `${folder.label}/${path}`;
      const checkpoint = await openTorchCheckpoint(folder.files.get(path)!, { name: label });
      checkpoints.push(checkpoint);
      facts ??= checkpointFacts(checkpoint);
      const configuration = folder.configuration ?? facts.configuration;
      if (!configuration) throw new HolocaseError('NNUNET_INVALID', `${folder.label}: the folder name is not <Trainer>__<Plans>__<configuration> and the checkpoint does not name its configuration`);
      recipe ??= readNnUnetRecipe(plansJson, datasetJson, configuration, folder.label);
      const weights = networkWeights(checkpoint, label);
      checkStateDict(recipe.architecture, weights, label);
      stateDicts.push(weights);
      log(`${path}: ${weights.size} tensors fit ${recipe.architecture.kind} (${recipe.architecture.featuresPerStage.length} stages)`);
    }
    const readMs = performance.now() - readStarted;
    // 3. Checksums of what the bundle is made from.
    const sourceIsFile = (await stat(o.source)).isFile();
    const sourceSha256 = sourceIsFile ? await sha256File(o.source) : undefined;
    const hashed = ['plans.json', 'dataset.json', ...folds.map((f) => `fold_${f}/${checkpointFile}`)];
    const files = [];
    for (const path of hashed) files.push({ path: `${folder.label}/${path}`, sha256: await sha256File(folder.files.get(path)!) });
    const sourceDigest = sourceSha256 ?? createHash('sha256').update(files.map((f) => f.sha256).join('')).digest('hex');
    // 4. Manifest and graph, checked against each other before anything is written.
    const trainer = folder.trainer ?? facts?.trainer ?? 'nnUNetTrainer';
    const singleFold = typeof o.fold === 'number' && foldsWithCheckpoint(folder, checkpointFile).length > 1 ? o.fold : undefined;
    const id = o.id ?? defaultBundleId(recipe!.datasetName, recipe!.configuration, singleFold);
    const target = join(modelsDir, id);
    if (await exists(target)) throw new HolocaseError('CONFLICT', `a model "${id}" already exists in ${modelsDir}; choose another --id or remove it first`);
    const notes = [...recipe!.notes];
    const mirroringAxes = trainer.includes('NoMirroring') ? [] : (facts?.mirroringAxes ?? []);
    if (mirroringAxes.length > 0) {
      notes.push(`nnU-Net predicts this model with test-time mirroring along axes ${mirroringAxes.join(', ')}; holocase runs each patch once (${2 ** mirroringAxes.length}× less work; results differ slightly)`);
    }
    const manifest = manifestFor(recipe!, {
      id,
      name: o.name,
      license: o.license ?? licenseOf(datasetJson) ?? 'not stated by the model (ask its authors before clinical or commercial use)',
      limits: o.limits,
      orientation,
      source: basename(o.source),
      sourceSha256,
      sourceDigest,
      files,
      trainer,
      folds,
      checkpointFile,
      notes,
    });
    const used = new Set(usedParameterNames(recipe!.architecture));
    const loaders = stateDicts.map((weights, f) => (name: string) => {
      if (!used.has(name)) throw new Error(`internal: ${name} is not a parameter the graph uses`);
      return checkpoints[f].readFloat32(weights.get(name)!);
    });
    const plan = buildUNetOnnx(recipe!.architecture, loaders, {
      metadata: { source: basename(o.source), ...(sourceSha256 ? { sha256: sourceSha256 } : {}), framework: 'nnU-Net v2', trainer, configuration: recipe!.configuration, folds: folds.join(',') },
    });
    checkPlanAgainstManifest(plan, manifest);
    // 5. Write into a hidden folder beside the target, then rename it into place.
    const writeStarted = performance.now();
    await mkdir(partial);
    const { bytes } = await writeOnnxModel(plan, join(partial, 'model.onnx'));
    await writeFile(join(partial, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    if (await exists(target)) throw new HolocaseError('CONFLICT', `a model "${id}" appeared in ${modelsDir} during the import; nothing was changed`);
    await rename(partial, target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST' || error.code === 'ENOTEMPTY') throw new HolocaseError('CONFLICT', `a model "${id}" appeared in ${modelsDir} during the import; nothing was changed`);
      throw error;
    });
    const writeMs = performance.now() - writeStarted;
    log(`wrote ${target} (${(bytes / 2 ** 20).toFixed(1)} MB)`);
    return {
      bundleDir: target,
      manifest,
      onnxBytes: bytes,
      weights: unetWeightCount(recipe!.architecture) * folds.length,
      notes,
      timings: { readMs: Math.round(readMs), writeMs: Math.round(writeMs), totalMs: Math.round(performance.now() - started) },
    };
  } finally {
    await Promise.all(checkpoints.map((c) => c.close().catch(() => undefined)));
    await rm(scratch, { recursive: true, force: true });
    await rm(partial, { recursive: true, force: true });
  }
}
