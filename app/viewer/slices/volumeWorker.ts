'use client';
/**
 * Downloads and inflates the CT's chunks and the label map off the main thread: a small worker (made
 * from this module's own `inflateInt16Chunk` and `inflateLabelMap`, so there is nothing to bundle)
 * fetches, inflates with `DecompressionStream` into one buffer, and hands the buffer over without a
 * copy. The page's main thread stays free to draw the slices and the hologram while 300 MB of voxels
 * arrive, and no chunk-sized garbage is left for its collector. Where a worker cannot be made or does
 * not run, the same functions run on the main thread.
 */

/** Fetches `url` (gzip) and inflates it into exactly `voxels` int16 values. Self-contained: it also runs in the worker. */
export async function inflateInt16Chunk(url: string, voxels: number, signal?: AbortSignal): Promise<Int16Array> {
  const response = await fetch(url, { signal, credentials: 'same-origin' });
  if (!response.ok || !response.body) throw new Error(`the CT could not be downloaded (${response.status})`);
  // Inflated into one buffer by the browser itself.
  const buffer = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  if (buffer.byteLength !== voxels * 2) throw new Error(`a CT chunk holds ${buffer.byteLength / 2} voxels, not the ${voxels} its manifest says`);
  return new Int16Array(buffer);
}

export interface InflatedLabels {
  data: Uint8Array | Uint16Array;
  /** The revision the server says the map is (`X-Holocase-Revision`). */
  revision: number;
}

/**
 * Fetches a label map as the server stores it (gzip NIfTI-1, little-endian, on the grid `dims`) and
 * returns its voxels: an 8-bit map as a `Uint8Array`, any other integer type as a `Uint16Array`,
 * viewing the inflated file without a copy where the type allows. Self-contained: it also runs in the
 * worker.
 */
export async function inflateLabelMap(url: string, dims: [number, number, number], signal?: AbortSignal): Promise<InflatedLabels> {
  const response = await fetch(url, { signal, credentials: 'same-origin', cache: 'no-cache' });
  if (!response.ok || !response.body) {
    const message = await response.json().then((b: { error?: { message?: string } }) => b.error?.message, () => undefined);
    throw new Error(message ?? `the label map could not be downloaded (${response.status})`);
  }
  const revision = Number(response.headers.get('X-Holocase-Revision') ?? 0);
  const buffer = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  if (buffer.byteLength < 352) throw new Error('the label map is not a NIfTI-1 file');
  const view = new DataView(buffer);
  if (view.getInt32(0, true) !== 348) throw new Error('the label map is not a little-endian NIfTI-1 file');
  const fileDims = [view.getInt16(42, true), view.getInt16(44, true), view.getInt16(46, true)];
  if (fileDims.some((n, a) => n !== dims[a])) throw new Error(`the label map is ${fileDims.join('×')} voxels but the CT is ${dims.join('×')}`);
  const datatype = view.getInt16(70, true);
  const offset = Math.round(view.getFloat32(108, true));
  const count = dims[0] * dims[1] * dims[2];
  const bytes = ({ 2: 1, 256: 1, 4: 2, 512: 2, 8: 4, 768: 4 } as Record<number, number>)[datatype];
  if (!bytes) throw new Error(`the label map holds voxels of NIfTI type ${datatype}, not integers`);
  if (buffer.byteLength < offset + count * bytes) throw new Error('the label map ended early');
  if (datatype === 2) return { data: new Uint8Array(buffer, offset, count), revision };
  if (datatype === 512 && offset % 2 === 0) return { data: new Uint16Array(buffer, offset, count), revision };
  // Signed or wider types: copied into uint16, negative values as background.
  const out = new Uint16Array(count);
  for (let n = 0; n < count; n++) {
    const p = offset + n * bytes;
    const v = datatype === 256 ? view.getInt8(p) : datatype === 4 ? view.getInt16(p, true) : datatype === 512 ? view.getUint16(p, true) : view.getInt32(p, true);
    out[n] = v < 0 ? 0 : v;
  }
  return { data: out, revision };
}

export interface VolumeWorker {
  ctChunk(url: string, voxels: number, signal: AbortSignal): Promise<Int16Array>;
  labels(url: string, dims: [number, number, number], signal: AbortSignal): Promise<InflatedLabels>;
  close(): void;
}

type Job = { kind: 'ct'; voxels: number } | { kind: 'labels'; dims: [number, number, number] };

interface Reply {
  id: number;
  array?: Uint8Array | Uint16Array | Int16Array;
  revision?: number;
  error?: string;
}

