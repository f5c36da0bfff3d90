/**
 * The watchdog thread of a job process (see `jobWatchdog.ts`). Runs beside the main thread, so a stage
 * that keeps the main thread busy for minutes cannot keep it from noticing a dead parent.
 */
import { utimesSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.ts';
import { lockToken } from './caseLock.ts';
import type { WatchdogMessage } from './jobWatchdog.ts';

const { parentPid, intervalMs, logLevel, bindings } = workerData as { parentPid: number; intervalMs: number; logLevel: string; bindings: Record<string, unknown> };
const log = createLogger({ level: logLevel, bindings: { ...bindings, thread: 'watchdog' } });
let lock: WatchdogMessage['lock'] = null;

function stopProcess(reason: string): void {
  log.warn({ reason }, 'stopping the job process');
  process.kill(process.pid, 'SIGKILL');
}

parentPort!.on('message', (message: WatchdogMessage) => {
  lock = message.lock;
  parentPort!.postMessage('ok');
});

setInterval(() => {
  // 1. The parent: an orphan is re-parented (to init or a subreaper), so its ppid changes.
  if (process.ppid !== parentPid) return stopProcess(`the process that started the job (${parentPid}) is gone`);
  // 2. The case lock: still ours, and fresh.
  if (lock) {
    if (lockToken(lock.path) !== lock.token) return stopProcess('the case lock is no longer held by this job');
    const now = new Date();
    try {
      utimesSync(lock.path, now, now);
    } catch {
      stopProcess('the case lock is gone');
    }
  }
}, intervalMs);
