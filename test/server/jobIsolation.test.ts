/**
 * A job process never runs beside another runner of its case: it stops within 2 s of its parent's death
 * even while its main thread is stuck in a CPU-heavy loop (a watchdog thread notices and kills it), and
 * the case lock keeps a second runner out until the first is gone. Real processes, real lock files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireCaseLock, caseLockPath, processRunning } from '../../server/jobs/caseLock.ts';
import { JobFailedError, runJobInChild } from '../../server/jobs/runJobInChild.ts';
import { newId } from '../../server/store/caseFolders.ts';
import { VOLUME_LIMITS } from '../../server/volume/volumeLimits.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';
import { ROOT, tempDataDir } from './harness.ts';

const BUSY_JOB = path.join(ROOT, 'test', 'server', 'busyJobProcess.ts');

/**
 * `node` that forks the busy job (as `runJobInChild` forks a job, telling it its pid) and waits; resolves
 * with the parent process and the job's pid once the job says it is busy.
 */
async function parentOfBusyJob(args: string[]): Promise<{ parent: ChildProcess; jobPid: number; output: () => string }> {
  const script = `
    const { fork } = require('node:child_process');
    const job = fork(${JSON.stringify(BUSY_JOB)}, ${JSON.stringify(args)}, {
      execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, HOLOCASE_JOB_PARENT: String(process.pid) },
    });
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the job never got busy:\n${out}`)), 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /busy (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ parent, jobPid: Number(match[1]), output: () => out });
      }
    };
    parent.stdout!.on('data', onData);
    parent.stderr!.on('data', onData);
  });
}

/** Milliseconds until `pid` stops running (a zombie waiting to be reaped has stopped), or Infinity after `limitMs`. */
async function stopsWithin(pid: number, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (!processRunning(pid)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Infinity;
}

describe('an orphaned job process', () => {
  it('stops within 2 s of its parent being killed, while its main thread is stuck in a CPU-heavy loop', async () => {
    const { parent, jobPid, output } = await parentOfBusyJob([await tempDataDir(), '-', '120000']);
    expect(processRunning(jobPid)).toBe(true);
    parent.kill('SIGKILL');
    const ms = await stopsWithin(jobPid, 2000);
    if (ms === Infinity) process.kill(jobPid, 'SIGKILL');
    expect(ms, output()).toBeLessThan(2000);
    expect(output()).not.toMatch(/finished the busy loop/);
  });
});

describe('a job that outgrows its memory', () => {
  it('is stopped by the process that started it, failed and not retryable', async () => {
    const dataDir = await tempDataDir();
    // A job process alone (Node, tsx, the pipeline's modules) holds far more than 64 MiB.
    const run = runJobInChild(
      { jobId: newId(), caseId: newId(), modelId: 'hu-anatomy' },
      { projectRoot: ROOT, dataDir, logLevel: 'silent', settings: { volumeLimits: VOLUME_LIMITS, memoryBudgetBytes: 64 * 1024 ** 2 } },
    );
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).failure).toEqual({
      code: 'JOB_MEMORY',
      message: 'processing needed more memory than this server gives one job (64 MiB, HOLOCASE_JOB_MEMORY) and was stopped',
      retryable: false,
    });
  });
});

describe('the case lock', () => {
  it('keeps a second runner out while the first runs, and lets it in once the first is gone', async () => {
    const dataDir = await tempDataDir();
    const caseId = newId();
    const { parent, jobPid } = await parentOfBusyJob([dataDir, caseId, '120000']);
    try {
      const lockFile = caseLockPath(dataDir, caseId);
      expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(jobPid);
      // A second runner waits, then gives up: retryable, the first is still at work.
      const refused = await holocaseErrorOf(acquireCaseLock(dataDir, caseId, { waitMs: 1500 }));
      expect(refused.code).toBe('CONFLICT');
      expect(refused.retryable).toBe(true);
      // The watchdog keeps the lock fresh although the main thread never yields.
      const { mtimeMs } = await stat(lockFile);
      expect(Date.now() - mtimeMs).toBeLessThan(1500);
      // Once the first runner is gone (its parent killed, so it stops), the second takes the lock at once.
      parent.kill('SIGKILL');
      expect(await stopsWithin(jobPid, 2000)).toBeLessThan(2000);
      const started = Date.now();
      const lock = await acquireCaseLock(dataDir, caseId, { waitMs: 5000 });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(process.pid);
      await lock.release();
    } finally {
      parent.kill('SIGKILL');
      if (processRunning(jobPid)) process.kill(jobPid, 'SIGKILL');
    }
  });

  it('stops a runner whose lock was taken over (it was judged stale), so two never write the same case', async () => {
    const dataDir = await tempDataDir();
    const caseId = newId();
    const { parent, jobPid, output } = await parentOfBusyJob([dataDir, caseId, '120000']);
    try {
      const lockFile = caseLockPath(dataDir, caseId);
      // Another machine's worker took the lock over (e.g. this one looked dead to it).
      await rename(lockFile, `${lockFile}.moved`);
      await writeFile(lockFile, JSON.stringify({ host: 'another-worker', pid: 1, token: 'someone-else', since: Date.now() }));
      const ms = await stopsWithin(jobPid, 2000);
      expect(ms, output()).toBeLessThan(2000);
      expect(output()).toMatch(/the case lock is no longer held by this job/);
    } finally {
      parent.kill('SIGKILL');
      if (processRunning(jobPid)) process.kill(jobPid, 'SIGKILL');
    }
  });
});
