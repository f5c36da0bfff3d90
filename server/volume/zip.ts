/**
 * Unpacking an uploaded `.zip` safely with `yauzl`. The whole central directory is checked before a
 * single byte is written: an entry whose name climbs out of the folder (`../`), is absolute (`/x`,
 * `C:\x`, `\\server\x`), uses backslashes, or is a symbolic link makes the archive refused; so does an
 * archive that would unpack to more than the size limit, or an entry that expands more than the ratio
 * limit (a zip bomb). Sizes are enforced again while inflating, entries are streamed to disk one at a
 * time (never the whole archive in memory), and each is written under a generated name inside the
 * destination folder, so no entry name ever becomes a path. Messages name entries by position ("entry 3
 * of 40"), never by name: the names in a hospital's export often carry the patient's name. On any
 * failure the destination is removed.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { HolocaseError, isDiskFull } from '../errors.ts';

export interface ExtractZipOptions {
  /** Most bytes the archive may unpack to in total (default 2 GiB). */
  maxTotalBytes?: number;
  /** Most an entry may expand (uncompressed ÷ compressed; default 100). */
  maxRatio?: number;
  /** Entries smaller than this (uncompressed) are exempt from the ratio check (default 1 MiB). */
  ratioMinBytes?: number;
  /** Most entries (default 100 000). */
  maxEntries?: number;
  /** Name for messages (default: "the zip archive"). */
  name?: string;
}

export const EXTRACT_ZIP_DEFAULTS = {
  maxTotalBytes: 2 * 1024 ** 3,
  maxRatio: 100,
  ratioMinBytes: 1024 ** 2,
  maxEntries: 100_000,
  name: 'the zip archive',
} satisfies Required<ExtractZipOptions>;

export interface ExtractedFile {
  /** Where the entry was written. */
  path: string;
  /** The entry's name inside the archive: file-type hints and order only, never in a message. */
  entryName: string;
}

