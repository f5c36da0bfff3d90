/**
 * What an nnU-Net v2 trained-model folder's `plans.json` and `dataset.json` say, for one configuration:
 * the network (`UNetArchitecture`) and the recipe a bundle manifest needs (spacing, patch size, axis
 * order, per-channel normalisation, labels).
 *
 * Both plans formats are read: the current one (`configurations.<c>.architecture` with
 * `network_class_name` and `arch_kwargs`) and the older one that TotalSegmentator's v2 weights use
 * (`UNet_class_name`, `UNet_base_num_features`, `n_conv_per_stage_encoder`, `pool_op_kernel_sizes`,
 * `conv_kernel_sizes`, `unet_max_num_features`), mapped the way nnU-Net's own `ConfigurationManager`
 * (`plans_handler.py`) maps them. Configurations inherit (`inherits_from`) as in `PlansManager`.
 */
import { z } from 'zod';
import { HolocaseError } from '../../errors.ts';
import type { Normalization } from '../manifest.ts';
import type { UNetArchitecture } from './architecture.ts';

/** The recipe of one configuration, in tensor order (after `transpose_forward`). */
export interface NnUnetRecipe {
  datasetName: string;
  plansName: string;
  configuration: string;
  architecture: UNetArchitecture;
  /** Target spacing in mm, tensor order (three entries; a 2-D configuration's D spacing is the dataset's median). */
  spacing: [number, number, number];
  /** Patch size in voxels, tensor order (a 2-D configuration: `[1, H, W]`). */
  patchSize: [number, number, number];
  /** Which of SimpleITK's array axes (k, j, i) feeds tensor dims D, H, W. */
  tensorAxes: ['i' | 'j' | 'k', 'i' | 'j' | 'k', 'i' | 'j' | 'k'];
  /** One normalisation per input channel. */
  normalization: Normalization[];
  /** Label value → structure name (background and nnU-Net's `ignore` label left out). */
  labels: Record<string, string>;
  /** `CT` or `MR`, from the dataset's channel names. */
  modality: string;
  /** Things a person should know about how faithfully holocase can run this configuration. */
  notes: string[];
}

const intList = z.array(z.number().int().positive());
const perStage = z.union([z.number().int().positive(), intList]);
const perStageList = z.union([z.number().int().positive(), z.array(z.union([z.number().int().positive(), intList]))]);

const ArchKwargsSchema = z
  .object({
    n_stages: z.number().int().min(1).max(16),
    features_per_stage: perStage,
    conv_op: z.string(),
    kernel_sizes: perStageList,
    strides: perStageList,
    n_conv_per_stage: perStage.optional(),
    n_blocks_per_stage: perStage.optional(),
    n_conv_per_stage_decoder: perStage,
    conv_bias: z.boolean().default(false),
    norm_op: z.string().nullable().default(null),
    norm_op_kwargs: z.record(z.string(), z.unknown()).nullable().default(null),
    dropout_op: z.string().nullable().default(null),
    dropout_op_kwargs: z.unknown().optional(),
    nonlin: z.string().nullable().default(null),
    nonlin_kwargs: z.record(z.string(), z.unknown()).nullable().default(null),
    deep_supervision: z.boolean().optional(),
    nonlin_first: z.boolean().default(false),
    block: z.string().nullable().optional(),
    bottleneck_channels: z.unknown().optional(),
    stem_channels: z.number().int().positive().nullable().optional(),
  })
  .strict();

const OldArchitectureSchema = z.object({
  UNet_class_name: z.string(),
  UNet_base_num_features: z.number().int().positive(),
  unet_max_num_features: z.number().int().positive(),
  n_conv_per_stage_encoder: intList,
  n_conv_per_stage_decoder: intList,
  pool_op_kernel_sizes: z.array(intList),
  conv_kernel_sizes: z.array(intList),
});

const ConfigurationSchema = z.object({
  patch_size: intList.min(2).max(3),
  spacing: z.array(z.number().positive()).min(2).max(3),
  normalization_schemes: z.array(z.string()).min(1),
  use_mask_for_norm: z.array(z.boolean()).optional(),
  architecture: z.object({ network_class_name: z.string(), arch_kwargs: z.record(z.string(), z.unknown()) }).optional(),
  previous_stage: z.string().optional(),
});

