/**
 * Correcting a segmentation over HTTP against a real `holocase serve`: saving label maps as new
 * revisions (never overwriting), the re-meshed hologram reaching a second viewer and a share link
 * through the event stream, only changed structures re-meshed, restore, validation cleared by a later
 * edit, conflicts and bad bodies, and the access rules (team may edit, others 404, share links and
 * signed-out callers cannot write).
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../server/auth/users.ts';
import { createShare } from '../../server/auth/shareLinks.ts';
import { revisionLabelsFile } from '../../server/edit/revisionFiles.ts';
import { runCase } from '../../server/pipeline/runCase.ts';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { updateCaseMeta } from '../../server/store/cases.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { readCaseGlb } from '../mesh/readGlb.ts';
import { buildWebApp, Client, listenEvents, ROOT, saveLog, signedInClients, startServe, tempDataDir, type ServerProc } from './harness.ts';

const CT = path.join(ROOT, '../shared/fixtures/totalsegmentator/example_ct.nii.gz');

let dataDir: string;
let server: ServerProc;
let alice: Client; // owner, team "vascular"
let carol: Client; // team "vascular": may edit the team-shared case
let bob: Client; // team "ortho": may not see it
let caseId: string;
let shareToken: string;
let dims: [number, number, number];
let original: Uint16Array;

function form(meta: unknown, part: string, bytes: Uint8Array): FormData {
  const f = new FormData();
  f.set('meta', JSON.stringify(meta));
  f.set(part, new Blob([new Uint8Array(bytes)]), part);
  return f;
}

function gzLabels(labels: Uint16Array): Uint8Array {
  return gzipSync(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength));
}

async function save(client: Client, meta: unknown, labels: Uint16Array | Uint8Array) {
  const bytes = labels instanceof Uint16Array ? gzLabels(labels) : labels;
  return client.json(`/api/cases/${caseId}/revisions`, { method: 'POST', body: form(meta, 'labels', bytes) as unknown as undefined });
}

/** A 12×12×8 block of `label` inside the body, 40 % from the volume's corner. */
function withBlock(base: Uint16Array, label: number): Uint16Array {
  const out = base.slice();
  const [nx, ny, nz] = dims;
  const [i0, j0, k0] = [Math.floor(nx * 0.4), Math.floor(ny * 0.4), Math.floor(nz * 0.4)];
  for (let k = k0; k < k0 + 8; k++) for (let j = j0; j < j0 + 12; j++) for (let i = i0; i < i0 + 12; i++) out[i + j * nx + k * nx * ny] = label;
  return out;
}

/** Voxel-for-voxel equality (vitest's deep equality is slow on million-element arrays). */
function sameLabels(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let p = 0; p < a.length; p++) if (a[p] !== b[p]) return false;
  return true;
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

