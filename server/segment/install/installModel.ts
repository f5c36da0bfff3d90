/**
 * `installModel({ name })`: a published model into the models folder, ready to segment with —
 * TotalSegmentator's release zips downloaded (resumable) or taken from a folder (a hospital server
 * without internet), each imported with `importNnUnetModel`, and a model set written over them when
 * the model is several networks.
 *
 * Nothing half-written is left under a model's id: every bundle is imported into a hidden staging
 * folder inside the models folder and moved into place only when all of them are complete and the set
 * loads; the set's manifest is the last file written. Bundles already installed (a set shares
 * `totalsegmentator-fast` with others) are kept unless `force` is given.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HolocaseError } from '../../errors.ts';
import { writeFileAtomically } from '../../writeFileAtomically.ts';
import { listModelBundles, loadModelBundle, modelsDirectory } from '../bundle.ts';
import { labelEntries, parseManifest, type OnnxManifest, type SetManifest } from '../manifest.ts';
import { planModelSet } from '../modelSet.ts';
import { importNnUnetModel } from '../nnunet/importModel.ts';
import { downloadResumable, UnreachableError, type DownloadProgress } from './download.ts';
import { INSTALLABLE_MODELS, releaseUrl, TOTALSEGMENTATOR_RELEASES, type InstallableModel, type ReleaseZip } from './totalSegmentatorModels.ts';

export interface InstallModelOptions {
  /** A name from `INSTALLABLE_MODELS` (`totalsegmentator`, `lung-vessels`, …). */
  name: string;
  /** A folder holding the release zips (offline install); nothing is downloaded. */
  from?: string;
  /** The models folder. Default: `HOLOCASE_MODELS`, else the project's `models/`. */
  modelsDir?: string;
  /** Where releases are downloaded from. Default: `HOLOCASE_MODEL_DOWNLOAD_URL`, else TotalSegmentator's GitHub releases. */
  baseUrl?: string;
  /** Where zips are downloaded to (and resumed from). Default: `<modelsDir>/.downloads`. */
  downloadsDir?: string;
  /** Re-import bundles that are already installed. */
  force?: boolean;
  /** Keep downloaded zips after a successful install. */
  keepDownloads?: boolean;
  /** Download progress, per release zip. */
  onDownload?: (zip: ReleaseZip, progress: DownloadProgress) => void;
  /** One line per step, for a person. */
  log?: (message: string) => void;
  /** Download tries per zip (each resumes). */
  attempts?: number;
  signal?: AbortSignal;
}

export interface InstallModelResult {
  /** The model to segment with: the set's id, or the single bundle's. */
  modelId: string;
  /** Bundles written by this run. */
  installed: string[];
  /** Bundles that were already there and kept. */
  kept: string[];
  /** What a person should know (missing classes, spacing differences). */
  notes: string[];
  /** Downloaded zips with their size and SHA-256. */
  downloads: { file: string; bytes: number; sha256: string; resumedFrom: number }[];
}

/** The installable model of that name, or `MODEL_NOT_FOUND` listing them. */
export function installableModel(name: string): InstallableModel {
  const found = INSTALLABLE_MODELS.find((m) => m.name === name);
  if (!found) throw new HolocaseError('MODEL_NOT_FOUND', `no installable model "${name}"; holocase installs: ${INSTALLABLE_MODELS.map((m) => m.name).join(', ')}`);
  return found;
}

