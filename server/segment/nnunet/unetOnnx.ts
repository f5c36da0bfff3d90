/**
 * nnU-Net's U-Nets rebuilt as ONNX graphs, written with onnx-proto.
 *
 *   buildUNetOnnx(architecture: UNetArchitecture, weights: WeightLoader | WeightLoader[], options?): OnnxModelPlan
 *   writeOnnxModel(plan, file, options?): Promise<{ bytes, externalDataFile? }>
 *       streams the weights to disk one tensor at a time (ONNX external data past 1.5 GiB of weights)
 *   encodeOnnxModel(plan): Promise<Uint8Array>
 *       the same bytes in memory (tests, small networks)
 *
 * `WeightLoader` is `(name, shape) => Float32Array` (or a promise of one), called with PyTorch
 * state-dict names (`unetParameterShapes` in `architecture.ts` lists them), once per tensor, while the
 * file is written: a checkpoint reader loads one tensor at a time, a benchmark returns random values.
 * Several loaders make one graph holding every fold, whose output is the mean of the folds' logits
 * (nnU-Net v2's fold ensemble, `nnUNetPredictor.predict_logits_from_preprocessed_data`).
 *
 * The graph is the network in eval mode without deep supervision: input `[N, C, D, H, W]`, output logits
 * `[N, K, D, H, W]`, batch and spatial axes symbolic (each spatial size must be divisible by the product
 * of that axis's strides, as in PyTorch). A 2-D network (nnU-Net's `2d` configuration) is wrapped so the
 * same rank-5 tensors run it on every D slice.
 */
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';
import onnxProto from 'onnx-proto';
import { residualBlockParts, shortcutOf, stageCount, unetLayers, type UNetArchitecture } from './architecture.ts';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type IAttribute = onnxProto.onnx.IAttributeProto;

/** Weights of one network by PyTorch state-dict name, as float32 in C order. */
export type WeightLoader = (name: string, shape: readonly number[]) => Float32Array | Promise<Float32Array>;

/** A graph initializer whose values are produced only when the file is written. */
export interface InitializerSpec {
  name: string;
  dims: number[];
  type: 'float32' | 'int64';
  load: () => Float32Array | BigInt64Array | Promise<Float32Array | BigInt64Array>;
}

/** Everything of an ONNX model but the weight values. */
export interface OnnxModelPlan {
  nodes: INode[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  initializers: InitializerSpec[];
  metadata: Record<string, string>;
}

export interface BuildUNetOnnxOptions {
  /** Name of the graph input (default `input`). */
  inputName?: string;
  /** Name of the graph output (default `logits`). */
  outputName?: string;
  /** Key/value pairs stored in the model's `metadata_props` (provenance). */
  metadata?: Record<string, string>;
}

export const BUILD_UNET_ONNX_DEFAULTS = { inputName: 'input', outputName: 'logits', metadata: {} } satisfies Required<BuildUNetOnnxOptions>;

/** ONNX opset the graph uses (every operator here is unchanged since opset 13 or earlier). */
export const UNET_OPSET = 17;

const INTS = onnx.AttributeProto.AttributeType.INTS;
const FLOAT = onnx.AttributeProto.AttributeType.FLOAT;
const INT = onnx.AttributeProto.AttributeType.INT;

function ints(name: string, values: readonly number[]): IAttribute {
  return { name, type: INTS, ints: [...values] };
}

/** Adds nodes for one network, prefixing its tensor names so several folds live in one graph. */
class GraphBuilder {
  readonly nodes: INode[] = [];
  readonly initializers: InitializerSpec[] = [];
  private counter = 0;
  private constants = new Map<string, string>();

  constructor(private readonly arch: UNetArchitecture) {}

  private fresh(label: string): string {
    return `${label}:${this.counter++}`;
  }

  node(opType: string, inputs: string[], label: string, attribute: IAttribute[] = []): string {
    const output = this.fresh(label);
    this.nodes.push({ opType, input: inputs, output: [output], name: output, attribute });
    return output;
  }

