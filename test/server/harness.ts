/**
 * Test harness for the server: real `holocase serve` / `holocase worker` processes, real data folders
 * (removed after each test file), a real Redis, and an HTTP client that keeps a session cookie and sends
 * an Origin like a browser (from a local address of its choice, for per-address limits).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, inject } from 'vitest';
import { ensureNextBuild } from '../../server/http/nextBuild.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DICOM_DIR = path.join(ROOT, '../shared/fixtures/totalsegmentator/example_ct_dicom');
const BIN = path.join(ROOT, 'bin', 'holocase.mjs');

/** Identifying values written into the uploaded DICOM headers and file names; none may survive. */
export const IDENTIFIERS = {
  patientName: 'ZZTESTPATIENT^QUIRINA',
  patientId: 'PID-ZZ-90210',
  accession: 'ACCZZ4711',
  institution: 'ZZ Sankt Testhospital',
  physician: 'ZZDOCTOR^HIPPO',
  fileName: 'QUIRINA_ZZTESTPATIENT_scan',
};

export async function buildWebApp(): Promise<void> {
  await ensureNextBuild({ log: (line) => console.error(line) });
}

const madeDirs: string[] = [];

/** A fresh data folder in the system temp folder; every one is removed after the test file (below). */
export async function tempDataDir(prefix = 'holocase-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Removes the folders `tempDataDir` made (registered first, so it runs after the file's own clean-up). */
export async function removeTempDataDirs(): Promise<void> {
  await Promise.all(madeDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

afterAll(removeTempDataDirs);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Proc {
  child: ChildProcess;
  /** Everything it printed (stdout + stderr). */
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function startProcess(args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 120_000): Promise<Proc & { match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: Proc = {
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not get ready:\n${out.slice(-3000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ ...proc, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before it was ready:\n${out.slice(-3000)}`));
    });
  });
}

export interface ServerProc extends Proc {
  url: string;
  port: number;
}

/** `holocase serve` on a free port (or `port`), using the prebuilt web app. */
export async function startServe(dataDir: string, env: Record<string, string> = {}, extraArgs: string[] = [], port?: number): Promise<ServerProc> {
  const p = port ?? (await freePort());
  const proc = await startProcess(['serve', '--port', String(p), '--host', '127.0.0.1', '--data', dataDir, '--skip-build', ...extraArgs], env, /"msg":"listening"/);
  const https = extraArgs.includes('--https');
  return { ...proc, port: p, url: `${https ? 'https' : 'http'}://localhost:${p}` };
}

export async function startWorker(dataDir: string, env: Record<string, string>): Promise<Proc> {
  return startProcess(['worker', '--data', dataDir], env, /worker ready/);
}

/** `holocase user add` → the one-time password it prints. */
export function addUser(dataDir: string, name: string, options: { admin?: boolean; team?: string } = {}): string {
  const args = [BIN, 'user', 'add', name, '--data', dataDir, ...(options.admin ? ['--admin'] : []), ...(options.team ? ['--team', options.team] : [])];
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  const match = /one-time password: (\S+)/.exec(result.stdout);
  if (!match) throw new Error(`user add failed: ${result.stdout}${result.stderr}`);
  return match[1]!;
}

export interface RedisProc {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisProc> {
  const port = await freePort();
  const dir = await tempDataDir('holocase-redis-');
  const pidfile = path.join(dir, 'redis.pid');
  const r = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-server failed: ${r.stderr}`);
  for (let i = 0; i < 50; i++) {
    const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (ping.stdout?.trim() === 'PONG') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const pid = Number(await readFile(pidfile, 'utf8').catch(() => '0'));
      if (pid > 0) process.kill(pid, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP client with a cookie jar that sends `Origin` like a browser on the same site. */
export class Client {
  cookie: string | undefined;
  lastSetCookie: string | undefined;
  constructor(readonly base: string) {}

  async fetch(pathname: string, init: RequestInit & { origin?: string | null } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    if (init.origin !== null) headers.set('origin', init.origin ?? this.base);
    const response = await fetch(this.base + pathname, { ...init, headers, redirect: 'manual', duplex: 'half' } as RequestInit);
    const set = response.headers.get('set-cookie');
    if (set) {
      this.lastSetCookie = set;
      const value = /holocase_session=([^;]*)/.exec(set)?.[1];
      this.cookie = value ? `holocase_session=${value}` : undefined;
    }
    return response;
  }

  async json<T = any>(pathname: string, init: Omit<RequestInit, 'body'> & { origin?: string | null; body?: unknown } = {}): Promise<{ status: number; body: T; response: Response }> {
    const plain = init.body !== undefined && init.body !== null && Object.getPrototypeOf(init.body) === Object.prototype;
    const body = plain ? JSON.stringify(init.body) : init.body;
    const headers = new Headers(init.headers);
    if (typeof body === 'string') headers.set('content-type', 'application/json');
    const response = await this.fetch(pathname, { ...init, body: body as BodyInit | undefined, headers });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, response };
  }

  /** Signs in with the one-time password and sets `newPassword`. */
  async signInFirstTime(username: string, oneTime: string, newPassword = `${username}-correct-horse-42`): Promise<void> {
    const login = await this.json('/api/session', { method: 'POST', body: { username, password: oneTime } });
    if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
    const change = await this.json('/api/session/password', { method: 'POST', body: { currentPassword: oneTime, newPassword } });
    if (change.status !== 200) throw new Error(`password change failed: ${JSON.stringify(change.body)}`);
  }
}

/** A signed-in client per account (one-time password replaced), in the order given. */
export async function signedInClients(url: string, accounts: Record<string, { password: string }>, names: readonly string[]): Promise<Client[]> {
  const clients: Client[] = [];
  for (const name of names) {
    const client = new Client(url);
    await client.signInFirstTime(name, accounts[name]!.password);
    clients.push(client);
  }
  return clients;
}

/**
 * The fixture DICOM series as a zip, with identifying values written into every header and the
 * patient's name in every file name (what a careless export looks like).
 */
export async function identifiedDicomZip(): Promise<Uint8Array> {
  // @ts-expect-error dcmjs ships no type declarations
  const dcmjs = (await import('dcmjs')).default as any;
  const files: Record<string, Uint8Array> = {};
  const names = (await readdir(DICOM_DIR)).sort();
  for (const [i, name] of names.entries()) {
    const b = await readFile(path.join(DICOM_DIR, name));
    const dict = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    dict.dict['00100010'] = { vr: 'PN', Value: [{ Alphabetic: IDENTIFIERS.patientName }] };
    dict.dict['00100020'] = { vr: 'LO', Value: [IDENTIFIERS.patientId] };
    dict.dict['00100030'] = { vr: 'DA', Value: ['19471103'] };
    dict.dict['00080050'] = { vr: 'SH', Value: [IDENTIFIERS.accession] };
    dict.dict['00080080'] = { vr: 'LO', Value: [IDENTIFIERS.institution] };
    dict.dict['00080090'] = { vr: 'PN', Value: [{ Alphabetic: IDENTIFIERS.physician }] };
    files[`${IDENTIFIERS.fileName}/IMG${String(i).padStart(4, '0')}.dcm`] = new Uint8Array(dict.write());
  }
  return zipSync(files, { level: 0 });
}

export { requestFrom } from '../requestFrom.ts';

export interface SseEvent {
  event: string;
  data: any;
}

/** Calls `onEvent` for each event of an SSE response until it returns true or the stream ends. */
async function readSse(response: Response, onEvent: (e: SseEvent) => boolean | void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data && onEvent({ event, data: JSON.parse(data) })) return;
    }
  }
}

/** Reads an SSE stream until a `done` or `failed` event (or the stream ends). */
export async function followEvents(client: Client, pathname: string, timeoutMs = 240_000): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const response = await client.fetch(pathname, { signal: controller.signal, origin: null });
    if (response.status !== 200) throw new Error(`events: ${response.status} ${await response.text()}`);
    await readSse(response, (e) => {
      events.push(e);
      return e.event === 'done' || e.event === 'failed';
    });
    return events;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

export interface EventListener {
  events: SseEvent[];
  /** The first event (seen or to come) that passes `test`. */
  until(test: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  stop(): void;
}

/** Keeps reading an SSE stream in the background (a viewer left open) until `stop()`. */
export function listenEvents(client: Client, pathname: string): EventListener {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  const waiters: { test: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  void client
    .fetch(pathname, { signal: controller.signal, origin: null })
    .then((response) =>
      readSse(response, (e) => {
        events.push(e);
        for (const w of [...waiters]) if (w.test(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
      }),
    )
    .catch(() => {});
  return {
    events,
    until: (test, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const seen = events.find(test);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no matching event in ${timeoutMs} ms; got ${JSON.stringify(events)}`)), timeoutMs);
        waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      }),
    stop: () => controller.abort(),
  };
}

/** Every file under `dir` (recursive), for privacy and leftover checks. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out;
}

/** glTF validator report for GLB bytes (errors count and messages). */
export async function validateGlb(bytes: Uint8Array): Promise<{ numErrors: number; messages: string[] }> {
  // @ts-expect-error gltf-validator ships no type declarations
  const validator = (await import('gltf-validator')) as any;
  const report = await (validator.validateBytes ?? validator.default.validateBytes)(bytes, { maxIssues: 50 });
  return {
    numErrors: report.issues.numErrors,
    messages: report.issues.messages.filter((m: any) => m.severity === 0).map((m: any) => `${m.code}: ${m.message}`),
  };
}

/** Keeps a process's output for reading after a failed run, in this run's own log folder (`<tmp>/holocase-test-logs/<run>/<name>.log`). */
export async function saveLog(name: string, output: string | undefined): Promise<void> {
  if (!output) return;
  const dir = inject('testLogDir');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${name}.log`), output);
}
