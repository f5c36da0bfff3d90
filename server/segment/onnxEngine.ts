/**
 * Runs an ONNX network on patches with onnxruntime-node: opens the session on the chosen execution
 * provider (falling back to the CPU when `auto` picked CUDA and the session cannot start there), and
 * maps patches between holocase's voxel-axis layout `[patch][channel][k][j][i]` and the network's
 * tensor layout `[N, C, D, H, W]` as the manifest's `tensorAxes` says.
 */
import { availableParallelism } from 'node:os';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { HolocaseError } from '../errors.ts';
import type { Vec3 } from '../../mesh/grid.ts';
import type { ModelBundle } from './bundle.ts';
import { selectInput, selectOutput } from './bundle.ts';
import type { OnnxManifest } from './manifest.ts';
import type { ProviderChoice, ProviderName } from './providers.ts';
import type { PatchPredictor } from './slidingWindow.ts';

export interface OnnxPredictorOptions {
  choice: ProviderChoice;
  /** Whether the choice came from `auto` (a failing GPU session then falls back to the CPU). */
  automatic: boolean;
  /** Patch size along voxel axes i, j, k. */
  patch: Vec3;
  /** For tensor dims D, H, W: the voxel axis feeding it. */
  tensorToVoxel: Vec3;
  inputChannels: number;
  outputChannels: number;
  /** ONNX Runtime settings over `ONNX_SESSION_DEFAULTS` (threads: also `HOLOCASE_ORT_THREADS`). */
  session?: Partial<OnnxSessionSettings>;
  log?: (message: string) => void;
}

export interface OnnxPredictor {
  predict: PatchPredictor;
  /** The provider the session actually runs on. */
  provider: ProviderName;
  close: () => Promise<void>;
}

/**
 * Copies between voxel order and tensor order. `toTensor`: voxel → tensor; otherwise tensor → voxel.
 * Returns the input itself when the orders coincide (`tensorAxes` = k, j, i).
 */
export function permutePatches(data: Float32Array, count: number, channels: number, patch: Vec3, tensorToVoxel: Vec3, toTensor: boolean): Float32Array {
  if (tensorToVoxel[0] === 2 && tensorToVoxel[1] === 1 && tensorToVoxel[2] === 0) return data;
  const [px, py] = patch;
  const voxelStride = [1, px, px * py];
  const [nd, nh, nw] = tensorToVoxel.map((a) => patch[a]);
  const sd = voxelStride[tensorToVoxel[0]];
  const sh = voxelStride[tensorToVoxel[1]];
  const sw = voxelStride[tensorToVoxel[2]];
  const block = nd * nh * nw;
  const out = new Float32Array(count * channels * block);
  for (let b = 0; b < count * channels; b++) {
    const base = b * block;
    let t = base;
    for (let d = 0; d < nd; d++) {
      for (let h = 0; h < nh; h++) {
        let v = base + d * sd + h * sh;
        if (toTensor) for (let w = 0; w < nw; w++, t++, v += sw) out[t] = data[v];
        else for (let w = 0; w < nw; w++, t++, v += sw) out[v] = data[t];
      }
    }
  }
  return out;
}

/**
 * How ONNX Runtime runs a network on the CPU (and the CPU part of a GPU session). The defaults are
 * the fastest measured for a TotalSegmentator-sized 3-D U-Net on 128³ patches
 * (`npm run bench -- inference`, every setting in its own process in the same run, quiet 2-core machine):
 * one operator thread per logical CPU without spin-waiting (ONNX Runtime's own choice, one per physical
 * core, ran a single thread there: 9.8 s per patch against 6.1 s), and the memory pattern off — planning
 * activation memory from the first run cost 0.5 GB more peak memory for no gain. Without the arena, peak
 * memory drops another 0.6 GB but a patch takes 2.6 times as long. `HOLOCASE_ORT_THREADS` or `--threads`
 * sets the thread count (on a server with hyper-threading, its physical core count may be faster).
 */
export interface OnnxSessionSettings {
  /** Threads one operator may use; 0: ONNX Runtime's choice (one per physical core). */
  intraOpThreads: number;
  /** Threads running independent operators at once (parallel execution only); 0: ONNX Runtime's choice. */
  interOpThreads: number;
  /** `sequential` runs one operator at a time (each one multi-threaded); `parallel` also runs independent branches at once. */
  executionMode: 'sequential' | 'parallel';
  /** Idle worker threads spin-wait for the next task: faster hand-over, but they burn CPU that a shared server needs. */
  spinning: boolean;
  /** ONNX Runtime's CPU memory arena (keeps freed activation buffers for reuse). */
  memoryArena: boolean;
  /** Plan activation memory from the first run's shapes and reuse it (same patch size every run). */
  memoryPattern: boolean;
  /** Graph rewrites before running (constant folding, fusing conv + norm + activation, layout changes). */
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
}

export const ONNX_SESSION_DEFAULTS: OnnxSessionSettings = {
  intraOpThreads: availableParallelism(),
  interOpThreads: 0,
  executionMode: 'sequential',
  spinning: false,
  memoryArena: true,
  memoryPattern: false,
  graphOptimization: 'all',
};

