/**
 * The CT slice views on a clinical-size case, in headless Chromium (SwiftShader): time from opening a
 * share link to the first drawing of all three slice views (from the CT's coarse level), to the whole
 * CT at full resolution, to the label map; and the memory the page holds once everything is in
 * (the renderer process's resident memory, and the JS heap). Also the cost of cutting the CT into
 * chunks: when the case is made (from memory) and on first request for a case without them (from
 * `ct.nii.gz`).
 *
 * Workload: the phantom at 0.8 × 0.8 × 1.0 mm over 409.6 × 409.6 × 600 mm (512 × 512 × 600 voxels),
 * through `runCase` (hu-anatomy), imported and shared. Peer, in the same run: a viewer that loads the
 * whole CT before drawing (as niivue does) can draw its first slice no earlier than the moment all
 * chunks are in (`ctCompleteMs`: the same bytes, compressed the same way as a `.nii.gz`).
 * Each figure: RUNS page loads in fresh browser contexts, medians.
 */
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { createShare } from '../../server/auth/shareLinks.ts';
import { ensureNextBuild } from '../../server/http/nextBuild.ts';
import { runCase } from '../../server/pipeline/runCase.ts';
import { caseLayout } from '../../server/store/caseFolders.ts';
import { CT_CHUNK_FILES, ensureCtChunks, writeCtChunks } from '../../server/store/ctChunkStore.ts';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { readNifti, writeNifti } from '../../server/volume/nifti.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { launchChromium, VIEWPORT } from '../e2e/chromium.ts';
import { median } from './median.ts';
import { startHolocaseServe, stopProcess } from './startHolocaseServe.ts';

const RUNS = 3;
const PORT = 4291;
const SPACING: [number, number, number] = [0.8, 0.8, 1.0];
const FIELD_OF_VIEW: [number, number, number] = [409.6, 409.6, 600];

interface Timings {
  ctCoarse?: number;
  firstSlices?: number;
  ctComplete?: number;
  labelsLoaded?: number;
  firstFrame?: number;
}

interface PageFigures {
  firstSlicesMs: number;
  ctCoarseMs: number;
  ctCompleteMs: number;
  labelsLoadedMs: number;
  firstFrame3dMs: number;
  renderer: Memory;
  /** The most the renderer held at any moment while loading. */
  rendererPeak: Memory;
  /** ArrayBuffer backing stores (the CT, the label map, the model's buffers), MB. */
  arrayBuffersMB: number;
}

interface Memory {
  /** Pages only these processes use (Chrome's "memory footprint"), MB. */
  privateMB: number;
  /** Private pages plus a share of pages mapped by several processes (libraries), MB. */
  pssMB: number;
  /** Every page mapped, shared ones counted whole, MB. */
  rssMB: number;
}

/** Memory (from `/proc/<pid>/smaps_rollup`) of the processes below `root` whose command line matches `pattern`. */
async function processMemory(root: number, pattern: RegExp): Promise<Memory> {
  const children = new Map<number, number[]>();
  const commands = new Map<number, string>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const parent = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      commands.set(Number(entry), (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' '));
    } catch {
      /* the process ended meanwhile */
    }
  }
  const total = { privateMB: 0, pssMB: 0, rssMB: 0 };
  const visit = async (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (pattern.test(commands.get(child) ?? '')) {
        const rollup = await readFile(`/proc/${child}/smaps_rollup`, 'utf8').catch(() => '');
        const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(rollup)?.[1] ?? 0);
        total.privateMB += (kB('Private_Clean') + kB('Private_Dirty')) / 1024;
        total.pssMB += kB('Pss') / 1024;
        total.rssMB += kB('Rss') / 1024;
      }
      await visit(child);
    }
  };
  await visit(root);
  return { privateMB: Math.round(total.privateMB), pssMB: Math.round(total.pssMB), rssMB: Math.round(total.rssMB) };
}

async function openShare(browser: Browser, url: string): Promise<PageFigures> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  try {
    await page.goto(url);
    // Until everything is in: the highest memory seen, sampled twice a second.
    const peak: Memory = { privateMB: 0, pssMB: 0, rssMB: 0 };
    const deadline = Date.now() + 300_000;
    for (;;) {
      const now = await processMemory(process.pid, /--type=renderer/);
      for (const key of Object.keys(peak) as (keyof Memory)[]) peak[key] = Math.max(peak[key], now[key]);
      const done = await page.evaluate(() => {
        const t = (window as unknown as { __holocaseTimings?: Timings }).__holocaseTimings;
        return t?.ctComplete !== undefined && t.labelsLoaded !== undefined && t.firstSlices !== undefined && t.firstFrame !== undefined;
      });
      if (done) break;
      if (Date.now() > deadline) throw new Error('the page did not finish loading in 5 minutes');
      await page.waitForTimeout(500);
    }
    // Let the last redraws settle before reading memory.
    await page.waitForTimeout(1000);
    const t = await page.evaluate(() => (window as unknown as { __holocaseTimings: Required<Timings> }).__holocaseTimings);
    const cdp = await context.newCDPSession(page);
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { backingStorageSize?: number };
    return {
      firstSlicesMs: Math.round(t.firstSlices),
      ctCoarseMs: Math.round(t.ctCoarse),
      ctCompleteMs: Math.round(t.ctComplete),
      labelsLoadedMs: Math.round(t.labelsLoaded),
      firstFrame3dMs: Math.round(t.firstFrame),
      renderer: await processMemory(process.pid, /--type=renderer/),
      rendererPeak: peak,
      arrayBuffersMB: Math.round((heap.backingStorageSize ?? 0) / 1e6),
    };
  } finally {
    await context.close();
  }
}

