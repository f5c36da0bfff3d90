/**
 * One runner per case: before a job touches a case's files, its process takes `<data>/locks/<case>.lock`,
 * a file created exclusively (`wx`) that names its host, pid and a random token. The job's watchdog
 * thread touches it every half second (even while the main thread is busy) and stops the process if the
 * lock stops being its own. Another runner of the same case finds the lock and waits until it is
 * released or stale — its process is gone (same host), or it has not been touched for `staleMs` (any
 * host, e.g. a worker on another machine that lost power) — then takes it over.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HolocaseError } from '../errors.ts';
import { isValidId } from '../store/caseFolders.ts';

export interface CaseLock {
  path: string;
  token: string;
  /** Removes the lock if it is still this one's. */
  release(): Promise<void>;
}

export interface AcquireCaseLockOptions {
  /** Longest wait for another runner to finish (default 60 s), then `CONFLICT`, retryable. */
  waitMs?: number;
  /** A lock not touched for this long is stale (default 10 s). */
  staleMs?: number;
  /** Time between looks (default 250 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

export const DEFAULTS = { waitMs: 60_000, staleMs: 10_000, pollMs: 250 } as const;

interface LockOwner {
  host: string;
  pid: number;
  token: string;
  since: number;
}

export function caseLockPath(dataDir: string, caseId: string): string {
  if (!isValidId(caseId)) throw new HolocaseError('NOT_FOUND', 'no such case');
  return path.join(dataDir, 'locks', `${caseId}.lock`);
}

/** Whether `pid` is a running process on this machine (a zombie is not). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (name) S …": the state follows the last parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Why a lock someone else holds may be taken over, or undefined while it is live. */
async function staleReason(file: string, staleMs: number): Promise<string | undefined> {
  let owner: LockOwner;
  let touched: number;
  try {
    [owner, touched] = await Promise.all([readFile(file, 'utf8').then((t) => JSON.parse(t) as LockOwner), stat(file).then((s) => s.mtimeMs)]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'released';
    // Half-written by a process that died at once: judge by its age alone.
    touched = (await stat(file).catch(() => undefined))?.mtimeMs ?? 0;
    return Date.now() - touched > staleMs ? 'unreadable and old' : undefined;
  }
  if (owner.host === os.hostname() && !processRunning(owner.pid)) return `its process ${owner.pid} is gone`;
  if (Date.now() - touched > staleMs) return `not touched for ${Math.round((Date.now() - touched) / 1000)} s`;
  return undefined;
}

/**
 * 1. Create the lock exclusively with this process's host, pid and a fresh token.
 * 2. When it exists: take over a stale one (moved aside, then removed), or wait for it.
 * 3. After `waitMs`: `CONFLICT`, retryable.
 */
export async function acquireCaseLock(dataDir: string, caseId: string, options: AcquireCaseLockOptions = {}): Promise<CaseLock> {
  const o = { ...DEFAULTS, ...options };
  const file = caseLockPath(dataDir, caseId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const owner: LockOwner = { host: os.hostname(), pid: process.pid, token: randomUUID(), since: Date.now() };
  const deadline = Date.now() + o.waitMs;
  for (;;) {
    try {
      await writeFile(file, JSON.stringify(owner), { flag: 'wx', mode: 0o600 });
      return { path: file, token: owner.token, release: () => releaseCaseLock(file, owner.token) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stale = await staleReason(file, o.staleMs);
    if (stale) {
      const aside = `${file}.stale-${owner.token}`;
      await rename(file, aside).catch(() => undefined);
      await rm(aside, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new HolocaseError('CONFLICT', 'this case is being processed by another process; run it again when that has finished', { retryable: true });
    }
    if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new Error('cancelled');
    await new Promise((resolve) => setTimeout(resolve, o.pollMs));
  }
}

/** The token in a lock file, or undefined when there is none (or it cannot be read). */
export function lockToken(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as LockOwner).token;
  } catch {
    return undefined;
  }
}

async function releaseCaseLock(file: string, token: string): Promise<void> {
  if (lockToken(file) === token) await rm(file, { force: true });
}
