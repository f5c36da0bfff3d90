/**
 * Generated ONNX networks through the whole segmentation pipeline (reorient → resample → normalise →
 * whole-volume or sliding-window inference → back to the CT grid), against results computed here
 * in patient coordinates, for every tensor axis order, many storage orientations and overlaps 0, 0.25
 * and 0.5.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, composeAffine, orientationCodes, spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { isHolocaseError } from '../../server/errors.ts';
import { loadModelBundle, segment } from '../../server/segment/segment.ts';
import { reorient } from '../../server/volume/reorient.ts';
import type { Volume } from '../../server/volume/volume.ts';
import { shiftNetwork, sigmoidNetwork, testManifest, thresholdNetwork, writeBundle } from './onnxModels.ts';

let modelsDir: string;
let counter = 0;

beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'holocase-seg-models-'));
});
afterAll(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

const TENSOR_AXES = [
  ['k', 'j', 'i'],
  ['i', 'j', 'k'],
  ['j', 'k', 'i'],
  ['k', 'i', 'j'],
  ['i', 'k', 'j'],
  ['j', 'i', 'k'],
] as const;
/** Storage orientations covering every permutation of the voxel axes, with different flips. */
const CT_ORIENTATIONS = ['LPS', 'RAI', 'PIR', 'SLA', 'ASL', 'IRP'];
const MODES = [{ mode: 'whole' }, { overlap: 0 }, { overlap: 0.25 }, { overlap: 0.5 }] as const;

