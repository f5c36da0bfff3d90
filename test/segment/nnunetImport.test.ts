/**
 * `holocase model import` on real nnU-Net v2 trained models (`../shared/fixtures/nnunet`, made with
 * nnU-Net's own network code and PyTorch): every fixture's ONNX network gives PyTorch's logits for the
 * reference patch within 1e-3; the trained TotalSegmentator-style zip, imported as it is, segments
 * `example_ct_sm` through the real CLI with the Dice nnU-Net-style prediction reaches; several folds
 * are averaged as nnU-Net averages them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelBundle } from '../../server/segment/bundle.ts';
import type { UNetArchitecture } from '../../server/segment/nnunet/architecture.ts';
import { unetParameterShapes } from '../../server/segment/nnunet/architecture.ts';
import { importNnUnetModel } from '../../server/segment/nnunet/importModel.ts';
import { field, openTorchCheckpoint, type TensorRef } from '../../server/segment/nnunet/torchCheckpoint.ts';
import { buildUNetOnnx, encodeOnnxModel } from '../../server/segment/nnunet/unetOnnx.ts';
import { seededRandom } from '../seededRandom.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NNUNET = resolve(ROOT, '../shared/fixtures/nnunet');
const TOTALSEG = resolve(ROOT, '../shared/fixtures/totalsegmentator');
const CLI = join(ROOT, 'bin/holocase.mjs');
const run = promisify(execFile);

interface FixtureEntry {
  folder: string;
  zip?: string;
  architecture: string;
  oldPlansFormat: boolean;
  input: { file: string; shape: number[] };
  logits: { file: string; shape: number[] };
  trainingCaseDice?: Record<string, number>;
}

const INDEX: FixtureEntry[] = JSON.parse(await readFile(join(NNUNET, 'index.json'), 'utf8'));
const TRAINED = INDEX.find((f) => f.zip)!;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'holocase-nnunet-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function floats(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Runs a bundle's (or any) ONNX file on one input; returns the output and its dims. */
async function runOnnx(model: string | Uint8Array, input: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, shape) });
    const tensor = out[session.outputNames[0]];
    return { data: tensor.data as Float32Array, dims: tensor.dims };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('model import: every fixture network gives PyTorch’s logits', () => {
  it.each(INDEX.map((f) => [f.folder, f] as const))('%s', async (_name, fixture) => {
    const modelsDir = join(work, 'each');
    const source = join(NNUNET, fixture.folder);
    const result = await importNnUnetModel({ source, modelsDir });
    const m = result.manifest;
    // 1. The manifest says what the plans say.
    const plans = JSON.parse(await readFile(join(source, 'plans.json'), 'utf8'));
    const config = plans.configurations['3d_fullres'];
    const intensity = plans.foreground_intensity_properties_per_channel['0'];
    expect(m.input.spacing).toEqual(config.spacing);
    expect(m.inference).toMatchObject({ mode: 'sliding-window', patchSize: config.patch_size, overlap: 0.5, blend: 'gaussian', sigmaScale: 0.125 });
    expect(m.input).toMatchObject({ orientation: 'RAS', tensorAxes: ['k', 'j', 'i'], channels: 1 });
    expect(m.input.normalization).toEqual({ type: 'clip-zscore', clip: [intensity.percentile_00_5, intensity.percentile_99_5], mean: intensity.mean, std: intensity.std });
    const labels = JSON.parse(await readFile(join(source, 'dataset.json'), 'utf8')).labels as Record<string, number>;
    expect(m.output.labels).toEqual(Object.fromEntries(Object.entries(labels).filter(([, v]) => v > 0).map(([name, v]) => [String(v), name])));
    expect(m.output.activation).toBe('softmax');
    const checkpointSha = createHash('sha256').update(await readFile(join(source, 'fold_0/checkpoint_final.pth'))).digest('hex');
    expect(m.provenance).toMatchObject({ framework: 'nnU-Net v2', configuration: '3d_fullres', folds: [0], checkpoint: 'checkpoint_final.pth', dataset: plans.dataset_name });
    expect(m.provenance!.files.find((f) => f.path.endsWith('fold_0/checkpoint_final.pth'))!.sha256).toBe(checkpointSha);
    expect(m.description).toContain(fixture.architecture);
    // 2. The bundle loads (manifest checked against the ONNX file) and its network gives PyTorch's logits.
    const bundle = await loadModelBundle(m.id, { modelsDir });
    const input = await floats(join(source, 'reference', fixture.input.file));
    const reference = await floats(join(source, 'reference', fixture.logits.file));
    const out = await runOnnx(bundle.weightsPath!, input, fixture.input.shape);
    expect([...out.dims]).toEqual(fixture.logits.shape);
    expect(maxAbsDiff(out.data, reference)).toBeLessThanOrEqual(1e-3);
  });
});