const IntensitySchema = z.object({
  mean: z.number(),
  std: z.number().min(0),
  percentile_00_5: z.number(),
  percentile_99_5: z.number(),
});

const PlansSchema = z.object({
  dataset_name: z.string().default('nnUNet dataset'),
  plans_name: z.string().default('nnUNetPlans'),
  configurations: z.record(z.string(), z.record(z.string(), z.unknown())),
  transpose_forward: z.array(z.number().int().min(0).max(2)).length(3).default([0, 1, 2]),
  original_median_spacing_after_transp: z.array(z.number().positive()).length(3).optional(),
  foreground_intensity_properties_per_channel: z.record(z.string(), z.unknown()).optional(),
  foreground_intensity_properties_by_modality: z.record(z.string(), z.unknown()).optional(),
});

const DatasetSchema = z.object({
  channel_names: z.record(z.string(), z.string()).optional(),
  modality: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.union([z.number().int().min(0), z.array(z.number().int().min(0))])),
  regions_class_order: z.array(z.number()).optional(),
});

function invalid(source: string, message: string): HolocaseError {
  return new HolocaseError('NNUNET_INVALID', `${source}: ${message}`);
}

function unsupported(source: string, message: string): HolocaseError {
  return new HolocaseError('NNUNET_UNSUPPORTED', `${source}: ${message}`);
}

function describeZod(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
}

/** A configuration with `inherits_from` resolved (parents first, the child's keys win). */
function resolveConfiguration(configurations: Record<string, Record<string, unknown>>, name: string, source: string, seen: string[] = []): Record<string, unknown> {
  const own = configurations[name];
  if (!own) throw invalid(source, `has no configuration "${name}" (it has ${Object.keys(configurations).join(', ') || 'none'})`);
  const parent = own.inherits_from;
  if (typeof parent !== 'string') return { ...own };
  if (seen.includes(parent)) throw invalid(source, `configuration "${name}" inherits from itself (${[...seen, name, parent].join(' → ')})`);
  return { ...resolveConfiguration(configurations, parent, source, [...seen, name]), ...own };
}

/** `torch.nn.modules.conv.Conv3d` → `Conv3d`. */
function className(dotted: string): string {
  return dotted.split('.').pop() ?? dotted;
}

/** A per-stage value given once (an int) or per stage, each an int or a per-axis list. */
function perAxis(value: number | (number | number[])[], stages: number, dims: number, what: string, source: string): number[][] {
  const list = typeof value === 'number' ? Array.from({ length: stages }, () => value) : value;
  if (list.length !== stages) throw invalid(source, `${what} has ${list.length} entries for ${stages} stages`);
  return list.map((entry) => {
    const axes = typeof entry === 'number' ? Array.from({ length: dims }, () => entry) : entry;
    if (axes.length !== dims) throw invalid(source, `${what} entry [${axes.join(', ')}] does not have ${dims} axes`);
    return axes;
  });
}

function perStageCount(value: number | number[], count: number, what: string, source: string): number[] {
  const list = typeof value === 'number' ? Array.from({ length: count }, () => value) : value;
  if (list.length !== count) throw invalid(source, `${what} has ${list.length} entries; expected ${count}`);
  return list;
}