/** Where releases come from: the option, `HOLOCASE_MODEL_DOWNLOAD_URL`, or TotalSegmentator's GitHub releases. */
export function downloadBase(option?: string): string {
  return option ?? (process.env.HOLOCASE_MODEL_DOWNLOAD_URL?.trim() || TOTALSEGMENTATOR_RELEASES);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** The message for a server that cannot download: which files, from where, and where to put them. */
export function offlineMessage(model: InstallableModel, zips: readonly ReleaseZip[], base: string, reason: string, modelsDir: string): string {
  const lines = [
    `${reason}. To install "${model.name}" on a server without internet:`,
    `  1. on a machine with internet, download ${zips.length === 1 ? 'this file' : `these ${zips.length} files`}:`,
    ...zips.map((z) => `       ${releaseUrl(z, base)}`),
    '  2. copy them, unchanged and unzipped, into one folder on this server (e.g. /srv/holocase/weights/)',
    `  3. run: npx holocase model install ${model.name} --from /srv/holocase/weights`,
    `The models are written to ${modelsDir} (HOLOCASE_MODELS).`,
  ];
  return lines.join('\n');
}

/** The zip for a release in `--from DIR`: `<folder>.zip`, or the unzipped `<folder>/`. */
async function zipInFolder(dir: string, zip: ReleaseZip): Promise<string | undefined> {
  for (const candidate of [join(dir, `${zip.folder}.zip`), join(dir, zip.folder)]) if (await exists(candidate)) return candidate;
  return undefined;
}

/** A downloaded file that cannot be a zip (an HTML error page, a truncated file) is refused before import. */
async function checkZipShape(path: string, url: string): Promise<void> {
  const file = await open(path, 'r');
  let zip: boolean;
  try {
    // A zip starts with a local file header and ends with the end-of-central-directory record (within its 64 KiB comment).
    const size = (await file.stat()).size;
    const head = Buffer.alloc(4);
    await file.read(head, 0, 4, 0);
    const tailLength = Math.min(size, 65557);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    zip = size >= 22 && head.readUInt32LE(0) === 0x04034b50 && tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) >= 0;
  } finally {
    await file.close();
  }
  if (!zip) {
    await rm(path, { force: true });
    throw new HolocaseError('DOWNLOAD_FAILED', `what ${url} sent is not a zip file; it was deleted. Check the address (HOLOCASE_MODEL_DOWNLOAD_URL) or a proxy in between`);
  }
}

/**
 * The imported bundle checked against what TotalSegmentator lists for that network (or, for a member
 * of a set, for the set): a structure it does not list means this is not the release holocase knows
 * (refused); listed ones it lacks and a target spacing other than TotalSegmentator's are noted.
 */
function checkRelease(manifest: OnnxManifest, zip: ReleaseZip, model: InstallableModel, notes: string[]): void {
  const names = labelEntries(manifest).map((e) => e.name);
  const known = new Set([...zip.classes, ...(model.set?.labels ?? [])]);
  const unexpected = names.filter((n) => !known.has(n));
  if (unexpected.length > 0) {
    throw new HolocaseError(
      'MODEL_INVALID',
      `${zip.folder}.zip holds structures TotalSegmentator does not list for it (${unexpected.slice(0, 8).join(', ')}${unexpected.length > 8 ? ', …' : ''}): it is not the release holocase knows; import it as it is with \`holocase model import\``,
    );
  }
  const missing = zip.classes.filter((c) => !names.includes(c));
  if (missing.length > 0) notes.push(`${zip.bundleId}: ${zip.classes.length - missing.length} of the ${zip.classes.length} structures TotalSegmentator lists; missing ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? `, … (${missing.length} in all)` : ''}`);
  if (zip.spacingXyz && manifest.input.spacing) {
    // Tensor order → voxel axes i, j, k (x, y, z of the RAS grid).
    const xyz = [0, 0, 0];
    manifest.input.tensorAxes.forEach((axis, t) => (xyz['ijk'.indexOf(axis)] = manifest.input.spacing![t]));
    if (xyz.some((s, a) => Math.abs(s - zip.spacingXyz![a]) > 0.01 * zip.spacingXyz![a])) {
      notes.push(`${zip.bundleId}: runs at ${xyz.map((s) => s.toFixed(2)).join('×')} mm (its plans); TotalSegmentator resamples to ${zip.spacingXyz.join('×')} mm first`);
    }
  }
}

