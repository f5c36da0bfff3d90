/**
 * How much memory one case will take, planned from the CT's header before a voxel is read: per stage,
 * the arrays it holds at its peak, in bytes per CT voxel, plus what the process itself needs. A case
 * whose plan is over the job's memory (`HOLOCASE_JOB_MEMORY`) is refused with a message (not retryable:
 * the same CT needs the same memory next time); one that fits may wait for that much memory to be
 * free instead of pushing the machine into swap (`waitForMemory`).
 *
 * The figures were measured on the 0.8 mm phantom (475×350×520 = 86 M voxels, the rules model; peak
 * resident memory sampled per stage): ingest about 6 bytes per voxel above the process (the Int16 CT,
 * then writing it), the rules model 19, meshing 25 (the CT and labels still held, the workers' masks
 * and surfaces, and what the earlier stages left for the garbage collector); the whole run peaked at
 * 2.4 GB. `test/bench/hardening.ts` prints the plan beside a measured run.
 */
import { HolocaseError } from '../errors.ts';
import { availableMemoryBytes } from '../machineMemory.ts';
import type { ModelManifest } from '../segment/manifest.ts';
import { formatMemory, voxelCount, type VolumeShape } from '../volume/volumeLimits.ts';

export type PlannedStage = 'ingest' | 'segment' | 'mesh';

export interface MemoryPlan {
  /** Peak bytes of each stage, the process's own included. */
  stages: Record<PlannedStage, number>;
  peakBytes: number;
  peakStage: PlannedStage;
}

/** Bytes per CT voxel and fixed costs, as measured (see the file comment). */
export const MEMORY_COSTS = {
  /** Node, the modules, the decoder and mesh worker threads. */
  processBytes: 300 * 1024 ** 2,
  /** Ingest besides the source copy and the Int16 CT: writing `ct.nii.gz` (a copy and its gzip). */
  ingestPerVoxel: 3.5,
  /** The rules model's masks, distance maps and components, the CT and the labels included. */
  rulesPerVoxel: 20,
  /** Meshing: the CT and labels still held, each worker's masks and surfaces, earlier stages' garbage. */
  meshPerVoxel: 25,
  /** ONNX Runtime's own working memory besides the tensors we hand it, per patch voxel (activations). */
  onnxPerPatchVoxel: 256,
} as const;

/** Network-grid voxels for a CT of `shape` (the manifest's spacing or fixed size). */
function networkVoxels(shape: VolumeShape, manifest: Extract<ModelManifest, { engine: 'onnx' }>): number {
  if (manifest.input.size) return manifest.input.size[0] * manifest.input.size[1] * manifest.input.size[2];
  const target = manifest.input.spacing!;
  const ctMm3 = shape.spacingMm[0] * shape.spacingMm[1] * shape.spacingMm[2];
  return Math.ceil((voxelCount(shape.dims) * ctMm3) / (target[0] * target[1] * target[2]));
}

/**
 * 1. Ingest: the source's decoded copy, the Int16 CT (when the source is not Int16), writing it.
 * 2. Segment: the rules model's measured working set, or for a network the CT, a reoriented copy, the
 *    network-grid input and labels, the blending slab and ONNX Runtime's activations.
 * 3. Mesh: the CT, the labels and the workers' masks.
 *
 * A model set runs its members one at a time: its segment stage is its largest member's, plus the set's
 * own label map on the CT grid beside the member's.
 */
