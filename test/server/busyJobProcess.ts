/**
 * A stand-in for a job process in a CPU-heavy stage (for `jobIsolation.test.ts`): it starts the job
 * watchdog as `jobProcess.ts` does, takes the case lock when given a case id, prints `busy <pid>`, then
 * blocks its main thread in a loop for `busyMs` — no event loop turn, no IPC, no timers.
 *
 *   node --import tsx test/server/busyJobProcess.ts <dataDir> <caseId | -> <busyMs>
 */
import { acquireCaseLock } from '../../server/jobs/caseLock.ts';
import { startJobWatchdog } from '../../server/jobs/jobWatchdog.ts';

const [dataDir, caseId, busyMs] = process.argv.slice(2);
const watchdog = startJobWatchdog({ parentPid: Number(process.env.HOLOCASE_JOB_PARENT) || process.ppid, bindings: { role: 'test-job' } });
const lock = caseId && caseId !== '-' ? await acquireCaseLock(dataDir!, caseId, { waitMs: 500 }) : null;
// Answered once the watchdog thread runs: from here on it watches the parent (and the lock).
await watchdog.watchLock(lock);
process.stdout.write(`busy ${process.pid}\n`);
const until = Date.now() + Number(busyMs);
while (Date.now() < until) {
  // The main thread is stuck here, as in a long segmentation stage.
}
process.stdout.write('finished the busy loop\n');
