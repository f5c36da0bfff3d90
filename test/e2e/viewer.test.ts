/**
 * The viewer in a real browser against a real server: sign in (with the one-time-password change),
 * upload a CT, follow its progress, look at the model (pixels, orientation, hiding the bones, hover,
 * measurement), share it and open the link and the short code without an account; then enter emulated
 * Quest 3 `immersive-ar` and `immersive-vr` sessions (IWER): the headset's level of detail (from the
 * start in the Quest's browser, swapped in when a tethered desktop page enters VR), placement in front
 * of the user, grabbing with a controller and with a pinching hand, and the floating panel hiding a
 * tissue group.
 * Screenshots go to `test-artifacts/`.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ViewerTestApi as Hook } from '../../app/viewer/TestHook.tsx';
import type { StructureEntry } from '../../app/viewer/viewerStore.ts';
import { firstSignIn } from './firstSignIn.ts';
import { chromiumAvailable, cspViolations, iwerInitScript, launchChromium, newXrContext, VIEWPORT } from './chromium.ts';
import { PROJECT_ROOT, startHolocaseServer, type HolocaseServer } from './holocaseServer.ts';
import { decodePng, fractionChanged, fractionUnlike, type Image } from './png.ts';
import { aimQuaternion, clickControllerButton, setController, setControllerButton, setHand, setPinch, waitFrames, type Vec3 } from './xrDriver.ts';

const PORT = 4210;
const FIXTURE = path.join(PROJECT_ROOT, '..', 'shared', 'fixtures', 'totalsegmentator', 'example_ct.nii.gz');
const DICOM_FOLDER = path.join(PROJECT_ROOT, '..', 'shared', 'fixtures', 'totalsegmentator', 'example_ct_dicom');
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
/** The viewer's background colour (`BACKGROUND` in app/viewer/ViewerScene.tsx). */
const BACKGROUND: [number, number, number] = [0x18, 0x20, 0x2a];
const NEW_PASSWORD = 'correct horse battery staple';
/** A desktop Chrome (a headset tethered to it runs the XR session). */
const DESKTOP_BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36';
/** Meta Quest 3's browser (the viewer draws the headset's level of detail in it). */
const QUEST_BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/37.1.0.3.53 SamsungBrowser/4.0 Chrome/134.0.6998.190 VR Safari/537.36';

type HookStructure = Pick<StructureEntry, 'name' | 'group' | 'displayName'>;

/** Runs `fn` on the page's test hook (`window.__holocase`). */
function hook<T>(page: Page, fn: (h: Hook) => T): Promise<T> {
  return page.evaluate(`(${fn.toString()})(window.__holocase)`) as Promise<T>;
}

async function canvasImage(page: Page, name?: string): Promise<Image> {
  const png = await page.locator('[data-testid=viewer-canvas] canvas').screenshot();
  if (name) await writeFile(path.join(ARTIFACTS, name), png);
  return decodePng(png);
}

async function savePage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, name) });
}

/**
 * Waits until the 3D canvas has kept its size for a few checks: after a window resize the slice views
 * beside it redraw, and the grid they share settles a moment later.
 */
async function waitForSteadyCanvas(page: Page): Promise<void> {
  const canvas = page.locator('[data-testid=viewer-canvas] canvas');
  let last = '';
  let steady = 0;
  for (let i = 0; i < 100 && steady < 3; i++) {
    const box = await canvas.boundingBox();
    const size = `${box?.width}x${box?.height}`;
    steady = size === last ? steady + 1 : 0;
    last = size;
    await waitFrames(page, 2);
  }
}

/** Waits for the viewer to be drawing the loaded model. */
async function waitForViewer(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __holocase?: { frames: number } }).__holocase?.frames! >= 1, undefined, { timeout: 120_000 });
  await waitFrames(page, 2);
}

/** World centres of the left and right lung (any structures named `lung…_left` / `lung…_right`), if present. */
async function lungCenters(page: Page): Promise<{ left: Vec3; right: Vec3 } | null> {
  return hook(page, (h) => {
    const names = h.state().structures.map((s) => s.name);
    const left = names.find((n) => /^lung.*_left$/.test(n));
    const right = names.find((n) => /^lung.*_right$/.test(n));
    return left && right ? { left: h.structureCenter(left)!, right: h.structureCenter(right)! } : null;
  });
}

