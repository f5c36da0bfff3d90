/**
 * Embedded mode: the queue is the `jobs` table; one job runs at a time (one GPU), each in a child
 * process. On start, jobs a killed server left `running` are counted as interrupted and resumed, or —
 * after `maxInterruptions` — failed with `retryable: true` (never left "running").
 */
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { markCaseFailed, updateCaseProgress } from '../store/cases.ts';
import { jobsWithStatus, recordInterruption, setJobStatus, type JobRow } from '../store/jobs.ts';
import type { JobSettings } from './jobMessages.ts';
import type { JobQueue } from './jobQueue.ts';
import type { JobRecords } from './jobRecords.ts';
import { JobFailedError, runJobInChild } from './runJobInChild.ts';

export interface EmbeddedQueueOptions {
  db: Database;
  log: Logger;
  records: JobRecords;
  dataDir: string;
  projectRoot: string;
  /** Interruptions (server killed mid-job) tolerated before the job is failed as retryable. */
  maxInterruptions: number;
  logLevel?: string;
  /** Size limits and memory budget every job runs under. */
  settings?: JobSettings;
}

interface Running {
  job: JobRow;
  controller: AbortController;
  finished: Promise<void>;
  /** Stopped by `close()`: back to the queue, not an interruption. */
  shuttingDown: boolean;
}

export function createEmbeddedQueue(o: EmbeddedQueueOptions): JobQueue {
  let current: Running | undefined;
  let closed = false;

  /** 1. Count and requeue (or fail) jobs left running. */
  function recover(): void {
    for (const job of jobsWithStatus(o.db, ['running'], 'embedded')) {
      const count = recordInterruption(o.db, job.id);
      if (count > o.maxInterruptions) {
        setJobStatus(o.db, job.id, 'failed');
        const failure = {
          code: 'JOB_INTERRUPTED',
          message: `processing was interrupted ${count} times by server restarts; run it again`,
          retryable: true,
        };
        markCaseFailed(o.db, job.caseId, failure);
        o.log.warn({ jobId: job.id, caseId: job.caseId, interruptions: count }, 'job failed after repeated interruptions');
      } else {
        updateCaseProgress(o.db, job.caseId, { status: 'queued', stage: null, percent: 0, message: 'resuming after a server restart' });
        o.log.info({ jobId: job.id, caseId: job.caseId, interruptions: count }, 'job resumes after an interruption');
      }
    }
  }

  /** 2. Start the oldest queued job when none runs. */
  function pump(): void {
    if (current || closed) return;
    const job = jobsWithStatus(o.db, ['queued'], 'embedded')[0];
    if (!job) return;
    const controller = new AbortController();
    o.records.started(job.id);
    const running: Running = { job, controller, shuttingDown: false, finished: Promise.resolve() };
    running.finished = runJobInChild(
      { jobId: job.id, caseId: job.caseId, modelId: job.modelId },
      {
        projectRoot: o.projectRoot,
        dataDir: o.dataDir,
        logLevel: o.logLevel,
        settings: o.settings,
        signal: controller.signal,
        onProgress: (p) => o.records.progress(job.id, p),
      },
    ).then(
      (result) => o.records.done(job.id, result),
      (error: unknown) => {
        if (running.shuttingDown) {
          setJobStatus(o.db, job.id, 'queued');
          return;
        }
        const failure =
          error instanceof JobFailedError
            ? error.failure
            : { code: 'INTERNAL', message: 'processing could not start; the log has details', retryable: true };
        if (!(error instanceof JobFailedError)) o.log.error({ err: error, jobId: job.id }, 'job process error');
        o.records.failed(job.id, failure);
      },
    ).finally(() => {
      current = undefined;
      pump();
    });
    current = running;
  }

  return {
    kind: 'embedded',
    async start() {
      recover();
      pump();
    },
    async enqueue() {
      pump();
    },
    async cancel(caseId) {
      if (current?.job.caseId === caseId) {
        const running = current;
        running.controller.abort();
        await running.finished;
      }
    },
    async close() {
      closed = true;
      if (current) {
        current.shuttingDown = true;
        current.controller.abort();
        await current.finished;
      }
    },
  };
}
