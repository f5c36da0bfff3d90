/**
 * Child processes for the server and viewer benchmarks: `holocase serve` on a data folder (the web app
 * already built), and any Node process that says when it is ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `node ...args` in the project root; resolves once its output matches `ready`. */
export function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(ready);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out.slice(-2000)}`)));
  });
}

/** `holocase serve` on 127.0.0.1:`port` over `dataDir`, logging warnings only; resolves once it is running. */
export async function startHolocaseServe(dataDir: string, port: number): Promise<ChildProcess> {
  const args = ['bin/holocase.mjs', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data', dataDir, '--skip-build'];
  return (await startProcess(args, { HOLOCASE_LOG_LEVEL: 'warn' }, /holocase is running/)).child;
}

/** Stops a process started here and waits until it has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
