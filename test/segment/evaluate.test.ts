/**
 * Evaluation: the exact distance transform and HD95 against brute force (HD95 as medpy defines it;
 * its value for the fixture was cross-checked with medpy's formula on SciPy), Dice/IoU/volumes,
 * matching by name, by parts and by group, and label tables.
 */
import { describe, expect, it } from 'vitest';
import { composeAffine, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { isHolocaseError } from '../../server/errors.ts';
import { featureTransform, squaredDistanceTransform } from '../../server/segment/distanceTransform.ts';
import { compareMasks, evaluateLabelMaps, parseLabelTable } from '../../server/segment/evaluate.ts';
import { reorient } from '../../server/volume/reorient.ts';
import { seededRandom } from '../seededRandom.ts';

const coords = (p: number, dims: Vec3) => [p % dims[0], Math.floor(p / dims[0]) % dims[1], Math.floor(p / (dims[0] * dims[1]))];
const dist2 = (a: number[], b: number[], s: Vec3) => ((a[0] - b[0]) * s[0]) ** 2 + ((a[1] - b[1]) * s[1]) ** 2 + ((a[2] - b[2]) * s[2]) ** 2;

describe('distance transform', () => {
  it('is exact against brute force, with anisotropic spacing, and finds a nearest feature', () => {
    const dims: Vec3 = [17, 13, 9];
    const spacing: Vec3 = [0.8, 1.7, 3.1];
    const rnd = seededRandom(11);
    const n = dims[0] * dims[1] * dims[2];
    const features = Uint8Array.from({ length: n }, () => (rnd() < 0.02 ? 1 : 0));
    const list = [...features.keys()].filter((p) => features[p]).map((p) => coords(p, dims));
    const d2 = squaredDistanceTransform(features, dims, { spacing });
    const { squaredDistance, nearest } = featureTransform(features, dims, { spacing });
    for (let p = 0; p < n; p++) {
      const c = coords(p, dims);
      const best = Math.min(...list.map((f) => dist2(c, f, spacing)));
      expect(Math.abs(d2[p] - best)).toBeLessThanOrEqual(1e-4 * Math.max(1, best));
      expect(squaredDistance[p]).toBe(d2[p]);
      expect(features[nearest[p]]).toBe(1);
      expect(Math.abs(dist2(c, coords(nearest[p], dims), spacing) - best)).toBeLessThanOrEqual(1e-4 * Math.max(1, best));
    }
  });

  it('is infinite everywhere without features', () => {
    const d = squaredDistanceTransform(new Uint8Array(24), [2, 3, 4]);
    expect([...d].every((v) => v === Infinity)).toBe(true);
  });
});

/** HD95 by brute force, medpy's definition: 6-neighbour surfaces (border = outside), pooled distances, linear percentile. */
function bruteHd95(a: Uint8Array, b: Uint8Array, dims: Vec3, spacing: Vec3): number {
  const surface = (m: Uint8Array) =>
    [...m.keys()].filter((p) => {
      if (!m[p]) return false;
      const [i, j, k] = coords(p, dims);
      const neighbours: number[][] = [[i - 1, j, k], [i + 1, j, k], [i, j - 1, k], [i, j + 1, k], [i, j, k - 1], [i, j, k + 1]];
      return neighbours.some(([x, y, z]) => x < 0 || y < 0 || z < 0 || x >= dims[0] || y >= dims[1] || z >= dims[2] || !m[x + y * dims[0] + z * dims[0] * dims[1]]);
    }).map((p) => coords(p, dims));
  const sa = surface(a);
  const sb = surface(b);
  const distances = [...sa.map((x) => Math.sqrt(Math.min(...sb.map((y) => dist2(x, y, spacing))))), ...sb.map((x) => Math.sqrt(Math.min(...sa.map((y) => dist2(x, y, spacing)))))].sort((x, y) => x - y);
  const pos = 0.95 * (distances.length - 1);
  const lo = Math.floor(pos);
  return distances[lo] + (distances[Math.min(lo + 1, distances.length - 1)] - distances[lo]) * (pos - lo);
}

describe('mask comparison', () => {
  it('Dice, IoU and HD95 match brute force on blobs touching the volume border', () => {
    const dims: Vec3 = [14, 12, 10];
    const spacing: Vec3 = [0.9, 1.4, 2.2];
    const n = dims[0] * dims[1] * dims[2];
    for (const seed of [1, 2, 3]) {
      const rnd = seededRandom(seed);
      const ca = [rnd() * 14, rnd() * 12, rnd() * 10];
      const cb = [ca[0] + 2, ca[1] - 1, ca[2] + 1];
      const a = new Uint8Array(n);
      const b = new Uint8Array(n);
      for (let p = 0; p < n; p++) {
        const c = coords(p, dims);
        a[p] = dist2(c, ca, spacing) < 36 + rnd() * 8 ? 1 : 0;
        b[p] = dist2(c, cb, spacing) < 30 ? 1 : 0;
      }
      let inter = 0;
      let na = 0;
      let nb = 0;
      for (let p = 0; p < n; p++) {
        inter += a[p] & b[p];
        na += a[p];
        nb += b[p];
      }
      const m = compareMasks(a, b, dims, spacing);
      expect(m.dice).toBeCloseTo((2 * inter) / (na + nb), 10);
      expect(m.iou).toBeCloseTo(inter / (na + nb - inter), 10);
      expect(m.hd95Mm!).toBeCloseTo(bruteHd95(a, b, dims, spacing), 4);
    }
  });

  it('identical masks: Dice 1, HD95 0; an empty side: Dice 0, no HD95', () => {
    const dims: Vec3 = [5, 5, 5];
    const a = Uint8Array.from({ length: 125 }, (_, p) => (p % 3 === 0 ? 1 : 0));
    expect(compareMasks(a, a, dims, [1, 1, 1])).toMatchObject({ dice: 1, iou: 1, hd95Mm: 0 });
    expect(compareMasks(a, new Uint8Array(125), dims, [1, 1, 1])).toMatchObject({ dice: 0, hd95Mm: null });
  });
});

describe('label map evaluation', () => {
  const dims: Vec3 = [20, 16, 12];
  const affine = composeAffine([10, -5, 30], [1.5, 1.5, 2], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const n = dims[0] * dims[1] * dims[2];
  const box = (map: Uint8Array, value: number, lo: number[], hi: number[]) => {
    for (let p = 0; p < n; p++) {
      const c = coords(p, dims);
      if (c.every((v, a) => v >= lo[a] && v <= hi[a])) map[p] = value;
    }
  };
  const ref = new Uint8Array(n);
  box(ref, 30, [2, 2, 2], [6, 6, 5]); // vertebrae_L2
  box(ref, 31, [2, 2, 6], [6, 6, 9]); // vertebrae_L1
  box(ref, 10, [10, 3, 2], [14, 8, 9]); // lung_upper_lobe_left
  box(ref, 11, [10, 9, 2], [14, 12, 9]); // lung_lower_lobe_left
  box(ref, 5, [15, 2, 2], [18, 6, 6]); // liver
  const pred = new Uint8Array(n);
  box(pred, 2, [2, 2, 2], [6, 6, 8]); // bone (misses one slice of L1)
  box(pred, 3, [10, 3, 2], [14, 12, 9]); // lung_left
  box(pred, 9, [15, 2, 2], [18, 6, 6]); // liver, exactly
  const refTable = parseLabelTable({ 30: 'vertebrae_L2', 31: 'vertebrae_L1', 10: 'lung_upper_lobe_left', 11: 'lung_lower_lobe_left', 5: 'liver' });
  const predTable = parseLabelTable({ output: { labels: { 2: 'bone', 3: 'lung_left', 9: 'liver' } } });
  const voxelMl = (1.5 * 1.5 * 2) / 1000;

  it('matches by name, then a structure against its parts, then by tissue group', () => {
    const report = evaluateLabelMaps({ dims, affine, data: pred }, predTable, { dims, affine, data: ref }, refTable);
    const liver = report.structures.find((s) => s.name === 'liver')!;
    expect(liver).toMatchObject({ match: 'name', dice: 1, iou: 1, hd95Mm: 0, group: 'organ', displayName: 'Liver' });
    expect(liver.predMl).toBeCloseTo(4 * 5 * 5 * voxelMl, 6);
    const lung = report.structures.find((s) => s.name === 'lung_left')!;
    expect(lung).toMatchObject({ match: 'parts', parts: ['lung_lower_lobe_left', 'lung_upper_lobe_left'], dice: 1 });
    const bone = report.structures.find((s) => s.name === 'bone')!;
    expect(bone.match).toBe('parts');
    expect(bone.dice).toBeCloseTo((2 * 5 * 5 * 7) / (5 * 5 * 7 + 5 * 5 * 8), 4);
    expect(bone.hd95Mm).toBeGreaterThan(0);
    const groups = Object.fromEntries(report.groups.map((g) => [g.group, g]));
    expect(groups.bone.dice).toBe(bone.dice);
    expect(groups.bone.refStructures).toEqual(['vertebrae_L1', 'vertebrae_L2']);
    expect(groups.organ.dice).toBe(1);
    expect(report.unmatched).toEqual({ pred: ['bone', 'lung_left'], ref: ['lung_lower_lobe_left', 'lung_upper_lobe_left', 'vertebrae_L1', 'vertebrae_L2'] });
  });

  it('puts a prediction stored in another axis order on the reference grid; refuses a different grid', () => {
    const stored = reorient({ dims, affine, data: pred }, 'SAR') as LabelMap;
    const report = evaluateLabelMaps(stored, predTable, { dims, affine, data: ref }, refTable);
    expect(report.structures.find((s) => s.name === 'liver')!.dice).toBe(1);
    const shifted = { dims, affine: affine.map((v, i) => (i === 3 ? v + 3 : v)), data: pred };
    try {
      evaluateLabelMaps(shifted, predTable, { dims, affine, data: ref }, refTable);
      throw new Error('accepted');
    } catch (error) {
      expect(isHolocaseError(error) && error.code).toBe('LABELS_INVALID');
      expect((error as Error).message).toMatch(/not on the same grid/);
    }
  });

  it('reports names the catalogue does not know, and unlabelled values by number', () => {
    const data = pred.slice();
    data[0] = 7;
    const report = evaluateLabelMaps({ dims, affine, data }, parseLabelTable({ 2: 'bone', 3: 'lung_left', 9: 'liver', 7: 'renal_artery_left' }), { dims, affine, data: ref }, refTable);
    expect(report.unknownNames).toEqual(['renal_artery_left']);
    expect(report.groups.find((g) => g.group === 'vessel')!.predStructures).toEqual(['renal_artery_left']);
  });

  it('refuses label tables that are not tables', () => {
    expect(() => parseLabelTable([1, 2], 't.json')).toThrow(/t\.json is not a label table/);
    expect(() => parseLabelTable({ zero: 'x' }, 't.json')).toThrow(/"zero" is not a label number/);
    expect(() => parseLabelTable({ 1: '' }, 't.json')).toThrow(/label 1 has no structure name/);
  });
});
