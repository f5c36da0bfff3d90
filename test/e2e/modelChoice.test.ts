/**
 * Choosing a model in the upload form, in Chromium against a real `holocase serve` whose models folder
 * holds the built-in rules model, two ONNX networks and a model set over them (plus a broken set that
 * must not be offered): each model shows its licence, limits and structures, and a CT uploaded with
 * the set comes back segmented by the set, with the set's structures.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testManifest, thresholdNetwork, writeBundle } from '../segment/onnxModels.ts';
import { firstSignIn } from './firstSignIn.ts';
import { chromiumAvailable, launchChromium, VIEWPORT } from './chromium.ts';
import { PROJECT_ROOT, startHolocaseServer, type HolocaseServer } from './holocaseServer.ts';

const PORT = 4231;
const FIXTURE = path.join(PROJECT_ROOT, '..', 'shared', 'fixtures', 'totalsegmentator', 'example_ct.nii.gz');
const NEW_PASSWORD = 'correct horse battery staple';

/** A threshold network on `example_ct`'s own grid (RAS, 3 mm): its label is exactly HU > threshold. */
function member(id: string, structure: string, threshold: number) {
  return writeBundle(
    modelsDir,
    testManifest(id, {
      name: `${structure} network`,
      input: { orientation: 'RAS', tensorAxes: ['k', 'j', 'i'], spacing: [3, 3, 3], channels: 1, normalization: { type: 'none' } },
      inference: { mode: 'sliding-window', patchSize: [48, 48, 48], overlap: 0.5, batchSize: 1 },
      output: { activation: 'softmax', labels: { 1: structure } },
    }),
    thresholdNetwork({ threshold }),
  );
}

let modelsDir: string;
const describeBrowser = chromiumAvailable() ? describe : describe.skip;

describeBrowser('model choice in the upload form', () => {
  let server: HolocaseServer;
  let browser: Browser;
  let password: string;

  beforeAll(async () => {
    modelsDir = await mkdtemp(path.join(os.tmpdir(), 'holocase-e2e-models-'));
    await cp(path.join(PROJECT_ROOT, 'models', 'hu-anatomy'), path.join(modelsDir, 'hu-anatomy'), { recursive: true });
    await member('body-net', 'soft_tissue', -500.5);
    await member('bone-net', 'bone', 200.5);
    const set = { name: 'Bone and soft tissue (two networks)', version: '1', license: 'CC-BY-4.0', modality: 'CT', engine: 'set', limits: 'A test set: thresholds only, no anatomy.' };
    await writeBundle(modelsDir, { id: 'bone-tissue-set', ...set, members: [{ model: 'body-net' }, { model: 'bone-net' }], output: { labels: { 1: 'soft_tissue', 2: 'bone' } } } as never);
    await writeBundle(modelsDir, { id: 'broken-set', ...set, members: [{ model: 'body-net' }, { model: 'not-installed' }], output: { labels: { 1: 'soft_tissue' } } } as never);
    server = await startHolocaseServer({ port: PORT, env: { HOLOCASE_MODELS: modelsDir, HOLOCASE_DEFAULT_MODEL: 'hu-anatomy' } });
    password = await server.addUser('radiographer');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('shows each model’s licence, limits and structures, and segments an upload with the chosen set', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await firstSignIn(page, server.url, 'radiographer', password, NEW_PASSWORD);

    // 1. The list: every valid bundle and the valid set; the broken set is not offered.
    const select = page.getByTestId('model');
    await select.waitFor();
    const options = await select.locator('option').allTextContents();
    expect(options[0]).toBe('Default (HU anatomy (built-in rules))');
    expect(options.slice(1)).toEqual([
      'soft_tissue network · 1 structure',
      'bone network · 1 structure',
      'Bone and soft tissue (two networks) — 2 networks · 2 structures',
      'HU anatomy (built-in rules) · 7 structures',
    ]);
    // 2. The default's details, then the set's.
    await expect.poll(() => page.getByTestId('model-license').textContent()).toBe('Licence: Apache-2.0');
    expect(await page.getByTestId('model-limits').textContent()).toMatch(/Limits: Cannot separate organs/);
    await select.selectOption('bone-tissue-set');
    await expect.poll(() => page.getByTestId('model-license').textContent()).toBe('Licence: CC-BY-4.0');
    expect(await page.getByTestId('model-details').textContent()).toContain('2 networks run one after another (body-net, bone-net)');
    expect(await page.getByTestId('model-limits').textContent()).toBe('Limits: A test set: thresholds only, no anatomy.');
    await page.getByTestId('model-classes').locator('summary').click();
    expect(await page.getByTestId('model-classes').textContent()).toMatch(/2 structures.*other: Soft tissue.*bone: Bone/s);

    // 3. Upload with the set: the case is segmented by it.
    await page.getByTestId('file-input').setInputFiles(FIXTURE);
    await page.getByTestId('label').fill('e2e set upload');
    await page.getByTestId('upload').click();
    const job = page.getByTestId('job-progress');
    await job.waitFor({ timeout: 60_000 });
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 240_000, interval: 500 }).toMatch(/done|failed/);
    expect(await job.getAttribute('data-status'), `${await job.textContent()}\n${server.output().slice(-3000)}`).toBe('done');
    const caseId = (await job.getAttribute('data-case'))!;
    const detail = await (await page.request.get(`${server.url}/api/cases/${caseId}`)).json();
    expect(detail.model.id).toBe('bone-tissue-set');
    expect(detail.structures.map((s: { name: string }) => s.name).sort()).toEqual(['bone', 'soft_tissue']);
    await context.close();
  }, 400_000);
});
