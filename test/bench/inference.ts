/**
 * Network inference at clinical size, with peers measured in the same run:
 * 1. Per 128³ patch, wall and CPU time of a network the size of TotalSegmentator's 1.5 mm models —
 *    nnU-Net's default 3d_fullres `PlainConvUNet` (6 stages, 32, 64, 128, 256, 320, 320 features, two
 *    3×3×3 convs per stage, instance norm, leaky ReLU; 31 M random weights; 25 output channels like the
 *    organs part) built with the importer's ONNX writer — under each ONNX Runtime setting, each in a fresh
 *    process (one warm-up run, then the median); the fastest is named.
 * 2. Peak memory of the engine's sliding window on a 512×512×600 CT (0.8 mm) through a 1.5 mm network
 *    with 128³ patches, overlap 0.5, in a child process: the same U-Net topology with 1×1×1 kernels (the
 *    same activation tensors for ONNX Runtime to hold, a 27th of the arithmetic, so it runs in minutes),
 *    set `HOLOCASE_BENCH_FULL_UNET=1` to run the 3×3×3 network itself (64 patches of about 12 s of CPU
 *    each: a quarter of an hour on 2 idle cores).
 * 3. Model-set overhead: a set of two networks on `example_ct` at 1.5 mm against the two run alone.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { InferenceSession } from 'onnxruntime-node';
import { unetWeightCount, type UNetArchitecture } from '../../server/segment/nnunet/architecture.ts';
import { buildUNetOnnx, writeOnnxModel } from '../../server/segment/nnunet/unetOnnx.ts';
import { ONNX_SESSION_DEFAULTS, sessionOptions, type OnnxSessionSettings } from '../../server/segment/onnxEngine.ts';
import { loadModelBundle, segment } from '../../server/segment/segment.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { convNetwork, testManifest, thresholdNetwork, writeBundle } from '../segment/onnxModels.ts';
import { seededRandom } from '../seededRandom.ts';
import { median } from './median.ts';
import { clinicalSizeCt } from './segment.ts';
import { processPeakBytes } from '../../server/pipeline/stageMeter.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures/totalsegmentator');
const SELF = fileURLToPath(import.meta.url);

export interface InferenceBenchOptions {
  /** Measured runs per setting (after one warm-up run). */
  runs?: number;
  /** Patch edge in voxels. */
  patch?: number;
  /** Compare the ONNX Runtime settings (about 10 × 3 patch runs). */
  settings?: boolean;
  /** Measure the model-set overhead. */
  modelSet?: boolean;
  /** Run the 512×512×600 memory workload. */
  memory?: boolean;
}

export const INFERENCE_BENCH_DEFAULTS = { runs: 2, patch: 128, settings: true, modelSet: true, memory: true } satisfies Required<InferenceBenchOptions>;

/** nnU-Net's default 3d_fullres topology for a 1.5 mm CT task (TotalSegmentator's part networks). */
export function totalSegmentatorSizedUNet(options: { classes?: number; kernel?: number } = {}): UNetArchitecture {
  const kernel = options.kernel ?? 3;
  return {
    kind: 'PlainConvUNet',
    dims: 3,
    inputChannels: 1,
    numClasses: options.classes ?? 25,
    featuresPerStage: [32, 64, 128, 256, 320, 320],
    kernelSizes: Array.from({ length: 6 }, () => [kernel, kernel, kernel]),
    strides: [[1, 1, 1], ...Array.from({ length: 5 }, () => [2, 2, 2])],
    blocksPerStage: [2, 2, 2, 2, 2, 2],
    convsPerStageDecoder: [2, 2, 2, 2, 2],
    convBias: true,
    norm: { type: 'instance', eps: 1e-5, affine: true },
    nonlin: { type: 'leaky-relu', negativeSlope: 0.01 },
    nonlinFirst: false,
    dropout: false,
  };
}

/** Writes the network with seeded random weights (He-uniform convs, unit norms, zero biases). */
export async function writeRandomUNet(file: string, architecture: UNetArchitecture, seed = 1): Promise<number> {
  const random = seededRandom(seed);
  const plan = buildUNetOnnx(architecture, (name, shape) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    if (name.endsWith('norm.weight')) return values.fill(1);
    if (name.endsWith('bias')) return values;
    const bound = Math.sqrt(6 / (count / shape[0]));
    for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * bound;
    return values;
  });
  return (await writeOnnxModel(plan, file)).bytes;
}