describe('model import: the trained TotalSegmentator-style zip', () => {
  it('imported as it is, segments example_ct_sm through the CLI with nnU-Net’s Dice', async () => {
    const modelsDir = join(work, 'trained');
    const env = { ...process.env, HOLOCASE_MODELS: modelsDir };
    const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 });
    // 1. Import the release-style zip, stating the licence and the orientation it was trained in.
    const imported = JSON.parse((await cli('model', 'import', join(NNUNET, TRAINED.zip!), '--id', 'tiny-organs', '--license', 'Apache-2.0', '--orientation', 'RAS', '--json')).stdout);
    expect(imported.manifest).toMatchObject({ id: 'tiny-organs', license: 'Apache-2.0', input: { orientation: 'RAS' } });
    const zipSha = createHash('sha256').update(await readFile(join(NNUNET, TRAINED.zip!))).digest('hex');
    expect(imported.manifest.provenance).toMatchObject({ source: TRAINED.zip, sha256: zipSha, trainer: 'nnUNetTrainerNoMirroring', plans: 'nnUNetPlans' });
    // 2. Segment example_ct_sm (its origin is example_ct's: the crop did not update it, and example_seg
    // is on the same grid) and evaluate against TotalSegmentator's labels.
    const pred = join(work, 'tiny-organs.nii.gz');
    await cli('segment', join(TOTALSEG, 'example_ct_sm.nii.gz'), '--model', 'tiny-organs', '-o', pred, '--json');
    const report = JSON.parse((await cli('evaluate', pred, join(TOTALSEG, 'example_seg.nii.gz'), '--pred-model', 'tiny-organs', '--ref-labels', join(TOTALSEG, 'classes_total_v2.json'), '--json')).stdout);
    const dice = Object.fromEntries((report.structures as { name: string; dice: number; match: string }[]).filter((s) => s.match === 'name').map((s) => [s.name, s.dice]));
    for (const [name, expected] of Object.entries(TRAINED.trainingCaseDice!)) {
      expect(dice[name], name).toBeGreaterThanOrEqual(expected - 0.03);
      expect(dice[name], name).toBeLessThanOrEqual(expected + 0.03);
    }
  }, 300_000);
});

/** Copies a checkpoint, adding `delta[c]` to output channel c's bias of the full-resolution head. */
async function checkpointWithHeadBias(from: string, to: string, delta: number[]): Promise<void> {
  await copyFile(from, to);
  const checkpoint = await openTorchCheckpoint(from);
  const stages = [...(field(checkpoint.root, 'network_weights') as Map<string, TensorRef>).keys()].filter((k) => /^decoder\.seg_layers\.\d+\.bias$/.test(k)).length;
  const bias = (field(checkpoint.root, 'network_weights') as Map<string, TensorRef>).get(`decoder.seg_layers.${stages - 1}.bias`)!;
  const values = await checkpoint.readFloat32(bias);
  await checkpoint.close();
  // The storage's bytes sit uncompressed in the zip entry <prefix>/data/<key>.
  const zip = await yauzl.openPromise(from, { lazyEntries: true, autoClose: false });
  let dataStart = -1;
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.endsWith(`/data/${bias.storage.key}`)) dataStart = (await zip.readLocalFileHeaderPromise(entry, { minimal: true })).fileDataStart;
  }
  zip.close();
  const patched = Float32Array.from(values, (v, c) => v + delta[c]);
  const handle = await open(to, 'r+');
  await handle.write(new Uint8Array(patched.buffer), 0, patched.byteLength, dataStart + bias.offset * 4);
  await handle.close();
}

