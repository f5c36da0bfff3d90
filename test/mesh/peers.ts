/**
 * The isosurface implementations our marching cubes is measured against (the product design names
 * `marching-cubes-fast`; `@kitware/vtk.js` is the web's reference toolkit), each fed the same binary
 * mask of one label over its box ±1 voxel at iso-level ½, each returning an indexed mesh in voxel index
 * coordinates so results compare one to one. Building the mask (or the sampling callback) is part of
 * each peer's cost, as our implementation builds its own.
 */
import { createRequire } from 'node:module';
import type { LabelExtent } from '../../mesh/boundingBoxes.ts';
import type { LabelMap } from '../../mesh/grid.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';

const require = createRequire(import.meta.url);

interface McfResult {
  positions: number[][];
  cells: number[][];
}
interface Mcf {
  marchingCubes(resolution: number, potential: (x: number, y: number, z: number, block?: number[][]) => number, bounds: number[][]): McfResult;
}
const mcf = require('marching-cubes-fast') as Mcf;

/** The padded box of grid points around a label (its box ±1 voxel) and a binary mask over it. */
export function paddedMask(labels: Pick<LabelMap, 'dims' | 'data'>, extent: LabelExtent, type: 'uint8' | 'float32' = 'uint8') {
  const [nx, ny, nz] = labels.dims;
  const origin = [extent.box.min[0] - 1, extent.box.min[1] - 1, extent.box.min[2] - 1];
  const size = [0, 1, 2].map((a) => extent.box.max[a] - extent.box.min[a] + 3);
  const mask = type === 'uint8' ? new Uint8Array(size[0] * size[1] * size[2]) : new Float32Array(size[0] * size[1] * size[2]);
  let n = 0;
  for (let z = 0; z < size[2]; z++) {
    const gz = origin[2] + z;
    for (let y = 0; y < size[1]; y++) {
      const gy = origin[1] + y;
      for (let x = 0; x < size[0]; x++, n++) {
        const gx = origin[0] + x;
        if (gx < 0 || gy < 0 || gz < 0 || gx >= nx || gy >= ny || gz >= nz) continue;
        if (labels.data[gx + nx * (gy + ny * gz)] === extent.label) mask[n] = 1;
      }
    }
  }
  return { origin, size, mask };
}

/**
 * The potential marching-cubes-fast samples at a grid point: mask − ½ (positive inside), −½ outside
 * the padded box.
 */
function maskPotential({ origin, size, mask }: ReturnType<typeof paddedMask>): (x: number, y: number, z: number) => number {
  return (x, y, z) => {
    const i = Math.round(x - origin[0]);
    const j = Math.round(y - origin[1]);
    const k = Math.round(z - origin[2]);
    if (i < 0 || j < 0 || k < 0 || i >= size[0] || j >= size[1] || k >= size[2]) return -0.5;
    return mask[i + size[0] * (j + size[1] * k)] - 0.5;
  };
}

