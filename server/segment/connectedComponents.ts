/**
 * Connected components of binary masks and label maps (run-based two-pass union–find, voxel order
 * i + j·nx + k·nx·ny), and what is built on them: the largest component of a mask, and the
 * per-structure largest-connected-component cleanup a manifest may ask for.
 *
 * Memory: one `Uint32Array` of component ids per voxel, a parent table as long as the number of runs,
 * and the runs of two slices.
 */
import type { Vec3 } from '../../mesh/grid.ts';

/** Which neighbours touch: faces (6), faces + edges (18), faces + edges + corners (26). */
export type Connectivity = 6 | 18 | 26;

export interface ConnectedComponentsOptions {
  /** Neighbourhood that connects two voxels. Default 26 (what scipy's `label` with a full structure uses). */
  connectivity?: Connectivity;
}

export const CONNECTED_COMPONENTS_DEFAULTS = { connectivity: 26 } satisfies Required<ConnectedComponentsOptions>;

export interface Components {
  /** Component id per voxel, 1…count; 0 outside the mask. */
  ids: Uint32Array;
  count: number;
  /** Voxel count of each component, indexed by id (index 0 unused). */
  sizes: Float64Array;
  /** For label maps: the label value of each component, indexed by id. */
  values?: Uint32Array;
}

function find(parent: Uint32Array, x: number): number {
  let root = x;
  while (parent[root] !== root) root = parent[root];
  while (parent[x] !== root) {
    const next = parent[x];
    parent[x] = root;
    x = next;
  }
  return root;
}

/** Runs of one image row: start (inclusive), end (exclusive), provisional id, value. */
interface Runs {
  start: number[];
  end: number[];
  id: number[];
  value: number[];
}

/**
 * Labels connected components by runs: each row is cut into runs of equal non-zero value (any
 * non-zero value when `sameValue` is false), and runs are joined with the overlapping runs of the rows
 * they touch (row above in this slice, and the three rows around it in the slice below). Work is per
 * run rather than per voxel, which is what makes large blobs cheap.
 */
function label(values: ArrayLike<number>, dims: Vec3, connectivity: Connectivity, sameValue: boolean): Components {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const ids = new Uint32Array(n);
  let parent = new Uint32Array(1024);
  let next = 1;
  // Neighbour rows (dj, dk) and whether they touch diagonally along i (interval widened by one).
  const neighbours: { dj: number; dk: number; widen: number }[] =
    connectivity === 6
      ? [{ dj: -1, dk: 0, widen: 0 }, { dj: 0, dk: -1, widen: 0 }]
      : connectivity === 18
        ? [{ dj: -1, dk: 0, widen: 1 }, { dj: 0, dk: -1, widen: 1 }, { dj: -1, dk: -1, widen: 0 }, { dj: 1, dk: -1, widen: 0 }]
        : [{ dj: -1, dk: 0, widen: 1 }, { dj: 0, dk: -1, widen: 1 }, { dj: -1, dk: -1, widen: 1 }, { dj: 1, dk: -1, widen: 1 }];
  let previousPlane: Runs[] = [];
  // 1. First pass: runs, provisional ids, unions with touching runs.
  for (let k = 0; k < nz; k++) {
    const plane: Runs[] = [];
    for (let j = 0; j < ny; j++) {
      const row = j * nx + k * nx * ny;
      const runs: Runs = { start: [], end: [], id: [], value: [] };
      let i = 0;
      while (i < nx) {
        const v = values[row + i];
        if (!v) {
          i++;
          continue;
        }
        const start = i;
        i++;
        if (sameValue) while (i < nx && values[row + i] === v) i++;
        else while (i < nx && values[row + i]) i++;
        if (next >= parent.length) {
          const grown = new Uint32Array(parent.length * 2);
          grown.set(parent);
          parent = grown;
        }
        parent[next] = next;
        const id = next++;
        runs.start.push(start);
        runs.end.push(i);
        runs.id.push(id);
        runs.value.push(v);
        for (const nb of neighbours) {
          const jj = j + nb.dj;
          if (jj < 0 || jj >= ny) continue;
          const other = nb.dk === 0 ? plane[jj] : previousPlane[jj];
          if (!other) continue;
          const lo = start - nb.widen;
          const hi = i + nb.widen; // exclusive
          for (let r = 0; r < other.start.length; r++) {
            if (other.end[r] <= lo) continue;
            if (other.start[r] >= hi) break;
            if (sameValue && other.value[r] !== v) continue;
            const a = find(parent, id);
            const b = find(parent, other.id[r]);
            if (a !== b) {
              if (a < b) parent[b] = a;
              else parent[a] = b;
            }
          }
        }
        ids.fill(id, row + start, row + i);
      }
      plane.push(runs);
    }
    previousPlane = plane;
  }
  // 2. Resolve every provisional id to a compact final id.
  const final = new Uint32Array(next);
  let count = 0;
  for (let id = 1; id < next; id++) {
    if (find(parent, id) === id) final[id] = ++count;
  }
  for (let id = 1; id < next; id++) final[id] = final[find(parent, id)];
  // 3. Second pass: final ids, sizes and (for label maps) values.
  const sizes = new Float64Array(count + 1);
  const componentValues = sameValue ? new Uint32Array(count + 1) : undefined;
  for (let p = 0; p < n; p++) {
    const id = ids[p];
    if (!id) continue;
    const f = final[id];
    ids[p] = f;
    sizes[f]++;
    if (componentValues) componentValues[f] = values[p];
  }
  return { ids, count, sizes, ...(componentValues ? { values: componentValues } : {}) };
}

