/**
 * Segmentation: a CT `Volume` and a model bundle in, a label map on the CT's own grid out.
 *
 * ONNX models follow their manifest's recipe (nnU-Net / TotalSegmentator style):
 *   1. refuse a scan of another modality; replace NaN/Inf voxels;
 *   2. reorient exactly to the network's axes;
 *   3. resample to the target spacing (trilinear) — the network grid;
 *   4. normalise each input channel;
 *   5. run the network on the whole volume or in Gaussian-blended sliding windows (streamed in slabs);
 *   6. decide labels and go back to the CT grid (`linear-logits` or `nearest-labels`);
 *   7. reorient back; optional per-structure largest-component cleanup.
 * The rules model (`engine: "rules"`) runs the HU rules of `rules/huAnatomy.ts` instead of 3–6.
 * A model set (`engine: "set"`) runs its members one after another through this same function and
 * merges their label maps (`modelSet.ts`); its peak memory is its largest member's plus two label maps.
 *
 * Peak memory for an ONNX model, besides the caller's CT: one reoriented copy of the CT (its own type;
 * none when the orientation already matches), the network-grid input (float32 × input channels), the
 * sliding-window slab (float32 × output channels × (patch depth + one step) network slices), two network
 * slices of outputs for linear-logits, the network-grid labels and the label map (uint8/16) on the CT
 * grid. No full-resolution float volume is made per output channel: per channel the slab is a tenth of
 * one for a 512×512×600 CT with a 1.5 mm network and 128³ patches (55 MB vs 600 MB). Measured peak for
 * that CT with a 2-class network: 540 MB above the CT (test/bench/segment.ts); with a TotalSegmentator-
 * sized 25-channel U-Net: 3.4 GB, of which 0.95 GB slab and about 2 GB ONNX Runtime (test/bench/inference.ts).
 */
