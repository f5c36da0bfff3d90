/**
 * `holocase model install`: TotalSegmentator's release zips from a real HTTP server started here (it
 * serves the real nnU-Net fixture `Dataset903_TinyTotalOrgans.zip` under the release names, behind a
 * GitHub-like redirect, and honours `Range`), resumed after a dropped connection and after an earlier
 * run, imported and usable; `--from DIR` without any network; the message for a server without internet;
 * and a release with other structures than TotalSegmentator lists refused with nothing left behind.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listModelBundles, loadModelBundle } from '../../server/segment/bundle.ts';
import { evaluateLabelMaps, readLabelTable } from '../../server/segment/evaluate.ts';
import { downloadResumable, UnreachableError } from '../../server/segment/install/download.ts';
import { installModel } from '../../server/segment/install/installModel.ts';
import { progressLine } from '../../server/cli/modelInstall.ts';
import { INSTALLABLE_MODELS, releaseUrl, TOTAL_CLASSES } from '../../server/segment/install/totalSegmentatorModels.ts';
import { labelEntries } from '../../server/segment/manifest.ts';
import { segment } from '../../server/segment/segment.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { describeStructure } from '../../models/anatomy.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';
import { freePort } from '../server/harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(ROOT, '../shared/fixtures');
const TINY_ZIP = join(FIXTURES, 'nnunet/Dataset903_TinyTotalOrgans.zip');
const byName = (name: string) => INSTALLABLE_MODELS.find((m) => m.name === name)!;

/** A release server: `/releases/<tag>/<file>` redirects to `/objects/<file>`, which serves bytes with Range support. */
interface ReleaseServer {
  base: string;
  files: Map<string, Buffer>;
  /** Every request: path and Range header. */
  requests: { path: string; range?: string }[];
  /** Drop the connection after this many body bytes, for the next N object responses. */
  drop: { afterBytes: number; times: number };
  /** Answer Range requests with the whole file (a server without Range support). */
  ignoreRange: boolean;
  server: Server;
}

async function startReleaseServer(): Promise<ReleaseServer> {
  const state = { files: new Map<string, Buffer>(), requests: [] as ReleaseServer['requests'], drop: { afterBytes: 0, times: 0 }, ignoreRange: false };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    state.requests.push({ path, range: req.headers.range });
    const release = /^\/releases\/[^/]+\/([^/]+)$/.exec(path);
    if (release) {
      res.writeHead(302, { Location: `/objects/${encodeURIComponent(release[1])}` }).end();
      return;
    }
    const object = /^\/objects\/([^/]+)$/.exec(path);
    const body = object && state.files.get(object[1]);
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !state.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start, 'Accept-Ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/zip' });
    }
    const rest = body.subarray(start);
    if (state.drop.times > 0) {
      state.drop.times--;
      // Send part of the body, then cut the connection as a flaky network would.
      res.write(rest.subarray(0, state.drop.afterBytes), () => res.socket?.end());
      return;
    }
    res.end(rest);
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return Object.assign(state, { base: `http://127.0.0.1:${port}/releases`, server });
}