describe('model import: folds', () => {
  it('averages the folds’ logits in one graph (--fold all), or imports one fold', async () => {
    // A trained-model folder with fold_0 (the fixture) and fold_1 (the same network with its output
    // biases shifted), so the mean of the two is the fixture's logits plus half the shift.
    const source = join(NNUNET, TRAINED.folder);
    const folder = join(work, 'Dataset903_Folds', 'nnUNetTrainerNoMirroring__nnUNetPlans__3d_fullres');
    await mkdir(join(folder, 'fold_0'), { recursive: true });
    await mkdir(join(folder, 'fold_1'), { recursive: true });
    for (const f of ['plans.json', 'dataset.json', 'fold_0/checkpoint_final.pth']) await copyFile(join(source, f), join(folder, f));
    const delta = [0, 2, 0, -1, 0, 0, 4];
    await checkpointWithHeadBias(join(source, 'fold_0/checkpoint_final.pth'), join(folder, 'fold_1/checkpoint_final.pth'), delta);
    const input = await floats(join(source, 'reference/input.f32'));
    const reference = await floats(join(source, 'reference/logits.f32'));
    const plane = reference.length / delta.length;
    const shifted = (scale: number) => Float32Array.from(reference, (v, i) => v + scale * delta[Math.floor(i / plane)]);
    const modelsDir = join(work, 'folds');

    const all = await importNnUnetModel({ source: join(work, 'Dataset903_Folds'), modelsDir });
    expect(all.manifest.id).toBe('dataset903_tinytotalorgans-3d_fullres');
    expect(all.manifest.provenance!.folds).toEqual([0, 1]);
    expect(maxAbsDiff((await runOnnx(join(all.bundleDir, 'model.onnx'), input, TRAINED.input.shape)).data, shifted(0.5))).toBeLessThanOrEqual(1e-3);

    const one = await importNnUnetModel({ source: folder, modelsDir, fold: 1 });
    expect(one.manifest.id).toBe('dataset903_tinytotalorgans-3d_fullres-fold1');
    expect(one.manifest.provenance!.folds).toEqual([1]);
    expect(maxAbsDiff((await runOnnx(join(one.bundleDir, 'model.onnx'), input, TRAINED.input.shape)).data, shifted(1))).toBeLessThanOrEqual(1e-3);
  });
});

describe('2-D networks', () => {
  it('run slice by slice on rank-5 tensors: each output slice is the network on that input slice alone', async () => {
    const arch: UNetArchitecture = {
      kind: 'PlainConvUNet', dims: 2, inputChannels: 1, numClasses: 3, featuresPerStage: [4, 8, 8], kernelSizes: [[3, 3], [3, 3], [3, 3]], strides: [[1, 1], [2, 2], [2, 2]],
      blocksPerStage: [2, 2, 2], convsPerStageDecoder: [1, 1], convBias: true, norm: { type: 'instance', eps: 1e-5, affine: true }, nonlin: { type: 'leaky-relu', negativeSlope: 0.01 }, nonlinFirst: false, dropout: false,
    };
    const random = seededRandom(7);
    const values = new Map(unetParameterShapes(arch).filter((p) => !p.aliasOf).map((p) => [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => random() - 0.5)]));
    const model = await encodeOnnxModel(buildUNetOnnx(arch, (name) => values.get(name)!));
    const [d, h, w] = [3, 16, 12];
    const input = Float32Array.from({ length: d * h * w }, () => random() * 2 - 1);
    const whole = await runOnnx(model, input, [1, 1, d, h, w]);
    expect([...whole.dims]).toEqual([1, 3, d, h, w]);
    for (let z = 0; z < d; z++) {
      const slice = await runOnnx(model, input.slice(z * h * w, (z + 1) * h * w), [1, 1, 1, h, w]);
      const fromWhole = Float32Array.from({ length: 3 * h * w }, (_, i) => whole.data[Math.floor(i / (h * w)) * d * h * w + z * h * w + (i % (h * w))]);
      expect(maxAbsDiff(slice.data, fromWhole)).toBeLessThanOrEqual(1e-5);
    }
  });
});
