/**
 * Entry of the child process that runs one job (`runJobInChild` forks it with tsx). It receives the job
 * over IPC, reports progress and the result over IPC, logs JSON lines to its stdout, and exits.
 * When its parent goes away (server killed) it stops at once, so a restarted server can resume the job
 * without two processes writing the same work folder.
 */
import { isHolocaseError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { CaseJob } from './caseJob.ts';
import type { ChildMessage, ParentMessage } from './jobMessages.ts';
import { processCase } from './processCase.ts';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function run(job: CaseJob, dataDir: string, logLevel: string): Promise<void> {
  const log = createLogger({ level: logLevel, bindings: { role: 'job', jobId: job.jobId, caseId: job.caseId } });
  log.info({ modelId: job.modelId }, 'job started');
  try {
    const result = await processCase(job, {
      dataDir,
      log: (message) => log.info({ stageLog: message }, 'stage log'),
      onStage: (timing) => log.info(timing, `stage ${timing.stage} done in ${timing.seconds.toFixed(1)} s`),
      onJobProgress: (progress) => void send({ type: 'progress', progress }),
    });
    log.info({ timings: result.timings, glbBytes: result.glbBytes }, 'job done');
    await send({ type: 'done', result });
  } catch (error) {
    const failure = isHolocaseError(error)
      ? { code: error.code, message: error.message, retryable: error.status >= 500 }
      : { code: 'INTERNAL', message: 'processing failed because of an internal error; the log has details', retryable: true };
    if (isHolocaseError(error)) log.warn({ errorCode: error.code }, 'job failed on its input');
    else log.error({ err: withoutUploadPaths(error) }, 'job failed with an internal error');
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
  void run(m.job, m.dataDir, m.logLevel).finally(() => process.exit(0));
});
