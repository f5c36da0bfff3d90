/**
 * Finding an nnU-Net v2 trained-model folder (`<Trainer>__<Plans>__<configuration>/` with `plans.json`,
 * `dataset.json` and `fold_N/checkpoint_final.pth`) in what a person points at: the folder itself, a
 * `Dataset…` folder (or results folder) above it, or a zip of either, as TotalSegmentator's weight
 * releases are. A zip is unpacked with the project's safe extractor; every later step sees plain files.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HolocaseError } from '../../errors.ts';
import { extractZip } from '../../volume/zip.ts';

/** One trained-model folder: its files by path relative to the folder, and what its name says. */
export interface TrainedModelFolder {
  /** Path inside what was given (`Dataset903_X/nnUNetTrainer__nnUNetPlans__3d_fullres`), for messages. */
  label: string;
  /** Relative path (`plans.json`, `fold_0/checkpoint_final.pth`) → file on disk. */
  files: Map<string, string>;
  /** From the folder name `<Trainer>__<Plans>__<configuration>`, when it has that form. */
  trainer?: string;
  plans?: string;
  configuration?: string;
}

export interface FindTrainedModelOptions {
  /** Where a zip is unpacked (a new folder; the caller removes it). */
  scratchDir: string;
  /** Choose among several trained-model folders by configuration name (e.g. `3d_fullres`). */
  configuration?: string;
}

/** How deep below the given folder to look (results/Dataset/model/fold_N/file). */
const MAX_DEPTH = 4;
/** Most files looked at, so pointing at a large tree fails quickly instead of walking it all. */
const MAX_FILES = 20_000;
/** Most bytes a model zip may unpack to. */
const MAX_UNPACKED_BYTES = 16 * 1024 ** 3;

/** Every file under `root` (relative POSIX path → absolute path), depth-limited. */
async function listFiles(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory() && depth < MAX_DEPTH) await walk(join(dir, entry.name), path, depth + 1);
      else if (entry.isFile()) files.set(path, join(dir, entry.name));
      if (files.size > MAX_FILES) {
        throw new HolocaseError('NNUNET_INVALID', `${basename(root)} holds more than ${MAX_FILES} files; point at the trained-model folder (the one holding plans.json) or its Dataset folder`);
      }
    }
  };
  await walk(root, '', 0);
  return files;
}

/** True for a zip archive (local file header signature). */
async function isZip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}

/** The files of `source` (a folder, or a zip unpacked into `scratchDir`) by relative path. */
async function sourceFiles(source: string, scratchDir: string): Promise<Map<string, string>> {
  const info = await stat(source).catch(() => {
    throw new HolocaseError('NOT_FOUND', `${source} does not exist`);
  });
  if (info.isDirectory()) return listFiles(source);
  if (/\.(pth|pt|ckpt)$/i.test(source)) {
    throw new HolocaseError('NNUNET_INVALID', `${basename(source)} is a checkpoint on its own; give the trained-model folder that holds it with plans.json and dataset.json (the folder above fold_N)`);
  }
  if (!(await isZip(source))) {
    throw new HolocaseError('NNUNET_INVALID', `${basename(source)} is neither a folder nor a zip archive; give an nnU-Net trained-model folder, the Dataset folder above it, or a zip of either`);
  }
  // Model releases are large (a 5-fold ResEnc-L is several GB); the per-entry zip-bomb ratio still applies.
  const extracted = await extractZip(source, scratchDir, { name: basename(source), maxTotalBytes: MAX_UNPACKED_BYTES });
  return new Map(extracted.map((f) => [f.entryName, f.path]));
}

/** `nnUNetTrainer__nnUNetPlans__3d_fullres` → its three parts. */
function nameParts(folder: string): Pick<TrainedModelFolder, 'trainer' | 'plans' | 'configuration'> {
  const parts = basename(folder).split('__');
  return parts.length === 3 && parts.every(Boolean) ? { trainer: parts[0], plans: parts[1], configuration: parts[2] } : {};
}

/**
 * The trained-model folder in `source`. Throws `NNUNET_INVALID` when there is none (naming what an
 * nnU-Net folder holds) or several that `configuration` does not tell apart (listing them).
 */
export async function findTrainedModelFolder(source: string, options: FindTrainedModelOptions): Promise<TrainedModelFolder> {
  const files = await sourceFiles(source, options.scratchDir);
  // 1. Folders holding both plans.json and dataset.json.
  const dirs = new Set<string>();
  for (const path of files.keys()) {
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    if (path.endsWith('plans.json') && basename(path) === 'plans.json' && files.has(dir ? `${dir}/dataset.json` : 'dataset.json')) dirs.add(dir);
  }
  let candidates = [...dirs].sort();
  if (candidates.length === 0) {
    throw new HolocaseError(
      'NNUNET_INVALID',
      `${basename(source)} is not an nnU-Net v2 trained model: no folder in it holds plans.json and dataset.json (expected <Trainer>__<Plans>__<configuration>/ with plans.json, dataset.json and fold_N/checkpoint_final.pth)`,
    );
  }
  if (options.configuration) {
    const wanted = candidates.filter((dir) => nameParts(dir).configuration === options.configuration);
    if (wanted.length === 0) {
      throw new HolocaseError('NNUNET_INVALID', `${basename(source)} has no trained model for configuration "${options.configuration}" (it has ${candidates.map((d) => d || basename(source)).join(', ')})`);
    }
    candidates = wanted;
  }
  if (candidates.length > 1) {
    throw new HolocaseError('NNUNET_INVALID', `${basename(source)} holds ${candidates.length} trained models (${candidates.join(', ')}); choose one with --configuration or give its folder`);
  }
  // 2. Its files, relative to it.
  const dir = candidates[0];
  const prefix = dir ? `${dir}/` : '';
  const own = new Map<string, string>();
  for (const [path, file] of files) if (path.startsWith(prefix)) own.set(path.slice(prefix.length), file);
  const label = dir || basename(source);
  return { label, files: own, ...nameParts(label) };
}

/** Folds with the wanted checkpoint: numbered folds in order, or `all` when only `fold_all` has one. */
export function foldsWithCheckpoint(folder: TrainedModelFolder, checkpointFile: string): (number | 'all')[] {
  const folds: (number | 'all')[] = [];
  for (const path of folder.files.keys()) {
    const match = /^fold_(\d+|all)\/([^/]+)$/.exec(path);
    if (match && match[2] === checkpointFile) folds.push(match[1] === 'all' ? 'all' : Number(match[1]));
  }
  const numbered = folds.filter((f): f is number => f !== 'all').sort((a, b) => a - b);
  return numbered.length > 0 ? numbered : folds;
}