  weight(name: string, dims: number[], load: () => Float32Array | Promise<Float32Array>): string {
    this.initializers.push({ name, dims, type: 'float32', load });
    return name;
  }

  /** A constant float vector (ones or zeros), shared by every node that needs the same one. */
  constantVector(value: number, length: number): string {
    const key = `${value}x${length}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const.${value}.${length}`;
      this.initializers.push({ name, dims: [length], type: 'float32', load: () => new Float32Array(length).fill(value) });
      this.constants.set(key, name);
    }
    return name;
  }

  int64(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], type: 'int64', load: () => BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  /** Conv (same padding as PyTorch's `(k − 1) // 2`), optional bias. */
  conv(x: string, weight: string, bias: string | undefined, kernel: number[], stride: number[], label: string): string {
    const pad = kernel.map((k) => Math.floor((k - 1) / 2));
    return this.node('Conv', bias ? [x, weight, bias] : [x, weight], label, [ints('kernel_shape', kernel), ints('strides', stride), ints('pads', [...pad, ...pad])]);
  }

  norm(x: string, scale: string, bias: string, label: string): string {
    return this.node('InstanceNormalization', [x, scale, bias], label, [{ name: 'epsilon', type: FLOAT, f: this.arch.norm.eps }]);
  }

  nonlin(x: string, label: string): string {
    const n = this.arch.nonlin;
    return n.type === 'relu' ? this.node('Relu', [x], label) : this.node('LeakyRelu', [x], label, [{ name: 'alpha', type: FLOAT, f: n.negativeSlope }]);
  }
}

function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** Adds one network (one fold) to the graph; returns the name of its logits. */
function addNetwork(g: GraphBuilder, arch: UNetArchitecture, input: string, load: WeightLoader, prefix: string): string {
  const weight = (name: string, shape: number[]) => g.weight(`${prefix}${name}`, shape, () => load(name, shape));
  // A conv block: conv (+bias) → norm → nonlin (or conv → nonlin → norm), the nonlin optional.
  const convBlock = (x: string, p: string, inC: number, outC: number, kernel: number[], stride: number[], bias: boolean, activation: boolean): string => {
    const w = weight(`${p}.conv.weight`, [outC, inC, ...kernel]);
    const b = bias ? weight(`${p}.conv.bias`, [outC]) : undefined;
    let y = g.conv(x, w, b, kernel, stride, `${prefix}${p}.conv`);
    const scale = arch.norm.affine ? weight(`${p}.norm.weight`, [outC]) : g.constantVector(1, outC);
    const shift = arch.norm.affine ? weight(`${p}.norm.bias`, [outC]) : g.constantVector(0, outC);
    if (activation && arch.nonlinFirst) return g.norm(g.nonlin(y, `${prefix}${p}.nonlin`), scale, shift, `${prefix}${p}.norm`);
    y = g.norm(y, scale, shift, `${prefix}${p}.norm`);
    return activation ? g.nonlin(y, `${prefix}${p}.nonlin`) : y;
  };
  const n = stageCount(arch);
  const skips: string[] = [];
  let x = input;
  for (const layer of unetLayers(arch)) {
    switch (layer.op) {
      case 'conv-block': {
        const b = layer.block;
        x = convBlock(x, b.prefix, b.inChannels, b.outChannels, b.kernel, layer.stride, b.bias, layer.activation);
        break;
      }
      case 'residual-block': {
        // BasicBlockD: nonlin(conv2(conv1(x)) + shortcut(x)); shortcut = [AvgPool] [1×1 conv + norm].
        const parts = residualBlockParts(arch, layer);
        const ones = layer.kernel.map(() => 1);
        const main = convBlock(convBlock(x, parts.conv1.prefix, layer.inChannels, layer.outChannels, layer.kernel, layer.stride, arch.convBias, true), parts.conv2.prefix, layer.outChannels, layer.outChannels, layer.kernel, ones, arch.convBias, false);
        let residual = x;
        const shortcut = shortcutOf(layer.inChannels, layer.outChannels, layer.stride);
        if (shortcut.pool) {
          residual = g.node('AveragePool', [residual], `${prefix}${layer.prefix}.skip.pool`, [ints('kernel_shape', layer.stride), ints('strides', layer.stride)]);
        }
        if (parts.projection) residual = convBlock(residual, parts.projection.prefix, layer.inChannels, layer.outChannels, ones, ones, false, false);
        x = g.nonlin(g.node('Add', [main, residual], `${prefix}${layer.prefix}.add`), `${prefix}${layer.prefix}.nonlin2`);
        break;
      }
      case 'stage-output':
        skips[layer.stage] = x;
        break;
      case 'transpconv': {
        const w = weight(`${layer.prefix}.weight`, [layer.inChannels, layer.outChannels, ...layer.stride]);
        const inputs = [x, w];
        if (arch.convBias) inputs.push(weight(`${layer.prefix}.bias`, [layer.outChannels]));
        const up = g.node('ConvTranspose', inputs, `${prefix}${layer.prefix}`, [ints('kernel_shape', layer.stride), ints('strides', layer.stride)]);
        x = g.node('Concat', [up, skips[layer.skipStage]], `${prefix}${layer.prefix}.concat`, [{ name: 'axis', type: INT, i: 1 }]);
        break;
      }
      case 'seg-head': {
        const ones = Array.from({ length: arch.dims }, () => 1);
        const w = weight(`${layer.prefix}.weight`, [arch.numClasses, layer.inChannels, ...ones]);
        const b = weight(`${layer.prefix}.bias`, [arch.numClasses]);
        x = g.conv(x, w, b, ones, ones, `${prefix}${layer.prefix}`);
        break;
      }
    }
  }
  if (skips.length !== n) throw new Error(`internal: ${skips.length} stage outputs for ${n} stages`);
  return x;
}

