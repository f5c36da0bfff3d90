/**
 * The CT beside the hologram and correcting the segmentation, in Chromium against a running server:
 * the three slice views draw the fixture CT with its label overlay; the wheel and the window presets
 * change what they show; a click on a mesh moves the crosshair and the 3D marker follows the
 * crosshair; a brush stroke paints and undo takes it back; a saved revision reaches a second browser
 * (a share link) as a new hologram without a reload; and in an emulated Quest 3 (IWER) a CT plane in
 * the hologram moves with the controller. Screenshots go to `test-artifacts/`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ViewerTestApi as Hook } from '../../app/viewer/TestHook.tsx';
import { addUser } from '../../server/auth/users.ts';
import { createShare } from '../../server/auth/shareLinks.ts';
import { runCase } from '../../server/pipeline/runCase.ts';
import { openDatabase } from '../../server/store/database.ts';
import { importCaseFolder } from '../../server/store/importCaseFolder.ts';
import { chromiumAvailable, iwerInitScript, launchChromium, newXrContext, VIEWPORT } from './chromium.ts';
import { PROJECT_ROOT, startHolocaseServer, type HolocaseServer } from './holocaseServer.ts';
import { firstSignIn } from './firstSignIn.ts';
import { decodePng, fractionChanged, fractionUnlike, type Image } from './png.ts';
import { aimQuaternion, clickControllerButton, setController, setControllerButton, waitFrames, type Vec3 } from './xrDriver.ts';

const PORT = 4220;
const CT = path.join(PROJECT_ROOT, '..', 'shared', 'fixtures', 'totalsegmentator', 'example_ct.nii.gz');
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
const PASSWORD = 'correct horse battery staple';
const AXES = ['axial', 'coronal', 'sagittal'] as const;

/** Runs `fn` on the page's test hook (`window.__holocase`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function hook<T>(page: Page, fn: (h: Hook, arg: any) => T, arg?: unknown): Promise<T> {
  return page.evaluate(`(${fn.toString()})(window.__holocase, ${JSON.stringify(arg ?? null)})`) as Promise<T>;
}

async function sliceImage(page: Page, axis: (typeof AXES)[number], name?: string): Promise<Image> {
  const png = await page.getByTestId(`slice-${axis}`).screenshot();
  if (name) await writeFile(path.join(ARTIFACTS, name), png);
  return decodePng(png);
}

/** Waits until the slice view has drawn again after `before` draws. */
async function waitDrawn(page: Page, axis: string, before: number): Promise<void> {
  await page.waitForFunction(([a, n]) => Number(document.querySelector(`[data-testid=slice-${a}]`)?.getAttribute('data-drawn') ?? 0) > Number(n), [axis, before] as const, { timeout: 30_000 });
}

async function drawnCount(page: Page, axis: string): Promise<number> {
  return Number((await page.getByTestId(`slice-${axis}`).getAttribute('data-drawn')) ?? 0);
}

/** Waits for the 3D view and all three slice views, with the whole CT and the label map in. */
async function waitForSlices(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const w = window as unknown as { __holocase?: { frames: number }; __holocaseTimings?: Record<string, number> };
      return (w.__holocase?.frames ?? 0) >= 1 && w.__holocaseTimings?.firstSlices !== undefined && w.__holocaseTimings?.labelsLoaded !== undefined;
    },
    undefined,
    { timeout: 120_000 },
  );
  await page.waitForSelector('[data-testid=ct-status][data-complete=true]', { state: 'attached', timeout: 120_000 });
  await waitFrames(page, 2);
}

const describeBrowser = chromiumAvailable() ? describe : describe.skip;

