/**
 * Start-up clean-up of what a crash left behind, before any job resumes: a raw upload is only a case's
 * once its row exists (the row is written after the last byte arrived), so `<data>/incoming/<id>/`
 * without a case row is an upload cut off mid-way — not yet de-identified, it must not stay. The same
 * goes for a job's scratch folder and lock of a case that no longer exists, and for the upload of a
 * case that finished (its CT was already read) or failed for good (a job stopped for its memory).
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { isValidId } from './caseFolders.ts';
import { getCase } from './cases.ts';
import type { Database } from './database.ts';

export interface SweepResult {
  /** Cut-off or leftover uploads removed. */
  uploads: number;
  /** Scratch folders and locks of cases that no longer exist removed. */
  scratch: number;
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/**
 * 1. `incoming/<id>`: removed when the case has no row, is done, or failed and cannot be re-run.
 * 2. `work/<id>` and `locks/<id>.lock`: removed when the case has no row.
 */
export async function sweepOrphans(db: Database, dataDir: string, log?: Logger): Promise<SweepResult> {
  const result: SweepResult = { uploads: 0, scratch: 0 };
  for (const name of await entries(path.join(dataDir, 'incoming'))) {
    const row = isValidId(name) ? getCase(db, name) : undefined;
    const finished = row && (row.status === 'done' || (row.status === 'failed' && !row.retryable));
    if (row && !finished) continue;
    await rm(path.join(dataDir, 'incoming', name), { recursive: true, force: true });
    result.uploads++;
  }
  for (const [folder, suffix] of [['work', ''], ['locks', '.lock']] as const) {
    for (const name of await entries(path.join(dataDir, folder))) {
      const id = suffix ? name.replace(/\.lock$/, '') : name;
      if (!isValidId(id) || (suffix && !name.endsWith(suffix)) || getCase(db, id)) continue;
      await rm(path.join(dataDir, folder, name), { recursive: true, force: true });
      result.scratch++;
    }
  }
  if (result.uploads + result.scratch > 0) log?.info({ ...result }, 'removed what an interrupted run left behind');
  return result;
}