/** Imports one release into the staging folder and gives it TotalSegmentator's name, limits and references. */
async function importRelease(source: string, zip: ReleaseZip, model: InstallableModel, staging: string, notes: string[], log: (m: string) => void): Promise<void> {
  const single = !model.set;
  const result = await importNnUnetModel({
    source,
    id: zip.bundleId,
    fold: 0, // TotalSegmentator predicts with fold 0 only
    checkpoint: 'final',
    orientation: 'RAS', // as_closest_canonical, read in SimpleITK's axis order
    name: single ? model.title : zip.name,
    license: model.license,
    limits: single ? model.limits : zip.limits,
    modelsDir: staging,
    log,
  });
  checkRelease(result.manifest, zip, model, notes);
  notes.push(...result.notes.map((n) => `${zip.bundleId}: ${n}`));
  // TotalSegmentator's own words for it, ahead of the importer's provenance.
  const file = join(result.bundleDir, 'model.json');
  const manifest = { ...result.manifest, description: `${single ? model.description : `${zip.name}, a member of "${model.name}".`} ${result.manifest.description}`, references: [...model.references, ...result.manifest.references] };
  parseManifest(manifest, file);
  await writeFileAtomically(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The set manifest over the installed members: TotalSegmentator's label numbers, names some member provides. */
function setManifest(model: InstallableModel, memberLabels: Map<string, Set<string>>): Record<string, unknown> {
  const set = model.set!;
  const provided = new Set<string>();
  const members = set.members.map((m) => {
    const names = memberLabels.get(m.model)!;
    const classes = m.classes?.filter((c) => names.has(c));
    if (m.classes && classes!.length === 0) {
      throw new HolocaseError('MODEL_INVALID', `"${m.model}" provides none of ${m.classes.join(', ')}, which "${model.name}" needs from it`);
    }
    for (const n of classes ?? names) provided.add(n);
    return { model: m.model, ...(classes ? { classes } : {}), ...(m.crop ? { crop: { to: m.crop.to.filter((n) => provided.has(n)), marginMm: m.crop.marginMm } } : {}) };
  });
  const labels = Object.fromEntries(set.labels.flatMap((name, i) => (provided.has(name) ? [[String(i + 1), name]] : [])));
  return {
    id: model.name,
    name: model.title,
    version: `installed ${new Date().toISOString().slice(0, 10)}`,
    description: model.description,
    license: model.license,
    modality: 'CT',
    limits: model.limits,
    references: [...model.references],
    engine: 'set',
    members,
    output: { labels },
  };
}

/**
 * Installs a model. Throws `MODEL_NOT_FOUND` for an unknown name, `NOT_FOUND` for zips missing from
 * `from`, `DOWNLOAD_FAILED` when the download cannot be done (with, when the server is unreachable,
 * what to download by hand and where to put it), and whatever the import refuses.
 *
 * 1. Which bundles are needed, and which are already installed.
 * 2. Each needed zip: from `from`, or downloaded (resuming a `.part` file) into `downloadsDir`.
 * 3. Each zip imported into a staging folder inside the models folder; checked against TotalSegmentator's lists.
 * 4. The set manifest (when the model is several networks), checked with its members in staging.
 * 5. Everything moved into place, the set last; downloads removed unless kept.
 */
export async function installModel(options: InstallModelOptions): Promise<InstallModelResult> {
  const model = installableModel(options.name);
  const log = options.log ?? (() => undefined);
  const modelsDir = modelsDirectory({ modelsDir: options.modelsDir });
  const base = downloadBase(options.baseUrl);
  const downloadsDir = options.downloadsDir ?? join(modelsDir, '.downloads');
  const notes: string[] = [];
  // 1. What is needed.
  const installed = new Set((await listModelBundles({ modelsDir })).map((b) => b.id));
  const needed = model.zips.filter((z) => options.force || !installed.has(z.bundleId));
  const kept = model.zips.filter((z) => !needed.includes(z)).map((z) => z.bundleId);
  for (const id of kept) log(`${id}: already installed, kept (--force re-imports it)`);
  // 2. The zips.
  const sources = new Map<ReleaseZip, string>();
  const downloads: InstallModelResult['downloads'] = [];
  if (options.from) {
    const missing: ReleaseZip[] = [];
    for (const zip of needed) {
      const found = await zipInFolder(options.from, zip);
      if (found) sources.set(zip, found);
      else missing.push(zip);
    }
    if (missing.length > 0) {
      throw new HolocaseError(
        'NOT_FOUND',
        `${options.from} lacks ${missing.map((z) => `${z.folder}.zip`).join(', ')}; download ${missing.length === 1 ? 'it' : 'them'} from ${missing.map((z) => releaseUrl(z, base)).join(' , ')} and put ${missing.length === 1 ? 'it' : 'them'} there unchanged`,
      );
    }
  } else {
    await mkdir(downloadsDir, { recursive: true });
    for (const zip of needed) {
      const url = releaseUrl(zip, base);
      const dest = join(downloadsDir, `${zip.folder}.zip`);
      if (await exists(dest)) {
        log(`${zip.folder}.zip: already downloaded (${dest})`);
        sources.set(zip, dest);
        continue;
      }
      log(`downloading ${url}`);
      try {
        const result = await downloadResumable(url, {
          dest,
          attempts: options.attempts,
          signal: options.signal,
          onProgress: (p) => options.onDownload?.(zip, p),
          onRetry: (attempt, reason) => log(`${zip.folder}.zip: ${reason}; resuming (try ${attempt})`),
        });
        await checkZipShape(dest, url);
        downloads.push({ file: dest, bytes: result.bytes, sha256: result.sha256, resumedFrom: result.resumedFrom });
        log(`${zip.folder}.zip: ${(result.bytes / 2 ** 20).toFixed(1)} MB${result.resumedFrom > 0 ? ` (resumed at ${(result.resumedFrom / 2 ** 20).toFixed(1)} MB)` : ''}, sha256 ${result.sha256}`);
        sources.set(zip, dest);
      } catch (error) {
        if (error instanceof UnreachableError) {
          const missing = [];
          for (const z of needed) if (!(await exists(join(downloadsDir, `${z.folder}.zip`)))) missing.push(z);
          throw new HolocaseError('DOWNLOAD_FAILED', offlineMessage(model, missing, base, error.message, modelsDir));
        }
        throw error;
      }
    }
  }
  // 3–4. Import into staging; the set checked against its members there.
  const staging = join(modelsDir, `.install-${randomBytes(6).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  try {
    for (const zip of needed) {
      log(`importing ${zip.folder} as "${zip.bundleId}"`);
      await importRelease(sources.get(zip)!, zip, model, staging, notes, log);
    }
    let set: string | undefined;
    if (model.set) {
      // Members from staging (just imported) or the models folder (kept); the set checked against them.
      const members = [];
      for (const m of model.set.members) members.push(await loadModelBundle(m.model, { modelsDir: needed.some((z) => z.bundleId === m.model) ? staging : modelsDir }));
      const manifest = setManifest(model, new Map(members.map((b) => [b.id, new Set(labelEntries(b.manifest).map((e) => e.name))])));
      const parsed = parseManifest(manifest, `the set manifest for ${model.name}`);
      planModelSet(model.name, parsed as SetManifest, members);
      set = `${JSON.stringify(manifest, null, 2)}\n`;
    }
    // 5. Into place: members first, then the set.
    for (const zip of needed) {
      const target = join(modelsDir, zip.bundleId);
      const old = join(staging, `.replaced-${zip.bundleId}`);
      if (await exists(target)) await rename(target, old);
      await rename(join(staging, zip.bundleId), target);
    }
    if (set) {
      await mkdir(join(modelsDir, model.name), { recursive: true });
      await writeFileAtomically(join(modelsDir, model.name, 'model.json'), set);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // Zips in the downloads folder (this run's, or an earlier run's) are no longer needed.
  if (!options.keepDownloads && !options.from) await Promise.all([...sources.values()].map((file) => rm(file, { force: true })));
  return { modelId: model.set ? model.name : model.zips[0].bundleId, installed: needed.map((z) => z.bundleId).concat(model.set ? [model.name] : []), kept, notes, downloads };
}
