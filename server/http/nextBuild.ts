/**
 * Makes sure a production build of the web app exists and is not older than its sources, building it
 * with `next build` when needed. Used by `holocase serve`/`demo` and by the test suite's global setup.
 * The build folder is `HOLOCASE_NEXT_DIR` (default `.next`), as in `next.config.js`.
 */
import { spawn } from 'node:child_process';
import { open, readdir, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Sources whose change makes the build stale. */
const SOURCES = ['app', 'server', 'mesh', 'models', 'public', 'next.config.js', 'package.json', 'tsconfig.json'];

export interface NextBuildOptions {
  /** Build folder relative to the project root; defaults to `HOLOCASE_NEXT_DIR` or `.next`. */
  distDir?: string;
  /** Build even when the existing build looks current. */
  force?: boolean;
  log?: (line: string) => void;
}

export function nextDistDir(): string {
  return process.env.HOLOCASE_NEXT_DIR || '.next';
}

async function newestMtime(target: string): Promise<number> {
  let info;
  try {
    info = await stat(target);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(target, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, await newestMtime(path.join(target, entry.name)));
  }
  return newest;
}

/** True when `<distDir>/BUILD_ID` exists and is newer than every source file. */
export async function isNextBuildCurrent(distDir = nextDistDir()): Promise<boolean> {
  let built: number;
  try {
    built = (await stat(path.join(PROJECT_ROOT, distDir, 'BUILD_ID'))).mtimeMs;
  } catch {
    return false;
  }
  for (const source of SOURCES) {
    if ((await newestMtime(path.join(PROJECT_ROOT, source))) > built) return false;
  }
  return true;
}

/**
 * 1. Return at once when the build is current.
 * 2. Take a lock file so parallel callers build once.
 * 3. Run `next build` with the same build folder; fail with its output when it fails.
 */
export async function ensureNextBuild(options: NextBuildOptions = {}): Promise<void> {
  const distDir = options.distDir ?? nextDistDir();
  const log = options.log ?? (() => {});
  if (!options.force && (await isNextBuildCurrent(distDir))) return;

  const lockPath = path.join(PROJECT_ROOT, `${distDir}.lock`);
  const lock = await acquireLock(lockPath);
  try {
    if (!options.force && (await isNextBuildCurrent(distDir))) return;
    log(`building the web app into ${distDir} (about half a minute)…`);
    await runNextBuild(distDir, log);
  } finally {
    await lock.close();
    await rm(lockPath, { force: true });
  }
}

async function acquireLock(lockPath: string) {
  const started = Date.now();
  for (;;) {
    try {
      return await open(lockPath, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await stat(lockPath).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 10 * 60_000) await rm(lockPath, { force: true }); // left behind by a killed build
      if (Date.now() - started > 15 * 60_000) throw new Error(`timed out waiting for another web app build (${lockPath})`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function runNextBuild(distDir: string, log: (line: string) => void): Promise<void> {
  const nextBin = path.join(PROJECT_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, 'build'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, HOLOCASE_NEXT_DIR: distDir, NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        log('web app built');
        resolve();
      } else {
        reject(new Error(`next build failed (exit ${code}):\n${output.slice(-4000)}`));
      }
    });
  });
}
