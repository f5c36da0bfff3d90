/**
 * Model sets: member bundles run one after another on a real CT (`example_ct.nii.gz`) and merged into
 * one label map with the set's label table. The members are threshold networks whose grid is the CT's
 * own, so every member's answer, and therefore the merged map, is known exactly from the HU values:
 * a wrong lookup table, merge order, crop box or paste position changes voxels.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orientationCodes, spacingOf } from '../../mesh/grid.ts';
import { listModelBundles, loadModelBundle } from '../../server/segment/bundle.ts';
import { parseManifest } from '../../server/segment/manifest.ts';
import { segment } from '../../server/segment/segment.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import type { Volume } from '../../server/volume/volume.ts';
import { holocaseErrorOf } from '../holocaseErrorOf.ts';
import { testManifest, thresholdNetwork, writeBundle } from './onnxModels.ts';

const CT_PATH = resolve(import.meta.dirname, '../../../shared/fixtures/totalsegmentator/example_ct.nii.gz');

let modelsDir: string;
let ct: Volume;

/** A set manifest with test defaults. */
function setManifest(id: string, members: unknown[], labels: Record<string, string>, extra: Record<string, unknown> = {}) {
  return { id, name: `set ${id}`, version: '1', license: 'CC0-1.0', modality: 'CT', limits: 'a test set', engine: 'set', members, output: { labels }, ...extra };
}

/** A one-class threshold network whose grid is the CT's (so its labels are exactly HU > threshold). */
async function member(id: string, structure: string, threshold: number, orientation = 'RAS') {
  const spacing = spacingOf(ct.affine);
  await writeBundle(
    modelsDir,
    testManifest(id, {
      input: { orientation, tensorAxes: ['k', 'j', 'i'], spacing: [spacing[2], spacing[1], spacing[0]], channels: 1, normalization: { type: 'none' } },
      inference: { mode: 'sliding-window', patchSize: [32, 48, 40], overlap: 0.5, batchSize: 1 },
      output: { activation: 'softmax', labels: { 1: structure } },
    }),
    thresholdNetwork({ threshold }),
  );
}

beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'holocase-sets-'));
  ct = await readNifti(CT_PATH);
  expect(orientationCodes(ct.affine)).toBe('RAS');
  // Body above −500 HU; bone above 200.5 HU (stored LPS, so the engine reorients); the whole field
  // above −2000 HU (a member that finds "everything", used cropped).
  await member('body-net', 'body', -500.5);
  await member('bone-net', 'bone', 200.5, 'LPS');
  await member('field-net', 'field_of_view', -2000.5);
});
afterAll(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

describe('model set manifests', () => {
  it('fills the documented defaults and refuses names the set does not have', () => {
    const m = parseManifest(setManifest('s', [{ model: 'body-net' }, { model: 'bone-net' }], { 1: 'body', 2: 'bone' }));
    if (m.engine !== 'set') throw new Error('wrong engine');
    expect(m.members[1]).toEqual({ model: 'bone-net', rename: {}, merge: 'overwrite' });
    expect(() => parseManifest(setManifest('s', [{ model: 'a' }, { model: 'b', rename: { x: 'nowhere' } }], { 1: 'body' }))).toThrow(/members\[1\]\.rename\.x: "nowhere" is not in the set's output\.labels/);
    expect(() => parseManifest(setManifest('s', [{ model: 'a', crop: { to: ['body'] } }], { 1: 'body' }))).toThrow(/members\[0\]\.crop: the first member cannot be cropped/);
    expect(() => parseManifest(setManifest('s', [{ model: 'a' }, { model: 'a' }], { 1: 'body' }))).toThrow(/members: a member bundle is listed twice/);
  });

  it('refuses a set whose members are missing or whose classes have no place in the set', async () => {
    const cases: [string, unknown[], Record<string, string>, RegExp][] = [
      ['missing-member', [{ model: 'body-net' }, { model: 'lungs-net' }], { 1: 'body' }, /needs the bundle "lungs-net", which is not installed/],
      ['unmapped-class', [{ model: 'body-net' }, { model: 'bone-net' }], { 1: 'body' }, /member "bone-net" structure "bone" has no label in the set's output\.labels/],
      ['orphan-label', [{ model: 'body-net' }], { 1: 'body', 2: 'liver' }, /no member produces "liver"/],
      ['unknown-class', [{ model: 'body-net', classes: ['liver'] }], { 1: 'body' }, /member "body-net" has no structure "liver" \(it has body\)/],
      ['late-crop', [{ model: 'body-net' }, { model: 'bone-net', crop: { to: ['field_of_view'] } }, { model: 'field-net' }], { 1: 'body', 2: 'bone', 3: 'field_of_view' }, /cropped to "field_of_view", which no earlier member produces/],
    ];
    for (const [id, members, labels, message] of cases) {
      await writeBundle(modelsDir, setManifest(id, members, labels) as never);
      const error = await holocaseErrorOf(loadModelBundle(id, { modelsDir }));
      expect(error.code, id).toBe('MODEL_INVALID');
      expect(error.message, id).toMatch(message);
      expect(error.message, id).toContain(`models/${id}/model.json`);
    }
    await writeBundle(modelsDir, setManifest('inner-set', [{ model: 'body-net' }], { 1: 'body' }) as never);
    await writeBundle(modelsDir, setManifest('nested', [{ model: 'inner-set' }], { 1: 'body' }) as never);
    expect((await holocaseErrorOf(loadModelBundle('nested', { modelsDir }))).message).toMatch(/member "inner-set" is itself a set; list its members instead/);
    // The listing leaves the broken sets out and says why.
    const invalid = new Map<string, string>();
    const listed = await listModelBundles({ modelsDir, onInvalid: (id, e) => invalid.set(id, e.message) });
    expect(listed.map((b) => b.id)).toEqual(['body-net', 'bone-net', 'field-net', 'inner-set']);
    expect([...invalid.keys()].sort()).toEqual(['late-crop', 'missing-member', 'nested', 'orphan-label', 'unknown-class', 'unmapped-class']);
    await Promise.all([...invalid.keys(), 'inner-set'].map((id) => rm(join(modelsDir, id), { recursive: true })));
  });
});

describe('model sets on example_ct', () => {
  it('merges two members into the set labels: a later member overwrites, or only fills background', async () => {
    const labels = { 1: 'bone', 2: 'soft_tissue' };
    // body-net's "body" becomes the set's "soft_tissue" (label 2); bone-net's "bone" is label 1.
    await writeBundle(modelsDir, setManifest('overwrite-set', [{ model: 'body-net', rename: { body: 'soft_tissue' } }, { model: 'bone-net' }], labels) as never);
    await writeBundle(modelsDir, setManifest('fill-set', [{ model: 'bone-net' }, { model: 'body-net', rename: { body: 'soft_tissue' }, merge: 'fill' }], labels) as never);
    await writeBundle(modelsDir, setManifest('bone-last-fill', [{ model: 'body-net', rename: { body: 'soft_tissue' } }, { model: 'bone-net', merge: 'fill' }], labels) as never);
    const expected = Uint8Array.from(ct.data, (hu) => (hu > 200.5 ? 1 : hu > -500.5 ? 2 : 0));
    for (const id of ['overwrite-set', 'fill-set']) {
      const result = await segment(ct, await loadModelBundle(id, { modelsDir }), { provider: 'cpu' });
      expect(result.labels.dims).toEqual(ct.dims);
      expect(result.labels.affine).toEqual(ct.affine);
      let wrong = 0;
      for (let p = 0; p < expected.length; p++) if (result.labels.data[p] !== expected[p]) wrong++;
      expect(wrong, id).toBe(0);
      expect(result.structures).toEqual([{ label: 1, name: 'bone' }, { label: 2, name: 'soft_tissue' }]);
      expect(result.timings['body-netMs']).toBeGreaterThan(0);
      expect(result.timings['bone-netMs']).toBeGreaterThan(0);
      expect(result.notes.some((n) => n.startsWith('bone-net: sliding window'))).toBe(true);
    }
    // Fill after the body: bone is all inside the body, so the later member writes nothing.
    const shadowed = await segment(ct, await loadModelBundle('bone-last-fill', { modelsDir }), { provider: 'cpu' });
    expect(shadowed.structures).toEqual([{ label: 2, name: 'soft_tissue' }]);
    expect(shadowed.notes).toContain('bone-net: 0 voxel(s) written (fill)');
  });

  it('runs a cropped member only inside the box around what earlier members found', async () => {
    const marginMm = 7;
    await writeBundle(
      modelsDir,
      setManifest('cropped-set', [{ model: 'bone-net' }, { model: 'field-net', crop: { to: ['bone'], marginMm }, merge: 'fill' }], { 1: 'bone', 2: 'field_of_view' }) as never,
    );
    const progress: number[] = [];
    const result = await segment(ct, await loadModelBundle('cropped-set', { modelsDir }), { provider: 'cpu', onProgress: (p) => progress.push(p.fraction) });
    // Expected: bone; around it (its bounding box + ceil(7 mm / 3 mm) = 3 voxels, clamped) everything else.
    const [nx, ny, nz] = ct.dims;
    const min = [nx, ny, nz];
    const max = [-1, -1, -1];
    for (let k = 0, p = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++, p++) {
          if (!(ct.data[p] > 200.5)) continue;
          [i, j, k].forEach((v, a) => {
            min[a] = Math.min(min[a], v);
            max[a] = Math.max(max[a], v);
          });
        }
      }
    }
    const lo = min.map((v) => Math.max(0, v - 3));
    const hi = max.map((v, a) => Math.min(ct.dims[a] - 1, v + 3));
    let wrong = 0;
    let inBox = 0;
    for (let k = 0, p = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++, p++) {
          const boxed = i >= lo[0] && i <= hi[0] && j >= lo[1] && j <= hi[1] && k >= lo[2] && k <= hi[2];
          if (boxed) inBox++;
          const want = ct.data[p] > 200.5 ? 1 : boxed ? 2 : 0;
          if (result.labels.data[p] !== want) wrong++;
        }
      }
    }
    expect(inBox).toBeLessThan(ct.data.length); // the crop is a real crop on this scan
    expect(wrong).toBe(0);
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((f, n) => n === 0 || f >= progress[n - 1])).toBe(true);
  });

  it('skips a cropped member whose structures were not found, and says so', async () => {
    await member('nothing-net', 'liver', 1e6);
    await writeBundle(
      modelsDir,
      setManifest('skip-set', [{ model: 'nothing-net' }, { model: 'bone-net', crop: { to: ['liver'] } }], { 1: 'liver', 2: 'bone' }) as never,
    );
    const result = await segment(ct, await loadModelBundle('skip-set', { modelsDir }), { provider: 'cpu' });
    expect(result.structures).toEqual([]);
    expect(result.notes).toContain('bone-net: not run: none of liver was found by the members before it');
  });
});