/** The `architecture` block (current format), or the old keys mapped as nnU-Net maps them. */
function architectureBlock(config: Record<string, unknown>, dims: number, source: string): { className: string; kwargs: Record<string, unknown> } {
  const parsed = ConfigurationSchema.shape.architecture.safeParse(config.architecture);
  if (parsed.success && parsed.data) return { className: parsed.data.network_class_name, kwargs: parsed.data.arch_kwargs };
  const old = OldArchitectureSchema.safeParse(config);
  if (!old.success) throw invalid(source, `the configuration describes no network (neither an "architecture" block nor the older UNet_class_name keys): ${describeZod(old.error)}`);
  const o = old.data;
  const known = ['PlainConvUNet', 'ResidualEncoderUNet'];
  if (!known.includes(o.UNet_class_name)) throw unsupported(source, `network "${o.UNet_class_name}" is not one holocase can rebuild (it rebuilds ${known.join(' and ')})`);
  const stages = o.n_conv_per_stage_encoder.length;
  return {
    className: o.UNet_class_name,
    kwargs: {
      n_stages: stages,
      features_per_stage: Array.from({ length: stages }, (_, i) => Math.min(o.UNet_base_num_features * 2 ** i, o.unet_max_num_features)),
      conv_op: `torch.nn.modules.conv.Conv${dims}d`,
      kernel_sizes: o.conv_kernel_sizes,
      strides: o.pool_op_kernel_sizes,
      [o.UNet_class_name === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage']: o.n_conv_per_stage_encoder,
      n_conv_per_stage_decoder: o.n_conv_per_stage_decoder,
      conv_bias: true,
      norm_op: `torch.nn.modules.instancenorm.InstanceNorm${dims}d`,
      norm_op_kwargs: { eps: 1e-5, affine: true },
      dropout_op: null,
      nonlin: 'torch.nn.LeakyReLU',
      nonlin_kwargs: { inplace: true },
    },
  };
}

/** The network of a configuration, from its plans entry and the dataset's channel and label counts. */
export function parseArchitecture(config: Record<string, unknown>, inputChannels: number, numClasses: number, source: string): UNetArchitecture {
  const dims = Array.isArray(config.patch_size) ? config.patch_size.length : 0;
  if (dims !== 2 && dims !== 3) throw invalid(source, `patch_size must have 2 or 3 entries`);
  const block = architectureBlock(config, dims, source);
  const kind = className(block.className);
  if (kind !== 'PlainConvUNet' && kind !== 'ResidualEncoderUNet') {
    throw unsupported(source, `network "${block.className}" is not one holocase can rebuild (it rebuilds PlainConvUNet and ResidualEncoderUNet, the networks nnU-Net's default and ResEnc plans use)`);
  }
  const parsed = ArchKwargsSchema.safeParse(block.kwargs);
  if (!parsed.success) throw unsupported(source, `the ${kind} arguments are not ones holocase understands: ${describeZod(parsed.error)}`);
  const k = parsed.data;
  // 1. Operators: N-d conv, instance norm, (leaky) ReLU; dropout is inactive at inference.
  const conv = className(k.conv_op);
  if (conv !== `Conv${dims}d`) throw unsupported(source, `conv_op ${k.conv_op} does not match the ${dims}-D patch size`);
  const norm = k.norm_op ? className(k.norm_op) : 'none';
  if (norm !== `InstanceNorm${dims}d`) throw unsupported(source, `norm_op ${k.norm_op ?? 'None'} is not supported (holocase rebuilds InstanceNorm${dims}d networks)`);
  const normKwargs = k.norm_op_kwargs ?? {};
  if (normKwargs.track_running_stats === true) throw unsupported(source, 'instance norm with running statistics (track_running_stats) is not supported');
  const nonlinName = k.nonlin ? className(k.nonlin) : 'none';
  const nonlinKwargs = k.nonlin_kwargs ?? {};
  let nonlin: UNetArchitecture['nonlin'];
  if (nonlinName === 'LeakyReLU') nonlin = { type: 'leaky-relu', negativeSlope: typeof nonlinKwargs.negative_slope === 'number' ? nonlinKwargs.negative_slope : 0.01 };
  else if (nonlinName === 'ReLU') nonlin = { type: 'relu' };
  else throw unsupported(source, `nonlin ${k.nonlin ?? 'None'} is not supported (holocase rebuilds LeakyReLU and ReLU networks)`);
  if (k.block && className(k.block) !== 'BasicBlockD') throw unsupported(source, `residual block ${k.block} is not supported (holocase rebuilds BasicBlockD, the ResEnc presets' block)`);
  if (kind === 'ResidualEncoderUNet' && k.nonlin_first) throw unsupported(source, 'ResidualEncoderUNet has no nonlin_first option');
  // 2. Per-stage lists.
  const stages = k.n_stages;
  const blocks = kind === 'PlainConvUNet' ? k.n_conv_per_stage : k.n_blocks_per_stage;
  if (blocks === undefined) throw invalid(source, `${kind} needs ${kind === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage'}`);
  const featuresPerStage = perStageCount(k.features_per_stage, stages, 'features_per_stage', source);
  return {
    kind,
    dims,
    inputChannels,
    numClasses,
    featuresPerStage,
    kernelSizes: perAxis(k.kernel_sizes, stages, dims, 'kernel_sizes', source),
    strides: perAxis(k.strides, stages, dims, 'strides', source),
    blocksPerStage: perStageCount(blocks, stages, kind === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage', source),
    convsPerStageDecoder: perStageCount(k.n_conv_per_stage_decoder, stages - 1, 'n_conv_per_stage_decoder', source),
    convBias: k.conv_bias,
    norm: { type: 'instance', eps: typeof normKwargs.eps === 'number' ? normKwargs.eps : 1e-5, affine: normKwargs.affine === true },
    nonlin,
    nonlinFirst: k.nonlin_first,
    dropout: Boolean(k.dropout_op),
    ...(kind === 'ResidualEncoderUNet' && k.stem_channels ? { stemChannels: k.stem_channels } : {}),
  };
}

/** dataset.json label names → manifest structure names (letters, digits, `_ . -`). */
function structureName(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9_.-]+/g, '_') || 'structure';
}

