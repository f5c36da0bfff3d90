/**
 * A real holocase server for browser tests: `node bin/holocase.mjs serve` as a child process on its
 * own data folder, plus `user add` to make an account. Stopped by killing that process (no npx in
 * between, so nothing is left running).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { nextDistDir } from '../../server/http/nextBuild.ts';

const run = promisify(execFile);
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(PROJECT_ROOT, 'bin', 'holocase.mjs');

export interface HolocaseServerOptions {
  /** Port to listen on (tests of this area use 4200–4299). */
  port: number;
  /** Next build folder (`HOLOCASE_NEXT_DIR`); built on first start when missing or stale. */
  nextDir?: string;
  /** How long to wait for "listening" (a first build takes about half a minute). */
  startTimeoutMs?: number;
  /** More environment for the server and `user add` (e.g. `HOLOCASE_MODELS`). */
  env?: Record<string, string>;
}

export const SERVER_DEFAULTS = { nextDir: nextDistDir(), startTimeoutMs: 240_000 };

export interface HolocaseServer {
  /** `http://localhost:PORT` (localhost: a secure context, which WebXR needs). */
  url: string;
  dataDir: string;
  /** Creates an account and returns its one-time password. */
  addUser(name: string): Promise<string>;
  /** Server output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * 1. Make a temporary data folder.
 * 2. Start `holocase serve --port N --data DIR` and wait for its "listening" line.
 */
export async function startHolocaseServer(options: HolocaseServerOptions): Promise<HolocaseServer> {
  const o = { ...SERVER_DEFAULTS, ...options };
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'holocase-e2e-'));
  const env = { ...process.env, ...o.env, HOLOCASE_NEXT_DIR: o.nextDir };
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--port', String(o.port), '--host', '127.0.0.1', '--data', dataDir], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${o.startTimeoutMs} ms:\n${log.slice(-4000)}`)), o.startTimeoutMs);
    const check = () => {
      if (/"msg":"listening"|holocase is running/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${log.slice(-4000)}`));
    });
  });

  return {
    url: `http://localhost:${o.port}`,
    dataDir,
    async addUser(name) {
      const { stdout } = await run(process.execPath, [CLI, 'user', 'add', name, '--data', dataDir], { cwd: PROJECT_ROOT, env });
      const match = /one-time password:\s*(\S+)/.exec(stdout);
      if (!match) throw new Error(`no one-time password in: ${stdout}`);
      return match[1];
    },
    output: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