beforeAll(async () => {
  await buildWebApp();
  dataDir = await tempDataDir();
  const folder = await tempDataDir('holocase-case-');
  await runCase(CT, folder, { modelId: 'hu-anatomy' });
  const db = openDatabase(dataDir);
  const users = {
    alice: await addUser(db, 'alice', { team: 'vascular' }),
    carol: await addUser(db, 'carol', { team: 'vascular' }),
    bob: await addUser(db, 'bob', { team: 'ortho', admin: true }),
  };
  caseId = await importCaseFolder(db, dataDir, folder, { label: 'editing', ownerId: users.alice.user.id });
  updateCaseMeta(db, caseId, { teamShared: true });
  shareToken = createShare(db, caseId).token;
  db.close();
  const labels = await readNifti(path.join(folder, 'labels.nii.gz'));
  dims = labels.dims;
  original = Uint16Array.from(labels.data);
  await rm(folder, { recursive: true, force: true });
  server = await startServe(dataDir);
  [alice, carol, bob] = await signedInClients(server.url, users, ['alice', 'carol', 'bob']);
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await saveLog('editing', server?.output());
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('revisions', () => {
  it('starts at revision 0, the model output, with the case detail saying so', async () => {
    const list = await alice.json(`/api/cases/${caseId}/revisions`);
    expect(list.status).toBe(200);
    expect(list.body.current).toBe(0);
    expect(list.body.revisions).toEqual([expect.objectContaining({ revision: 0, author: null, mesh: 'ready', changes: [] })]);
    const detail = await alice.json(`/api/cases/${caseId}`);
    expect(detail.body).toMatchObject({ revision: 0, canEdit: true });
    expect(detail.body.structures.every((s: { validated: unknown }) => s.validated === null)).toBe(true);
  });

  it('a save by a team member becomes revision 1; a second viewer and a share link see the new hologram through the event stream', async () => {
    const second = listenEvents(alice, `/api/cases/${caseId}/events`);
    const shared = listenEvents(new Client(server.url), `/api/share/${shareToken}/events`);
    await second.until((e) => e.event === 'done');
    const edited = withBlock(original, 200);
    const saved = await save(carol, { baseRevision: 0, structures: { '200': { name: 'tumour', displayName: 'Tumour', color: '#c83232' } }, note: 'mass in the liver' }, edited);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body.revision).toBe(1);
    expect(saved.body.changedStructures).toContain(200);
    const tumour = saved.body.changes.find((c: { label: number }) => c.label === 200);
    expect(tumour).toMatchObject({ structure: 'tumour', volumeMlBefore: 0 });
    expect(tumour.volumeMlAfter).toBeGreaterThan(0);

    const savedEvent = await second.until((e) => e.event === 'revision' && e.data.state === 'saved');
    expect(savedEvent.data).toMatchObject({ revision: 1, author: 'carol' });
    const ready = await second.until((e) => e.event === 'revision' && e.data.state === 'ready' && e.data.revision === 1);
    expect(ready.data.glbUrl).toMatch(new RegExp(`^/api/cases/${caseId}/model\\.glb\\?v=`));
    const sharedReady = await shared.until((e) => e.event === 'revision' && e.data.state === 'ready');
    expect(sharedReady.data.glbUrl).toMatch(new RegExp(`^/api/share/${shareToken}/model\\.glb\\?v=`));
    second.stop();
    shared.stop();

    // The served GLB now holds the new structure, for the viewer and the share link alike.
    for (const [client, url] of [[alice, ready.data.glbUrl], [new Client(server.url), sharedReady.data.glbUrl]] as const) {
      const glb = await client.fetch(url, { headers: { 'accept-encoding': 'identity' } });
      expect(glb.status).toBe(200);
      const doc = await readCaseGlb(new Uint8Array(await glb.arrayBuffer()));
      expect(doc.structures.map((s) => s.nodeName)).toContain('tumour');
    }
    const detail = await alice.json(`/api/cases/${caseId}`);
    expect(detail.body.revision).toBe(1);
    expect(detail.body.structures.find((s: { name: string }) => s.name === 'tumour')).toMatchObject({ displayName: 'Tumour', color: '#c83232', group: 'other' });
    // Revision 0 is untouched: its label map is still the model's.
    const zero = await readNifti(revisionLabelsFile(dataDir, caseId, 0));
    expect(sameLabels(zero.data, original)).toBe(true);
  });

  it('the next edit re-meshes only the structures it changed', async () => {
    const before = await readFile(revisionLabelsFile(dataDir, caseId, 1));
    const edited = withBlock(original, 200);
    // Grow the tumour by one slice; nothing else changes.
    const [nx, ny, nz] = dims;
    const k = Math.floor(nz * 0.4) + 8;
    for (let j = Math.floor(ny * 0.4); j < Math.floor(ny * 0.4) + 12; j++) for (let i = Math.floor(nx * 0.4); i < Math.floor(nx * 0.4) + 12; i++) edited[i + j * nx + k * nx * ny] = 200;
    const saved = await save(alice, { baseRevision: 1, structures: {} }, edited);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body.changedStructures.length).toBeGreaterThanOrEqual(1);
    const events = listenEvents(alice, `/api/cases/${caseId}/events`);
    await events.until((e) => e.event === 'revision' && e.data.revision === 2 && e.data.state === 'ready');
    events.stop();
    const line = server.output().split('\n').reverse().find((l) => l.includes('"revision meshed"') && l.includes('"revision":2'));
    const logged = JSON.parse(line!);
    const detail = await alice.json(`/api/cases/${caseId}`);
    expect(logged.meshed).toBe(saved.body.changedStructures.length);
    expect(logged.meshed + logged.reused).toBe(detail.body.structures.length);
    expect(logged.reused).toBeGreaterThanOrEqual(3);
    // Revision 1's files were not rewritten.
    expect(sha(await readFile(revisionLabelsFile(dataDir, caseId, 1)))).toBe(sha(before));
  });

  it('refuses a save on an old revision (409), a wrong size (400), an unnamed label (400), a gzip bomb (413), and no change (400)', async () => {
    const stale = await save(alice, { baseRevision: 1, structures: {} }, withBlock(original, 201));
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/revision 2 was saved since revision 1/);
    const short = await save(alice, { baseRevision: 2, structures: {} }, original.subarray(0, 1000));
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/grid needs/);
    const unnamed = await save(alice, { baseRevision: 2, structures: {} }, withBlock(original, 333));
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.message).toMatch(/label 333 is painted but has no name/);
    const bomb = gzipSync(new Uint8Array(original.length * 2 + 4096));
    const big = await save(alice, { baseRevision: 2, structures: {} }, bomb);
    expect(big.status).toBe(413);
    const zero = await readNifti(revisionLabelsFile(dataDir, caseId, 2));
    const same = await save(alice, { baseRevision: 2, structures: {} }, Uint16Array.from(zero.data));
    expect(same.status).toBe(400);
    expect(same.body.error.message).toMatch(/nothing changed/);
    const list = await alice.json(`/api/cases/${caseId}/revisions`);
    expect(list.body.current).toBe(2);
  });

  it('restoring revision 0 makes revision 3 equal to it, its hologram served at once', async () => {
    const restored = await alice.json(`/api/cases/${caseId}/revisions/0/restore`, { method: 'POST', body: { baseRevision: 2 } });
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    expect(restored.body).toMatchObject({ revision: 3, mesh: 'ready' });
    expect(restored.body.changedStructures).toContain(200);
    const three = await readNifti(revisionLabelsFile(dataDir, caseId, 3));
    expect(sameLabels(three.data, original)).toBe(true);
    const detail = await alice.json(`/api/cases/${caseId}`);
    expect(detail.body.revision).toBe(3);
    expect(detail.body.structures.map((s: { name: string }) => s.name)).not.toContain('tumour');
    const list = await alice.json(`/api/cases/${caseId}/revisions`);
    expect(list.body.revisions.map((r: { revision: number }) => r.revision)).toEqual([3, 2, 1, 0]);
    expect(list.body.revisions[0]).toMatchObject({ author: 'alice', restoredFrom: 0 });
  });
});

