/**
 * The viewer in headless Chromium (SwiftShader: no GPU here): time from opening a share link to the
 * first frame with the model drawn, split into the GLB download + meshopt decode + parse and the
 * upload/first draw, and the drawn scene's triangles and draw calls (`renderer.info`).
 *
 * Workloads: example_ct (3 mm), and the CT phantom at clinical size (0.8 × 0.8 × 1 mm, 475 × 350 × 520),
 * each through `runCase` (the model bundle from HOLOCASE_DEFAULT_MODEL or `hu-anatomy`), imported as a
 * case and shared. Peer, in the same run: the 3 mm case's GLB written without meshopt compression or
 * quantisation (gltf-transform), imported and shared the same way. The clinical case is opened on a
 * desktop page (desktop level of detail; budget: first frame within 3 s) and as a standalone headset's
 * browser does (Quest user agent: the headset level). Each is opened RUNS times in a fresh browser
 * context; medians are reported.
 */
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeIO } from '@gltf-transform/core';
import { ALL_EXTENSIONS, EXTMeshoptCompression, KHRMeshQuantization } from '@gltf-transform/extensions';
import { dequantize } from '@gltf-transform/functions';
import { MeshoptDecoder, MeshoptEncoder } from 'meshoptimizer';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { createShare } from '../../server/auth/shareLinks.ts';
import { ensureNextBuild } from '../../server/http/nextBuild.ts';
import { launchChromium, VIEWPORT } from '../e2e/chromium.ts';
import { runCase } from '../../server/pipeline/runCase.ts';
import { writeNifti } from '../../server/volume/nifti.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { median } from './median.ts';
import { startHolocaseServe, stopProcess } from './startHolocaseServe.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CT = path.join(ROOT, '../shared/fixtures/totalsegmentator/example_ct.nii.gz');
const RUNS = 5;
const PORT = 4290;

interface Timings {
  loadStart: number;
  loaded: number;
  firstFrame: number;
}

interface RunFigures {
  /** Navigation start → first frame with the model drawn. */
  openToFirstFrameMs: number;
  /** GLB request → parsed (download, meshopt decode, GLTFLoader parse). */
  loadMs: number;
  /** Parsed → first frame drawn (React scene, GPU upload, shader compile, draw). */
  loadedToFirstFrameMs: number;
  triangles: number;
  drawCalls: number;
}

/** The same case with its GLB rewritten without meshopt compression and quantisation. */
async function uncompressedCopy(caseFolder: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  await MeshoptDecoder.ready;
  await MeshoptEncoder.ready;
  const io = new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies({ 'meshopt.decoder': MeshoptDecoder, 'meshopt.encoder': MeshoptEncoder });
  const doc = await io.read(path.join(caseFolder, 'case.glb'));
  await doc.transform(dequantize());
  for (const ext of doc.getRoot().listExtensionsUsed()) {
    if (ext.extensionName === EXTMeshoptCompression.EXTENSION_NAME || ext.extensionName === KHRMeshQuantization.EXTENSION_NAME) ext.dispose();
  }
  await writeFile(path.join(target, 'case.glb'), await io.writeBinary(doc));
  for (const file of ['ct.nii.gz', 'labels.nii.gz', 'report.json']) {
    await copyFile(path.join(caseFolder, file), path.join(target, file));
  }
}

/** Meta Quest 3's browser: the viewer draws the headset level of detail in it. */
const QUEST_BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/37.1.0.3.53 SamsungBrowser/4.0 Chrome/134.0.6998.190 VR Safari/537.36';

/** The clinical-size workload: the CT phantom at 0.8 × 0.8 × 1 mm, written where `runCase` reads it. */
async function clinicalPhantom(file: string): Promise<void> {
  await writeNifti(makePhantom({ spacingMm: [0.8, 0.8, 1] }).ct, file, 'holocase CT phantom');
}

async function openShare(browser: Awaited<ReturnType<typeof launchChromium>>, url: string, userAgent?: string): Promise<RunFigures> {
  const context = await browser.newContext({ viewport: VIEWPORT, ...(userAgent ? { userAgent } : {}) });
  const page = await context.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __holocaseTimings?: Timings }).__holocaseTimings?.firstFrame !== undefined, undefined, {
      timeout: 120_000,
      polling: 20,
    });
    return await page.evaluate(() => {
      const t = (window as unknown as { __holocaseTimings: Timings }).__holocaseTimings;
      const info = (window as unknown as { __holocase: { renderInfo(): { triangles: number; calls: number } } }).__holocase.renderInfo();
      return {
        openToFirstFrameMs: Math.round(t.firstFrame),
        loadMs: Math.round(t.loaded - t.loadStart),
        loadedToFirstFrameMs: Math.round(t.firstFrame - t.loaded),
        triangles: info.triangles,
        drawCalls: info.calls,
      };
    });
  } finally {
    await context.close();
  }
}

