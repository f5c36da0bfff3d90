/** IPC messages between a job's child process and the process that started it. */
import type { CaseJob, CaseJobResult, JobFailure, JobProgress } from './caseJob.ts';

export type ParentMessage = { type: 'run'; job: CaseJob; dataDir: string; logLevel: string };

export type ChildMessage =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'done'; result: CaseJobResult }
  | { type: 'failed'; failure: JobFailure };
