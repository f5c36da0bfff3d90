/**
 * Streams a case upload to disk — a multipart form (`files` parts: DICOM files, a zip or a NIfTI;
 * fields `label`, `model`, `teamShared`) or a raw `.zip`/`.nii`/`.nii.gz` body — never holding a study
 * in memory. Original file names are never used or kept: parts are stored as `part-000001.<kind>` by
 * what their bytes are. Over the size limit → 413 (from `Content-Length` before reading, or as soon as
 * the streamed bytes pass it); nothing recognisable → 415; a form without a boundary → 400; nothing
 * received for `idleMs` → 408; the disk full → 507. Whatever the failure, the folder is removed.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import { HolocaseError, isDiskFull } from '../errors.ts';
import { KIND_EXTENSION, sniffInput } from './sniffInput.ts';

export interface ReceiveUploadOptions {
  /** Folder for this upload (created; removed again on failure). */
  dir: string;
  /** Largest total upload in bytes. */
  maxBytes: number;
  /** Most files in one multipart upload. */
  maxFiles?: number;
  /** An upload that sends nothing for this long (ms) is dropped with 408 (default 2 minutes). */
  idleMs?: number;
}

export const DEFAULTS = { maxFiles: 50_000, idleMs: 120_000 } as const;

export interface ReceivedUpload {
  /** Files kept (recognised as DICOM, zip or NIfTI). */
  files: number;
  /** Files dropped as unrecognisable (stray files in an exported folder). */
  ignored: number;
  bytes: number;
  /** Form fields (multipart) or query parameters (raw body). */
  fields: Record<string, string>;
}

const FIELDS = new Set(['label', 'model', 'teamShared']);

function tooLarge(maxBytes: number): HolocaseError {
  const gib = maxBytes / 1024 ** 3;
  const limit = gib >= 1 ? `${gib.toFixed(gib % 1 ? 1 : 0)} GiB` : `${Math.round(maxBytes / 1024 ** 2)} MiB`;
  return new HolocaseError('INPUT_TOO_LARGE', `the upload is larger than this server accepts (${limit})`);
}

/** Counts bytes across all parts and fails the stream once the total passes the limit. */
function byteCounter(state: { bytes: number }, maxBytes: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      state.bytes += chunk.length;
      if (state.bytes > maxBytes) callback(tooLarge(maxBytes));
      else callback(null, chunk);
    },
  });
}

function partName(index: number): string {
  return `part-${String(index).padStart(6, '0')}`;
}

/**
 * A message about stored upload parts in the uploader's terms: "part-000001.nii.gz" is "the uploaded
 * file" when there was one, else "uploaded file 1" (the order the browser sent them in).
 */
export function inUploadTerms(message: string, partCount: number): string {
  return message.replace(/\bpart-0*(\d+)(?:\.[A-Za-z0-9]+)*/g, (_, n: string) => (partCount === 1 ? 'the uploaded file' : `uploaded file ${n}`));
}

/**
 * A promise that rejects with 408 once no bytes have arrived on `body` for `idleMs` (a client that
 * stalls, or a connection that died without closing). Racing it matters: destroying a stream made
 * from a Web request body waits for the body to be cancelled, which a stalled body never is.
 */
function idleTimeout(body: Readable, idleMs: number): { expired: Promise<never>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let fail: (error: HolocaseError) => void = () => {};
  const expired = new Promise<never>((_, reject) => (fail = reject));
  expired.catch(() => {}); // handled by the race; never an unhandled rejection once stopped
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fail(new HolocaseError('UPLOAD_TIMEOUT', `the upload stopped: nothing arrived for ${Math.round(idleMs / 1000)} s; send it again`));
      body.destroy();
    }, idleMs);
    timer.unref();
  };
  arm();
  body.on('data', arm);
  return {
    expired,
    stop: () => {
      clearTimeout(timer);
      body.off('data', arm);
    },
  };
}

/** Why a file could not be written, for the uploader: a full disk is the server's fault (507). */
function describeWriteFailure(error: unknown): unknown {
  if (isDiskFull(error)) {
    return new HolocaseError('DISK_FULL', 'the server is out of disk space, so the upload could not be kept; tell the administrator, then send it again', { cause: error });
  }
  return error;
}