/**
 * Wraps a 2-D network so it takes `[N, C, D, H, W]`: slices become batch entries
 * (`[N·D, C, H, W]`), and the logits go back to `[N, K, D, H, W]`.
 */
function addSliceWise(g: GraphBuilder, arch: UNetArchitecture, input: string, body: (x: string) => string): string {
  const shape = g.node('Shape', [input], 'slices.shape');
  const slice = (from: number, to: number, label: string) => g.node('Slice', [shape, g.int64(`slices.${label}.starts`, [from]), g.int64(`slices.${label}.ends`, [to])], `slices.${label}`);
  const hw = slice(3, 5, 'hw');
  const perm = ints('perm', [0, 2, 1, 3, 4]);
  const flatShape = g.node('Concat', [g.int64('slices.flat', [-1, arch.inputChannels]), hw], 'slices.flatShape', [{ name: 'axis', type: INT, i: 0 }]);
  const flat = g.node('Reshape', [g.node('Transpose', [input], 'slices.transpose', [perm]), flatShape], 'slices.flatten');
  const logits = body(flat);
  const outShape = g.node('Concat', [slice(0, 1, 'n'), slice(2, 3, 'd'), g.int64('slices.classes', [arch.numClasses]), hw], 'slices.outShape', [{ name: 'axis', type: INT, i: 0 }]);
  return g.node('Transpose', [g.node('Reshape', [logits, outShape], 'slices.unflatten')], 'slices.restore', [perm]);
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/**
 * The ONNX model of a U-Net: one network, or the mean of several folds' logits. Nothing is loaded
 * here; each weight is requested from its loader when the model is written.
 */
export function buildUNetOnnx(architecture: UNetArchitecture, weights: WeightLoader | WeightLoader[], options: BuildUNetOnnxOptions = {}): OnnxModelPlan {
  const o = { ...BUILD_UNET_ONNX_DEFAULTS, ...options };
  const folds = Array.isArray(weights) ? weights : [weights];
  if (folds.length === 0) throw new Error('buildUNetOnnx needs the weights of at least one network');
  const g = new GraphBuilder(architecture);
  // 1. Each fold's network (a 2-D one slice by slice), tensor names prefixed `fold<i>/` when there are several.
  const networks = folds.map((load, f) => {
    const prefix = folds.length > 1 ? `fold${f}/` : '';
    const net = (x: string) => addNetwork(g, architecture, x, load, prefix);
    return architecture.dims === 2 ? addSliceWise(g, architecture, o.inputName, net) : net(o.inputName);
  });
  // 2. Their mean (nnU-Net v2 averages the folds' logits), renamed to the graph output.
  const last = folds.length > 1 ? g.node('Mean', networks, 'folds.mean') : networks[0];
  g.nodes.push({ opType: 'Identity', input: [last], output: [o.outputName], name: 'output' });
  return {
    nodes: g.nodes,
    inputs: [valueInfo(o.inputName, ['N', architecture.inputChannels, 'D', 'H', 'W'])],
    outputs: [valueInfo(o.outputName, ['N', architecture.numClasses, 'D', 'H', 'W'])],
    initializers: g.initializers,
    metadata: o.metadata,
  };
}

// --- Writing: protobuf framing by hand around onnx-proto's encoders, so weights stream to disk ---

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

/** A length-delimited field's tag (wire type 2). */
function lengthTag(field: number): Uint8Array {
  return varint((field << 3) | 2);
}

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;

/** Bytes of one initializer's values. */
function rawLength(t: InitializerSpec): number {
  return product(t.dims) * (t.type === 'float32' ? 4 : 8);
}

/** Alignment of each tensor in an external data file (lets ONNX Runtime map it from disk). */
const EXTERNAL_ALIGNMENT = 4096;

/**
 * Everything but the values: model header, graph header, and per initializer its header and whether
 * its values follow inline (`raw_data`) or go to the external data file at `offset`.
 */
function planBytes(plan: OnnxModelPlan, externalFile?: string): { modelHeader: Uint8Array; graphHeader: Uint8Array; tensors: { header: Uint8Array; offset?: number }[]; graphLength: number } {
  const graphHeader = onnx.GraphProto.encode({ name: 'unet', node: plan.nodes, input: plan.inputs, output: plan.outputs }).finish();
  const tensors: { header: Uint8Array; offset?: number }[] = [];
  let graphLength = graphHeader.length;
  let externalOffset = 0;
  for (const t of plan.initializers) {
    const dataType = t.type === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64;
    const length = rawLength(t);
    if (externalFile) {
      // Values in the data file; the tensor says where (location, offset, length).
      const entries = { location: externalFile, offset: String(externalOffset), length: String(length) };
      const fields = onnx.TensorProto.encode({
        name: t.name,
        dims: t.dims,
        dataType,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
      }).finish();
      const header = Uint8Array.from([...lengthTag(GRAPH_INITIALIZER), ...varint(fields.length), ...fields]);
      tensors.push({ header, offset: externalOffset });
      graphLength += header.length;
      externalOffset += Math.ceil(length / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
    } else {
      const fields = onnx.TensorProto.encode({ name: t.name, dims: t.dims, dataType }).finish();
      const rawPrefix = [...lengthTag(TENSOR_RAW_DATA), ...varint(length)];
      const header = Uint8Array.from([...lengthTag(GRAPH_INITIALIZER), ...varint(fields.length + rawPrefix.length + length), ...fields, ...rawPrefix]);
      tensors.push({ header });
      graphLength += header.length + length;
    }
  }
  const modelHeader = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: UNET_OPSET }],
    producerName: 'holocase',
    metadataProps: Object.entries(plan.metadata).map(([key, value]) => ({ key, value })),
  }).finish();
  return { modelHeader: Uint8Array.from([...modelHeader, ...lengthTag(MODEL_GRAPH), ...varint(graphLength)]), graphHeader, tensors, graphLength };
}

