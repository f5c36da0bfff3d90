/**
 * The server under attack and clumsy use, end to end: a real `holocase serve`, real uploads, real
 * processes. A gzip-bomb NIfTI, lying DICOM files and an MR series are refused with a message by a
 * job that stays small; file names never reach stored or returned messages; floods of wrong
 * passwords and share codes from other addresses lock nobody else out; malformed addresses, forms
 * without a boundary, stalled uploads and uploads a crash cut off are handled; share pages answer
 * 410/404 like the API; every response carries the security headers.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShare, revokeShare } from '../../server/auth/shareLinks.ts';
import { openDatabase } from '../../server/store/database.ts';
import { insertCase, markCaseFailed } from '../../server/store/cases.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { writeDicomSeries } from '../../server/volume/dicomWriter.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { writeFakeCaseFolder } from '../fakeCaseFolder.ts';
import { gzipBombNifti } from '../volume/gzipBomb.ts';
import { addUser, buildWebApp, Client, DICOM_DIR, followEvents, listFiles, requestFrom, ROOT, saveLog, startServe, tempDataDir, type ServerProc } from './harness.ts';

const FIXTURES = path.join(ROOT, '../shared/fixtures');
/** What a careless export's folder is called: a patient's name and ID. */
const PATIENT_FOLDER = 'DOE^JANE PID-777-ZZ';
const NAME_NEEDLES = ['DOE', 'JANE', 'PID-777', 'IM00', 'inner', 'evil'];

let dataDir: string;
let server: ServerProc;
let alice: Client;
const shares = { usable: '', revoked: '', expired: '', code: '', sharedCase: '' };
const orphan = randomUUID();
/** A case that failed for good and one that may be re-run (disk full), both with their raw upload still there. */
const failedForGood = randomUUID();
const failedRetryable = randomUUID();

beforeAll(async () => {
  await buildWebApp();
  dataDir = await tempDataDir();
  // A case with three share links (usable, revoked, expired), made before the server starts.
  const db = openDatabase(dataDir);
  const caseId = await importCaseFolder(db, dataDir, await writeFakeCaseFolder(path.join(await tempDataDir(), 'source')), { label: 'shared' });
  const usable = createShare(db, caseId);
  const revoked = createShare(db, caseId);
  revokeShare(db, revoked.id);
  const expired = createShare(db, caseId, { expiresInDays: 1 }, Date.now() - 2 * 86400_000);
  Object.assign(shares, { usable: usable.token, revoked: revoked.token, expired: expired.token, code: usable.code, sharedCase: caseId });
  const model = { id: 'hu-anatomy', name: 'HU anatomy', version: '1' };
  for (const [id, retryable] of [[failedForGood, false], [failedRetryable, true]] as const) {
    insertCase(db, { id, ownerId: null, label: '', teamShared: false, model });
    markCaseFailed(db, id, { code: retryable ? 'DISK_FULL' : 'JOB_MEMORY', message: 'x', retryable });
    await mkdir(path.join(dataDir, 'incoming', id), { recursive: true });
    await writeFile(path.join(dataDir, 'incoming', id, 'part-000001.dcm'), 'raw upload');
  }
  db.close();
  // What a crash in the middle of an upload leaves: raw files (not yet de-identified) without a case.
  await mkdir(path.join(dataDir, 'incoming', orphan), { recursive: true });
  await writeFile(path.join(dataDir, 'incoming', orphan, 'part-000001.dcm'), await readFile(path.join(DICOM_DIR, (await readdir(DICOM_DIR))[0]!)));
  await mkdir(path.join(dataDir, 'work', orphan, 'unzip'), { recursive: true });

  const password = addUser(dataDir, 'alice', { team: 'vascular' });
  addUser(dataDir, 'bob');
  server = await startServe(dataDir, { HOLOCASE_JOB_MEMORY: '16G', HOLOCASE_UPLOAD_IDLE_SECONDS: '2' });
  alice = new Client(server.url);
  await alice.signInFirstTime('alice', password);
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await saveLog('hardening', server?.output());
});