function summarise(runs: RunFigures[]) {
  return {
    openToFirstFrameMs: median(runs.map((r) => r.openToFirstFrameMs)),
    loadMs: median(runs.map((r) => r.loadMs)),
    loadedToFirstFrameMs: median(runs.map((r) => r.loadedToFirstFrameMs)),
    triangles: runs[0]!.triangles,
    drawCalls: runs[0]!.drawCalls,
    runsOpenToFirstFrameMs: runs.map((r) => r.openToFirstFrameMs),
  };
}

export async function bench(): Promise<Record<string, unknown>> {
  // 1. The case (pipeline output), its uncompressed peer, both imported and shared.
  const work = await mkdtemp(path.join(os.tmpdir(), 'holocase-bench-viewer-'));
  const dataDir = path.join(work, 'data');
  const caseFolder = path.join(work, 'case');
  const plainFolder = path.join(work, 'case-uncompressed');
  const modelId = process.env.HOLOCASE_DEFAULT_MODEL ?? 'hu-anatomy';
  await runCase(CT, caseFolder, { modelId });
  await uncompressedCopy(caseFolder, plainFolder);
  const clinicalCt = path.join(work, 'phantom-0.8mm.nii.gz');
  const clinicalFolder = path.join(work, 'case-0.8mm');
  await clinicalPhantom(clinicalCt);
  const clinicalReport = await runCase(clinicalCt, clinicalFolder, { modelId });
  await rm(clinicalCt);
  const db = openDatabase(dataDir);
  const compressed = createShare(db, await importCaseFolder(db, dataDir, caseFolder, { label: 'bench' }));
  const plain = createShare(db, await importCaseFolder(db, dataDir, plainFolder, { label: 'bench uncompressed' }));
  const clinical = createShare(db, await importCaseFolder(db, dataDir, clinicalFolder, { label: 'bench 0.8 mm' }));
  db.close();

  // 2. Server and browser; alternate the two GLBs so both see the same machine state.
  await ensureNextBuild();
  const server = await startHolocaseServe(dataDir, PORT);
  const browser = await launchChromium();
  const base = `http://localhost:${PORT}`;
  try {
    await openShare(browser, `${base}${compressed.url}?testhook=1`); // warm-up: server and shader caches
    const runs = { meshopt: [] as RunFigures[], uncompressed: [] as RunFigures[], clinicalDesktop: [] as RunFigures[], clinicalHeadset: [] as RunFigures[] };
    for (let i = 0; i < RUNS; i++) {
      runs.meshopt.push(await openShare(browser, `${base}${compressed.url}?testhook=1`));
      runs.uncompressed.push(await openShare(browser, `${base}${plain.url}?testhook=1`));
      runs.clinicalDesktop.push(await openShare(browser, `${base}${clinical.url}?testhook=1`));
      runs.clinicalHeadset.push(await openShare(browser, `${base}${clinical.url}?testhook=1`, QUEST_BROWSER));
    }
    const desktop = summarise(runs.clinicalDesktop);
    return {
      workload: `example_ct.nii.gz (3 mm) → runCase(${modelId}) → share link opened in headless Chromium ${VIEWPORT.width}×${VIEWPORT.height}, SwiftShader WebGL2, antialias off; ${RUNS} runs each, medians`,
      cores: os.availableParallelism(),
      glbBytes: (await stat(path.join(caseFolder, 'case.glb'))).size,
      glbUncompressedBytes: (await stat(path.join(plainFolder, 'case.glb'))).size,
      meshopt: summarise(runs.meshopt),
      uncompressedPeer: summarise(runs.uncompressed),
      clinical: {
        workload: `CT phantom 0.8 × 0.8 × 1 mm (${clinicalReport.input.dims.join('×')}) → runCase(${modelId}) → share link; desktop page, and a Quest browser user agent (headset level)`,
        levels: {
          desktop: { glbBytes: clinicalReport.glb.bytes, triangles: clinicalReport.glb.triangles, drawCalls: clinicalReport.glb.drawCalls },
          xr: clinicalReport.glb.xr,
        },
        desktop,
        headset: summarise(runs.clinicalHeadset),
        budget: { openToFirstFrameMs: 3000, met: desktop.openToFirstFrameMs <= 3000 },
      },
    };
  } finally {
    await browser.close();
    await stopProcess(server);
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bench(), null, 2));
}
