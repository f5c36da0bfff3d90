/**
 * Model bundles: the manifest schema (errors name the field), loading and listing, and the refusal of a
 * manifest that does not match its ONNX file (each message names both numbers).
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from 'onnxruntime-node';
import { isHolocaseError } from '../../server/errors.ts';
import { listModelBundles, loadModelBundle } from '../../server/segment/bundle.ts';
import { parseManifest } from '../../server/segment/manifest.ts';
import { parseOnnxSignature } from '../../server/segment/onnxSignature.ts';
import { HU_ANATOMY_STRUCTURES } from '../../server/segment/rules/huAnatomy.ts';
import { positionNetwork, testManifest, thresholdNetwork, writeBundle } from './onnxModels.ts';

let modelsDir: string;
beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'holocase-bundles-'));
});
afterAll(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isHolocaseError(error)) throw new Error(`expected a HolocaseError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('manifest schema', () => {
  it('fills the documented defaults', () => {
    const m = parseManifest(testManifest('defaults', { inference: { mode: 'sliding-window', patchSize: [64, 64, 64] }, output: { activation: 'softmax', labels: { 1: 'liver' } } }));
    if (m.engine !== 'onnx' || m.inference.mode !== 'sliding-window') throw new Error('wrong engine');
    expect(m.inference.overlap).toBe(0.5);
    expect(m.inference.sigmaScale).toBe(0.125);
    expect(m.inference.blend).toBe('gaussian');
    expect(m.output.resampleBack).toBe('linear-logits');
    expect(m.input.tensorAxes).toEqual(['k', 'j', 'i']);
    expect(m.input.padValue).toBe(0);
  });

  it('names every bad field and what was expected', () => {
    const bad = testManifest('bad', {
      input: { orientation: 'RAX', spacing: [1.5, -1, 1.5], normalization: { type: 'clip-zscore', clip: [100, -100], mean: 3 } },
      inference: { mode: 'sliding-window', patchSize: [64, 64], overlap: 1.5 },
      output: { activation: 'softmax', labels: { 1: 'liver', 3: 'spleen' } },
    });
    let message = '';
    try {
      parseManifest(bad, 'models/bad/model.json');
    } catch (error) {
      expect(isHolocaseError(error) && error.code).toBe('MODEL_INVALID');
      message = (error as Error).message;
    }
    expect(message).toContain('models/bad/model.json');
    expect(message).toMatch(/input\.orientation: expected three letters/);
    expect(message).toMatch(/input\.spacing\[1\]: .*>0/);
    expect(message).toMatch(/input\.normalization\.clip: clip must be \[low, high\]/);
    expect(message).toMatch(/mean and std together/);
    expect(message).toMatch(/inference\.patchSize: .*3 items/);
    expect(message).toMatch(/inference\.overlap: .*0\.95/);
  });

  it('refuses gaps in a softmax label table, an unknown engine and unknown fields', () => {
    expect(() => parseManifest(testManifest('gap', { output: { activation: 'softmax', labels: { 1: 'a', 3: 'b' } } }))).toThrow(/output\.labels: softmax\/none outputs need labels 1…N without gaps/);
    expect(() => parseManifest({ ...testManifest('e'), engine: 'tensorflow' })).toThrow(/engine/);
    expect(() => parseManifest({ ...testManifest('x'), input: { ...(testManifest('x').input as object), spacingMm: [1, 1, 1] } })).toThrow(/input: .*spacingMm/);
    expect(() => parseManifest(testManifest('both', { input: { orientation: 'LPS', spacing: [1, 1, 1], size: [64, 64, 64], normalization: { type: 'none' } } }))).toThrow(/exactly one of spacing/);
  });

  it('the shipped hu-anatomy manifest is valid and names every structure the rules write', async () => {
    const bundle = await loadModelBundle('hu-anatomy');
    expect(bundle.manifest.engine).toBe('rules');
    expect(Object.values(bundle.manifest.output.labels).sort()).toEqual([...HU_ANATOMY_STRUCTURES].sort());
    expect(bundle.manifest.limits).toMatch(/cannot separate organs/i);
    const ids = (await listModelBundles()).map((b) => b.id);
    expect(ids).toContain('hu-anatomy');
  });
});

describe('loading bundles', () => {
  it('an unknown id is MODEL_NOT_FOUND listing the available ids', async () => {
    await writeBundle(modelsDir, testManifest('alpha'), thresholdNetwork());
    await writeBundle(modelsDir, testManifest('beta'), thresholdNetwork());
    const { code, message } = await refusal(loadModelBundle('gamma', { modelsDir }));
    expect(code).toBe('MODEL_NOT_FOUND');
    expect(message).toMatch(/no model "gamma"; available: .*alpha, .*beta/);
    expect((await refusal(loadModelBundle('../alpha', { modelsDir }))).code).toBe('MODEL_NOT_FOUND');
  });

  it('HOLOCASE_MODELS points at another models folder', async () => {
    const before = process.env.HOLOCASE_MODELS;
    process.env.HOLOCASE_MODELS = modelsDir;
    try {
      expect((await loadModelBundle('alpha')).id).toBe('alpha');
    } finally {
      if (before === undefined) delete process.env.HOLOCASE_MODELS;
      else process.env.HOLOCASE_MODELS = before;
    }
  });

  it('the folder name must be the manifest id; invalid bundles are left out of the list and reported', async () => {
    await writeBundle(modelsDir, { ...testManifest('delta'), id: 'delta' }, thresholdNetwork());
    await mkdir(join(modelsDir, 'epsilon'), { recursive: true });
    await writeFile(join(modelsDir, 'epsilon', 'model.json'), JSON.stringify({ ...testManifest('epsilon'), id: 'zeta' }));
    const { code, message } = await refusal(loadModelBundle('epsilon', { modelsDir }));
    expect(code).toBe('MODEL_INVALID');
    expect(message).toMatch(/id is "zeta".*folder name "epsilon"/);
    const invalid: string[] = [];
    const listed = await listModelBundles({ modelsDir, onInvalid: (id) => invalid.push(id) });
    expect(listed.map((b) => b.id)).toEqual(expect.arrayContaining(['alpha', 'beta', 'delta']));
    expect(invalid).toEqual(['epsilon']);
  });

  it('a missing or unreadable ONNX file is refused', async () => {
    await writeBundle(modelsDir, testManifest('noweights'));
    expect((await refusal(loadModelBundle('noweights', { modelsDir }))).message).toMatch(/weights file .*model\.onnx is missing/);
    await writeBundle(modelsDir, testManifest('garbage'), new TextEncoder().encode('not a protobuf at all, just text'));
    expect((await refusal(loadModelBundle('garbage', { modelsDir }))).code).toBe('MODEL_INVALID');
  });
});

describe('manifest against ONNX file', () => {
  it('reads the same signature ONNX Runtime sees', async () => {
    for (const bytes of [thresholdNetwork({ inputChannels: 3, spatial: [16, 'H', 12] }), positionNetwork({ patch: [4, 5, 6], axis: 1 })]) {
      const signature = parseOnnxSignature(bytes);
      const session = await InferenceSession.create(bytes);
      expect(signature.inputs.map((i) => [i.name, i.type, i.shape])).toEqual(session.inputMetadata.map((m) => ('shape' in m ? [m.name, m.type, m.shape] : [m.name])));
      expect(signature.outputs.map((o) => [o.name, o.type, o.shape])).toEqual(session.outputMetadata.map((m) => ('shape' in m ? [m.name, m.type, m.shape] : [m.name])));
      await session.release();
    }
  });

  const cases: { name: string; manifest: Record<string, unknown>; network: Uint8Array; expected: RegExp }[] = [
    {
      name: 'input rank (a 2-D network)',
      manifest: {},
      network: thresholdNetwork({ twoD: true }),
      expected: /3-D input \[N, C, D, H, W\] \(rank 5\) but input "x" has rank 4/,
    },
    {
      name: 'channel count',
      manifest: {},
      network: thresholdNetwork({ inputChannels: 3 }),
      expected: /manifest input\.channels is 1 but input "x" takes 3 channel/,
    },
    {
      name: 'output label count',
      manifest: { output: { activation: 'softmax', labels: { 1: 'liver', 2: 'spleen', 3: 'kidney_left' } } },
      network: thresholdNetwork({ outputChannels: 2 }),
      expected: /3 structures \+ background = 4 channels but output "y" has 2 channels/,
    },
    {
      name: 'sigmoid label count',
      manifest: { output: { activation: 'sigmoid', labels: { 1: 'liver' } } },
      network: thresholdNetwork({ outputChannels: 2 }),
      expected: /1 structures \(one sigmoid channel each\) but output "y" has 2 channels/,
    },
    {
      name: 'fixed patch dims',
      manifest: { inference: { mode: 'sliding-window', patchSize: [8, 8, 16] } },
      network: thresholdNetwork({ spatial: [8, 8, 8] }),
      expected: /inference\.patchSize\[2\] is 16 but input "x" has dim 4 fixed to 8/,
    },
    {
      name: 'fixed batch',
      manifest: { inference: { mode: 'sliding-window', patchSize: [8, 8, 8], batchSize: 4 } },
      network: thresholdNetwork({ batch: 1 }),
      expected: /batch size is 4 but input "x" has a fixed batch of 1/,
    },
    {
      name: 'fixed dims with a spacing recipe',
      manifest: { inference: { mode: 'whole' } },
      network: thresholdNetwork({ spatial: [32, 32, 32] }),
      expected: /fixed spatial dims \[N, 1, 32, 32, 32\] but the manifest resamples to a spacing/,
    },
    {
      name: 'input name',
      manifest: { input: { orientation: 'LPS', spacing: [1, 1, 1], normalization: { type: 'none' }, name: 'image' } },
      network: thresholdNetwork(),
      expected: /input\.name is "image" but .* has inputs "x"/,
    },
  ];
  for (const c of cases) {
    it(`refuses a mismatch in ${c.name}, naming both numbers`, async () => {
      const id = `mismatch-${cases.indexOf(c)}`;
      await writeBundle(modelsDir, { ...testManifest(id, c.manifest), id }, c.network);
      const { code, message } = await refusal(loadModelBundle(id, { modelsDir }));
      expect(code).toBe('MODEL_MISMATCH');
      expect(message).toMatch(c.expected);
      expect(message).toContain(`models/${id}/model.onnx`);
    });
  }
});
