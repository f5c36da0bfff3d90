/**
 * The two U-Nets nnU-Net v2 plans produce (`dynamic_network_architectures`' `PlainConvUNet` and
 * `ResidualEncoderUNet` with `BasicBlockD`), described as data, and the PyTorch state-dict entries
 * (names and shapes) such a network has. The names follow the module tree exactly:
 *
 * - a conv block (`ConvDropoutNormReLU`) is `<p>.conv` + `<p>.norm`, and the same two modules again as
 *   `<p>.all_modules.<i>` (one storage shared by both names);
 * - PlainConvUNet encoder stage s, conv c: `encoder.stages.<s>.0.convs.<c>`;
 * - ResidualEncoderUNet: stem `encoder.stem.convs.0`; stage s, block b: `encoder.stages.<s>.blocks.<b>.conv1`,
 *   `.conv2`, and for a strided or widening block the shortcut `…skip.<0|1>` (after the `AvgPool`);
 * - decoder stage d (d = 0 next to the bottleneck): `decoder.transpconvs.<d>`, `decoder.stages.<d>.convs.<c>`,
 *   `decoder.seg_layers.<d>` (every deep-supervision head is in the checkpoint; only the last is used);
 * - the decoder holds the encoder too, so every encoder entry appears again under `decoder.encoder.`.
 */

/** One resolution stage per entry; per-axis lists are in tensor order (as plans.json writes them). */
export interface UNetArchitecture {
  /** Which network: plain conv stages, or a residual encoder (stem + BasicBlockD stages). */
  kind: 'PlainConvUNet' | 'ResidualEncoderUNet';
  /** 3 for `Conv3d` networks, 2 for `Conv2d` (nnU-Net's `2d` configuration). */
  dims: 2 | 3;
  inputChannels: number;
  /** Output channels: labels including background (nnU-Net's `num_segmentation_heads`). */
  numClasses: number;
  featuresPerStage: number[];
  kernelSizes: number[][];
  strides: number[][];
  /** Convs per encoder stage (PlainConvUNet) or residual blocks per stage (ResidualEncoderUNet). */
  blocksPerStage: number[];
  /** Convs per decoder stage (one fewer stage than the encoder). */
  convsPerStageDecoder: number[];
  /** Whether the convs (not the shortcut projections, which never have one) carry a bias. */
  convBias: boolean;
  norm: { type: 'instance'; eps: number; affine: boolean };
  nonlin: { type: 'leaky-relu'; negativeSlope: number } | { type: 'relu' };
  /** Conv → nonlin → norm instead of conv → norm → nonlin (PlainConvUNet only). */
  nonlinFirst: boolean;
  /** Whether a dropout module sits after each conv (inactive at inference; it shifts `all_modules` indices). */
  dropout: boolean;
  /** ResidualEncoderUNet stem width (default `featuresPerStage[0]`). */
  stemChannels?: number;
}

/** One state-dict entry the network needs. */
export interface ParameterShape {
  name: string;
  shape: number[];
  /** The entry this one duplicates (same storage in a checkpoint), for `all_modules.*` and `decoder.encoder.*` names. */
  aliasOf?: string;
}

/** A conv block's module tree: which parameters and which aliases it has. */
interface ConvBlockSpec {
  prefix: string;
  inChannels: number;
  outChannels: number;
  kernel: number[];
  bias: boolean;
  /** Dropout module in the block (only in the main path of a stage). */
  dropout: boolean;
  /** Whether a nonlinearity module is in the block (it has no parameters but takes an `all_modules` slot). */
  nonlin: boolean;
}

function convBlockParameters(arch: UNetArchitecture, block: ConvBlockSpec): ParameterShape[] {
  const out: ParameterShape[] = [];
  const { prefix, inChannels, outChannels, kernel } = block;
  out.push({ name: `${prefix}.conv.weight`, shape: [outChannels, inChannels, ...kernel] });
  if (block.bias) out.push({ name: `${prefix}.conv.bias`, shape: [outChannels] });
  if (arch.norm.affine) {
    out.push({ name: `${prefix}.norm.weight`, shape: [outChannels] });
    out.push({ name: `${prefix}.norm.bias`, shape: [outChannels] });
  }
  // all_modules = [conv, (dropout), norm, (nonlin)], norm and nonlin swapped when nonlin comes first.
  const normIndex = 1 + (block.dropout ? 1 : 0) + (arch.nonlinFirst && block.nonlin ? 1 : 0);
  const aliases: [string, string][] = [[`${prefix}.all_modules.0.weight`, `${prefix}.conv.weight`]];
  if (block.bias) aliases.push([`${prefix}.all_modules.0.bias`, `${prefix}.conv.bias`]);
  if (arch.norm.affine) {
    aliases.push([`${prefix}.all_modules.${normIndex}.weight`, `${prefix}.norm.weight`]);
    aliases.push([`${prefix}.all_modules.${normIndex}.bias`, `${prefix}.norm.bias`]);
  }
  for (const [name, of] of aliases) out.push({ name, shape: out.find((p) => p.name === of)!.shape, aliasOf: of });
  return out;
}