/** Channel name → modality: CT, or MR for the usual MR sequence names; undefined otherwise. */
function modalityOf(channel: string): string | undefined {
  if (/^ct$/i.test(channel.trim())) return 'CT';
  if (/^(mr|mri|t1|t1w|t1c|t1ce|t2|t2w|flair|adc|dwi|pd)\b/i.test(channel.trim())) return 'MR';
  return undefined;
}

/** One manifest normalisation from nnU-Net's scheme and the channel's foreground intensity properties. */
function channelNormalization(scheme: string, properties: unknown, channel: number, notes: string[], source: string): Normalization {
  switch (scheme) {
    case 'CTNormalization': {
      const parsed = IntensitySchema.safeParse(properties);
      if (!parsed.success) throw invalid(source, `CTNormalization of channel ${channel} needs foreground_intensity_properties_per_channel["${channel}"] with mean, std, percentile_00_5 and percentile_99_5`);
      const p = parsed.data;
      // nnU-Net: clip to the 0.5/99.5 percentiles, then (x − mean) / max(std, 1e-8).
      return { type: 'clip-zscore', clip: [p.percentile_00_5, p.percentile_99_5], mean: p.mean, std: Math.max(p.std, 1e-8) };
    }
    case 'ZScoreNormalization':
      notes.push(`channel ${channel}: ZScoreNormalization uses the whole scan's mean and standard deviation (nnU-Net uses the foreground mask when use_mask_for_norm is set)`);
      return { type: 'clip-zscore' };
    case 'NoNormalization':
      return { type: 'none' };
    case 'RGBTo01Normalization':
      return { type: 'scale', scale: 1 / 255, offset: 0 };
    default:
      throw unsupported(source, `normalisation "${scheme}" of channel ${channel} has no holocase equivalent (supported: CTNormalization, ZScoreNormalization, NoNormalization, RGBTo01Normalization)`);
  }
}

/**
 * Reads one configuration of a trained-model folder. `source` names the folder in messages. Throws
 * `NNUNET_INVALID` for plans or dataset files that are not nnU-Net v2's, `NNUNET_UNSUPPORTED` for what
 * holocase cannot run faithfully (another network class, region-based labels, a cascade stage).
 */
