'use client';
/**
 * Downloads and inflates CT chunks off the main thread: a small worker (made from this module's own
 * `inflateInt16Chunk`, so there is nothing to bundle) fetches a chunk, inflates it with
 * `DecompressionStream` into an int16 array and hands the array over without a copy. The page's main
 * thread stays free for drawing the slices and the hologram while 300 MB of voxels arrive. Where a
 * worker cannot be made, the same function runs on the main thread.
 */

/** Fetches `url` (gzip) and inflates it into exactly `voxels` int16 values. Self-contained: it also runs in the worker. */
export async function inflateInt16Chunk(url: string, voxels: number, signal?: AbortSignal): Promise<Int16Array> {
  const response = await fetch(url, { signal, credentials: 'same-origin' });
  if (!response.ok || !response.body) throw new Error(`the CT could not be downloaded (${response.status})`);
  // Inflated into one buffer by the browser itself (no chunk-by-chunk copies left for the collector).
  const buffer = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  if (buffer.byteLength !== voxels * 2) throw new Error(`a CT chunk holds ${buffer.byteLength / 2} voxels, not the ${voxels} its manifest says`);
  return new Int16Array(buffer);
}

export interface ChunkFetcher {
  fetch(url: string, voxels: number, signal: AbortSignal): Promise<Int16Array>;
  close(): void;
}

interface Reply {
  id: number;
  buffer?: ArrayBuffer;
  error?: string;
}

/** The worker's whole program: `inflateInt16Chunk` and a message loop around it. */
function workerSource(): string {
  return `const inflateInt16Chunk = ${inflateInt16Chunk.toString()};
self.onmessage = async (event) => {
  const { id, url, voxels } = event.data;
  try {
    const array = await inflateInt16Chunk(url, voxels);
    self.postMessage({ id, buffer: array.buffer }, [array.buffer]);
  } catch (error) {
    self.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};`;
}

export function createChunkFetcher(): ChunkFetcher {
  let worker: Worker | null = null;
  try {
    const source = URL.createObjectURL(new Blob([workerSource()], { type: 'text/javascript' }));
    worker = new Worker(source);
    URL.revokeObjectURL(source);
  } catch {
    worker = null;
  }
  if (!worker) return { fetch: inflateInt16Chunk, close() {} };
  const w = worker;
  type Request = { url: string; voxels: number; signal: AbortSignal; resolve: (a: Int16Array) => void; reject: (e: unknown) => void };
  const pending = new Map<number, Request>();
  let next = 0;
  // A worker that fails to run (a browser without DecompressionStream in workers, a blocked blob URL)
  // hands its requests, and all later ones, to the main thread.
  let broken = false;
  const onMainThread = (r: Request) => inflateInt16Chunk(r.url, r.voxels, r.signal).then(r.resolve, r.reject);
  w.onerror = (event) => {
    event.preventDefault();
    broken = true;
    w.terminate();
    for (const r of pending.values()) onMainThread(r);
    pending.clear();
  };
  w.onmessage = (event: MessageEvent<Reply>) => {
    const { id, buffer, error } = event.data;
    const p = pending.get(id);
    pending.delete(id);
    if (!p) return;
    if (buffer) p.resolve(new Int16Array(buffer));
    else p.reject(new Error(error ?? 'the CT chunk could not be read'));
  };
  return {
    fetch(url, voxels, signal) {
      return new Promise((resolve, reject) => {
        // A worker made from a blob resolves relative URLs against the blob: give it an absolute one.
        const request: Request = { url: new URL(url, window.location.href).href, voxels, signal, resolve, reject };
        if (broken) return void onMainThread(request);
        const id = next++;
        pending.set(id, request);
        signal.addEventListener('abort', () => pending.delete(id) && reject(new DOMException('aborted', 'AbortError')));
        w.postMessage({ id, url: request.url, voxels });
      });
    },
    close() {
      w.terminate();
      for (const p of pending.values()) p.reject(new DOMException('aborted', 'AbortError'));
      pending.clear();
    },
  };
}