describe('validation', () => {
  it('records who validated a structure, and a later edit of that structure clears it while others stay', async () => {
    const detail = await alice.json(`/api/cases/${caseId}`);
    const [first, second] = detail.body.structures as { label: number; name: string }[];
    const put = await carol.json(`/api/cases/${caseId}/structures/${first!.label}/validation`, { method: 'PUT' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ label: first!.label, validatedBy: 'carol', revision: 3 });
    await carol.json(`/api/cases/${caseId}/structures/${second!.label}/validation`, { method: 'PUT' });
    const shown = await alice.json(`/api/cases/${caseId}`);
    expect(shown.body.structures.find((s: { label: number }) => s.label === first!.label).validated).toMatchObject({ by: 'carol', revision: 3 });
    const shared = await new Client(server.url).json(`/api/share/${shareToken}`);
    expect(shared.body.structures.find((s: { label: number }) => s.label === first!.label).validated).toMatchObject({ by: 'carol' });

    // Erase part of the first structure only.
    const current = Uint16Array.from((await readNifti(revisionLabelsFile(dataDir, caseId, 3))).data);
    let erased = 0;
    for (let p = 0; p < current.length && erased < 50; p++) if (current[p] === first!.label) (current[p] = 0), erased++;
    const saved = await save(alice, { baseRevision: 3, structures: {} }, current);
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    expect(saved.body.changedStructures).toEqual([first!.label]);
    const after = await alice.json(`/api/cases/${caseId}`);
    expect(after.body.structures.find((s: { label: number }) => s.label === first!.label)?.validated ?? null).toBeNull();
    expect(after.body.structures.find((s: { label: number }) => s.label === second!.label).validated).toMatchObject({ by: 'carol' });
    const cleared = await carol.json(`/api/cases/${caseId}/structures/${second!.label}/validation`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect((await carol.json(`/api/cases/${caseId}/structures/9999/validation`, { method: 'PUT' })).status).toBe(404);
  });
});

describe('grow from seeds, islands and fill between slices over a box', () => {
  /** Posts an operation; answers the status, the labels over the box and the stats header. */
  async function operate(client: Client, op: string, meta: unknown, part: string, labels: Uint16Array | Uint8Array) {
    const bytes = labels instanceof Uint16Array ? gzLabels(labels) : labels;
    const response = await client.fetch(`/api/cases/${caseId}/${op}`, { method: 'POST', body: form(meta, part, bytes) });
    if (response.status !== 200) return { status: response.status, error: (await response.json()).error, labels: undefined, stats: undefined };
    const raw = gunzipSync(new Uint8Array(await response.arrayBuffer()));
    return { status: 200, labels: new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2), stats: JSON.parse(response.headers.get('x-holocase-edit')!), error: undefined };
  }

  it('grows seeds over a box into a preview without storing anything', async () => {
    const [nx, ny, nz] = dims;
    const box = [10, 10, 20, nx - 10, ny - 10, 60] as const;
    const [bx, by, bz] = [box[3] - box[0], box[4] - box[1], box[5] - box[2]];
    const seeds = new Uint16Array(bx * by * bz);
    // A stroke of "structure 1" at the centre of every fifth slice, "background 2" along the box's edge.
    for (let k = 0; k < bz; k += 5) {
      for (let i = Math.floor(bx / 2) - 3; i < Math.floor(bx / 2) + 3; i++) seeds[i + Math.floor(by / 2) * bx + k * bx * by] = 1;
      for (let i = 0; i < bx; i++) seeds[i + k * bx * by] = 2;
    }
    const before = (await alice.json(`/api/cases/${caseId}/revisions`)).body.current;
    const grown = await operate(carol, 'grow', { box }, 'seeds', seeds);
    expect(grown.status, JSON.stringify(grown.error)).toBe(200);
    expect(grown.labels!.length).toBe(seeds.length);
    expect(grown.stats.voxels).toBe(seeds.length);
    expect(Number(grown.stats.labels['1']) + Number(grown.stats.labels['2'])).toBe(seeds.length - grown.stats.unreached);
    for (let p = 0; p < seeds.length; p++) if (seeds[p]) expect(grown.labels![p]).toBe(seeds[p]);
    expect(new Set(grown.labels)).toEqual(new Set([1, 2]));
    expect((await alice.json(`/api/cases/${caseId}/revisions`)).body.current).toBe(before);
    // A HU range leaves air alone.
    const ranged = await operate(carol, 'grow', { box, huRange: [-200, 3000] }, 'seeds', seeds);
    expect(ranged.stats.unreached).toBeGreaterThan(0);
    expect(nz).toBeGreaterThan(60);
  });

  it('refuses a box outside the grid (400), seeds of the wrong size (400) and a seed bomb (413)', async () => {
    const outside = await operate(carol, 'grow', { box: [0, 0, 0, dims[0] + 1, 10, 10] }, 'seeds', new Uint16Array(10));
    expect(outside.status).toBe(400);
    expect(outside.error.message).toMatch(/not inside the CT grid/);
    const wrong = await operate(carol, 'grow', { box: [0, 0, 0, 10, 10, 10] }, 'seeds', new Uint16Array(999));
    expect(wrong.status).toBe(400);
    const bomb = await operate(carol, 'grow', { box: [0, 0, 0, 10, 10, 10] }, 'seeds', gzipSync(new Uint8Array(50_000_000)));
    expect(bomb.status).toBe(413);
  });

  it('keeps the largest island and fills between painted slices', async () => {
    const box = [0, 0, 0, 30, 30, 12] as const;
    const [bx, by] = [30, 30];
    const labels = new Uint16Array(30 * 30 * 12);
    const set = (i: number, j: number, k: number, v: number) => (labels[i + j * bx + k * bx * by] = v);
    for (let k = 0; k < 4; k++) for (let j = 0; j < 6; j++) for (let i = 0; i < 6; i++) set(i, j, k, 7);
    set(20, 20, 5, 7);
    const islands = await operate(carol, 'islands', { box, label: 7, mode: 'keep-largest' }, 'labels', labels);
    expect(islands.status).toBe(200);
    expect(islands.stats.removed).toBe(1);
    expect(islands.labels![20 + 20 * bx + 5 * bx * by]).toBe(0);

    const slices = new Uint16Array(labels.length);
    for (const k of [2, 9]) for (let j = 10; j < 20; j++) for (let i = 10; i < 20; i++) slices[i + j * bx + k * bx * by] = 4;
    const filled = await operate(carol, 'fill-between', { box, label: 4, axis: 2 }, 'labels', slices);
    expect(filled.status).toBe(200);
    for (let k = 3; k < 9; k++) expect(filled.labels![15 + 15 * bx + k * bx * by]).toBe(4);
    expect(filled.labels![15 + 15 * bx + 11 * bx * by]).toBe(0);
  });
});

