/**
 * The model bundle manifest (`models/<id>/model.json`): everything holocase needs to run a network the
 * way its own Python pipeline does, as data. A new network needs a new manifest, not new code
 * (see `models/README.md` for how a hospital writes one).
 *
 * Axis conventions used below:
 * - The network's voxel grid has orientation `input.orientation` (three letters, the patient direction
 *   each voxel axis i, j, k increases towards: `RAS` is what nibabel's `as_closest_canonical` gives,
 *   `LPS` what a DICOM series usually is).
 * - `input.tensorAxes` says which voxel axis feeds tensor dims 2, 3, 4 of the `[N, C, D, H, W]` input:
 *   `["k", "j", "i"]` means D = k, H = j, W = i (a NumPy array of SimpleITK's `GetArrayFromImage`);
 *   `["i", "j", "k"]` means D = i, H = j, W = k (a NumPy array from nibabel's `get_fdata()`).
 * - Every per-axis list (`spacing`, `size`, `patchSize`) is in tensor order (D, H, W), exactly as
 *   nnU-Net's `plans.json` writes them.
 */
import { z } from 'zod';
import { HolocaseError } from '../errors.ts';

const ORIENTATION = /^(?=.*[LR])(?=.*[PA])(?=.*[SI])[LRPAIS]{3}$/;

const positive = z.number().positive();
const positiveTriple = z.tuple([positive, positive, positive]);
const sizeTriple = z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]);

/**
 * Intensity normalisation of one input channel.
 * - `clip-zscore`: clip to `clip` (values) or `clipPercentiles` (of this scan), then `(x - mean) / std`.
 *   nnU-Net's `CTNormalization` is `clip` = the dataset's [0.5, 99.5] foreground percentiles and its
 *   foreground mean/std, all found in `dataset_fingerprint.json` / `plans.json`. Without `mean`/`std`,
 *   the clipped scan's own mean/std are used (nnU-Net's `ZScoreNormalization`).
 * - `window`: `[center - width/2, center + width/2]` mapped linearly onto `range` (default [0, 1]) and
 *   clipped, like MONAI's `ScaleIntensityRange` with `clip=True`.
 * - `scale`: `x * scale + offset`.
 * - `none`: Hounsfield units as they are.
 */
export const NormalizationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('clip-zscore'),
      clip: z.tuple([z.number(), z.number()]).optional(),
      clipPercentiles: z.tuple([z.number().min(0).max(100), z.number().min(0).max(100)]).optional(),
      mean: z.number().optional(),
      std: positive.optional(),
    })
    .strict()
    .refine((n) => !(n.clip && n.clipPercentiles), { message: 'give either clip (values) or clipPercentiles, not both' })
    .refine((n) => !n.clip || n.clip[0] < n.clip[1], { message: 'clip must be [low, high] with low < high', path: ['clip'] })
    .refine((n) => !n.clipPercentiles || n.clipPercentiles[0] < n.clipPercentiles[1], { message: 'clipPercentiles must be [low, high] with low < high', path: ['clipPercentiles'] })
    .refine((n) => (n.mean === undefined) === (n.std === undefined), { message: 'give mean and std together (or neither, to use the scan’s own)' }),
  z
    .object({
      type: z.literal('window'),
      center: z.number(),
      width: positive,
      range: z.tuple([z.number(), z.number()]).default([0, 1]),
    })
    .strict(),
  z.object({ type: z.literal('scale'), scale: z.number(), offset: z.number().default(0) }).strict(),
  z.object({ type: z.literal('none') }).strict(),
]);
export type Normalization = z.infer<typeof NormalizationSchema>;

const TensorAxesSchema = z
  .tuple([z.enum(['i', 'j', 'k']), z.enum(['i', 'j', 'k']), z.enum(['i', 'j', 'k'])])
  .refine((a) => new Set(a).size === 3, { message: 'tensorAxes must name each of "i", "j", "k" once' });

