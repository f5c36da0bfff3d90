/**
 * From blended network outputs to a label map on the CT's grid (reoriented to the network's axes):
 * per-voxel decision (argmax, or the most probable sigmoid class above the threshold) and the way back
 * from the network's spacing, fed one finished network slice at a time by `slidingWindow`.
 *
 * - `nearest-labels`: decide on the network grid, then copy labels by nearest neighbour
 *   (TotalSegmentator's way). Holds only the network-grid labels.
 * - `linear-logits`: interpolate the outputs trilinearly at each CT voxel and decide there (nnU-Net's
 *   `resampling_fn_probabilities` then argmax). Exact shortcut: where the 8 network voxels around a CT
 *   voxel all decided the same label, any convex combination of their outputs decides it too (the
 *   argmax and threshold conditions are linear inequalities), so only boundary voxels are interpolated.
 *   Holds two network slices of outputs; the CT-grid result is written slice by slice.
 *
 * Neither path ever holds a full-resolution float volume.
 */
import type { Vec3 } from '../../mesh/grid.ts';
import { linearAxis, resampleNearest } from './resample.ts';

export type Activation = 'softmax' | 'sigmoid' | 'none';

export interface LabelDecision {
  activation: Activation;
  /** Probability threshold for sigmoid outputs. */
  threshold: number;
  channels: number;
}

export interface LabelsFromSlicesOptions {
  decision: LabelDecision;
  method: 'linear-logits' | 'nearest-labels';
  /** Network grid (where slices come from). */
  networkDims: Vec3;
  /** Target grid (the CT reoriented to the network's axes). */
  targetDims: Vec3;
  /** Largest label value (decides Uint8 or Uint16). */
  maxLabel: number;
}

export interface LabelsFromSlices {
  /** Takes the final network slice `k` (`[channel][j][i]`); slices must come in increasing k. */
  accept: (k: number, slice: Float32Array) => void;
  /** The label map on the target grid. */
  finish: () => Uint8Array | Uint16Array;
  /** Target voxels that needed full interpolation (linear-logits). */
  interpolatedVoxels: () => number;
}

/** Decides one voxel: `values[c·stride + p]` for each channel c. */
export function decideVoxel(values: Float32Array, stride: number, p: number, decision: LabelDecision, logitThreshold: number): number {
  const { channels } = decision;
  if (decision.activation === 'sigmoid') {
    let best = 0;
    let bestValue = logitThreshold;
    for (let c = 0; c < channels; c++) {
      const v = values[c * stride + p];
      if (v > bestValue) {
        bestValue = v;
        best = c + 1;
      }
    }
    return best;
  }
  let best = 0;
  let bestValue = values[p];
  for (let c = 1; c < channels; c++) {
    const v = values[c * stride + p];
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best;
}

/** Sigmoid probability threshold as a logit (sigmoid(x) > t ⇔ x > ln(t / (1 − t))). */
export function logitOf(threshold: number): number {
  return Math.log(threshold / (1 - threshold));
}

export function labelsFromSlices(options: LabelsFromSlicesOptions): LabelsFromSlices {
  const { decision, networkDims, targetDims } = options;
  const [nx, ny, nz] = networkDims;
  const [tx, ty, tz] = targetDims;
  const nPlane = nx * ny;
  const tPlane = tx * ty;
  const LabelArray = options.maxLabel > 255 ? Uint16Array : Uint8Array;
  const logitThreshold = decision.activation === 'sigmoid' ? logitOf(decision.threshold) : 0;
  const networkLabels = new LabelArray(nPlane * nz);
  let expected = 0;

  const decideSlice = (k: number, slice: Float32Array) => {
    const base = k * nPlane;
    for (let p = 0; p < nPlane; p++) networkLabels[base + p] = decideVoxel(slice, nPlane, p, decision, logitThreshold);
  };

  if (options.method === 'nearest-labels') {
    return {
      accept: (k, slice) => {
        if (k !== expected++) throw new Error(`network slice ${k} arrived out of order`);
        decideSlice(k, slice);
      },
      finish: () => resampleNearest(networkLabels, networkDims, targetDims),
      interpolatedVoxels: () => 0,
    };
  }

  // linear-logits
  const target = new LabelArray(tPlane * tz);
  const ax = linearAxis(nx, tx);
  const ay = linearAxis(ny, ty);
  const az = linearAxis(nz, tz);
  const kept = new Map<number, Float32Array>();
  const mixed = new Float32Array(decision.channels);
  let nextTarget = 0;
  let interpolated = 0;

  const processTargetSlice = (kt: number) => {
    const z0 = az.lower[kt];
    const z1 = az.upper[kt];
    const wz = az.weight[kt];
    const s0 = kept.get(z0)!;
    const s1 = kept.get(z1)!;
    const l0 = z0 * nPlane;
    const l1 = z1 * nPlane;
    let o = kt * tPlane;
    for (let jt = 0; jt < ty; jt++) {
      const y0 = ay.lower[jt] * nx;
      const y1 = ay.upper[jt] * nx;
      const wy = ay.weight[jt];
      for (let it = 0; it < tx; it++, o++) {
        const x0 = ax.lower[it];
        const x1 = ax.upper[it];
        const p00 = y0 + x0;
        const p01 = y0 + x1;
        const p10 = y1 + x0;
        const p11 = y1 + x1;
        const first = networkLabels[l0 + p00];
        if (
          networkLabels[l0 + p01] === first &&
          networkLabels[l0 + p10] === first &&
          networkLabels[l0 + p11] === first &&
          networkLabels[l1 + p00] === first &&
          networkLabels[l1 + p01] === first &&
          networkLabels[l1 + p10] === first &&
          networkLabels[l1 + p11] === first
        ) {
          target[o] = first;
          continue;
        }
        interpolated++;
        const wx = ax.weight[it];
        for (let c = 0; c < decision.channels; c++) {
          const b = c * nPlane;
          const a0 = s0[b + p00] + (s0[b + p01] - s0[b + p00]) * wx;
          const a1 = s0[b + p10] + (s0[b + p11] - s0[b + p10]) * wx;
          const c0 = s1[b + p00] + (s1[b + p01] - s1[b + p00]) * wx;
          const c1 = s1[b + p10] + (s1[b + p11] - s1[b + p10]) * wx;
          const a = a0 + (a1 - a0) * wy;
          const cc = c0 + (c1 - c0) * wy;
          mixed[c] = a + (cc - a) * wz;
        }
        target[o] = decideVoxel(mixed, 1, 0, decision, logitThreshold);
      }
    }
  };

  return {
    accept: (k, slice) => {
      if (k !== expected++) throw new Error(`network slice ${k} arrived out of order`);
      decideSlice(k, slice);
      kept.set(k, slice);
      kept.delete(k - 2);
      // Every target slice whose upper network neighbour is k can be finished now.
      while (nextTarget < tz && az.upper[nextTarget] <= k) processTargetSlice(nextTarget++);
    },
    finish: () => {
      if (nextTarget < tz) throw new Error(`only ${expected} of ${nz} network slices arrived`);
      kept.clear();
      return target;
    },
    interpolatedVoxels: () => interpolated,
  };
}
