/**
 * The CT and label map for the slice views, over HTTP from a real `holocase serve`: the chunk manifest
 * and chunks give back the stored CT voxel for voxel, chunks are built on first use for a case folder
 * that has none, the label map is the stored file, and the GLB's access rules hold (owner and team,
 * 404 for others, share links read-only and stopped at once when revoked).
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../server/auth/users.ts';
import { createShare, revokeShare } from '../../server/auth/shareLinks.ts';
import { runCase } from '../../server/pipeline/runCase.ts';
import { CASE_FILES, caseLayout } from '../../server/store/caseFolders.ts';
import { CT_CHUNK_FILES } from '../../server/store/ctChunkStore.ts';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { updateCaseMeta } from '../../server/store/cases.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { toInt16, type VolumeChunksManifest } from '../../server/volume/volumeChunks.ts';
import { buildWebApp, Client, ROOT, saveLog, signedInClients, startServe, tempDataDir, type ServerProc } from './harness.ts';

const CT = path.join(ROOT, '../shared/fixtures/totalsegmentator/example_ct.nii.gz');

let dataDir: string;
let server: ServerProc;
let alice: Client; // owner, team "vascular"
let carol: Client; // team "vascular"
let bob: Client; // team "ortho"
let caseId: string;
let share: { id: string; token: string };

beforeAll(async () => {
  await buildWebApp();
  dataDir = await tempDataDir();
  const folder = await tempDataDir('holocase-case-');
  await runCase(CT, folder, { modelId: 'hu-anatomy' });
  const db = openDatabase(dataDir);
  const users = {
    alice: await addUser(db, 'alice', { team: 'vascular' }),
    carol: await addUser(db, 'carol', { team: 'vascular' }),
    bob: await addUser(db, 'bob', { team: 'ortho' }),
  };
  caseId = await importCaseFolder(db, dataDir, folder, { label: 'slices', ownerId: users.alice.user.id });
  updateCaseMeta(db, caseId, { teamShared: true });
  share = createShare(db, caseId);
  db.close();
  await rm(folder, { recursive: true, force: true });
  server = await startServe(dataDir);
  [alice, carol, bob] = await signedInClients(server.url, users, ['alice', 'carol', 'bob']);
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await saveLog('volume-routes', server?.output());
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Whether two voxel arrays hold the same values (a byte comparison: vitest's deep equality is slow on millions of voxels). */
function sameVoxels(a: Int16Array, b: Int16Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

async function loadVolume(client: Client, base: string): Promise<{ manifest: VolumeChunksManifest & { build: string }; voxels: Int16Array; coarse: Int16Array }> {
  const response = await client.json(`${base}/ct`);
  expect(response.status).toBe(200);
  const manifest = response.body;
  const [nx, ny, nz] = manifest.dims;
  const voxels = new Int16Array(nx * ny * nz);
  const chunk = async (n: number) => {
    const r = await client.fetch(`${base}/ct/${n}?v=${manifest.build}`, { origin: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const gz = new Uint8Array(await r.arrayBuffer());
    expect(gz.byteLength).toBe(manifest.chunks[n].bytes);
    const raw = gunzipSync(gz);
    return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  };
  for (let s = 0; s < manifest.slabs.count; s++) voxels.set(await chunk(1 + s), s * manifest.slabs.depth * nx * ny);
  return { manifest, voxels, coarse: await chunk(0) };
}

describe('CT chunks and label maps over HTTP', () => {
  it('gives the owner the stored CT voxel for voxel, and lets the browser keep versioned chunks', async () => {
    const stored = await readNifti(path.join(caseLayout(dataDir, caseId).caseDir, CASE_FILES.ct));
    const { manifest, voxels, coarse } = await loadVolume(alice, `/api/cases/${caseId}`);
    expect(manifest.dims).toEqual(stored.dims);
    expect(manifest.affine.map((v) => Number(v.toFixed(4)))).toEqual(stored.affine.map((v) => Number(v.toFixed(4))));
    expect(sameVoxels(voxels, toInt16(stored.data))).toBe(true);
    expect(coarse.length).toBe(manifest.coarse.dims.reduce((a, b) => a * b, 1));

    const kept = await alice.fetch(`/api/cases/${caseId}/ct/1?v=${manifest.build}`, { origin: null });
    expect(kept.headers.get('cache-control')).toMatch(/immutable/);
    expect(kept.headers.get('content-length')).toBe(String(manifest.chunks[1].bytes));
    const unversioned = await alice.fetch(`/api/cases/${caseId}/ct/1`, { origin: null });
    expect(unversioned.headers.get('cache-control')).toMatch(/no-cache/);
    const again = await alice.fetch(`/api/cases/${caseId}/ct/1`, { origin: null, headers: { 'if-none-match': kept.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await alice.fetch(`/api/cases/${caseId}/ct/${manifest.chunks.length}`, { origin: null })).status).toBe(404);
    expect((await alice.fetch(`/api/cases/${caseId}/ct/-1`, { origin: null })).status).toBe(404);
    expect((await alice.fetch(`/api/cases/${caseId}/ct/abc`, { origin: null })).status).toBe(404);
  });

  it('serves the current label map as stored, to the owner and the team, and to nobody else', async () => {
    const file = await readFile(path.join(caseLayout(dataDir, caseId).caseDir, CASE_FILES.labels));
    for (const client of [alice, carol]) {
      const r = await client.fetch(`/api/cases/${caseId}/labels`, { origin: null });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-holocase-revision')).toBe('0');
      expect(Buffer.from(await r.arrayBuffer()).equals(file)).toBe(true);
    }
    expect((await alice.fetch(`/api/cases/${caseId}/labels?revision=0`, { origin: null })).status).toBe(200);
    expect((await alice.fetch(`/api/cases/${caseId}/labels?revision=x1`, { origin: null })).status).toBe(400);
    expect((await alice.fetch(`/api/cases/${caseId}/labels?revision=99`, { origin: null })).status).toBe(404);
    for (const p of ['ct', 'ct/0', 'labels']) {
      const r = await bob.fetch(`/api/cases/${caseId}/${p}`, { origin: null });
      expect(r.status, p).toBe(404);
      expect((await r.json()).error.message).toBe('no such case');
      expect((await new Client(server.url).fetch(`/api/cases/${caseId}/${p}`, { origin: null })).status, p).toBe(401);
    }
  });

  it('builds the chunks on first use for a case folder without them, once for concurrent viewers', async () => {
    const caseDir = caseLayout(dataDir, caseId).caseDir;
    const before = JSON.parse(await readFile(path.join(caseDir, CT_CHUNK_FILES.manifest), 'utf8'));
    await rm(path.join(caseDir, CT_CHUNK_FILES.manifest));
    await rm(path.join(caseDir, CT_CHUNK_FILES.data));
    const answers = await Promise.all([alice, carol, alice].map((c) => c.json(`/api/cases/${caseId}/ct`)));
    const builds = new Set(answers.map((a) => a.body.build));
    expect(builds.size).toBe(1);
    expect([...builds][0]).not.toBe(before.build);
    const { voxels } = await loadVolume(carol, `/api/cases/${caseId}`);
    expect(sameVoxels(voxels, toInt16((await readNifti(path.join(caseDir, CASE_FILES.ct))).data))).toBe(true);
  });

  it('opens the CT and the current label map through a share link, read-only, until it is revoked', async () => {
    const guest = new Client(server.url);
    const base = `/api/share/${share.token}`;
    const { voxels, manifest } = await loadVolume(guest, base);
    const own = await loadVolume(alice, `/api/cases/${caseId}`);
    expect(sameVoxels(voxels, own.voxels)).toBe(true);
    const chunk = await guest.fetch(`${base}/ct/1?v=${manifest.build}`, { origin: null });
    expect(chunk.headers.get('cache-control')).toMatch(/no-cache/);
    const labels = await guest.fetch(`${base}/labels`, { origin: null });
    expect(labels.status).toBe(200);
    expect(labels.headers.get('cache-control')).toMatch(/no-cache/);
    expect((await guest.fetch(`${base}/labels?revision=0`, { origin: null })).status).toBe(403);

    const db = openDatabase(dataDir);
    revokeShare(db, share.id);
    db.close();
    for (const p of ['ct', 'ct/1', 'labels']) expect((await guest.fetch(`${base}/${p}`, { origin: null })).status, p).toBe(410);
  });
});

