/**
 * Entry of the child process that runs one job (`runJobInChild` forks it with tsx). It receives the job
 * over IPC, reports progress and the result over IPC, logs JSON lines to its stdout, and exits.
 *
 * It never runs beside another runner of the same case: a watchdog thread stops it within a fraction of
 * a second of its parent's death whatever stage it is in (the main thread may be busy for minutes), and
 * it holds the case's lock while it works (`caseLock.ts`), so a restarted server's runner waits for it.
 * A failure is retryable only when running the case again can work: its input is still there.
 */
import { processPeakBytes } from '../pipeline/stageMeter.ts';
import { isHolocaseError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { CaseJob, JobFailure } from './caseJob.ts';
import { acquireCaseLock } from './caseLock.ts';
import type { ChildMessage, JobSettings, ParentMessage } from './jobMessages.ts';
import { startJobWatchdog } from './jobWatchdog.ts';
import { caseInputExists, processCase } from './processCase.ts';

// The process that started the job (set by `runJobInChild`): its death stops this one.
const parentPid = Number(process.env.HOLOCASE_JOB_PARENT) || process.ppid;
const watchdog = startJobWatchdog({ parentPid, logLevel: process.env.HOLOCASE_LOG_LEVEL, bindings: { role: 'job' } });

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Peak resident memory of this process so far, in MiB (for the job's log lines). */
function maxRssMb(): number {
  return Math.round(processPeakBytes() / 1024 ** 2);
}

async function run(job: CaseJob, dataDir: string, logLevel: string, settings: JobSettings | undefined): Promise<void> {
  const log = createLogger({ level: logLevel, bindings: { role: 'job', jobId: job.jobId, caseId: job.caseId } });
  log.info({ modelId: job.modelId }, 'job started');
  try {
    // 1. The case lock: no second runner of this case, here or on another worker.
    const lock = await acquireCaseLock(dataDir, job.caseId);
    await watchdog.watchLock(lock);
    try {
      // 2. The job.
      const result = await processCase(job, {
        dataDir,
        log: (message) => log.info({ stageLog: message }, 'stage log'),
        onStage: (timing) => log.info(timing, `stage ${timing.stage} done in ${timing.seconds.toFixed(1)} s`),
        onJobProgress: (progress) => void send({ type: 'progress', progress }),
        limits: settings?.volumeLimits,
        memoryBudgetBytes: settings?.memoryBudgetBytes,
      });
      log.info({ timings: result.timings, glbBytes: result.glbBytes, maxRssMb: maxRssMb() }, 'job done');
      await send({ type: 'done', result });
    } finally {
      await watchdog.watchLock(null);
      await lock.release();
    }
  } catch (error) {
    // 3. A failure says whether a re-run can work: only while the case's input is still there.
    const inputKept = await caseInputExists(dataDir, job.caseId).catch(() => false);
    let failure: JobFailure;
    if (isHolocaseError(error)) {
      failure = { code: error.code, message: error.message, retryable: error.retryable && inputKept };
      log.warn({ errorCode: error.code, retryable: failure.retryable, maxRssMb: maxRssMb() }, 'job failed on its input');
    } else {
      failure = {
        code: 'INTERNAL',
        message: `processing failed because of an internal error; the log has details${inputKept ? '' : ' (the upload is gone: upload the CT again)'}`,
        retryable: inputKept,
      };
      log.error({ err: withoutUploadPaths(error), maxRssMb: maxRssMb() }, 'job failed with an internal error');
    }
    await send({ type: 'failed', failure });
  }
}

/**
 * An internal error's message and stack without paths inside the unpacked upload: names inside a
 * hospital's zip (folders, files) often carry the patient's name.
 */
function withoutUploadPaths(error: unknown): { type: string; message: string; stack?: string } {
  const scrub = (text: string) => text.replace(/\/(unzip|incoming)\/[^\s'"),]*/g, '/$1/…');
  if (!(error instanceof Error)) return { type: typeof error, message: scrub(String(error)) };
  return { type: error.name, message: scrub(error.message), stack: error.stack && scrub(error.stack) };
}

process.on('disconnect', () => process.exit(0));
process.once('message', (m: ParentMessage) => {
  void run(m.job, m.dataDir, m.logLevel, m.settings).finally(() => process.exit(0));
});
