/**
 * Model sets (`engine: "set"`): member bundles run one after another on the same CT and merged, in
 * member order, into one label map with the set's label table — how TotalSegmentator runs its `total`
 * task as five networks (organs, vertebrae, cardiac, muscles, ribs) and merges them with a lookup table
 * per part, each later part writing over the earlier ones wherever it found a structure.
 *
 * - `planModelSet` checks a set against its members once, when it is loaded: every member exists, is
 *   not itself a set, segments the set's modality, and every structure it contributes has a place in
 *   the set's label table (and every set label comes from some member); it returns, per member, the
 *   lookup table member label → set label.
 * - `runModelSet` segments with each member in turn and merges. Only one member runs at a time; its
 *   session and buffers are gone before the next starts, so a set's peak memory is that of its largest
 *   member plus two label maps on the CT grid (the set's and the member's).
 */
import { labelBoundingBoxes, type VoxelBox } from '../../mesh/boundingBoxes.ts';
import { spacingOf, multiplyMat4, type Mat4, type Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import type { StageContext } from '../pipeline/context.ts';
import type { Volume } from '../volume/volume.ts';
import type { ModelBundle } from './bundle.ts';
import { labelEntries, type SetManifest, type SetMember } from './manifest.ts';

export interface SetMemberPlan {
  /** The member bundle. */
  bundle: ModelBundle;
  /** Its entry in the set manifest. */
  member: SetMember;
  /** Member label value → set label value (0: not taken into the set). */
  lut: Uint16Array;
  /** Set label values whose bounding box crops this member (empty: the whole CT). */
  cropLabels: number[];
}

/** What a member's segmentation hands back to the set. */
export interface MemberResult {
  labels: Volume<Uint8Array | Uint16Array>;
  provider: string;
  notes: string[];
  timings: Record<string, number>;
}

/** Segments a volume with one member bundle (the engine's `segment`). */
export type SegmentMember = (volume: Volume, bundle: ModelBundle, context: StageContext) => Promise<MemberResult>;

export interface ModelSetResult {
  labels: Uint8Array | Uint16Array;
  /** Providers the members ran on, e.g. `cpu`. */
  provider: string;
  notes: string[];
  timings: Record<string, number>;
}

/**
 * Checks a set against its loaded members and returns each member's label mapping. Throws
 * `MODEL_INVALID` naming the set, the member and the structure that does not fit.
 */
export function planModelSet(setId: string, set: SetManifest, members: ModelBundle[]): SetMemberPlan[] {
  const fail = (message: string): never => {
    throw new HolocaseError('MODEL_INVALID', `models/${setId}/model.json: ${message}`);
  };
  const setLabels = new Map(labelEntries(set).map((e) => [e.name, e.label]));
  /** Set structure names produced by the members checked so far. */
  const produced = new Set<string>();
  const plans = set.members.map((member, index): SetMemberPlan => {
    const bundle = members[index];
    const m = bundle.manifest;
    // 1. The member itself: a single network or rules model of the set's modality.
    if (m.engine === 'set') fail(`member "${member.model}" is itself a set; list its members instead`);
    if (m.modality !== set.modality) fail(`member "${member.model}" segments ${m.modality} scans but the set is for ${set.modality}`);
    // 2. A crop uses structures that earlier members produce.
    const cropLabels = (member.crop?.to ?? []).map((name) => {
      if (!produced.has(name)) fail(`member "${member.model}" is cropped to "${name}", which no earlier member produces`);
      return setLabels.get(name)!;
    });
    // 3. Which member structures are taken, and under which set name.
    const entries = labelEntries(m);
    const memberNames = new Set(entries.map((e) => e.name));
    for (const name of [...(member.classes ?? []), ...Object.keys(member.rename)]) {
      if (!memberNames.has(name)) fail(`member "${member.model}" has no structure "${name}" (it has ${[...memberNames].join(', ')})`);
    }
    const taken = member.classes ? new Set(member.classes) : memberNames;
    const lut = new Uint16Array(Math.max(...entries.map((e) => e.label)) + 1);
    for (const { label, name } of entries) {
      if (!taken.has(name)) continue;
      const setName = member.rename[name] ?? name;
      const setLabel = setLabels.get(setName);
      if (setLabel === undefined) {
        fail(`member "${member.model}" structure "${name}"${setName !== name ? ` (renamed "${setName}")` : ''} has no label in the set's output.labels; add it, rename it, or leave it out with "classes"`);
      }
      lut[label] = setLabel!;
      produced.add(setName);
    }
    return { bundle, member, lut, cropLabels };
  });
  // 4. Every label of the set comes from some member.
  const orphans = [...setLabels.keys()].filter((name) => !produced.has(name));
  if (orphans.length > 0) fail(`no member produces ${orphans.map((n) => `"${n}"`).join(', ')} of output.labels`);
  return plans;
}

/**
 * The bounding box (CT voxel indices, inclusive) of the given set labels in `labels`, grown by
 * `marginMm` on every side and clamped to the grid; undefined when none of them is present.
 */
export function cropBox(labels: Volume<Uint8Array | Uint16Array>, values: readonly number[], marginMm: number): VoxelBox | undefined {
  const wanted = new Set(values);
  const boxes = labelBoundingBoxes(labels).filter((e) => wanted.has(e.label)).map((e) => e.box);
  if (boxes.length === 0) return undefined;
  const spacing = spacingOf(labels.affine);
  const min = [0, 1, 2].map((a) => Math.max(0, Math.min(...boxes.map((b) => b.min[a])) - Math.ceil(marginMm / spacing[a]))) as Vec3;
  const max = [0, 1, 2].map((a) => Math.min(labels.dims[a] - 1, Math.max(...boxes.map((b) => b.max[a])) + Math.ceil(marginMm / spacing[a]))) as Vec3;
  return { min, max };
}

/** The part of a volume inside a box, on the same voxel grid (its affine moved to the box's corner). */
export function cropVolume<T extends Volume>(volume: T, box: VoxelBox): T {
  const [nx, ny] = volume.dims;
  const dims = [0, 1, 2].map((a) => box.max[a] - box.min[a] + 1) as Vec3;
  const Data = volume.data.constructor as new (n: number) => T['data'];
  const data = new Data(dims[0] * dims[1] * dims[2]);
  let o = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++, o += dims[0]) {
      const row = (box.min[2] + k) * nx * ny + (box.min[1] + j) * nx + box.min[0];
      data.set(volume.data.subarray(row, row + dims[0]), o);
    }
  }
  const shift: Mat4 = [1, 0, 0, box.min[0], 0, 1, 0, box.min[1], 0, 0, 1, box.min[2], 0, 0, 0, 1];
  return { ...volume, dims, affine: multiplyMat4(volume.affine, shift), data };
}

