/**
 * Segmentation time per stage (budgets in the design guide), medians of several runs:
 * 1. the rules model `hu-anatomy` on `example_ct.nii.gz` (3 mm, 122×101×112), with a bare HU threshold
 *    as the peer (time, and bone Dice on `example_ct_sm` against TotalSegmentator for both); on the
 *    contrast-enhanced DICOM series `example_ct_dicom`, where the reference aorta went (vessel, bone)
 *    and the bone and vessel Dice; on a phantom with an arterial-phase, calcified aorta (1.5 mm) the
 *    same; and at clinical size, the 0.8 mm phantom: per-step time and Dice per tissue group against
 *    its exact labels, with the rules deciding on the scan's own grid as the peer in the same run;
 * 2. a generated sliding-window network (3×3×3 Conv3D, 8 hidden channels, 4 classes; from
 *    `test/segment/onnxModels.ts`) on `example_ct.nii.gz` resampled to its 1.5 mm spacing (the
 *    TotalSegmentator full-resolution recipe): resample, normalise, inference, blending, resample back;
 *    peers in the same run: `nearest-labels` instead of `linear-logits`, overlap 0.25, and the same
 *    network on the whole volume in one run;
 * 3. memory: a synthetic 512×512×600 CT through a 1.5 mm sliding-window network in a child process,
 *    reporting its peak RSS against the size of one full-resolution float volume.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { composeAffine, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { describeStructure } from '../../models/anatomy.ts';
import { evaluateLabelMaps, parseLabelTable, readLabelTable, referenceComposition, type LabelTable } from '../../server/segment/evaluate.ts';
import { labelEntries } from '../../server/segment/manifest.ts';
import { loadModelBundle, segment, type SegmentResult } from '../../server/segment/segment.ts';
import { ingest } from '../../server/volume/ingest.ts';
import { readNifti } from '../../server/volume/nifti.ts';
import { makePhantom, type Phantom } from '../../server/volume/phantom.ts';
import type { Volume } from '../../server/volume/volume.ts';
import { calcifiedAortaPhantom } from '../segment/huAnatomyPhantoms.ts';
import { convNetwork, testManifest, thresholdNetwork, writeBundle } from '../segment/onnxModels.ts';
import { median } from './median.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures/totalsegmentator');

export interface SegmentBenchOptions {
  /** Timed runs per measurement (the median is reported). */
  runs?: number;
  /** Run the 512×512×600 memory workload (about a minute on 2 cores). */
  large?: boolean;
}

export const SEGMENT_BENCH_DEFAULTS = { runs: 3, large: true } satisfies Required<SegmentBenchOptions>;

/** Medians of every timing key over several runs. */
async function stageMedians(runs: number, fn: () => Promise<SegmentResult>): Promise<{ medians: Record<string, number>; last: SegmentResult }> {
  const all: Record<string, number>[] = [];
  let last: SegmentResult | undefined;
  for (let r = 0; r < runs; r++) {
    last = await fn();
    all.push(last.timings);
  }
  const keys = Object.keys(all[0]);
  return { medians: Object.fromEntries(keys.map((k) => [k, Math.round(median(all.map((t) => t[k] ?? 0)))])), last: last! };
}

function boneDice(labels: Uint8Array | Uint16Array, isBone: (v: number) => boolean, ref: ArrayLike<number>, refIsBone: (v: number) => boolean): number {
  let inter = 0;
  let sum = 0;
  for (let p = 0; p < labels.length; p++) {
    const a = isBone(labels[p]) ? 1 : 0;
    const b = refIsBone(ref[p]) ? 1 : 0;
    inter += a & b;
    sum += a + b;
  }
  return Math.round((2 * inter * 1000) / sum) / 1000;
}