/** The ONNX Runtime settings compared: the engine's defaults, then one change at a time. */
export const SETTINGS_TRIED: { name: string; settings: Partial<OnnxSessionSettings> }[] = [
  { name: 'engine defaults', settings: {} },
  { name: "ONNX Runtime's thread choice (one per physical core)", settings: { intraOpThreads: 0 } },
  { name: 'intra-op 1 thread', settings: { intraOpThreads: 1 } },
  { name: 'spin-waiting threads', settings: { spinning: true } },
  { name: 'parallel execution, inter-op 2, intra-op 1', settings: { executionMode: 'parallel', interOpThreads: 2, intraOpThreads: 1 } },
  { name: 'memory pattern on (ONNX Runtime default)', settings: { memoryPattern: true } },
  { name: 'no memory arena', settings: { memoryArena: false } },
  { name: 'graph optimisation basic', settings: { graphOptimization: 'basic' } },
  { name: 'graph optimisation extended', settings: { graphOptimization: 'extended' } },
];

interface PatchChildResult {
  loadMs: number;
  warmupMs: number;
  wallMs: number[];
  cpuMs: number[];
  maxRssMB: number;
}

/** Child: one session with the given settings, a warm-up run and `runs` timed runs of one patch. */
async function patchChild(): Promise<void> {
  const { model, settings, patch, runs } = JSON.parse(process.env.HOLOCASE_BENCH_PATCH!) as { model: string; settings: Partial<OnnxSessionSettings>; patch: number; runs: number };
  const ort = await import('onnxruntime-node');
  let t = performance.now();
  const session: InferenceSession = await ort.InferenceSession.create(model, sessionOptions(settings, ['cpu']));
  const loadMs = performance.now() - t;
  const random = seededRandom(7);
  const input = Float32Array.from({ length: patch ** 3 }, () => random() * 2 - 1);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 1, patch, patch, patch]) };
  t = performance.now();
  await session.run(feeds);
  const warmupMs = performance.now() - t;
  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const cpu = process.cpuUsage();
    t = performance.now();
    await session.run(feeds);
    wallMs.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
  }
  await session.release();
  const result: PatchChildResult = { loadMs, warmupMs, wallMs, cpuMs, maxRssMB: processPeakBytes() / 1024 ** 2 };
  console.log(JSON.stringify(result));
}

async function runChild(flag: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SELF, flag], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim().split('\n').pop()!;
}

async function settingsWorkload(work: string, runs: number, patch: number): Promise<Record<string, unknown>> {
  const architecture = totalSegmentatorSizedUNet();
  const model = join(work, 'unet-3d-fullres.onnx');
  const bytes = await writeRandomUNet(model, architecture);
  const rows = [];
  for (const { name, settings } of SETTINGS_TRIED) {
    const r = JSON.parse(await runChild('--patch-child', { HOLOCASE_BENCH_PATCH: JSON.stringify({ model, settings, patch, runs }) })) as PatchChildResult;
    rows.push({
      name,
      settings: { ...ONNX_SESSION_DEFAULTS, ...settings },
      sessionLoadMs: Math.round(r.loadMs),
      firstRunMs: Math.round(r.warmupMs),
      wallMsPerPatch: Math.round(median(r.wallMs)),
      cpuMsPerPatch: Math.round(median(r.cpuMs)),
      peakRssMB: Math.round(r.maxRssMB),
    });
  }
  const fastest = [...rows].sort((a, b) => a.wallMsPerPatch - b.wallMsPerPatch)[0];
  const leastCpu = [...rows].sort((a, b) => a.cpuMsPerPatch - b.cpuMsPerPatch)[0];
  return {
    workload: `nnU-Net default 3d_fullres PlainConvUNet (6 stages, 32–320 features, 2 convs of 3×3×3 per stage, ${unetWeightCount(architecture) / 1e6} M random weights, ${(bytes / 2 ** 20).toFixed(0)} MB ONNX, 25 output channels) on one ${patch}³ patch; each setting in its own process, ${runs} run(s) after a warm-up`,
    settings: rows,
    fastest: fastest.name,
    leastCpu: leastCpu.name,
  };
}