describe('holocase segment --list', () => {
  it('shows each model and set with its licence, structures and limits, and says why a broken set is left out', async () => {
    await writeBundle(modelsDir, setManifest('listed-set', [{ model: 'body-net' }, { model: 'bone-net' }], { 1: 'body', 2: 'bone' }, { license: 'CC-BY-4.0' }) as never);
    await writeBundle(modelsDir, setManifest('broken-set', [{ model: 'body-net' }, { model: 'gone-net' }], { 1: 'body' }) as never);
    const run = (args: string[]) => promisify(execFile)(process.execPath, [resolve(import.meta.dirname, '../../bin/holocase.mjs'), 'segment', '--list', ...args], { env: { ...process.env, HOLOCASE_MODELS: modelsDir } });
    const text = await run([]);
    expect(text.stdout).toContain('listed-set               CT  set    set listed-set (1)\n    2 networks, run in this order: body-net, bone-net\n    licence: CC-BY-4.0\n    2 structure(s): body, bone\n    limits: a test set');
    expect(text.stdout).toMatch(/bone-net +CT {2}onnx {3}test network bone-net \(0\.0\.1\)\n {4}licence: CC0-1\.0\n {4}1 structure\(s\): bone\n/);
    expect(text.stderr).toContain('warning: model "broken-set" is left out: models/broken-set/model.json: the set needs the bundle "gone-net", which is not installed');
    const json = JSON.parse((await run(['--json'])).stdout);
    const set = json.models.find((m: { id: string }) => m.id === 'listed-set');
    expect(set).toMatchObject({ engine: 'set', license: 'CC-BY-4.0', limits: 'a test set', members: ['body-net', 'bone-net'] });
    expect(set.classes).toEqual([
      { label: 1, name: 'body', displayName: 'Body', group: 'other' },
      { label: 2, name: 'bone', displayName: 'Bone', group: 'bone' },
    ]);
    expect(json.invalid.map((i: { id: string }) => i.id)).toEqual(['broken-set']);
  });
});