async function rulesWorkload(runs: number): Promise<Record<string, unknown>> {
  const model = await loadModelBundle('hu-anatomy');
  const ct = await readNifti(join(FIXTURES, 'example_ct.nii.gz'));
  await segment(ct, model); // warm-up
  const { medians, last } = await stageMedians(runs, () => segment(ct, model));
  // Peer: a bare HU threshold (≥ 150 HU), the baseline the rules improve on.
  const threshold = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const out = new Uint8Array(ct.data.length);
    for (let p = 0; p < out.length; p++) out[p] = ct.data[p] >= 150 ? 1 : 0;
    threshold.push(performance.now() - t);
  }
  // Quality on the crop with a reference.
  const sm = await readNifti(join(FIXTURES, 'example_ct_sm.nii.gz'));
  const ref = await readNifti(join(FIXTURES, 'example_seg.nii.gz'));
  const refTable = await readLabelTable(join(FIXTURES, 'classes_total_v2.json'));
  const smResult = await segment(sm, model);
  const table = new Map(labelEntries(model.manifest).map((e) => [e.label, e.name]));
  const report = evaluateLabelMaps(smResult.labels, table, { dims: ref.dims, affine: ref.affine, data: ref.data as Uint8Array }, refTable);
  const refBone = new Set([...refTable].filter(([, n]) => report.groups.find((g) => g.group === 'bone')!.refStructures.includes(n)).map(([l]) => l));
  const thresholdLabels = Uint8Array.from(sm.data, (v) => (v >= 150 ? 1 : 0));
  const dataset = `example_ct.nii.gz ${ct.dims.join('×')} at 3 mm (${(ct.data.length / 1e6).toFixed(2)} M voxels)`;
  return {
    workload: `hu-anatomy rules on ${dataset}`,
    stagesMs: medians,
    notes: last.notes,
    quality: {
      onExampleCtSm: 'bone group Dice against TotalSegmentator (example_seg.nii.gz)',
      rules: report.groups.find((g) => g.group === 'bone')!.dice,
      bareThreshold150: boneDice(thresholdLabels, (v) => v === 1, ref.data, (v) => refBone.has(v)),
      lungsLeftRight: report.structures.filter((s) => s.name.startsWith('lung_')).map((s) => ({ name: s.name, dice: s.dice })),
    },
    peers: { bareThreshold150Ms: Math.round(median(threshold) * 10) / 10 },
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Where a reference aorta went (fractions labelled vessel and bone), and the bone and vessel group Dice. */
function contrastQuality(labels: LabelMap, table: LabelTable, ref: LabelMap, refTable: LabelTable): Record<string, number> {
  const aorta = referenceComposition(labels, table, ref, refTable, 'aorta');
  const report = evaluateLabelMaps(labels, table, ref, refTable);
  const dice = (group: string) => report.groups.find((g) => g.group === group)?.dice ?? 0;
  return { aortaAsVessel: round3(aorta.vessels_contrast ?? 0), aortaAsBone: round3(aorta.bone ?? 0), boneDice: dice('bone'), vesselDice: dice('vessel') };
}

/**
 * The rules on contrast CT: the real DICOM series (a calcified aorta beside the spine) against
 * TotalSegmentator's map on its grid, and a 1.5 mm phantom whose arterial-phase aorta (400 HU) has
 * calcified plaque, against its exact labels.
 */
async function rulesContrastWorkload(): Promise<Record<string, unknown>> {
  const model = await loadModelBundle('hu-anatomy');
  const table = parseLabelTable(model.manifest.output.labels);
  const refTable = await readLabelTable(join(FIXTURES, 'classes_total_v2.json'));
  const { volume } = await ingest(join(FIXTURES, 'example_ct_dicom'));
  const t = performance.now();
  const dicom = await segment(volume, model);
  const dicomMs = performance.now() - t;
  const ref = await readNifti(join(FIXTURES, 'example_seg_dicom.nii.gz'));
  const phantom = calcifiedAortaPhantom([1.5, 1.5, 1.5]);
  const phantomResult = await segment(phantom.ct, model);
  return {
    workload: 'hu-anatomy on contrast CT: example_ct_dicom (512×512×20, 0.98×0.98×2 mm, JPEG 2000) against example_seg_dicom.nii.gz; phantom at 1.5 mm with a 400 HU aorta and calcified plaque against its exact labels',
    exampleCtDicom: { ...contrastQuality(dicom.labels, table, { dims: ref.dims, affine: ref.affine, data: ref.data as Uint8Array }, refTable), segmentMs: Math.round(dicomMs) },
    calcifiedAortaPhantom: contrastQuality(phantomResult.labels, table, phantom.labels, new Map(Object.entries(phantom.table).map(([k, v]) => [Number(k), v]))),
  };
}

/** Dice per tissue group of a label map against the phantom's exact labels (no surface distances: fast at 0.8 mm). */
function groupDice(labels: Uint8Array | Uint16Array, table: LabelTable, phantom: Phantom): Record<string, number> {
  const groupOf = (name: string | undefined) => (name === undefined ? '' : describeStructure(name).group);
  const predGroup = new Map([...table].map(([label, name]) => [label, groupOf(name)]));
  const refGroup = new Map(Object.entries(phantom.table).map(([label, name]) => [Number(label), groupOf(name)]));
  const out: Record<string, number> = {};
  for (const group of ['bone', 'vessel', 'airway', 'other']) {
    const predIn = Uint8Array.from({ length: 65536 }, (_, v) => (predGroup.get(v) === group ? 1 : 0));
    const refIn = Uint8Array.from({ length: 256 }, (_, v) => (refGroup.get(v) === group ? 1 : 0));
    let inter = 0;
    let sum = 0;
    for (let p = 0; p < labels.length; p++) {
      const a = predIn[labels[p]];
      const b = refIn[phantom.labels.data[p]];
      inter += a & b;
      sum += a + b;
    }
    out[group] = sum ? round3((2 * inter) / sum) : 0;
  }
  // Lungs (left and right together) and skin by name.
  const byName = (predNames: string[], refTest: (name: string) => boolean) => {
    const predIn = new Set([...table].filter(([, n]) => predNames.includes(n)).map(([l]) => l));
    const refIn = new Set(Object.entries(phantom.table).filter(([, n]) => refTest(n)).map(([l]) => Number(l)));
    let inter = 0;
    let sum = 0;
    for (let p = 0; p < labels.length; p++) {
      const a = predIn.has(labels[p]) ? 1 : 0;
      const b = refIn.has(phantom.labels.data[p]) ? 1 : 0;
      inter += a & b;
      sum += a + b;
    }
    return sum ? round3((2 * inter) / sum) : 0;
  };
  out.lungs = byName(['lung_left', 'lung_right', 'lung'], (n) => n.startsWith('lung_'));
  out.skin = byName(['skin'], (n) => n === 'skin');
  return out;
}

/**
 * The rules at clinical size: the 0.8 × 0.8 × 1 mm contrast phantom (475×350×520), decided on the
 * 1.6 mm working grid (the default) and, as the peer, on the scan's own grid; per-step milliseconds,
 * peak memory of the process so far, and Dice per tissue group against the exact labels.
 */
async function rulesClinicalWorkload(): Promise<Record<string, unknown>> {
  const phantom = makePhantom({ contrast: true, spacingMm: [0.8, 0.8, 1.0] });
  const model = await loadModelBundle('hu-anatomy');
  const manifest = model.manifest;
  if (manifest.engine !== 'rules') throw new Error('hu-anatomy is not the rules model');
  const table = parseLabelTable(manifest.output.labels);
  const run = async (workingSpacingMm: number) => {
    const bundle = { ...model, manifest: { ...manifest, rules: { ...manifest.rules, workingSpacingMm } } };
    const result = await segment(phantom.ct, bundle);
    const stepsMs = Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, Math.round(v)]));
    return { stepsMs, dice: groupDice(result.labels.data, table, phantom), lungsSplit: result.structures.some((s) => s.name === 'lung_left'), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
  };
  return {
    workload: `hu-anatomy on the 0.8 × 0.8 × 1 mm contrast phantom (${phantom.ct.dims.join('×')}, ${(phantom.ct.data.length / 1e6).toFixed(1)} M voxels); Dice against its exact labels`,
    workingGrid: await run(manifest.rules.workingSpacingMm),
    peers: { scanGrid: await run(0) },
  };
}

