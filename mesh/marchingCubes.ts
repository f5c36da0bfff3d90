/**
 * Marching cubes on one label of a label map: the closed surface around the voxels that carry the
 * label. The surface's topology always comes from the binary mask (iso-level ½), so it is closed,
 * manifold (crack-free case table, vertices shared through an edge cache) and can never lose a thin
 * structure. Where each vertex sits on its grid edge (between a voxel inside and one outside) is chosen
 * in one of two ways:
 *
 *  - midpoint: exactly on the voxel boundary (the plain algorithm; it shows the voxel staircase);
 *  - smoothed mask (`maskSmoothing`): where the box-filtered mask crosses ½ along the edge, clamped
 *    inside the edge. This is marching cubes on a lightly smoothed mask, with the mask's topology: the
 *    staircase turns into ramps, thick-slice terraces fade, and no vertex leaves its edge (so none can
 *    move more than half a voxel, or into a neighbour's voxel beyond the shared boundary).
 *
 * The box filter is evaluated from 2D summed-area tables of the slices in a sliding window, so its cost
 * does not depend on its size. Only the label's box (±1 voxel) is scanned. The result is in voxel index
 * coordinates (i, j, k); `toPatientSpace` places it.
 * Isomorphic: no Node built-ins here.
 */
import type { LabelMap, Vec3 } from './grid.ts';
import type { VoxelBox } from './boundingBoxes.ts';
import { EDGE_TABLE, TRIANGLE_TABLE } from './marchingCubesTables.ts';
import type { TriangleMesh } from './triangleMesh.ts';

export interface MaskSmoothing {
  /** Half-widths of the box filter in voxels along i, j, k (whole numbers ≥ 0). See `maskSmoothingFor`. */
  radius: Vec3;
  /**
   * How far inside its edge a vertex stays: the smoothed value is clamped to at least ½ + margin at the
   * inside end and at most ½ − margin at the outside end.
   */
  margin?: number;
}

export interface MarchingCubesOptions {
  /**
   * Voxels that may carry the label (inclusive box, e.g. from `labelBoundingBoxes`). Cells reach one
   * voxel beyond it on every side, so the surface closes; voxels outside the grid count as outside.
   * Default: the whole grid.
   */
  box?: VoxelBox;
  /** Place vertices on a smoothed mask instead of at edge midpoints. */
  maskSmoothing?: MaskSmoothing;
  /**
   * How ambiguous cells (two inside voxels meeting only at an edge or a corner) are closed. false: kept
   * apart (the usual table; the same surface as vtk.js and marching-cubes-fast). true: joined, by
   * triangulating the complement's case with the winding reversed; a voxelised sheet one voxel thick
   * then stays one sheet instead of falling apart into a stack of terraces at every step.
   */
  joinDiagonals?: boolean;
}

export const MASK_SMOOTHING_DEFAULTS = { margin: 0.02 };

/** Corner bits contributed by the left (x) and right (x + 1) column of a cell, from a column code. */
const LEFT = new Uint8Array(16);
const RIGHT = new Uint8Array(16);
for (let c = 0; c < 16; c++) {
  // Column code bits: 1 = (y, z), 2 = (y + 1, z), 4 = (y, z + 1), 8 = (y + 1, z + 1).
  LEFT[c] = (c & 1 ? 1 : 0) | (c & 2 ? 8 : 0) | (c & 4 ? 16 : 0) | (c & 8 ? 128 : 0);
  RIGHT[c] = (c & 1 ? 2 : 0) | (c & 2 ? 4 : 0) | (c & 4 ? 32 : 0) | (c & 8 ? 64 : 0);
}

/**
 * Extracts the surface of voxels equal to `label`.
 *
 * 1. Pad the box by one voxel. Keep a window of mask slices (and, when smoothing, their summed-area
 *    tables): the cell layer's two slices plus the filter's reach on either side.
 * 2. For each cell row whose four mask rows are not all empty or all full, form each cell's corner
 *    code from column codes, and emit the case's triangles.
 * 3. Vertices live on grid edges and are cached per layer (x and y edges of the cell layer's bottom and
 *    top, z edges between them); a cache entry is valid only if made while its layer was current, so
 *    caches are never cleared. A new vertex goes to the edge midpoint, or to where the smoothed mask
 *    crosses ½.
 */
