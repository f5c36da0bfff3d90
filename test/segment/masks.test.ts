/**
 * The mask operations the engine and the rules model are built on, each against a brute-force version:
 * connected components (6/18/26, masks and label maps), largest-component cleanup, morphology by a
 * radius in mm, hole filling, local homogeneity, resampling and the network grid.
 */
import { describe, expect, it } from 'vitest';
import { applyAffine, composeAffine, spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { connectedComponents, keepLargestComponentPerLabel, labelComponents, largestComponent } from '../../server/segment/connectedComponents.ts';
import { squaredDistanceTransform } from '../../server/segment/distanceTransform.ts';
import { parseManifest, type OnnxManifest } from '../../server/segment/manifest.ts';
import { planNetworkGrid } from '../../server/segment/networkGrid.ts';
import { percentiles, resolveNormalization } from '../../server/segment/normalize.ts';
import { resampleLinear, resampleNearest } from '../../server/segment/resample.ts';
import { homogeneousMask } from '../../server/segment/rules/homogeneity.ts';
import { dilate, erode, fillHoles3d, fillHolesInSlices } from '../../server/segment/rules/morphology.ts';
import { testManifest } from './onnxModels.ts';
import { seededRandom } from '../seededRandom.ts';

const coords = (p: number, dims: Vec3) => [p % dims[0], Math.floor(p / dims[0]) % dims[1], Math.floor(p / (dims[0] * dims[1]))];

/** Flood-fill labelling: component ids in visiting order. */
function bruteComponents(values: Uint8Array, dims: Vec3, connectivity: number, sameValue: boolean): Int32Array {
  const n = values.length;
  const ids = new Int32Array(n);
  let count = 0;
  for (let p = 0; p < n; p++) {
    if (!values[p] || ids[p]) continue;
    ids[p] = ++count;
    const stack = [p];
    while (stack.length) {
      const q = stack.pop()!;
      const [i, j, k] = coords(q, dims);
      for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
        const order = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (!order || (connectivity === 6 && order > 1) || (connectivity === 18 && order > 2)) continue;
        const [x, y, z] = [i + di, j + dj, k + dk];
        if (x < 0 || y < 0 || z < 0 || x >= dims[0] || y >= dims[1] || z >= dims[2]) continue;
        const r = x + y * dims[0] + z * dims[0] * dims[1];
        if (!values[r] || ids[r] || (sameValue && values[r] !== values[q])) continue;
        ids[r] = count;
        stack.push(r);
      }
    }
  }
  return ids;
}

describe('connected components', () => {
  it('match flood filling for 6, 18 and 26 neighbours, masks and label maps', () => {
    const dims: Vec3 = [15, 11, 9];
    const rnd = seededRandom(7);
    for (let trial = 0; trial < 12; trial++) {
      const density = 0.2 + 0.5 * rnd();
      const values = Uint8Array.from({ length: dims[0] * dims[1] * dims[2] }, () => (rnd() < density ? 1 + Math.floor(rnd() * 3) : 0));
      for (const connectivity of [6, 18, 26] as const) {
        for (const sameValue of [false, true]) {
          const got = sameValue ? labelComponents(values, dims, { connectivity }) : connectedComponents(values, dims, { connectivity });
          const want = bruteComponents(values, dims, connectivity, sameValue);
          // Same partition: a one-to-one map between the two id sets.
          const forward = new Map<number, number>();
          const backward = new Map<number, number>();
          for (let p = 0; p < values.length; p++) {
            expect(got.ids[p] === 0).toBe(want[p] === 0);
            if (!want[p]) continue;
            if (!forward.has(got.ids[p])) forward.set(got.ids[p], want[p]);
            if (!backward.has(want[p])) backward.set(want[p], got.ids[p]);
            expect(forward.get(got.ids[p])).toBe(want[p]);
            expect(backward.get(want[p])).toBe(got.ids[p]);
          }
          expect(got.count).toBe(forward.size);
          const sizes = new Map<number, number>();
          for (const id of got.ids) if (id) sizes.set(id, (sizes.get(id) ?? 0) + 1);
          for (const [id, size] of sizes) expect(got.sizes[id]).toBe(size);
        }
      }
    }
  });

  it('largest component and per-label cleanup keep exactly the biggest piece of each listed label', () => {
    const dims: Vec3 = [10, 6, 4];
    const labels = new Uint8Array(240);
    const put = (value: number, from: number, to: number) => {
      for (let p = from; p < to; p++) labels[p] = value;
    };
    put(1, 0, 5); // label 1: 5 voxels
    put(1, 7, 10); // label 1: 3 voxels, not touching (gap at 5, 6)
    put(2, 60, 62);
    put(2, 100, 104);
    put(3, 200, 201);
    put(3, 220, 221);
    const removed = keepLargestComponentPerLabel(labels, dims, { labels: [1, 2] });
    expect(Object.fromEntries(removed)).toEqual({ 1: 3, 2: 2 });
    expect([...labels.subarray(0, 10)]).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    expect(labels[100] + labels[60]).toBe(2);
    expect(labels[200] + labels[220]).toBe(6); // label 3 not listed
    expect([...largestComponent(Uint8Array.from(labels, (v) => (v === 2 ? 1 : 0)), dims)].reduce((a, b) => a + b, 0)).toBe(4);
  });
});

