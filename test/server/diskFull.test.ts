/**
 * A full disk, for real: the data folder is a small tmpfs mounted for the test (Linux, as root — the
 * test is skipped, saying why, where mounting is not allowed). An upload that does not fit answers 507
 * and keeps nothing; a job that runs out of space while reading its upload keeps the upload and fails
 * retryable, and once there is space again a re-run finishes it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, buildWebApp, Client, followEvents, identifiedDicomZip, listFiles, requestFrom, saveLog, startServe, type ServerProc } from './harness.ts';

const MIB = 1024 ** 2;

/** Whether this machine lets the test mount a tmpfs (root on Linux, outside a locked-down container). */
function canMountTmpfs(): boolean {
  const dir = path.join(os.tmpdir(), `holocase-mount-probe-${process.pid}`);
  spawnSync('mkdir', ['-p', dir]);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status === 0;
  if (mounted) spawnSync('umount', [dir]);
  spawnSync('rmdir', [dir]);
  return mounted;
}

const MOUNTABLE = process.platform === 'linux' && canMountTmpfs();
if (!MOUNTABLE) console.warn('disk-full tests skipped: mounting a tmpfs needs root on Linux (mount -t tmpfs)');

describe.skipIf(!MOUNTABLE)('a full disk', () => {
  let dataDir: string;
  let server: ServerProc | undefined;
  let client: Client;
  let zip: Uint8Array;

  beforeAll(async () => {
    await buildWebApp();
    zip = await identifiedDicomZip();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'holocase-diskfull-'));
    // Room for the database and the upload, not for unpacking it too.
    const size = Math.ceil(zip.length / MIB) + 2;
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}m,mode=700`, 'tmpfs', dataDir]).status).toBe(0);
    const password = addUser(dataDir, 'alice');
    server = await startServe(dataDir);
    client = new Client(server.url);
    await client.signInFirstTime('alice', password);
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await saveLog('disk-full', server?.output());
    spawnSync('umount', ['-l', dataDir]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers an upload that does not fit with 507, and keeps nothing of it', async () => {
    const body = new Uint8Array(Math.ceil(zip.length / MIB + 4) * MIB);
    body.set([0x50, 0x4b, 3, 4]);
    // On a connection of its own (the server answers before the body has all arrived).
    const base = server!.url.replace('localhost', '127.0.0.1');
    const r = await requestFrom('127.0.0.1', `${base}/api/cases`, {
      method: 'POST',
      headers: { cookie: client.cookie!, origin: base, 'content-type': 'application/zip' },
      body,
    });
    expect(r.status).toBe(507);
    const error = JSON.parse(r.text).error;
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toMatch(/out of disk space/);
    expect(await listFiles(path.join(dataDir, 'incoming'))).toEqual([]);
  });

  it('fails a job that runs out of space while reading its upload as retryable, keeps the upload, and a re-run with space finishes it', async () => {
    const started = await client.json('/api/cases', { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    const events = await followEvents(client, started.body.eventsUrl);
    const failed = events.at(-1)!;
    expect(failed.event).toBe('failed');
    expect(failed.data.error.code).toBe('DISK_FULL');
    expect(failed.data.error.retryable).toBe(true);
    expect(failed.data.error.message).toMatch(/ran out of disk space while reading the upload; free some space and run it again/);
    // The upload is what a re-run needs: kept.
    expect((await readdir(path.join(dataDir, 'incoming', id))).length).toBe(1);

    expect(spawnSync('mount', ['-o', 'remount,size=256m', dataDir]).status).toBe(0);
    const rerun = await client.json(`/api/cases/${id}/rerun`, { method: 'POST', body: {} });
    expect(rerun.status).toBe(202);
    const done = await followEvents(client, rerun.body.eventsUrl);
    expect(done.at(-1)!.event, JSON.stringify(done.at(-1))).toBe('done');
    expect(await listFiles(path.join(dataDir, 'incoming'))).toEqual([]);
  });
});
