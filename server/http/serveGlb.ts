/**
 * A case's GLB as an HTTP response: strong `ETag` (computed once when the case was stored),
 * `If-None-Match` → 304, single `Range` → 206 / 416 (with `If-Range`), a precompressed gzip/brotli copy
 * when the client accepts it and one was kept, `HEAD`, and `Vary: Accept-Encoding`. `no-transform`
 * keeps Next's own compression from re-encoding the stream.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HolocaseError } from '../errors.ts';
import { CASE_FILES } from '../store/caseFolders.ts';
import { ENCODING_SUFFIX, type GlbEncoding } from '../store/glbVariants.ts';

export interface GlbFile {
  caseDir: string;
  /** File name in the case folder (default `case.glb`). */
  file?: string;
  /** Strong ETag of the identity bytes, quoted. */
  etag: string;
  encodings: string[];
}

export interface ServeGlbOptions {
  /** `Cache-Control` value (without `no-transform`, which is added). */
  cacheControl: string;
}

function etagFor(etag: string, encoding: GlbEncoding | undefined): string {
  return encoding ? `${etag.slice(0, -1)}-${encoding}"` : etag;
}

/** The preferred encoding the client accepts (q > 0) among those stored. */
function chooseEncoding(acceptEncoding: string | null, stored: string[]): GlbEncoding | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name!, q ? Number(q.slice(2)) : 1);
  }
  for (const encoding of ['br', 'gzip'] as const) {
    if (!stored.includes(encoding)) continue;
    const q = accepted.get(encoding) ?? (accepted.get('*') ?? 0);
    if (q > 0) return encoding;
  }
  return undefined;
}

function matchesAny(header: string | null, etags: string[]): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const wanted = header.split(',').map((t) => t.trim().replace(/^W\//, ''));
  return wanted.some((t) => etags.includes(t));
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range only) → inclusive [start, end], or 'unsatisfiable'. */
function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

/**
 * 1. Conditional: any of our ETags in `If-None-Match` → 304.
 * 2. Range (identity only; ignored when `If-Range` names another version) → 206 or 416.
 * 3. Otherwise the whole file, precompressed when accepted.
 */
export async function serveGlb(request: Request, file: GlbFile, options: ServeGlbOptions): Promise<Response> {
  const glbPath = path.join(file.caseDir, file.file ?? CASE_FILES.glb);
  const size = await stat(glbPath).then(
    (s) => s.size,
    () => {
      throw new HolocaseError('NOT_FOUND', 'the model of this case is not available');
    },
  );
  const headers = new Headers({
    'Content-Type': 'model/gltf-binary',
    'Cache-Control': `${options.cacheControl}, no-transform`,
    'Accept-Ranges': 'bytes',
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
  });
  const head = request.method === 'HEAD';
  const allEtags = [file.etag, ...file.encodings.map((e) => etagFor(file.etag, e as GlbEncoding))];
  if (matchesAny(request.headers.get('if-none-match'), allEtags)) {
    headers.set('ETag', file.etag);
    return new Response(null, { status: 304, headers });
  }

  const rangeHeader = request.headers.get('range');
  const ifRange = request.headers.get('if-range');
  if (rangeHeader && (!ifRange || ifRange === file.etag)) {
    const range = parseRange(rangeHeader, size);
    if (range === 'unsatisfiable') {
      headers.set('Content-Range', `bytes */${size}`);
      return new Response(null, { status: 416, headers });
    }
    if (range) {
      const [start, end] = range;
      headers.set('ETag', file.etag);
      headers.set('Content-Range', `bytes ${start}-${end}/${size}`);
      headers.set('Content-Length', String(end - start + 1));
      const body = head ? null : (Readable.toWeb(createReadStream(glbPath, { start, end })) as ReadableStream);
      return new Response(body, { status: 206, headers });
    }
  }

  const encoding = chooseEncoding(request.headers.get('accept-encoding'), file.encodings);
  const servedPath = encoding ? glbPath + ENCODING_SUFFIX[encoding] : glbPath;
  const servedSize = encoding ? (await stat(servedPath)).size : size;
  headers.set('ETag', etagFor(file.etag, encoding));
  headers.set('Content-Length', String(servedSize));
  if (encoding) headers.set('Content-Encoding', encoding);
  const body = head ? null : (Readable.toWeb(createReadStream(servedPath)) as ReadableStream);
  return new Response(body, { status: 200, headers });
}