const InputSchema = z
  .object({
    /** Name of the ONNX input to feed (default: the model's only input). */
    name: z.string().min(1).optional(),
    /** Orientation code of the network's voxel grid, e.g. `RAS`. */
    orientation: z.string().regex(ORIENTATION, { message: 'expected three letters, one each of L/R, P/A and S/I (e.g. "RAS", "LPS")' }),
    /** Voxel axis feeding tensor dims D, H, W. */
    tensorAxes: TensorAxesSchema.default(['k', 'j', 'i']),
    /** Target voxel spacing in mm (tensor order). */
    spacing: positiveTriple.optional(),
    /** Fixed whole-volume input size in voxels (tensor order): the scan is resampled to exactly this. */
    size: sizeTriple.optional(),
    /** Number of input channels; each gets the CT normalised by its entry of `normalization`. */
    channels: z.number().int().min(1).default(1),
    /** One normalisation for all channels, or one per channel. */
    normalization: z.union([NormalizationSchema, z.array(NormalizationSchema).min(1)]),
    /** Value (after normalisation) that pads a scan smaller than the patch. nnU-Net pads with 0. */
    padValue: z.number().default(0),
  })
  .strict()
  .refine((i) => (i.spacing === undefined) !== (i.size === undefined), { message: 'give exactly one of spacing (mm) or size (voxels)' })
  .refine((i) => !Array.isArray(i.normalization) || i.normalization.length === i.channels, {
    message: 'normalization lists a different number of entries than channels',
    path: ['normalization'],
  });

const SlidingWindowSchema = z
  .object({
    mode: z.literal('sliding-window'),
    /** Patch size in voxels (tensor order). */
    patchSize: sizeTriple,
    /** Fraction of a patch shared with its neighbour (nnU-Net's tile_step_size = 1 - overlap). */
    overlap: z.number().min(0).max(0.95).default(0.5),
    /** Patches per ONNX run. */
    batchSize: z.number().int().min(1).max(64).default(1),
    /** `gaussian`: nnU-Net's importance map; `constant`: plain averaging. */
    blend: z.enum(['gaussian', 'constant']).default('gaussian'),
    /** Gaussian sigma as a fraction of the patch size (nnU-Net: 1/8). */
    sigmaScale: z.number().positive().max(1).default(0.125),
  })
  .strict();

const WholeVolumeSchema = z
  .object({
    mode: z.literal('whole'),
    /** Pad each axis up to a multiple of this (U-Nets need sizes divisible by 2^levels). */
    divisibleBy: z.number().int().min(1).default(1),
  })
  .strict();

const StructureNameSchema = z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'structure names use letters, digits, _ . -' });

const LabelTableSchema = z
  .record(z.string().regex(/^[1-9][0-9]*$/, { message: 'label keys are positive integers ("1", "2", …)' }), StructureNameSchema)
  .refine((t) => Object.keys(t).length > 0, { message: 'the label table is empty' })
  .refine((t) => new Set(Object.values(t)).size === Object.keys(t).length, { message: 'a structure name appears twice in the label table' });

const OutputSchema = z
  .object({
    /** Name of the ONNX output to read (default: the first output). */
    name: z.string().min(1).optional(),
    /**
     * `softmax`: multi-class logits, channel c = label c (0 = background), decided by argmax.
     * `sigmoid`: per-class logits, channel c = label c + 1; a voxel takes the most probable class above `threshold`.
     * `none`: the network already outputs scores (raw logits or probabilities), channel c = label c, argmax.
     */
    activation: z.enum(['softmax', 'sigmoid', 'none']),
    /** Probability a sigmoid class must exceed. */
    threshold: z.number().gt(0).lt(1).default(0.5),
    /** Label value → structure name (use anatomy catalogue names where they exist). */
    labels: LabelTableSchema,
    /**
     * How labels get back to the CT grid. `linear-logits` (default): network outputs are interpolated
     * trilinearly and decided on the CT grid, as nnU-Net's own export does; smoother and more exact,
     * costs time proportional to the channel count at boundary voxels. `nearest-labels`: labels decided
     * on the network grid and copied by nearest neighbour, as TotalSegmentator does; cheapest.
     */
    resampleBack: z.enum(['linear-logits', 'nearest-labels']).default('linear-logits'),
    /** Structures reduced to their largest 26-connected component ("all" for every one). */
    largestComponent: z.union([z.literal('all'), z.array(z.string())]).default([]),
  })
  .strict();

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, { message: 'expected a sha256 as 64 lower-case hex digits' });

/**
 * Where an imported bundle's weights came from: the file that was imported and its checksum, the
 * training framework's own names for the model, and which parts of it the bundle holds.
 */