/** Connected components of a binary mask (non-zero voxels). */
export function connectedComponents(mask: ArrayLike<number>, dims: Vec3, options: ConnectedComponentsOptions = {}): Components {
  const { connectivity } = { ...CONNECTED_COMPONENTS_DEFAULTS, ...options };
  return label(mask, dims, connectivity, false);
}

/** Connected components of a label map: neighbours connect when they carry the same non-zero label. */
export function labelComponents(labels: ArrayLike<number>, dims: Vec3, options: ConnectedComponentsOptions = {}): Components {
  const { connectivity } = { ...CONNECTED_COMPONENTS_DEFAULTS, ...options };
  return label(labels, dims, connectivity, true);
}

/** The largest connected component of a mask, as a new 0/1 mask (all zeros when the mask is empty). */
export function largestComponent(mask: ArrayLike<number>, dims: Vec3, options: ConnectedComponentsOptions = {}): Uint8Array {
  const { ids, count, sizes } = connectedComponents(mask, dims, options);
  const out = new Uint8Array(ids.length);
  if (count === 0) return out;
  let best = 1;
  for (let id = 2; id <= count; id++) if (sizes[id] > sizes[best]) best = id;
  for (let p = 0; p < ids.length; p++) out[p] = ids[p] === best ? 1 : 0;
  return out;
}

/** Keeps the components of a mask whose voxel count is at least `minVoxels` (in place; returns the mask). */
export function removeSmallComponents(mask: Uint8Array, dims: Vec3, minVoxels: number, options: ConnectedComponentsOptions = {}): Uint8Array {
  const { ids, sizes } = connectedComponents(mask, dims, options);
  for (let p = 0; p < ids.length; p++) if (ids[p] && sizes[ids[p]] < minVoxels) mask[p] = 0;
  return mask;
}

export interface KeepLargestOptions extends ConnectedComponentsOptions {
  /** Label values to clean; the others are left as they are. */
  labels: readonly number[];
}

/**
 * Per-structure largest-connected-component cleanup: for each label listed, voxels outside that
 * label's largest component become background. One labelling pass over the whole map, whatever the
 * number of labels. Changes `labels` in place and returns the number of voxels removed per label.
 */
export function keepLargestComponentPerLabel(labels: Uint8Array | Uint16Array, dims: Vec3, options: KeepLargestOptions): Map<number, number> {
  const wanted = new Set(options.labels);
  const removed = new Map<number, number>();
  if (wanted.size === 0) return removed;
  const { ids, count, sizes, values } = labelComponents(labels, dims, options);
  // 1. The largest component of each wanted label.
  const best = new Map<number, number>();
  for (let id = 1; id <= count; id++) {
    const v = values![id];
    if (!wanted.has(v)) continue;
    const current = best.get(v);
    if (current === undefined || sizes[id] > sizes[current]) best.set(v, id);
  }
  // 2. Everything else of those labels becomes background.
  for (let p = 0; p < ids.length; p++) {
    const id = ids[p];
    if (!id) continue;
    const v = values![id];
    if (wanted.has(v) && best.get(v) !== id) {
      labels[p] = 0;
      removed.set(v, (removed.get(v) ?? 0) + 1);
    }
  }
  return removed;
}