/** Meshes from a list of triangle corner positions, welding equal positions (mcf shares none). */
function weld(positions: number[][], cells: number[][]): TriangleMesh {
  const ids = new Map<string, number>();
  const out: number[] = [];
  const remap = positions.map((p) => {
    const key = `${p[0]},${p[1]},${p[2]}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = out.length / 3;
      ids.set(key, id);
      out.push(p[0], p[1], p[2]);
    }
    return id;
  });
  const indices = new Uint32Array(cells.length * 3);
  cells.forEach((c, f) => {
    // mcf winds triangles clockwise seen from outside for a positive-inside field; flip.
    indices[f * 3] = remap[c[0]];
    indices[f * 3 + 1] = remap[c[2]];
    indices[f * 3 + 2] = remap[c[1]];
  });
  return { positions: Float32Array.from(out), indices };
}

/** Side of the power-of-two cube `marching-cubes-fast` needs to cover a label's padded box. */
export function mcfResolution(extent: LabelExtent): number {
  const side = Math.max(...[0, 1, 2].map((a) => extent.box.max[a] - extent.box.min[a] + 3));
  return 2 ** Math.ceil(Math.log2(Math.max(2, side - 1)));
}

/**
 * `marching-cubes-fast` as its README documents it: a potential callback sampled at cell corners over a
 * power-of-two cube (mask − ½, positive inside). Its octree prunes a block only when |potential| at the
 * block's centre exceeds the block's radius, which a mask never does, so every cell of the cube runs.
 */
export function mcfDocumented(labels: Pick<LabelMap, 'dims' | 'data'>, extent: LabelExtent): TriangleMesh {
  const { origin, size, mask } = paddedMask(labels, extent);
  const res = mcfResolution(extent);
  const potential = maskPotential({ origin, size, mask });
  const result = mcf.marchingCubes(res, potential, [origin, [origin[0] + res, origin[1] + res, origin[2] + res]]);
  return weld(result.positions, result.cells);
}

/**
 * `marching-cubes-fast` with its octree given an exact empty/full-block test: the potential callback
 * receives the block and answers 0 (keep) when the block holds both inside and outside voxels, counted
 * from a summed-volume table in O(1), and a large value (prune) otherwise.
 */
export function mcfPruned(labels: Pick<LabelMap, 'dims' | 'data'>, extent: LabelExtent): TriangleMesh {
  const { origin, size, mask } = paddedMask(labels, extent);
  const res = mcfResolution(extent);
  // Summed-volume table over the mask, one larger on each axis.
  const [sx, sy, sz] = [size[0] + 1, size[1] + 1, size[2] + 1];
  const sum = new Int32Array(sx * sy * sz);
  for (let k = 1; k < sz; k++) {
    for (let j = 1; j < sy; j++) {
      for (let i = 1; i < sx; i++) {
        const v = mask[i - 1 + size[0] * (j - 1 + size[1] * (k - 1))];
        const at = (a: number, b: number, c: number) => sum[a + sx * (b + sy * c)];
        sum[i + sx * (j + sy * k)] = v + at(i - 1, j, k) + at(i, j - 1, k) + at(i, j, k - 1) - at(i - 1, j - 1, k) - at(i - 1, j, k - 1) - at(i, j - 1, k - 1) + at(i - 1, j - 1, k - 1);
      }
    }
  }
  const atPoint = maskPotential({ origin, size, mask });
  const clampAxis = (v: number, a: number) => Math.max(0, Math.min(size[a], v));
  const count = (lo: number[], hi: number[]) => {
    // Voxels (grid points) with local index in [lo, hi) per axis.
    const [a0, b0, c0] = lo.map((v, a) => clampAxis(v, a));
    const [a1, b1, c1] = hi.map((v, a) => clampAxis(v, a));
    if (a1 <= a0 || b1 <= b0 || c1 <= c0) return { inside: 0, total: 0 };
    const at = (a: number, b: number, c: number) => sum[a + sx * (b + sy * c)];
    const inside = at(a1, b1, c1) - at(a0, b1, c1) - at(a1, b0, c1) - at(a1, b1, c0) + at(a0, b0, c1) + at(a0, b1, c0) + at(a1, b0, c0) - at(a0, b0, c0);
    return { inside, total: (a1 - a0) * (b1 - b0) * (c1 - c0) };
  };
  const potential = (x: number, y: number, z: number, block?: number[][]) => {
    if (block) {
      // Grid points the block's cells touch: corners from block min to block max inclusive.
      const lo = [block[0][0] - origin[0], block[0][1] - origin[1], block[0][2] - origin[2]].map(Math.round);
      const hi = [block[1][0] - origin[0] + 1, block[1][1] - origin[1] + 1, block[1][2] - origin[2] + 1].map(Math.round);
      const { inside, total } = count(lo, hi);
      const full = (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
      // Mixed (or partly outside the box, where points count as outside, with some inside): keep.
      const mixed = inside > 0 && (inside < total || total < full);
      return mixed ? 0 : 1e9;
    }
    return atPoint(x, y, z);
  };
  const result = mcf.marchingCubes(res, potential, [origin, [origin[0] + res, origin[1] + res, origin[2] + res]]);
  return weld(result.positions, result.cells);
}

interface VtkModules {
  imageData: { newInstance(): any };
  dataArray: { newInstance(init: { numberOfComponents: number; values: ArrayLike<number> }): any };
  marchingCubes: { newInstance(init: { contourValue: number; computeNormals: boolean; mergePoints: boolean }): any };
}
let vtk: Promise<VtkModules> | undefined;

/** Loads vtk.js through its ESM deep imports (once). */
export function loadVtk(): Promise<VtkModules> {
  vtk ??= (async () => {
    // @ts-expect-error vtk.js ships no declarations for this filter
    const marchingCubes = await import('@kitware/vtk.js/Filters/General/ImageMarchingCubes.js');
    const imageData = await import('@kitware/vtk.js/Common/DataModel/ImageData.js');
    const dataArray = await import('@kitware/vtk.js/Common/Core/DataArray.js');
    return { imageData: imageData.default, dataArray: dataArray.default, marchingCubes: marchingCubes.default } as VtkModules;
  })();
  return vtk;
}

/**
 * vtk.js `vtkImageMarchingCubes` (merge points on, so vertices are shared) on the label's padded mask.
 * It prints a `console.time` line per run; that is silenced here.
 */
export function vtkMarchingCubes(modules: VtkModules, labels: Pick<LabelMap, 'dims' | 'data'>, extent: LabelExtent): TriangleMesh {
  const { origin, size, mask } = paddedMask(labels, extent);
  const image = modules.imageData.newInstance();
  image.setDimensions(size[0], size[1], size[2]);
  image.setOrigin(origin[0], origin[1], origin[2]);
  image.setSpacing(1, 1, 1);
  image.getPointData().setScalars(modules.dataArray.newInstance({ numberOfComponents: 1, values: mask }));
  const filter = modules.marchingCubes.newInstance({ contourValue: 0.5, computeNormals: false, mergePoints: true });
  filter.setInputData(image);
  const timeEnd = console.timeEnd;
  const time = console.time;
  console.time = () => {};
  console.timeEnd = () => {};
  let output;
  try {
    output = filter.getOutputData();
  } finally {
    console.time = time;
    console.timeEnd = timeEnd;
  }
  const points = output.getPoints().getData() as Float32Array;
  const polys = output.getPolys().getData() as Uint32Array;
  const indices = new Uint32Array((polys.length / 4) * 3);
  for (let c = 0, t = 0; c < polys.length; c += 4) {
    indices[t++] = polys[c + 1];
    indices[t++] = polys[c + 2];
    indices[t++] = polys[c + 3];
  }
  return { positions: Float32Array.from(points), indices };
}
