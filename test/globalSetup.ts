/**
 * Once per test run: a log folder of its own (`<tmp>/holocase-test-logs/<time>-<pid>/`), so runs side by
 * side never overwrite each other's server logs; tests get it with `inject('testLogDir')`. Only the
 * newest runs' folders are kept.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's folder for saved server logs. */
    testLogDir: string;
  }
}

const LOG_ROOT = path.join(os.tmpdir(), 'holocase-test-logs');
const KEEP_RUNS = 10;

export default async function setup(project: TestProject): Promise<void> {
  const run = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  const dir = path.join(LOG_ROOT, run);
  await mkdir(dir, { recursive: true });
  // Older runs' folders beyond the newest few go (names sort by time).
  const runs = (await readdir(LOG_ROOT, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - KEEP_RUNS))) await rm(path.join(LOG_ROOT, old), { recursive: true, force: true });
  project.provide('testLogDir', dir);
}
