/**
 * A job process's watchdog: a worker thread that keeps running while the main thread is busy in a
 * CPU-heavy stage. Every `intervalMs` it
 *
 * - stops the whole process (SIGKILL, which needs nothing from the busy main thread) when the parent
 *   that started the job is gone — its `process.ppid` is no longer the parent's pid — so an orphaned
 *   job never runs beside the job a restarted server resumes;
 * - touches the case lock (`caseLock.ts`) it was given, and stops the process when the lock is no longer
 *   its own (taken over as stale, or removed).
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../workers/startTsWorker.ts';
import type { CaseLock } from './caseLock.ts';

export interface JobWatchdogOptions {
  /** The pid of the process that started this one; its death stops this process. */
  parentPid: number;
  /** Time between looks (default 250 ms: a dead parent is noticed well within 2 s). */
  intervalMs?: number;
  /** Log level and bindings for the line the watchdog writes before it stops the process. */
  logLevel?: string;
  bindings?: Record<string, unknown>;
}

export const DEFAULTS = { intervalMs: 250 } as const;

/** What the main thread tells the watchdog thread: the lock to keep (or none). */
export interface WatchdogMessage {
  lock: { path: string; token: string } | null;
}

export interface JobWatchdog {
  /** Keep `lock` fresh and own (null: stop watching a lock, e.g. before releasing it). */
  watchLock(lock: CaseLock | null): Promise<void>;
  stop(): Promise<void>;
}

export function startJobWatchdog(options: JobWatchdogOptions): JobWatchdog {
  const worker: Worker = startTsWorker(new URL('./jobWatchdogThread.ts', import.meta.url), {
    parentPid: options.parentPid,
    intervalMs: options.intervalMs ?? DEFAULTS.intervalMs,
    logLevel: options.logLevel ?? 'info',
    bindings: options.bindings ?? {},
  });
  // The watchdog never keeps the process alive on its own.
  worker.unref();
  return {
    async watchLock(lock) {
      const message: WatchdogMessage = { lock: lock && { path: lock.path, token: lock.token } };
      // Answered once the thread has taken it, so the lock is not released while it still checks it.
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage(message);
      });
    },
    async stop() {
      await worker.terminate();
    },
  };
}