const ProvenanceSchema = z
  .object({
    /** The tool that made the bundle, e.g. `holocase model import`. */
    importedWith: z.string().min(1),
    /** ISO date and time of the import. */
    importedAt: z.string().min(1),
    /** The framework the weights were trained with, e.g. `nnU-Net v2`. */
    framework: z.string().min(1),
    /** File or folder name that was imported (its name only, not where it was). */
    source: z.string().min(1),
    /** sha256 of the imported file, when it was one file (a zip). */
    sha256: Sha256Schema.optional(),
    /** Every file the bundle was made from, by path inside the source, with its sha256. */
    files: z.array(z.object({ path: z.string().min(1), sha256: Sha256Schema }).strict()).default([]),
    /** nnU-Net: dataset, trainer, plans and configuration names, folds and checkpoint. */
    dataset: z.string().optional(),
    trainer: z.string().optional(),
    plans: z.string().optional(),
    configuration: z.string().optional(),
    folds: z.array(z.union([z.number().int().min(0), z.literal('all')])).optional(),
    checkpoint: z.string().optional(),
  })
  .strict();

const CommonFields = {
  /** Folder name, lower case. */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'expected lower-case letters, digits, . _ - (the folder name)' }),
  name: z.string().min(1),
  version: z.string().min(1),
  description: z.string().default(''),
  /** Licence of the weights (SPDX id or text): hospitals must know what they may do with them. */
  license: z.string().min(1),
  /** DICOM modality the model was trained on (`CT`, `MR`). */
  modality: z.string().regex(/^[A-Z]{2,4}$/, { message: 'expected a DICOM modality code such as "CT"' }),
  /** What the model cannot do, in plain words. Shown to users. */
  limits: z.string().min(1),
  /** Papers, code, where the weights came from. */
  references: z.array(z.string()).default([]),
  /** How the bundle was made from someone else's weights (`holocase model import` writes it). */
  provenance: ProvenanceSchema.optional(),
};

export const OnnxManifestSchema = z
  .object({
    ...CommonFields,
    engine: z.literal('onnx'),
    /** ONNX file inside the bundle folder. */
    weights: z.string().regex(/^[^/\\]+\.onnx$/, { message: 'expected a file name ending in .onnx, inside the bundle folder' }),
    input: InputSchema,
    inference: z.discriminatedUnion('mode', [SlidingWindowSchema, WholeVolumeSchema]),
    output: OutputSchema,
  })
  .strict()
  .refine((m) => !(m.inference.mode === 'sliding-window' && m.input.size), {
    message: 'sliding-window inference needs input.spacing, not a fixed input.size',
    path: ['input', 'size'],
  })
  .refine((m) => m.output.activation === 'sigmoid' || isContiguous(m.output.labels), {
    message: 'softmax/none outputs need labels 1…N without gaps (channel c is label c)',
    path: ['output', 'labels'],
  })
  .refine((m) => m.output.activation !== 'sigmoid' || isContiguous(m.output.labels), {
    message: 'sigmoid outputs need labels 1…N without gaps (channel c is label c + 1)',
    path: ['output', 'labels'],
  });

