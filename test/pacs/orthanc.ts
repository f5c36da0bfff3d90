/**
 * A real Orthanc for tests (Debian's `Orthanc`): loopback HTTP and DICOM ports, a temporary storage
 * folder, HTTP basic auth, a short stable age; stopped by killing the process it started. `storescu`
 * (DCMTK) plays the PACS or scanner that sends studies to it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../server/harness.ts';

export interface OrthancProc {
  url: string;
  dicomPort: number;
  username: string;
  password: string;
  /** GET a JSON resource (with credentials). */
  json<T = any>(pathname: string): Promise<T>;
  bytes(pathname: string): Promise<Uint8Array>;
  output(): string;
  stop(): Promise<void>;
}

export async function startOrthanc(options: { stableAgeSeconds?: number } = {}): Promise<OrthancProc> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'holocase-orthanc-'));
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const username = 'holocase';
  const password = 'orthanc-test-secret';
  const config = {
    Name: 'holocase-test',
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'storage'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: 'ORTHANC',
    RemoteAccessAllowed: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [username]: password },
    StableAge: options.stableAgeSeconds ?? 1,
    // A study sent again is stored again (and becomes stable again), as a PACS resend does.
    OverwriteInstances: true,
    Plugins: [],
    SaveJobs: false,
    OrthancExplorerEnabled: false,
    WebDavEnabled: false,
    HttpCompressionEnabled: false,
  };
  const file = path.join(dir, 'orthanc.json');
  await writeFile(file, JSON.stringify(config));
  const child: ChildProcess = spawn('Orthanc', [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${httpPort}`;
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const get = async (pathname: string) => {
    const response = await fetch(url + pathname, { headers: { Authorization: auth } });
    if (!response.ok) throw new Error(`Orthanc ${pathname}: ${response.status}`);
    return response;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited:\n${out}`);
    if (await get('/system').then(() => true, () => false)) break;
    if (i > 200) throw new Error(`Orthanc did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    dicomPort,
    username,
    password,
    json: async (pathname) => (await get(pathname)).json(),
    bytes: async (pathname) => new Uint8Array(await (await get(pathname)).arrayBuffer()),
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `storescu` sending files (or a folder) to Orthanc over DICOM, proposing JPEG 2000 lossless (`-xv`). */
export function storescu(orthanc: OrthancProc, files: string[], callingAet = 'TESTSCANNER'): void {
  const result = spawnSync('storescu', ['-xv', '+sd', '-aet', callingAet, '-aec', 'ORTHANC', '127.0.0.1', String(orthanc.dicomPort), ...files], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`storescu failed (${result.status}): ${result.stderr}${result.stdout}`);
}