/** Every conv block of the network in execution order, with its place in the graph. */
export type UNetLayer =
  | { op: 'conv-block'; block: ConvBlockSpec; stride: number[]; activation: boolean }
  | { op: 'residual-block'; prefix: string; inChannels: number; outChannels: number; kernel: number[]; stride: number[] }
  | { op: 'stage-output'; stage: number }
  | { op: 'transpconv'; prefix: string; inChannels: number; outChannels: number; stride: number[]; skipStage: number }
  | { op: 'seg-head'; prefix: string; inChannels: number };

/** Number of stages, checked against every per-stage list. */
export function stageCount(arch: UNetArchitecture): number {
  return arch.featuresPerStage.length;
}

/** True when a stride moves along any axis. */
export function isStrided(stride: readonly number[]): boolean {
  return stride.some((s) => s !== 1);
}

/** The residual block's shortcut: AvgPool when strided, 1×1 conv + norm when the width changes. */
export function shortcutOf(inChannels: number, outChannels: number, stride: readonly number[]): { pool: boolean; projection: string | undefined } {
  const pool = isStrided(stride);
  const projection = inChannels !== outChannels ? `skip.${pool ? 1 : 0}` : undefined;
  return { pool, projection };
}

/**
 * The network as an ordered list of layers, the way `forward` runs them: encoder stages (each ending in
 * a `stage-output` that the decoder takes as a skip), then per decoder stage a transposed conv, its
 * conv blocks, and at the end the full-resolution segmentation head.
 */
export function unetLayers(arch: UNetArchitecture): UNetLayer[] {
  const n = stageCount(arch);
  const layers: UNetLayer[] = [];
  const one = Array.from({ length: arch.dims }, () => 1);
  const convBlock = (prefix: string, inChannels: number, outChannels: number, kernel: number[], stride: number[]): UNetLayer => ({
    op: 'conv-block',
    block: { prefix, inChannels, outChannels, kernel, bias: arch.convBias, dropout: arch.dropout, nonlin: true },
    stride,
    activation: true,
  });
  // 1. Encoder.
  let channels = arch.inputChannels;
  if (arch.kind === 'ResidualEncoderUNet') {
    const stem = arch.stemChannels ?? arch.featuresPerStage[0];
    layers.push(convBlock('encoder.stem.convs.0', channels, stem, arch.kernelSizes[0], one));
    channels = stem;
  }
  for (let s = 0; s < n; s++) {
    const features = arch.featuresPerStage[s];
    for (let b = 0; b < arch.blocksPerStage[s]; b++) {
      const stride = b === 0 ? arch.strides[s] : one;
      if (arch.kind === 'PlainConvUNet') {
        layers.push(convBlock(`encoder.stages.${s}.0.convs.${b}`, channels, features, arch.kernelSizes[s], stride));
      } else {
        layers.push({ op: 'residual-block', prefix: `encoder.stages.${s}.blocks.${b}`, inChannels: channels, outChannels: features, kernel: arch.kernelSizes[s], stride });
      }
      channels = features;
    }
    layers.push({ op: 'stage-output', stage: s });
  }
  // 2. Decoder, from the bottleneck up.
  for (let d = 0; d < n - 1; d++) {
    const below = arch.featuresPerStage[n - 1 - d];
    const skip = arch.featuresPerStage[n - 2 - d];
    layers.push({ op: 'transpconv', prefix: `decoder.transpconvs.${d}`, inChannels: below, outChannels: skip, stride: arch.strides[n - 1 - d], skipStage: n - 2 - d });
    for (let c = 0; c < arch.convsPerStageDecoder[d]; c++) {
      layers.push(convBlock(`decoder.stages.${d}.convs.${c}`, c === 0 ? 2 * skip : skip, skip, arch.kernelSizes[n - 2 - d], one));
    }
  }
  layers.push({ op: 'seg-head', prefix: `decoder.seg_layers.${n - 2}`, inChannels: arch.featuresPerStage[0] });
  return layers;
}

