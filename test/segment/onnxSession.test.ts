/**
 * ONNX Runtime session settings: the engine's defaults, what each setting becomes in ONNX Runtime's
 * options, `HOLOCASE_ORT_THREADS`, and a real network giving the same labels under every setting the
 * benchmark compares (a setting may change speed and memory, never the answer).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { ONNX_SESSION_DEFAULTS, sessionOptions, threadsFromEnvironment } from '../../server/segment/onnxEngine.ts';
import { loadModelBundle, segment } from '../../server/segment/segment.ts';
import type { Volume } from '../../server/volume/volume.ts';
import { SETTINGS_TRIED } from '../bench/inference.ts';
import { seededRandom } from '../seededRandom.ts';
import { convNetwork, testManifest, writeBundle } from './onnxModels.ts';

let modelsDir: string;
beforeAll(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'holocase-session-'));
});
afterAll(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

describe('ONNX Runtime session settings', () => {
  it('maps every setting onto ONNX Runtime’s session options', () => {
    expect(sessionOptions({}, ['cpu'])).toEqual({
      executionProviders: ['cpu'],
      graphOptimizationLevel: ONNX_SESSION_DEFAULTS.graphOptimization,
      executionMode: ONNX_SESSION_DEFAULTS.executionMode,
      enableCpuMemArena: ONNX_SESSION_DEFAULTS.memoryArena,
      enableMemPattern: ONNX_SESSION_DEFAULTS.memoryPattern,
      ...(ONNX_SESSION_DEFAULTS.intraOpThreads > 0 ? { intraOpNumThreads: ONNX_SESSION_DEFAULTS.intraOpThreads } : {}),
      ...(ONNX_SESSION_DEFAULTS.interOpThreads > 0 ? { interOpNumThreads: ONNX_SESSION_DEFAULTS.interOpThreads } : {}),
      extra: { session: { intra_op: { allow_spinning: ONNX_SESSION_DEFAULTS.spinning ? '1' : '0' }, inter_op: { allow_spinning: ONNX_SESSION_DEFAULTS.spinning ? '1' : '0' } } },
    });
    const custom = sessionOptions({ intraOpThreads: 3, interOpThreads: 2, executionMode: 'parallel', spinning: false, memoryArena: false, memoryPattern: false, graphOptimization: 'basic' }, ['cuda', 'cpu']);
    expect(custom).toMatchObject({ executionProviders: ['cuda', 'cpu'], intraOpNumThreads: 3, interOpNumThreads: 2, executionMode: 'parallel', enableCpuMemArena: false, enableMemPattern: false, graphOptimizationLevel: 'basic' });
    expect(custom.extra).toEqual({ session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } });
  });

  it('reads HOLOCASE_ORT_THREADS as a whole number of threads, and ignores anything else', () => {
    expect(threadsFromEnvironment('2')).toBe(2);
    expect(threadsFromEnvironment(' 4 ')).toBe(4);
    for (const bad of [undefined, '', ' ', '0', '-1', '1.5', 'two']) expect(threadsFromEnvironment(bad), String(bad)).toBeUndefined();
  });

  it('gives the same labels under every setting the benchmark compares', async () => {
    const dims: Vec3 = [40, 36, 30];
    const random = seededRandom(3);
    // A ramp along i with noise: the 3×3×3 mean decides, so boundaries are ragged and every patch edge matters.
    const data = new Int16Array(40 * 36 * 30);
    for (let p = 0; p < data.length; p++) data[p] = Math.round(10 * (p % 40) - 200 + (random() - 0.5) * 120);
    const ct: Volume = { dims, affine: composeAffine([0, 0, 0], [1, 1, 1], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), data, meta: { source: 'nifti', modality: 'CT' } };
    await writeBundle(
      modelsDir,
      testManifest('conv', { inference: { mode: 'sliding-window', patchSize: [16, 16, 16], overlap: 0.5, batchSize: 2 }, output: { activation: 'softmax', labels: { 1: 'a' } } }),
      convNetwork({ kernel: 3, hidden: 4, classes: 2, threshold: 50 }),
    );
    const model = await loadModelBundle('conv', { modelsDir });
    const reference = (await segment(ct, model, { provider: 'cpu' })).labels.data;
    let labelled = 0;
    for (const v of reference) labelled += v;
    expect(labelled).toBeGreaterThan(reference.length * 0.2);
    expect(labelled).toBeLessThan(reference.length * 0.8);
    for (const { name, settings } of SETTINGS_TRIED) {
      const labels = (await segment(ct, model, { provider: 'cpu', session: settings })).labels.data;
      expect(Buffer.compare(Buffer.from(labels), Buffer.from(reference)), name).toBe(0);
    }
  });
});
