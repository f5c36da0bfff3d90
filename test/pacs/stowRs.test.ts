/**
 * DICOMweb STOW-RS against a real `holocase serve`: the PACS fixture series pushed as
 * multipart/related with HTTP Basic credentials becomes a case that finishes; the answer is a PS3.18
 * Store Instances Response naming every instance; a push without credentials gets 401 with a Basic
 * challenge; the same series again makes no second case; an MR instance is refused (409) and its study
 * recorded as skipped with the reason.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, buildWebApp, Client, followEvents, saveLog, startServe, tempDataDir, type ServerProc } from '../server/harness.ts';
import { FIXTURES } from '../volume/fixtures.ts';

const PACS_SERIES = path.join(FIXTURES, 'totalsegmentator/example_ct_dicom_pacs');
const MR = path.join(FIXTURES, 'dicom-codecs/MR_small.dcm');

let server: ServerProc;
let client: Client;
let basic: string;
let series: Buffer[];
let dataDir: string;

/** A multipart/related body of DICOM parts, as a STOW-RS client sends it. */
function multipartRelated(parts: Buffer[]): { body: Buffer; contentType: string } {
  const boundary = `holocase-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), part, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

async function stow(parts: Buffer[], authorization?: string) {
  const { body, contentType } = multipartRelated(parts);
  const headers: Record<string, string> = { 'content-type': contentType, accept: 'application/dicom+json' };
  if (authorization) headers.authorization = authorization;
  const response = await fetch(`${server.url}/dicomweb/studies`, { method: 'POST', body: body as unknown as BodyInit, headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  await buildWebApp();
  dataDir = await tempDataDir('holocase-stow-');
  const password = addUser(dataDir, 'bob', { admin: true, team: 'radiology' });
  server = await startServe(dataDir);
  client = new Client(server.url);
  const newPassword = 'bob-correct-horse-42';
  await client.signInFirstTime('bob', password, newPassword);
  basic = `Basic ${Buffer.from(`bob:${newPassword}`).toString('base64')}`;
  series = await Promise.all((await readdir(PACS_SERIES)).sort().map((name) => readFile(path.join(PACS_SERIES, name))));
}, 600_000);

afterAll(async () => {
  if (server) {
    await saveLog('pacs-stow', server.output());
    await server.stop();
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('STOW-RS', () => {
  it('refuses a push without credentials with 401 and a Basic challenge', async () => {
    const answer = await stow(series.slice(0, 2));
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await client.json('/api/cases')).body.cases).toHaveLength(0);
    expect((await stow(series.slice(0, 2), `Basic ${Buffer.from('bob:wrong').toString('base64')}`)).status).toBe(401);
  });

  it('makes a case from a pushed CT series and answers with every instance it stored', async () => {
    const answer = await stow(series, basic);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const referenced = answer.body['00081199'].Value as any[];
    expect(referenced).toHaveLength(series.length);
    expect(referenced[0]['00081150'].Value[0]).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(answer.body['00081198']).toBeUndefined();

    const { cases } = (await client.json('/api/cases')).body;
    expect(cases).toHaveLength(1);
    const events = await followEvents(client, `/api/cases/${cases[0].id}/events`);
    expect(events.at(-1)!.event, JSON.stringify(events.at(-1))).toBe('done');
    const detail = (await client.json(`/api/cases/${cases[0].id}`)).body;
    expect(detail.report.input.series.chosen).toMatchObject({ modality: 'CT', slices: 20 });
  }, 480_000);

  it('makes no second case from the same series pushed again', async () => {
    const answer = await stow(series, basic);
    expect(answer.status).toBe(200);
    expect((await client.json('/api/cases')).body.cases).toHaveLength(1);
  });

  it('refuses an MR instance (409, SOP class not supported) and records its study as skipped', async () => {
    const answer = await stow([await readFile(MR)], basic);
    expect(answer.status).toBe(409);
    expect(answer.body['00081198'].Value[0]['00081197'].Value[0]).toBe(0x0122);
    const status = (await client.json('/api/admin/pacs')).body;
    expect(status.skipped).toEqual([expect.objectContaining({ source: 'stow', reason: 'not CT (MR)' })]);
    expect(status.received).toEqual([expect.objectContaining({ source: 'stow', seg: expect.objectContaining({ status: 'none' }) })]);
  });

  it('shows the PACS page and status to administrators only', async () => {
    expect((await client.fetch('/admin/pacs')).status).toBe(200);
    const other = new Client(server.url);
    await other.signInFirstTime('carol', addUser(dataDir, 'carol', { team: 'radiology' }));
    expect((await other.json('/api/admin/pacs')).status).toBe(403);
  });

  it('refuses a body that is not multipart/related DICOM with 415', async () => {
    const response = await fetch(`${server.url}/dicomweb/studies`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain', authorization: basic } });
    expect(response.status).toBe(415);
  });
});