import { orientationCodes, type Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import type { StageContext } from '../pipeline/context.ts';
import { mapVoxels, axisMapping, reorient } from '../volume/reorient.ts';
import type { Volume } from '../volume/volume.ts';
import { type ModelBundle } from './bundle.ts';
import { keepLargestComponentPerLabel } from './connectedComponents.ts';
import { runModelSet } from './modelSet.ts';
import { labelsFromSlices } from './logitsToLabels.ts';
import { channelNormalizations, expectedOutputChannels, labelEntries, type OnnxManifest } from './manifest.ts';
import { planNetworkGrid, type NetworkGrid } from './networkGrid.ts';
import { applyNormalization, replaceNonFinite, resolveNormalization } from './normalize.ts';
import { createOnnxPredictor, type OnnxSessionSettings } from './onnxEngine.ts';
import { chooseProvider, detectProviderEnvironment, providerRequest, type ProviderDetector, type ProviderRequest } from './providers.ts';
import { resampleLinear } from './resample.ts';
import { runHuAnatomy } from './rules/huAnatomy.ts';
import { slidingWindow } from './slidingWindow.ts';

export { listModelBundles, loadModelBundle, type ModelBundle } from './bundle.ts';

export interface SegmentOptions {
  /** Execution provider: `auto` (default; `HOLOCASE_PROVIDER` when unset), `cpu`, `cuda`, `tensorrt`. */
  provider?: ProviderRequest | string;
  /** How the machine's providers are found (tests inject one). Default: `detectProviderEnvironment`. */
  detectProviders?: ProviderDetector;
  /** Overrides the manifest's sliding-window overlap. */
  overlap?: number;
  /** Overrides the manifest's batch size (the network must accept it). */
  batchSize?: number;
  /** Overrides the manifest's way back to the CT grid. */
  resampleBack?: 'linear-logits' | 'nearest-labels';
  /** CPU threads per ONNX operator (`session.intraOpThreads`). Default: `HOLOCASE_ORT_THREADS`, else the engine's. */
  threads?: number;
  /** ONNX Runtime session settings over the engine's defaults (`ONNX_SESSION_DEFAULTS`). */
  session?: Partial<OnnxSessionSettings>;
}

export interface SegmentResult {
  /** Label map on the CT's grid (same dims and affine). */
  labels: Volume<Uint8Array | Uint16Array>;
  /** Labels present in the map, with their structure names. */
  structures: { label: number; name: string }[];
  /** Execution provider that ran (`rules` for the rules model). */
  provider: string;
  /** What a person should know about this run (contrast, replaced voxels, assumptions). */
  notes: string[];
  /** Milliseconds per stage: reorientMs, resampleMs, normalizeMs, inferenceMs, blendingMs, resampleBackMs, cleanupMs, totalMs. */
  timings: Record<string, number>;
}

/**
 * Refuses (`MODALITY_MISMATCH`, not retryable) a scan whose recorded modality is not the one the model
 * was made for — an MR series given to a CT model. Called by ingest's admission, before any pixel is read.
 */
export function checkScanModality(modality: string | undefined, model: Pick<ModelBundle, 'id' | 'manifest'>): void {
  const wanted = model.manifest.modality.toUpperCase();
  const actual = modality?.toUpperCase();
  if (actual && actual !== wanted) {
    throw new HolocaseError(
      'MODALITY_MISMATCH',
      `this scan is ${actual} (modality in its header) but model "${model.id}" segments ${wanted} scans; choose a model made for ${actual}`,
      { retryable: false },
    );
  }
}

/** Refuses a scan of another modality; notes when the modality is unknown. */
function checkModality(volume: Volume, bundle: ModelBundle, notes: string[]): void {
  checkScanModality(volume.meta.modality, bundle);
  if (!volume.meta.modality) notes.push(`modality not recorded in the file (NIfTI); assumed ${bundle.manifest.modality.toUpperCase()}`);
}

function presentStructures(labels: Uint8Array | Uint16Array, table: { label: number; name: string }[]): { label: number; name: string }[] {
  const seen = new Uint8Array(65536);
  for (let p = 0; p < labels.length; p++) seen[labels[p]] = 1;
  return table.filter((e) => seen[e.label]);
}

/** Segments a CT with a model bundle. */
export async function segment(volume: Volume, model: ModelBundle, options: SegmentOptions & StageContext = {}): Promise<SegmentResult> {
  const started = performance.now();
  const notes: string[] = [];
  const timings: Record<string, number> = {};
  const request = providerRequest(options.provider);
  checkModality(volume, model, notes);
  // NaN/Inf: replaced before anything is interpolated.
  const finite = replaceNonFinite(volume.data);
  if (finite.replaced > 0) {
    notes.push(`${finite.replaced} voxel(s) were NaN or infinite; NaN/−Inf became ${finite.low}, +Inf became ${finite.high}`);
  }
  const ct: Volume = finite.replaced > 0 ? { ...volume, data: finite.data } : volume;
  const table = labelEntries(model.manifest);
  let labels: Uint8Array | Uint16Array;
  let provider: string;
  if (model.manifest.engine === 'rules') {
    options.log?.('execution provider: rules (built-in HU rules, no network)');
    const result = await runHuAnatomy(ct, model.manifest, options);
    labels = result.labels;
    notes.push(...result.notes);
    Object.assign(timings, result.timings);
    provider = 'rules';
  } else if (model.manifest.engine === 'set') {
    if (!model.members) throw new HolocaseError('MODEL_INVALID', `model set "${model.id}" was listed, not loaded; load it with loadModelBundle`);
    const maxLabel = Math.max(...table.map((e) => e.label));
    const result = await runModelSet(ct, model.members, maxLabel, (volume, member, context) => segment(volume, member, { ...options, ...context }), options);
    labels = result.labels;
    provider = result.provider;
    // A member's note that repeats one of the set's (the modality assumption) is said once.
    notes.push(...result.notes.filter((note) => !notes.some((said) => note.endsWith(`: ${said}`))));
    Object.assign(timings, result.timings);
  } else {
    const result = await runOnnx(ct, model, { ...options, provider: request }, notes, timings);
    labels = result.labels;
    provider = result.provider;
    // Optional largest-component cleanup, as the manifest lists it.
    const wanted = model.manifest.output.largestComponent;
    const values = wanted === 'all' ? table.map((e) => e.label) : table.filter((e) => wanted.includes(e.name)).map((e) => e.label);
    if (values.length > 0) {
      const t = performance.now();
      const removed = keepLargestComponentPerLabel(labels, volume.dims, { labels: values });
      timings.cleanupMs = performance.now() - t;
      const total = [...removed.values()].reduce((a, b) => a + b, 0);
      if (total > 0) notes.push(`largest-component cleanup removed ${total} voxel(s) of ${removed.size} structure(s)`);
    }
  }
  timings.totalMs = performance.now() - started;
  for (const key of Object.keys(timings)) timings[key] = Math.round(timings[key] * 10) / 10;
  options.onProgress?.({ stage: 'segment', fraction: 1, message: 'segmentation done' });
  return {
    labels: { dims: [...volume.dims] as Vec3, affine: [...volume.affine], data: labels, meta: { source: volume.meta.source } },
    structures: presentStructures(labels, table),
    provider,
    notes,
    timings,
  };
}

/** The CT reoriented to the network's axes (its dims) and resampled, channel 0 filled, onto the network grid. */
function toNetworkGrid(ct: Volume, manifest: OnnxManifest, timings: Record<string, number>): { sourceDims: Vec3; grid: NetworkGrid; input: Float32Array } {
  let t = performance.now();
  const source = reorient(ct, manifest.input.orientation);
  timings.reorientMs = performance.now() - t;
  t = performance.now();
  const grid = planNetworkGrid(source, manifest);
  const voxels = grid.dims[0] * grid.dims[1] * grid.dims[2];
  const input = new Float32Array(voxels * manifest.input.channels);
  resampleLinear(source.data, source.dims, grid.dims, input.subarray(0, voxels));
  timings.resampleMs = performance.now() - t;
  return { sourceDims: [...source.dims] as Vec3, grid, input };
}

/** What `cpu` needs to know about the machine: nothing. */
const CPU_ONLY = { platform: process.platform, backends: [], providerLibraries: [], runtimeLibraries: [], gpu: false };

/** Steps 2–7 for an ONNX bundle; returns labels in the CT's voxel order. */
async function runOnnx(ct: Volume, bundle: ModelBundle, options: SegmentOptions & StageContext, notes: string[], timings: Record<string, number>): Promise<{ labels: Uint8Array | Uint16Array; provider: string }> {
  const manifest = bundle.manifest as OnnxManifest;
  const progress = (fraction: number, message: string) => options.onProgress?.({ stage: 'segment', fraction, message });
  // 1. Provider first: a missing GPU is reported before minutes of preprocessing.
  const request = providerRequest(options.provider);
  const choice = request === 'cpu' ? chooseProvider('cpu', CPU_ONLY) : chooseProvider(request, (options.detectProviders ?? detectProviderEnvironment)());
  // 2–3. Reorient to the network's axes and resample to the network grid (the reoriented copy of the
  // CT is dropped as soon as the network-grid input exists).
  progress(0.02, 'resampling to the network spacing');
  const ctOrientation = orientationCodes(ct.affine);
  const networkOrientation = manifest.input.orientation;
  const { sourceDims, grid, input } = toNetworkGrid(ct, manifest, timings);
  const channels = manifest.input.channels;
  const voxels = grid.dims[0] * grid.dims[1] * grid.dims[2];
  notes.push(
    `network grid ${grid.dims.join('×')} at ${grid.spacing.map((s) => s.toFixed(2)).join('×')} mm (${networkOrientation}; tensor D,H,W = voxel axes ${manifest.input.tensorAxes.join(',')})`,
  );
  // 4. Normalise each channel (channel 0 last: the others are computed from its raw values).
  let t = performance.now();
  const raw = input.subarray(0, voxels);
  const norms = channelNormalizations(manifest);
  for (let c = channels - 1; c >= 0; c--) {
    const resolved = resolveNormalization(norms[c], raw);
    applyNormalization(raw, resolved, input.subarray(c * voxels, (c + 1) * voxels));
    notes.push(`input channel ${c}: ${resolved.description}`);
  }
  timings.normalizeMs = performance.now() - t;
  // 5. Network on patches, blended, streamed into the label decision.
  const outputChannels = expectedOutputChannels(manifest);
  const predictor = await createOnnxPredictor(bundle, {
    choice,
    automatic: request === 'auto',
    patch: grid.patch,
    tensorToVoxel: grid.tensorToVoxel,
    inputChannels: channels,
    outputChannels,
    session: { ...options.session, ...(options.threads ? { intraOpThreads: options.threads } : {}) },
    log: options.log,
  });
  options.log?.(`execution provider: ${predictor.provider} (${choice.reason})`);
  const table = labelEntries(manifest);
  const method = options.resampleBack ?? manifest.output.resampleBack;
  const back = labelsFromSlices({
    decision: { activation: manifest.output.activation, threshold: manifest.output.threshold, channels: outputChannels },
    method,
    networkDims: grid.dims,
    targetDims: sourceDims,
    maxLabel: Math.max(...table.map((e) => e.label)),
  });
  const inference = manifest.inference;
  const sliding = inference.mode === 'sliding-window';
  // Whole-volume inference is one window covering the (padded) volume.
  const windows =
    sliding
      ? { overlap: options.overlap ?? inference.overlap, batchSize: options.batchSize ?? inference.batchSize, blend: inference.blend, sigmaScale: inference.sigmaScale }
      : { overlap: 0, batchSize: 1, blend: 'constant' as const };
  let stats;
  try {
    stats = await slidingWindow(input, grid.dims, predictor.predict, back.accept, {
      patch: grid.patch,
      ...windows,
      padValue: manifest.input.padValue,
      inputChannels: channels,
      outputChannels,
      signal: options.signal,
      onPatch: (done, total) => progress(0.05 + 0.9 * (done / total), `patch ${done} of ${total}`),
    });
  } finally {
    await predictor.close();
  }
  timings.inferenceMs = stats.inferenceMs;
  timings.blendingMs = stats.blendingMs;
  t = performance.now();
  const sourceLabels = back.finish();
  timings.resampleBackMs = stats.sinkMs + (performance.now() - t);
  notes.push(
    `${sliding ? `sliding window: ${stats.patches} patch(es) of ${grid.patch.join('×')}` : `whole volume ${grid.patch.join('×')}`}` +
      `${stats.padBefore.some((p, a) => p > 0 || grid.patch[a] > grid.dims[a]) ? ' (padded: the scan is smaller than the patch)' : ''}; back to the CT grid by ${method}; ` +
      `at most ${stats.peakSlices} of ${grid.dims[2]} network slices of outputs held (${(stats.peakBytes / 2 ** 20).toFixed(1)} MB)`,
  );
  // 6. Back to the CT's own voxel order.
  t = performance.now();
  const labels = ctOrientation === networkOrientation ? sourceLabels : mapVoxels(sourceLabels, sourceDims, axisMapping(networkOrientation, ctOrientation));
  timings.reorientMs += performance.now() - t;
  return { labels, provider: predictor.provider };
}