describe('morphology', () => {
  it('dilation and erosion by a radius in mm equal thresholding the exact distance transform', () => {
    const dims: Vec3 = [24, 18, 12];
    const spacing: Vec3 = [0.7, 1.1, 2.3];
    const rnd = seededRandom(3);
    const mask = Uint8Array.from({ length: dims[0] * dims[1] * dims[2] }, () => (rnd() < 0.4 ? 1 : 0));
    const outside = mask.map((v) => 1 - v);
    const toMask = squaredDistanceTransform(mask, dims, { spacing });
    const toOutside = squaredDistanceTransform(outside, dims, { spacing });
    for (const r of [0.7, 1.5, 2.5, 3.9, 6]) {
      const d = dilate(mask, dims, spacing, r);
      const e = erode(mask, dims, spacing, r);
      for (let p = 0; p < mask.length; p++) {
        expect(d[p]).toBe(toMask[p] <= r * r + 1e-6 ? 1 : 0);
        expect(e[p]).toBe(toOutside[p] > r * r + 1e-6 ? 1 : 0);
      }
    }
  });

  it('fills enclosed holes in 3-D and slice by slice, only the accepted ones', () => {
    const dims: Vec3 = [9, 9, 5];
    const plane = 81;
    const mask = new Uint8Array(9 * 9 * 5);
    // A closed box shell from (1,1,1) to (7,7,3): hollow inside, open nowhere.
    for (let p = 0; p < mask.length; p++) {
      const [i, j, k] = coords(p, dims);
      const inBox = i >= 1 && i <= 7 && j >= 1 && j <= 7 && k >= 1 && k <= 3;
      const inside = i >= 2 && i <= 6 && j >= 2 && j <= 6 && k === 2;
      mask[p] = inBox && !inside ? 1 : 0;
    }
    const slices = mask.slice();
    expect(fillHolesInSlices(slices, dims, { accept: (hole) => hole.length > 100 })).toBe(0);
    expect(fillHolesInSlices(slices, dims)).toBe(25);
    const full = mask.slice();
    expect(fillHoles3d(full, dims)).toBe(25);
    expect(full[4 + 4 * 9 + 2 * plane]).toBe(1);
    // Opened at the top slice: not a 3-D hole, still a hole in its own slice.
    const open = mask.slice();
    open[4 + 4 * 9 + 3 * plane] = 0;
    expect(fillHoles3d(open.slice(), dims)).toBe(0);
    expect(fillHolesInSlices(open.slice(), dims)).toBe(26);
  });

  it('local homogeneity equals the standard deviation over the clipped box', () => {
    const dims: Vec3 = [13, 10, 8];
    const rnd = seededRandom(5);
    const hu = Int16Array.from({ length: dims[0] * dims[1] * dims[2] }, (_, p) => (p % 13 < 6 ? 40 : 300) + Math.round((rnd() - 0.5) * 60));
    const half: Vec3 = [2, 1, 1];
    const got = homogeneousMask(hu, dims, { half, maxStd: 20 });
    for (let p = 0; p < hu.length; p++) {
      const [i, j, k] = coords(p, dims);
      const values: number[] = [];
      for (let z = Math.max(0, k - half[2]); z <= Math.min(dims[2] - 1, k + half[2]); z++) for (let y = Math.max(0, j - half[1]); y <= Math.min(dims[1] - 1, j + half[1]); y++) for (let x = Math.max(0, i - half[0]); x <= Math.min(dims[0] - 1, i + half[0]); x++) values.push(hu[x + y * dims[0] + z * dims[0] * dims[1]]);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      if (Math.abs(variance - 400) > 1e-6) expect(got[p], `voxel ${p}`).toBe(variance <= 400 ? 1 : 0);
    }
  });
});