/**
 * Writes a member's labels into the set's label map through its lookup table: `overwrite` wherever the
 * member found a taken structure, `fill` only where the set's map is still background. `box` places a
 * cropped member's labels; without it they cover the whole grid.
 */
export function mergeMemberLabels(
  merged: Uint8Array | Uint16Array,
  dims: Vec3,
  member: Uint8Array | Uint16Array,
  lut: Uint16Array,
  mode: SetMember['merge'],
  box?: VoxelBox,
): number {
  const [nx, ny] = dims;
  const [bx, by, bz] = box ? [0, 1, 2].map((a) => box.max[a] - box.min[a] + 1) : dims;
  const [x0, y0, z0] = box ? box.min : [0, 0, 0];
  const fill = mode === 'fill';
  let written = 0;
  let m = 0;
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = (z0 + k) * nx * ny + (y0 + j) * nx + x0;
      for (let i = 0; i < bx; i++, m++) {
        const source = member[m];
        if (source === 0) continue;
        const value = source < lut.length ? lut[source] : 0;
        if (value === 0 || (fill && merged[row + i] !== 0)) continue;
        merged[row + i] = value;
        written++;
      }
    }
  }
  return written;
}

/**
 * Runs every member in order on `ct` (already checked and cleaned by the engine) and merges their
 * labels. Each member's progress is reported as its share of the whole.
 */
export async function runModelSet(ct: Volume, plans: SetMemberPlan[], maxLabel: number, segmentMember: SegmentMember, context: StageContext = {}): Promise<ModelSetResult> {
  const LabelArray = maxLabel > 255 ? Uint16Array : Uint8Array;
  const merged = new LabelArray(ct.data.length);
  const notes: string[] = [];
  const timings: Record<string, number> = {};
  const providers = new Set<string>();
  for (const [index, plan] of plans.entries()) {
    context.signal?.throwIfAborted();
    const id = plan.bundle.id;
    const started = performance.now();
    const step = `${id} (${index + 1} of ${plans.length})`;
    // 1. Crop to what earlier members found, if the member asks for it.
    let box: VoxelBox | undefined;
    if (plan.cropLabels.length > 0) {
      box = cropBox({ ...ct, data: merged }, plan.cropLabels, plan.member.crop!.marginMm);
      if (!box) {
        notes.push(`${id}: not run: none of ${plan.member.crop!.to.join(', ')} was found by the members before it`);
        continue;
      }
    }
    // 2. Segment with the member; its session and buffers are released when it returns.
    context.log?.(`model set: ${step}${box ? ` on the box ${box.min.join(',')}–${box.max.join(',')} around ${plan.member.crop!.to.join(', ')}` : ''}`);
    const result = await segmentMember(box ? cropVolume(ct, box) : ct, plan.bundle, {
      ...context,
      onProgress: (p) => context.onProgress?.({ ...p, fraction: (index + p.fraction) / plans.length, message: `${step}${p.message ? `: ${p.message}` : ''}` }),
    });
    // 3. Merge into the set's label map.
    const written = mergeMemberLabels(merged, ct.dims, result.labels.data, plan.lut, plan.member.merge, box);
    notes.push(...result.notes.map((n) => `${id}: ${n}`), `${id}: ${written} voxel(s) written (${plan.member.merge})`);
    timings[`${id}Ms`] = performance.now() - started;
    providers.add(result.provider);
  }
  return { labels: merged, provider: [...providers].join('+') || 'none', notes, timings };
}
