/**
 * Prepares a finished `case.glb` for serving, once, when the case is stored (never per request):
 * a strong ETag from its SHA-256, and gzip / brotli copies beside it only where they make the file
 * clearly smaller (meshopt-compressed GLBs gain little; uncompressed ones gain a lot).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { CASE_FILES } from './caseFolders.ts';

export type GlbEncoding = 'gzip' | 'br';

export interface GlbVariantOptions {
  /** Keep a compressed copy only when it is at most this fraction of the original size. */
  keepRatio: number;
  /** Largest GLB compressed (bigger ones are served as they are). */
  maxBytes: number;
}

export const DEFAULTS: GlbVariantOptions = { keepRatio: 0.9, maxBytes: 512 * 1024 ** 2 };

export interface GlbVariants {
  bytes: number;
  /** Strong ETag value (with quotes) of the identity encoding. */
  etag: string;
  encodings: GlbEncoding[];
  /** Measured sizes, for the log: identity and each tried encoding. */
  sizes: Record<string, number>;
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
export async function prepareGlbVariants(caseDir: string, options: Partial<GlbVariantOptions> = {}): Promise<GlbVariants> {
  const o = { ...DEFAULTS, ...options };
  const glbPath = path.join(caseDir, CASE_FILES.glb);
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
  return { bytes, etag, encodings, sizes };
}
