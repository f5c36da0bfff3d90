/**
 * A small pool of worker threads that decode compressed frames in parallel (JPEG 2000 decodes at
 * 14–24 slices/s per core, so a series needs every core). Workers start on demand, up to
 * `os.availableParallelism()`, keep their codecs loaded between frames, and stop after a short idle
 * time; while idle they do not hold the process open, so CLI commands exit as soon as they are done.
 * A frame that crashes or hangs its decoder fails alone, with a message naming it, and the worker is
 * replaced. Where workers cannot start at all, frames are decoded on the calling thread.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { HolocaseError, type ErrorCode } from '../../errors.ts';
import { startTsWorker } from '../../workers/startTsWorker.ts';
import { decodeFrame } from './decodeFrame.ts';
import type { PixelLayout } from './imageHeader.ts';
import { writeHounsfield, type HounsfieldOptions } from './pixelValues.ts';
import type { TransferSyntax } from './transferSyntax.ts';

/** One frame to decode. */
export interface DecodeJob {
  encoded: Uint8Array;
  transferSyntax: TransferSyntax;
  layout: PixelLayout;
  /** Name for error messages, e.g. "slice 12 of 120". */
  name: string;
  /** Convert to Hounsfield units (Int16) in the worker; otherwise stored sample bytes come back. */
  hounsfield?: HounsfieldOptions;
}

export interface DecodeResult {
  /** Int16 Hounsfield units when `hounsfield` was given, otherwise little-endian stored sample bytes. */
  pixels: Int16Array | Uint8Array;
  /** Values clamped to the Int16 range. */
  clamped: number;
}

/** Message to a worker (internal to the pool and `decodeWorker.ts`). */
export interface DecodeRequest {
  id: number;
  encoded: Uint8Array;
  transferSyntaxUid: string;
  layout: PixelLayout;
  name: string;
  hounsfield?: HounsfieldOptions;
}

/** Message from a worker. */
export type DecodeReply =
  | { id: number; ok: true; pixels: Int16Array | Uint8Array; clamped: number }
  | { id: number; ok: false; code?: ErrorCode; message: string };

export interface DecodePoolOptions {
  /** Most worker threads (default: `os.availableParallelism()`). */
  size?: number;
  /** Stop the workers after this long without work (ms). */
  idleMs?: number;
  /** Abandon a frame (and replace its worker) after this long (ms): a decoder that hangs fails alone. */
  taskTimeoutMs?: number;
  /** Module the worker threads run (default `decodeWorker.ts` beside this file, e.g. for bundled builds). */
  workerEntry?: URL;
}

export const DECODE_POOL_DEFAULTS = {
  size: availableParallelism(),
  idleMs: 3000,
  taskTimeoutMs: 60_000,
  workerEntry: new URL('./decodeWorker.ts', import.meta.url),
} satisfies Required<DecodePoolOptions>;

export interface DecodePool {
  readonly size: number;
  decode(job: DecodeJob): Promise<DecodeResult>;
  /**
   * Starts every worker thread now, so that they load their code while the caller is still reading
   * headers; unused, they stop after the idle time as usual.
   */
  prestart(): void;
  /** Stops all workers; pending frames are rejected. */
  close(): Promise<void>;
}

