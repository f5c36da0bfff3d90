/**
 * Label maps for mesh tests and the mesh benchmark: the TotalSegmentator fixture (read in place),
 * the same resampled with nearest neighbour to a finer grid, and synthetic shapes on anisotropic,
 * oblique grids with exactly known volume and position.
 */
import { readFile } from 'node:fs/promises';
import { composeAffine, directionOf, originOf, spacingOf, type LabelMap, type Mat4, type Vec3 } from '../../mesh/grid.ts';
import type { StructureSpec } from '../../mesh/structure.ts';
import { readNifti } from '../../server/volume/nifti.ts';

export const FIXTURES = new URL('../../../shared/fixtures/totalsegmentator/', import.meta.url);
export const EXAMPLE_SEG = new URL('example_seg.nii.gz', FIXTURES);
export const CLASSES_TOTAL_V2 = new URL('classes_total_v2.json', FIXTURES);

/** `example_seg.nii.gz` as a label map (3 mm, 122×101×30, 42 labels). */
export async function exampleSeg(): Promise<LabelMap> {
  const volume = await readNifti(EXAMPLE_SEG.pathname);
  return { dims: volume.dims, affine: volume.affine, data: volume.data as Uint8Array };
}

/** The TotalSegmentator v2 label table: label value → structure name. */
export async function totalV2Names(): Promise<Map<number, string>> {
  const table = JSON.parse(await readFile(CLASSES_TOTAL_V2, 'utf8')) as Record<string, string>;
  return new Map(Object.entries(table).map(([k, v]) => [Number(k), v]));
}

/** Specs with placeholder catalogue fields (for tests that do not need the anatomy catalogue). */
export function plainSpecs(names: Map<number, string>): StructureSpec[] {
  return [...names].map(([label, name]) => ({ label, name, displayName: name, group: 'other', color: '#c08060' }));
}

/**
 * Nearest-neighbour resampling to isotropic `spacingMm` over the same field of view (voxel edges
 * aligned with the original grid's outer edges), keeping the directions.
 */
export function resampleNearest(labels: LabelMap, spacingMm: number): LabelMap {
  const spacing = spacingOf(labels.affine);
  const dirs = directionOf(labels.affine);
  const dims = labels.dims.map((n, a) => Math.round((n * spacing[a]) / spacingMm)) as Vec3;
  // New voxel centre i' lies at old index (i' + ½)·s'/s − ½.
  const origin = originOf(labels.affine).map((o, r) => o + [0, 1, 2].reduce((sum, a) => sum + dirs[a][r] * (-0.5 * spacing[a] + 0.5 * spacingMm), 0)) as Vec3;
  const affine = composeAffine(origin, [spacingMm, spacingMm, spacingMm], dirs);
  const [nx, ny, nz] = dims;
  const [ox, oy] = labels.dims;
  const data = new (labels.data.constructor as Uint8ArrayConstructor)(nx * ny * nz);
  const maps = [0, 1, 2].map((a) =>
    Int32Array.from({ length: dims[a] }, (_, i) => Math.min(labels.dims[a] - 1, Math.max(0, Math.round(((i + 0.5) * spacingMm) / spacing[a] - 0.5)))),
  );
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = (maps[2][k] * oy + maps[1][j]) * ox;
      for (let i = 0; i < nx; i++) data[n++] = labels.data[row + maps[0][i]];
    }
  }
  return { dims, affine, data };
}

/** A rotation matrix (3×3 as columns) from Euler angles in degrees about x, then y, then z. */
export function rotation(degX: number, degY: number, degZ: number): [Vec3, Vec3, Vec3] {
  const [a, b, c] = [degX, degY, degZ].map((d) => (d * Math.PI) / 180);
  const rx = [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]];
  const ry = [[Math.cos(b), 0, Math.sin(b)], [0, 1, 0], [-Math.sin(b), 0, Math.cos(b)]];
  const rz = [[Math.cos(c), -Math.sin(c), 0], [Math.sin(c), Math.cos(c), 0], [0, 0, 1]];
  const mul = (p: number[][], q: number[][]) => p.map((row, r) => [0, 1, 2].map((col) => row.reduce((s, _, k) => s + p[r][k] * q[k][col], 0)));
  const m = mul(rz, mul(ry, rx));
  return [0, 1, 2].map((col) => [m[0][col], m[1][col], m[2][col]]) as [Vec3, Vec3, Vec3];
}

/** An ellipsoid or sphere drawn into a label map in patient space (LPS mm). */
export interface Blob {
  label: number;
  centreLpsMm: Vec3;
  /** Semi-axes along L, P, S (mm). */
  radiiMm: Vec3;
}

/**
 * A label map on the grid `dims`/`affine` with each blob's voxels labelled (voxel centre inside
 * the ellipsoid; later blobs overwrite earlier ones).
 */
export function drawBlobs(dims: Vec3, affine: Mat4, blobs: readonly Blob[]): LabelMap {
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  let n = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, n++) {
        const p = [0, 1, 2].map((r) => affine[r * 4] * i + affine[r * 4 + 1] * j + affine[r * 4 + 2] * k + affine[r * 4 + 3]);
        for (const b of blobs) {
          let s = 0;
          for (let a = 0; a < 3; a++) s += ((p[a] - b.centreLpsMm[a]) / b.radiiMm[a]) ** 2;
          if (s <= 1) data[n] = b.label;
        }
      }
    }
  }
  return { dims, affine, data };
}

/**
 * A label map the size of a full-body CT: `example_seg` resampled to `spacingMm` and stacked `copies`
 * times along the body axis, every other copy mirrored so structures continue across the seams
 * (at 1.5 mm and 10 copies: 244 × 202 × 600 voxels, 90 cm long, ten times the surface of the original).
 */
export function stackedCase(labels: LabelMap, spacingMm: number, copies: number): LabelMap {
  const fine = resampleNearest(labels, spacingMm);
  const [nx, ny, nz] = fine.dims;
  const slice = nx * ny;
  const data = new (fine.data.constructor as Uint8ArrayConstructor)(slice * nz * copies);
  for (let c = 0; c < copies; c++) {
    for (let k = 0; k < nz; k++) {
      const source = c % 2 === 0 ? k : nz - 1 - k;
      data.set(fine.data.subarray(source * slice, (source + 1) * slice), (c * nz + k) * slice);
    }
  }
  return { dims: [nx, ny, nz * copies], affine: fine.affine, data };
}
