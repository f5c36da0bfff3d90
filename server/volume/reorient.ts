/**
 * Exact reorientation: permutes and flips voxel axes (no resampling) so the grid's orientation codes
 * become the requested ones, e.g. a NIfTI stored `RAS` turned into `LPS`. The patient-space position
 * of every voxel is unchanged; only the storage order and the affine change.
 */
import { HolocaseError } from '../errors.ts';
import { multiplyMat4, orientationCodes, type Grid, type Mat4, type Vec3, type VoxelArray } from '../../mesh/grid.ts';

const PAIRS: Record<string, { axis: number; positive: boolean }> = {
  L: { axis: 0, positive: true }, R: { axis: 0, positive: false },
  P: { axis: 1, positive: true }, A: { axis: 1, positive: false },
  S: { axis: 2, positive: true }, I: { axis: 2, positive: false },
};

/** Checks a three-letter orientation code such as `LPS`, `RAS` or `PIR` (one of L/R, P/A, S/I each). */
export function parseOrientationCode(code: string): string {
  const upper = code.toUpperCase();
  const axes = [...upper].map((c) => PAIRS[c]?.axis);
  if (upper.length !== 3 || axes.some((a) => a === undefined) || new Set(axes).size !== 3) {
    throw new HolocaseError('BAD_REQUEST', `"${code}" is not an orientation code: use three letters, one each of L/R, P/A and S/I (e.g. LPS, RAS)`);
  }
  return upper;
}

/** For each target voxel axis: which source axis feeds it, and whether it runs backwards. */
export interface AxisMapping {
  source: [number, number, number];
  flip: [boolean, boolean, boolean];
}

/** How to turn a grid with orientation `from` into one with orientation `to` (both 3-letter codes). */
export function axisMapping(from: string, to: string): AxisMapping {
  const source: number[] = [];
  const flip: boolean[] = [];
  for (let t = 0; t < 3; t++) {
    const want = PAIRS[to[t]];
    const s = [...from].findIndex((c) => PAIRS[c].axis === want.axis);
    source.push(s);
    flip.push(PAIRS[from[s]].positive !== want.positive);
  }
  return { source: source as AxisMapping['source'], flip: flip as AxisMapping['flip'] };
}

/** Applies an axis mapping to a grid's dims and affine. */
export function mapGrid(grid: Grid, mapping: AxisMapping): Grid {
  const dims = mapping.source.map((s) => grid.dims[s]) as Vec3;
  // P maps a new index (n0, n1, n2, 1) to the old index: old[s_t] = flip ? dims[s_t]-1-n_t : n_t.
  const P: Mat4 = new Array(16).fill(0);
  for (let t = 0; t < 3; t++) {
    const s = mapping.source[t];
    P[s * 4 + t] = mapping.flip[t] ? -1 : 1;
    P[s * 4 + 3] = mapping.flip[t] ? grid.dims[s] - 1 : 0;
  }
  P[15] = 1;
  return { dims, affine: multiplyMat4(grid.affine, P) };
}

/** Reorders voxel data by an axis mapping (x fastest in both source and result). */
export function mapVoxels<T extends VoxelArray>(data: T, dims: Vec3, mapping: AxisMapping): T {
  const strides = [1, dims[0], dims[0] * dims[1]];
  const newDims = mapping.source.map((s) => dims[s]);
  const step = [0, 1, 2].map((t) => (mapping.flip[t] ? -1 : 1) * strides[mapping.source[t]]);
  let base = 0;
  for (let t = 0; t < 3; t++) if (mapping.flip[t]) base += (newDims[t] - 1) * strides[mapping.source[t]];
  const out = new (data.constructor as new (n: number) => T)(data.length);
  let n = 0;
  for (let k = 0; k < newDims[2]; k++) {
    for (let j = 0; j < newDims[1]; j++) {
      let o = base + k * step[2] + j * step[1];
      for (let i = 0; i < newDims[0]; i++, o += step[0]) out[n++] = data[o];
    }
  }
  return out;
}

/**
 * Returns `volume` with voxel axes permuted/flipped so `orientationCodes(result.affine) === target`.
 * Returns the same object when it already has that orientation.
 */
export function reorient<V extends Grid & { data: VoxelArray }>(volume: V, target: string): V {
  const to = parseOrientationCode(target);
  const from = orientationCodes(volume.affine);
  if (from === to) return volume;
  const mapping = axisMapping(from, to);
  const grid = mapGrid(volume, mapping);
  return { ...volume, ...grid, data: mapVoxels(volume.data, volume.dims, mapping) };
}