/** Follows the upload's job progress on the page until it is done or failed. */
async function waitForJob(page: Page, previousCase = ''): Promise<{ seen: Set<string>; text: string; caseId: string }> {
  const job = page.locator(`[data-testid=job-progress]:not([data-case="${previousCase}"])`);
  await job.waitFor({ timeout: 60_000 });
  const seen = new Set<string>();
  const deadline = Date.now() + 280_000;
  for (;;) {
    const status = (await job.getAttribute('data-status')) ?? '';
    seen.add(status);
    if (status === 'done' || status === 'failed') break;
    if (Date.now() > deadline) throw new Error('processing did not finish in time');
    await page.waitForTimeout(250);
  }
  const text = (await job.textContent()) ?? '';
  const href = seen.has('done') ? await page.getByTestId('open-case').getAttribute('href') : null;
  return { seen, text, caseId: href?.split('/').pop() ?? '' };
}

/**
 * Points the right controller at a panel button (from beside the head) and pulls the trigger, until
 * `done()` says the click took effect. A press counts as a click only if it is short (1.5 s): on a
 * loaded machine a software-rendered frame can be longer than that, so a missed click is tried again
 * (at most three times); a click that never works still fails the test.
 */
async function aimAndClick(page: Page, head: Vec3, button: string, done: () => Promise<boolean>): Promise<void> {
  const target = await hook(page, new Function('h', `return h.objectPosition(${JSON.stringify(button)})`) as (h: Hook) => Vec3 | null);
  expect(target, `panel button ${button}`).not.toBeNull();
  const from: Vec3 = [head[0] + 0.15, head[1] - 0.25, head[2]];
  await setController(page, 'right', from, aimQuaternion([target![0] - from[0], target![1] - from[1], target![2] - from[2]]));
  await waitFrames(page, 4);
  for (let attempt = 0; attempt < 3; attempt++) {
    await clickControllerButton(page, 'right', 'trigger');
    await waitFrames(page, 2);
    if (await done()) return;
  }
  throw new Error(`clicking ${button} had no effect`);
}

const describeBrowser = chromiumAvailable() ? describe : describe.skip;