/**
 * `caseFolder`: a case folder made earlier from the same phantom (`holocase run`), to skip making it
 * again (`node --import tsx test/bench/slices.ts <folder>`).
 */
export async function bench(options: { caseFolder?: string } = {}): Promise<Record<string, unknown>> {
  // 1. The case: phantom CT → runCase (which also chunks the CT) → imported and shared.
  const work = await mkdtemp(path.join(os.tmpdir(), 'holocase-bench-slices-'));
  const dataDir = path.join(work, 'data');
  let folder = options.caseFolder;
  if (!folder) {
    folder = path.join(work, 'case');
    const phantom = makePhantom({ spacingMm: SPACING, fieldOfViewMm: FIELD_OF_VIEW });
    const ctFile = path.join(work, 'phantom.nii.gz');
    await writeNifti(phantom.ct, ctFile);
    await runCase(ctFile, folder, { modelId: 'hu-anatomy' });
  }
  const ct = await readNifti(path.join(folder, 'ct.nii.gz'));
  let started = Date.now();
  await writeCtChunks(ct, work);
  const chunkFromMemoryMs = Date.now() - started;
  const dims = ct.dims;
  const db = openDatabase(dataDir);
  const caseId = await importCaseFolder(db, dataDir, folder, { label: 'bench slices' });
  const share = createShare(db, caseId);
  db.close();
  // The first-request path: a case folder without chunks (imported cases keep none).
  const caseDir = caseLayout(dataDir, caseId).caseDir;
  await rm(path.join(caseDir, CT_CHUNK_FILES.manifest), { force: true });
  started = Date.now();
  const manifest = await ensureCtChunks(caseDir);
  const chunkOnFirstRequestMs = Date.now() - started;

  // 2. Server and browser.
  await ensureNextBuild();
  const server = await startHolocaseServe(dataDir, PORT);
  const browser = await launchChromium();
  const url = `http://localhost:${PORT}${share.url}?testhook=1`;
  try {
    await openShare(browser, url); // warm-up: server, page code and shader caches
    const runs: PageFigures[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await openShare(browser, url));
    const pick = (key: Exclude<keyof PageFigures, 'renderer' | 'rendererPeak'>) => median(runs.map((r) => r[key]));
    const memory = (which: 'renderer' | 'rendererPeak'): Memory => ({
      privateMB: median(runs.map((r) => r[which].privateMB)),
      pssMB: median(runs.map((r) => r[which].pssMB)),
      rssMB: median(runs.map((r) => r[which].rssMB)),
    });
    const chunkBytes = manifest.chunks.reduce((sum, c) => sum + c.bytes, 0);
    return {
      workload: `phantom ${dims.join('×')} at ${SPACING.join('×')} mm → runCase(hu-anatomy) → share link opened in headless Chromium ${VIEWPORT.width}×${VIEWPORT.height} (SwiftShader); ${RUNS} runs after a warm-up, medians`,
      cores: os.availableParallelism(),
      ctVoxels: dims[0] * dims[1] * dims[2],
      chunks: { count: manifest.chunks.length, slabDepth: manifest.slabs.depth, coarseDims: manifest.coarse.dims, coarseBytes: manifest.chunks[0].bytes, totalBytes: chunkBytes, rawBytes: dims[0] * dims[1] * dims[2] * 2 },
      chunkFromMemoryMs,
      chunkOnFirstRequestMs,
      firstSlicesMs: pick('firstSlicesMs'),
      ctCoarseMs: pick('ctCoarseMs'),
      labelsLoadedMs: pick('labelsLoadedMs'),
      firstFrame3dMs: pick('firstFrame3dMs'),
      renderer: memory('renderer'),
      rendererPeak: memory('rendererPeak'),
      arrayBuffersMB: pick('arrayBuffersMB'),
      wholeVolumeFirstPeer: { firstSliceNoEarlierThanMs: pick('ctCompleteMs') },
      runs,
    };
  } finally {
    await browser.close();
    await stopProcess(server);
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bench({ caseFolder: process.argv[2] }), null, 2));
}