export function readNnUnetRecipe(plansJson: unknown, datasetJson: unknown, configuration: string, source: string): NnUnetRecipe {
  const plansParsed = PlansSchema.safeParse(plansJson);
  if (!plansParsed.success) throw invalid(`${source}/plans.json`, `is not an nnU-Net v2 plans file: ${describeZod(plansParsed.error)}`);
  const datasetParsed = DatasetSchema.safeParse(datasetJson);
  if (!datasetParsed.success) throw invalid(`${source}/dataset.json`, `is not an nnU-Net v2 dataset file: ${describeZod(datasetParsed.error)}`);
  const plans = plansParsed.data;
  const dataset = datasetParsed.data;
  const notes: string[] = [];
  // 1. Labels: background 0, consecutive values, no regions; nnU-Net's `ignore` label is not an output.
  if (dataset.regions_class_order || Object.values(dataset.labels).some((v) => Array.isArray(v))) {
    throw unsupported(`${source}/dataset.json`, 'this is a region-based model (regions_class_order): its outputs are overlapping regions decided by sigmoid in a fixed order, which holocase bundles do not express; holocase imports label-based nnU-Net models');
  }
  const entries = Object.entries(dataset.labels as Record<string, number>).filter(([name]) => name !== 'ignore').sort((a, b) => a[1] - b[1]);
  if (entries.length < 2 || entries[0][1] !== 0 || entries.some(([, v], i) => v !== i)) {
    throw invalid(`${source}/dataset.json`, `labels must be 0 (background), 1, 2, … without gaps (found ${entries.map(([n, v]) => `${n}=${v}`).join(', ')})`);
  }
  const labels: Record<string, string> = {};
  for (const [name, value] of entries.slice(1)) labels[String(value)] = structureName(name);
  if (new Set(Object.values(labels)).size !== entries.length - 1) throw invalid(`${source}/dataset.json`, 'two labels have the same name');
  // 2. Channels and modality.
  const channelNames = Object.entries(dataset.channel_names ?? dataset.modality ?? {}).sort((a, b) => Number(a[0]) - Number(b[0])).map(([, name]) => name);
  if (channelNames.length === 0) throw invalid(`${source}/dataset.json`, 'has no channel_names');
  const modalities = new Set(channelNames.map(modalityOf));
  if (modalities.size !== 1 || modalities.has(undefined)) {
    throw unsupported(`${source}/dataset.json`, `input channels ${channelNames.map((c) => `"${c}"`).join(', ')}: holocase feeds every channel from one CT or MR scan, so all channels must be CT (or all MR)`);
  }
  // 3. The configuration, its network and recipe.
  const config = resolveConfiguration(plans.configurations, configuration, `${source}/plans.json`);
  const parsedConfig = ConfigurationSchema.safeParse(config);
  if (!parsedConfig.success) throw invalid(`${source}/plans.json`, `configuration "${configuration}": ${describeZod(parsedConfig.error)}`);
  const c = parsedConfig.data;
  if (c.previous_stage) throw unsupported(`${source}/plans.json`, `configuration "${configuration}" is the second stage of a cascade (it needs "${c.previous_stage}"'s segmentation as input); import a single-stage configuration such as 3d_fullres`);
  if (c.patch_size.length !== c.spacing.length) throw invalid(`${source}/plans.json`, `configuration "${configuration}" has ${c.patch_size.length} patch dims but ${c.spacing.length} spacings`);
  if (c.normalization_schemes.length !== channelNames.length) {
    throw invalid(`${source}/plans.json`, `configuration "${configuration}" has ${c.normalization_schemes.length} normalisation schemes for ${channelNames.length} channels`);
  }
  const architecture = parseArchitecture(config, channelNames.length, entries.length, `${source}/plans.json (${configuration})`);
  const intensities = plans.foreground_intensity_properties_per_channel ?? plans.foreground_intensity_properties_by_modality ?? {};
  const normalization = c.normalization_schemes.map((scheme, ch) => channelNormalization(scheme, intensities[String(ch)], ch, notes, `${source}/plans.json`));
  const twoD = c.patch_size.length === 2;
  if (twoD) {
    notes.push('2-D configuration: slices are resampled to the dataset’s median slice spacing (nnU-Net keeps each scan’s own), then segmented one by one');
  }
  const sliceSpacing = plans.original_median_spacing_after_transp?.[0];
  if (twoD && !sliceSpacing) throw invalid(`${source}/plans.json`, 'a 2-D configuration needs original_median_spacing_after_transp for the slice spacing');
  const spacing = (twoD ? [sliceSpacing!, ...c.spacing] : c.spacing) as [number, number, number];
  const patchSize = (twoD ? [1, ...c.patch_size] : c.patch_size) as [number, number, number];
  // SimpleITK's array axes are (k, j, i); tensor dim d is array axis transpose_forward[d].
  const arrayAxes = ['k', 'j', 'i'] as const;
  const tensorAxes = plans.transpose_forward.map((a) => arrayAxes[a]) as NnUnetRecipe['tensorAxes'];
  if (new Set(tensorAxes).size !== 3) throw invalid(`${source}/plans.json`, `transpose_forward [${plans.transpose_forward.join(', ')}] is not a permutation of 0, 1, 2`);
  return {
    datasetName: plans.dataset_name,
    plansName: plans.plans_name,
    configuration,
    architecture,
    spacing,
    patchSize,
    tensorAxes,
    normalization,
    labels,
    modality: [...modalities][0]!,
    notes,
  };
}