describe('re-running the model', () => {
  it('adds the new output as a revision and keeps the corrections restorable', async () => {
    const before = (await alice.json(`/api/cases/${caseId}/revisions`)).body;
    const rerun = await alice.json(`/api/cases/${caseId}/rerun`, { method: 'POST', body: {} });
    expect(rerun.status).toBe(202);
    const events = listenEvents(alice, `/api/cases/${caseId}/events`);
    await events.until((e) => e.event === 'done', 300_000);
    events.stop();
    const after = (await alice.json(`/api/cases/${caseId}/revisions`)).body;
    expect(after.current).toBe(before.current + 1);
    expect(after.revisions[0]).toMatchObject({ author: null, note: expect.stringMatching(/^segmented by /) });
    expect(after.revisions.map((r: { revision: number }) => r.revision)).toEqual([before.current + 1, ...before.revisions.map((r: { revision: number }) => r.revision)]);
    const detail = await alice.json(`/api/cases/${caseId}`);
    expect(detail.body.revision).toBe(before.current + 1);
    expect(detail.body.structures.every((s: { validated: unknown }) => s.validated === null)).toBe(true);
    // The tumour of revision 1 comes back.
    const restored = await alice.json(`/api/cases/${caseId}/revisions/1/restore`, { method: 'POST', body: {} });
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    const again = await alice.json(`/api/cases/${caseId}`);
    expect(again.body.structures.map((s: { name: string }) => s.name)).toContain('tumour');
  });
});