/** Parameters of the built-in rules model (HU thresholds and sizes); defaults are the tuned values. */
export const RulesParametersSchema = z
  .object({
    /** Voxels above this belong to the body (air and lung are below). */
    bodyHu: z.number().default(-500),
    /** Opening radius that detaches the table and blankets from the body. */
    bodyOpeningMm: z.number().min(0).default(4),
    /** Skin shell thickness. */
    skinMm: z.number().positive().default(2.5),
    /**
     * The rules decide on a grid no finer than this (mm): finer axes are merged by whole factors and the
     * boundaries refined on the scan's own voxels. 0 decides on the scan's own grid.
     */
    workingSpacingMm: z.number().min(0).default(1.6),
    bone: z
      .object({
        /** Voxels at least this dense may be bone (cancellous bone at 3 mm is 100–250 HU). */
        lowHu: z.number().default(100),
        /** Bone grows from voxels at least this dense (cortex)... */
        seedHu: z.number().default(200),
        /**
         * In contrast-enhanced scans, bone grows at most this far (mm) through candidate voxels from its
         * seeds (enhanced organs reach bone HU); deeper marrow comes from hole filling.
         */
        enhancedGrowMm: z.number().min(0).default(12),
        /** In contrast-enhanced scans, bone grows only from voxels at least this dense (above enhanced organs). */
        enhancedSeedHu: z.number().default(250),
        /** Enclosed holes are filled when their mean is above this (marrow yes, spinal canal no)... */
        holeMinMeanHu: z.number().default(60),
        /** ... and no larger than this in an axial slice (mm²): marrow, not the chest inside the ribs. */
        maxHoleMm2: z.number().positive().default(2500),
        /** Closing radius that bridges cortex gaps before hole filling. */
        closeMm: z.number().min(0).default(3),
        /** Components smaller than this are dropped. */
        minVolumeMl: z.number().min(0).default(0.1),
      })
      .strict()
      .prefault({}),
    lung: z
      .object({
        /** Air and lung parenchyma inside the body are below this. */
        airHu: z.number().default(-400),
        /** A lung component's median is above this (bowel gas is pure air, about -1000). */
        minMedianHu: z.number().default(-950),
        /** Smallest lung component. */
        minVolumeMl: z.number().min(0).default(20),
      })
      .strict()
      .prefault({}),
    airway: z
      .object({
        /** Airway lumen is below this (pure air). */
        airHu: z.number().default(-900),
        /** Largest cross-section of a trachea seed at the top of the scan. */
        maxSeedAreaMm2: z.number().positive().default(600),
      })
      .strict()
      .prefault({}),
    contrast: z
      .object({
        /** Contrast-filled blood is at least this dense (unenhanced blood is about 40 HU). */
        bloodMinHu: z.number().default(130),
        /** ... and at most this (denser is cortical bone or calcium). */
        bloodMaxHu: z.number().default(600),
        /** Blood-pool voxels are this far inside the bright region (vessel lumen, not a bone rim). */
        coreMm: z.number().min(0).default(3),
        /** Local standard deviation of a blood pool (homogeneous, unlike marrow). */
        maxLocalStdHu: z.number().positive().default(45),
        /** The scan is contrast-enhanced when the blood pool holds at least this much. */
        minPoolMl: z.number().min(0).default(1.5),
        /** Largest median HU around a blood-pool piece (soft tissue around a vessel, bone around marrow). */
        maxRingMedianHu: z.number().default(100),
        /** ... or at least this far below the piece's mean (a vessel among enhanced organs). */
        minRingContrastHu: z.number().default(150),
        /** Largest fraction of that surrounding 200 HU denser than the pool (cortex around marrow). */
        maxDenseRingFraction: z.number().min(0).max(1).default(0.15),
        /** Thickest calcified plaque: dense voxels this close to the lumen that no bone reaches first are vessel wall. */
        plaqueMm: z.number().min(0).default(5),
        /** Vessel wall thickness added around the lumen and plaque (vessels are segmented whole). */
        wallMm: z.number().min(0).default(1.5),
        /** The wall is denser than this (fat beside a vessel is not wall). */
        wallMinHu: z.number().default(-30),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type RulesParameters = z.infer<typeof RulesParametersSchema>;

export const RulesManifestSchema = z
  .object({
    ...CommonFields,
    engine: z.literal('rules'),
    rules: RulesParametersSchema.prefault({}),
    output: z.object({ labels: LabelTableSchema }).strict(),
  })
  .strict();

/**
 * One member of a model set: a bundle run on the same CT, whose structures join the set's label map.
 * A member structure keeps its name in the set unless `rename` gives it another; the set's label table
 * says which label value each name gets.
 */
const SetMemberSchema = z
  .object({
    /** Id of the member bundle (an `onnx` or `rules` bundle in the same models folder). */
    model: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'expected a bundle id (lower-case letters, digits, . _ -)' }),
    /** Member structures taken into the set (default: all of them); the rest are dropped. */
    classes: z.array(StructureNameSchema).min(1).optional(),
    /** Member structure name → the set's name for it, where they differ. */
    rename: z.record(StructureNameSchema, StructureNameSchema).default({}),
    /**
     * Where this member's structures go: `overwrite` (default): wherever it found one, over what earlier
     * members wrote (TotalSegmentator's merge of its five parts); `fill`: only where the label map is
     * still background, so earlier members keep priority.
     */
    merge: z.enum(['overwrite', 'fill']).default('overwrite'),
    /**
     * Run this member only inside the bounding box of set structures found by earlier members (plus a
     * margin), as TotalSegmentator crops its organ-specific models; outside the box it writes nothing.
     */
    crop: z
      .object({
        /** Set structure names whose union's bounding box is the crop. */
        to: z.array(StructureNameSchema).min(1),
        /** Margin added on every side, in mm. */
        marginMm: z.number().min(0).default(20),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * A model set: member bundles run one after another on the same CT (each member's session and buffers
 * are freed before the next starts, so the set needs the memory of its largest member plus one label
 * map) and merged, in member order, into one label map with the set's label table.
 */
export const SetManifestSchema = z
  .object({
    ...CommonFields,
    engine: z.literal('set'),
    members: z.array(SetMemberSchema).min(1).max(32),
    output: z.object({ labels: LabelTableSchema }).strict(),
  })
  .strict()
  .refine((m) => new Set(m.members.map((member) => member.model)).size === m.members.length, { message: 'a member bundle is listed twice', path: ['members'] })
  .superRefine((m, ctx) => {
    const names = new Set(Object.values(m.output.labels));
    m.members.forEach((member, index) => {
      for (const [from, to] of Object.entries(member.rename)) {
        if (!names.has(to)) ctx.addIssue({ code: 'custom', path: ['members', index, 'rename', from], message: `"${to}" is not in the set's output.labels` });
      }
      for (const name of member.crop?.to ?? []) {
        if (!names.has(name)) ctx.addIssue({ code: 'custom', path: ['members', index, 'crop', 'to'], message: `"${name}" is not in the set's output.labels` });
      }
      if (index === 0 && member.crop) ctx.addIssue({ code: 'custom', path: ['members', 0, 'crop'], message: 'the first member cannot be cropped: crops use structures found by earlier members' });
    });
  });

export const ManifestSchema = z.discriminatedUnion('engine', [OnnxManifestSchema, RulesManifestSchema, SetManifestSchema]);

export type OnnxManifest = z.infer<typeof OnnxManifestSchema>;
export type RulesManifest = z.infer<typeof RulesManifestSchema>;
export type SetManifest = z.infer<typeof SetManifestSchema>;
export type SetMember = SetManifest['members'][number];
export type ModelManifest = z.infer<typeof ManifestSchema>;

function isContiguous(labels: Record<string, string>): boolean {
  const keys = Object.keys(labels).map(Number).sort((a, b) => a - b);
  return keys.every((k, i) => k === i + 1);
}

/** `input.spacing[1]` from a zod path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

type Issue = { path: PropertyKey[]; message: string; code?: string; errors?: Issue[][] };

/**
 * Lines for one zod issue. A union (e.g. one normalisation or a list of them) reports every branch; the
 * branch that got furthest (longest path) is the one the author meant, so only its problems are shown.
 */
function describeIssue(issue: Issue, prefix: PropertyKey[]): string[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    const depth = (branch: Issue[]) => Math.max(...branch.map((i) => i.path.length));
    const best = [...issue.errors].filter((b) => b.length > 0).sort((a, b) => depth(b) - depth(a))[0];
    if (best) return best.flatMap((i) => describeIssue(i, path));
  }
  return [`${formatPath(path)}: ${issue.message}`];
}

/**
 * Parses and checks a manifest. Throws `MODEL_INVALID` naming every bad field path and what was expected,
 * e.g. `models/x/model.json: input.spacing[1]: Too small: expected number to be >0`.
 */
export function parseManifest(json: unknown, source = 'model.json'): ModelManifest {
  const result = ManifestSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, []));
  throw new HolocaseError('MODEL_INVALID', `${source} is not a valid model manifest: ${problems.join('; ')}`);
}

/** The label table as numbers: label value → structure name, in label order. */
export function labelEntries(manifest: ModelManifest): { label: number; name: string }[] {
  return Object.entries(manifest.output.labels)
    .map(([k, name]) => ({ label: Number(k), name }))
    .sort((a, b) => a.label - b.label);
}

/** Normalisation of each input channel. */
export function channelNormalizations(manifest: OnnxManifest): Normalization[] {
  const n = manifest.input.normalization;
  return Array.isArray(n) ? n : Array.from({ length: manifest.input.channels }, () => n);
}

/** Number of output channels the network must produce for this manifest. */
export function expectedOutputChannels(manifest: OnnxManifest): number {
  const count = Object.keys(manifest.output.labels).length;
  return manifest.output.activation === 'sigmoid' ? count : count + 1;
}
