/**
 * Resampling between two grids that cover the same box along the same axes (the CT reoriented to the
 * network's axes, and the network's grid at its own spacing). Coordinates are cell-centred with edge
 * clamping, as `skimage.transform.resize(order=1, mode='edge', anti_aliasing=False)` in nnU-Net's
 * preprocessing: target index t samples source position (t + 0.5)·(source/target) − 0.5.
 * Trilinear interpolation is separable on such grids, so each axis is described by a small table.
 */
import type { Vec3 } from '../../mesh/grid.ts';

/** For each target index along one axis: the two source samples and the weight of the upper one. */
export interface AxisInterpolation {
  lower: Int32Array;
  upper: Int32Array;
  weight: Float32Array;
}

/** Source position (fractional index) of target index `t` along one axis, clamped to the source. */
export function sourcePosition(t: number, sourceLength: number, targetLength: number): number {
  const x = (t + 0.5) * (sourceLength / targetLength) - 0.5;
  return Math.min(Math.max(x, 0), sourceLength - 1);
}

export function linearAxis(sourceLength: number, targetLength: number): AxisInterpolation {
  const lower = new Int32Array(targetLength);
  const upper = new Int32Array(targetLength);
  const weight = new Float32Array(targetLength);
  for (let t = 0; t < targetLength; t++) {
    const x = sourcePosition(t, sourceLength, targetLength);
    const x0 = Math.floor(x);
    lower[t] = x0;
    upper[t] = Math.min(x0 + 1, sourceLength - 1);
    weight[t] = x - x0;
  }
  return { lower, upper, weight };
}

/** Nearest source index of each target index along one axis. */
export function nearestAxis(sourceLength: number, targetLength: number): Int32Array {
  const out = new Int32Array(targetLength);
  for (let t = 0; t < targetLength; t++) out[t] = Math.min(sourceLength - 1, Math.round(sourcePosition(t, sourceLength, targetLength)));
  return out;
}

/**
 * Trilinear resampling of a scalar volume to `targetDims` (Float32 result). Values are read through
 * `source[index]`, so any typed array works without a float copy of the source.
 */
export function resampleLinear(source: ArrayLike<number>, sourceDims: Vec3, targetDims: Vec3, out = new Float32Array(targetDims[0] * targetDims[1] * targetDims[2])): Float32Array {
  const [sx, sy] = sourceDims;
  const [tx, ty, tz] = targetDims;
  const ax = linearAxis(sourceDims[0], tx);
  const ay = linearAxis(sourceDims[1], ty);
  const az = linearAxis(sourceDims[2], tz);
  const sxy = sx * sy;
  let o = 0;
  for (let k = 0; k < tz; k++) {
    const z0 = az.lower[k] * sxy;
    const z1 = az.upper[k] * sxy;
    const wz = az.weight[k];
    for (let j = 0; j < ty; j++) {
      const y0 = ay.lower[j] * sx;
      const y1 = ay.upper[j] * sx;
      const wy = ay.weight[j];
      const r00 = z0 + y0;
      const r01 = z0 + y1;
      const r10 = z1 + y0;
      const r11 = z1 + y1;
      for (let i = 0; i < tx; i++, o++) {
        const x0 = ax.lower[i];
        const x1 = ax.upper[i];
        const wx = ax.weight[i];
        const c00 = source[r00 + x0] + (source[r00 + x1] - source[r00 + x0]) * wx;
        const c01 = source[r01 + x0] + (source[r01 + x1] - source[r01 + x0]) * wx;
        const c10 = source[r10 + x0] + (source[r10 + x1] - source[r10 + x0]) * wx;
        const c11 = source[r11 + x0] + (source[r11 + x1] - source[r11 + x0]) * wx;
        const c0 = c00 + (c01 - c00) * wy;
        const c1 = c10 + (c11 - c10) * wy;
        out[o] = c0 + (c1 - c0) * wz;
      }
    }
  }
  return out;
}

/** Nearest-neighbour resampling (labels): the result has the source's array type. */
export function resampleNearest<T extends Uint8Array | Uint16Array | Uint32Array>(source: T, sourceDims: Vec3, targetDims: Vec3): T {
  const [sx, sy] = sourceDims;
  const [tx, ty, tz] = targetDims;
  const nx = nearestAxis(sourceDims[0], tx);
  const ny = nearestAxis(sourceDims[1], ty);
  const nz = nearestAxis(sourceDims[2], tz);
  const out = new (source.constructor as new (n: number) => T)(tx * ty * tz);
  let o = 0;
  for (let k = 0; k < tz; k++) {
    for (let j = 0; j < ty; j++) {
      const row = nz[k] * sx * sy + ny[j] * sx;
      for (let i = 0; i < tx; i++) out[o++] = source[row + nx[i]];
    }
  }
  return out;
}
