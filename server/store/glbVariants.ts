/**
 * Prepares a finished case's GLBs for serving, once, when the case is stored (never per request): for
 * each level of detail (`case.glb` for the desktop, `case-xr.glb` for headsets), a strong ETag from its
 * SHA-256, and gzip / brotli copies beside it only where they make the file clearly smaller
 * (meshopt-compressed GLBs gain little; uncompressed ones gain a lot). What was found is written to
 * `glb-levels.json` in the case folder; the desktop level's figures also go into the case row.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { DETAIL_LEVELS, type DetailLevel } from '../../mesh/detailLevels.ts';
import { exists, GLB_FILES, GLB_LEVELS_FILE } from './caseFolders.ts';

export type GlbEncoding = 'gzip' | 'br';

export interface GlbVariantOptions {
  /** Keep a compressed copy only when it is at most this fraction of the original size. */
  keepRatio: number;
  /** Largest GLB compressed (bigger ones are served as they are). */
  maxBytes: number;
}

export const DEFAULTS: GlbVariantOptions = { keepRatio: 0.9, maxBytes: 512 * 1024 ** 2 };

/** One level's GLB as served. */
export interface GlbFileVariants {
  /** File name in the case folder. */
  file: string;
  bytes: number;
  /** Strong ETag value (with quotes) of the identity encoding. */
  etag: string;
  encodings: GlbEncoding[];
}

export interface GlbVariants extends Omit<GlbFileVariants, 'file'> {
  /** Measured sizes of the desktop GLB, for the log: identity and each tried encoding. */
  sizes: Record<string, number>;
  /** Every level present (a case folder from before levels existed has only the desktop's). */
  levels: Partial<Record<DetailLevel, GlbFileVariants>>;
}

export const ENCODING_SUFFIX: Record<GlbEncoding, string> = { gzip: '.gz', br: '.br' };

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64url');
}

/**
 * 1. Hash the GLB (the ETag).
 * 2. Compress it with gzip (level 9) and brotli (quality 9); keep each copy that saves enough.
 */
async function prepareFile(caseDir: string, file: string, o: GlbVariantOptions): Promise<GlbFileVariants & { sizes: Record<string, number> }> {
  const glbPath = path.join(caseDir, file);
  const bytes = (await stat(glbPath)).size;
  const etag = `"${(await sha256(glbPath)).slice(0, 32)}"`;
  const sizes: Record<string, number> = { identity: bytes };
  const encodings: GlbEncoding[] = [];
  if (bytes <= o.maxBytes) {
    const data = await readFile(glbPath);
    const compressed: Record<GlbEncoding, Buffer> = {
      gzip: await promisify(gzip)(data, { level: 9 }),
      br: await promisify(brotliCompress)(data, {
        params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes },
      }),
    };
    for (const encoding of ['br', 'gzip'] as const) {
      const target = glbPath + ENCODING_SUFFIX[encoding];
      sizes[encoding] = compressed[encoding].length;
      if (compressed[encoding].length <= bytes * o.keepRatio) {
        await writeFile(target, compressed[encoding]);
        encodings.push(encoding);
      } else {
        await rm(target, { force: true });
      }
    }
  }
  return { file, bytes, etag, encodings, sizes };
}

/**
 * 1. Each level's GLB present in the folder: ETag and compressed copies (`prepareFile`).
 * 2. `glb-levels.json` with what was found, so the server can serve every level without hashing.
 */
export async function prepareGlbVariants(caseDir: string, options: Partial<GlbVariantOptions> = {}): Promise<GlbVariants> {
  const o = { ...DEFAULTS, ...options };
  // 1. Levels.
  const levels: GlbVariants['levels'] = {};
  let sizes: Record<string, number> = {};
  for (const level of DETAIL_LEVELS) {
    if (level !== 'desktop' && !(await exists(path.join(caseDir, GLB_FILES[level])))) continue;
    const { sizes: measured, ...variants } = await prepareFile(caseDir, GLB_FILES[level], o);
    levels[level] = variants;
    if (level === 'desktop') sizes = measured;
  }
  // 2. Record.
  await writeFile(path.join(caseDir, GLB_LEVELS_FILE), JSON.stringify(levels, null, 2));
  const { bytes, etag, encodings } = levels.desktop!;
  return { bytes, etag, encodings, sizes, levels };
}

/**
 * What `prepareGlbVariants` recorded for one level of a stored case, or undefined where the case has
 * no such level (a folder from before levels existed: its desktop GLB serves every level).
 */
export async function readGlbLevel(caseDir: string, level: DetailLevel): Promise<GlbFileVariants | undefined> {
  try {
    const levels = JSON.parse(await readFile(path.join(caseDir, GLB_LEVELS_FILE), 'utf8')) as GlbVariants['levels'];
    return levels[level];
  } catch {
    return undefined;
  }
}

/** A level's GLB as the server serves it. */
export interface ServedGlb {
  caseDir: string;
  file: string;
  etag: string;
  encodings: string[];
}

/**
 * The file that serves a level of a stored case: the desktop's from the case row, another level's from
 * what was recorded when the case was stored; a case without that level serves its desktop GLB.
 */
export async function glbFileFor(caseDir: string, c: { glbEtag: string | null; glbEncodings: string[] }, level: DetailLevel): Promise<ServedGlb> {
  const desktop = { caseDir, file: GLB_FILES.desktop, etag: c.glbEtag!, encodings: c.glbEncodings };
  if (level === 'desktop') return desktop;
  const recorded = await readGlbLevel(caseDir, level);
  return recorded ? { caseDir, file: recorded.file, etag: recorded.etag, encodings: recorded.encodings } : desktop;
}
