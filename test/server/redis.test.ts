/**
 * Scale-out mode: a real redis-server, the web server with REDIS_URL, and a separate `holocase worker`
 * process that runs the job. Upload → SSE to completion → valid GLB → case in the list; the web server
 * itself never runs the pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addUser,
  buildWebApp,
  Client,
  followEvents,
  identifiedDicomZip,
  saveLog,
  startRedis,
  startServe,
  startWorker,
  tempDataDir,
  validateGlb,
  type Proc,
  type RedisProc,
  type ServerProc,
} from './harness.ts';

let redis: RedisProc;
let server: ServerProc;
let worker: Proc;
let dataDir: string;

beforeAll(async () => {
  await buildWebApp();
  redis = await startRedis();
  dataDir = await tempDataDir();
  const env = { REDIS_URL: redis.url };
  server = await startServe(dataDir, env);
  worker = await startWorker(dataDir, env);
}, 600_000);

afterAll(async () => {
  await worker?.stop();
  await server?.stop();
  await saveLog('redis-server', server?.output());
  await saveLog('redis-worker', worker?.output());
  await redis?.stop();
});

describe('BullMQ on Redis with a separate worker process', () => {
  it('runs an uploaded DICOM zip to a valid GLB through the worker', async () => {
    const client = new Client(server.url);
    await client.signInFirstTime('alice', addUser(dataDir, 'alice'));
    const form = new FormData();
    form.append('label', 'Via worker');
    form.append('files', new Blob([(await identifiedDicomZip()) as Uint8Array<ArrayBuffer>]), 'study.zip');
    const started = await client.json('/api/cases', { method: 'POST', body: form });
    expect(started.status).toBe(202);
    const events = await followEvents(client, started.body.eventsUrl);
    expect(events.at(-1)!.event, JSON.stringify(events.at(-1))).toBe('done');
    expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThan(2);

    const detail = await client.json(`/api/cases/${started.body.id}`);
    expect(detail.body.status).toBe('done');
    expect(detail.body.structures.length).toBeGreaterThan(0);
    const glb = await client.fetch(detail.body.glbUrl, { origin: null });
    const validation = await validateGlb(new Uint8Array(await glb.arrayBuffer()));
    expect(validation.numErrors).toBe(0);
    expect((await client.json('/api/cases')).body.cases.map((c: { id: string }) => c.id)).toContain(started.body.id);

    // The job ran in the worker's child process, not under the web server.
    const jobLines = (output: string) => output.split('\n').filter((l) => l.includes('"role":"job"') && l.includes(started.body.id));
    expect(jobLines(worker.output()).length).toBeGreaterThan(0);
    expect(jobLines(server.output())).toEqual([]);
  });
});