/** Child: the engine on the 512×512×600 CT through the bundle named in the environment. */
async function memoryChild(): Promise<void> {
  const ct = clinicalSizeCt();
  const model = await loadModelBundle(process.env.HOLOCASE_BENCH_MODEL!, { modelsDir: process.env.HOLOCASE_BENCH_MODELS! });
  const rssBeforeMB = process.memoryUsage().rss / 2 ** 20;
  const started = performance.now();
  const result = await segment(ct, model, { provider: 'cpu' });
  console.log(
    JSON.stringify({
      wallMs: Math.round(performance.now() - started),
      timings: result.timings,
      notes: result.notes,
      maxRssMB: Math.round(processPeakBytes() / 1024 ** 2),
      rssBeforeMB: Math.round(rssBeforeMB),
      ctMB: Math.round(ct.data.byteLength / 2 ** 20),
    }),
  );
}

async function memoryWorkload(work: string): Promise<Record<string, unknown>> {
  const full = process.env.HOLOCASE_BENCH_FULL_UNET === '1';
  const classes = 25;
  const id = 'bench-clinical-unet';
  const dir = await writeBundle(
    work,
    testManifest(id, {
      input: { orientation: 'RAS', tensorAxes: ['k', 'j', 'i'], spacing: [1.5, 1.5, 1.5], channels: 1, normalization: { type: 'clip-zscore', clip: [-1000, 1000], mean: 0, std: 300 } },
      inference: { mode: 'sliding-window', patchSize: [128, 128, 128], overlap: 0.5, batchSize: 1 },
      output: { activation: 'softmax', labels: labelTable(Array.from({ length: classes - 1 }, (_, c) => `structure_${c + 1}`)) },
    }),
  );
  await writeRandomUNet(join(dir, 'model.onnx'), totalSegmentatorSizedUNet({ classes, kernel: full ? 3 : 1 }));
  const child = JSON.parse(await runChild('--memory-child', { HOLOCASE_BENCH_MODEL: id, HOLOCASE_BENCH_MODELS: work }));
  const grid = [274, 274, 320];
  const networkGridMB = Math.round((grid[0] * grid[1] * grid[2] * 4) / 2 ** 20);
  return {
    workload: `512×512×600 synthetic CT (int16, 0.8 mm, RAS) through a 1.5 mm sliding-window network (${grid.join('×')} network grid), 128³ patches, overlap 0.5, ${classes} output channels, linear-logits; the nnU-Net 3d_fullres topology with ${full ? '3×3×3' : '1×1×1 (same activation tensors, a 27th of the arithmetic; HOLOCASE_BENCH_FULL_UNET=1 for 3×3×3)'} kernels; separate process`,
    ...child,
    resampledCtMB: networkGridMB,
    oneFullResolutionFloatVolumeMB: Math.round((512 * 512 * 600 * 4) / 2 ** 20),
    peakAboveCtMB: child.maxRssMB - child.rssBeforeMB,
  };
}

/** `["a", "b"]` → `{"1": "a", "2": "b"}`. */
function labelTable(names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n, i) => [String(i + 1), n]));
}

/** A model set manifest over `members`, labelled `names` in order. */
function writeSet(modelsDir: string, id: string, members: string[], names: string[]): Promise<string> {
  const manifest = { id, name: `bench set ${id}`, version: '1', license: 'CC0-1.0', modality: 'CT', limits: 'bench', engine: 'set', members: members.map((model) => ({ model })), output: { labels: labelTable(names) } };
  return writeBundle(modelsDir, manifest);
}

