/**
 * Small ONNX networks built in code (with onnx-proto), whose correct output is known exactly, and a
 * helper that writes them as model bundles. Used by the segmentation tests and the benchmark.
 *
 * Every network takes `[N, C, D, H, W]` float32 and returns `[N, K, D, H, W]` float32:
 * - `thresholdNetwork`: a 1×1×1 Conv3D; channel 0 = 0, channel 1 = gain·(x − threshold) (HU → logit);
 * - `shiftNetwork`: channel 1 = gain·(x[+1 along one tensor axis] − threshold): the label mask moves
 *   one voxel against that axis, so a flipped or transposed axis shows;
 * - `positionNetwork`: channel 1 = a fixed ramp along one tensor axis of the (fixed-size) patch,
 *   channel 0 = a constant: the output depends only on where a voxel sits in its patch, so the
 *   blended result is exactly the Gaussian-weighted mean of the ramp over the patches;
 * - `convNetwork`: a k×k×k Conv3D (mean filter) followed by the threshold: translation-invariant with
 *   context, for the benchmark;
 * - `sigmoidNetwork`: per-class sigmoid logits for several HU bands.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

type Dim = number | string;

function valueInfo(name: string, shape: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensor(name: string, dims: number[], values: ArrayLike<number>): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(values) };
}

function model(nodes: onnxProto.onnx.INodeProto[], inputs: onnxProto.onnx.IValueInfoProto[], outputs: onnxProto.onnx.IValueInfoProto[], initializers: onnxProto.onnx.ITensorProto[]): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'holocase-tests',
    graph: { name: 'test', node: nodes, input: inputs, output: outputs, initializer: initializers },
  }).finish();
}

function conv(input: string, weight: string, bias: string, output: string, kernel: number[], pads: number[]): onnxProto.onnx.INodeProto {
  return {
    opType: 'Conv',
    input: [input, weight, bias],
    output: [output],
    attribute: [
      { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: kernel },
      { name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: pads },
    ],
  };
}

export interface ThresholdNetworkOptions {
  /** Input value where the two logits are equal. */
  threshold?: number;
  /** Logit per unit above the threshold. */
  gain?: number;
  /** Input channels (all but the first get weight 0). */
  inputChannels?: number;
  /** Output channels (channel 1 is the thresholded one; the rest are −1e3). */
  outputChannels?: number;
  /** Spatial dims: symbolic by default, or fixed numbers. */
  spatial?: [Dim, Dim, Dim];
  /** Batch dim: symbolic by default. */
  batch?: Dim;
  /** Use a 2-D network (rank-4 input) instead, to test the mismatch check. */
  twoD?: boolean;
  /** Declare the output's channel dim as a symbol (so only running the network reveals it). */
  symbolicOutputChannels?: boolean;
}

/** Channel 0 = 0, channel 1 = gain·(x₀ − threshold); further channels −1000. */
export function thresholdNetwork(options: ThresholdNetworkOptions = {}): Uint8Array {
  const { threshold = 0, gain = 1, inputChannels = 1, outputChannels = 2, spatial = ['D', 'H', 'W'], batch = 'N', twoD = false, symbolicOutputChannels = false } = options;
  const kernel = twoD ? [1, 1] : [1, 1, 1];
  const weights = new Float32Array(outputChannels * inputChannels);
  weights[1 * inputChannels] = gain;
  const bias = new Float32Array(outputChannels).fill(-1000);
  bias[0] = 0;
  bias[1] = -gain * threshold;
  const space = twoD ? spatial.slice(1) : spatial;
  return model(
    [conv('x', 'w', 'b', 'y', kernel, twoD ? [0, 0, 0, 0] : [0, 0, 0, 0, 0, 0])],
    [valueInfo('x', [batch, inputChannels, ...space])],
    [valueInfo('y', [batch, symbolicOutputChannels ? 'C' : outputChannels, ...space])],
    [tensor('w', [outputChannels, inputChannels, ...kernel], weights), tensor('b', [outputChannels], bias)],
  );
}

export interface ShiftNetworkOptions {
  /** Tensor axis the input is shifted along: 0 = D, 1 = H, 2 = W. */
  axis: 0 | 1 | 2;
  threshold?: number;
  gain?: number;
}

/** Channel 1 = gain·(x[… +1 along `axis` …] − threshold) (zero past the end), channel 0 = 0. */
export function shiftNetwork(options: ShiftNetworkOptions): Uint8Array {
  const { axis, threshold = 0, gain = 1 } = options;
  const kernel = [1, 1, 1];
  kernel[axis] = 2;
  const pads = [0, 0, 0, 0, 0, 0];
  pads[3 + axis] = 1; // one zero after the end along that axis keeps the size
  // Weights [2, 1, kD, kH, kW]: channel 1 takes the second tap (the next voxel).
  const weights = new Float32Array(2 * 2);
  weights[2 + 1] = gain;
  return model(
    [conv('x', 'w', 'b', 'y', kernel, pads)],
    [valueInfo('x', ['N', 1, 'D', 'H', 'W'])],
    [valueInfo('y', ['N', 2, 'D', 'H', 'W'])],
    [tensor('w', [2, 1, ...kernel], weights), tensor('b', [2], [0, -gain * threshold])],
  );
}

export interface PositionNetworkOptions {
  /** Fixed patch size (D, H, W). */
  patch: [number, number, number];
  /** Tensor axis of the ramp: 0 = D, 1 = H, 2 = W. */
  axis: 0 | 1 | 2;
  /** Channel 0's constant. */
  level?: number;
}

