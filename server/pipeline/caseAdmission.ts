/**
 * Whether a case may be read at all, decided by ingest's `admit` hook once the CT's headers are read
 * and before its voxels are: the scan's modality must be the model's (an MR series is not segmented by
 * a CT model), and its planned memory must fit the job's (see `memoryPlan`). A CT that fits may wait
 * for that memory to be free.
 */
import { defaultJobMemory } from '../machineMemory.ts';
import { checkScanModality, type ModelBundle } from '../segment/segment.ts';
import type { AdmitVolume } from '../volume/volumeLimits.ts';
import { formatMemory } from '../volume/volumeLimits.ts';
import { checkMemoryPlan, planCaseMemory, waitForMemory } from './memoryPlan.ts';
import type { StageContext } from './context.ts';

export interface CaseAdmissionOptions extends StageContext {
  /** Memory one case may use in bytes (default three quarters of the machine's; `HOLOCASE_JOB_MEMORY`). */
  memoryBudgetBytes?: number;
  /** Wait up to this long for the planned memory to be free (default 0: do not wait). */
  waitForMemoryMs?: number;
  /** The scan's modality when the input no longer records it (a CT that ingest wrote as NIfTI). */
  modality?: string;
}

/**
 * 1. Refuse another modality (`MODALITY_MISMATCH`).
 * 2. Plan the memory from the shape; refuse a plan over the budget (`VOLUME_TOO_LARGE`).
 * 3. When asked to, wait until the machine has that much free (less what this process holds already).
 */
export function caseAdmission(model: Pick<ModelBundle, 'id' | 'manifest' | 'members'>, options: CaseAdmissionOptions = {}): AdmitVolume {
  return async (shape) => {
    checkScanModality(shape.modality ?? options.modality, model);
    const plan = planCaseMemory(shape, model.manifest, model.members?.map((m) => m.bundle.manifest));
    const budget = options.memoryBudgetBytes ?? defaultJobMemory();
    options.log?.(`memory plan for ${shape.dims.join('×')} voxels: peak ${formatMemory(plan.peakBytes)} (${plan.peakStage}), budget ${formatMemory(budget)}`);
    checkMemoryPlan(plan, shape, budget);
    if (options.waitForMemoryMs) {
      const needed = plan.peakBytes - process.memoryUsage.rss();
      await waitForMemory(needed, {
        timeoutMs: options.waitForMemoryMs,
        signal: options.signal,
        onWait: (message) => options.onProgress?.({ stage: 'ingest', fraction: 0, message }),
      });
    }
  };
}