/** The worker's whole program: the two functions and a message loop around them. */
function workerSource(): string {
  return `const inflateInt16Chunk = ${inflateInt16Chunk.toString()};
const inflateLabelMap = ${inflateLabelMap.toString()};
self.onmessage = async (event) => {
  const { id, url, job } = event.data;
  try {
    if (job.kind === 'ct') {
      const array = await inflateInt16Chunk(url, job.voxels);
      self.postMessage({ id, array }, [array.buffer]);
    } else {
      const { data, revision } = await inflateLabelMap(url, job.dims);
      self.postMessage({ id, array: data, revision }, [data.buffer]);
    }
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};`;
}

/** Runs a job on this thread (no worker, or a broken one). */
function runHere(url: string, job: Job, signal: AbortSignal): Promise<Int16Array | InflatedLabels> {
  return job.kind === 'ct' ? inflateInt16Chunk(url, job.voxels, signal) : inflateLabelMap(url, job.dims, signal);
}

export interface VolumeWorkerOptions {
  /**
   * Jobs one worker thread runs before a fresh one takes over (the old one ends when its last job is
   * done). An idle worker never collects its garbage, and inflating leaves some behind: a bounded run
   * per thread bounds it.
   */
  jobsPerThread?: number;
}

export const VOLUME_WORKER_DEFAULTS = { jobsPerThread: 12 } satisfies Required<VolumeWorkerOptions>;

type Request = { url: string; job: Job; signal: AbortSignal; resolve: (value: Int16Array | InflatedLabels) => void; reject: (e: unknown) => void };

/** One worker thread and the requests it has not answered yet. */
interface Thread {
  worker: Worker;
  pending: Map<number, Request>;
  jobs: number;
  retired: boolean;
}

export function createVolumeWorker(options: VolumeWorkerOptions = {}): VolumeWorker {
  const { jobsPerThread } = { ...VOLUME_WORKER_DEFAULTS, ...options };
  let next = 0;
  // A worker that fails to run (a blocked blob URL, a browser without DecompressionStream in workers)
  // hands its requests, and all later ones, to the main thread.
  let broken = false;
  let thread: Thread | null = null;
  const onMainThread = (r: Request) => runHere(r.url, r.job, r.signal).then(r.resolve, r.reject);
  const end = (t: Thread) => {
    t.worker.terminate();
    if (thread === t) thread = null;
  };

  const spawn = (): Thread | null => {
    let worker: Worker;
    try {
      const source = URL.createObjectURL(new Blob([workerSource()], { type: 'text/javascript' }));
      worker = new Worker(source);
      URL.revokeObjectURL(source);
    } catch {
      broken = true;
      return null;
    }
    const t: Thread = { worker, pending: new Map(), jobs: 0, retired: false };
    worker.onerror = (event) => {
      event.preventDefault();
      broken = true;
      end(t);
      for (const r of t.pending.values()) onMainThread(r);
      t.pending.clear();
    };
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const { id, array, revision, error } = event.data;
      const r = t.pending.get(id);
      t.pending.delete(id);
      if (t.retired && t.pending.size === 0) end(t);
      if (!r) return;
      if (!array) r.reject(new Error(error ?? 'the volume could not be read'));
      else r.resolve(r.job.kind === 'ct' ? (array as Int16Array) : { data: array as Uint8Array | Uint16Array, revision: revision ?? 0 });
    };
    return t;
  };

  const run = (relative: string, job: Job, signal: AbortSignal) =>
    new Promise<Int16Array | InflatedLabels>((resolve, reject) => {
      // A worker made from a blob resolves relative URLs against the blob: give it an absolute one.
      const request: Request = { url: new URL(relative, window.location.href).href, job, signal, resolve, reject };
      if (thread && thread.jobs >= jobsPerThread) {
        thread.retired = true;
        if (thread.pending.size === 0) end(thread);
        thread = null;
      }
      if (!broken && !thread) thread = spawn();
      const t = thread;
      if (broken || !t) return void onMainThread(request);
      const id = next++;
      t.jobs++;
      t.pending.set(id, request);
      signal.addEventListener('abort', () => t.pending.delete(id) && reject(new DOMException('aborted', 'AbortError')));
      t.worker.postMessage({ id, url: request.url, job });
    });

  return {
    ctChunk: (url, voxels, signal) => run(url, { kind: 'ct', voxels }, signal) as Promise<Int16Array>,
    labels: (url, dims, signal) => run(url, { kind: 'labels', dims }, signal) as Promise<InflatedLabels>,
    close() {
      const t = thread;
      if (!t) return;
      end(t);
      for (const r of t.pending.values()) r.reject(new DOMException('aborted', 'AbortError'));
      t.pending.clear();
    },
  };
}