async function setWorkload(work: string, runs: number): Promise<Record<string, unknown>> {
  const ct = await readNifti(join(FIXTURES, 'example_ct.nii.gz'));
  const recipe = {
    input: { orientation: 'RAS', tensorAxes: ['k', 'j', 'i'], spacing: [1.5, 1.5, 1.5], channels: 1, normalization: { type: 'clip-zscore', clip: [-1004, 1588], mean: 100.9, std: 137.5 } },
    inference: { mode: 'sliding-window', patchSize: [96, 96, 96], overlap: 0.5, batchSize: 1 },
  };
  await writeBundle(work, testManifest('set-part-a', { ...recipe, output: { activation: 'softmax', labels: { 1: 'soft_tissue', 2: 'bone' } } }), convNetwork({ kernel: 3, hidden: 8, classes: 3 }));
  await writeBundle(work, testManifest('set-part-b', { ...recipe, output: { activation: 'softmax', labels: { 1: 'body' } } }), convNetwork({ kernel: 3, hidden: 8, classes: 2, threshold: -2 }));
  await writeSet(work, 'set-ab', ['set-part-b', 'set-part-a'], ['soft_tissue', 'bone', 'body']);
  const [a, b, set] = await Promise.all(['set-part-a', 'set-part-b', 'set-ab'].map((id) => loadModelBundle(id, { modelsDir: work })));
  const time = async (model: typeof a) => {
    const t = performance.now();
    await segment(ct, model, { provider: 'cpu' });
    return performance.now() - t;
  };
  await time(set); // warm-up
  const alone: number[] = [];
  const together: number[] = [];
  for (let r = 0; r < runs; r++) {
    alone.push((await time(a)) + (await time(b)));
    together.push(await time(set));
  }
  const aloneMs = median(alone);
  const setMs = median(together);
  // Memory at clinical size: the set against each member alone, each in its own process.
  const clinical = { ...recipe, inference: { mode: 'sliding-window', patchSize: [128, 128, 128], overlap: 0.5, batchSize: 1 } };
  const names = (prefix: string, count: number) => Array.from({ length: count }, (_, c) => `${prefix}_${c + 1}`);
  await writeBundle(work, testManifest('clinical-a', { ...clinical, output: { activation: 'softmax', labels: labelTable(names('a', 12)) } }), thresholdNetwork({ threshold: 100, outputChannels: 13 }));
  await writeBundle(work, testManifest('clinical-b', { ...clinical, output: { activation: 'softmax', labels: labelTable(names('b', 24)) } }), thresholdNetwork({ threshold: 300, outputChannels: 25 }));
  await writeSet(work, 'clinical-set', ['clinical-a', 'clinical-b'], [...names('a', 12), ...names('b', 24)]);
  const peak: Record<string, number> = {};
  for (const id of ['clinical-a', 'clinical-b', 'clinical-set']) {
    const child = JSON.parse(await runChild('--memory-child', { HOLOCASE_BENCH_MODEL: id, HOLOCASE_BENCH_MODELS: work }));
    peak[id] = child.maxRssMB - child.rssBeforeMB;
  }
  return {
    workload: `a set of two generated 3×3×3 Conv3D networks (1.5 mm, 96³ patches) on example_ct.nii.gz (${ct.dims.join('×')} at 3 mm), median of ${runs}; memory: a set of a 13- and a 25-channel pointwise network (1.5 mm, 128³ patches) on the 512×512×600 CT, each in its own process`,
    membersAloneMs: Math.round(aloneMs),
    setMs: Math.round(setMs),
    overheadMs: Math.round(setMs - aloneMs),
    overheadPercent: Math.round(((setMs - aloneMs) / aloneMs) * 1000) / 10,
    clinicalPeakAboveCtMB: { memberA13Channels: peak['clinical-a'], memberB25Channels: peak['clinical-b'], set: peak['clinical-set'] },
    setOverLargestMemberMB: peak['clinical-set'] - Math.max(peak['clinical-a'], peak['clinical-b']),
    expectedExtraMB: Math.round((2 * 512 * 512 * 600) / 2 ** 20),
    expectedExtra: "two uint8 label maps on the CT grid (the set's and the current member's)",
  };
}

export async function bench(options: InferenceBenchOptions = {}): Promise<Record<string, unknown>> {
  const o = { ...INFERENCE_BENCH_DEFAULTS, ...options };
  const work = await mkdtemp(join(tmpdir(), 'holocase-bench-inference-'));
  try {
    return {
      machine: { availableParallelism: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
      ...(o.settings ? { patchSettings: await settingsWorkload(work, o.runs, o.patch) } : {}),
      ...(o.modelSet ? { modelSet: await setWorkload(work, 3) } : {}),
      ...(o.memory ? { memory512x512x600: await memoryWorkload(work) } : {}),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--patch-child')) await patchChild();
if (process.argv.includes('--memory-child')) await memoryChild();