/** An LPS CT with anisotropic voxels and deterministic, position-dependent HU. */
function lpsCt(dims: Vec3, spacing: Vec3, value: (l: number, p: number, s: number) => number): Volume<Int16Array> {
  const affine = composeAffine([-20, 15, 100], spacing, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  let o = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[o++] = value(...applyAffine(affine, [i, j, k]));
  return { dims, affine, data, meta: { source: 'nifti', modality: 'CT' } };
}

async function bundle(manifest: Record<string, unknown>, bytes: Uint8Array) {
  const id = `net-${counter++}`;
  await writeBundle(modelsDir, { ...testManifest(id), ...manifest, id } as Record<string, unknown> & { id: string }, bytes);
  return loadModelBundle(id, { modelsDir });
}

/** The network spacing (tensor order) that makes the network grid equal the reoriented CT grid. */
function matchingSpacing(ct: Volume, orientation: string, tensorAxes: readonly string[]): number[] {
  const spacing = spacingOf(reorient(ct, orientation).affine);
  return tensorAxes.map((a) => spacing['ijk'.indexOf(a)]);
}

function inference(mode: (typeof MODES)[number], patch: number[]) {
  return 'mode' in mode ? { mode: 'whole' } : { mode: 'sliding-window', patchSize: patch, overlap: mode.overlap, batchSize: 2 };
}

describe('threshold network (pointwise): every tensor axis order, orientation and overlap', () => {
  // HU varies with position so that a wrong voxel anywhere changes the answer.
  const ct = lpsCt([11, 9, 13], [1, 1.5, 2], (l, p, s) => Math.round(300 * Math.sin(l * 0.7) + 200 * Math.cos(p * 0.45) + 3 * s) - 100);
  const threshold = 10.5;
  for (const [a, tensorAxes] of TENSOR_AXES.entries()) {
    it(`tensor axes ${tensorAxes.join(',')}`, async () => {
      for (const [c, code] of CT_ORIENTATIONS.entries()) {
        const stored = reorient(ct, code);
        const networkOrientation = CT_ORIENTATIONS[(a + c + 1) % CT_ORIENTATIONS.length];
        for (const mode of MODES) {
          const model = await bundle(
            {
              input: { orientation: networkOrientation, tensorAxes, spacing: matchingSpacing(ct, networkOrientation, tensorAxes), channels: 1, normalization: { type: 'none' } },
              inference: inference(mode, [5, 7, 6]),
            },
            thresholdNetwork({ threshold, gain: 1 }),
          );
          const result = await segment(stored, model, { provider: 'cpu' });
          expect(result.labels.dims).toEqual(stored.dims);
          expect(result.labels.affine).toEqual(stored.affine);
          let wrong = 0;
          for (let p = 0; p < stored.data.length; p++) if (result.labels.data[p] !== (stored.data[p] > threshold ? 1 : 0)) wrong++;
          expect(wrong, `${code} → ${networkOrientation}, ${JSON.stringify(mode)}`).toBe(0);
        }
      }
    });
  }
});

describe('shift network (sees one tensor axis): a flipped or transposed axis moves the labels', () => {
  // A dense box in patient space, clear of the volume's faces; everything else 0 HU.
  // Faces half-way between voxel centres, so rounding of reoriented positions cannot decide.
  const box = { l: [-16.5, -11.5], p: [20.2, 27.2], s: [105, 117] };
  const inBox = (l: number, p: number, s: number) => l >= box.l[0] && l <= box.l[1] && p >= box.p[0] && p <= box.p[1] && s >= box.s[0] && s <= box.s[1];
  const ct = lpsCt([12, 10, 14], [1, 1.5, 2], (l, p, s) => (inBox(l, p, s) ? 1000 : 0));
  const STEP: Record<string, Vec3> = { L: [1, 0, 0], R: [-1, 0, 0], P: [0, 1, 0], A: [0, -1, 0], S: [0, 0, 1], I: [0, 0, -1] };

  for (const tensorAxes of TENSOR_AXES) {
    it(`tensor axes ${tensorAxes.join(',')}`, async () => {
      for (const [n, networkOrientation] of ['RAS', 'LPS', 'PIL'].entries()) {
        const stored = reorient(ct, CT_ORIENTATIONS[n + 2]);
        for (const axis of [0, 1, 2] as const) {
          // The patient direction tensor dim `axis` runs along, and one network voxel's length on it.
          const voxelAxis = 'ijk'.indexOf(tensorAxes[axis]);
          const direction = STEP[networkOrientation[voxelAxis]];
          const spacing = matchingSpacing(ct, networkOrientation, tensorAxes);
          const step = direction.map((d) => d * spacing[axis]) as Vec3;
          // Expected: a voxel is labelled when the point one step further along that direction is in the box.
          const expected = new Uint8Array(stored.data.length);
          let o = 0;
          for (let k = 0; k < stored.dims[2]; k++) {
            for (let j = 0; j < stored.dims[1]; j++) {
              for (let i = 0; i < stored.dims[0]; i++, o++) {
                const [l, p, s] = applyAffine(stored.affine, [i, j, k]);
                expected[o] = inBox(l + step[0], p + step[1], s + step[2]) ? 1 : 0;
              }
            }
          }
          const grid = reorient(ct, networkOrientation).dims;
          // The patch spans the whole volume along the shifted axis, so patch edges never cut the shift.
          const patch = [4, 5, 6];
          patch[axis] = grid[voxelAxis];
          for (const mode of MODES) {
            const model = await bundle(
              {
                input: { orientation: networkOrientation, tensorAxes, spacing, channels: 1, normalization: { type: 'scale', scale: 0.001, offset: 0 } },
                inference: inference(mode, patch),
              },
              shiftNetwork({ axis, threshold: 0.5, gain: 10 }),
            );
            const result = await segment(stored, model, { provider: 'cpu' });
            let wrong = 0;
            for (let p = 0; p < expected.length; p++) if (result.labels.data[p] !== expected[p]) wrong++;
            expect(wrong, `${networkOrientation}, dim ${axis}, ${JSON.stringify(mode)}`).toBe(0);
            // The shift is visible: the labels are not simply the box.
            let differs = 0;
            for (let p = 0; p < expected.length; p++) if (expected[p] !== (stored.data[p] > 500 ? 1 : 0)) differs++;
            expect(differs).toBeGreaterThan(0);
          }
        }
      }
    });
  }
});

describe('resampling to the network spacing and back', () => {
  // A ball of 1000 HU, radius 9 mm, on a 1 mm grid; the network runs at 2 × 2.5 × 1.5 mm.
  const center: Vec3 = [-10, 22, 110];
  const ct = lpsCt([24, 22, 20], [1, 1, 1], (l, p, s) => (Math.hypot(l - center[0], p - center[1], s - center[2]) <= 9 ? 1000 : 0));
  const ballTruth = Uint8Array.from(ct.data, (v) => (v > 0 ? 1 : 0));
  const dice = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let i = 0;
    let s = 0;
    for (let p = 0; p < a.length; p++) {
      i += a[p] && b[p] ? 1 : 0;
      s += (a[p] ? 1 : 0) + (b[p] ? 1 : 0);
    }
    return (2 * i) / s;
  };

  /** Independent trilinear resampling with the cell-centred, edge-clamped rule. */
  function trilinear(src: ArrayLike<number>, from: Vec3, to: Vec3): Float64Array {
    const out = new Float64Array(to[0] * to[1] * to[2]);
    const pos = (t: number, a: number) => Math.min(Math.max((t + 0.5) * (from[a] / to[a]) - 0.5, 0), from[a] - 1);
    const at = (i: number, j: number, k: number) => src[i + j * from[0] + k * from[0] * from[1]];
    let o = 0;
    for (let k = 0; k < to[2]; k++) {
      for (let j = 0; j < to[1]; j++) {
        for (let i = 0; i < to[0]; i++, o++) {
          const x = pos(i, 0);
          const y = pos(j, 1);
          const z = pos(k, 2);
          const [x0, y0, z0] = [Math.floor(x), Math.floor(y), Math.floor(z)];
          const [x1, y1, z1] = [Math.min(x0 + 1, from[0] - 1), Math.min(y0 + 1, from[1] - 1), Math.min(z0 + 1, from[2] - 1)];
          const [fx, fy, fz] = [x - x0, y - y0, z - z0];
          let v = 0;
          for (const [xi, wx] of [[x0, 1 - fx], [x1, fx]]) for (const [yi, wy] of [[y0, 1 - fy], [y1, fy]]) for (const [zi, wz] of [[z0, 1 - fz], [z1, fz]]) v += wx * wy * wz * at(xi, yi, zi);
          out[o] = v;
        }
      }
    }
    return out;
  }

  it('linear-logits equals thresholding the twice-resampled CT (the network is linear), nearest-labels is coarser', async () => {
    const networkSpacing = [1.5, 2.5, 2]; // tensor order D, H, W = k, j, i
    const results: Record<string, Uint8Array> = {};
    for (const resampleBack of ['linear-logits', 'nearest-labels'] as const) {
      const model = await bundle(
        {
          input: { orientation: 'LPS', tensorAxes: ['k', 'j', 'i'], spacing: networkSpacing, channels: 1, normalization: { type: 'none' } },
          inference: { mode: 'sliding-window', patchSize: [6, 5, 7], overlap: 0.5 },
          output: { activation: 'softmax', labels: { 1: 'ball' }, resampleBack },
        },
        thresholdNetwork({ threshold: 500 }),
      );
      const result = await segment(ct, model, { provider: 'cpu' });
      expect(result.notes.join(' ')).toContain(resampleBack);
      results[resampleBack] = result.labels.data as Uint8Array;
    }
    // Network grid: round(24·1/2)=12, round(22·1/2.5)=9, round(20·1/1.5)=13.
    const net: Vec3 = [12, 9, 13];
    const down = trilinear(ct.data, ct.dims, net);
    const back = trilinear(down, net, ct.dims);
    let wrong = 0;
    for (let p = 0; p < back.length; p++) if (results['linear-logits'][p] !== (back[p] > 500 ? 1 : 0)) wrong++;
    expect(wrong).toBe(0);
    expect(dice(results['linear-logits'], ballTruth)).toBeGreaterThan(0.9);
    expect(dice(results['nearest-labels'], ballTruth)).toBeGreaterThan(0.75);
    expect(dice(results['linear-logits'], ballTruth)).toBeGreaterThan(dice(results['nearest-labels'], ballTruth));
  });

  it('fixed whole-volume size: the scan is resampled to exactly that size and back', async () => {
    const model = await bundle(
      {
        input: { orientation: 'RAS', tensorAxes: ['i', 'j', 'k'], size: [16, 16, 16], channels: 1, normalization: { type: 'window', center: 500, width: 1000 } },
        inference: { mode: 'whole' },
      },
      thresholdNetwork({ threshold: 0.5, spatial: [16, 16, 16] }),
    );
    const result = await segment(ct, model, { provider: 'cpu' });
    expect(result.notes.join(' ')).toContain('network grid 16×16×16');
    expect(dice(result.labels.data, ballTruth)).toBeGreaterThan(0.85);
  });
});