interface CheckedEntry {
  entry: Entry;
  name: string;
  /** How messages name it: "entry 3 of 40" (entry names often carry the patient's name). */
  label: string;
  directory: boolean;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function gib(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${Math.round(n / 1024 ** 2)} MB`;
}

/** Why an entry name is unsafe to unpack, or undefined when it is a plain relative path. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'uses backslashes (a Windows path that could climb out of the folder)';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[a-zA-Z]:/.test(name)) return 'starts with a drive letter';
  if (name.split('/').some((part) => part === '..')) return 'climbs out of the folder (..)';
  return undefined;
}

/**
 * Unpacks `zipPath` into `destDir` (created; must not exist or be empty). Throws `ZIP_MALFORMED`,
 * `ZIP_UNSAFE_PATH` or `ZIP_TOO_LARGE`; on any failure `destDir` is removed again.
 */
export async function extractZip(zipPath: string, destDir: string, options: ExtractZipOptions = {}): Promise<ExtractedFile[]> {
  const o = { ...EXTRACT_ZIP_DEFAULTS, ...options };
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true });
  } catch (error) {
    throw new HolocaseError('ZIP_MALFORMED', `${o.name} is not a readable zip archive (${withoutEntryNames((error as Error).message)})`);
  }
  try {
    // 1. Read and check the whole central directory first: nothing is written for a bad archive.
    const entries = await checkCentralDirectory(zip, o);
    // 2. Stream each file entry to a generated name inside destDir.
    await mkdir(destDir, { recursive: true });
    let total = 0;
    const files: ExtractedFile[] = [];
    let index = 0;
    for (const { entry, name, label, directory } of entries) {
      if (directory) continue;
      // Only the extension of the entry's name survives into the generated name (a type hint).
      const extension = /\.(nii\.gz|nii|dcm|dicom|ima|zip)$/i.exec(name)?.[0].toLowerCase() ?? '';
      const path = join(destDir, `${String(index++).padStart(6, '0')}${extension}`);
      total = await writeEntry(zip, entry, label, path, total, o);
      files.push({ path, entryName: name });
    }
    return files;
  } catch (error) {
    await rm(destDir, { recursive: true, force: true });
    // Our own refusals, and a full disk (the archive is fine; the caller says what to do), as they are.
    if (error instanceof HolocaseError || isDiskFull(error)) throw error;
    throw new HolocaseError('ZIP_MALFORMED', `${o.name} is damaged (${withoutEntryNames((error as Error).message)})`);
  } finally {
    zip.close();
  }
}

/**
 * What yauzl says about a damaged archive, without the entry name some of its messages quote
 * ("invalid relative path: DOE^JANE/…"): everything after the first colon goes.
 */
function withoutEntryNames(message: string): string {
  return /file ?name|path|entry/i.test(message) ? message.replace(/:.*$/s, '') : message;
}

async function checkCentralDirectory(zip: ZipFile, o: Required<ExtractZipOptions>): Promise<CheckedEntry[]> {
  if (zip.entryCount > o.maxEntries) {
    throw new HolocaseError('ZIP_TOO_LARGE', `${o.name} holds ${zip.entryCount} entries, more than the ${o.maxEntries} holocase accepts`);
  }
  const checked: CheckedEntry[] = [];
  let declared = 0;
  for await (const entry of zip.eachEntry()) {
    const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, true);
    const label = `entry ${checked.length + 1} of ${zip.entryCount}`;
    const unsafe = unsafeEntryName(name);
    if (unsafe) throw new HolocaseError('ZIP_UNSAFE_PATH', `${o.name} was refused: its ${label} ${unsafe}; nothing was unpacked`);
    const madeByUnix = entry.versionMadeBy >> 8 === 3;
    if (madeByUnix && ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
      throw new HolocaseError('ZIP_UNSAFE_PATH', `${o.name} was refused: its ${label} is a symbolic link; nothing was unpacked`);
    }
    const directory = name.endsWith('/');
    if (!directory) {
      if (entry.isEncrypted()) throw new HolocaseError('ZIP_MALFORMED', `${o.name} holds encrypted entries (${label}); upload an unencrypted archive`);
      if (!entry.canDecodeFileData()) throw new HolocaseError('ZIP_MALFORMED', `${o.name} uses a compression method holocase cannot unpack (method ${entry.compressionMethod}, ${label})`);
      const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
      if (entry.uncompressedSize > o.ratioMinBytes && ratio > o.maxRatio) {
        throw new HolocaseError(
          'ZIP_TOO_LARGE',
          `${o.name} was refused: its ${label} would expand ${Math.round(ratio)}-fold (${gib(entry.uncompressedSize)} from ${entry.compressedSize} bytes), more than ${o.maxRatio}:1 — it looks like a zip bomb`,
        );
      }
      declared += entry.uncompressedSize;
      if (declared > o.maxTotalBytes) {
        throw new HolocaseError('ZIP_TOO_LARGE', `${o.name} was refused: it would unpack to more than ${gib(o.maxTotalBytes)} (its directory declares at least ${gib(declared)})`);
      }
    }
    checked.push({ entry, name, label, directory });
  }
  return checked;
}

/** Streams one entry to `path` (a new file), counting bytes against the entry's and the archive's limits. */
async function writeEntry(zip: ZipFile, entry: Entry, label: string, path: string, totalBefore: number, o: Required<ExtractZipOptions>): Promise<number> {
  let total = totalBefore;
  let written = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      total += chunk.length;
      if (written > entry.uncompressedSize) {
        callback(new HolocaseError('ZIP_TOO_LARGE', `${o.name} was refused: its ${label} unpacks to more than its declared size`));
      } else if (total > o.maxTotalBytes) {
        callback(new HolocaseError('ZIP_TOO_LARGE', `${o.name} was refused: it unpacks to more than ${gib(o.maxTotalBytes)}`));
      } else {
        callback(null, chunk);
      }
    },
  });
  const source = await zip.openReadStreamPromise(entry);
  // `wx`: never overwrite or follow anything already there.
  await pipeline(source, limit, createWriteStream(path, { flags: 'wx' }));
  return total;
}
