/**
 * Runs one job in a child Node process (`jobProcess.ts` under tsx), so a CPU-heavy pipeline never
 * blocks the process that serves HTTP (or that renews a BullMQ lock). The child's resident memory is
 * watched from here: a job that grows past its memory budget is stopped before the machine swaps.
 */
import { fork } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { processRssBytes } from '../machineMemory.ts';
import { caseLayout } from '../store/caseFolders.ts';
import { formatMemory } from '../volume/volumeLimits.ts';
import type { CaseJob, CaseJobResult, JobFailure, JobProgress } from './caseJob.ts';
import type { ChildMessage, JobSettings, ParentMessage } from './jobMessages.ts';

/** Environment variable naming the process that started the job (`jobProcess.ts` reads it). */
const PARENT_PID_ENV = 'HOLOCASE_JOB_PARENT';
/** How often the child's memory is looked at. */
const MEMORY_POLL_MS = 250;

export interface RunJobInChildOptions {
  /** Project root (where `server/jobs/jobProcess.ts` and `node_modules/tsx` are). */
  projectRoot: string;
  dataDir: string;
  logLevel?: string;
  onProgress?: (progress: JobProgress) => void;
  /** Aborting kills the child (case deleted, server stopping). */
  signal?: AbortSignal;
  /**
   * Size limits and memory budget for the job; a child whose resident memory passes the budget is
   * stopped and the job fails, not retryable.
   */
  settings?: JobSettings;
}

/**
 * The job process's environment: the server's, plus transparent huge pages for glibc's large allocations
 * (the CT, masks and label maps, hundreds of MB each at clinical size), unless the operator has set glibc
 * tunables already. Fewer page faults: on a 0.8 mm CT, ingest took a third less CPU time and segmentation
 * a sixth less. glibc before 2.35 and other C libraries ignore the variable.
 */
export function jobEnvironment<E extends Record<string, string | undefined>>(env: E): E {
  return env.GLIBC_TUNABLES === undefined ? { ...env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : env;
}

/** Rejects with a `JobFailure`-shaped error when the job fails, is cancelled or the child dies. */
export class JobFailedError extends Error {
  constructor(readonly failure: JobFailure) {
    super(failure.message);
    this.name = 'JobFailedError';
  }
}

/**
 * 1. Fork the child with tsx, stdout/stderr shared (its log lines join ours), in `jobEnvironment()`; it
 *    learns our pid, so its watchdog can stop it if we die.
 * 2. Send the job; forward progress; settle on `done` / `failed`.
 * 3. Watch its memory: past the budget it is killed (`JOB_MEMORY`, not retryable).
 * 4. A child that exits without a verdict failed (retryable): killed, crashed or out of memory.
 */
export function runJobInChild(job: CaseJob, options: RunJobInChildOptions): Promise<CaseJobResult> {
  // Resolved at run time (the route bundle must not trace the project).
  const entry = path.join(/* turbopackIgnore: true */ options.projectRoot, 'server', 'jobs', 'jobProcess.ts');
  const child = fork(entry, [], {
    cwd: options.projectRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: jobEnvironment({ ...process.env, [PARENT_PID_ENV]: String(process.pid), HOLOCASE_LOG_LEVEL: options.logLevel ?? 'info' }),
  });
  return new Promise<CaseJobResult>((resolve, reject) => {
    let settled = false;
    let memoryWatch: NodeJS.Timeout | undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(memoryWatch);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const budget = options.settings?.memoryBudgetBytes;
    if (budget && child.pid) {
      memoryWatch = setInterval(() => {
        const rss = processRssBytes(child.pid!);
        if (rss === undefined || rss <= budget) return;
        child.kill('SIGKILL');
        // Not retryable, so its raw upload (not yet de-identified, if ingest had not finished) goes.
        void rm(caseLayout(options.dataDir, job.caseId).incomingDir, { recursive: true, force: true });
        settle(() =>
          reject(
            new JobFailedError({
              code: 'JOB_MEMORY',
              message: `processing needed more memory than this server gives one job (${formatMemory(budget)}, HOLOCASE_JOB_MEMORY) and was stopped`,
              retryable: false,
            }),
          ),
        );
      }, MEMORY_POLL_MS);
      memoryWatch.unref();
    }
    const onAbort = () => {
      child.kill('SIGKILL');
      settle(() => reject(new JobFailedError({ code: 'JOB_INTERRUPTED', message: 'processing was stopped', retryable: true })));
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') options.onProgress?.(m.progress);
      else if (m.type === 'done') settle(() => resolve(m.result));
      else if (m.type === 'failed') settle(() => reject(new JobFailedError(m.failure)));
    });
    child.on('error', (error) => settle(() => reject(error)));
    child.on('exit', (code, signal) => {
      settle(() =>
        reject(
          new JobFailedError({
            code: 'JOB_INTERRUPTED',
            message: `processing stopped unexpectedly (${signal ?? `exit code ${code}`}); it can be run again`,
            retryable: true,
          }),
        ),
      );
    });
    const message: ParentMessage = { type: 'run', job, dataDir: options.dataDir, logLevel: options.logLevel ?? 'info', settings: options.settings };
    child.send(message);
  });
}