/** One initializer's values as little-endian bytes, checked against its declared size. */
async function tensorBytes(t: InitializerSpec): Promise<Uint8Array> {
  const values = await t.load();
  const expected = product(t.dims);
  if (values.length !== expected) throw new Error(`internal: weight "${t.name}" has ${values.length} values, its shape [${t.dims.join(', ')}] needs ${expected}`);
  if (endianness() !== 'LE') throw new Error('writing ONNX weights needs a little-endian machine');
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export interface WriteOnnxModelOptions {
  /**
   * Put the weights in a separate file beside the model (ONNX external data), as protobuf cannot hold
   * a model of 2 GB or more: `auto` (default) does so past `externalAbove` bytes of weights.
   */
  externalData?: 'auto' | 'always' | 'never';
  /** Weight bytes above which `auto` writes external data (default 1.5 GiB). */
  externalAbove?: number;
}

export const WRITE_ONNX_MODEL_DEFAULTS = { externalData: 'auto', externalAbove: 1.5 * 2 ** 30 } satisfies Required<WriteOnnxModelOptions>;

/** Sequential writes to a new file (`wx`: never over an existing one). */
async function openSequential(file: string): Promise<{ write: (chunk: Uint8Array, at?: number) => Promise<void>; bytes: () => number; close: () => Promise<void> }> {
  const handle = await open(file, 'wx');
  let position = 0;
  return {
    async write(chunk, at = position) {
      for (let done = 0; done < chunk.length; ) done += (await handle.write(chunk, done, chunk.length - done, at + done)).bytesWritten;
      position = at + chunk.length;
    },
    bytes: () => position,
    close: () => handle.close(),
  };
}

/**
 * Writes the model to `file` (and, for external data, `<file>.data` beside it), loading one initializer
 * at a time: memory holds one tensor, never the whole network (a 5-fold TotalSegmentator model is over
 * 600 MB of weights). The caller writes into a temporary folder and renames it, so a failure leaves no
 * partial model under the final name. Returns the bytes written and the data file's name, if any.
 */
export async function writeOnnxModel(plan: OnnxModelPlan, file: string, options: WriteOnnxModelOptions = {}): Promise<{ bytes: number; externalDataFile?: string }> {
  const o = { ...WRITE_ONNX_MODEL_DEFAULTS, ...options };
  const weightBytes = plan.initializers.reduce((sum, t) => sum + rawLength(t), 0);
  const external = o.externalData === 'always' || (o.externalData === 'auto' && weightBytes > o.externalAbove);
  const dataName = external ? `${basename(file)}.data` : undefined;
  const { modelHeader, graphHeader, tensors } = planBytes(plan, dataName);
  const model = await openSequential(file);
  const data = dataName ? await openSequential(join(dirname(file), dataName)) : undefined;
  try {
    await model.write(modelHeader);
    await model.write(graphHeader);
    for (let i = 0; i < plan.initializers.length; i++) {
      await model.write(tensors[i].header);
      const values = await tensorBytes(plan.initializers[i]);
      if (data) await data.write(values, tensors[i].offset);
      else await model.write(values);
    }
  } finally {
    await model.close();
    await data?.close();
  }
  return { bytes: model.bytes() + (data?.bytes() ?? 0), ...(dataName ? { externalDataFile: dataName } : {}) };
}

/** The model's bytes in memory (for tests and small networks; large ones go through `writeOnnxModel`). */
export async function encodeOnnxModel(plan: OnnxModelPlan): Promise<Uint8Array> {
  const { modelHeader, graphHeader, tensors, graphLength } = planBytes(plan);
  const out = new Uint8Array(modelHeader.length + graphLength);
  out.set(modelHeader, 0);
  let offset = modelHeader.length;
  out.set(graphHeader, offset);
  offset += graphHeader.length;
  for (let i = 0; i < plan.initializers.length; i++) {
    out.set(tensors[i].header, offset);
    offset += tensors[i].header.length;
    const bytes = await tensorBytes(plan.initializers[i]);
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}
