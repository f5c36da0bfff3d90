/**
 * Comparing a predicted label map with a reference: structures matched by name, then by tissue group
 * (through the anatomy catalogue), each with Dice, IoU, the 95th-percentile Hausdorff distance and
 * both volumes.
 *
 * HD95 follows medpy's `hd95` (what the segmentation literature reports): surface voxels are mask
 * voxels with a 6-neighbour outside the mask (the volume border counts as outside); the distances from
 * every surface voxel of each side to the nearest surface voxel of the other, in mm with the voxel
 * spacing, are pooled and their 95th percentile (linear interpolation) taken. Distances come from an
 * exact Euclidean distance transform restricted to the two masks' bounding box.
 */
import { readFile } from 'node:fs/promises';
import { describeStructure, structureCovers, type TissueGroup } from '../../models/anatomy.ts';
import { TISSUE_GROUPS } from '../../models/anatomy-types.ts';
import { orientationCodes, spacingOf, voxelVolumeMm3, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { HolocaseError } from '../errors.ts';
import { reorient } from '../volume/reorient.ts';
import { squaredDistanceTransform } from './distanceTransform.ts';

export type LabelTable = Map<number, string>;

/** A label table from JSON: `{"1": "spleen", …}` (TotalSegmentator's classes file, holocase's sidecar) or a manifest's `{output: {labels}}`. */
export function parseLabelTable(json: unknown, source = 'label table'): LabelTable {
  let record: unknown = json;
  if (record && typeof record === 'object' && 'output' in record) record = (record as { output: { labels?: unknown } }).output.labels;
  else if (record && typeof record === 'object' && 'labels' in record) record = (record as { labels: unknown }).labels;
  if (!record || typeof record !== 'object' || Array.isArray(record)) {
    throw new HolocaseError('LABELS_INVALID', `${source} is not a label table: expected an object of label number → structure name, e.g. {"1": "spleen"}`);
  }
  const table: LabelTable = new Map();
  for (const [key, name] of Object.entries(record)) {
    const label = Number(key);
    if (!Number.isInteger(label) || label < 1 || label > 65535) throw new HolocaseError('LABELS_INVALID', `${source}: "${key}" is not a label number (1–65535)`);
    if (typeof name !== 'string' || !name) throw new HolocaseError('LABELS_INVALID', `${source}: label ${key} has no structure name`);
    table.set(label, name);
  }
  return table;
}

export async function readLabelTable(path: string): Promise<LabelTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new HolocaseError('NOT_FOUND', `label table ${path} does not exist`);
  }
  try {
    return parseLabelTable(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof SyntaxError) throw new HolocaseError('LABELS_INVALID', `${path} is not valid JSON: ${error.message}`);
    throw error;
  }
}

export interface MaskComparison {
  dice: number;
  iou: number;
  /** null when either side is empty. */
  hd95Mm: number | null;
  predVoxels: number;
  refVoxels: number;
}

export interface StructureMetrics {
  /** The structure's name (the prediction's, for a match through parts). */
  name: string;
  /** `name`: the same name on both sides; `parts`: one side's structure against the other side's parts of it. */
  match: 'name' | 'parts';
  /** For a `parts` match: the structures making up the other side. */
  parts?: string[];
  displayName: string;
  group: TissueGroup;
  dice: number;
  iou: number;
  hd95Mm: number | null;
  predMl: number;
  refMl: number;
}

export interface GroupMetrics extends Omit<StructureMetrics, 'name' | 'displayName' | 'match' | 'parts'> {
  /** Structures of the group on each side. */
  predStructures: string[];
  refStructures: string[];
}

export interface EvaluationReport {
  grid: { dims: Vec3; spacingMm: Vec3 };
  /** Structures matched by name, then structures matched with their parts (e.g. `lung_left` with the left lobes). */
  structures: StructureMetrics[];
  /** Tissue groups present on either side, as unions of their structures. */
  groups: GroupMetrics[];
  /** Names present on one side only (by name; they still count in their group). */
  unmatched: { pred: string[]; ref: string[] };
  /** Names the catalogue does not know (their group was guessed). */
  unknownNames: string[];
}

type Box = { lo: Vec3; hi: Vec3 };