describe('bad input', () => {
  it('a CT smaller than the patch is padded, not refused', async () => {
    const tiny = lpsCt([3, 4, 2], [1, 1, 1], (l, p) => (l + p > 35.5 ? 800 : -50));
    for (const mode of MODES) {
      const model = await bundle({ inference: inference(mode, [8, 8, 8]), input: { orientation: 'LPS', spacing: [1, 1, 1], normalization: { type: 'none' } } }, thresholdNetwork({ threshold: 100 }));
      const result = await segment(tiny, model, { provider: 'cpu' });
      expect(Array.from(result.labels.data)).toEqual(Array.from(tiny.data, (v) => (v > 100 ? 1 : 0)));
      if (!('mode' in mode)) expect(result.notes.join(' ')).toContain('padded');
    }
    // A whole-volume network that needs sizes divisible by 8.
    const model = await bundle({ inference: { mode: 'whole', divisibleBy: 8 }, input: { orientation: 'LPS', spacing: [1, 1, 1], normalization: { type: 'none' } } }, thresholdNetwork({ threshold: 100 }));
    const result = await segment(tiny, model, { provider: 'cpu' });
    expect(Array.from(result.labels.data)).toEqual(Array.from(tiny.data, (v) => (v > 100 ? 1 : 0)));
  });

  it('NaN and infinite voxels are replaced (NaN/−Inf as the lowest value, +Inf as the highest) and noted', async () => {
    const dims: Vec3 = [6, 5, 4];
    const data = new Float32Array(120).map((_, p) => (p % 7) * 100 - 200);
    data[3] = NaN;
    data[10] = Infinity;
    data[11] = -Infinity;
    const volume: Volume = { dims, affine: composeAffine([0, 0, 0], [1, 1, 1], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), data, meta: { source: 'nifti' } };
    const model = await bundle({}, thresholdNetwork({ threshold: 50 }));
    const result = await segment(volume, model, { provider: 'cpu' });
    expect(result.notes.join(' ')).toMatch(/3 voxel\(s\) were NaN or infinite/);
    expect(result.labels.data[3]).toBe(0);
    expect(result.labels.data[10]).toBe(1);
    expect(result.labels.data[11]).toBe(0);
    for (let p = 0; p < 120; p++) if (![3, 10, 11].includes(p)) expect(result.labels.data[p]).toBe(data[p] > 50 ? 1 : 0);
    expect(Array.from(data.subarray(3, 4))).toEqual([NaN]); // the caller's volume is untouched
  });

  it('an MR scan given to a CT model is refused, naming the modality', async () => {
    const mr = { ...lpsCt([4, 4, 4], [1, 1, 1], () => 300), meta: { source: 'dicom' as const, modality: 'MR' } };
    const model = await bundle({}, thresholdNetwork());
    const error = await segment(mr, model, { provider: 'cpu' }).catch((e) => e);
    expect(isHolocaseError(error) && error.code).toBe('MODALITY_MISMATCH');
    expect(error.message).toMatch(/this scan is MR.*segments CT/);
  });

  it('a network that returns another shape than the manifest says is refused with both shapes', async () => {
    // The ONNX output's channel dim is symbolic, so the load-time check cannot see it; the run does.
    const model = await bundle({ output: { activation: 'softmax', labels: { 1: 'a', 2: 'b' } } }, thresholdNetwork({ outputChannels: 2, symbolicOutputChannels: true }));
    const ct = lpsCt([6, 6, 6], [1, 1, 1], () => 0);
    const error = await segment(ct, model, { provider: 'cpu' }).catch((e) => e);
    expect(isHolocaseError(error) && error.code).toBe('MODEL_MISMATCH');
    expect(error.message).toMatch(/\[1, 2, 8, 8, 8\].*\[1, 3, 8, 8, 8\]/);
  });
});

