/**
 * The CT phantom: realistic Hounsfield values per structure, TotalSegmentator names and ids, anatomy on
 * the correct sides in LPS, an airway that opens into both lungs, determinism by seed, and identical
 * content at the same patient positions whatever the orientation or spacing.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, orientationCodes, spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { isHolocaseError } from '../../server/errors.ts';
import { makePhantom, PHANTOM_LABELS, type Phantom } from '../../server/volume/phantom.ts';
import { floodFill, labelStats, voxelsOf, type LabelStats } from './measure.ts';

const CLASSES = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../../shared/fixtures/totalsegmentator/classes_total_v2.json'), 'utf8'),
) as Record<string, string>;
const EXTRAS = ['skin', 'subcutaneous_fat', 'skeletal_muscle'];

/** Typed arrays equal element by element (vitest's deep equality is slow on millions of voxels). */
function sameVoxels(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) return false;
  return true;
}

const id = (name: keyof typeof PHANTOM_LABELS): number => PHANTOM_LABELS[name];
const VERTEBRAE = [...Array.from({ length: 12 }, (_, n) => `vertebrae_T${n + 1}`), ...Array.from({ length: 5 }, (_, n) => `vertebrae_L${n + 1}`)] as (keyof typeof PHANTOM_LABELS)[];
const RIBS = ['left', 'right'].flatMap((s) => Array.from({ length: 12 }, (_, n) => `rib_${s}_${n + 1}`)) as (keyof typeof PHANTOM_LABELS)[];
const LOBES = ['lung_upper_lobe_left', 'lung_lower_lobe_left', 'lung_upper_lobe_right', 'lung_middle_lobe_right', 'lung_lower_lobe_right'] as const;

let contrast: Phantom;
let plain: Phantom;
let contrastStats: Map<number, LabelStats>;
let plainStats: Map<number, LabelStats>;

beforeAll(() => {
  contrast = makePhantom({ spacingMm: [4, 4, 4] });
  plain = makePhantom({ spacingMm: [4, 4, 4], contrast: false });
  contrastStats = labelStats(contrast.ct, contrast.labels);
  plainStats = labelStats(plain.ct, plain.labels);
});

function stat(stats: Map<number, LabelStats>, name: keyof typeof PHANTOM_LABELS): LabelStats {
  const s = stats.get(id(name));
  if (!s) throw new Error(`${name} is missing from the label map`);
  return s;
}