let releases: ReleaseServer;
let work: string;
let tinyZip: Buffer;
let closedPort: number;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'holocase-install-'));
  tinyZip = await readFile(TINY_ZIP);
  releases = await startReleaseServer();
  closedPort = await freePort();
});
afterAll(async () => {
  await new Promise((done) => releases.server.close(done));
  await rm(work, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Runs `holocase <args>` with the environment given; resolves with its exit code and output. */
function holocase(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/holocase.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('the release catalogue', () => {
  it('builds the URLs TotalSegmentator downloads from, and names every total structure as the anatomy catalogue does', async () => {
    const fast = byName('totalsegmentator-fast').zips[0];
    expect(releaseUrl(fast)).toBe('https://github.com/wasserth/TotalSegmentator/releases/download/v2.0.0-weights/Dataset297_TotalSegmentator_total_3mm_1559subj.zip');
    expect(byName('totalsegmentator').zips.map((z) => z.datasetId)).toEqual([291, 292, 293, 294, 295]);
    expect(byName('body').zips.map((z) => releaseUrl(z))).toEqual(['https://github.com/wasserth/TotalSegmentator/releases/download/v2.0.0-weights/Dataset299_body_1559subj.zip']);
    // class_map["total"] is TotalSegmentator's own classes file, label for label.
    const reference = await readLabelTable(join(FIXTURES, 'totalsegmentator/classes_total_v2.json'));
    expect(TOTAL_CLASSES.map((name, i) => [i + 1, name])).toEqual([...reference.entries()].sort((a, b) => a[0] - b[0]));
    for (const model of INSTALLABLE_MODELS) {
      for (const name of [...(model.set?.labels ?? []), ...model.zips.flatMap((z) => z.classes)]) expect(describeStructure(name).known, `${model.name}: ${name}`).toBe(true);
    }
  });
});

describe('download progress', () => {
  it('draws a bar with percentage, sizes, speed and time left, or a plain line without size', () => {
    const MB = 2 ** 20;
    expect(progressLine('a.zip', { received: 60 * MB, total: 240 * MB, resumedFrom: 0, bytesPerSecond: 12 * MB }, 20)).toBe('a.zip [#####---------------]  25%  60.0/240.0 MB  12.0 MB/s  ETA 0:15');
    expect(progressLine('a.zip', { received: 60 * MB, total: 240 * MB, resumedFrom: 0, bytesPerSecond: 0.01 * MB }, 0)).toBe('a.zip  25%  60.0/240.0 MB  0.0 MB/s  ETA 5:00:00');
    expect(progressLine('a.zip', { received: 3 * MB, resumedFrom: 0, bytesPerSecond: MB })).toBe('a.zip  3.0 MB  1.0 MB/s');
  });
});

describe('resumable download', () => {
  it('resumes after a dropped connection, and after an earlier run left a .part file', async () => {
    releases.files.set('Dataset297_TotalSegmentator_total_3mm_1559subj.zip', tinyZip);
    const url = `${releases.base}/v2.0.0-weights/Dataset297_TotalSegmentator_total_3mm_1559subj.zip`;
    // 1. The first connection drops after 40 % of the file; the next one asks for the rest.
    releases.requests.length = 0;
    releases.drop = { afterBytes: Math.floor(tinyZip.length * 0.4), times: 1 };
    const dest = join(work, 'dropped.zip');
    const progress: number[] = [];
    const result = await downloadResumable(url, { dest, retryDelayMs: 10, onProgress: (p) => progress.push(p.received) });
    expect(result.sha256).toBe(sha256(tinyZip));
    expect(result.attempts).toBe(2);
    // The second request asks for the rest of what reached the disk (at most what the server sent).
    const objects = releases.requests.filter((r) => r.path.startsWith('/objects/'));
    expect(objects[0].range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(objects[1].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(Math.floor(tinyZip.length * 0.4));
    expect(objects).toHaveLength(2);
    expect(progress.at(-1)).toBe(tinyZip.length);
    await expect(stat(`${dest}.part`)).rejects.toThrow();
    // 2. A new run continues a .part file an earlier, killed run left.
    releases.requests.length = 0;
    const again = join(work, 'again.zip');
    await writeFile(`${again}.part`, tinyZip.subarray(0, 1_000_000));
    const resumed = await downloadResumable(url, { dest: again });
    expect(resumed).toMatchObject({ resumedFrom: 1_000_000, bytes: tinyZip.length, sha256: sha256(tinyZip) });
    expect(releases.requests.filter((r) => r.path.startsWith('/objects/')).map((r) => r.range)).toEqual(['bytes=1000000-']);
    // 3. A server that ignores Range sends the whole file again: it is read from the start, not appended.
    releases.ignoreRange = true;
    const whole = join(work, 'whole.zip');
    await writeFile(`${whole}.part`, Buffer.alloc(5000, 7));
    expect((await downloadResumable(url, { dest: whole })).sha256).toBe(sha256(tinyZip));
    releases.ignoreRange = false;
  });

  it('gives up with the partial file kept, says 404 plainly, and tells an unreachable server apart', async () => {
    const url = `${releases.base}/v2.0.0-weights/Dataset297_TotalSegmentator_total_3mm_1559subj.zip`;
    releases.drop = { afterBytes: 2_000_000, times: 2 };
    const dest = join(work, 'short.zip');
    const error = await holocaseErrorOf(downloadResumable(url, { dest, attempts: 2, retryDelayMs: 10 }));
    expect(error.code).toBe('DOWNLOAD_FAILED');
    const kept = new RegExp(`failed after 2 tries \\(the connection ended after (\\d+) of ${tinyZip.length} bytes[^)]*\\); (\\d+) bytes are kept in .*short\\.zip\\.part: run the same command again to resume`).exec(error.message);
    expect(kept, error.message).not.toBeNull();
    expect(Number(kept![1])).toBe(Number(kept![2]));
    expect((await stat(`${dest}.part`)).size).toBe(Number(kept![2]));
    expect(Number(kept![2])).toBeGreaterThan(2_000_000); // the second try added to the first
    expect((await holocaseErrorOf(downloadResumable(`${releases.base}/v9/missing.zip`, { dest: join(work, 'missing.zip') }))).message).toMatch(/answered 404 Not Found: the file is not there/);
    const unreachable = await downloadResumable(`http://127.0.0.1:${closedPort}/x.zip`, { dest: join(work, 'x.zip') }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(UnreachableError);
    expect((unreachable as Error).message).toMatch(/^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED/);
  });
});

describe('holocase model install', () => {
  it('downloads a release (a bar on a terminal, progress lines off one), imports it, and the model segments example_ct_sm', async () => {
    const modelsDir = join(work, 'models-http');
    releases.files.set('Dataset297_TotalSegmentator_total_3mm_1559subj.zip', tinyZip);
    releases.drop = { afterBytes: 3_000_000, times: 1 };
    const run = await holocase(['model', 'install', 'totalsegmentator-fast'], { HOLOCASE_MODELS: modelsDir, HOLOCASE_MODEL_DOWNLOAD_URL: releases.base });
    expect(run.stderr + run.stdout).not.toMatch(/internal error/);
    expect(run.code, run.stderr).toBe(0);
    // Plain progress lines (stderr is a pipe), the retry that resumed, the hash, and how to use it.
    expect(run.stderr).toMatch(/Dataset297_TotalSegmentator_total_3mm_1559subj\.zip +100%/);
    expect(run.stderr).toMatch(/resuming \(try 2\)/);
    expect(run.stdout).toContain(`sha256 ${sha256(tinyZip)}`);
    expect(run.stdout).toContain('npx holocase segment <ct> --model totalsegmentator-fast');
    // The bundle: TotalSegmentator's recipe and words, the release's structures; the zip is gone.
    const bundle = await loadModelBundle('totalsegmentator-fast', { modelsDir });
    const m = bundle.manifest;
    if (m.engine !== 'onnx' || m.inference.mode !== 'sliding-window') throw new Error('expected an ONNX sliding-window bundle');
    expect(m.input.orientation).toBe('RAS');
    expect(m.input.tensorAxes).toEqual(['k', 'j', 'i']);
    expect(m.inference.overlap).toBe(0.5);
    expect(m.license).toBe('Apache-2.0');
    expect(m.limits).toMatch(/Runs at 3 mm/);
    expect(labelEntries(m).map((e) => e.name)).toEqual(['spleen', 'kidney_right', 'kidney_left', 'liver', 'stomach', 'aorta']);
    expect(await readdir(join(modelsDir, '.downloads'))).toEqual([]);
    // It segments as the network should (the fixture's reference Dice, within 0.03).
    const index = JSON.parse(await readFile(join(FIXTURES, 'nnunet/index.json'), 'utf8')) as { trainingCaseDice?: Record<string, number> }[];
    const reference = index.find((e) => e.trainingCaseDice)!.trainingCaseDice!;
    const ct = await readNifti(join(FIXTURES, 'totalsegmentator/example_ct_sm.nii.gz'));
    const truth = await readNifti(join(FIXTURES, 'totalsegmentator/example_seg.nii.gz'));
    const result = await segment(ct, bundle, { provider: 'cpu' });
    const report = evaluateLabelMaps(result.labels, new Map(labelEntries(m).map((e) => [e.label, e.name])), truth as never, await readLabelTable(join(FIXTURES, 'totalsegmentator/classes_total_v2.json')));
    for (const [name, dice] of Object.entries(reference)) expect(report.structures.find((s) => s.name === name)!.dice, name).toBeGreaterThan(dice - 0.03);
    // On a terminal (a real pseudo-terminal from util-linux `script`), one bar redrawn in place; --force re-imports.
    const tty = await new Promise<{ code: number | null; out: string }>((done) => {
      const env = { ...process.env, HOLOCASE_MODELS: modelsDir, HOLOCASE_MODEL_DOWNLOAD_URL: releases.base, COLUMNS: '120' };
      const child = spawn('script', ['-qec', `${process.execPath} ${join(ROOT, 'bin/holocase.mjs')} model install totalsegmentator-fast --force`, '/dev/null'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.on('close', (code) => done({ code, out }));
    });
    expect(tty.code, tty.out).toBe(0);
    expect(tty.out).toMatch(/\r\x1b\[KDataset297_TotalSegmentator_total_3mm_1559subj\.zip \[#{10,40}\] 100% {2}6\.6\/6\.6 MB {2}[\d.]+ MB\/s {2}ETA 0:00\r?\n/);
    expect(tty.out).toContain('written: totalsegmentator-fast');
  }, 240_000);

  it('installs the five-part set from --from DIR without a network, in TotalSegmentator’s label numbers', async () => {
    const modelsDir = join(work, 'models-offline');
    const weights = join(work, 'weights');
    await mkdir(weights, { recursive: true });
    for (const zip of byName('totalsegmentator').zips) await copyFile(TINY_ZIP, join(weights, `${zip.folder}.zip`));
    const logs: string[] = [];
    const result = await installModel({ name: 'totalsegmentator', from: weights, modelsDir, baseUrl: `http://127.0.0.1:${closedPort}`, log: (l) => logs.push(l) });
    expect(result.modelId).toBe('totalsegmentator');
    expect(result.installed).toEqual(['totalsegmentator-organs', 'totalsegmentator-vertebrae', 'totalsegmentator-cardiac', 'totalsegmentator-muscles', 'totalsegmentator-ribs', 'totalsegmentator']);
    expect(result.downloads).toEqual([]);
    expect(result.notes).toContain('totalsegmentator-vertebrae: 0 of the 26 structures TotalSegmentator lists; missing sacrum, vertebrae_S1, vertebrae_L5, vertebrae_L4, vertebrae_L3, vertebrae_L2, vertebrae_L1, vertebrae_T12, vertebrae_T11, vertebrae_T10, … (26 in all)');
    const set = await loadModelBundle('totalsegmentator', { modelsDir });
    if (set.manifest.engine !== 'set') throw new Error('expected a set');
    expect(set.manifest.members.map((m) => m.model)).toEqual(result.installed.slice(0, 5));
    // class_map["total"] numbers: spleen 1, kidneys 2 and 3, liver 5, stomach 6, aorta 52.
    expect(set.manifest.output.labels).toEqual({ 1: 'spleen', 2: 'kidney_right', 3: 'kidney_left', 5: 'liver', 6: 'stomach', 52: 'aorta' });
    expect(set.manifest.license).toBe('Apache-2.0');
    // The set's label map compares with TotalSegmentator's own output label for label.
    const ct = await readNifti(join(FIXTURES, 'totalsegmentator/example_ct_sm.nii.gz'));
    const truth = await readNifti(join(FIXTURES, 'totalsegmentator/example_seg.nii.gz'));
    const labels = (await segment(ct, set, { provider: 'cpu' })).labels.data;
    for (const [label, name] of [[5, 'liver'], [1, 'spleen'], [52, 'aorta']] as const) {
      let both = 0;
      let sum = 0;
      for (let p = 0; p < labels.length; p++) {
        const a = labels[p] === label ? 1 : 0;
        const b = truth.data[p] === label ? 1 : 0;
        both += a & b;
        sum += a + b;
      }
      expect((2 * both) / sum, name).toBeGreaterThan(0.8);
    }
    // Installing another set that shares the fast network keeps what is there.
    expect((await readdir(modelsDir)).filter((n) => n.startsWith('.install'))).toEqual([]);
  }, 300_000);

  it('offline without --from says which files to get, from where, and where to put them; nothing is written', async () => {
    const modelsDir = join(work, 'models-none');
    const run = await holocase(['model', 'install', 'liver-vessels'], { HOLOCASE_MODELS: modelsDir, HOLOCASE_MODEL_DOWNLOAD_URL: `http://127.0.0.1:${closedPort}/releases` });
    expect(run.code).toBe(2);
    const message = run.stderr;
    expect(message).toMatch(/error \[DOWNLOAD_FAILED\]: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED/);
    expect(message).toContain(`http://127.0.0.1:${closedPort}/releases/v2.0.0-weights/Dataset297_TotalSegmentator_total_3mm_1559subj.zip`);
    expect(message).toContain(`http://127.0.0.1:${closedPort}/releases/v2.4.0-weights/Dataset008_HepaticVessel.zip`);
    expect(message).toContain('npx holocase model install liver-vessels --from /srv/holocase/weights');
    expect(message).toContain(`written to ${modelsDir}`);
    expect(message).not.toMatch(/\n\s+at /); // no stack trace
    expect((await listModelBundles({ modelsDir })).map((b) => b.id)).toEqual([]);
    // --from a folder that lacks a file names it and where it comes from.
    const empty = join(work, 'empty');
    await mkdir(empty, { recursive: true });
    const error = await holocaseErrorOf(installModel({ name: 'body', from: empty, modelsDir }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain(`${empty} lacks Dataset299_body_1559subj.zip; download it from https://github.com/wasserth/TotalSegmentator/releases/download/v2.0.0-weights/Dataset299_body_1559subj.zip`);
  });

  it('refuses a release whose structures are not the ones TotalSegmentator lists, leaving no half-installed model', async () => {
    const modelsDir = join(work, 'models-http');
    // totalsegmentator-fast is installed (first test); the liver-vessels network here is the organ fixture.
    releases.files.set('Dataset008_HepaticVessel.zip', tinyZip);
    const error = await holocaseErrorOf(installModel({ name: 'liver-vessels', modelsDir, baseUrl: releases.base }));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toMatch(/Dataset008_HepaticVessel\.zip holds structures TotalSegmentator does not list for it \(spleen, kidney_right, kidney_left, stomach, aorta\)/);
    expect((await readdir(modelsDir)).sort()).toEqual(['.downloads', 'totalsegmentator-fast']);
    // The download stays for the next try.
    expect(await readdir(join(modelsDir, '.downloads'))).toEqual(['Dataset008_HepaticVessel.zip']);
  });
});
