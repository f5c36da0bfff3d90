/** What the web server needs from a job queue, embedded or Redis-backed. */
import type { QueueKind } from '../store/jobs.ts';
import type { CaseJob } from './caseJob.ts';

export interface JobQueue {
  readonly kind: QueueKind;
  /** Recovers jobs a previous server run left behind, then starts taking jobs. */
  start(): Promise<void>;
  /** Runs a job whose row already exists (status `queued`) when its turn comes. */
  enqueue(job: CaseJob): Promise<void>;
  /** Stops a case's queued or running job (the case is being deleted). */
  cancel(caseId: string): Promise<void>;
  /** Graceful stop: a running job goes back to the queue without counting as an interruption. */
  close(): Promise<void>;
}
