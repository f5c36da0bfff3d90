/**
 * A large file over HTTP(S) that survives interruptions: bytes go to `<dest>.part`; a dropped
 * connection, a stalled one or a new run continues from the bytes already there (HTTP `Range`), and the
 * file is renamed to `dest` only once its size is the size the server announced. A server that ignores
 * `Range` (answers 200) is read again from the start. Redirects (GitHub's release downloads) are followed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { HolocaseError } from '../../errors.ts';

export interface DownloadProgress {
  /** Bytes of the file on disk so far (resumed bytes included). */
  received: number;
  /** The file's full size, when the server said it. */
  total?: number;
  /** Bytes that were already on disk when this download started. */
  resumedFrom: number;
  /** Average speed of this run, bytes per second. */
  bytesPerSecond: number;
}

export interface DownloadOptions {
  /** Where the finished file goes; the partial file is `<dest>.part` beside it. */
  dest: string;
  /** Called as bytes arrive (at most every `progressIntervalMs`) and once at the end. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Tries in all, each resuming where the last one stopped. */
  attempts?: number;
  /** Wait before a retry (doubles each time). */
  retryDelayMs?: number;
  /** A connection that delivers nothing for this long is dropped and resumed. */
  idleTimeoutMs?: number;
  progressIntervalMs?: number;
  /** Called before a retry, with why (for the log). */
  onRetry?: (attempt: number, reason: string) => void;
  signal?: AbortSignal;
}

export const DOWNLOAD_DEFAULTS = {
  attempts: 5,
  retryDelayMs: 1000,
  idleTimeoutMs: 60_000,
  progressIntervalMs: 200,
} satisfies Partial<DownloadOptions>;

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes that were already on disk from an earlier, interrupted run. */
  resumedFrom: number;
  /** Connections it took. */
  attempts: number;
}

