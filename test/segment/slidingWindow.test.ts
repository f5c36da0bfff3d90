/**
 * Sliding-window inference: nnU-Net's patch positions and Gaussian importance map (reference values
 * computed with nnU-Net's own functions on NumPy/SciPy), blending against a brute-force sum over
 * patches, streaming order, padding, ONNX patches in every tensor axis order, and the way back to the
 * CT grid.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vec3 } from '../../mesh/grid.ts';
import { loadModelBundle } from '../../server/segment/bundle.ts';
import { labelsFromSlices, type LabelDecision } from '../../server/segment/logitsToLabels.ts';
import { createOnnxPredictor, permutePatches } from '../../server/segment/onnxEngine.ts';
import { gaussianImportanceMap, slidingWindow, slidingWindowSteps, type PatchPredictor } from '../../server/segment/slidingWindow.ts';
import { positionNetwork, testManifest, thresholdNetwork, writeBundle } from './onnxModels.ts';
import { seededRandom } from '../seededRandom.ts';

let modelsDir: string;
beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'holocase-sw-'));
});
afterAll(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

describe('nnU-Net patch positions and importance map', () => {
  it('slidingWindowSteps matches compute_steps_for_sliding_window', () => {
    // [image, tile, tile_step_size] → nnU-Net's steps (computed with its code); overlap = 1 − step size.
    const cases: [number, number, number, number[]][] = [
      [20, 8, 0.5, [0, 4, 8, 12]],
      [100, 64, 0.5, [0, 18, 36]],
      [123, 50, 0.75, [0, 36, 73]],
      [37, 16, 1.0, [0, 10, 21]],
      [64, 64, 0.5, [0]],
      [65, 64, 0.5, [0, 1]],
      [300, 128, 0.5, [0, 57, 115, 172]],
      [50, 20, 0.25, [0, 5, 10, 15, 20, 25, 30]],
    ];
    for (const [image, tile, stepSize, expected] of cases) expect(slidingWindowSteps(image, tile, 1 - stepSize)).toEqual(expected);
  });

  it('gaussianImportanceMap matches compute_gaussian (scipy gaussian_filter of an impulse, sigma 1/8)', () => {
    // compute_gaussian((5, 6, 7)) in tensor order (D, H, W); holocase's patch is voxel order (i = W, j = H, k = D).
    const map = gaussianImportanceMap([7, 6, 5]);
    const at = (d: number, h: number, w: number) => map[w + h * 7 + d * 42];
    const reference: [number, number, number, number][] = [
      [0, 0, 0, 5.616534386782571e-9],
      [2, 3, 3, 1.0],
      [4, 5, 6, 4.782622685431195e-7],
      [1, 2, 5, 0.008386485088660202],
      [3, 0, 2, 4.854296749506944e-5],
    ];
    for (const [d, h, w, value] of reference) expect(Math.abs(at(d, h, w) - value) / value).toBeLessThan(1e-5);
    const big = gaussianImportanceMap([16, 16, 16]);
    expect(Math.abs(big[0] - 3.775134544279097e-11) / 3.775134544279097e-11).toBeLessThan(1e-4);
    expect(Math.abs(big[8 + 8 * 16] - 0.00033546262790251185) / 0.00033546262790251185).toBeLessThan(1e-5);
    const small = gaussianImportanceMap([3, 3, 3]);
    expect(Math.abs(small[0] - 2.330910114293701e-5) / 2.330910114293701e-5).toBeLessThan(1e-5);
    expect(Math.abs(small[1 + 3] - 0.028565500784550377) / 0.028565500784550377).toBeLessThan(1e-5);
  });
});

/** A predictor whose output depends on the patch content and on the position inside the patch. */
function positionalPredictor(patch: Vec3, channels: number): PatchPredictor {
  const [px, py, pz] = patch;
  const n = px * py * pz;
  return async (patches, count) => {
    const out = new Float32Array(count * channels * n);
    for (let b = 0; b < count; b++) {
      for (let c = 0; c < channels; c++) {
        for (let k = 0; k < pz; k++) {
          for (let j = 0; j < py; j++) {
            for (let i = 0; i < px; i++) {
              const v = k * px * py + j * px + i;
              out[(b * channels + c) * n + v] = patches[b * n + v] * (c + 1) + (c === 0 ? i : c === 1 ? 2 * j - k : k * k);
            }
          }
        }
      }
    }
    return out;
  };
}