describeBrowser('viewer in Chromium against a running server', () => {
  let server: HolocaseServer;
  let browser: Browser;
  let password: string;
  let caseId = '';
  let shareUrl = '';
  let shareCode = '';
  let structures: HookStructure[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startHolocaseServer({ port: PORT });
    password = await server.addUser('surgeon');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('signs in with the one-time password, chooses a new one, uploads a CT and follows its progress', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    // The viewer works under the server's Content-Security-Policy: nothing it needs is refused.
    const csp = cspViolations(page);
    await firstSignIn(page, server.url, 'surgeon', password, NEW_PASSWORD);

    await page.getByTestId('file-input').setInputFiles(FIXTURE);
    await expect.poll(() => page.getByTestId('picked').textContent()).toContain('1 file');
    await page.getByTestId('label').fill('e2e abdomen');
    await savePage(page, 'home-upload.png');
    await page.getByTestId('upload').click();

    const first = await waitForJob(page);
    expect(first.seen.has('done'), `job ended with: ${first.text}\n${server.output().slice(-3000)}`).toBe(true);
    caseId = first.caseId;

    // A DICOM series as a folder (webkitdirectory), labelled, processed the same way.
    await page.getByTestId('folder-input').setInputFiles(DICOM_FOLDER);
    await expect.poll(() => page.getByTestId('picked').textContent()).toMatch(/^\d\d files/);
    await page.getByTestId('label').fill('e2e dicom folder');
    await page.getByTestId('upload').click();
    const second = await waitForJob(page, caseId);
    expect(second.seen.has('done'), `job ended with: ${second.text}`).toBe(true);
    expect(second.caseId).not.toBe(caseId);
    // A damaged file: the job fails, and the case page says why in words.
    const damagedDir = await mkdtemp(path.join(os.tmpdir(), 'holocase-e2e-bad-'));
    const damaged = path.join(damagedDir, 'damaged.nii.gz');
    await writeFile(damaged, (await readFile(FIXTURE)).subarray(0, 4000));
    await page.getByTestId('file-input').setInputFiles(damaged);
    await page.getByTestId('label').fill('e2e damaged');
    await page.getByTestId('upload').click();
    const uploadError = page.getByTestId('upload-error');
    const third = await Promise.race([waitForJob(page, second.caseId), uploadError.waitFor({ timeout: 120_000 }).then(() => null)]);
    await rm(damagedDir, { recursive: true, force: true });
    if (third) {
      expect(third.seen.has('failed')).toBe(true);
      expect(third.text).toMatch(/Failed: .{10,}/);
      const failedId = (await page.getByTestId('job-progress').getAttribute('data-case'))!;
      await page.goto(`${server.url}/cases/${failedId}`);
      await expect.poll(() => page.getByTestId('case-error').textContent(), { timeout: 30_000 }).toMatch(/Processing failed: .{10,}/);
      await savePage(page, 'case-failed.png');
      await page.goto(`${server.url}/`);
    } else {
      expect(await uploadError.textContent()).toMatch(/.{10,}/);
    }

    await page.reload();
    await expect.poll(() => page.getByTestId('case-list').textContent()).toContain('e2e abdomen');
    expect(await page.getByTestId('case-list').textContent()).toContain('e2e dicom folder');
    await savePage(page, 'home-case-list.png');
    expect(csp).toEqual([]);
    await context.close();
  }, 400_000);

  it('shows the model on the case page, correctly oriented, and hides the bones on request', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    // The viewer works under the server's Content-Security-Policy: nothing it needs is refused.
    const csp = cspViolations(page);
    await page.goto(`${server.url}/login`);
    await page.getByTestId('username').fill('surgeon');
    await page.getByTestId('password').fill(NEW_PASSWORD);
    await page.getByTestId('sign-in').click();
    await page.waitForURL(`${server.url}/`);
    await page.goto(`${server.url}/cases/${caseId}?testhook=1`);
    await waitForViewer(page);
    structures = await hook(page, (h) => h.state().structures.map(({ name, group, displayName }) => ({ name, group, displayName })));
    expect(structures.length).toBeGreaterThan(0);

    // The model covers a good part of the middle of the canvas (the background is one flat colour).
    const front = await canvasImage(page, 'desktop-anterior-canvas.png');
    const middle = { x0: Math.round(front.width * 0.3), y0: Math.round(front.height * 0.2), x1: Math.round(front.width * 0.7), y1: Math.round(front.height * 0.8) };
    expect(fractionUnlike(front, BACKGROUND, 24, middle)).toBeGreaterThan(0.15);
    await savePage(page, 'desktop-anterior.png');

    // Anterior view: camera in front (+Z), head up, the patient's right on the viewer's left.
    const head = await hook(page, (h) => h.headPosition());
    const center = (await hook(page, (h) => h.modelCenter()))!;
    expect(head[2] - center[2]).toBeGreaterThan(0.2);
    const sides = structures.filter((s) => /_(left|right)$/.test(s.name));
    for (const s of sides) {
      const p = await hook(page, new Function('h', `return h.screenPosition(${JSON.stringify(s.name)})`) as (h: Hook) => [number, number]);
      if (s.name.endsWith('_right')) expect(p[0], `${s.name} should be on the viewer's left`).toBeLessThan(0);
      else expect(p[0], `${s.name} should be on the viewer's right`).toBeGreaterThan(0);
    }
    const named = (n: string) => structures.find((s) => s.name === n);
    if (named('liver')) {
      const p = await hook(page, (h) => h.screenPosition('liver')!);
      expect(p[0], 'the liver (patient right) is on the viewer left').toBeLessThan(0);
    }
    if (named('urinary_bladder') && (named('lung_upper_lobe_left') || named('lung'))) {
      const lung = named('lung') ? 'lung' : 'lung_upper_lobe_left';
      const up = await hook(page, new Function('h', `return h.screenPosition(${JSON.stringify(lung)})`) as (h: Hook) => [number, number]);
      const down = await hook(page, (h) => h.screenPosition('urinary_bladder')!);
      expect(up[1]).toBeGreaterThan(down[1]);
    }

    // Hover names a structure.
    const target = structures[0];
    const sp = await hook(page, new Function('h', `return h.screenPosition(${JSON.stringify(target.name)})`) as (h: Hook) => [number, number]);
    const box = (await page.locator('[data-testid=viewer-canvas] canvas').boundingBox())!;
    const hoverX = box.x + ((sp[0] + 1) / 2) * box.width;
    const hoverY = box.y + ((1 - sp[1]) / 2) * box.height;
    await page.mouse.move(hoverX, hoverY);
    await page.getByTestId('structure-info').waitFor({ timeout: 30_000 });

    // Hide the bones: the picture changes and no bone is drawn any more.
    const bones = structures.filter((s) => s.group === 'bone').map((s) => s.name);
    expect(bones.length, 'the case has bones').toBeGreaterThan(0);
    // Pointer rays get their bounding-volume hierarchies once the first frame is drawn, every mesh.
    await page.waitForFunction(() => {
      const trees = (window as unknown as { __holocase?: { boundsTrees(): { meshes: number; built: number } } }).__holocase?.boundsTrees();
      return !!trees && trees.meshes > 0 && trees.built === trees.meshes;
    }, undefined, { timeout: 30_000 });
    expect(await hook(page, (h) => h.boundsTrees().meshes)).toBe(structures.length);
    await page.mouse.move(box.x + 2, box.y + 2);
    const before = await canvasImage(page);
    await page.getByTestId('group-toggle-bone').click();
    await waitFrames(page, 2);
    const after = await canvasImage(page, 'desktop-no-bones-canvas.png');
    expect(fractionChanged(before, after)).toBeGreaterThan(0.01);
    const visible = await hook(page, (h) => h.visibleStructures());
    expect(visible.filter((n) => bones.includes(n))).toEqual([]);
    expect(visible.length).toBe(structures.length - bones.length);
    await savePage(page, 'desktop-no-bones.png');
    await page.getByTestId('group-toggle-bone').click();

    // Preset views: from the patient's left the camera is on +X; from above, on +Y.
    await page.getByTestId('view-left').click();
    await waitFrames(page, 2);
    let eye = await hook(page, (h) => h.headPosition());
    expect(eye[0] - center[0]).toBeGreaterThan(0.2);
    expect(Math.abs(eye[2] - center[2])).toBeLessThan(0.01);
    await savePage(page, 'desktop-left.png');
    await page.getByTestId('view-superior').click();
    await waitFrames(page, 2);
    eye = await hook(page, (h) => h.headPosition());
    expect(eye[1] - center[1]).toBeGreaterThan(0.2);
    await page.getByTestId('view-anterior').click();
    await waitFrames(page, 2);

    // A narrow window (a phone-sized browser, a side panel) refits the whole model: the canvas's left and
    // right edges stay background. Back at full size it fits again.
    await page.setViewportSize({ width: 320, height: VIEWPORT.height });
    await waitFrames(page, 3);
    const narrow = await canvasImage(page, 'desktop-narrow-canvas.png');
    const strip = Math.max(2, Math.round(narrow.width * 0.02));
    expect(fractionUnlike(narrow, BACKGROUND, 24, { x0: 0, y0: 0, x1: strip, y1: narrow.height })).toBeLessThan(0.01);
    expect(fractionUnlike(narrow, BACKGROUND, 24, { x0: narrow.width - strip, y0: 0, x1: narrow.width, y1: narrow.height })).toBeLessThan(0.01);
    expect(fractionUnlike(narrow, BACKGROUND)).toBeGreaterThan(0.05);
    await page.setViewportSize(VIEWPORT);
    await waitForSteadyCanvas(page);

    // The cutting plane changes the picture; switching it off restores it.
    const uncut = await canvasImage(page);
    await page.getByTestId('clip-toggle').check();
    await waitFrames(page, 2);
    const cut = await canvasImage(page, 'desktop-clip-canvas.png');
    expect(fractionChanged(uncut, cut)).toBeGreaterThan(0.01);
    await page.getByTestId('clip-toggle').uncheck();
    await waitFrames(page, 2);
    expect(fractionChanged(uncut, await canvasImage(page))).toBeLessThan(0.01);

    // Share it.
    await page.getByTestId('create-share').click();
    shareUrl = (await page.getByTestId('share-url').getAttribute('href'))!;
    shareCode = (await page.getByTestId('share-code').textContent())!.trim();
    expect(shareUrl).toMatch(/^\/s\/\S+$/);

    // Two-point measurement in millimetres: click the centres of the two structures farthest apart on screen.
    const onScreen = await hook(page, (h) => h.state().structures.map((s) => h.screenPosition(s.name)!));
    let pair: [number, number][] = [onScreen[0], onScreen[0]];
    for (const a of onScreen) for (const b of onScreen) if (Math.hypot(a[0] - b[0], a[1] - b[1]) > Math.hypot(pair[0][0] - pair[1][0], pair[0][1] - pair[1][1])) pair = [a, b];
    await page.getByTestId('measure').click();
    for (const [x, y] of pair) await page.mouse.click(box.x + ((x + 1) / 2) * box.width, box.y + ((1 - y) / 2) * box.height);
    await expect.poll(() => page.getByTestId('measure-readout').textContent(), { timeout: 30_000 }).toMatch(/^\d+\.\d mm$/);
    const points = await hook(page, (h) => h.state().measure.points);
    const mm = Math.hypot(points[0][0] - points[1][0], points[0][1] - points[1][1], points[0][2] - points[1][2]) * 1000;
    expect(Number.parseFloat((await page.getByTestId('measure-readout').textContent())!)).toBeCloseTo(mm, 0);
    expect(mm).toBeGreaterThan(5);
    await savePage(page, 'desktop-measure.png');
    expect(csp).toEqual([]);
    await context.close();
  }, 300_000);

  it('opens the share link and the share code in a fresh browser without an account', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    // The viewer works under the server's Content-Security-Policy: nothing it needs is refused.
    const csp = cspViolations(page);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${server.url}${shareUrl}?testhook=1`);
    await expect.poll(() => page.getByTestId('case-label').textContent(), { timeout: 60_000 }).toBe('e2e abdomen');
    const meta = (await page.getByTestId('share-meta').textContent())!;
    expect(meta).toMatch(/processed/);
    expect(await page.getByText('Sign out').count()).toBe(0);
    expect(await page.getByTestId('case-list').count()).toBe(0);
    await waitForViewer(page);
    const image = await canvasImage(page);
    expect(fractionUnlike(image, BACKGROUND)).toBeGreaterThan(0.05);
    await savePage(page, 'shared-view.png');
    // The hologram's bytes were asked for once: beside the CT, ahead of the 3-D code that drew them.
    expect(requests.filter((u) => u.includes('/model.glb'))).toHaveLength(1);

    // Input profiles are served offline, only the needed ones, with no way out of their folder.
    expect((await page.request.get(`${server.url}/profiles/profilesList.json`)).ok()).toBe(true);
    expect((await page.request.get(`${server.url}/profiles/generic-hand/left.glb`)).ok()).toBe(true);
    expect((await page.request.get(`${server.url}/profiles/oculus-touch/profile.json`)).status()).toBe(404);
    expect((await page.request.get(`${server.url}/profiles/generic-hand/..%2F..%2F..%2F..%2Fpackage.json`)).status()).toBe(404);
    expect((await page.request.get(`${server.url}/profiles/%2e%2e/%2e%2e/package.json`)).status()).toBe(404);

    // In a standalone headset's own browser the 2D page already draws the headset's level.
    const quest = await browser.newContext({ viewport: VIEWPORT, userAgent: QUEST_BROWSER });
    const onQuest = await quest.newPage();
    const questRequests: string[] = [];
    onQuest.on('request', (r) => questRequests.push(r.url()));
    await onQuest.goto(`${server.url}${shareUrl}?testhook=1`);
    await waitForViewer(onQuest);
    expect(await hook(onQuest, (h) => h.state().modelLevel)).toBe('xr');
    const glbRequests = questRequests.filter((u) => u.includes('/model.glb'));
    expect(glbRequests.length).toBe(1);
    expect(glbRequests[0]).toMatch(/level=xr/);
    await quest.close();

    // The short code leads to the same case.
    await page.goto(`${server.url}/join`);
    await page.getByTestId('share-code-input').fill(shareCode.toLowerCase());
    await page.getByTestId('join').click();
    await page.waitForURL(/\/s\//);
    await expect.poll(() => page.getByTestId('case-label').textContent(), { timeout: 60_000 }).toBe('e2e abdomen');
    expect(csp).toEqual([]);
    await context.close();
  }, 200_000);

  for (const mode of ['ar', 'vr'] as const) {
    it(`places, grabs and controls the model in an emulated Quest 3 immersive-${mode} session`, async () => {
      // AR in the Quest's own browser; VR with the headset tethered to a desktop browser.
      const tethered = mode === 'vr';
      const context = await newXrContext(browser, await iwerInitScript(tethered ? { userAgent: DESKTOP_BROWSER } : {}));
      const page = await context.newPage();
      // The viewer works under the server's Content-Security-Policy: nothing it needs is refused.
      const csp = cspViolations(page);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`${server.url}${shareUrl}?testhook=1`);
      await waitForViewer(page);
      const levelRequests = (level: 'xr' | 'desktop') => requests.filter((u) => /\/model\.glb(\?|$)/.test(u) && /[?&]level=xr(&|$)/.test(u) === (level === 'xr'));
      // Before the session: the headset's level in its own browser, the desktop's on a desktop page.
      expect(await hook(page, (h) => h.state().modelLevel)).toBe(tethered ? 'desktop' : 'xr');
      expect(levelRequests('xr')).toHaveLength(tethered ? 0 : 1);
      expect(levelRequests('desktop')).toHaveLength(tethered ? 1 : 0);
      await page.getByTestId(`enter-${mode}`).click();
      await page.waitForFunction((m) => (window as unknown as { __holocase: Hook }).__holocase.xrMode() === m, `immersive-${mode}`, { timeout: 60_000 });
      // In the session: the headset's level (a desktop page swaps to it without leaving the session).
      await page.waitForFunction(() => (window as unknown as { __holocase: Hook }).__holocase.state().modelLevel === 'xr', undefined, { timeout: 60_000 });
      expect(levelRequests('xr')).toHaveLength(1);
      expect(await hook(page, (h) => h.xrMode())).toBe(`immersive-${mode}`);
      await waitFrames(page, 5);

      // About a metre in front of the eyes, below them (on a table), life size.
      const head = await hook(page, (h) => h.headPosition());
      const dir = await hook(page, (h) => h.headDirection());
      let center = (await hook(page, (h) => h.modelCenter()))!;
      const flat = Math.hypot(dir[0], dir[2]);
      const ahead = ((center[0] - head[0]) * dir[0] + (center[2] - head[2]) * dir[2]) / flat;
      expect(ahead).toBeGreaterThan(0.6);
      expect(ahead).toBeLessThan(1.6);
      expect(center[1]).toBeLessThan(head[1] - 0.3);
      expect(center[1]).toBeGreaterThan(0.5);
      expect(await hook(page, (h) => h.modelScale())).toBeCloseTo(1, 5);
      // Lying supine on the table: head away from the user, the patient's left on the user's right.
      const lungs = await lungCenters(page);
      if (lungs) {
        const aheadOf = (p: Vec3) => ((p[0] - head[0]) * dir[0] + (p[2] - head[2]) * dir[2]) / flat;
        expect(aheadOf(lungs.left) + aheadOf(lungs.right)).toBeGreaterThan(2 * ahead);
        const rightOfUser = (p: Vec3) => (p[0] * -dir[2] + p[2] * dir[0]) / flat;
        expect(rightOfUser(lungs.left)).toBeGreaterThan(rightOfUser(lungs.right));
      }
      await page.screenshot({ path: path.join(ARTIFACTS, `xr-${mode}.png`) });

      // Controller: squeeze inside the model, move, release: the model follows.
      await setController(page, 'right', center);
      await waitFrames(page, 3);
      await setControllerButton(page, 'right', 'squeeze', 1);
      await waitFrames(page, 3);
      const moved: Vec3 = [center[0] + 0.15, center[1] + 0.1, center[2]];
      await setController(page, 'right', moved);
      await waitFrames(page, 4);
      await setControllerButton(page, 'right', 'squeeze', 0);
      await waitFrames(page, 3);
      let now = (await hook(page, (h) => h.modelCenter()))!;
      expect(now[0] - center[0]).toBeCloseTo(0.15, 1);
      expect(now[1] - center[1]).toBeCloseTo(0.1, 1);
      center = now;

      // Hand: pinch inside the model and move.
      await setHand(page, 'right', center);
      await waitFrames(page, 4);
      await setPinch(page, 'right', 1);
      await waitFrames(page, 3);
      await setHand(page, 'right', [center[0] - 0.1, center[1], center[2] + 0.1]);
      await waitFrames(page, 4);
      await setPinch(page, 'right', 0);
      await waitFrames(page, 3);
      now = (await hook(page, (h) => h.modelCenter()))!;
      // (The fingertip turns a little as the pinch closes, and the model turns with it about the pinch point.)
      expect(Math.hypot(now[0] - center[0] + 0.1, now[1] - center[1], now[2] - center[2] - 0.1)).toBeLessThan(0.07);

      // Panel: aim the controller ray at "Bones" and pull the trigger: the bones disappear.
      const bones = structures.filter((s) => s.group === 'bone').map((s) => s.name);
      await aimAndClick(page, head, 'xr-button-group-bone', async () => !(await hook(page, (h) => h.visibleStructures())).includes(bones[0]));
      const visible = await hook(page, (h) => h.visibleStructures());
      expect(visible.filter((n) => bones.includes(n))).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, `xr-${mode}-no-bones.png`) });

      if (mode === 'vr') {
        // Table-top scale from the panel.
        await aimAndClick(page, head, 'xr-button-scale', async () => Math.abs((await hook(page, (h) => h.modelScale()))! - 0.4) < 1e-6);
        // Two hands (both controllers squeezing) pulled apart to twice their distance: twice the size.
        const c = (await hook(page, (h) => h.modelCenter()))!;
        await setController(page, 'left', [c[0] - 0.04, c[1], c[2]]);
        await setController(page, 'right', [c[0] + 0.04, c[1], c[2]]);
        await waitFrames(page, 3);
        await setControllerButton(page, 'left', 'squeeze', 1);
        await setControllerButton(page, 'right', 'squeeze', 1);
        await waitFrames(page, 3);
        await setController(page, 'left', [c[0] - 0.08, c[1], c[2]]);
        await setController(page, 'right', [c[0] + 0.08, c[1], c[2]]);
        await waitFrames(page, 4);
        await setControllerButton(page, 'left', 'squeeze', 0);
        await setControllerButton(page, 'right', 'squeeze', 0);
        await waitFrames(page, 3);
        expect(await hook(page, (h) => h.modelScale())).toBeCloseTo(0.8, 1);
        // A hand pinching from afar (hand ray, as on HoloLens 2) at "Bones" shows them again.
        const target = (await hook(page, (h) => h.objectPosition('xr-button-group-bone')))!;
        const from: Vec3 = [head[0] + 0.1, head[1] - 0.3, head[2] - 0.1];
        await setHand(page, 'right', from, aimQuaternion([target[0] - from[0], target[1] - from[1], target[2] - from[2]]));
        await waitFrames(page, 4);
        for (let attempt = 0; attempt < 3; attempt++) {
          await setPinch(page, 'right', 1);
          await waitFrames(page, 1);
          await setPinch(page, 'right', 0);
          await waitFrames(page, 3);
          if ((await hook(page, (h) => h.visibleStructures().length)) === structures.length) break;
        }
        expect(await hook(page, (h) => h.visibleStructures().length)).toBe(structures.length);
        await page.screenshot({ path: path.join(ARTIFACTS, 'xr-vr-table-top.png') });

        // Standing up (panel): head up, the patient facing the user, life size again.
        await aimAndClick(page, head, 'xr-button-scale', async () => (await hook(page, (h) => h.modelScale())) === 1);
        await aimAndClick(page, head, 'xr-button-pose', async () => (await hook(page, (h) => h.state().xrPose)) === 'upright');
        await waitFrames(page, 3);
        const standing = await lungCenters(page);
        const body = (await hook(page, (h) => h.structureCenter(h.state().structures[0].name)))!;
        if (standing) {
          expect(standing.left[1]).toBeGreaterThan(body[1]);
          expect(standing.left[0]).toBeGreaterThan(standing.right[0]);
        }
        await setController(page, 'right', [head[0] + 0.3, head[1] - 0.6, head[2]]);
        await waitFrames(page, 3);
        await page.screenshot({ path: path.join(ARTIFACTS, 'xr-vr-standing.png') });
      }

      // Everything came from this server: controller and hand models too, nothing from a CDN.
      expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
      expect(requests.some((u) => u.includes('/profiles/meta-quest-touch-plus/'))).toBe(true);
      expect(csp).toEqual([]);
      await context.close();
    }, 300_000);
  }
});
