/**
 * Ingest: whatever a hospital exports, turned into one correct `Volume` in patient (LPS) space.
 *
 * Input: a `.nii`/`.nii.gz` file, a `.zip`, a folder (nested; DICOMDIR and stray files ignored), a
 * single DICOM file, or a list of files. A DICOM CT becomes Int16 Hounsfield units with an affine to
 * LPS millimetres (slices in their DICOM storage order: columns, rows, then increasing position along
 * the slice normal, which is LPS for an ordinary axial CT); NIfTI is read by `readNifti` (its values
 * become Int16 when that loses nothing). Metadata is de-identified (see `deidentify`); nothing the
 * stage returns or throws carries a patient or institution attribute.
 */
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { HolocaseError } from '../errors.ts';
import type { StageContext } from '../pipeline/context.ts';
import type { VoxelArray } from '../../mesh/grid.ts';
import { readNifti } from './nifti.ts';
import type { Volume } from './volume.ts';
import { extractZip, type ExtractZipOptions } from './zip.ts';
import type { DecodePool } from './dicom/decodePool.ts';
import { describeTally, readDicomSeries, scanFiles, type InputFile } from './dicom/readSeries.ts';
import type { SeriesSummary } from './dicom/series.ts';
import type { AdmitVolume, VolumeLimits } from './volumeLimits.ts';

export type { SeriesSummary } from './dicom/series.ts';

export interface IngestOptions {
  /** Accept a single DICOM slice as a one-slice image (for `inspect`); a case needs a volume. */
  allowSingleSlice?: boolean;
  /** Folder for zip extraction (default: a temporary folder). What ingest unpacks is removed afterwards. */
  workDir?: string;
  /** Limits for zip archives (size, expansion ratio, entries). */
  zip?: ExtractZipOptions;
  /**
   * Per-install secret for shifting study dates (default: `HOLOCASE_DATE_SHIFT_SECRET`); without one,
   * study dates are removed.
   */
  dateShiftSecret?: string;
  /** Worker pool for compressed DICOM frames (default: the process-wide pool). */
  decodePool?: DecodePool;
  /** Size limits, checked from the headers before a voxel is read (default `VOLUME_LIMITS`). */
  limits?: VolumeLimits;
  /**
   * Asked with the volume's shape and modality once its headers are read, before its voxels are read
   * or allocated (memory planning, modality checks); throws to refuse.
   */
  admit?: AdmitVolume;
}

export interface IngestReport {
  format: 'dicom' | 'nifti';
  series?: { chosen: SeriesSummary; skipped: SeriesSummary[] };
  warnings: string[];
}

export interface IngestResult {
  volume: Volume;
  report: IngestReport;
}

const NIFTI_NAME = /\.nii(\.gz)?$/i;
const IGNORED_NAMES = /^(DICOMDIR|\.DS_Store|Thumbs\.db|desktop\.ini)$/i;

/** Names a folder walk and a zip skip: hidden files, macOS resource forks, DICOMDIR and desktop litter. */
function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name === '__MACOSX' || IGNORED_NAMES.test(name);
}

/**
 * Ingests a CT from a path (file, folder, zip) or a list of files. Messages name a file given on its
 * own by its name, and a file inside a folder, a zip or a list by its position ("file 21 of 40"): the
 * names inside an export often carry the patient's name.
 */
export async function ingest(input: string | string[], options: IngestOptions & StageContext = {}): Promise<IngestResult> {
  const dateShiftSecret = options.dateShiftSecret ?? process.env.HOLOCASE_DATE_SHIFT_SECRET;
  const stageOptions = { ...options, dateShiftSecret: dateShiftSecret || undefined };
  const inputs = Array.isArray(input) ? input : [input];
  if (inputs.length === 0) throw new HolocaseError('SERIES_EMPTY', 'no input files were given');
  // 1. One path: NIfTI, zip, folder or a single DICOM file.
  if (inputs.length === 1) {
    const path = inputs[0];
    const kind = await pathKind(path);
    if (kind === 'directory') return ingestFiles(byPosition(await listFolder(path)), 'the folder', stageOptions);
    if (NIFTI_NAME.test(path)) return ingestNifti(path, basename(path), stageOptions);
    if (/\.zip$/i.test(path) || (await startsWithZipMagic(path))) return ingestZip(path, stageOptions);
    return ingestFiles([{ path, label: basename(path), name: basename(path) }], basename(path), stageOptions);
  }
  // 2. A list of files (an upload of many slices); folders in it are walked too.
  const files: InputFile[] = [];
  for (const path of inputs) {
    const kind = await pathKind(path);
    if (kind === 'directory') files.push(...(await listFolder(path)).map((f) => ({ ...f, name: `${basename(path)}/${f.name}` })));
    else files.push({ path, label: basename(path), name: basename(path) });
  }
  return ingestFiles(byPosition(files), `the ${inputs.length} files given`, stageOptions);
}

