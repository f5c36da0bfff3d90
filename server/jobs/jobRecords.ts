/**
 * What the web server does when a job starts, progresses, finishes or fails — the same for the
 * embedded queue and for BullMQ events: update the job and case rows, then tell SSE listeners.
 * Progress rows are written at most once per percent step, so a chatty stage costs little; the message
 * that ends a stage (with its duration) always gets through.
 */
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { getCase, markCaseDone, markCaseFailed, updateCaseProgress } from '../store/cases.ts';
import { getJob, setJobStatus } from '../store/jobs.ts';
import type { CaseJobResult, JobFailure, JobProgress } from './caseJob.ts';
import type { CaseEvents } from './caseEvents.ts';
import { recordModelRevision } from '../edit/modelRevision.ts';

export interface JobRecordDeps {
  db: Database;
  events: CaseEvents;
  log: Logger;
  /** Called after a case is recorded as done (e.g. to send its segmentation back to the PACS). */
  onCaseDone?: (caseId: string) => void;
  /** Data folder: a finished job's output becomes the case's next label-map revision. */
  dataDir?: string;
}

export interface JobRecords {
  started(jobId: string): void;
  progress(jobId: string, progress: JobProgress): void;
  done(jobId: string, result: CaseJobResult): void;
  failed(jobId: string, failure: JobFailure): void;
}

/** The job row, when it still belongs to a case that exists (a deleted case ignores late news). */
function liveJob(deps: JobRecordDeps, jobId: string) {
  const job = getJob(deps.db, jobId);
  return job && getCase(deps.db, job.caseId) ? job : undefined;
}

export function createJobRecords(deps: JobRecordDeps): JobRecords {
  const lastPercent = new Map<string, number>();
  return {
    started(jobId) {
      const job = liveJob(deps, jobId);
      if (!job) return;
      setJobStatus(deps.db, jobId, 'running');
      updateCaseProgress(deps.db, job.caseId, { status: 'running', stage: 'ingest', percent: 0, message: 'starting' });
      deps.events.publish(job.caseId, { type: 'progress', status: 'running', stage: 'ingest', percent: 0, message: 'starting' });
      deps.log.info({ jobId, caseId: job.caseId }, 'job running');
    },
    progress(jobId, p) {
      const percent = Math.floor(p.percent);
      if (lastPercent.get(jobId) === percent && p.stageSeconds === undefined) return;
      lastPercent.set(jobId, percent);
      const job = liveJob(deps, jobId);
      if (!job || job.status === 'done' || job.status === 'failed') return;
      updateCaseProgress(deps.db, job.caseId, { status: 'running', stage: p.stage, percent, message: p.message });
      deps.events.publish(job.caseId, { type: 'progress', status: 'running', stage: p.stage, percent, message: p.message ?? null });
    },
    done(jobId, result) {
      lastPercent.delete(jobId);
      const job = liveJob(deps, jobId);
      if (!job) return;
      setJobStatus(deps.db, jobId, 'done');
      markCaseDone(deps.db, job.caseId, result);
      if (deps.dataDir) {
        try {
          recordModelRevision(deps.db, deps.dataDir, job.caseId);
        } catch (error) {
          deps.log.error({ err: error, caseId: job.caseId }, 'could not record the model output as a revision');
        }
      }
      deps.events.publish(job.caseId, { type: 'done', processedAt: new Date(result.processedAt).toISOString() });
      deps.log.info({ jobId, caseId: job.caseId, timings: result.timings, glbBytes: result.glbBytes }, 'job done');
      deps.onCaseDone?.(job.caseId);
    },
    failed(jobId, failure) {
      lastPercent.delete(jobId);
      const job = liveJob(deps, jobId);
      if (!job) return;
      setJobStatus(deps.db, jobId, 'failed');
      markCaseFailed(deps.db, job.caseId, failure);
      deps.events.publish(job.caseId, { type: 'failed', error: failure });
      deps.log.warn({ jobId, caseId: job.caseId, errorCode: failure.code, retryable: failure.retryable }, 'job failed');
    },
  };
}