/** Channel 1 at patch position (d, h, w) = that position's index along `axis`; channel 0 = `level`. The input is ignored. */
export function positionNetwork(options: PositionNetworkOptions): Uint8Array {
  const { patch, axis, level = 0 } = options;
  const [pd, ph, pw] = patch;
  const ramp = new Float32Array(2 * pd * ph * pw);
  for (let d = 0; d < pd; d++) {
    for (let h = 0; h < ph; h++) {
      for (let w = 0; w < pw; w++) {
        const o = (d * ph + h) * pw + w;
        ramp[o] = level;
        ramp[pd * ph * pw + o] = [d, h, w][axis];
      }
    }
  }
  return model(
    [
      conv('x', 'zero_w', 'zero_b', 'z', [1, 1, 1], [0, 0, 0, 0, 0, 0]),
      { opType: 'Add', input: ['z', 'ramp'], output: ['y'] },
    ],
    [valueInfo('x', ['N', 1, pd, ph, pw])],
    [valueInfo('y', ['N', 2, pd, ph, pw])],
    [tensor('zero_w', [2, 1, 1, 1, 1], [0, 0]), tensor('zero_b', [2], [0, 0]), tensor('ramp', [1, 2, pd, ph, pw], ramp)],
  );
}

export interface ConvNetworkOptions {
  /** Kernel size (odd). */
  kernel?: number;
  /** Hidden channels (mean filters, summed back), to give the benchmark real work. */
  hidden?: number;
  /** Output classes (channel c > 1 are copies of channel 1 shifted down by c). */
  classes?: number;
  threshold?: number;
}

/** A k³ mean filter (through `hidden` channels) then gain·(mean − threshold): translation-invariant with context. */
export function convNetwork(options: ConvNetworkOptions = {}): Uint8Array {
  const { kernel = 3, hidden = 8, classes = 2, threshold = 0 } = options;
  const k3 = kernel ** 3;
  const pad = (kernel - 1) / 2;
  const w1 = new Float32Array(hidden * k3).fill(1 / k3);
  const w2 = new Float32Array(classes * hidden);
  const b2 = new Float32Array(classes);
  for (let c = 1; c < classes; c++) {
    for (let h = 0; h < hidden; h++) w2[c * hidden + h] = 1 / hidden;
    b2[c] = -threshold - (c - 1);
  }
  return model(
    [
      conv('x', 'w1', 'b1', 'h', [kernel, kernel, kernel], [pad, pad, pad, pad, pad, pad]),
      { opType: 'Relu', input: ['h'], output: ['hr'] },
      conv('hr', 'w2', 'b2', 'y', [1, 1, 1], [0, 0, 0, 0, 0, 0]),
    ],
    [valueInfo('x', ['N', 1, 'D', 'H', 'W'])],
    [valueInfo('y', ['N', classes, 'D', 'H', 'W'])],
    [tensor('w1', [hidden, 1, kernel, kernel, kernel], w1), tensor('b1', [hidden], new Float32Array(hidden).fill(10)), tensor('w2', [classes, hidden, 1, 1, 1], w2), tensor('b2', [classes], b2)],
  );
}

/** Per-class logits gain_c·(x − threshold_c) for each threshold (sigmoid outputs, no background channel). */
export function sigmoidNetwork(thresholds: number[], gains: number[] = thresholds.map(() => 1)): Uint8Array {
  const c = thresholds.length;
  return model(
    [conv('x', 'w', 'b', 'y', [1, 1, 1], [0, 0, 0, 0, 0, 0])],
    [valueInfo('x', ['N', 1, 'D', 'H', 'W'])],
    [valueInfo('y', ['N', c, 'D', 'H', 'W'])],
    [tensor('w', [c, 1, 1, 1, 1], gains), tensor('b', [c], thresholds.map((t, i) => -gains[i] * t))],
  );
}

/** Writes `<modelsDir>/<manifest.id>/model.json` and its ONNX file. Returns the bundle folder. */
export async function writeBundle(modelsDir: string, manifest: Record<string, unknown> & { id: string }, onnxBytes?: Uint8Array, weights = 'model.onnx'): Promise<string> {
  const dir = join(modelsDir, manifest.id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
  if (onnxBytes) await writeFile(join(dir, weights), onnxBytes);
  return dir;
}

/** A complete ONNX manifest with sensible test defaults; `overrides` are merged one level deep (`inference` is replaced). */
export function testManifest(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> & { id: string } {
  const base: Record<string, Record<string, unknown> | string> = {
    id,
    name: `test network ${id}`,
    version: '0.0.1',
    license: 'CC0-1.0',
    modality: 'CT',
    engine: 'onnx',
    weights: 'model.onnx',
    limits: 'a test network: thresholds Hounsfield units',
    input: { orientation: 'LPS', tensorAxes: ['k', 'j', 'i'], spacing: [1, 1, 1], channels: 1, normalization: { type: 'none' } },
    inference: { mode: 'sliding-window', patchSize: [8, 8, 8], overlap: 0.5, batchSize: 1 },
    output: { activation: 'softmax', labels: { 1: 'bone' } },
  };
  for (const [key, value] of Object.entries(overrides)) {
    const current = base[key];
    const merge = key !== 'inference' && current && typeof current === 'object' && value && typeof value === 'object' && !Array.isArray(value);
    base[key] = merge ? { ...(current as object), ...(value as object) } : (value as string);
  }
  return base as Record<string, unknown> & { id: string };
}