/** The files labelled by position for messages: "file 21 of 40" ("the file" when it is the only one). */
function byPosition(files: InputFile[]): InputFile[] {
  return files.map((f, i) => ({ ...f, label: files.length === 1 ? 'the file' : `file ${i + 1} of ${files.length}` }));
}

async function pathKind(path: string): Promise<'file' | 'directory'> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) return 'directory';
    if (s.isFile()) return 'file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new HolocaseError('NOT_FOUND', `${basename(path)} does not exist`);
    throw error;
  }
  throw new HolocaseError('UNSUPPORTED_INPUT', `${basename(path)} is neither a file nor a folder`);
}

async function startsWithZipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  } finally {
    await handle.close();
  }
}

/** Every regular file under `root` (recursively), skipping hidden files, DICOMDIR and macOS resource forks. */
export async function listFolder(root: string): Promise<InputFile[]> {
  const out: InputFile[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (isIgnoredName(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.push({ path, label: relative(root, path), name: relative(root, path) });
      else if (entry.isSymbolicLink()) {
        // Follow links to files, never to folders (no loops).
        const target = await stat(path).catch(() => undefined);
        if (target?.isFile()) out.push({ path, label: relative(root, path), name: relative(root, path) });
      }
    }
  }
  await walk(root);
  return out;
}

async function ingestNifti(path: string, name: string, options: IngestOptions & StageContext): Promise<IngestResult> {
  options.onProgress?.({ stage: 'ingest', fraction: 0, message: 'reading NIfTI' });
  const volume = await readNifti(path, { name, limits: options.limits, admit: options.admit });
  const data = toInt16IfLossless(volume.data);
  options.onProgress?.({ stage: 'ingest', fraction: 1, message: 'NIfTI read' });
  return { volume: { ...volume, data }, report: { format: 'nifti', warnings: [] } };
}

/** Int16 when every value is an integer in range (CT in HU usually is); otherwise the array unchanged. */
function toInt16IfLossless(data: VoxelArray): VoxelArray {
  if (data instanceof Int16Array) return data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== Math.trunc(v) || v < -32768 || v > 32767) return data;
  }
  return Int16Array.from(data);
}

async function ingestZip(path: string, options: IngestOptions & StageContext): Promise<IngestResult> {
  const parent = options.workDir ?? tmpdir();
  const dir = await mkdtemp(join(parent, 'holocase-zip-'));
  try {
    options.onProgress?.({ stage: 'ingest', fraction: 0, message: 'unpacking zip' });
    const files = await extractZip(path, join(dir, 'files'), { name: basename(path), ...options.zip });
    // The same files a folder walk skips.
    const wanted = files.filter((f) => !f.entryName.split('/').some(isIgnoredName));
    return await ingestFiles(byPosition(wanted.map((f) => ({ path: f.path, label: f.entryName, name: f.entryName }))), basename(path), options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function ingestFiles(files: InputFile[], where: string, options: IngestOptions & StageContext): Promise<IngestResult> {
  // 1. Look at every file's header.
  const { instances, tally } = await scanFiles(files, { ...options, pool: options.decodePool });
  // 2. Nothing DICOM: a lone NIfTI is fine, otherwise say what was there.
  if (instances.length === 0) {
    if (tally.damaged.length > 0) throw tally.damaged[0].error;
    if (tally.nifti.length === 1) return ingestNifti(tally.nifti[0].path, tally.nifti[0].label, options);
    if (tally.nifti.length > 1) {
      throw new HolocaseError('UNSUPPORTED_INPUT', `${where} holds ${tally.nifti.length} NIfTI files; give holocase one CT at a time`);
    }
    const found = describeTally(tally);
    if (files.length === 1 && tally.other.size === 1) {
      throw new HolocaseError('NOT_DICOM', `${files[0].label} is not a DICOM or NIfTI file (it is ${article([...tally.other.keys()][0])})`);
    }
    throw new HolocaseError(
      'SERIES_EMPTY',
      files.length === 0 ? `no DICOM or NIfTI files found in ${where} (it is empty)` : `no DICOM or NIfTI files found in ${where} (found ${found || `${files.length} other files`})`,
    );
  }
  // 3. The DICOM series.
  const result = await readDicomSeries(instances, tally, { ...options, pool: options.decodePool });
  const warnings = [...result.warnings];
  if (tally.nifti.length > 0) warnings.push(`${tally.nifti.length} NIfTI file${tally.nifti.length === 1 ? ' was' : 's were'} ignored in favour of the DICOM series`);
  return { volume: result.volume, report: { format: 'dicom', series: result.series, warnings } };
}

function article(what: string): string {
  return `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;
}