describe('after inference', () => {
  it('largest-component cleanup keeps only the biggest piece of the structures the manifest lists', async () => {
    // Two dense blobs: 4×4×4 and 2×2×2 voxels, far apart.
    const ct = lpsCt([16, 8, 8], [1, 1, 1], (l, p, s) => ((l >= -19 && l <= -16 && p >= 16 && p <= 19 && s >= 101 && s <= 104) || (l >= -10 && l <= -9 && p >= 16 && p <= 17 && s >= 101 && s <= 102) ? 900 : 0));
    const expectedBig = Array.from(ct.data, (v, p) => (v > 0 && p % 16 < 8 ? 1 : 0));
    const model = await bundle({ output: { activation: 'softmax', labels: { 1: 'bone' }, largestComponent: ['bone'] } }, thresholdNetwork({ threshold: 450 }));
    const result = await segment(ct, model, { provider: 'cpu' });
    expect(Array.from(result.labels.data)).toEqual(expectedBig);
    expect(result.notes.join(' ')).toMatch(/largest-component cleanup removed 8 voxel\(s\) of 1 structure/);
  });

  it('a network with a fixed batch of 3 gets full batches (the last one padded)', async () => {
    const ct = lpsCt([5, 5, 4], [1, 1, 1], (l, p, s) => Math.round(100 * Math.sin(l + p * 0.3 + s * 0.1))); // 2×2×1 = 4 patches
    const model = await bundle({ inference: { mode: 'sliding-window', patchSize: [4, 4, 4], overlap: 0.25, batchSize: 3 } }, thresholdNetwork({ threshold: 5.5, batch: 3 }));
    const result = await segment(ct, model, { provider: 'cpu' });
    expect(result.notes.join(' ')).toMatch(/sliding window: (\d+) patch/);
    expect(Number(/sliding window: (\d+) patch/.exec(result.notes.join(' '))![1]) % 3).not.toBe(0);
    expect(Array.from(result.labels.data)).toEqual(Array.from(ct.data, (v) => (v > 5.5 ? 1 : 0)));
  });

  it('stops when the signal is aborted', async () => {
    const ct = lpsCt([16, 16, 16], [1, 1, 1], () => 0);
    const model = await bundle({}, thresholdNetwork());
    const controller = new AbortController();
    controller.abort();
    await expect(segment(ct, model, { provider: 'cpu', signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});

describe('sigmoid outputs', () => {
  it('each voxel takes the most probable class above the threshold, background when none is', async () => {
    const ct = lpsCt([20, 3, 3], [1, 1, 1], (l) => Math.round((l + 20) * 30));
    const model = await bundle(
      {
        output: { activation: 'sigmoid', threshold: 0.5, labels: { 1: 'low', 2: 'high' } },
        inference: { mode: 'sliding-window', patchSize: [4, 4, 8], overlap: 0.25 },
      },
      sigmoidNetwork([100, 300], [1, 4]),
    );
    const result = await segment(ct, model, { provider: 'cpu' });
    for (let p = 0; p < ct.data.length; p++) {
      const x = ct.data[p];
      const l1 = x - 100;
      const l2 = 4 * (x - 300);
      const expected = l1 <= 0 && l2 <= 0 ? 0 : l2 > l1 ? 2 : 1;
      expect(result.labels.data[p], `HU ${x}`).toBe(expected);
    }
    expect(result.structures.map((s) => s.name)).toEqual(['low', 'high']);
  });
});

describe('progress and logs', () => {
  it('reports progress per patch and says which execution provider ran', async () => {
    const ct = lpsCt([16, 16, 16], [1, 1, 1], (l) => l * 10);
    const model = await bundle({ inference: { mode: 'sliding-window', patchSize: [8, 8, 8], overlap: 0.5 } }, thresholdNetwork());
    const messages: string[] = [];
    const logs: string[] = [];
    const result = await segment(ct, model, { provider: 'auto', onProgress: (p) => messages.push(`${p.stage}:${p.message}`), log: (m) => logs.push(m) });
    expect(messages.filter((m) => /^segment:patch \d+ of 27$/.test(m))).toHaveLength(27);
    expect(logs.join('\n')).toMatch(/execution provider: cpu \(auto: CUDA not available/);
    expect(result.provider).toBe('cpu');
    expect(orientationCodes(result.labels.affine)).toBe('LPS');
  });
});