/** Uploads `body` (a raw file, or a form) and follows the job to its end. */
async function uploadAndFollow(body: Uint8Array | FormData, contentType?: string): Promise<{ id: string; last: { event: string; data: any }; detail: any }> {
  const started = await alice.json('/api/cases', { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const events = await followEvents(alice, started.body.eventsUrl);
  const detail = (await alice.json(`/api/cases/${started.body.id}`)).body;
  return { id: started.body.id, last: events.at(-1)!, detail };
}

/** The job's log line for a case (its last `job failed…` or `job done` line), parsed. */
function jobLogLine(caseId: string): Record<string, unknown> {
  const line = server
    .output()
    .split('\n')
    .filter((l) => l.includes(`"caseId":"${caseId}"`) && l.includes('"role":"job"') && /"msg":"job (failed|done)/.test(l))
    .at(-1);
  expect(line, `no job log line for ${caseId}`).toBeDefined();
  return JSON.parse(line!);
}

describe('inputs are sized before they are read', () => {
  it('refuses a 4 MB gzip-bomb NIfTI (512×512×8000): failed, not retryable, with the reason, and the job stays small', async () => {
    const bomb = gzipBombNifti();
    const { id, last, detail } = await uploadAndFollow(bomb, 'application/gzip');
    expect(last.event).toBe('failed');
    expect(last.data.error.code).toBe('VOLUME_TOO_LARGE');
    expect(last.data.error.retryable).toBe(false);
    expect(last.data.error.message).toMatch(/^this CT \(512×512×8000 voxels\) needs about \d+\.\d GiB of memory to process .* more than this server gives one job \(16\.0 GiB, HOLOCASE_JOB_MEMORY\)/);
    expect(detail.status).toBe('failed');
    expect(detail.retryable).toBe(false);
    expect(detail.error).toBe(last.data.error.message);
    // The job's process never came near the 4 GiB the file declares (Node itself is most of it).
    expect(jobLogLine(id).maxRssMb).toBeLessThan(500);
    expect(await readdir(path.join(dataDir, 'incoming'))).not.toContain(id);
  });

  it.each(['MR_pixlen_len100MB.dcm', 'MR_pixlen_len2GB.dcm', 'MR_pixlen_len4GB.dcm'])('refuses %s (a Pixel Data length that lies) with a message', async (file) => {
    const form = new FormData();
    form.append('files', new Blob([await readFile(path.join(FIXTURES, 'dicom-encodings/bad', file))]), file);
    const { last } = await uploadAndFollow(form);
    expect(last.event).toBe('failed');
    expect(last.data.error.code).toBe('DICOM_TRUNCATED');
    expect(last.data.error.retryable).toBe(false);
    expect(last.data.error.message).toMatch(/^the file is cut short: pixel data is shorter than declared \(the header declares \d/);
  });

  it('refuses an MR series for the CT model, before reading its pixels', async () => {
    const dir = await tempDataDir();
    const ct = await readNifti(path.join(FIXTURES, 'totalsegmentator/example_ct_sm.nii.gz'));
    const files = await writeDicomSeries({ ...ct, meta: { source: 'nifti' } }, dir, { modality: 'MR' });
    const entries: Zippable = {};
    for (const file of files) entries[`series/${path.basename(file)}`] = new Uint8Array(await readFile(file));
    const { id, last } = await uploadAndFollow(zipSync(entries, { level: 0 }), 'application/zip');
    expect(last.event).toBe('failed');
    expect(last.data.error.code).toBe('MODALITY_MISMATCH');
    expect(last.data.error.retryable).toBe(false);
    expect(last.data.error.message).toBe('this scan is MR (modality in its header) but model "hu-anatomy" segments CT scans; choose a model made for MR');
    await expect(stat(path.join(dataDir, 'work', id, 'ct.nii.gz'))).rejects.toThrow();
  });
});

describe('file names never reach stored or returned messages', () => {
  it('names files and zip entries by position in every refusal', async () => {
    const slices = (await readdir(DICOM_DIR)).sort();
    const series: Zippable = {};
    for (const [i, name] of slices.entries()) series[`${PATIENT_FOLDER}/IM${String(i + 1).padStart(4, '0')}.dcm`] = new Uint8Array(await readFile(path.join(DICOM_DIR, name)));
    const cut = { ...series };
    const victim = `${PATIENT_FOLDER}/IM0021.dcm`;
    cut[victim] = (series[`${PATIENT_FOLDER}/IM0007.dcm`] as Uint8Array).slice(0, 6000);
    delete cut[`${PATIENT_FOLDER}/IM0007.dcm`];
    const garbage = new Uint8Array(await readFile(path.join(FIXTURES, 'dicom-encodings/bad/DICM_then_garbage.dcm')));
    const uploads: Record<string, Uint8Array> = {
      'truncated slice': zipSync(cut, { level: 0 }),
      'zip-slip': zipSync({ ...series, [`${PATIENT_FOLDER}/../../evil.dcm`]: garbage }, { level: 0 }),
      'zip bomb': zipSync({ [`${PATIENT_FOLDER}/IM0001.dcm`]: new Uint8Array(20 * 1024 ** 2) }, { level: 9 }),
      'nested zip': zipSync({ [`${PATIENT_FOLDER}/inner.zip`]: zipSync(series, { level: 0 }) }, { level: 0 }),
      'malformed DICOM': zipSync({ [`${PATIENT_FOLDER}/IM0021.dcm`]: garbage }, { level: 0 }),
    };
    const expected: Record<string, RegExp> = {
      'truncated slice': /^(file|slice) \d+ of 20 is cut short/,
      'zip-slip': /^the uploaded file was refused: its entry 21 of 21 climbs out of the folder/,
      'zip bomb': /^the uploaded file was refused: its entry 1 of 1 would expand/,
      'nested zip': /^the file is not a DICOM or NIfTI file \(it is a zip archive\)/,
      'malformed DICOM': /^the file is not a readable DICOM dataset/,
    };
    for (const [what, zip] of Object.entries(uploads)) {
      const { last, detail } = await uploadAndFollow(zip, 'application/zip');
      expect(last.event, what).toBe('failed');
      expect(last.data.error.retryable, what).toBe(false);
      expect(last.data.error.message, what).toMatch(expected[what]!);
      for (const needle of NAME_NEEDLES) {
        expect(last.data.error.message, `${what}: ${needle}`).not.toContain(needle);
        expect(detail.error, `${what}: ${needle}`).not.toContain(needle);
      }
    }
    // Nowhere in the database, the data folder or the logs either.
    for (const file of await listFiles(dataDir)) {
      if (!/holocase\.db/.test(file)) continue;
      const bytes = (await readFile(file)).toString('latin1');
      for (const needle of ['DOE^JANE', 'PID-777-ZZ', 'IM0021']) expect(bytes.includes(needle), `${needle} in ${file}`).toBe(false);
    }
    for (const needle of ['DOE^JANE', 'PID-777-ZZ', 'IM0021']) expect(server.output().includes(needle), `${needle} in the logs`).toBe(false);
  });
});

describe('guessing limits are per address and per account, never for everyone', () => {
  const signIn = (from: string, username: string, password: string) =>
    requestFrom(from, `${server.url.replace('localhost', '127.0.0.1')}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  const redeem = (from: string, code: string, headers: Record<string, string> = {}) =>
    requestFrom(from, `${server.url.replace('localhost', '127.0.0.1')}/api/share-code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ code }),
    });

  /** Runs `tasks` with at most `width` at a time. */
  async function pooled(tasks: (() => Promise<unknown>)[], width = 8): Promise<void> {
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }));
  }

  it('500 wrong passwords from 50 addresses leave sign-in open to everyone else, from a new address', async () => {
    const tasks: (() => Promise<unknown>)[] = [];
    for (let a = 0; a < 50; a++) {
      for (let i = 0; i < 10; i++) tasks.push(() => signIn(`127.0.0.${a + 2}`, i % 2 ? 'bob' : `guess-${a}-${i}`, `wrong-${i}`));
    }
    await pooled(tasks);
    // alice, not guessed at, signs in from an address the flood did not use.
    const ok = await signIn('127.0.0.60', 'alice', 'alice-correct-horse-42');
    expect(ok.status, ok.text).toBe(200);
    // A flooding address is limited, whatever account it tries…
    const flooder = await signIn('127.0.0.2', 'alice', 'alice-correct-horse-42');
    expect(flooder.status).toBe(429);
    expect(Number(flooder.headers['retry-after'])).toBeGreaterThan(0);
    // …and bob's account, guessed at 250 times, is closed to new addresses for a while (not to everyone's).
    const guessed = await signIn('127.0.0.61', 'bob', 'anything');
    expect(guessed.status).toBe(429);
    expect(JSON.parse(guessed.text).error.message).toMatch(/this account/);
  }, 600_000);

  it('200 wrong share codes from 20 addresses leave valid codes working from another address', async () => {
    const tasks: (() => Promise<unknown>)[] = [];
    for (let a = 0; a < 20; a++) for (let i = 0; i < 10; i++) tasks.push(() => redeem(`127.0.1.${a + 2}`, `ZZZ${String(a * 10 + i).padStart(3, '9')}`));
    await pooled(tasks);
    const ok = await redeem('127.0.1.80', shares.code);
    expect(ok.status, ok.text).toBe(200);
    expect(JSON.parse(ok.text).url).toMatch(/^\/s\//);
    expect((await redeem('127.0.1.2', shares.code)).status).toBe(429);
  });

  it('ignores X-Forwarded-For from clients (no trusted proxy): a new header does not make a new address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await redeem('127.0.1.90', `YYY${String(i).padStart(3, '9')}`, { 'x-forwarded-for': `10.66.0.${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe('malformed requests', () => {
  it('answers malformed percent-escapes with 400 or 404, without an error-level log line', async () => {
    const before = server.output().length;
    for (const url of ['/api/cases/%ff', '/s/%ff', '/profiles/%ff', '/api/share/%ff/model.glb', '/api/cases/%E0%A4%A/events']) {
      const r = await alice.fetch(url, { origin: null });
      expect([400, 404], url).toContain(r.status);
      await r.text();
    }
    const logged = server.output().slice(before);
    expect(logged).not.toMatch(/"level":50/);
    expect(logged).not.toMatch(/URIError|\n\s+at /);
  });

  it('answers a multipart form without a boundary with 400 and a message', async () => {
    const r = await alice.fetch('/api/cases', { method: 'POST', body: 'x', headers: { 'content-type': 'multipart/form-data' } });
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toMatch(/boundary/);
  });
});

