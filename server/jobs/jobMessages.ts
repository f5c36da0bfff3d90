/** IPC messages between a job's child process and the process that started it. */
import type { VolumeLimits } from '../volume/volumeLimits.ts';
import type { CaseJob, CaseJobResult, JobFailure, JobProgress } from './caseJob.ts';

/** What the starting process decides for the job (from its configuration). */
export interface JobSettings {
  /** Largest CT read. */
  volumeLimits: VolumeLimits;
  /** Memory the job may use in bytes. */
  memoryBudgetBytes: number;
}

export type ParentMessage = { type: 'run'; job: CaseJob; dataDir: string; logLevel: string; settings?: JobSettings };

export type ChildMessage =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'done'; result: CaseJobResult }
  | { type: 'failed'; failure: JobFailure };
