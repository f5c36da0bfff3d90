/**
 * Starting a case's processing job and deleting a case — the two operations that touch the queue,
 * the rows and the files together.
 */
import { HolocaseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { deleteCaseRow, markCaseFailed, resetCaseForJob } from '../store/cases.ts';
import { newId, removeCaseFiles } from '../store/caseFolders.ts';
import { activeJobForCase, insertJob, setJobStatus } from '../store/jobs.ts';
import type { CaseEvents } from './caseEvents.ts';
import type { JobQueue } from './jobQueue.ts';
import type { ModelInfo } from './modelCatalog.ts';

export interface CaseLifecycleDeps {
  db: Database;
  queue: JobQueue;
  events: CaseEvents;
  log: Logger;
  config: { dataDir: string };
}

/**
 * 1. Refuse when the case already has an unfinished job.
 * 2. Insert the job row, reset the case's state, tell listeners it is queued.
 * 3. Hand it to the queue (a queue that cannot take it fails the job, retryable).
 */
export async function startCaseJob(deps: CaseLifecycleDeps, caseId: string, model: ModelInfo): Promise<string> {
  if (activeJobForCase(deps.db, caseId)) throw new HolocaseError('CONFLICT', 'this case is already being processed');
  const jobId = newId();
  deps.db.transaction(() => {
    insertJob(deps.db, { id: jobId, caseId, modelId: model.id, queue: deps.queue.kind });
    resetCaseForJob(deps.db, caseId, model);
  })();
  deps.events.publish(caseId, { type: 'progress', status: 'queued', stage: null, percent: 0, message: 'waiting for its turn' });
  try {
    await deps.queue.enqueue({ jobId, caseId, modelId: model.id });
  } catch (error) {
    deps.log.error({ err: error, jobId }, 'could not enqueue job');
    setJobStatus(deps.db, jobId, 'failed');
    const failure = { code: 'QUEUE_UNAVAILABLE', message: 'the job queue is not reachable; try again shortly', retryable: true };
    markCaseFailed(deps.db, caseId, failure);
    deps.events.publish(caseId, { type: 'failed', error: failure });
  }
  deps.log.info({ jobId, caseId, modelId: model.id, queue: deps.queue.kind }, 'job queued');
  return jobId;
}

/** Stops its job, removes its rows (jobs and share links cascade) and every file it has. */
export async function deleteCase(deps: CaseLifecycleDeps, caseId: string): Promise<void> {
  await deps.queue.cancel(caseId);
  deleteCaseRow(deps.db, caseId);
  await removeCaseFiles(deps.config.dataDir, caseId);
  deps.events.publish(caseId, { type: 'deleted' });
  deps.log.info({ caseId }, 'case deleted');
}