describe('resampling and the network grid', () => {
  it('trilinear resampling reproduces a linear field inside the grid and clamps at the edges', () => {
    const src: Vec3 = [10, 8, 6];
    const field = Float32Array.from({ length: 480 }, (_, p) => {
      const [i, j, k] = coords(p, src);
      return 3 * i - 2 * j + 5 * k + 1;
    });
    const dst: Vec3 = [17, 5, 11];
    const out = resampleLinear(field, src, dst);
    for (let p = 0; p < out.length; p++) {
      const [i, j, k] = coords(p, dst);
      const at = (t: number, a: number) => Math.min(Math.max((t + 0.5) * (src[a] / dst[a]) - 0.5, 0), src[a] - 1);
      expect(out[p]).toBeCloseTo(3 * at(i, 0) - 2 * at(j, 1) + 5 * at(k, 2) + 1, 4);
    }
    expect(Array.from(resampleLinear(field, src, src))).toEqual(Array.from(field));
    const labels = Uint8Array.from({ length: 480 }, (_, p) => p % 7);
    expect(Array.from(resampleNearest(labels, src, src))).toEqual(Array.from(labels));
    expect(resampleNearest(Uint16Array.from(labels), src, [20, 16, 12])).toBeInstanceOf(Uint16Array);
  });

  it('the network grid covers the same box at the target spacing, with spacing and patch given in tensor order', () => {
    const source = { dims: [100, 80, 40] as Vec3, affine: composeAffine([10, 20, 30], [0.8, 0.8, 2.5], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) };
    const manifest = parseManifest(
      testManifest('grid', {
        input: { orientation: 'LPS', tensorAxes: ['k', 'i', 'j'], spacing: [1.5, 2, 1], normalization: { type: 'none' } },
        inference: { mode: 'sliding-window', patchSize: [32, 48, 64] },
      }),
    ) as OnnxManifest;
    const grid = planNetworkGrid(source, manifest);
    // D = k at 1.5 mm, H = i at 2 mm, W = j at 1 mm.
    expect(grid.dims).toEqual([40, 64, 67]);
    expect(grid.patch).toEqual([48, 64, 32]);
    expect(grid.tensorToVoxel).toEqual([2, 0, 1]);
    spacingOf(grid.affine).forEach((s, a) => expect(s).toBeCloseTo([80 / 40, 64 / 64, 100 / 67][a], 9));
    // Same box: the outer corners (half a voxel beyond the first and last centres) coincide.
    const corner = (affine: number[], dims: Vec3, at: number) => applyAffine(affine, dims.map((d) => (at ? d - 0.5 : -0.5)) as Vec3);
    for (const at of [0, 1]) corner(grid.affine, grid.dims, at).forEach((v, a) => expect(v).toBeCloseTo(corner(source.affine, source.dims, at)[a], 6));
  });
});

describe('normalisation', () => {
  it('nnU-Net CT normalisation clips then z-scores; the other schemes map as documented', () => {
    const values = Float32Array.from([-1200, -1000, 0, 40, 500, 3000]);
    const ct = resolveNormalization({ type: 'clip-zscore', clip: [-1000, 1500], mean: 100, std: 200 }, values);
    expect([ct.low, ct.high, ct.scale, ct.offset]).toEqual([-1000, 1500, 1 / 200, -0.5]);
    const window = resolveNormalization({ type: 'window', center: 40, width: 400, range: [-1, 1] }, values);
    expect(-160 * window.scale + window.offset).toBeCloseTo(-1, 10);
    expect(240 * window.scale + window.offset).toBeCloseTo(1, 10);
    const own = resolveNormalization({ type: 'clip-zscore', clipPercentiles: [0, 100] }, values);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(-own.offset / own.scale).toBeCloseTo(mean, 3);
    expect(percentiles(Float32Array.from([1, 2, 3, 4, 5]), [0, 25, 50, 90, 100])).toEqual([1, 2, 3, 4.6, 5]);
  });
});