/** The thread count from `HOLOCASE_ORT_THREADS` (unset, blank or not a whole number ≥ 1: none). */
export function threadsFromEnvironment(value = process.env.HOLOCASE_ORT_THREADS): number | undefined {
  const n = Number(value);
  return value && value.trim() !== '' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** ONNX Runtime's session options for these settings. */
export function sessionOptions(settings: Partial<OnnxSessionSettings>, providers: ProviderName[]): InferenceSession.SessionOptions {
  const s = { ...ONNX_SESSION_DEFAULTS, ...settings };
  const spin = s.spinning ? '1' : '0';
  return {
    executionProviders: providers,
    graphOptimizationLevel: s.graphOptimization,
    executionMode: s.executionMode,
    enableCpuMemArena: s.memoryArena,
    enableMemPattern: s.memoryPattern,
    ...(s.intraOpThreads > 0 ? { intraOpNumThreads: s.intraOpThreads } : {}),
    ...(s.interOpThreads > 0 ? { interOpNumThreads: s.interOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  };
}

async function openSession(weightsPath: string, providers: ProviderName[], settings: Partial<OnnxSessionSettings>): Promise<InferenceSession> {
  const ort = await import('onnxruntime-node');
  return ort.InferenceSession.create(weightsPath, sessionOptions(settings, providers));
}

/** Opens the bundle's network and returns a patch predictor for `slidingWindow`. */
export async function createOnnxPredictor(bundle: ModelBundle, options: OnnxPredictorOptions): Promise<OnnxPredictor> {
  const manifest = bundle.manifest as OnnxManifest;
  const source = `models/${bundle.id}/${manifest.weights}`;
  // 1. Session on the chosen provider; `auto` falls back to the CPU if the GPU session fails to start.
  const environmentThreads = threadsFromEnvironment();
  const settings = { ...(environmentThreads ? { intraOpThreads: environmentThreads } : {}), ...options.session };
  let provider = options.choice.provider;
  let session: InferenceSession;
  try {
    session = await openSession(bundle.weightsPath!, options.choice.executionProviders, settings);
  } catch (error) {
    const message = (error as Error).message;
    if (provider === 'cpu') throw new HolocaseError('MODEL_INVALID', `${source} could not be loaded by ONNX Runtime: ${message}`);
    if (!options.automatic) {
      throw new HolocaseError('PROVIDER_UNAVAILABLE', `the ${provider} execution provider failed to start: ${message}. Check the CUDA/cuDNN installation or use --provider cpu`);
    }
    options.log?.(`execution provider ${provider} failed to start (${message}); falling back to cpu`);
    provider = 'cpu';
    session = await openSession(bundle.weightsPath!, ['cpu'], settings);
  }
  const signature = bundle.signature ?? { inputs: [], outputs: [] };
  const inputName = manifest.input.name ?? (signature.inputs.length ? selectInput(manifest, signature, source).name : session.inputNames[0]);
  const outputName = manifest.output.name ?? (signature.outputs.length ? selectOutput(manifest, signature, source).name : session.outputNames[0]);
  const ort = await import('onnxruntime-node');
  const tensorPatch = options.tensorToVoxel.map((a) => options.patch[a]);

  // 2. Predictor: voxel order → tensor order → run → check the shape → voxel order.
  // A network exported with a fixed batch gets full batches: the last one is padded and trimmed.
  const declaredBatch = signature.inputs.find((i) => i.name === inputName)?.shape[0];
  const fixedBatch = typeof declaredBatch === 'number' ? declaredBatch : undefined;
  const patchValues = options.patch[0] * options.patch[1] * options.patch[2];
  const predict: PatchPredictor = async (patches, count) => {
    let data = permutePatches(patches, count, options.inputChannels, options.patch, options.tensorToVoxel, true);
    const runCount = fixedBatch && count < fixedBatch ? fixedBatch : count;
    if (runCount !== count) {
      const full = new Float32Array(runCount * options.inputChannels * patchValues);
      full.set(data.subarray(0, count * options.inputChannels * patchValues));
      data = full;
    }
    const feeds: Record<string, Tensor> = { [inputName]: new ort.Tensor('float32', data, [runCount, options.inputChannels, ...tensorPatch]) };
    const results = await session.run(feeds, [outputName]);
    const output = results[outputName] as Tensor;
    const want = [runCount, options.outputChannels, ...tensorPatch];
    if (output.dims.length !== 5 || output.dims.some((d, i) => d !== want[i])) {
      throw new HolocaseError(
        'MODEL_MISMATCH',
        `${source} returned an output of shape [${output.dims.join(', ')}] for an input of [${count}, ${options.inputChannels}, ${tensorPatch.join(', ')}]; the manifest expects [${want.join(', ')}] (output.labels and the network disagree, or the network does not keep the patch size)`,
      );
    }
    const values = (output.data as Float32Array).subarray(0, count * options.outputChannels * patchValues);
    const voxel = permutePatches(values, count, options.outputChannels, options.patch, options.tensorToVoxel, false);
    return voxel;
  };
  return { predict, provider, close: () => session.release() };
}