async function networkWorkload(runs: number, modelsDir: string): Promise<Record<string, unknown>> {
  const ct = await readNifti(join(FIXTURES, 'example_ct.nii.gz'));
  const recipe = {
    input: { orientation: 'RAS', tensorAxes: ['k', 'j', 'i'], spacing: [1.5, 1.5, 1.5], channels: 1, normalization: { type: 'clip-zscore', clip: [-1004, 1588], mean: 100.9, std: 137.5 } },
    output: { activation: 'softmax', labels: { 1: 'soft_tissue', 2: 'bone', 3: 'body' } },
  };
  await writeBundle(modelsDir, testManifest('bench-sw', { ...recipe, inference: { mode: 'sliding-window', patchSize: [96, 96, 96], overlap: 0.5, batchSize: 2 } }), convNetwork({ kernel: 3, hidden: 8, classes: 4 }));
  await writeBundle(modelsDir, testManifest('bench-whole', { ...recipe, inference: { mode: 'whole', divisibleBy: 16 } }), convNetwork({ kernel: 3, hidden: 8, classes: 4 }));
  const sw = await loadModelBundle('bench-sw', { modelsDir });
  const whole = await loadModelBundle('bench-whole', { modelsDir });
  await segment(ct, sw, { provider: 'cpu' }); // warm-up
  const main = await stageMedians(runs, () => segment(ct, sw, { provider: 'cpu' }));
  const nearest = await stageMedians(runs, () => segment(ct, sw, { provider: 'cpu', resampleBack: 'nearest-labels' }));
  const overlap25 = await stageMedians(runs, () => segment(ct, sw, { provider: 'cpu', overlap: 0.25 }));
  const wholeVolume = await stageMedians(runs, () => segment(ct, whole, { provider: 'cpu' }));
  return {
    workload: `generated 3×3×3 Conv3D network (8 hidden channels, 4 classes) on example_ct.nii.gz resampled to 1.5 mm (${main.last.notes.find((n) => n.startsWith('network grid'))}); patch 96³, overlap 0.5, batch 2, linear-logits`,
    stagesMs: main.medians,
    notes: main.last.notes,
    provider: main.last.provider,
    peers: {
      nearestLabels: nearest.medians,
      overlap025: overlap25.medians,
      wholeVolumeOneRun: wholeVolume.medians,
    },
  };
}