interface Pending {
  request: DecodeRequest;
  job: DecodeJob;
  resolve: (result: DecodeResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  current?: Pending;
  timer?: NodeJS.Timeout;
  /** The worker has answered at least once (it started properly). */
  proven: boolean;
}

/** Creates a decode pool. Workers start only when frames arrive. */
export function createDecodePool(options: DecodePoolOptions = {}): DecodePool {
  const { size, idleMs, taskTimeoutMs, workerEntry } = { ...DECODE_POOL_DEFAULTS, ...options };
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  let nextId = 1;
  let idleTimer: NodeJS.Timeout | undefined;
  let inline = false;
  let closed = false;

  function spawn(): Slot {
    const worker = startTsWorker(workerEntry, {});
    const slot: Slot = { worker, proven: false };
    worker.on('message', (reply: DecodeReply) => finish(slot, reply));
    worker.on('error', (error) => fault(slot, error));
    worker.on('exit', (code) => {
      if (slots.includes(slot)) fault(slot, new Error(`decoder thread stopped (exit code ${code})`));
    });
    slots.push(slot);
    return slot;
  }

  function remove(slot: Slot): void {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    if (slot.timer) clearTimeout(slot.timer);
  }

  function finish(slot: Slot, reply: DecodeReply): void {
    const pending = slot.current;
    if (!pending || pending.request.id !== reply.id) return;
    slot.proven = true;
    clearTimeout(slot.timer);
    slot.current = undefined;
    if (reply.ok) pending.resolve({ pixels: reply.pixels, clamped: reply.clamped });
    else pending.reject(reply.code ? new HolocaseError(reply.code, reply.message) : new HolocaseError('DICOM_DECODE_FAILED', `${pending.job.name} could not be decoded: ${reply.message}`));
    pump();
  }

  function fault(slot: Slot, error: Error): void {
    if (!slots.includes(slot)) return;
    remove(slot);
    void slot.worker.terminate();
    const pending = slot.current;
    slot.current = undefined;
    if (!slot.proven && slots.every((s) => !s.proven)) {
      // Workers cannot start here (e.g. no loader for TypeScript): decode on this thread instead.
      inline = true;
      if (pending) runInline(pending);
      for (const waiting of queue.splice(0)) runInline(waiting);
      return;
    }
    pending?.reject(new HolocaseError('DICOM_DECODE_FAILED', `${pending.job.name} could not be decoded: the decoder failed (${error.message})`));
    pump();
  }

  function runInline(pending: Pending): void {
    decodeInline(pending.job).then(pending.resolve, pending.reject);
  }

  function pump(): void {
    if (closed) return;
    while (queue.length > 0) {
      let slot = slots.find((s) => !s.current);
      if (!slot && slots.length < size) slot = spawn();
      if (!slot) break;
      const pending = queue.shift()!;
      slot.current = pending;
      slot.worker.ref();
      slot.timer = setTimeout(() => {
        if (slot!.current !== pending) return;
        remove(slot!);
        void slot!.worker.terminate();
        pending.reject(new HolocaseError('DICOM_DECODE_FAILED', `${pending.job.name} could not be decoded: the decoder took longer than ${Math.round(taskTimeoutMs / 1000)} s`));
        pump();
      }, taskTimeoutMs);
      try {
        // Copied, not transferred: the frame must stay here in case this thread has to decode it.
        slot.worker.postMessage(pending.request);
      } catch (error) {
        clearTimeout(slot.timer);
        slot.current = undefined;
        pending.reject(new HolocaseError('DICOM_DECODE_FAILED', `${pending.job.name} could not be sent to a decoder thread (${(error as Error).message})`));
      }
    }
    // Idle workers must not keep the process alive; stop them all after a quiet spell.
    for (const s of slots) if (!s.current) s.worker.unref();
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
    if (slots.length > 0 && slots.every((s) => !s.current) && queue.length === 0) {
      idleTimer = setTimeout(() => {
        for (const s of slots.splice(0)) void s.worker.terminate();
      }, idleMs);
      idleTimer.unref();
    }
  }

  return {
    size,
    decode(job: DecodeJob): Promise<DecodeResult> {
      if (closed) return Promise.reject(new Error('decode pool is closed'));
      return new Promise<DecodeResult>((resolve, reject) => {
        // A view into a larger file buffer is copied first: posting a view clones its whole buffer.
        const whole = job.encoded.byteOffset === 0 && job.encoded.byteLength === job.encoded.buffer.byteLength;
        const encoded = whole ? job.encoded : new Uint8Array(job.encoded);
        const request: DecodeRequest = { id: nextId++, encoded, transferSyntaxUid: job.transferSyntax.uid, layout: job.layout, name: job.name, hounsfield: job.hounsfield };
        const pending: Pending = { request, job: { ...job, encoded }, resolve, reject };
        if (inline) runInline(pending);
        else {
          queue.push(pending);
          pump();
        }
      });
    },
    prestart(): void {
      if (closed || inline) return;
      while (slots.length < size) spawn();
      pump();
    },
    async close(): Promise<void> {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      for (const pending of queue.splice(0)) pending.reject(new Error('decode pool closed'));
      const stopping = slots.splice(0).map((s) => {
        if (s.timer) clearTimeout(s.timer);
        s.current?.reject(new Error('decode pool closed'));
        return s.worker.terminate();
      });
      await Promise.all(stopping);
    },
  };
}

/** Decodes one frame on the calling thread (the same work a pool worker does). */
export async function decodeInline(job: DecodeJob): Promise<DecodeResult> {
  const bytes = await decodeFrame(job.encoded, job.transferSyntax, job.layout, job.name);
  if (!job.hounsfield) return { pixels: bytes, clamped: 0 };
  const out = new Int16Array(job.layout.rows * job.layout.columns);
  const clamped = writeHounsfield(bytes, job.layout, out, 0, job.hounsfield);
  return { pixels: out, clamped };
}

// The process-wide pool used by ingest: one set of decoder threads however many series are read at
// once. It stops its workers when idle, so holding it costs nothing between uses.
let shared: DecodePool | undefined;

export function sharedDecodePool(): DecodePool {
  shared ??= createDecodePool();
  return shared;
}

/** Stops the shared pool's workers now (tests, and processes that want to exit at once). */
export async function closeSharedDecodePool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