async function receiveMultipart(request: Request, body: Readable, o: Required<ReceiveUploadOptions>, state: { bytes: number }) {
  const fields: Record<string, string> = {};
  const writes: Promise<void>[] = [];
  let index = 0;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': request.headers.get('content-type') ?? '' },
      limits: { files: o.maxFiles, fields: 20, fieldSize: 4096, parts: o.maxFiles + 20 },
    });
  } catch (error) {
    // A multipart content type without a (valid) boundary: nothing can be read from the body.
    throw new HolocaseError('BAD_REQUEST', `the form data could not be read (${(error as Error).message.replace(/^Multipart: /, '')}); send it as multipart/form-data with a boundary`);
  }
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    body.unpipe(parser);
    body.destroy();
  };
  parser.on('field', (name, value) => {
    if (FIELDS.has(name)) fields[name] = value;
  });
  parser.on('file', (name, stream) => {
    if (name !== 'files' || failure) {
      stream.resume();
      return;
    }
    index += 1;
    const target = path.join(o.dir, partName(index));
    writes.push(pipeline(stream, byteCounter(state, o.maxBytes), createWriteStream(target, { mode: 0o600 })).catch((error) => fail(describeWriteFailure(error))));
  });
  parser.on('filesLimit', () => fail(new HolocaseError('INPUT_TOO_LARGE', `an upload may hold at most ${o.maxFiles} files`)));
  await new Promise<void>((resolve, reject) => {
    parser.on('close', resolve);
    parser.on('error', (error) => reject(failure ?? new HolocaseError('BAD_REQUEST', `the form data could not be read (${(error as Error).message})`)));
    body.on('error', (error) => reject(failure ?? error));
    body.on('close', () => {
      if (failure) reject(failure);
    });
    body.pipe(parser);
  });
  await Promise.all(writes);
  if (failure) throw failure;
  return fields;
}

/**
 * 1. Refuse at once when `Content-Length` is over the limit.
 * 2. Stream the parts (or the raw body) into `dir`, counting bytes.
 * 3. Sniff each file; keep the recognised ones under their kind's extension, drop the rest.
 */
export async function receiveUpload(request: Request, options: ReceiveUploadOptions): Promise<ReceivedUpload> {
  const o = { ...DEFAULTS, ...options };
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > o.maxBytes) throw tooLarge(o.maxBytes);
  if (!request.body) throw new HolocaseError('UNSUPPORTED_INPUT', 'the upload is empty: send DICOM files, a .zip or a NIfTI file');
  const state = { bytes: 0 };
  let idle: ReturnType<typeof idleTimeout> | undefined;
  try {
    await mkdir(o.dir, { recursive: true, mode: 0o700 });
    const body = Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>);
    idle = idleTimeout(body, o.idleMs);
    const contentType = request.headers.get('content-type') ?? '';
    const receive = async (): Promise<Record<string, string>> => {
      if (contentType.toLowerCase().startsWith('multipart/form-data')) return receiveMultipart(request, body, o, state);
      await pipeline(body, byteCounter(state, o.maxBytes), createWriteStream(path.join(o.dir, partName(1)), { mode: 0o600 }));
      const query = new URL(request.url).searchParams;
      return Object.fromEntries([...query].filter(([k]) => FIELDS.has(k)));
    };
    const receiving = receive();
    // Once the idle timeout has answered, what the stalled body does later must not go unhandled.
    receiving.catch(() => {});
    const fields = await Promise.race([receiving, idle.expired]);
    idle.stop();
    let files = 0;
    let ignored = 0;
    for (const name of (await readdir(o.dir)).sort()) {
      const file = path.join(o.dir, name);
      const kind = await sniffInput(file);
      if (kind) {
        await rename(file, file + KIND_EXTENSION[kind]);
        files += 1;
      } else {
        await rm(file, { force: true });
        ignored += 1;
      }
    }
    if (files === 0) {
      throw new HolocaseError(
        'UNSUPPORTED_INPUT',
        ignored > 0
          ? 'none of the uploaded files is a DICOM image, a .zip archive or a NIfTI (.nii/.nii.gz) volume'
          : 'the upload is empty: send DICOM files, a .zip or a NIfTI file',
      );
    }
    return { files, ignored, bytes: state.bytes, fields };
  } catch (error) {
    idle?.stop();
    await rm(o.dir, { recursive: true, force: true });
    throw describeWriteFailure(error);
  }
}