/** The server cannot be reached at all (no network, no DNS, refused): nothing was received. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach ${new URL(url).host} (${reason})`);
    this.name = 'UnreachableError';
  }
}

const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EACCES', 'EPERM']);

/** The system error code under a fetch error (`TypeError: fetch failed` → cause → code). */
function errorCode(error: unknown): string | undefined {
  for (let e = error as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}

/** Size of a file, 0 when it does not exist. */
async function sizeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

/** `bytes 100-199/1000` → start 100, total 1000. */
function parseContentRange(value: string | null): { start: number; total?: number } | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

/** SHA-256 of a file, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads `url` to `options.dest`, resuming from `<dest>.part`. Throws `UnreachableError` when the
 * server cannot be reached at all, and `DOWNLOAD_FAILED` when the server refuses the file or every
 * attempt ends short (the `.part` file stays, so the next run resumes).
 *
 * 1. Ask for the rest of the file (`Range: bytes=<part size>-`), or all of it.
 * 2. 206 with a matching `Content-Range`: append. 200: the server sends everything; start over.
 *    416: the part file is already complete, or wrong (then it is removed and the next try starts over).
 * 3. Stream the body to the part file; a silent connection is aborted after `idleTimeoutMs`.
 * 4. Complete when the part file holds the announced size; otherwise wait and resume.
 * 5. Rename to `dest` and hash it.
 */
export async function downloadResumable(url: string, options: DownloadOptions): Promise<DownloadResult> {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as DownloadOptions;
  const o = { ...DOWNLOAD_DEFAULTS, ...given };
  const part = `${o.dest}.part`;
  const resumedFrom = await sizeOf(part);
  const started = performance.now();
  let total: number | undefined;
  let lastReport = 0;
  let lastError = '';
  let used = 0;
  const report = (received: number, force = false) => {
    const now = performance.now();
    if (!force && now - lastReport < o.progressIntervalMs) return;
    lastReport = now;
    o.onProgress?.({ received, total, resumedFrom, bytesPerSecond: ((received - resumedFrom) * 1000) / Math.max(1, now - started) });
  };

  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    o.signal?.throwIfAborted();
    used = attempt;
    if (attempt > 1) {
      o.onRetry?.(attempt, lastError);
      await new Promise((resolve) => setTimeout(resolve, o.retryDelayMs * 2 ** (attempt - 2)));
    }
    // 1. Request the rest.
    const have = await sizeOf(part);
    const controller = new AbortController();
    const abort = () => controller.abort(o.signal?.reason);
    o.signal?.addEventListener('abort', abort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error(`no data for ${o.idleTimeoutMs / 1000} s`)), o.idleTimeoutMs);
    };
    let received = have;
    let failure: string | undefined;
    try {
      armIdle();
      let response: Response;
      try {
        response = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, redirect: 'follow', signal: controller.signal });
      } catch (error) {
        o.signal?.throwIfAborted();
        const code = errorCode(error);
        if (code && UNREACHABLE_CODES.has(code)) throw new UnreachableError(url, describe(error));
        lastError = describe(error);
        continue;
      }
      // 2. What the server answered.
      let append = false;
      if (response.status === 206) {
        const range = parseContentRange(response.headers.get('content-range'));
        if (!range || range.start !== have) {
          await response.body?.cancel();
          await rm(part, { force: true });
          lastError = `the server resumed at the wrong place (${response.headers.get('content-range')}); starting over`;
          continue;
        }
        total = range.total;
        append = true;
      } else if (response.status === 200) {
        const length = Number(response.headers.get('content-length'));
        total = Number.isFinite(length) && length > 0 ? length : undefined;
        received = 0;
      } else if (response.status === 416) {
        await response.body?.cancel();
        const complete = /^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
        if (complete && Number(complete[1]) === have) {
          total = have;
          break;
        }
        await rm(part, { force: true });
        lastError = 'the server refused to resume; starting over';
        continue;
      } else {
        await response.body?.cancel();
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
          throw new HolocaseError('DOWNLOAD_FAILED', `${url} answered ${response.status} ${response.statusText}: the file is not there (check the address, or HOLOCASE_MODEL_DOWNLOAD_URL if it is set)`);
        }
        lastError = `${response.status} ${response.statusText}`;
        continue;
      }
      // 3. Stream to the part file.
      const file = await open(part, append ? 'a' : 'w');
      try {
        if (!response.body) throw new Error('the response has no body');
        for await (const chunk of response.body) {
          armIdle();
          await file.write(chunk);
          received += chunk.byteLength;
          report(received);
        }
      } finally {
        await file.close();
      }
    } catch (error) {
      if (error instanceof UnreachableError || error instanceof HolocaseError) throw error;
      o.signal?.throwIfAborted();
      failure = describe(error);
    } finally {
      clearTimeout(idle);
      o.signal?.removeEventListener('abort', abort);
    }
    // 4. Complete?
    const size = await sizeOf(part);
    if (!failure && (total === undefined || size === total)) {
      total = size;
      break;
    }
    if (total !== undefined && size > total) {
      await rm(part, { force: true });
      lastError = `received ${size} bytes, more than the ${total} announced`;
    } else {
      lastError = `the connection ended after ${size} of ${total ?? 'an unknown number of'} bytes${failure ? `: ${failure}` : ''}`;
    }
  }
  const bytes = await sizeOf(part);
  if (total === undefined || bytes !== total) {
    throw new HolocaseError(
      'DOWNLOAD_FAILED',
      `downloading ${url} failed after ${o.attempts} tries (${lastError}); ${bytes > 0 ? `${bytes} bytes are kept in ${part}: run the same command again to resume` : 'nothing was saved'}`,
    );
  }
  report(bytes, true);
  // 5. Done: the finished name, and its hash.
  await rename(part, o.dest);
  return { path: o.dest, bytes, sha256: await sha256File(o.dest), resumedFrom, attempts: used };
}
