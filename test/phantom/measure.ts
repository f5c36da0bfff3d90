/**
 * Measurements on a phantom's label map and CT for the phantom tests: per-label statistics in LPS
 * millimetres, and a 6-connected flood fill.
 */
import { applyAffine, type Vec3 } from '../../mesh/grid.ts';
import type { Volume } from '../../server/volume/volume.ts';

export interface LabelStats {
  count: number;
  meanHu: number;
  /** Centroid in LPS mm. */
  centroid: Vec3;
}

/** Voxel count, mean HU and LPS centroid of every label present. */
export function labelStats(ct: Volume, labels: Volume): Map<number, LabelStats> {
  const [nx, ny, nz] = labels.dims;
  const sums = new Map<number, { n: number; hu: number; i: number; j: number; k: number }>();
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const l = labels.data[n];
        let s = sums.get(l);
        if (!s) sums.set(l, (s = { n: 0, hu: 0, i: 0, j: 0, k: 0 }));
        s.n++;
        s.hu += ct.data[n];
        s.i += i;
        s.j += j;
        s.k += k;
      }
    }
  }
  const out = new Map<number, LabelStats>();
  for (const [l, s] of sums) {
    out.set(l, { count: s.n, meanHu: s.hu / s.n, centroid: applyAffine(labels.affine, [s.i / s.n, s.j / s.n, s.k / s.n]) });
  }
  return out;
}

/** Voxel indices reachable from `seeds` through 6-connected voxels for which `pass(n)` holds. */
export function floodFill(dims: Vec3, seeds: number[], pass: (n: number) => boolean): Uint8Array {
  const [nx, ny, nz] = dims;
  const seen = new Uint8Array(nx * ny * nz);
  const stack: number[] = [];
  const visit = (m: number): void => {
    if (!seen[m] && pass(m)) {
      seen[m] = 1;
      stack.push(m);
    }
  };
  for (const s of seeds) visit(s);
  while (stack.length) {
    const n = stack.pop()!;
    const i = n % nx, j = Math.floor(n / nx) % ny, k = Math.floor(n / (nx * ny));
    if (i > 0) visit(n - 1);
    if (i < nx - 1) visit(n + 1);
    if (j > 0) visit(n - nx);
    if (j < ny - 1) visit(n + nx);
    if (k > 0) visit(n - nx * ny);
    if (k < nz - 1) visit(n + nx * ny);
  }
  return seen;
}

/** Indices of the voxels carrying `label`. */
export function voxelsOf(labels: Volume, label: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < labels.data.length; n++) if (labels.data[n] === label) out.push(n);
  return out;
}