describe('grid', () => {
  it('covers the torso field of view in LPS around a scanner position', () => {
    const { ct, labels } = contrast;
    expect(ct.data).toBeInstanceOf(Int16Array);
    expect(labels.data).toBeInstanceOf(Uint8Array);
    expect(orientationCodes(ct.affine)).toBe('LPS');
    expect(spacingOf(ct.affine)).toEqual([4, 4, 4]);
    expect(labels.dims).toEqual(ct.dims);
    expect(labels.affine).toEqual(ct.affine);
    const extent = ct.dims.map((n) => n * 4);
    expect(extent[0]).toBeGreaterThanOrEqual(370);
    expect(extent[0]).toBeLessThanOrEqual(390);
    expect(extent[1]).toBeGreaterThanOrEqual(270);
    expect(extent[1]).toBeLessThanOrEqual(290);
    expect(extent[2]).toBeGreaterThanOrEqual(510);
    expect(extent[2]).toBeLessThanOrEqual(530);
    const centre = applyAffine(ct.affine, ct.dims.map((n) => (n - 1) / 2) as Vec3);
    expect(centre[0]).toBeCloseTo(0, 6);
    expect(centre[1]).toBeCloseTo(30, 6);
    expect(centre[2]).toBeCloseTo(-250, 6);
    let min = Infinity, max = -Infinity;
    for (const v of ct.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBeGreaterThanOrEqual(-1024);
    expect(max).toBeLessThanOrEqual(3071);
    // Air outside the body: the corner voxel is unlabelled and near −1000 HU.
    expect(labels.data[0]).toBe(0);
    expect(ct.data[0]).toBeLessThan(-950);
  });
});

describe('labels', () => {
  it('uses TotalSegmentator v2 ids and names, plus skin, subcutaneous_fat and skeletal_muscle at 200+', () => {
    for (const [label, name] of Object.entries(contrast.table)) {
      if (EXTRAS.includes(name)) expect(Number(label)).toBeGreaterThanOrEqual(200);
      else expect(CLASSES[label], `${label} ${name}`).toBe(name);
    }
    for (const [name, label] of Object.entries(PHANTOM_LABELS)) {
      if (!EXTRAS.includes(name)) expect(CLASSES[String(label)], name).toBe(name);
    }
  });

  it('has every structure the anatomy needs, each a separate label, and nothing outside the table', () => {
    const required = [
      ...VERTEBRAE, ...RIBS, ...LOBES, 'sacrum', 'hip_left', 'hip_right', 'sternum', 'trachea', 'liver', 'spleen',
      'kidney_left', 'kidney_right', 'aorta', 'inferior_vena_cava', 'skin', 'subcutaneous_fat', 'skeletal_muscle',
    ] as (keyof typeof PHANTOM_LABELS)[];
    for (const name of required) {
      expect(contrast.table[id(name)], name).toBe(name);
      expect(stat(contrastStats, name).count, name).toBeGreaterThan(0);
    }
    for (const label of contrastStats.keys()) if (label !== 0) expect(contrast.table[label], `label ${label}`).toBeDefined();
    for (const label of Object.keys(contrast.table)) expect(contrastStats.has(Number(label))).toBe(true);
  });

  it('gives organs plausible adult volumes', () => {
    const ml = (name: keyof typeof PHANTOM_LABELS): number => (stat(contrastStats, name).count * 64) / 1000;
    expect(ml('liver')).toBeGreaterThan(1000);
    expect(ml('liver')).toBeLessThan(2500);
    const lungs = LOBES.reduce((sum, lobe) => sum + ml(lobe), 0);
    expect(lungs).toBeGreaterThan(2500);
    expect(lungs).toBeLessThan(7000);
    for (const kidney of ['kidney_left', 'kidney_right'] as const) {
      expect(ml(kidney)).toBeGreaterThan(70);
      expect(ml(kidney)).toBeLessThan(300);
    }
  });
});

describe('Hounsfield units', () => {
  it('puts each tissue in its realistic range', () => {
    for (const stats of [contrastStats, plainStats]) {
      for (const bone of [...VERTEBRAE, ...RIBS, 'sacrum', 'hip_left', 'hip_right', 'sternum', 'femur_left', 'femur_right'] as const) {
        expect(stat(stats, bone).meanHu, bone).toBeGreaterThan(200);
      }
      for (const lobe of LOBES) expect(stat(stats, lobe).meanHu, lobe).toBeLessThan(-700);
      expect(stat(stats, 'trachea').meanHu).toBeLessThan(-900);
      expect(stat(stats, 'subcutaneous_fat').meanHu).toBeLessThan(-50);
      expect(stat(stats, 'skeletal_muscle').meanHu).toBeGreaterThan(20);
      expect(stat(stats, 'skeletal_muscle').meanHu).toBeLessThan(90);
      expect(stat(stats, 'liver').meanHu).toBeGreaterThan(40);
      expect(stat(stats, 'liver').meanHu).toBeLessThan(130);
    }
  });

  it('enhances the aorta, vena cava and organs with contrast and not without', () => {
    expect(stat(contrastStats, 'aorta').meanHu).toBeGreaterThan(200);
    expect(stat(plainStats, 'aorta').meanHu).toBeLessThan(80);
    expect(stat(contrastStats, 'inferior_vena_cava').meanHu).toBeGreaterThan(140);
    expect(stat(contrastStats, 'inferior_vena_cava').meanHu).toBeLessThan(190);
    expect(stat(plainStats, 'inferior_vena_cava').meanHu).toBeLessThan(80);
    for (const organ of ['liver', 'spleen', 'kidney_left', 'kidney_right'] as const) {
      expect(stat(contrastStats, organ).meanHu - stat(plainStats, organ).meanHu, organ).toBeGreaterThan(30);
    }
    expect(contrast.ct.meta.contrastAgent).toBe(true);
    expect(plain.ct.meta.contrastAgent).toBe(false);
  });

  it('adds Gaussian noise of the requested size', () => {
    const noisy = makePhantom({ spacingMm: [4, 4, 4], noiseHu: 20, seed: 3 });
    const clean = makePhantom({ spacingMm: [4, 4, 4], noiseHu: 0 });
    let n = 0, sum = 0, sum2 = 0;
    for (let v = 0; v < clean.ct.data.length; v++) {
      if (clean.labels.data[v] !== id('skeletal_muscle')) continue;
      const d = noisy.ct.data[v] - clean.ct.data[v];
      n++;
      sum += d;
      sum2 += d * d;
    }
    const mean = sum / n, sd = Math.sqrt(sum2 / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.5);
    expect(sd).toBeGreaterThan(19);
    expect(sd).toBeLessThan(21);
  });
});

describe('anatomy in LPS', () => {
  it('places organs on the correct side of the spine', () => {
    const spineL = VERTEBRAE.reduce((s, v) => s + stat(contrastStats, v).centroid[0], 0) / VERTEBRAE.length;
    expect(stat(contrastStats, 'liver').centroid[0]).toBeLessThan(spineL - 20);
    expect(stat(contrastStats, 'spleen').centroid[0]).toBeGreaterThan(spineL + 40);
    expect(stat(contrastStats, 'kidney_left').centroid[0]).toBeGreaterThan(spineL + 30);
    expect(stat(contrastStats, 'kidney_right').centroid[0]).toBeLessThan(spineL - 30);
    expect(stat(contrastStats, 'inferior_vena_cava').centroid[0]).toBeLessThan(stat(contrastStats, 'aorta').centroid[0]);
    expect(stat(contrastStats, 'lung_upper_lobe_left').centroid[0]).toBeGreaterThan(spineL);
    expect(stat(contrastStats, 'lung_upper_lobe_right').centroid[0]).toBeLessThan(spineL);
    expect(stat(contrastStats, 'rib_left_6').centroid[0]).toBeGreaterThan(spineL);
    expect(stat(contrastStats, 'hip_right').centroid[0]).toBeLessThan(spineL);
    // The liver lies under the right lung's base; the heart is anterior of the spine.
    expect(stat(contrastStats, 'liver').centroid[2]).toBeLessThan(stat(contrastStats, 'lung_lower_lobe_right').centroid[2]);
    expect(stat(contrastStats, 'heart').centroid[1]).toBeLessThan(stat(contrastStats, 'vertebrae_T7').centroid[1] - 40);
    // The sternum is anterior and the body's back lies on the couch (posterior, +P).
    expect(stat(contrastStats, 'sternum').centroid[1]).toBeLessThan(stat(contrastStats, 'vertebrae_T5').centroid[1] - 80);
  });

  it('stacks the vertebrae from T1 (superior) to L5 (inferior)', () => {
    const heights = VERTEBRAE.map((v) => stat(contrastStats, v).centroid[2]);
    for (let n = 1; n < heights.length; n++) expect(heights[n], VERTEBRAE[n]).toBeLessThan(heights[n - 1] - 10);
    expect(stat(contrastStats, 'vertebrae_T1').centroid[2] - stat(contrastStats, 'vertebrae_L5').centroid[2]).toBeGreaterThan(300);
    expect(stat(contrastStats, 'sacrum').centroid[2]).toBeLessThan(heights[heights.length - 1]);
    expect(stat(contrastStats, 'rib_left_1').centroid[2]).toBeGreaterThan(stat(contrastStats, 'rib_left_12').centroid[2]);
  });

  it('keeps the abdominal aorta entirely anterior of the lumbar vertebral bodies', () => {
    const { labels } = contrast;
    const [nx, ny, nz] = labels.dims;
    const aorta = id('aorta');
    const lumbar = new Set(['vertebrae_L1', 'vertebrae_L2', 'vertebrae_L3'].map((v) => id(v as keyof typeof PHANTOM_LABELS)));
    let slices = 0;
    for (let k = 0; k < nz; k++) {
      let aortaMaxJ = -1, boneMinJ = Infinity;
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const l = labels.data[i + j * nx + k * nx * ny];
          if (l === aorta) aortaMaxJ = Math.max(aortaMaxJ, j);
          else if (lumbar.has(l)) boneMinJ = Math.min(boneMinJ, j);
        }
      }
      if (aortaMaxJ < 0 || boneMinJ === Infinity) continue;
      slices++;
      // j runs towards +P (posterior) in this LPS grid.
      expect(aortaMaxJ, `slice ${k}`).toBeLessThan(boneMinJ);
    }
    expect(slices).toBeGreaterThan(10);
    // Over its whole length the aorta's centroid is anterior of the vertebrae's.
    const spineP = VERTEBRAE.reduce((s, v) => s + stat(contrastStats, v).centroid[1], 0) / VERTEBRAE.length;
    expect(stat(contrastStats, 'aorta').centroid[1]).toBeLessThan(spineP - 15);
  });

  it('has one airway that opens into the air spaces of both lungs', () => {
    const clean = makePhantom({ spacingMm: [4, 4, 4], noiseHu: 0 });
    const { labels, ct } = clean;
    const airway = voxelsOf(labels, id('trachea'));
    expect(airway.length).toBeGreaterThan(50);
    for (const n of airway) expect(ct.data[n]).toBe(-1000);
    // The trachea and both main bronchi form one 6-connected piece.
    const tree = floodFill(labels.dims, [airway[0]], (n) => labels.data[n] === id('trachea'));
    expect(airway.every((n) => tree[n] === 1)).toBe(true);
    // From the trachea, air (HU < −800) connects into both lungs' parenchyma, as in a real chest.
    const reached = floodFill(labels.dims, [airway[0]], (n) => ct.data[n] < -800 && labels.data[n] !== 0);
    const reachedLabels = new Set<number>();
    for (let n = 0; n < reached.length; n++) if (reached[n]) reachedLabels.add(labels.data[n]);
    for (const lobe of LOBES) expect(reachedLabels.has(id(lobe)), lobe).toBe(true);
    // The top of the trachea leaves the field of view (it continues to the larynx).
    const [nx, ny, nz] = labels.dims;
    expect(airway.some((n) => Math.floor(n / (nx * ny)) === nz - 1)).toBe(true);
  });

  it('leaves the CT couch unlabelled under the patient, and can leave it out', () => {
    const withTable = makePhantom({ spacingMm: [4, 4, 4], noiseHu: 0 });
    const without = makePhantom({ spacingMm: [4, 4, 4], noiseHu: 0, table: false });
    const denseUnlabelled = (p: Phantom): Vec3[] => {
      const out: Vec3[] = [];
      const [nx, ny] = p.ct.dims;
      for (let n = 0; n < p.ct.data.length; n++) {
        if (p.labels.data[n] === 0 && p.ct.data[n] > 250) out.push(applyAffine(p.ct.affine, [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))]));
      }
      return out;
    };
    const couch = denseUnlabelled(withTable);
    expect(couch.length).toBeGreaterThan(1000);
    const skin = stat(labelStats(withTable.ct, withTable.labels), 'skin');
    for (const p of couch) expect(p[1]).toBeGreaterThan(skin.centroid[1] + 40);
    expect(denseUnlabelled(without)).toHaveLength(0);
    expect(sameVoxels(without.labels.data, withTable.labels.data)).toBe(true);
  });
});