describeBrowser('CT slices and editing in Chromium against a running server', () => {
  let server: HolocaseServer;
  let browser: Browser;
  let caseId: string;
  let shareUrl: string;
  let owner: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startHolocaseServer({ port: PORT });
    // A processed case owned by a user, and a share link to it.
    const folder = await mkdtemp(path.join(os.tmpdir(), 'holocase-e2e-case-'));
    await runCase(CT, folder, { modelId: 'hu-anatomy' });
    const db = openDatabase(server.dataDir);
    const { password } = await addUser(db, 'surgeon');
    const userId = (db.prepare(`SELECT id FROM users WHERE username = 'surgeon'`).get() as { id: string }).id;
    caseId = await importCaseFolder(db, server.dataDir, folder, { label: 'e2e slices', ownerId: userId });
    shareUrl = createShare(db, caseId).url;
    db.close();
    await rm(folder, { recursive: true, force: true });
    browser = await launchChromium();

    owner = await browser.newContext({ viewport: VIEWPORT });
    page = await owner.newPage();
    await firstSignIn(page, server.url, 'surgeon', password, PASSWORD);
    await page.goto(`${server.url}/cases/${caseId}?testhook=1`);
    await waitForSlices(page);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('draws the three slice views of the CT with the label overlay', async () => {
    for (const axis of AXES) {
      const image = await sliceImage(page, axis, `slices-${axis}.png`);
      // Most of the view is CT (the body and the scanner's air around it), not the black background.
      expect(fractionUnlike(image, [0, 0, 0], 10), axis).toBeGreaterThan(0.3);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'slices-case-page.png') });
    // The overlay is drawn: switching it off changes the picture.
    const before = await Promise.all(AXES.map((a) => sliceImage(page, a)));
    const drawn = await drawnCount(page, 'axial');
    await page.getByTestId('overlay-toggle').uncheck();
    await waitDrawn(page, 'axial', drawn);
    const plain = await Promise.all(AXES.map((a) => sliceImage(page, a)));
    for (const [n, axis] of AXES.entries()) expect(fractionChanged(before[n], plain[n]), axis).toBeGreaterThan(0.005);
    await page.getByTestId('overlay-toggle').check();
  }, 120_000);

  it('scrolls through slices with the wheel and changes the picture with the window presets', async () => {
    const axial = page.getByTestId('slice-axial');
    const start = Number(await axial.getAttribute('data-index'));
    const before = await sliceImage(page, 'axial');
    const box = (await axial.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let n = 0; n < 8; n++) await page.mouse.wheel(0, 120);
    await expect.poll(async () => Number(await axial.getAttribute('data-index'))).toBe(start + 8);
    // The other views' crosshair follows (the cursor is shared).
    expect((await hook(page, (h) => h.state().cursor))![2]).toBe(start + 8);
    await waitFrames(page, 1);
    const scrolled = await sliceImage(page, 'axial', 'slices-axial-scrolled.png');
    expect(fractionChanged(before, scrolled)).toBeGreaterThan(0.05);

    const drawn = await drawnCount(page, 'axial');
    await page.getByTestId('window-bone').click();
    await waitDrawn(page, 'axial', drawn);
    const bone = await sliceImage(page, 'axial', 'slices-axial-bone.png');
    expect(fractionChanged(scrolled, bone)).toBeGreaterThan(0.1);
    await page.getByTestId('window-lung').click();
    await expect.poll(async () => fractionChanged(bone, await sliceImage(page, 'axial'))).toBeGreaterThan(0.1);
    await page.getByTestId('window-width').fill('80');
    await expect.poll(() => hook(page, (h) => h.state().ctWindow)).toMatchObject({ width: 80, preset: 'custom' });
    await page.getByTestId('window-soft').click();
  }, 120_000);

  it('moves the crosshair to a clicked point of a mesh, and the 3D marker to the crosshair', async () => {
    const canvas = page.locator('[data-testid=viewer-canvas] canvas');
    const box = (await canvas.boundingBox())!;
    const structures = await hook(page, (h) => h.state().structures.filter((s) => s.group !== 'other').map((s) => s.name));
    const target = structures[0];
    const [x, y] = (await hook(page, (h, name) => h.screenPosition(name as string), target))!;
    const before = await hook(page, (h) => h.state().cursor);
    await canvas.click({ position: { x: ((x + 1) / 2) * box.width, y: ((1 - y) / 2) * box.height } });
    await expect.poll(() => hook(page, (h) => h.state().cursor)).not.toEqual(before);
    // The crosshair is where the mesh was clicked: the 3D marker at the crosshair appears under the click.
    await waitFrames(page, 2);
    const marker = (await hook(page, (h) => h.objectPosition('crosshair-marker')))!;
    const onScreen = await hook(page, (h, p) => h.project(p as Vec3), marker);
    expect(Math.hypot(onScreen[0] - x, onScreen[1] - y)).toBeLessThan(0.05);
    expect(await hook(page, (h) => h.state().selected)).not.toBeNull();
    await page.screenshot({ path: path.join(ARTIFACTS, 'slices-mesh-click.png') });

    // A click in the axial view moves the crosshair there, and the marker follows in 3D.
    const axial = (await page.getByTestId('slice-axial').boundingBox())!;
    await page.getByTestId('slice-axial').click({ position: { x: axial.width * 0.3, y: axial.height * 0.5 } });
    await expect.poll(async () => (await hook(page, (h) => h.objectPosition('crosshair-marker')))![0]).not.toBeCloseTo(marker[0], 3);
    const moved = (await hook(page, (h) => h.objectPosition('crosshair-marker')))!;
    // Left of the axial view is the patient's right: the marker moved toward −X (patient right) in 3D.
    expect(moved[0]).toBeLessThan(marker[0] + 1e-6);
  }, 120_000);

  it('paints with the brush and takes the stroke back with undo', async () => {
    await page.getByTestId('edit-structure').selectOption({ index: 1 });
    const label = Number(await page.getByTestId('edit-structure').inputValue());
    await page.getByTestId('tool-brush').click();
    await page.getByTestId('brush-overwrite').check();
    const voxels = await hook(page, (h, l) => h.labelVoxels(l as number), label);
    const before = await sliceImage(page, 'axial');
    const axial = (await page.getByTestId('slice-axial').boundingBox())!;
    await page.mouse.move(axial.x + axial.width * 0.35, axial.y + axial.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(axial.x + axial.width * 0.6, axial.y + axial.height * 0.45, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => hook(page, (h) => h.state().history.undo)).toBe(1);
    const painted = await hook(page, (h, l) => h.labelVoxels(l as number), label);
    expect(painted! - voxels!).toBeGreaterThan(20);
    await waitFrames(page, 1);
    const after = await sliceImage(page, 'axial', 'slices-brush.png');
    expect(fractionChanged(before, after)).toBeGreaterThan(0.002);
    expect(await hook(page, (h) => h.state().unsaved)).toBe(true);

    await page.getByTestId('undo').click();
    await expect.poll(() => hook(page, (h, l) => h.labelVoxels(l as number), label)).toBe(voxels);
    expect(await hook(page, (h) => h.state().unsaved)).toBe(false);
    await expect.poll(async () => fractionChanged(before, await sliceImage(page, 'axial'))).toBeLessThan(0.001);
    await page.getByTestId('redo').click();
    await expect.poll(() => hook(page, (h, l) => h.labelVoxels(l as number), label)).toBe(painted);
    await page.getByTestId('undo').click();
  }, 120_000);

  it('saves a revision, and a second browser on a share link swaps to the new hologram without a reload', async () => {
    const guest = await browser.newContext({ viewport: VIEWPORT });
    const second = await guest.newPage();
    await second.goto(`${server.url}${shareUrl}?testhook=1`);
    await waitForSlices(second);
    const glbBefore = await second.getByTestId('viewer-canvas').getAttribute('data-glb');
    const structuresBefore = await hook(second, (h) => h.visibleStructures());

    // A new structure from a free name, painted as a ball on a few slices.
    await page.getByTestId('new-structure-name').fill('Tumour');
    await page.getByTestId('add-structure').click();
    const label = Number(await page.getByTestId('edit-structure').inputValue());
    await page.getByTestId('tool-brush').click();
    await page.getByTestId('brush-sphere').check();
    await page.getByTestId('brush-radius').fill('15');
    const axial = (await page.getByTestId('slice-axial').boundingBox())!;
    await page.mouse.move(axial.x + axial.width * 0.45, axial.y + axial.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(axial.x + axial.width * 0.5, axial.y + axial.height * 0.5, { steps: 3 });
    await page.mouse.up();
    expect(await hook(page, (h, l) => h.labelVoxels(l as number), label)).toBeGreaterThan(100);
    await page.getByTestId('revision-note').fill('e2e tumour');
    await page.getByTestId('save-revision').click();
    await expect.poll(() => page.getByTestId('save-status').textContent(), { timeout: 60_000 }).toMatch(/Saved as revision 1/);

    // The share link's page swaps its hologram: a new GLB with the new structure, the same page.
    await expect.poll(() => second.getByTestId('viewer-canvas').getAttribute('data-glb'), { timeout: 180_000 }).not.toBe(glbBefore);
    await expect.poll(() => hook(second, (h) => h.visibleStructures()), { timeout: 60_000 }).toContain('tumour');
    expect((await hook(second, (h) => h.visibleStructures())).length).toBe(structuresBefore.length + 1);
    expect(await second.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await expect.poll(() => hook(second, (h, l) => h.labelVoxels(l as number), label), { timeout: 60_000 }).toBeGreaterThan(100);
    await waitFrames(second, 2);
    await second.screenshot({ path: path.join(ARTIFACTS, 'slices-revision-shared.png') });
    // And the editor's own page shows the new hologram too.
    await expect.poll(() => hook(page, (h) => h.visibleStructures()), { timeout: 60_000 }).toContain('tumour');
    await guest.close();
  }, 400_000);

  it('grows a structure from seeds with a preview, validates it, and restores the first revision', async () => {
    await expect.poll(() => hook(page, (h) => h.state().unsaved)).toBe(false);
    const label = Number(await page.getByTestId('edit-structure').inputValue());
    const before = (await hook(page, (h, l) => h.labelVoxels(l as number), label))!;
    // Seeds: a stroke inside the structure, a background stroke around it, on the axial view.
    await page.getByTestId('tool-seeds').click();
    await page.getByTestId('brush-sphere').uncheck();
    await page.getByTestId('brush-radius').fill('4');
    const axial = (await page.getByTestId('slice-axial').boundingBox())!;
    const stroke = async (x0: number, y0: number, x1: number, y1: number) => {
      await page.mouse.move(axial.x + axial.width * x0, axial.y + axial.height * y0);
      await page.mouse.down();
      await page.mouse.move(axial.x + axial.width * x1, axial.y + axial.height * y1, { steps: 4 });
      await page.mouse.up();
    };
    await stroke(0.46, 0.5, 0.5, 0.5);
    await page.getByTestId('seed-background').check();
    await stroke(0.3, 0.3, 0.7, 0.3);
    await stroke(0.3, 0.7, 0.7, 0.7);
    const seeded = await sliceImage(page, 'axial', 'slices-seeds.png');
    await page.getByTestId('grow-preview').click();
    await expect.poll(() => page.getByTestId('grow-status').textContent(), { timeout: 120_000 }).toMatch(/Preview ready/);
    await waitFrames(page, 1);
    expect(fractionChanged(seeded, await sliceImage(page, 'axial', 'slices-grow-preview.png'))).toBeGreaterThan(0.001);
    // Nothing changes in the map until the preview is accepted; then it is one undo step.
    expect(await hook(page, (h, l) => h.labelVoxels(l as number), label)).toBe(before);
    const depth = await hook(page, (h) => h.state().history.undo);
    await page.getByTestId('grow-accept').click();
    await expect.poll(() => hook(page, (h) => h.state().history.undo)).toBe(depth + 1);
    expect(await hook(page, (h, l) => h.labelVoxels(l as number), label)).toBeGreaterThan(before);
    await page.getByTestId('undo').click();
    await expect.poll(() => hook(page, (h, l) => h.labelVoxels(l as number), label)).toBe(before);

    // Validate the structure: the mark, with the user's name, reaches the page through the event stream.
    await page.locator('[data-group=other] button[aria-expanded]').click();
    await page.getByTestId(`validate-${label}`).check();
    await expect.poll(() => page.getByTestId(`validation-${label}`).textContent(), { timeout: 30_000 }).toMatch(/Validated by surgeon/);
    await expect.poll(() => page.getByTestId('validated-count').textContent()).toMatch(/1 validated/);

    // Restore revision 0: a new revision without the structure, and its hologram on screen.
    await page.getByTestId('revisions-toggle').click();
    await page.getByTestId('restore-revision-0').click();
    await expect.poll(() => hook(page, (h) => h.visibleStructures()), { timeout: 180_000 }).not.toContain('tumour');
    await expect.poll(() => hook(page, (h, l) => h.labelVoxels(l as number), label), { timeout: 60_000 }).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'slices-restored.png') });
  }, 400_000);

  it('shows a CT plane in the emulated Quest 3 hologram that moves with the controller', async () => {
    const context = await newXrContext(browser, await iwerInitScript());
    const xr = await context.newPage();
    await xr.goto(`${server.url}${shareUrl}?testhook=1`);
    await waitForSlices(xr);
    await xr.getByTestId('enter-vr').click();
    await xr.waitForFunction(() => (window as unknown as { __holocase: Hook }).__holocase.xrMode() === 'immersive-vr', undefined, { timeout: 60_000 });
    await waitFrames(xr, 5);

    // The panel's "CT axial" button puts the axial plane into the hologram.
    const head = await hook(xr, (h) => h.headPosition());
    const target = (await hook(xr, (h) => h.objectPosition('xr-button-plane-axial')))!;
    const from: Vec3 = [head[0] + 0.15, head[1] - 0.25, head[2]];
    await setController(xr, 'right', from, aimQuaternion([target[0] - from[0], target[1] - from[1], target[2] - from[2]]));
    await waitFrames(xr, 4);
    for (let attempt = 0; attempt < 3 && !(await hook(xr, (h) => h.state().planes3d.axial)); attempt++) {
      await clickControllerButton(xr, 'right', 'trigger');
      await waitFrames(xr, 2);
    }
    expect(await hook(xr, (h) => h.state().planes3d.axial)).toBe(true);
    await waitFrames(xr, 3);
    const plane = (await hook(xr, (h) => h.objectPosition('slice-plane-axial')))!;
    const normal = (await hook(xr, (h) => h.planeNormal('slice-plane-axial')))!;
    const index = (await hook(xr, (h) => h.state().cursor))![2];
    await xr.screenshot({ path: path.join(ARTIFACTS, 'xr-ct-plane.png') });

    // Squeeze on the plane, move the controller 6 cm along its normal, let go.
    await setController(xr, 'right', plane);
    await waitFrames(xr, 3);
    await setControllerButton(xr, 'right', 'squeeze', 1);
    await waitFrames(xr, 3);
    const to: Vec3 = [plane[0] + normal[0] * 0.06, plane[1] + normal[1] * 0.06, plane[2] + normal[2] * 0.06];
    await setController(xr, 'right', to);
    await waitFrames(xr, 4);
    await setControllerButton(xr, 'right', 'squeeze', 0);
    await waitFrames(xr, 3);
    const moved = (await hook(xr, (h) => h.objectPosition('slice-plane-axial')))!;
    const along = (moved[0] - plane[0]) * normal[0] + (moved[1] - plane[1]) * normal[1] + (moved[2] - plane[2]) * normal[2];
    expect(along).toBeCloseTo(0.06, 1);
    // 6 cm through a 3 mm grid: about 20 slices, and the 2-D views follow the same crosshair.
    const now = (await hook(xr, (h) => h.state().cursor))![2];
    expect(Math.abs(now - index)).toBeGreaterThanOrEqual(17);
    expect(Math.abs(now - index)).toBeLessThanOrEqual(23);
    await setController(xr, 'right', [head[0] + 0.3, head[1] - 0.6, head[2]]);
    await waitFrames(xr, 3);
    await xr.screenshot({ path: path.join(ARTIFACTS, 'xr-ct-plane-moved.png') });
    await context.close();
  }, 300_000);
});