/** A synthetic 512×512×600 CT at 0.8 mm (int16): a cylinder of textured tissue in air. */
export function clinicalSizeCt(): Volume<Int16Array> {
  const dims: Vec3 = [512, 512, 600];
  const spacing: Vec3 = [0.8, 0.8, 0.8];
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, p = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, p++) data[p] = Math.hypot(i - 256, j - 256) < 200 ? ((i ^ j ^ k) & 63) * 4 : -1000;
  return { dims, affine: composeAffine([0, 0, 0], spacing, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), data, meta: { source: 'nifti', modality: 'CT' } };
}

/** Runs in a child process: a 512×512×600 CT through a 1.5 mm sliding-window network; prints JSON. */
async function largeChild(): Promise<void> {
  const ct = clinicalSizeCt();
  const data = ct.data;
  const modelsDir = process.env.HOLOCASE_BENCH_MODELS!;
  const model = await loadModelBundle('bench-large', { modelsDir });
  const before = process.memoryUsage();
  const started = performance.now();
  const result = await segment(ct, model, { provider: 'cpu' });
  const wallMs = performance.now() - started;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ wallMs: Math.round(wallMs), timings: result.timings, notes: result.notes, maxRssMB: Math.round(maxRssMB), rssBeforeMB: Math.round(before.rss / 2 ** 20), ctMB: Math.round(data.byteLength / 2 ** 20) }));
}

async function largeWorkload(modelsDir: string): Promise<Record<string, unknown>> {
  await writeBundle(
    modelsDir,
    testManifest('bench-large', {
      input: { orientation: 'LPS', tensorAxes: ['k', 'j', 'i'], spacing: [1.5, 1.5, 1.5], channels: 1, normalization: { type: 'none' } },
      inference: { mode: 'sliding-window', patchSize: [128, 128, 128], overlap: 0.5, batchSize: 1 },
      output: { activation: 'softmax', labels: { 1: 'bone' } },
    }),
    thresholdNetwork({ threshold: 100 }),
  );
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--large-child'], {
    env: { ...process.env, HOLOCASE_BENCH_MODELS: modelsDir },
    maxBuffer: 16 * 1024 * 1024,
  });
  const child = JSON.parse(stdout.trim().split('\n').pop()!);
  const floatVolumeMB = Math.round((512 * 512 * 600 * 4) / 2 ** 20);
  return {
    workload: '512×512×600 synthetic CT (int16, 0.8 mm) through a pointwise 2-class network at 1.5 mm (274×274×320 network grid), patch 128³, overlap 0.5, linear-logits; separate process',
    ...child,
    oneFullResolutionFloatVolumeMB: floatVolumeMB,
    peakAboveCtMB: child.maxRssMB - child.rssBeforeMB,
  };
}

export async function bench(options: SegmentBenchOptions = {}): Promise<Record<string, unknown>> {
  const { runs, large } = { ...SEGMENT_BENCH_DEFAULTS, ...options };
  const modelsDir = await mkdtemp(join(tmpdir(), 'holocase-bench-segment-'));
  try {
    return {
      machine: { availableParallelism: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
      runs,
      rules: await rulesWorkload(runs),
      rulesContrast: await rulesContrastWorkload(),
      ...(large ? { rulesClinical: await rulesClinicalWorkload() } : {}),
      slidingWindowNetwork: await networkWorkload(runs, modelsDir),
      ...(large ? { memory512x512x600: await largeWorkload(modelsDir) } : {}),
    };
  } finally {
    await rm(modelsDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--large-child')) await largeChild();