describe('determinism and geometry', () => {
  it('gives the same volume for the same seed and different noise for another', () => {
    const a = makePhantom({ spacingMm: [4, 4, 4], seed: 7 });
    const b = makePhantom({ spacingMm: [4, 4, 4], seed: 7 });
    const c = makePhantom({ spacingMm: [4, 4, 4], seed: 8 });
    expect(sameVoxels(b.ct.data, a.ct.data)).toBe(true);
    expect(sameVoxels(b.labels.data, a.labels.data)).toBe(true);
    expect(sameVoxels(c.labels.data, a.labels.data)).toBe(true);
    let differ = 0;
    for (let n = 0; n < a.ct.data.length; n++) if (a.ct.data[n] !== c.ct.data[n]) differ++;
    expect(differ / a.ct.data.length).toBeGreaterThan(0.5);
  });

  it('has the same content at the same patient position in every orientation', () => {
    const reference = makePhantom({ spacingMm: [4, 4, 4], noiseHu: 0 });
    const toReference = invertAffine(reference.ct.affine);
    const [rx, ry] = reference.ct.dims;
    for (const code of ['RAS', 'PIR', 'ASL']) {
      const variant = makePhantom({ spacingMm: [4, 4, 4], noiseHu: 0, orientation: code });
      expect(orientationCodes(variant.ct.affine)).toBe(code);
      expect(orientationCodes(variant.labels.affine)).toBe(code);
      const [nx, ny, nz] = variant.ct.dims;
      let n = 0;
      for (let k = 0; k < nz; k++) {
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++, n++) {
            const [a, b, c] = applyAffine(toReference, applyAffine(variant.ct.affine, [i, j, k])).map(Math.round);
            const m = a + b * rx + c * rx * ry;
            if (variant.labels.data[n] !== reference.labels.data[m] || variant.ct.data[n] !== reference.ct.data[m]) {
              throw new Error(`${code} voxel ${i},${j},${k} differs from the LPS phantom at the same position`);
            }
          }
        }
      }
    }
  });

  it('has the same content at shared voxel centres with anisotropic spacing', () => {
    // Odd voxel counts centre both grids on the field of view's centre; 6 mm is a multiple of 2 mm,
    // so every third 2 mm voxel centre is also a 6 mm voxel centre.
    const fieldOfViewMm: Vec3 = [378, 282, 522];
    const reference = makePhantom({ spacingMm: [6, 6, 6], noiseHu: 0, fieldOfViewMm });
    const toReference = invertAffine(reference.ct.affine);
    const [rx, ry, rz] = reference.ct.dims;
    for (const [code, spacing] of [['RAS', [2, 6, 6]], ['PIR', [2, 6, 6]], ['LPS', [6, 6, 2]]] as const) {
      const variant = makePhantom({ spacingMm: [...spacing], noiseHu: 0, orientation: code, fieldOfViewMm });
      expect(orientationCodes(variant.ct.affine)).toBe(code);
      expect(spacingOf(variant.ct.affine)).toEqual(spacing);
      const [nx, ny, nz] = variant.ct.dims;
      let shared = 0, n = 0;
      for (let k = 0; k < nz; k++) {
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++, n++) {
            const q = applyAffine(toReference, applyAffine(variant.ct.affine, [i, j, k]));
            const r = q.map(Math.round);
            if (q.some((v, a) => Math.abs(v - r[a]) > 1e-9) || r.some((v, a) => v < 0 || v >= [rx, ry, rz][a])) continue;
            shared++;
            const m = r[0] + r[1] * rx + r[2] * rx * ry;
            if (variant.labels.data[n] !== reference.labels.data[m] || variant.ct.data[n] !== reference.ct.data[m]) {
              throw new Error(`${code} ${spacing.join('×')} voxel ${i},${j},${k} differs from the 6 mm phantom at the same position`);
            }
          }
        }
      }
      expect(shared).toBe(rx * ry * rz);
    }
  });

  it('refuses impossible options with a clear message', () => {
    for (const options of [{ spacingMm: [0, 1, 1] as Vec3 }, { orientation: 'LLS' }, { noiseHu: -1 }, { seed: 1.5 }]) {
      try {
        makePhantom(options);
        throw new Error(`accepted ${JSON.stringify(options)}`);
      } catch (error) {
        expect(isHolocaseError(error), String(error)).toBe(true);
      }
    }
  });
});
