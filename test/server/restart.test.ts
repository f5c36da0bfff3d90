/**
 * A server killed mid-job (SIGKILL, no chance to clean up) and started again: the job resumes from its
 * last completed step and finishes, or — once it was interrupted more often than allowed — ends failed
 * and retryable, and a re-run then finishes it. Never stuck "running".
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processRunning } from '../../server/jobs/caseLock.ts';
import { addUser, buildWebApp, Client, followEvents, identifiedDicomZip, saveLog, startServe, tempDataDir, type ServerProc } from './harness.ts';

/** Each test starts the server two or three times and runs jobs; a loaded 2-core machine needs minutes. */
const RESTART_TIMEOUT_MS = 360_000;

let zip: Uint8Array;
let server: ServerProc | undefined;

beforeAll(async () => {
  await buildWebApp();
  zip = await identifiedDicomZip();
}, 600_000);

afterEach(async () => {
  await server?.stop('SIGKILL');
});

async function signedIn(dataDir: string, s: ServerProc): Promise<Client> {
  const client = new Client(s.url);
  await client.signInFirstTime('alice', addUser(dataDir, 'alice'));
  return client;
}

/** Waits until the case's job is past ingest (the upload turned into the de-identified CT). */
async function waitPastIngest(client: Client, id: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const detail = await client.json(`/api/cases/${id}`);
    if (detail.body.status === 'running' && ['segment', 'mesh'].includes(detail.body.stage)) return;
    expect(detail.body.status).not.toBe('done'); // too fast to interrupt would make this test meaningless
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the job never reached segmentation');
}

/** Uploads and waits until the job is past ingest. */
async function uploadAndWaitPastIngest(client: Client): Promise<string> {
  const started = await client.json('/api/cases', { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
  expect(started.status).toBe(202);
  const id = started.body.id as string;
  await waitPastIngest(client, id);
  return id;
}

/** The pid of the server's job child, from the log line it writes when it starts. */
function jobPid(output: string): number {
  const line = output.split('\n').find((l) => l.includes('"role":"job"') && l.includes('"msg":"job started"'));
  return Number(/"pid":(\d+)/.exec(line ?? '')?.[1]);
}


describe('restart during a job', () => {
  it('resumes an interrupted job from the stored CT and finishes it', async () => {
    const dataDir = await tempDataDir();
    server = await startServe(dataDir);
    const client = await signedIn(dataDir, server);
    const id = await uploadAndWaitPastIngest(client);
    const child = jobPid(server.output());
    expect(child).toBeGreaterThan(0);

    await server.stop('SIGKILL');
    await saveLog('restart-1', server.output());
    // The job's process stops within 2 s of its parent's death although it is in a CPU-heavy stage
    // (its watchdog thread notices), so no two runners of the case exist after the restart.
    const killed = Date.now();
    while (processRunning(child) && Date.now() - killed < 2000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(processRunning(child)).toBe(false);
    // Step 1 had completed: the raw upload is gone, the de-identified CT waits in the work folder.
    expect(await readdir(path.join(dataDir, 'incoming'))).toEqual([]);
    expect((await stat(path.join(dataDir, 'work', id, 'ct.nii.gz'))).size).toBeGreaterThan(0);
    await expect(stat(path.join(dataDir, 'cases', id))).rejects.toThrow(); // nothing half-published

    server = await startServe(dataDir);
    const again = new Client(server.url);
    again.cookie = client.cookie;
    const events = await followEvents(again, `/api/cases/${id}/events`);
    expect(events.at(-1)!.event, JSON.stringify(events.at(-1))).toBe('done');
    const detail = await again.json(`/api/cases/${id}`);
    expect(detail.body.status).toBe('done');
    expect(detail.body.report.input.format).toBe('dicom');
    expect(server.output()).toMatch(/job resumes after an interruption/);
    await saveLog('restart-2', server.output());
  }, RESTART_TIMEOUT_MS);

  it('fails the job as retryable once interrupted more often than allowed, and a re-run finishes it', async () => {
    const dataDir = await tempDataDir();
    const env = { HOLOCASE_MAX_INTERRUPTIONS: '1' };
    server = await startServe(dataDir, env);
    const client = await signedIn(dataDir, server);
    const id = await uploadAndWaitPastIngest(client);
    await server.stop('SIGKILL');

    // First restart: resumed (1 interruption allowed). Kill it again mid-job.
    server = await startServe(dataDir, env);
    const c2 = new Client(server.url);
    c2.cookie = client.cookie;
    await waitPastIngest(c2, id);
    await server.stop('SIGKILL');

    // Second restart: failed, retryable — not running, not queued.
    server = await startServe(dataDir, env);
    const c3 = new Client(server.url);
    c3.cookie = client.cookie;
    const failed = await c3.json(`/api/cases/${id}`);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.errorCode).toBe('JOB_INTERRUPTED');
    expect(failed.body.retryable).toBe(true);
    const first = await followEvents(c3, `/api/cases/${id}/events`);
    expect(first[0]!.event).toBe('failed');

    const rerun = await c3.json(`/api/cases/${id}/rerun`, { method: 'POST', body: {} });
    expect(rerun.status).toBe(202);
    const events = await followEvents(c3, rerun.body.eventsUrl);
    expect(events.at(-1)!.event).toBe('done');
  }, RESTART_TIMEOUT_MS);
});
