/**
 * Scale-out mode, web-server side: jobs go onto a BullMQ queue in Redis; `holocase worker` processes
 * (any number, on GPU machines sharing the data folder) run them. The web server only enqueues and
 * listens to `QueueEvents` to keep SQLite and the SSE streams current; on start it reconciles rows
 * with what Redis knows (events missed while it was down).
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { removeCaseFiles } from '../store/caseFolders.ts';
import { getCase } from '../store/cases.ts';
import { getJob, jobsWithStatus } from '../store/jobs.ts';
import type { CaseJob, CaseJobResult, JobFailure, JobProgress } from './caseJob.ts';
import type { JobQueue } from './jobQueue.ts';
import type { JobRecords } from './jobRecords.ts';

export const QUEUE_NAME = 'holocase-cases';

export interface RedisQueueOptions {
  redisUrl: string;
  db: Database;
  log: Logger;
  records: JobRecords;
  dataDir: string;
}

/** BullMQ's connection to `url`; `maxRetriesPerRequest: null` as BullMQ requires for its blocking commands. */
export function redisConnection(url: string) {
  return { url, maxRetriesPerRequest: null };
}

/** Workers report failures as `CODE|retryable|message` in BullMQ's `failedReason` string. */
export function encodeFailure(f: JobFailure): string {
  return `${f.code}|${f.retryable ? 1 : 0}|${f.message}`;
}

export function decodeFailure(reason: string): JobFailure {
  const match = /^([A-Z_]+)\|([01])\|([\s\S]*)$/.exec(reason);
  if (match) return { code: match[1]!, retryable: match[2] === '1', message: match[3]! };
  return { code: 'INTERNAL', message: 'processing failed on a worker; its log has details', retryable: true };
}

export function createRedisQueue(o: RedisQueueOptions): JobQueue {
  const connection = redisConnection(o.redisUrl);
  const queue = new Queue<CaseJob, CaseJobResult>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });

  /** Results of a job whose case was deleted meanwhile: drop the files a worker published. */
  async function orphan(jobId: string): Promise<boolean> {
    const row = getJob(o.db, jobId);
    if (row && getCase(o.db, row.caseId)) return false;
    const job = await queue.getJob(jobId);
    if (job) await removeCaseFiles(o.dataDir, job.data.caseId).catch(() => {});
    return true;
  }

  async function enqueue(job: CaseJob): Promise<void> {
    await queue.add('process', job, { jobId: job.jobId, attempts: 1, removeOnComplete: 1000, removeOnFail: 1000 });
  }

  /** Brings a job's rows up to what Redis knows of it (events missed while this server was down). */
  async function settle(job: Job<CaseJob, CaseJobResult>, jobId: string): Promise<void> {
    const state = await job.getState();
    if (state === 'completed') o.records.done(jobId, job.returnvalue);
    else if (state === 'failed') o.records.failed(jobId, decodeFailure(job.failedReason));
    else if (state === 'active') o.records.started(jobId);
  }

  return {
    kind: 'redis',
    async start() {
      events.on('active', ({ jobId }) => o.records.started(jobId));
      events.on('progress', ({ jobId, data }) => o.records.progress(jobId, data as unknown as JobProgress));
      events.on('completed', ({ jobId, returnvalue }) => {
        void orphan(jobId).then((gone) => {
          if (!gone) o.records.done(jobId, returnvalue as unknown as CaseJobResult);
        });
      });
      events.on('failed', ({ jobId, failedReason }) => o.records.failed(jobId, decodeFailure(failedReason)));
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      // Catch up with what happened while this server was down.
      for (const row of jobsWithStatus(o.db, ['queued', 'running'], 'redis')) {
        const job = await queue.getJob(row.id);
        if (!job) {
          await enqueue({ jobId: row.id, caseId: row.caseId, modelId: row.modelId });
          o.log.info({ jobId: row.id }, 'job re-enqueued (missing in Redis)');
        } else {
          await settle(job, row.id);
        }
      }
    },
    enqueue,
    async cancel(caseId) {
      for (const row of jobsWithStatus(o.db, ['queued', 'running'], 'redis')) {
        if (row.caseId !== caseId) continue;
        const job = await queue.getJob(row.id);
        // A waiting job can be removed; an active one finishes on its worker and its files are dropped on completion.
        if (job && (await job.getState()) !== 'active') await job.remove().catch(() => {});
      }
    },
    async close() {
      await Promise.all([events.close(), queue.close()]);
    },
  };
}