export function planCaseMemory(shape: VolumeShape, manifest: ModelManifest, members: ModelManifest[] = []): MemoryPlan {
  const v = voxelCount(shape.dims);
  const c = MEMORY_COSTS;
  const ct = 2 * v;
  const labelBytes = Object.keys(manifest.engine === 'rules' ? { 1: 1 } : manifest.output.labels).length > 255 ? 2 : 1;
  if (manifest.engine === 'set') {
    const plans = members.map((member) => planCaseMemory(shape, member));
    const segment = Math.max(c.processBytes, ...plans.map((p) => p.stages.segment)) + labelBytes * v;
    const ingest = Math.max(c.processBytes, ...plans.map((p) => p.stages.ingest));
    const mesh = Math.max(c.processBytes, ...plans.map((p) => p.stages.mesh)) + (labelBytes - 1) * v;
    return peakOf({ ingest, segment, mesh });
  }
  const ingest = c.processBytes + v * shape.bytesPerVoxel + (shape.bytesPerVoxel === 2 ? 0 : ct) + c.ingestPerVoxel * v;
  let segment: number;
  if (manifest.engine === 'rules') {
    segment = c.processBytes + c.rulesPerVoxel * v;
  } else {
    const vn = networkVoxels(shape, manifest);
    const outputs = Object.keys(manifest.output.labels).length + (manifest.output.activation === 'sigmoid' ? 0 : 1);
    const patch = manifest.inference.mode === 'sliding-window' ? manifest.inference.patchSize : manifest.input.size ?? [1, 1, 1];
    const patchVoxels = patch[0] * patch[1] * patch[2] * (manifest.inference.mode === 'sliding-window' ? manifest.inference.batchSize : 1);
    const wholeVolume = manifest.inference.mode === 'whole';
    // Sliding window: a slab of (patch depth + one step) network slices per output channel; whole volume: all of it.
    const slabFraction = wholeVolume ? 1 : Math.min(1, (1.5 * patch[0]) / Math.max(1, Math.cbrt(vn)));
    segment =
      c.processBytes +
      ct * 2 + // the CT and a reoriented copy
      4 * manifest.input.channels * vn + // the normalised network input
      4 * outputs * vn * slabFraction + // blended scores
      labelBytes * (vn + v) + // labels on the network grid and on the CT grid
      c.onnxPerPatchVoxel * patchVoxels;
  }
  const mesh = c.processBytes + c.meshPerVoxel * v + (labelBytes - 1) * v;
  return peakOf({ ingest, segment, mesh });
}

function peakOf(stages: Record<PlannedStage, number>): MemoryPlan {
  const peakStage = (Object.keys(stages) as PlannedStage[]).reduce((a, b) => (stages[b] > stages[a] ? b : a));
  return { stages, peakBytes: stages[peakStage], peakStage };
}

/** Refuses (`VOLUME_TOO_LARGE`, not retryable) a case whose plan is over the job's memory. */
export function checkMemoryPlan(plan: MemoryPlan, shape: VolumeShape, budgetBytes: number): void {
  if (plan.peakBytes <= budgetBytes) return;
  throw new HolocaseError(
    'VOLUME_TOO_LARGE',
    `this CT (${shape.dims.join('×')} voxels) needs about ${formatMemory(plan.peakBytes)} of memory to process (${plan.peakStage} stage), ` +
      `more than this server gives one job (${formatMemory(budgetBytes)}, HOLOCASE_JOB_MEMORY); nothing was read`,
    { retryable: false },
  );
}

export interface WaitForMemoryOptions {
  /** Longest wait in milliseconds (then `MEMORY_BUSY`, retryable). */
  timeoutMs: number;
  /** Time between looks (default 2 s). */
  pollMs?: number;
  /** Told what the job waits for, once per look. */
  onWait?: (message: string) => void;
  signal?: AbortSignal;
  /** Free memory now (default: `availableMemoryBytes`). */
  available?: () => number;
}

/**
 * Waits until `bytes` (the plan's peak, less what this process already holds) are free, so a job
 * queues behind whatever else the machine runs instead of swapping; fails retryable after `timeoutMs`.
 */
export async function waitForMemory(bytes: number, options: WaitForMemoryOptions): Promise<void> {
  const available = options.available ?? availableMemoryBytes;
  const deadline = Date.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 2000;
  for (;;) {
    const free = available();
    if (free >= bytes) return;
    if (Date.now() + pollMs > deadline) {
      throw new HolocaseError(
        'MEMORY_BUSY',
        `the server did not have ${formatMemory(bytes)} of memory free for this CT (only ${formatMemory(free)}) within ${Math.round(options.timeoutMs / 60_000)} minutes; run it again later`,
        { retryable: true },
      );
    }
    options.onWait?.(`waiting for ${formatMemory(bytes)} of memory to be free (${formatMemory(free)} now)`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('cancelled');
  }
}