/** Bounding box and voxel count of every label value present. */
function labelBoxes(data: ArrayLike<number>, dims: Vec3): Map<number, Box & { count: number }> {
  const [nx, ny] = dims;
  const boxes = new Map<number, Box & { count: number }>();
  let p = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const v = data[p];
        if (!v) continue;
        let b = boxes.get(v);
        if (!b) {
          b = { lo: [i, j, k], hi: [i, j, k], count: 0 };
          boxes.set(v, b);
        }
        b.count++;
        if (i < b.lo[0]) b.lo[0] = i;
        if (i > b.hi[0]) b.hi[0] = i;
        if (j < b.lo[1]) b.lo[1] = j;
        if (j > b.hi[1]) b.hi[1] = j;
        if (k < b.lo[2]) b.lo[2] = k;
        if (k > b.hi[2]) b.hi[2] = k;
      }
    }
  }
  return boxes;
}

/** Surface voxels (6-neighbour outside the mask or the volume) of a mask on a box. */
function surface(mask: Uint8Array, box: Vec3, touches: { lo: boolean[]; hi: boolean[] }): Uint8Array {
  const [bx, by, bz] = box;
  const out = new Uint8Array(mask.length);
  const plane = bx * by;
  let p = 0;
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      for (let i = 0; i < bx; i++, p++) {
        if (!mask[p]) continue;
        const edge =
          (i === 0 && touches.lo[0]) || (i === bx - 1 && touches.hi[0]) ||
          (j === 0 && touches.lo[1]) || (j === by - 1 && touches.hi[1]) ||
          (k === 0 && touches.lo[2]) || (k === bz - 1 && touches.hi[2]);
        if (
          edge ||
          (i > 0 && !mask[p - 1]) || (i < bx - 1 && !mask[p + 1]) ||
          (j > 0 && !mask[p - bx]) || (j < by - 1 && !mask[p + bx]) ||
          (k > 0 && !mask[p - plane]) || (k < bz - 1 && !mask[p + plane])
        ) {
          out[p] = 1;
        }
      }
    }
  }
  return out;
}

