/**
 * The server end to end in embedded mode: a real `holocase serve`, real SQLite, the real pipeline in a
 * child process. Accounts, access, uploads (limits, content, zip-slip), SSE progress, GLB serving,
 * share links and codes, deletion, and that no identifying value reaches storage or logs.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import {
  addUser,
  buildWebApp,
  Client,
  followEvents,
  identifiedDicomZip,
  IDENTIFIERS,
  listFiles,
  ROOT,
  saveLog,
  startServe,
  tempDataDir,
  validateGlb,
  type ServerProc,
} from './harness.ts';

const LIMIT = 6 * 1024 * 1024;
let dataDir: string;
let server: ServerProc;
let alice: Client; // team "vascular", uploads
let bob: Client; // team "ortho"
let carol: Client; // team "vascular"
let caseId: string;
let zip: Uint8Array;

beforeAll(async () => {
  await buildWebApp();
  dataDir = await tempDataDir();
  const passwords = {
    alice: addUser(dataDir, 'alice', { admin: true, team: 'vascular' }),
    bob: addUser(dataDir, 'bob', { team: 'ortho' }),
    carol: addUser(dataDir, 'carol', { team: 'vascular' }),
  };
  server = await startServe(dataDir, { HOLOCASE_MAX_UPLOAD_BYTES: String(LIMIT) });
  alice = new Client(server.url);
  bob = new Client(server.url);
  carol = new Client(server.url);
  // The first sign-in needs the one-time password changed before anything else works.
  const first = await alice.json('/api/session', { method: 'POST', body: { username: 'alice', password: passwords.alice } });
  expect(first.status).toBe(200);
  expect(first.body.user.mustChangePassword).toBe(true);
  expect((await alice.json('/api/cases')).status).toBe(403);
  const changed = await alice.json('/api/session/password', { method: 'POST', body: { currentPassword: passwords.alice, newPassword: 'alice-correct-horse-42' } });
  expect(changed.status).toBe(200);
  await bob.signInFirstTime('bob', passwords.bob);
  await carol.signInFirstTime('carol', passwords.carol);
  zip = await identifiedDicomZip();
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await saveLog('cases', server?.output());
});

describe('accounts', () => {
  it('sets an HttpOnly, SameSite=Lax, Path=/ session cookie (no Secure over plain HTTP)', async () => {
    const c = new Client(server.url);
    const wrong = await c.json('/api/session', { method: 'POST', body: { username: 'alice', password: 'not-her-password' } });
    expect(wrong.status).toBe(401);
    const ok = await c.json('/api/session', { method: 'POST', body: { username: 'alice', password: 'alice-correct-horse-42' } });
    expect(ok.status).toBe(200);
    const cookie = c.lastSetCookie!;
    expect(cookie).toMatch(/^holocase_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    expect((await c.json('/api/session')).body.user.username).toBe('alice');
    expect((await c.json('/api/session', { method: 'DELETE' })).status).toBe(200);
    expect((await c.json('/api/session')).body.user).toBeNull();
  });

  it('refuses state-changing requests with a session but without a matching Origin', async () => {
    const noOrigin = await alice.json('/api/cases/00000000-0000-4000-8000-000000000000/shares', { method: 'POST', body: {}, origin: null });
    expect(noOrigin.status).toBe(403);
    const otherSite = await alice.json('/api/cases/00000000-0000-4000-8000-000000000000/shares', { method: 'POST', body: {}, origin: 'https://evil.example' });
    expect(otherSite.status).toBe(403);
    expect(otherSite.body.error.code).toBe('FORBIDDEN');
    // Same request from our own origin passes the check and reaches the access rule (unknown case → 404).
    const sameSite = await alice.json('/api/cases/00000000-0000-4000-8000-000000000000/shares', { method: 'POST', body: {} });
    expect(sameSite.status).toBe(404);
  });

  it('answers without a session with 401 and a JSON error', async () => {
    const anonymous = new Client(server.url);
    const r = await anonymous.json('/api/cases');
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
  });
});

describe('upload → job → case', () => {
  it('processes a DICOM zip uploaded over HTTP, streaming progress to completion', async () => {
    const form = new FormData();
    form.append('label', 'Demo liver');
    form.append('files', new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `${IDENTIFIERS.fileName}.zip`);
    const started = await alice.json('/api/cases', { method: 'POST', body: form });
    expect(started.status).toBe(202);
    caseId = started.body.id;
    expect(started.body.eventsUrl).toBe(`/api/cases/${caseId}/events`);

    const events = await followEvents(alice, started.body.eventsUrl);
    expect(events[0]!.event).toBe('progress'); // the current state comes first
    const last = events.at(-1)!;
    expect(last.event, JSON.stringify(last.data)).toBe('done');
    const percents = events.filter((e) => e.event === 'progress').map((e) => e.data.percent as number);
    expect(percents.length).toBeGreaterThan(3);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents); // never goes back
    expect(new Set(events.map((e) => e.data.stage).filter(Boolean))).toEqual(new Set(['ingest', 'segment', 'mesh', 'store']));

    // How long each stage took: a progress message as it ends, one job-log line, and the report.
    const stages = ['ingest', 'segment', 'mesh', 'store'];
    for (const stage of stages) {
      expect(events.some((e) => e.data.stage === stage && /^done in \d+\.\d s$/.test(String(e.data.message))), stage).toBe(true);
    }
    const logged = server
      .output()
      .split('\n')
      .filter((line) => line.includes('"role":"job"') && line.includes(caseId))
      .map((line) => JSON.parse(line) as { msg: string; stage?: string; seconds?: number; peakRssMb?: number })
      .filter((line) => line.stage !== undefined && line.msg.startsWith(`stage ${line.stage} done in`));
    expect(logged.map((line) => line.stage)).toEqual(stages);

    const detail = await alice.json(`/api/cases/${caseId}`);
    expect(detail.body.report.stages.map((s: { stage: string }) => s.stage)).toEqual(stages);
    expect(detail.body.report.stages.map((s: { seconds: number }) => s.seconds)).toEqual(logged.map((line) => line.seconds));
    expect(detail.body.report.peakRssMb).toBeGreaterThan(0);
    expect(detail.body.status).toBe('done');
    expect(detail.body.percent).toBe(100);
    expect(detail.body.label).toBe('Demo liver');
    expect(detail.body.structures.length).toBeGreaterThan(0);
    expect(detail.body.report.input.format).toBe('dicom');
    expect(detail.body.glbUrl).toMatch(new RegExp(`^/api/cases/${caseId}/model\\.glb\\?v=`));
    expect(detail.body.xrGlbUrl).toMatch(new RegExp(`^/api/cases/${caseId}/model\\.glb\\?level=xr&v=`));

    const list = await alice.json('/api/cases');
    expect(list.body.cases.map((c: { id: string }) => c.id)).toContain(caseId);

    const glb = await alice.fetch(detail.body.glbUrl, { origin: null, headers: { 'accept-encoding': 'identity' } });
    expect(glb.status).toBe(200);
    expect(glb.headers.get('content-type')).toBe('model/gltf-binary');
    const bytes = new Uint8Array(await glb.arrayBuffer());
    expect(bytes.length).toBe(detail.body.glbBytes);
    const validation = await validateGlb(bytes);
    expect(validation.messages).toEqual([]);
    expect(validation.numErrors).toBe(0);

    // The raw upload is gone; the case folder holds exactly the de-identified outputs.
    expect(await readdir(path.join(dataDir, 'incoming')).catch(() => [])).toEqual([]);
    const caseFiles = (await readdir(path.join(dataDir, 'cases', caseId))).filter((f) => !/\.glb\.(gz|br)$/.test(f));
    expect(caseFiles.sort()).toEqual(['case-xr.glb', 'case.glb', 'ct-chunks.bin', 'ct-chunks.json', 'ct.nii.gz', 'glb-levels.json', 'labels.nii.gz', 'meshes-xr.bin', 'meshes.bin', 'report.json']);
  });

  it('serves the GLB with ETag, 304, Range (206/416), HEAD and compressed variants', async () => {
    const url = `/api/cases/${caseId}/model.glb`;
    const full = await alice.fetch(url, { origin: null, headers: { 'accept-encoding': 'identity' } });
    const bytes = new Uint8Array(await full.arrayBuffer());
    const etag = full.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(full.headers.get('cache-control')).toMatch(/private/);
    expect(full.headers.get('vary')).toMatch(/Accept-Encoding/i);
    expect(full.headers.get('accept-ranges')).toBe('bytes');

    const again = await alice.fetch(url, { origin: null, headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);

    const range = await alice.fetch(url, { origin: null, headers: { range: 'bytes=100-199', 'accept-encoding': 'identity' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(100, 200));
    const suffix = await alice.fetch(url, { origin: null, headers: { range: 'bytes=-10' } });
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(bytes.slice(-10));
    const outside = await alice.fetch(url, { origin: null, headers: { range: `bytes=${bytes.length + 5}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${bytes.length}`);

    const head = await alice.fetch(url, { method: 'HEAD', origin: null, headers: { 'accept-encoding': 'identity' } });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(bytes.length);

    // Compressed copies exist only where they help; whatever is served must decode to the same bytes.
    const detail = await alice.json(`/api/cases/${caseId}`);
    const encodings: string[] = [];
    for (const name of await readdir(path.join(dataDir, 'cases', caseId))) {
      if (name === 'case.glb.gz') encodings.push('gzip');
      if (name === 'case.glb.br') encodings.push('br');
    }
    for (const encoding of encodings) {
      const r = await fetch(server.url + url, { headers: { cookie: alice.cookie!, 'accept-encoding': encoding } });
      // fetch decodes transparently; the header tells what travelled.
      expect(r.headers.get('content-encoding')).toBe(encoding);
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(bytes);
    }
    const raw = path.join(dataDir, 'cases', caseId, 'case.glb');
    if (encodings.includes('gzip')) expect(new Uint8Array(gunzipSync(await readFile(raw + '.gz')))).toEqual(bytes);
    if (encodings.includes('br')) expect(new Uint8Array(brotliDecompressSync(await readFile(raw + '.br')))).toEqual(bytes);
    expect(detail.body.glbBytes).toBe(bytes.length);
  });

  it('serves the headset level of detail as its own file: ETag, 304, Range, compressed copies; an unknown level is refused', async () => {
    const detail = await alice.json(`/api/cases/${caseId}`);
    const desktop = await alice.fetch(detail.body.glbUrl, { origin: null, headers: { 'accept-encoding': 'identity' } });
    const xr = await alice.fetch(detail.body.xrGlbUrl, { origin: null, headers: { 'accept-encoding': 'identity' } });
    expect(xr.status).toBe(200);
    expect(xr.headers.get('content-type')).toBe('model/gltf-binary');
    // A versioned URL may be cached.
    expect(xr.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const bytes = new Uint8Array(await xr.arrayBuffer());
    expect(bytes).toEqual(new Uint8Array(await readFile(path.join(dataDir, 'cases', caseId, 'case-xr.glb'))));
    expect((await validateGlb(bytes)).numErrors).toBe(0);
    expect(detail.body.report.glb.xr).toEqual({ bytes: bytes.length, triangles: expect.any(Number), drawCalls: detail.body.structures.length });
    expect(detail.body.report.glb.xr.triangles).toBeLessThanOrEqual(detail.body.report.glb.triangles);
    const etag = xr.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    // Its own validator: the desktop's ETag does not answer for it unless the bytes are the same.
    const desktopBytes = new Uint8Array(await desktop.arrayBuffer());
    if (Buffer.compare(Buffer.from(desktopBytes), Buffer.from(bytes)) !== 0) expect(etag).not.toBe(desktop.headers.get('etag'));
    const url = `/api/cases/${caseId}/model.glb?level=xr`;
    expect((await alice.fetch(url, { origin: null, headers: { 'if-none-match': etag } })).status).toBe(304);
    const range = await alice.fetch(url, { origin: null, headers: { range: 'bytes=10-59', 'accept-encoding': 'identity' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 10-59/${bytes.length}`);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(10, 60));
    const head = await alice.fetch(url, { method: 'HEAD', origin: null, headers: { 'accept-encoding': 'identity' } });
    expect(Number(head.headers.get('content-length'))).toBe(bytes.length);
    for (const name of await readdir(path.join(dataDir, 'cases', caseId))) {
      const encoding = name === 'case-xr.glb.gz' ? 'gzip' : name === 'case-xr.glb.br' ? 'br' : null;
      if (!encoding) continue;
      const r = await fetch(server.url + url, { headers: { cookie: alice.cookie!, 'accept-encoding': encoding } });
      expect(r.headers.get('content-encoding')).toBe(encoding);
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(bytes);
    }

    // The same access rules as the desktop level.
    expect((await bob.fetch(url, { origin: null })).status).toBe(404);
    const unknown = await alice.json(`/api/cases/${caseId}/model.glb?level=ultra`, { origin: null });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('BAD_REQUEST');
  });

  it('hides a case from users outside its team (404), shows it to the team once shared, lets only the owner change it', async () => {
    expect((await bob.json(`/api/cases/${caseId}`)).status).toBe(404);
    expect((await bob.fetch(`/api/cases/${caseId}/model.glb`, { origin: null })).status).toBe(404);
    expect((await bob.json('/api/cases')).body.cases).toEqual([]);
    expect((await bob.json(`/api/cases/${caseId}`, { method: 'DELETE' })).status).toBe(404);
    expect((await carol.json(`/api/cases/${caseId}`)).status).toBe(404);

    expect((await alice.json(`/api/cases/${caseId}`, { method: 'PATCH', body: { teamShared: true } })).status).toBe(200);
    expect((await carol.json(`/api/cases/${caseId}`)).status).toBe(200);
    expect((await carol.json('/api/cases')).body.cases.map((c: { id: string }) => c.id)).toEqual([caseId]);
    expect((await carol.json(`/api/cases/${caseId}`, { method: 'DELETE' })).status).toBe(403);
    expect((await bob.json(`/api/cases/${caseId}`)).status).toBe(404);
  });
});

describe('share links', () => {
  it('opens one case read-only: structures and GLB, nothing else', async () => {
    const created = await alice.json(`/api/cases/${caseId}/shares`, { method: 'POST', body: {} });
    expect(created.status).toBe(201);
    const { token, url, code, expiresAt } = created.body;
    expect(url).toBe(`/s/${token}`);
    expect(Buffer.from(token, 'base64url').length).toBe(16);
    expect(code).toMatch(/^[A-Z0-9]{3}-[A-Z0-9]{3}$/);
    const days = (Date.parse(expiresAt) - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);

    const guest = new Client(server.url);
    const shared = await guest.json(`/api/share/${token}`);
    expect(shared.status).toBe(200);
    expect(Object.keys(shared.body).sort()).toEqual(['expiresAt', 'glbUrl', 'label', 'model', 'processedAt', 'revision', 'structures', 'xrGlbUrl']);
    expect(shared.body.label).toBe('Demo liver');
    const glb = await guest.fetch(shared.body.glbUrl, { origin: null });
    expect(glb.status).toBe(200);
    expect(glb.headers.get('cache-control')).toMatch(/no-cache/);
    const own = await alice.fetch(`/api/cases/${caseId}/model.glb`, { origin: null, headers: { 'accept-encoding': 'identity' } });
    expect(new Uint8Array(await glb.arrayBuffer())).toEqual(new Uint8Array(await own.arrayBuffer()));
    // The headset level through the link: the owner's bytes, revalidated on every use.
    const sharedXr = await guest.fetch(shared.body.xrGlbUrl, { origin: null, headers: { 'accept-encoding': 'identity' } });
    expect(sharedXr.status).toBe(200);
    expect(sharedXr.headers.get('cache-control')).toMatch(/no-cache/);
    const ownXr = await alice.fetch(`/api/cases/${caseId}/model.glb?level=xr`, { origin: null, headers: { 'accept-encoding': 'identity' } });
    expect(new Uint8Array(await sharedXr.arrayBuffer())).toEqual(new Uint8Array(await ownXr.arrayBuffer()));

    // The token opens nothing else: no list, no detail, no CT or label download, no other case.
    expect((await guest.json('/api/cases')).status).toBe(401);
    expect((await guest.json(`/api/cases/${caseId}`)).status).toBe(401);
    expect((await guest.fetch(`/api/share/${token}/ct.nii.gz`, { origin: null })).status).toBe(404);
    expect((await guest.fetch(`/api/share/${token}/../../cases/${caseId}`, { origin: null })).status).not.toBe(200);
    const tokenAsCookie = await fetch(`${server.url}/api/cases`, { headers: { cookie: `holocase_session=${token}` } });
    expect(tokenAsCookie.status).toBe(401);
    expect((await guest.json(`/api/share/${'A'.repeat(22)}`)).status).toBe(404);
  });

  it('stops working the moment it is revoked (410), and after it expires (410)', async () => {
    const created = await alice.json(`/api/cases/${caseId}/shares`, { method: 'POST', body: {} });
    const guest = new Client(server.url);
    expect((await guest.json(`/api/share/${created.body.token}`)).status).toBe(200);
    expect((await bob.json(`/api/shares/${created.body.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await alice.json(`/api/shares/${created.body.id}`, { method: 'DELETE' })).status).toBe(204);
    const revoked = await guest.json(`/api/share/${created.body.token}`);
    expect(revoked.status).toBe(410);
    expect(revoked.body.error.code).toBe('GONE');
    expect((await guest.fetch(`/api/share/${created.body.token}/model.glb`, { origin: null })).status).toBe(410);
    expect((await guest.fetch(`/api/share/${created.body.token}/model.glb?level=xr`, { origin: null })).status).toBe(410);
    expect((await guest.json('/api/share-code', { method: 'POST', body: { code: created.body.code } })).status).toBe(410);

    const shortLived = await alice.json(`/api/cases/${caseId}/shares`, { method: 'POST', body: { expiresInDays: 1.5 / 86400 } });
    expect((await guest.json(`/api/share/${shortLived.body.token}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await guest.json(`/api/share/${shortLived.body.token}`)).status).toBe(410);
    expect((await guest.fetch(`/api/share/${shortLived.body.token}/model.glb`, { origin: null })).status).toBe(410);

    const listed = await alice.json(`/api/cases/${caseId}/shares`);
    const states = Object.fromEntries(listed.body.shares.map((s: { id: string; active: boolean }) => [s.id, s.active]));
    expect(states[created.body.id]).toBe(false);
    expect(states[shortLived.body.id]).toBe(false);
  });

  it('resolves a typed code to a fresh link and rate-limits wrong codes (429 + Retry-After)', async () => {
    const created = await alice.json(`/api/cases/${caseId}/shares`, { method: 'POST', body: {} });
    const guest = new Client(server.url);
    const typed = created.body.code.toLowerCase().replace('-', ' ');
    const redeemed = await guest.json('/api/share-code', { method: 'POST', body: { code: typed } });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.url).toMatch(/^\/s\/[A-Za-z0-9_-]{22}$/);
    expect(redeemed.body.url).not.toBe(created.body.url);
    const token = redeemed.body.url.slice(3);
    expect((await guest.json(`/api/share/${token}`)).status).toBe(200);
    // Revoking the share ends the code's tokens too.
    await alice.json(`/api/shares/${created.body.id}`, { method: 'DELETE' });
    expect((await guest.json(`/api/share/${token}`)).status).toBe(410);

    let limited: Response | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const r = await guest.json('/api/share-code', { method: 'POST', body: { code: `ZZZ${String(i).padStart(3, '9')}` } });
      if (r.status === 429) limited = r.response;
      else expect(r.status).toBe(404);
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('upload limits and bad input', () => {
  async function incomingLeft(): Promise<string[]> {
    return listFiles(path.join(dataDir, 'incoming'));
  }

  it('refuses an upload over the limit by Content-Length with 413 and keeps nothing', async () => {
    const body = new Uint8Array(LIMIT + 1024);
    const r = await alice.json('/api/cases', { method: 'POST', body, headers: { 'content-type': 'application/zip' } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('INPUT_TOO_LARGE');
    expect(await incomingLeft()).toEqual([]);
  });

  it('stops a streamed upload (no Content-Length) as soon as it passes the limit, with 413 and no files left', async () => {
    const chunk = new Uint8Array(256 * 1024).fill(7);
    chunk.set([0x50, 0x4b, 3, 4]);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > LIMIT * 3) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    let status: number | undefined;
    try {
      const r = await alice.fetch('/api/cases', { method: 'POST', body: stream, headers: { 'content-type': 'application/zip' } });
      status = r.status;
      await r.text();
    } catch {
      status = undefined; // the server may close the connection while the client is still sending
    }
    if (status !== undefined) expect(status).toBe(413);
    expect(sent).toBeLessThan(LIMIT * 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await incomingLeft()).toEqual([]);
    const cases = (await alice.json('/api/cases')).body.cases;
    expect(cases.map((c: { id: string }) => c.id)).toEqual([caseId]);
  });

  it('answers 415 for content that is not DICOM, zip or NIfTI, and 404 naming the models for an unknown model', async () => {
    const form = new FormData();
    form.append('files', new Blob(['just some notes about the patient']), 'notes.txt');
    const r = await alice.json('/api/cases', { method: 'POST', body: form });
    expect(r.status).toBe(415);
    expect(r.body.error.message).toMatch(/DICOM/);

    const models = await alice.json('/api/models');
    expect(models.body.models.length).toBeGreaterThan(0);
    const unknown = await alice.json('/api/cases?model=no-such-model', { method: 'POST', body: zip, headers: { 'content-type': 'application/zip' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain(models.body.models[0].id);
    expect(await incomingLeft()).toEqual([]);
  });

  it('writes nothing outside the data folder for a zip-slip archive', async () => {
    const parent = path.dirname(dataDir);
    const marker = `holocase-zipslip-${Date.now()}.txt`;
    const evil = zipSync({
      [`../../${marker}`]: new TextEncoder().encode('escaped'),
      [`../${marker}`]: new TextEncoder().encode('escaped'),
      [`/tmp/${marker}`]: new TextEncoder().encode('escaped'),
      'ok/readme.txt': new TextEncoder().encode('x'),
    });
    const r = await alice.json('/api/cases', { method: 'POST', body: evil, headers: { 'content-type': 'application/zip' } });
    expect(r.status).toBe(202);
    const events = await followEvents(alice, r.body.eventsUrl);
    expect(events.at(-1)!.event).toBe('failed');
    expect(events.at(-1)!.data.error.retryable).toBe(false);
    for (const dir of [parent, path.dirname(parent), '/tmp', dataDir, path.join(dataDir, '..', '..')]) {
      await expect(stat(path.join(dir, marker))).rejects.toThrow();
    }
    expect((await listFiles(dataDir)).filter((f) => f.includes(marker))).toEqual([]);
    // The upload was removed even though it failed.
    expect(await incomingLeft()).toEqual([]);
    expect((await alice.json(`/api/cases/${r.body.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('fails a damaged NIfTI with a message about the uploaded file, not its stored name, and keeps nothing', async () => {
    // A real header whose voxel data stops after one slice.
    const whole = gunzipSync(await readFile(path.join(ROOT, '../shared/fixtures/totalsegmentator/example_ct.nii.gz')));
    const damaged = whole.subarray(0, 352 + 122 * 101 * 2);
    const form = new FormData();
    form.append('files', new Blob([damaged]), 'abdomen.nii');
    const r = await alice.json('/api/cases', { method: 'POST', body: form });
    expect(r.status).toBe(202);
    const events = await followEvents(alice, r.body.eventsUrl);
    const failed = events.at(-1)!;
    expect(failed.event).toBe('failed');
    expect(failed.data.error.retryable).toBe(false);
    expect(failed.data.error.message).toMatch(/^the uploaded file /);
    expect(failed.data.error.message).not.toMatch(/part-|\/|\n\s+at /);
    const detail = await alice.json(`/api/cases/${r.body.id}`);
    expect(detail.body.status).toBe('failed');
    expect(detail.body.error).toBe(failed.data.error.message);
    expect(await incomingLeft()).toEqual([]);
    expect((await alice.json(`/api/cases/${r.body.id}`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('privacy', () => {
  it('keeps no identifying value or original file name in the database, the data folder or the logs', async () => {
    const needles = Object.values(IDENTIFIERS).flatMap((v) => [v, ...v.split('^')]).filter((v) => v.length >= 6);
    needles.push('Petersgraben'); // the fixture's own institution address
    const files = await listFiles(dataDir);
    expect(files.some((f) => f.endsWith('holocase.db'))).toBe(true);
    for (const file of files) {
      let content = await readFile(file);
      if (file.endsWith('.gz')) content = gunzipSync(content);
      const text = content.toString('latin1');
      for (const needle of needles) expect(text.includes(needle), `${needle} in ${file}`).toBe(false);
      expect(file).not.toContain(IDENTIFIERS.fileName);
    }
    const logs = server.output();
    expect(logs.length).toBeGreaterThan(1000);
    for (const needle of [...needles, 'Demo liver', 'alice-correct-horse-42']) expect(logs.includes(needle), `${needle} in logs`).toBe(false);
    expect(logs).not.toMatch(/holocase_session=/);
  });
});

describe('re-run and delete', () => {
  it('re-runs a case from its stored CT and deletes a case with all its files', async () => {
    const rerun = await alice.json(`/api/cases/${caseId}/rerun`, { method: 'POST', body: {} });
    expect(rerun.status).toBe(202);
    const events = await followEvents(alice, rerun.body.eventsUrl);
    expect(events.at(-1)!.event).toBe('done');
    const detail = await alice.json(`/api/cases/${caseId}`);
    expect(detail.body.report.input.format).toBe('dicom'); // still says what was uploaded

    const share = await alice.json(`/api/cases/${caseId}/shares`, { method: 'POST', body: {} });
    expect((await alice.json(`/api/cases/${caseId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await alice.json(`/api/cases/${caseId}`)).status).toBe(404);
    expect((await new Client(server.url).json(`/api/share/${share.body.token}`)).status).toBe(404);
    for (const dir of ['cases', 'work', 'incoming', 'revisions']) {
      expect((await listFiles(path.join(dataDir, dir))).filter((f) => f.includes(caseId))).toEqual([]);
    }
  });
});