/** The conv blocks inside a BasicBlockD: conv1 (with nonlin), conv2 (without), the shortcut projection. */
export function residualBlockParts(arch: UNetArchitecture, layer: Extract<UNetLayer, { op: 'residual-block' }>): { conv1: ConvBlockSpec; conv2: ConvBlockSpec; projection?: ConvBlockSpec } {
  const { prefix, inChannels, outChannels, kernel, stride } = layer;
  const shortcut = shortcutOf(inChannels, outChannels, stride);
  const ones = Array.from({ length: arch.dims }, () => 1);
  return {
    conv1: { prefix: `${prefix}.conv1`, inChannels, outChannels, kernel, bias: arch.convBias, dropout: arch.dropout, nonlin: true },
    conv2: { prefix: `${prefix}.conv2`, inChannels: outChannels, outChannels, kernel, bias: arch.convBias, dropout: false, nonlin: false },
    ...(shortcut.projection
      ? { projection: { prefix: `${prefix}.${shortcut.projection}`, inChannels, outChannels, kernel: ones, bias: false, dropout: false, nonlin: false } }
      : {}),
  };
}

/**
 * Every state-dict entry of the network (deep-supervision heads included, as checkpoints hold them),
 * with aliases marked. `unetParameterShapes(arch).filter((p) => !p.aliasOf)` is what the ONNX graph
 * reads; a benchmark fills those with random values to get a network of the same size.
 */
export function unetParameterShapes(arch: UNetArchitecture): ParameterShape[] {
  const n = stageCount(arch);
  const encoder: ParameterShape[] = [];
  const decoder: ParameterShape[] = [];
  for (const layer of unetLayers(arch)) {
    const target = layer.op === 'conv-block' && layer.block.prefix.startsWith('decoder.') ? decoder : encoder;
    if (layer.op === 'conv-block') target.push(...convBlockParameters(arch, layer.block));
    else if (layer.op === 'residual-block') {
      const parts = residualBlockParts(arch, layer);
      encoder.push(...convBlockParameters(arch, parts.conv1), ...convBlockParameters(arch, parts.conv2));
      if (parts.projection) encoder.push(...convBlockParameters(arch, parts.projection));
    } else if (layer.op === 'transpconv') {
      decoder.push({ name: `${layer.prefix}.weight`, shape: [layer.inChannels, layer.outChannels, ...layer.stride] });
      if (arch.convBias) decoder.push({ name: `${layer.prefix}.bias`, shape: [layer.outChannels] });
    }
  }
  // Every decoder stage has a segmentation head (deep supervision); the network uses the last one.
  const ones = Array.from({ length: arch.dims }, () => 1);
  for (let d = 0; d < n - 1; d++) {
    const features = arch.featuresPerStage[n - 2 - d];
    decoder.push({ name: `decoder.seg_layers.${d}.weight`, shape: [arch.numClasses, features, ...ones] });
    decoder.push({ name: `decoder.seg_layers.${d}.bias`, shape: [arch.numClasses] });
  }
  const encoderAliases = encoder.map((p) => ({ name: `decoder.${p.name}`, shape: p.shape, aliasOf: p.aliasOf ?? p.name }));
  return [...encoder, ...encoderAliases, ...decoder];
}

/** Number of weights the ONNX graph holds (aliases and unused heads not counted). */
export function unetWeightCount(arch: UNetArchitecture): number {
  const used = new Set(usedParameterNames(arch));
  return unetParameterShapes(arch)
    .filter((p) => used.has(p.name))
    .reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Names of the entries the inference graph reads (no aliases, only the full-resolution head). */
export function usedParameterNames(arch: UNetArchitecture): string[] {
  const n = stageCount(arch);
  return unetParameterShapes(arch)
    .filter((p) => !p.aliasOf && (!p.name.startsWith('decoder.seg_layers.') || p.name.startsWith(`decoder.seg_layers.${n - 2}.`)))
    .map((p) => p.name);
}