describe('blending', () => {
  const cases: { dims: Vec3; patch: Vec3; overlap: number; blend: 'gaussian' | 'constant'; batch: number }[] = [
    { dims: [20, 13, 17], patch: [8, 6, 7], overlap: 0.5, blend: 'gaussian', batch: 3 },
    { dims: [20, 13, 17], patch: [8, 6, 7], overlap: 0.25, blend: 'gaussian', batch: 1 },
    { dims: [20, 13, 17], patch: [8, 6, 7], overlap: 0, blend: 'gaussian', batch: 4 },
    { dims: [9, 5, 11], patch: [12, 8, 4], overlap: 0.5, blend: 'gaussian', batch: 2 }, // padded along i and j
    { dims: [15, 15, 15], patch: [6, 6, 6], overlap: 0.5, blend: 'constant', batch: 5 },
  ];
  for (const c of cases) {
    it(`equals the brute-force weighted mean over patches: ${c.dims.join('×')} / ${c.patch.join('×')}, overlap ${c.overlap}, ${c.blend}`, async () => {
      const [nx, ny, nz] = c.dims;
      const input = Float32Array.from({ length: nx * ny * nz }, (_, p) => Math.sin(p * 0.37) * 5);
      const channels = 3;
      const received: number[] = [];
      const result = new Float32Array(channels * nx * ny * nz);
      const stats = await slidingWindow(
        input,
        c.dims,
        positionalPredictor(c.patch, channels),
        (k, slice) => {
          received.push(k);
          for (let ch = 0; ch < channels; ch++) result.set(slice.subarray(ch * nx * ny, (ch + 1) * nx * ny), ch * nx * ny * nz + k * nx * ny);
        },
        { patch: c.patch, overlap: c.overlap, blend: c.blend, batchSize: c.batch, outputChannels: channels, padValue: 0.25 },
      );
      expect(received).toEqual(Array.from({ length: nz }, (_, k) => k));
      // Brute force: every patch, every voxel it covers, weights from the map (or 1).
      const padded = c.dims.map((d, a) => Math.max(d, c.patch[a]));
      const before = padded.map((p, a) => Math.floor((p - c.dims[a]) / 2));
      const steps = padded.map((p, a) => slidingWindowSteps(p, c.patch[a], c.overlap));
      expect(stats.patches).toBe(steps[0].length * steps[1].length * steps[2].length);
      const weights = c.blend === 'gaussian' ? gaussianImportanceMap(c.patch) : undefined;
      const sum = new Float64Array(channels * nx * ny * nz);
      const wsum = new Float64Array(nx * ny * nz);
      const [px, py, pz] = c.patch;
      for (const sk of steps[2]) for (const sj of steps[1]) for (const si of steps[0]) {
        for (let k = 0; k < pz; k++) for (let j = 0; j < py; j++) for (let i = 0; i < px; i++) {
          const [x, y, z] = [si + i - before[0], sj + j - before[1], sk + k - before[2]];
          if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) continue;
          const w = weights ? weights[i + j * px + k * px * py] : 1;
          const v = x + y * nx + z * nx * ny;
          wsum[v] += w;
          for (let ch = 0; ch < channels; ch++) sum[ch * nx * ny * nz + v] += w * (input[v] * (ch + 1) + (ch === 0 ? i : ch === 1 ? 2 * j - k : k * k));
        }
      }
      let worst = 0;
      for (let ch = 0; ch < channels; ch++) for (let v = 0; v < nx * ny * nz; v++) worst = Math.max(worst, Math.abs(result[ch * nx * ny * nz + v] - sum[ch * nx * ny * nz + v] / wsum[v]));
      expect(worst).toBeLessThan(1e-3);
      // Streaming: never more than a patch depth plus a step of slices held.
      expect(stats.peakSlices).toBeLessThanOrEqual(Math.min(nz, pz + Math.ceil(pz * (1 - c.overlap)) + 1));
    });
  }
});

