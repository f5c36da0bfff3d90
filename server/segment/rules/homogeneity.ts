/**
 * Where is the CT locally homogeneous? The standard deviation of HU in a box around each voxel,
 * compared with a limit. Blood (with or without contrast) is homogeneous apart from noise; marrow,
 * edges and partial volumes are not. Box sums are built slice by slice with running sums, so the cost
 * does not depend on the box size and only `2·half + 1` slices of sums are held at once.
 */
import type { Vec3 } from '../../../mesh/grid.ts';

export interface HomogeneityOptions {
  /** Box half-size in voxels along i, j, k. */
  half: Vec3;
  /** Largest standard deviation (HU) of a homogeneous voxel. */
  maxStd: number;
  /** Only voxels set here are judged (the rest are 0). Default: all. */
  within?: Uint8Array;
  /** The box mean must also lie in this range (HU). Default: any. */
  meanRange?: [number, number];
}

interface SliceSums {
  sum: Float64Array;
  sum2: Float64Array;
}

/** In-plane box sums of one slice (values and squares), clipped at the slice edges, written into `out` (`rows` is scratch). */
function sliceBoxSums(hu: ArrayLike<number>, dims: Vec3, k: number, hx: number, hy: number, rows: SliceSums, out: SliceSums): void {
  const [nx, ny] = dims;
  const base = k * nx * ny;
  const rowSum = rows.sum;
  const rowSum2 = rows.sum2;
  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    let s = 0;
    let s2 = 0;
    // Running window [i - hx, i + hx].
    for (let i = 0; i < Math.min(hx, nx); i++) {
      const v = hu[base + row + i];
      s += v;
      s2 += v * v;
    }
    for (let i = 0; i < nx; i++) {
      const add = i + hx;
      if (add < nx) {
        const v = hu[base + row + add];
        s += v;
        s2 += v * v;
      }
      const drop = i - hx - 1;
      if (drop >= 0) {
        const v = hu[base + row + drop];
        s -= v;
        s2 -= v * v;
      }
      rowSum[row + i] = s;
      rowSum2[row + i] = s2;
    }
  }
  const { sum, sum2 } = out;
  for (let i = 0; i < nx; i++) {
    let s = 0;
    let s2 = 0;
    for (let j = 0; j < Math.min(hy, ny); j++) {
      s += rowSum[j * nx + i];
      s2 += rowSum2[j * nx + i];
    }
    for (let j = 0; j < ny; j++) {
      const add = j + hy;
      if (add < ny) {
        s += rowSum[add * nx + i];
        s2 += rowSum2[add * nx + i];
      }
      const drop = j - hy - 1;
      if (drop >= 0) {
        s -= rowSum[drop * nx + i];
        s2 -= rowSum2[drop * nx + i];
      }
      sum[j * nx + i] = s;
      sum2[j * nx + i] = s2;
    }
  }
}

/** 1 where the local standard deviation is at most `maxStd` (and the local mean in `meanRange`); boxes are clipped at the volume edges. */
export function homogeneousMask(hu: ArrayLike<number>, dims: Vec3, options: HomogeneityOptions): Uint8Array {
  const [nx, ny, nz] = dims;
  const [hx, hy, hz] = options.half;
  const plane = nx * ny;
  const out = new Uint8Array(plane * nz);
  const limit = options.maxStd * options.maxStd;
  const [lowMean, highMean] = options.meanRange ?? [-Infinity, Infinity];
  // Column counts of the clipped box per (i, j): (x-range)·(y-range).
  const area = new Float64Array(plane);
  for (let j = 0; j < ny; j++) {
    const cy = Math.min(ny - 1, j + hy) - Math.max(0, j - hy) + 1;
    for (let i = 0; i < nx; i++) area[j * nx + i] = cy * (Math.min(nx - 1, i + hx) - Math.max(0, i - hx) + 1);
  }
  // Running sums over the slices [k − hz, k + hz]: add the slice entering, drop the one leaving. The
  // 2·hz + 1 slices in the window keep their sums in a ring of buffers.
  const ring: SliceSums[] = Array.from({ length: 2 * hz + 1 }, () => ({ sum: new Float64Array(plane), sum2: new Float64Array(plane) }));
  const scratch: SliceSums = { sum: new Float64Array(plane), sum2: new Float64Array(plane) };
  const sum = new Float64Array(plane);
  const sum2 = new Float64Array(plane);
  const addSlice = (kk: number, sign: number) => {
    const s = ring[kk % ring.length];
    if (sign > 0) sliceBoxSums(hu, dims, kk, hx, hy, scratch, s);
    const a = s.sum;
    const b = s.sum2;
    if (sign > 0) {
      for (let q = 0; q < plane; q++) {
        sum[q] += a[q];
        sum2[q] += b[q];
      }
    } else {
      for (let q = 0; q < plane; q++) {
        sum[q] -= a[q];
        sum2[q] -= b[q];
      }
    }
  };
  for (let kk = 0; kk < Math.min(hz, nz); kk++) addSlice(kk, 1);
  for (let k = 0; k < nz; k++) {
    const from = Math.max(0, k - hz);
    const to = Math.min(nz - 1, k + hz);
    // Drop before adding: the slice entering takes the leaving one's buffer.
    if (k - hz - 1 >= 0) addSlice(k - hz - 1, -1);
    if (k + hz < nz) addSlice(k + hz, 1);
    const depth = to - from + 1;
    const base = k * plane;
    for (let q = 0; q < plane; q++) {
      if (options.within && !options.within[base + q]) continue;
      const count = area[q] * depth;
      const mean = sum[q] / count;
      out[base + q] = sum2[q] / count - mean * mean <= limit && mean >= lowMean && mean <= highMean ? 1 : 0;
    }
  }
  return out;
}

/** Box half-size (voxels, at least 1) covering about `radiusMm` along each axis. */
export function boxHalfSize(spacing: Vec3, radiusMm: number): Vec3 {
  return spacing.map((s) => Math.max(1, Math.round(radiusMm / s))) as Vec3;
}