describe('share link pages', () => {
  it('answer 200, 410 (revoked), 410 (expired) and 404 (unknown) like the API, with the same friendly page', async () => {
    const expectations: [string, number][] = [
      [shares.usable, 200],
      [shares.revoked, 410],
      [shares.expired, 410],
      ['A'.repeat(22), 404],
    ];
    for (const [token, status] of expectations) {
      const page = await fetch(`${server.url}/s/${token}`);
      expect(page.status, token).toBe(status);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      // The shared-case page itself (it then asks the API and shows why the link cannot be opened).
      const html = await page.text();
      expect(html).toContain('<main class="case-page">');
      expect(html).toContain(`\\"token\\":\\"${token}\\"`);
      expect((await fetch(`${server.url}/api/share/${token}`)).status).toBe(status);
    }
  });
});

describe('uploads', () => {
  it('swept at start-up: a raw upload a crash cut off (no case) is gone, and so is its scratch folder', async () => {
    const incoming = await readdir(path.join(dataDir, 'incoming'));
    expect(incoming).not.toContain(orphan);
    expect(await readdir(path.join(dataDir, 'work'))).not.toContain(orphan);
    // The upload of a case that cannot be re-run goes too; one a re-run needs stays.
    expect(incoming).not.toContain(failedForGood);
    expect(incoming).toContain(failedRetryable);
    expect(server.output()).toMatch(/removed what an interrupted run left behind/);
  });

  it('drops an upload that stops sending (408 after the idle timeout) and keeps nothing of it', async () => {
    const { port } = new URL(server.url);
    const uploadsBefore = await listFiles(path.join(dataDir, 'incoming'));
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    const started = Date.now();
    socket.write(
      `POST /api/cases HTTP/1.1\r\nHost: localhost:${port}\r\nCookie: ${alice.cookie}\r\nOrigin: ${server.url}\r\n` +
        `Content-Type: application/zip\r\nContent-Length: ${10 * 1024 ** 2}\r\n\r\n`,
    );
    socket.write(Buffer.from([0x50, 0x4b, 3, 4, ...new Array(1020).fill(0)]));
    // Read the whole answer: its headers, then its JSON body (possibly in chunked framing).
    while (!/\r\n\r\n[\s\S]*\{"error":\{[^}]*\}\}/.test(answer) && Date.now() - started < 30_000) await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(answer).toMatch(/nothing arrived for 2 s/);
    expect(await listFiles(path.join(dataDir, 'incoming'))).toEqual(uploadsBefore);
  });
});

