/**
 * Scale-out mode, worker side (`holocase worker`): takes jobs from the BullMQ queue one at a time and
 * runs each in a child process (the worker's event loop stays free to renew the job's lock). Results
 * and failures travel back through Redis; the worker never opens SQLite. The data folder must be the
 * same shared folder the web server uses (a network mount when on another machine).
 */
import { Worker } from 'bullmq';
import type { Logger } from '../log.ts';
import type { CaseJob, CaseJobResult } from './caseJob.ts';
import type { JobSettings } from './jobMessages.ts';
import { QUEUE_NAME, encodeFailure, redisConnection } from './redisQueue.ts';
import { JobFailedError, runJobInChild } from './runJobInChild.ts';

export interface RedisWorkerOptions {
  redisUrl: string;
  dataDir: string;
  projectRoot: string;
  log: Logger;
  logLevel?: string;
  /** Jobs run at the same time by this worker (one per GPU). */
  concurrency?: number;
  /** Size limits and memory budget every job runs under (this machine's configuration). */
  settings?: JobSettings;
}

export const DEFAULTS = { concurrency: 1, lockDurationMs: 60_000 } as const;

export function startRedisWorker(o: RedisWorkerOptions): Worker<CaseJob, CaseJobResult> {
  const worker = new Worker<CaseJob, CaseJobResult>(
    QUEUE_NAME,
    async (job, _token, signal) => {
      o.log.info({ jobId: job.id, caseId: job.data.caseId }, 'worker took job');
      try {
        return await runJobInChild(job.data, {
          projectRoot: o.projectRoot,
          dataDir: o.dataDir,
          logLevel: o.logLevel,
          settings: o.settings,
          signal,
          onProgress: (p) => void job.updateProgress(p as unknown as object).catch(() => {}),
        });
      } catch (error) {
        if (error instanceof JobFailedError) throw new Error(encodeFailure(error.failure));
        throw error;
      }
    },
    {
      connection: redisConnection(o.redisUrl),
      concurrency: o.concurrency ?? DEFAULTS.concurrency,
      lockDuration: DEFAULTS.lockDurationMs,
    },
  );
  worker.on('failed', (job, error) => o.log.warn({ jobId: job?.id, reason: error.message.split('|')[0] }, 'job failed'));
  worker.on('completed', (job) => o.log.info({ jobId: job.id }, 'job completed'));
  worker.on('error', (error) => o.log.error({ err: error }, 'worker error'));
  return worker;
}