describe('ONNX patches through onnxruntime-node', () => {
  const TENSOR_AXES: Vec3[] = [[2, 1, 0], [0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2]];

  it('permutePatches round-trips for every tensor axis order', () => {
    const patch: Vec3 = [3, 4, 5];
    const data = Float32Array.from({ length: 2 * 2 * 60 }, (_, p) => p);
    for (const axes of TENSOR_AXES) {
      const tensor = permutePatches(data, 2, 2, patch, axes, true);
      expect(Array.from(permutePatches(tensor, 2, 2, patch, axes, false))).toEqual(Array.from(data));
      // Element (d, h, w) of the tensor is the voxel whose axis axes[0] = d, axes[1] = h, axes[2] = w.
      const dims = axes.map((a) => patch[a]);
      const [d, h, w] = [dims[0] - 1, 1, dims[2] - 2];
      const voxel = [0, 0, 0];
      voxel[axes[0]] = d;
      voxel[axes[1]] = h;
      voxel[axes[2]] = w;
      expect(tensor[(d * dims[1] + h) * dims[2] + w]).toBe(data[voxel[0] + voxel[1] * 3 + voxel[2] * 12]);
    }
  });

  it('a position-dependent network blends to the Gaussian-weighted mean of its ramp, in every tensor axis order', async () => {
    const dims: Vec3 = [19, 14, 16];
    const patchVoxel: Vec3 = [8, 6, 7];
    const input = new Float32Array(dims[0] * dims[1] * dims[2]);
    for (const axes of TENSOR_AXES) {
      for (const rampAxis of [0, 1, 2] as const) {
        const tensorPatch = axes.map((a) => patchVoxel[a]) as Vec3;
        await writeBundle(modelsDir, testManifest('ramp', { inference: { mode: 'sliding-window', patchSize: tensorPatch, overlap: 0.5 } }), positionNetwork({ patch: tensorPatch, axis: rampAxis }));
        const bundle = await loadModelBundle('ramp', { modelsDir });
        const predictor = await createOnnxPredictor(bundle, { choice: { provider: 'cpu', executionProviders: ['cpu'], reason: 'test' }, automatic: false, patch: patchVoxel, tensorToVoxel: axes, inputChannels: 1, outputChannels: 2 });
        const out = new Float32Array(2 * input.length);
        const plane = dims[0] * dims[1];
        await slidingWindow(input, dims, predictor.predict, (k, slice) => out.set(slice, k * 2 * plane), { patch: patchVoxel, overlap: 0.5, outputChannels: 2, batchSize: 2 });
        await predictor.close();
        // The ramp runs along voxel axis axes[rampAxis]; blending along it is a 1-D Gaussian-weighted mean.
        const a = axes[rampAxis];
        const size = patchVoxel[a];
        const steps = slidingWindowSteps(dims[a], size, 0.5);
        const sigma = size / 8;
        const g = (x: number) => Math.exp(-0.5 * ((x - Math.floor(size / 2)) / sigma) ** 2);
        const expected = (x: number) => {
          let num = 0;
          let den = 0;
          for (const s of steps) if (x >= s && x < s + size) {
            num += g(x - s) * (x - s);
            den += g(x - s);
          }
          return num / den;
        };
        let worst = 0;
        for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
          const value = out[k * 2 * plane + plane + j * dims[0] + i];
          worst = Math.max(worst, Math.abs(value - expected([i, j, k][a])));
        }
        expect(worst, `axes ${axes}, ramp ${rampAxis}`).toBeLessThan(1e-3);
      }
    }
  });

  it('a translation-invariant network gives the same blended outputs in sliding windows as on the whole volume', async () => {
    const dims: Vec3 = [21, 17, 13];
    const input = Float32Array.from({ length: dims[0] * dims[1] * dims[2] }, (_, p) => Math.round(Math.cos(p * 0.11) * 400));
    await writeBundle(modelsDir, testManifest('thr'), thresholdNetwork({ threshold: 7, gain: 0.37 }));
    const bundle = await loadModelBundle('thr', { modelsDir });
    const run = async (patch: Vec3, overlap: number, axes: Vec3) => {
      const predictor = await createOnnxPredictor(bundle, { choice: { provider: 'cpu', executionProviders: ['cpu'], reason: 'test' }, automatic: false, patch, tensorToVoxel: axes, inputChannels: 1, outputChannels: 2 });
      const out = new Float32Array(2 * input.length);
      const plane = dims[0] * dims[1];
      await slidingWindow(input, dims, predictor.predict, (k, slice) => out.set(slice, k * 2 * plane), { patch, overlap, outputChannels: 2, batchSize: 3, blend: patch === dims ? 'constant' : 'gaussian' });
      await predictor.close();
      return out;
    };
    const whole = await run(dims, 0, [2, 1, 0]);
    for (const axes of TENSOR_AXES) {
      for (const overlap of [0, 0.25, 0.5]) {
        const sliding = await run([6, 5, 7], overlap, axes);
        let worst = 0;
        for (let p = 0; p < whole.length; p++) worst = Math.max(worst, Math.abs(whole[p] - sliding[p]) / Math.max(1, Math.abs(whole[p])));
        expect(worst, `axes ${axes}, overlap ${overlap}`).toBeLessThan(1e-5);
      }
    }
  });
});