describe('access', () => {
  it('another team (even an administrator) gets 404 on every read and write; signed-out callers 401; share links have no write route', async () => {
    expect((await bob.json(`/api/cases/${caseId}/revisions`)).status).toBe(404);
    expect((await save(bob, { baseRevision: 4, structures: {} }, withBlock(original, 200))).status).toBe(404);
    expect((await bob.json(`/api/cases/${caseId}/revisions/0/restore`, { method: 'POST' })).status).toBe(404);
    expect((await bob.json(`/api/cases/${caseId}/structures/1/validation`, { method: 'PUT' })).status).toBe(404);
    expect((await bob.fetch(`/api/cases/${caseId}/grow`, { method: 'POST', body: form({ box: [0, 0, 0, 2, 2, 2] }, 'seeds', gzLabels(new Uint16Array(8).fill(1))) })).status).toBe(404);
    const anonymous = new Client(server.url);
    expect((await anonymous.fetch(`/api/cases/${caseId}/grow`, { method: 'POST', body: form({ box: [0, 0, 0, 2, 2, 2] }, 'seeds', gzLabels(new Uint16Array(8).fill(1))) })).status).toBe(401);
    expect((await save(anonymous, { baseRevision: 4, structures: {} }, withBlock(original, 200))).status).toBe(401);
    expect((await anonymous.json(`/api/cases/${caseId}/structures/1/validation`, { method: 'PUT' })).status).toBe(401);
    for (const write of [`/api/share/${shareToken}/revisions`, `/api/share/${shareToken}`, `/api/share/${shareToken}/events`]) {
      const r = await anonymous.fetch(write, { method: 'POST', body: '{}' });
      expect([404, 405]).toContain(r.status);
    }
    const list = await alice.json(`/api/cases/${caseId}/revisions`);
    expect(list.body.current).toBe(6);
  });

  it('deleting the case removes its revisions with it', async () => {
    expect((await carol.json(`/api/cases/${caseId}`, { method: 'DELETE' })).status).toBe(403);
    expect((await alice.json(`/api/cases/${caseId}`, { method: 'DELETE' })).status).toBe(204);
    await expect(readFile(revisionLabelsFile(dataDir, caseId, 0))).rejects.toThrow(/ENOENT/);
  });
});
