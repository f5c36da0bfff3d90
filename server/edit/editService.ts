/**
 * The server's side of the editor's heavy operations: one worker thread (started on first use, ended
 * after `idleMs` without work) runs them one at a time (`editWorker.ts`). Requests carry the label map
 * of a box of the CT grid; nothing is stored — the browser shows the result and saves a revision when
 * the user accepts it.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Vec3 } from '../../mesh/grid.ts';
import { HolocaseError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';

/** Voxel bounds on the CT grid: [i0, j0, k0, i1, j1, k1], end exclusive. */
export type Box = [number, number, number, number, number, number];

interface BoxRequest {
  box: Box;
  /** Labels over the box (seeds for grow), uint16, x fastest. */
  labels: ArrayBuffer;
}

export type EditRequest =
  | (BoxRequest & { op: 'grow'; ctFile: string; huRange?: [number, number] })
  | (BoxRequest & { op: 'islands'; label: number; mode: 'keep-largest' | 'remove-small'; minVoxels?: number })
  | (BoxRequest & { op: 'fill-between'; label: number; axis: 0 | 1 | 2; spacing: Vec3 });

export interface EditResult {
  labels: Uint16Array;
  stats: Record<string, unknown>;
}

export interface EditServiceOptions {
  projectRoot: string;
  log: Logger;
  /** The worker (and the CT it keeps) is let go after this long without a request. */
  idleMs?: number;
}

export const EDIT_SERVICE_DEFAULTS = { idleMs: 120_000, maxBoxVoxels: 400 ** 3 };

export interface EditService {
  run(request: EditRequest): Promise<EditResult>;
  close(): Promise<void>;
}

/** Checks a box against the CT grid and the size limit; returns its voxel count. */
export function boxVoxels(box: Box, dims: Vec3, maxVoxels = EDIT_SERVICE_DEFAULTS.maxBoxVoxels): number {
  for (let a = 0; a < 3; a++) {
    if (!(box[a]! >= 0 && box[a]! < box[a + 3]! && box[a + 3]! <= dims[a])) {
      throw new HolocaseError('BAD_REQUEST', `box [${box.join(', ')}] is not inside the CT grid ${dims.join('×')} (i0 < i1 ≤ nx, …)`);
    }
  }
  const count = (box[3] - box[0]) * (box[4] - box[1]) * (box[5] - box[2]);
  if (count > maxVoxels) throw new HolocaseError('INPUT_TOO_LARGE', `the box holds ${count} voxels; at most ${maxVoxels} are grown at once — draw a smaller region`);
  return count;
}

export function createEditService(o: EditServiceOptions): EditService {
  const idleMs = o.idleMs ?? EDIT_SERVICE_DEFAULTS.idleMs;
  const boot = path.join(/* turbopackIgnore: true */ o.projectRoot, 'server', 'workers', 'boot.mjs');
  const entry = pathToFileURL(path.join(/* turbopackIgnore: true */ o.projectRoot, 'server', 'edit', 'editWorker.ts')).href;
  let worker: Worker | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: EditResult) => void; reject: (e: unknown) => void }>();
  let chain: Promise<unknown> = Promise.resolve();

  function start(): Worker {
    const w = new Worker(boot, { workerData: { entry } });
    w.on('message', (m: { id: number; ok: boolean; labels?: ArrayBuffer; stats?: Record<string, unknown>; error?: { code: string; message: string }; detail?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve({ labels: new Uint16Array(m.labels!), stats: m.stats ?? {} });
      else {
        if (m.error?.code === 'INTERNAL') o.log.error({ detail: m.detail }, 'edit operation failed');
        p.reject(new HolocaseError((m.error?.code ?? 'BAD_REQUEST') as ErrorCode, m.error?.message ?? 'the operation failed'));
      }
    });
    const fail = (error: unknown) => {
      o.log.error({ err: error }, 'edit worker stopped');
      for (const p of pending.values()) p.reject(new HolocaseError('CONFLICT', 'the operation was interrupted; try again'));
      pending.clear();
      worker = undefined;
    };
    w.on('error', fail);
    w.on('exit', () => {
      if (worker === w) fail(new Error('edit worker exited'));
    });
    return w;
  }

  function send(request: EditRequest): Promise<EditResult> {
    clearTimeout(idleTimer);
    worker ??= start();
    const id = nextId++;
    const w = worker;
    return new Promise<EditResult>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage({ ...request, id }, [request.labels]);
    }).finally(() => {
      idleTimer = setTimeout(() => {
        const idle = worker;
        worker = undefined;
        void idle?.terminate();
      }, idleMs);
      idleTimer.unref();
    });
  }

  return {
    run(request) {
      const result = chain.then(() => send(request));
      chain = result.catch(() => {});
      return result;
    },
    async close() {
      clearTimeout(idleTimer);
      const w = worker;
      worker = undefined;
      await w?.terminate();
    },
  };
}
