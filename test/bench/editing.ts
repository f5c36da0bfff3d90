/**
 * Editing stage: grow from seeds on a ~300³ region of a 0.8 mm CT (the built-in phantom at
 * 0.8 × 0.8 × 1.0 mm, non-contrast, cropped around the abdomen), seeds scribbled from its exact label
 * map on five axial slices as in the grow test. Peers in the same run: the same growing with one pass
 * only (Slicer's plain intensity-difference growing, no fine pass), and a plain breadth-first flood
 * of the same seeds (the floor any competitive growing costs). Budget: ≤ 5 s for a 300³ region.
 */
import { availableParallelism } from 'node:os';
import { spacingOf, type Vec3 } from '../../mesh/grid.ts';
import { growFromSeeds } from '../../server/segment/growFromSeeds.ts';
import { makePhantom, PHANTOM_LABELS } from '../../server/volume/phantom.ts';
import { scribbleSeeds } from '../edit/scribbles.ts';
import { median } from './median.ts';
import { labelDice } from '../edit/labelDice.ts';

const REGION: Vec3 = [300, 300, 300];
const TARGETS: number[] = [PHANTOM_LABELS.liver, PHANTOM_LABELS.spleen, PHANTOM_LABELS.kidney_right, PHANTOM_LABELS.kidney_left];

function crop<T extends Int16Array | Uint8Array>(data: T, dims: Vec3, at: Vec3, size: Vec3): T {
  const out = new (data.constructor as new (n: number) => T)(size[0] * size[1] * size[2]);
  let q = 0;
  for (let k = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      const start = at[0] + (at[1] + j) * dims[0] + (at[2] + k) * dims[0] * dims[1];
      out.set(data.subarray(start, start + size[0]), q);
      q += size[0];
    }
  }
  return out;
}

/** Breadth-first flood from the seeds (each voxel takes the first label to reach it): the cost floor. */
function flood(seeds: Uint16Array, dims: Vec3): Uint16Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const labels = seeds.slice();
  const queue = new Int32Array(labels.length);
  let head = 0;
  let tail = 0;
  for (let p = 0; p < labels.length; p++) if (labels[p]) queue[tail++] = p;
  while (head < tail) {
    const p = queue[head++]!;
    const i = p % nx;
    const j = ((p - i) / nx) % ny;
    const k = (p - i - j * nx) / plane;
    const label = labels[p]!;
    if (i > 0 && !labels[p - 1]) (labels[p - 1] = label), (queue[tail++] = p - 1);
    if (i < nx - 1 && !labels[p + 1]) (labels[p + 1] = label), (queue[tail++] = p + 1);
    if (j > 0 && !labels[p - nx]) (labels[p - nx] = label), (queue[tail++] = p - nx);
    if (j < ny - 1 && !labels[p + nx]) (labels[p + nx] = label), (queue[tail++] = p + nx);
    if (k > 0 && !labels[p - plane]) (labels[p - plane] = label), (queue[tail++] = p - plane);
    if (k < nz - 1 && !labels[p + plane]) (labels[p + plane] = label), (queue[tail++] = p + plane);
  }
  return labels;
}

const dice = (a: Uint16Array, b: Uint8Array, label: number) => Math.round(labelDice(a, b, label) * 1000) / 1000;

/**
 * 1. Phantom at 0.8 × 0.8 × 1 mm without contrast; a 300³ box centred on the liver–kidney region.
 * 2. Seeds from its label map; grow (two passes, the product), one pass, and the flood, twice each.
 */
export async function bench(): Promise<Record<string, unknown>> {
  const phantom = makePhantom({ spacingMm: [0.8, 0.8, 1.0], contrast: false });
  const dims = phantom.ct.dims;
  const spacing = spacingOf(phantom.ct.affine);
  // Box around the centroid of the four target organs.
  const sum = [0, 0, 0];
  let count = 0;
  const [nx, ny] = dims;
  for (let p = 0; p < phantom.labels.data.length; p++) {
    if (!TARGETS.includes(phantom.labels.data[p]!)) continue;
    sum[0] += p % nx;
    sum[1] += Math.floor(p / nx) % ny;
    sum[2] += Math.floor(p / (nx * ny));
    count++;
  }
  const size = REGION.map((s, a) => Math.min(s, dims[a]!)) as Vec3;
  const at = sum.map((s, a) => Math.max(0, Math.min(dims[a]! - size[a]!, Math.round(s / count - size[a]! / 2)))) as Vec3;
  const ct = crop(phantom.ct.data, dims, at, size);
  const truth = crop(phantom.labels.data, dims, at, size);
  // A person scribbles on about every 20 mm of a long region.
  const scribbles = scribbleSeeds(truth, size, { targets: TARGETS, slices: 15 });

  const time = (fn: () => { labels: Uint16Array; timings?: unknown }) => {
    const runs: number[] = [];
    let last: { labels: Uint16Array; timings?: unknown } = { labels: new Uint16Array(0) };
    for (let r = 0; r < 2; r++) {
      const started = performance.now();
      last = fn();
      runs.push(performance.now() - started);
    }
    return { ms: Math.round(median(runs)), runsMs: runs.map(Math.round), ...(last.timings ? { phases: last.timings } : {}), dice: Object.fromEntries(TARGETS.map((t) => [t, dice(last.labels, truth, t)])) };
  };
  const twoPass = time(() => growFromSeeds(ct, scribbles.seeds, size, { spacing }));
  const onePass = time(() => growFromSeeds(ct, scribbles.seeds, size, { spacing, refineBand: 0 }));
  const floodPeer = time(() => ({ labels: flood(scribbles.seeds, size) }));
  // How loaded the machine is: one pass over the region's voxels.
  const calibration = performance.now();
  let total = 0;
  for (let p = 0; p < ct.length; p++) total += ct[p]!;
  const scanMs = Math.round(performance.now() - calibration) + (total === Infinity ? 1 : 0);
  return {
    workload: `phantom CT 0.8×0.8×1.0 mm non-contrast ${dims.join('×')}, region ${size.join('×')} (${(size[0] * size[1] * size[2] / 1e6).toFixed(1)} M voxels), ${scribbles.seeded} seeds (${(scribbles.fraction * 100).toFixed(2)} %) on slices ${scribbles.slices.join(', ')}`,
    cores: availableParallelism(),
    scanMs,
    growFromSeeds: { ...twoPass, voxelsPerSecond: Math.round((size[0] * size[1] * size[2]) / (twoPass.ms / 1000)), budgetMs: 5000 },
    peers: { onePassSlicerStyle: onePass, breadthFirstFlood: floodPeer },
    diceLabels: { [PHANTOM_LABELS.liver]: 'liver', [PHANTOM_LABELS.spleen]: 'spleen', [PHANTOM_LABELS.kidney_right]: 'kidney_right', [PHANTOM_LABELS.kidney_left]: 'kidney_left' },
  };
}