export function marchingCubes(labels: Pick<LabelMap, 'dims' | 'data'>, label: number, options: MarchingCubesOptions = {}): TriangleMesh {
  const [nx, ny, nz] = labels.dims;
  const data = labels.data;
  const box = options.box ?? { min: [0, 0, 0], max: [nx - 1, ny - 1, nz - 1] };
  const smoothing = options.maskSmoothing;
  const [rx, ry, rz] = smoothing ? smoothing.radius.map((r) => Math.max(0, Math.round(r))) : [0, 0, 0];
  const margin = smoothing?.margin ?? MASK_SMOOTHING_DEFAULTS.margin;
  const join = options.joinDiagonals === true;

  // 1. Padded box of grid points and the slice window.
  const x0 = box.min[0] - 1;
  const y0 = box.min[1] - 1;
  const z0 = box.min[2] - 1;
  const px = box.max[0] - box.min[0] + 3;
  const py = box.max[1] - box.min[1] + 3;
  const pz = box.max[2] - box.min[2] + 3;
  const layerSize = px * py;
  const window = 2 * rz + 2;
  const masks = Array.from({ length: window }, () => new Uint8Array(layerSize));
  // Per mask row: 0 empty, 1 mixed, 2 full; and the first and last column inside (mixed rows).
  const rowKinds = Array.from({ length: window }, () => new Uint8Array(py));
  const rowFirst = Array.from({ length: window }, () => new Int32Array(py));
  const rowLast = Array.from({ length: window }, () => new Int32Array(py));
  const satWidth = px + 1;
  const sats = smoothing ? Array.from({ length: window }, () => new Int32Array(satWidth * (py + 1))) : [];
  const slot = (s: number) => s % window;
  const xs = Math.max(x0, 0);
  const xe = Math.min(x0 + px - 1, nx - 1);

  const fillSlice = (s: number): void => {
    const mask = masks[slot(s)];
    const rows = rowKinds[slot(s)];
    const firsts = rowFirst[slot(s)];
    const lasts = rowLast[slot(s)];
    mask.fill(0);
    rows.fill(0);
    const gz = z0 + s;
    if (gz >= 0 && gz < nz) {
      for (let y = 0; y < py; y++) {
        const gy = y0 + y;
        if (gy < 0 || gy >= ny) continue;
        const src = (gz * ny + gy) * nx;
        const dst = y * px - x0;
        let count = 0;
        for (let gx = xs; gx <= xe; gx++) {
          const inside = data[src + gx] === label ? 1 : 0;
          mask[dst + gx] = inside;
          count += inside;
        }
        if (count === 0) continue;
        // Padding columns outside the grid are always empty, so a row is full only if it spans none.
        rows[y] = count === px ? 2 : 1;
        let first = y * px;
        while (mask[first] === 0) first++;
        let last = y * px + px - 1;
        while (mask[last] === 0) last--;
        firsts[y] = first - y * px;
        lasts[y] = last - y * px;
      }
    }
    if (smoothing) {
      // Summed-area table: sat[(y + 1)·(px + 1) + x + 1] = Σ mask over [0, x] × [0, y].
      const sat = sats[slot(s)];
      for (let y = 0; y < py; y++) {
        let run = 0;
        const row = (y + 1) * satWidth;
        const above = y * satWidth;
        const m = y * px;
        for (let x = 0; x < px; x++) {
          run += mask[m + x];
          sat[row + x + 1] = sat[above + x + 1] + run;
        }
      }
    }
  };

  // Mean of the mask over the box filter around padded grid point (x, y, s), 0 outside the padded box.
  const boxCount = (2 * rx + 1) * (2 * ry + 1) * (2 * rz + 1);
  const smoothedMask = (x: number, y: number, s: number): number => {
    const xa = Math.max(0, x - rx);
    const xb = Math.min(px, x + rx + 1);
    const ya = Math.max(0, y - ry) * satWidth;
    const yb = Math.min(py, y + ry + 1) * satWidth;
    let sum = 0;
    for (let t = Math.max(0, s - rz), te = Math.min(pz - 1, s + rz); t <= te; t++) {
      const sat = sats[slot(t)];
      sum += sat[yb + xb] - sat[yb + xa] - sat[ya + xb] + sat[ya + xa];
    }
    return sum / boxCount;
  };

  // Where along the edge from point a to point b (exactly one of them inside) the surface crosses.
  const crossing = (ax: number, ay: number, as: number, bx: number, by: number, bs: number): number => {
    const aInside = masks[slot(as)][ay * px + ax] === 1;
    let fa = smoothedMask(ax, ay, as);
    let fb = smoothedMask(bx, by, bs);
    if (aInside) {
      fa = Math.max(fa, 0.5 + margin);
      fb = Math.min(fb, 0.5 - margin);
    } else {
      fa = Math.min(fa, 0.5 - margin);
      fb = Math.max(fb, 0.5 + margin);
    }
    return (0.5 - fa) / (fb - fa);
  };

  // Growable outputs.
  let positions = new Float32Array(3 * 4096);
  let indices = new Uint32Array(3 * 8192);
  let vertexCount = 0;
  let indexCount = 0;

  // 3. Edge caches (vertex index, or stale/-1).
  let xBelow = new Int32Array(layerSize).fill(-1);
  let yBelow = new Int32Array(layerSize).fill(-1);
  let xAbove = new Int32Array(layerSize).fill(-1);
  let yAbove = new Int32Array(layerSize).fill(-1);
  const zEdges = new Int32Array(layerSize).fill(-1);
  const cellVertex = new Int32Array(12);

  // A vertex on the edge from padded point (x, y, s) one step along `axis` (0 x, 1 y, 2 z).
  const addVertex = (x: number, y: number, s: number, axis: number): number => {
    if (vertexCount * 3 + 3 > positions.length) {
      const grown = new Float32Array(positions.length * 2);
      grown.set(positions);
      positions = grown;
    }
    const t = smoothing ? crossing(x, y, s, axis === 0 ? x + 1 : x, axis === 1 ? y + 1 : y, axis === 2 ? s + 1 : s) : 0.5;
    const o = vertexCount * 3;
    positions[o] = x0 + x + (axis === 0 ? t : 0);
    positions[o + 1] = y0 + y + (axis === 1 ? t : 0);
    positions[o + 2] = z0 + s + (axis === 2 ? t : 0);
    return vertexCount++;
  };

  for (let s = 0; s <= Math.min(pz - 1, rz); s++) fillSlice(s);
  let previousStart = 0;
  for (let cz = 0; cz < pz - 1; cz++) {
    // The window holds slices cz − rz … cz + 1 + rz.
    if (cz + 1 + rz < pz) fillSlice(cz + 1 + rz);
    const below = masks[slot(cz)];
    const above = masks[slot(cz + 1)];
    const belowRows = rowKinds[slot(cz)];
    const aboveRows = rowKinds[slot(cz + 1)];
    const belowFirst = rowFirst[slot(cz)];
    const aboveFirst = rowFirst[slot(cz + 1)];
    const belowLast = rowLast[slot(cz)];
    const aboveLast = rowLast[slot(cz + 1)];
    const layerStart = vertexCount;

    // 2. Cell rows.
    for (let cy = 0; cy < py - 1; cy++) {
      const r0 = belowRows[cy];
      const r1 = belowRows[cy + 1];
      const r2 = aboveRows[cy];
      const r3 = aboveRows[cy + 1];
      if ((r0 | r1 | r2 | r3) === 0 || (r0 & r1 & r2 & r3) === 2) continue;
      // Only cells between the first and last inside column of the four rows can be cut.
      let from = px;
      let to = -1;
      if (r0) (from = Math.min(from, belowFirst[cy])), (to = Math.max(to, belowLast[cy]));
      if (r1) (from = Math.min(from, belowFirst[cy + 1])), (to = Math.max(to, belowLast[cy + 1]));
      if (r2) (from = Math.min(from, aboveFirst[cy])), (to = Math.max(to, aboveLast[cy]));
      if (r3) (from = Math.min(from, aboveFirst[cy + 1])), (to = Math.max(to, aboveLast[cy + 1]));
      from = Math.max(0, from - 1);
      to = Math.min(px - 2, to);
      const rowA = cy * px;
      const rowB = rowA + px;
      let left = below[rowA + from] | (below[rowB + from] << 1) | (above[rowA + from] << 2) | (above[rowB + from] << 3);
      for (let cx = from; cx <= to; cx++) {
        const a = rowA + cx + 1;
        const b = rowB + cx + 1;
        const right = below[a] | (below[b] << 1) | (above[a] << 2) | (above[b] << 3);
        const cube = LEFT[left] | RIGHT[right];
        left = right;
        if (cube === 0 || cube === 255) continue;

        const p = rowA + cx;
        for (let edges = EDGE_TABLE[cube]; edges !== 0; edges &= edges - 1) {
          const e = 31 - Math.clz32(edges & -edges);
          let v: number;
          switch (e) {
            case 0:
              v = xBelow[p];
              if (v < previousStart) v = xBelow[p] = addVertex(cx, cy, cz, 0);
              break;
            case 1:
              v = yBelow[p + 1];
              if (v < previousStart) v = yBelow[p + 1] = addVertex(cx + 1, cy, cz, 1);
              break;
            case 2:
              v = xBelow[p + px];
              if (v < previousStart) v = xBelow[p + px] = addVertex(cx, cy + 1, cz, 0);
              break;
            case 3:
              v = yBelow[p];
              if (v < previousStart) v = yBelow[p] = addVertex(cx, cy, cz, 1);
              break;
            case 4:
              v = xAbove[p];
              if (v < layerStart) v = xAbove[p] = addVertex(cx, cy, cz + 1, 0);
              break;
            case 5:
              v = yAbove[p + 1];
              if (v < layerStart) v = yAbove[p + 1] = addVertex(cx + 1, cy, cz + 1, 1);
              break;
            case 6:
              v = xAbove[p + px];
              if (v < layerStart) v = xAbove[p + px] = addVertex(cx, cy + 1, cz + 1, 0);
              break;
            case 7:
              v = yAbove[p];
              if (v < layerStart) v = yAbove[p] = addVertex(cx, cy, cz + 1, 1);
              break;
            case 8:
              v = zEdges[p];
              if (v < layerStart) v = zEdges[p] = addVertex(cx, cy, cz, 2);
              break;
            case 9:
              v = zEdges[p + 1];
              if (v < layerStart) v = zEdges[p + 1] = addVertex(cx + 1, cy, cz, 2);
              break;
            case 10:
              v = zEdges[p + px + 1];
              if (v < layerStart) v = zEdges[p + px + 1] = addVertex(cx + 1, cy + 1, cz, 2);
              break;
            default:
              v = zEdges[p + px];
              if (v < layerStart) v = zEdges[p + px] = addVertex(cx, cy + 1, cz, 2);
              break;
          }
          cellVertex[e] = v;
        }

        if (indexCount + 15 > indices.length) {
          const grown = new Uint32Array(indices.length * 2);
          grown.set(indices);
          indices = grown;
        }
        if (!join) {
          for (let k = cube * 16; TRIANGLE_TABLE[k] >= 0; k += 3) {
            // The table winds triangles clockwise seen from outside; emit them counter-clockwise.
            indices[indexCount++] = cellVertex[TRIANGLE_TABLE[k]];
            indices[indexCount++] = cellVertex[TRIANGLE_TABLE[k + 2]];
            indices[indexCount++] = cellVertex[TRIANGLE_TABLE[k + 1]];
          }
        } else {
          // The complement's triangles (same edges, ambiguities resolved the other way), seen from the
          // complement's outside: already counter-clockwise seen from ours.
          for (let k = (255 - cube) * 16; TRIANGLE_TABLE[k] >= 0; k += 3) {
            indices[indexCount++] = cellVertex[TRIANGLE_TABLE[k]];
            indices[indexCount++] = cellVertex[TRIANGLE_TABLE[k + 1]];
            indices[indexCount++] = cellVertex[TRIANGLE_TABLE[k + 2]];
          }
        }
      }
    }

    // The top layer's caches become the bottom ones; they stay valid for one more cell layer.
    [xBelow, xAbove] = [xAbove, xBelow];
    [yBelow, yAbove] = [yAbove, yBelow];
    previousStart = layerStart;
  }
  return { positions: positions.slice(0, vertexCount * 3), indices: indices.slice(0, indexCount) };
}