/** NumPy's `percentile` (linear interpolation) of unsorted values. */
function percentile(values: Float64Array, q: number): number {
  const sorted = values.slice().sort();
  const x = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(x);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

/**
 * Dice, IoU and HD95 of two masks given as predicates over label values, within their joint bounding box.
 */
function compareWithin(pred: ArrayLike<number>, isPred: (v: number) => boolean, ref: ArrayLike<number>, isRef: (v: number) => boolean, dims: Vec3, spacing: Vec3, box: Box | undefined): MaskComparison {
  if (!box) return { dice: 0, iou: 0, hd95Mm: null, predVoxels: 0, refVoxels: 0 };
  // 1. Crop one voxel beyond the box (inside the volume): every neighbour a surface test needs is in it.
  const lo = box.lo.map((v) => Math.max(0, v - 1)) as Vec3;
  const hi = box.hi.map((v, a) => Math.min(dims[a] - 1, v + 1)) as Vec3;
  const size = lo.map((v, a) => hi[a] - v + 1) as Vec3;
  const a = new Uint8Array(size[0] * size[1] * size[2]);
  const b = new Uint8Array(a.length);
  let inter = 0;
  let na = 0;
  let nb = 0;
  let q = 0;
  for (let k = lo[2]; k <= hi[2]; k++) {
    for (let j = lo[1]; j <= hi[1]; j++) {
      let p = k * dims[0] * dims[1] + j * dims[0] + lo[0];
      for (let i = 0; i < size[0]; i++, p++, q++) {
        const x = isPred(pred[p]) ? 1 : 0;
        const y = isRef(ref[p]) ? 1 : 0;
        a[q] = x;
        b[q] = y;
        na += x;
        nb += y;
        inter += x & y;
      }
    }
  }
  const dice = na + nb > 0 ? (2 * inter) / (na + nb) : 0;
  const iou = na + nb - inter > 0 ? inter / (na + nb - inter) : 0;
  if (na === 0 || nb === 0) return { dice, iou, hd95Mm: null, predVoxels: na, refVoxels: nb };
  // 2. Surfaces, and distances between them both ways.
  const touches = { lo: lo.map((v) => v === 0), hi: hi.map((v, ax) => v === dims[ax] - 1) };
  const sa = surface(a, size, touches);
  const sb = surface(b, size, touches);
  const da = squaredDistanceTransform(sa, size, { spacing });
  const db = squaredDistanceTransform(sb, size, { spacing });
  const distances: number[] = [];
  for (let p = 0; p < sa.length; p++) {
    if (sa[p]) distances.push(Math.sqrt(db[p]));
    if (sb[p]) distances.push(Math.sqrt(da[p]));
  }
  return { dice, iou, hd95Mm: percentile(Float64Array.from(distances), 95), predVoxels: na, refVoxels: nb };
}

/** Compares two binary masks on one grid (non-zero = inside). */
export function compareMasks(pred: ArrayLike<number>, ref: ArrayLike<number>, dims: Vec3, spacing: Vec3): MaskComparison {
  const on = (v: number) => v !== 0;
  const boxes = [labelBoxes(Uint8Array.from(pred, (v) => (v ? 1 : 0)), dims).get(1), labelBoxes(Uint8Array.from(ref, (v) => (v ? 1 : 0)), dims).get(1)];
  return compareWithin(pred, on, ref, on, dims, spacing, union(boxes));
}

function union(boxes: (Box | undefined)[]): Box | undefined {
  let out: Box | undefined;
  for (const b of boxes) {
    if (!b) continue;
    if (!out) out = { lo: [...b.lo] as Vec3, hi: [...b.hi] as Vec3 };
    else for (let a = 0; a < 3; a++) {
      out.lo[a] = Math.min(out.lo[a], b.lo[a]);
      out.hi[a] = Math.max(out.hi[a], b.hi[a]);
    }
  }
  return out;
}

/** Puts `pred` on `ref`'s grid when it is the same grid stored in another axis order; refuses different grids. */
function alignGrids(pred: LabelMap, ref: LabelMap): LabelMap {
  let aligned = pred;
  const refOrientation = orientationCodes(ref.affine);
  if (orientationCodes(pred.affine) !== refOrientation) aligned = reorient(pred, refOrientation);
  const spacing = spacingOf(ref.affine);
  const tolerance = 1e-3 * Math.max(...spacing) + 1e-4;
  const same = aligned.dims.every((d, a) => d === ref.dims[a]) && aligned.affine.every((v, i) => Math.abs(v - ref.affine[i]) <= (i % 4 === 3 ? Math.max(tolerance, 0.01) : tolerance));
  if (!same) {
    const describe = (m: LabelMap) => `${m.dims.join('×')} voxels of ${spacingOf(m.affine).map((s) => s.toFixed(2)).join('×')} mm, ${orientationCodes(m.affine)}, origin ${[m.affine[3], m.affine[7], m.affine[11]].map((v) => v.toFixed(1)).join(', ')}`;
    throw new HolocaseError('LABELS_INVALID', `the two label maps are not on the same grid (prediction: ${describe(pred)}; reference: ${describe(ref)}); segment the reference's CT`);
  }
  return aligned;
}

/** Evaluates a prediction against a reference (see the module comment). */
export function evaluateLabelMaps(pred: LabelMap, predTable: LabelTable, ref: LabelMap, refTable: LabelTable): EvaluationReport {
  const p = alignGrids(pred, ref);
  const dims = ref.dims;
  const spacing = spacingOf(ref.affine);
  const voxelMl = voxelVolumeMm3(ref.affine) / 1000;
  const predBoxes = labelBoxes(p.data, dims);
  const refBoxes = labelBoxes(ref.data, dims);
  const nameOf = (table: LabelTable, v: number) => table.get(v) ?? `label_${v}`;
  const predNames = new Map<string, number[]>();
  const refNames = new Map<string, number[]>();
  for (const v of predBoxes.keys()) predNames.set(nameOf(predTable, v), [...(predNames.get(nameOf(predTable, v)) ?? []), v]);
  for (const v of refBoxes.keys()) refNames.set(nameOf(refTable, v), [...(refNames.get(nameOf(refTable, v)) ?? []), v]);
  const unknownNames = [...new Set([...predNames.keys(), ...refNames.keys()])].filter((n) => !describeStructure(n).known).sort();

  const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
  /** Dice, IoU, HD95 and both volumes of the prediction's `predValues` against the reference's `refValues`. */
  const measure = (predValues: number[], refValues: number[]) => {
    const ps = new Set(predValues);
    const rs = new Set(refValues);
    const box = union([...predValues.map((v) => predBoxes.get(v)), ...refValues.map((v) => refBoxes.get(v))]);
    const m = compareWithin(p.data, (v) => ps.has(v), ref.data, (v) => rs.has(v), dims, spacing, box);
    return {
      dice: round(m.dice),
      iou: round(m.iou),
      hd95Mm: m.hd95Mm === null ? null : round(m.hd95Mm, 2),
      predMl: round(m.predVoxels * voxelMl, 2),
      refMl: round(m.refVoxels * voxelMl, 2),
    };
  };

  // 1. By name: names on both sides.
  const structures: StructureMetrics[] = [];
  for (const [name, predValues] of predNames) {
    const refValues = refNames.get(name);
    if (!refValues) continue;
    const d = describeStructure(name);
    structures.push({ name, match: 'name', displayName: d.displayName, group: d.group, ...measure(predValues, refValues) });
  }
  // 2. Through the catalogue: a structure on one side against its parts on the other.
  const matched = new Set(structures.map((x) => x.name));
  const byParts = (wholes: Map<string, number[]>, parts: Map<string, number[]>, wholeIsPred: boolean) => {
    for (const [name, values] of wholes) {
      if (matched.has(name)) continue;
      const covered = [...parts].filter(([part]) => !matched.has(part) && structureCovers(name, part));
      if (covered.length === 0) continue;
      const partValues = covered.flatMap(([, v]) => v);
      const d = describeStructure(name);
      structures.push({
        name,
        match: 'parts',
        parts: covered.map(([part]) => part).sort(),
        displayName: d.displayName,
        group: d.group,
        ...(wholeIsPred ? measure(values, partValues) : measure(partValues, values)),
      });
    }
  };
  byParts(predNames, refNames, true);
  byParts(refNames, predNames, false);
  structures.sort((a, b) => a.match.localeCompare(b.match) || a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
  // 3. By tissue group: unions of each side's structures in the group.
  const groupOf = (name: string) => describeStructure(name).group;
  const groups: GroupMetrics[] = [];
  for (const group of TISSUE_GROUPS) {
    const predIn = [...predNames].filter(([n]) => groupOf(n) === group);
    const refIn = [...refNames].filter(([n]) => groupOf(n) === group);
    if (predIn.length === 0 && refIn.length === 0) continue;
    groups.push({
      group,
      ...measure(predIn.flatMap(([, v]) => v), refIn.flatMap(([, v]) => v)),
      predStructures: predIn.map(([n]) => n).sort(),
      refStructures: refIn.map(([n]) => n).sort(),
    });
  }
  return {
    grid: { dims: [...dims] as Vec3, spacingMm: spacing.map((s) => round(s, 4)) as Vec3 },
    structures,
    groups,
    unmatched: {
      pred: [...predNames.keys()].filter((n) => !refNames.has(n)).sort(),
      ref: [...refNames.keys()].filter((n) => !predNames.has(n)).sort(),
    },
    unknownNames,
  };
}

/**
 * Where one reference structure went: the fraction of its voxels that each predicted structure holds
 * (`background` for none), both maps compared on the reference's grid as `evaluateLabelMaps` does. For
 * example how much of a reference aorta a model labelled as vessel and how much as bone.
 */
export function referenceComposition(pred: LabelMap, predTable: LabelTable, ref: LabelMap, refTable: LabelTable, refName: string): Record<string, number> {
  const p = alignGrids(pred, ref);
  const refValues = new Set([...refTable].filter(([, name]) => name === refName).map(([label]) => label));
  const counts = new Map<number, number>();
  let total = 0;
  for (let v = 0; v < ref.data.length; v++) {
    if (!refValues.has(ref.data[v])) continue;
    total++;
    counts.set(p.data[v], (counts.get(p.data[v]) ?? 0) + 1);
  }
  const out: Record<string, number> = {};
  for (const [label, c] of counts) {
    const name = label === 0 ? 'background' : (predTable.get(label) ?? `label_${label}`);
    out[name] = (out[name] ?? 0) + c / total;
  }
  return out;
}
