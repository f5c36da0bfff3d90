/**
 * A voxel grid placed in patient space: the geometry shared by CT volumes and label maps.
 *
 * Conventions (see the design guide): patient space is DICOM LPS in millimetres; voxel (i, j, k) is
 * stored at i + j·nx + k·nx·ny; `affine` is a row-major 4×4 matrix mapping (i, j, k, 1) to (L, P, S, 1).
 * Isomorphic: no Node built-ins here.
 */
export type Vec3 = [number, number, number];
/** Row-major 4×4 matrix, 16 numbers: `m[row * 4 + col]`. */
export type Mat4 = number[];

export type VoxelArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export interface Grid {
  /** Voxel counts along i, j, k. */
  dims: Vec3;
  /** Voxel index → LPS millimetres. */
  affine: Mat4;
}

/** A label map: unsigned integers on a grid, 0 is background. */
export interface LabelMap extends Grid {
  data: Uint8Array | Uint16Array | Uint32Array;
}

export function voxelCount(grid: Grid): number {
  return grid.dims[0] * grid.dims[1] * grid.dims[2];
}

/** Builds an affine from origin (LPS of voxel 0), spacing (mm) and unit direction columns. */
export function composeAffine(origin: Vec3, spacing: Vec3, direction: [Vec3, Vec3, Vec3]): Mat4 {
  const m: Mat4 = new Array(16).fill(0);
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < 3; r++) m[r * 4 + c] = direction[c][r] * spacing[c];
  }
  m[3] = origin[0];
  m[7] = origin[1];
  m[11] = origin[2];
  m[15] = 1;
  return m;
}

/** The affine's column for voxel axis `axis` (0, 1, 2): the LPS step of one voxel along it. */
export function axisVector(affine: Mat4, axis: number): Vec3 {
  return [affine[axis], affine[4 + axis], affine[8 + axis]];
}

export function spacingOf(affine: Mat4): Vec3 {
  return [0, 1, 2].map((a) => Math.hypot(...axisVector(affine, a))) as Vec3;
}

export function originOf(affine: Mat4): Vec3 {
  return [affine[3], affine[7], affine[11]];
}

/** Unit direction of each voxel axis in LPS: `[iDir, jDir, kDir]`. */
export function directionOf(affine: Mat4): [Vec3, Vec3, Vec3] {
  return [0, 1, 2].map((a) => {
    const v = axisVector(affine, a);
    const n = Math.hypot(...v) || 1;
    return [v[0] / n, v[1] / n, v[2] / n];
  }) as [Vec3, Vec3, Vec3];
}

export function applyAffine(affine: Mat4, p: Vec3): Vec3 {
  const [x, y, z] = p;
  return [
    affine[0] * x + affine[1] * y + affine[2] * z + affine[3],
    affine[4] * x + affine[5] * y + affine[6] * z + affine[7],
    affine[8] * x + affine[9] * y + affine[10] * z + affine[11],
  ];
}

export function multiplyMat4(a: Mat4, b: Mat4): Mat4 {
  const m: Mat4 = new Array(16).fill(0);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
      m[r * 4 + c] = s;
    }
  }
  return m;
}

/** Inverse of an affine 4×4 (last row 0 0 0 1). Throws on a singular matrix. */
export function invertAffine(m: Mat4): Mat4 {
  const [a, b, c, , d, e, f, , g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('affine is singular');
  const inv = [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
  const t = [m[3], m[7], m[11]];
  const out: Mat4 = new Array(16).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 3; col++) out[r * 4 + col] = inv[r * 3 + col];
    out[r * 4 + 3] = -(inv[r * 3] * t[0] + inv[r * 3 + 1] * t[1] + inv[r * 3 + 2] * t[2]);
  }
  out[15] = 1;
  return out;
}

/**
 * Orientation codes: for each voxel axis, the patient direction it increases towards
 * (`L`/`R`, `P`/`A`, `S`/`I`), like nibabel's `aff2axcodes`. An LPS-ordered grid gives `LPS`,
 * a NIfTI volume stored in RAS order gives `RAS`.
 */
export function orientationCodes(affine: Mat4): string {
  const positive = ['L', 'P', 'S'];
  const negative = ['R', 'A', 'I'];
  const used = new Set<number>();
  let codes = '';
  for (let axis = 0; axis < 3; axis++) {
    const v = axisVector(affine, axis);
    let best = -1;
    for (let r = 0; r < 3; r++) {
      if (used.has(r)) continue;
      if (best < 0 || Math.abs(v[r]) > Math.abs(v[best])) best = r;
    }
    used.add(best);
    codes += v[best] >= 0 ? positive[best] : negative[best];
  }
  return codes;
}

/** Volume of one voxel in mm³. */
export function voxelVolumeMm3(affine: Mat4): number {
  const [a, b, c, , d, e, f, , g, h, i] = affine;
  return Math.abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g));
}