describe('back to the CT grid', () => {
  function randomSlices(dims: Vec3, channels: number, seed: number): Float32Array[] {
    const rnd = seededRandom(seed);
    // Smooth fields plus noise, so labels form regions with boundaries.
    return Array.from({ length: dims[2] }, (_, k) =>
      Float32Array.from({ length: channels * dims[0] * dims[1] }, (_, q) => {
        const c = Math.floor(q / (dims[0] * dims[1]));
        const p = q % (dims[0] * dims[1]);
        const i = p % dims[0];
        const j = Math.floor(p / dims[0]);
        return Math.sin(i * 0.5 + c) + Math.cos(j * 0.4 - c * 2) + Math.sin(k * 0.6 + c * c) + rnd() * 0.3;
      }),
    );
  }

  for (const decision of [
    { activation: 'softmax', threshold: 0.5, channels: 4 },
    { activation: 'sigmoid', threshold: 0.7, channels: 3 },
  ] as LabelDecision[]) {
    it(`linear-logits (with its shortcut) equals interpolating every channel at every voxel (${decision.activation})`, () => {
      const net: Vec3 = [9, 7, 6];
      const target: Vec3 = [20, 11, 15];
      const slices = randomSlices(net, decision.channels, 42);
      const resampler = labelsFromSlices({ decision, method: 'linear-logits', networkDims: net, targetDims: target, maxLabel: decision.channels });
      slices.forEach((s, k) => resampler.accept(k, s));
      const labels = resampler.finish();
      const pos = (t: number, a: number) => Math.min(Math.max((t + 0.5) * (net[a] / target[a]) - 0.5, 0), net[a] - 1);
      const logit = Math.log(decision.threshold / (1 - decision.threshold));
      let wrong = 0;
      let o = 0;
      for (let k = 0; k < target[2]; k++) for (let j = 0; j < target[1]; j++) for (let i = 0; i < target[0]; i++, o++) {
        const [x, y, z] = [pos(i, 0), pos(j, 1), pos(k, 2)];
        const values = Array.from({ length: decision.channels }, (_, c) => {
          // Two taps per axis: the lower sample with weight 1 − f, the next (clamped) with weight f.
          const taps = (u: number, n: number) => [[Math.floor(u), 1 - (u - Math.floor(u))], [Math.min(Math.floor(u) + 1, n - 1), u - Math.floor(u)]];
          let v = 0;
          for (const [zi, wz] of taps(z, net[2])) for (const [yi, wy] of taps(y, net[1])) for (const [xi, wx] of taps(x, net[0])) {
            v += wx * wy * wz * slices[zi][c * net[0] * net[1] + yi * net[0] + xi];
          }
          return v;
        });
        let expected: number;
        if (decision.activation === 'sigmoid') {
          const best = values.reduce((b, v, c) => (v > values[b] ? c : b), 0);
          expected = values[best] > logit ? best + 1 : 0;
        } else {
          expected = values.reduce((b, v, c) => (v > values[b] ? c : b), 0);
        }
        if (labels[o] !== expected) wrong++;
      }
      expect(wrong).toBe(0);
      expect(resampler.interpolatedVoxels()).toBeGreaterThan(0);
      expect(resampler.interpolatedVoxels()).toBeLessThan(labels.length);
    });
  }
});