describe('security headers', () => {
  const expectHeaders = (r: Response, what: string) => {
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp, what).toMatch(/frame-ancestors 'none'/);
    expect(csp, what).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'wasm-unsafe-eval'/);
    expect(csp, what).toMatch(/object-src 'none'/);
    expect(r.headers.get('x-content-type-options'), what).toBe('nosniff');
    expect(r.headers.get('referrer-policy'), what).toBe('no-referrer');
    expect(r.headers.get('strict-transport-security'), what).toBeNull(); // plain HTTP here (HSTS: https.test.ts)
  };

  it('are on pages, JSON and downloads; every script of a page carries its response nonce', async () => {
    const page = await fetch(`${server.url}/login`);
    expectHeaders(page, 'page');
    const nonce = /'nonce-([^']+)'/.exec(page.headers.get('content-security-policy')!)![1];
    const html = await page.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    // A fresh nonce per response.
    const again = await fetch(`${server.url}/login`);
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);
    expectHeaders(await fetch(`${server.url}/api/cases`), 'JSON');
    expectHeaders(await fetch(`${server.url}/api/share/${shares.usable}/model.glb`), 'GLB');
    expectHeaders(await fetch(`${server.url}/s/${shares.revoked}`), 'share page');
  });

  it('compare the scheme in the Origin check: an https:// page cannot act on this http:// server', async () => {
    const other = await alice.json(`/api/cases/${shares.sharedCase}/shares`, { method: 'POST', body: {}, origin: server.url.replace('http:', 'https:') });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('FORBIDDEN');
  });
});
