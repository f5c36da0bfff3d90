/**
 * Starts a worker thread running a TypeScript module, whether the caller runs under tsx (CLI),
 * vitest or plain Node: the worker registers tsx itself through `boot.mjs`.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(entry: URL, data: Record<string, unknown> = {}, options: WorkerOptions = {}): Worker {
  return new Worker(new URL('./boot.mjs', import.meta.url), {
    ...options,
    workerData: { ...data, entry: entry.href },
  });
}
