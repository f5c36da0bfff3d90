/**
 * Meshing throughput (budget in the design guide: isosurface extraction ≥ 120 M bounding-box voxels/s
 * per core). Workloads: `example_seg.nii.gz` (3 mm, 41 structures) and the same label map resampled
 * (nearest neighbour) to 0.8 mm. For every label, the binary mask over its box ±1 voxel at iso-level ½.
 *
 * Measured in the same run, on the same masks:
 *  - ours: `marchingCubes` (typed arrays, edge cache, shared vertices), and the same with in-slice mask
 *    smoothing forced on (the vertex placement used on thick-slice grids) to show its cost;
 *  - `@kitware/vtk.js` ImageMarchingCubes (merge points on);
 *  - `marching-cubes-fast` with its octree given an exact empty/full-block test (all labels), and as its
 *    README documents it (potential callback per sample). The documented use never prunes a binary mask,
 *    visits every cell of a power-of-two cube and allocates per cell, so it is timed only on the labels
 *    whose cube has at most `mcfDocumentedMaxCells` cells; the total for all labels is extrapolated from
 *    its time per cube cell, and says so.
 * Each peer's surface is compared with ours (triangles, enclosed volume): equal quality means the same
 * surface. Then the whole pipeline (`meshLabelMap`: isosurface, smoothing, simplification, volume,
 * normals, GLB) on one worker thread and on all cores. Figures are medians of several consecutive runs;
 * the fast implementations get an untimed warm-up run first.
 */
import { availableParallelism, cpus } from 'node:os';
import { boxVoxelCount, growBox, labelBoundingBoxes, type LabelExtent } from '../../mesh/boundingBoxes.ts';
import type { LabelMap } from '../../mesh/grid.ts';
import { marchingCubes, type MaskSmoothing } from '../../mesh/marchingCubes.ts';
import { enclosedVolume } from '../../mesh/meshMetrics.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';
import { meshLabelMap } from '../../server/mesh/meshLabelMap.ts';
import { structureSpecs } from '../../server/mesh/structureSpecs.ts';
import { exampleSeg, resampleNearest, totalV2Names } from '../mesh/labelMaps.ts';
import { loadVtk, mcfDocumented, mcfPruned, mcfResolution, vtkMarchingCubes } from '../mesh/peers.ts';
import { analyticShapes, gridAround, MEASURED_GRIDS, meshLabelOne, surfaceError, voxelise } from '../mesh/analyticShapes.ts';
import { vertexNormals } from '../../mesh/normals.ts';
import { simplifierReady } from '../../mesh/simplify.ts';
import type { StructureMeshOptions } from '../../mesh/structureMesh.ts';
import { median } from './median.ts';

export interface MeshBenchOptions {
  /** Timed runs of our marching cubes (median reported). */
  runs?: number;
  /** Timed runs of the slower peers and of the whole pipeline. */
  peerRuns?: number;
  /** Largest power-of-two cube (cells) `marching-cubes-fast` as documented is run on. */
  mcfDocumentedMaxCells?: number;
  /** Finer grid of the second workload (mm). */
  fineSpacingMm?: number;
}

export const MESH_BENCH_DEFAULTS = { runs: 7, peerRuns: 3, mcfDocumentedMaxCells: 64 ** 3, fineSpacingMm: 0.8 } satisfies Required<MeshBenchOptions>;

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

interface Contender {
  runs: number;
  fn: (e: LabelExtent) => TriangleMesh;
  /** Run once untimed first (JIT warm-up); skipped for peers too slow to run twice. */
  warmUp?: boolean;
}

/**
 * Times several implementations over every label, one after the other (each contender's runs back to
 * back after its warm-up, so the garbage one leaves is not collected in another's timing). Returns per
 * implementation the median time, the times of each run and the meshes of its last run.
 */
async function timeEach<K extends string>(extents: LabelExtent[], contenders: Record<K, Contender>): Promise<Record<K, { ms: number; meshes: TriangleMesh[]; runsMs: number[] }>> {
  const out = {} as Record<K, { ms: number; meshes: TriangleMesh[]; runsMs: number[] }>;
  for (const name of Object.keys(contenders) as K[]) {
    const { runs, fn, warmUp } = contenders[name];
    if (warmUp) extents.forEach(fn);
    const result = { ms: 0, meshes: [] as TriangleMesh[], runsMs: [] as number[] };
    for (let r = 0; r < runs; r++) {
      await new Promise((resolve) => setImmediate(resolve));
      const t = performance.now();
      result.meshes = extents.map(fn);
      result.runsMs.push(round(performance.now() - t));
    }
    result.ms = median(result.runsMs);
    out[name] = result;
  }
  return out;
}

/** Whether two sets of per-label meshes are the same surfaces (triangle counts, enclosed volumes). */
function sameSurfaces(a: TriangleMesh[], b: TriangleMesh[]): boolean {
  return a.every((m, i) => m.indices.length === b[i].indices.length && Math.abs(enclosedVolume(m) - enclosedVolume(b[i])) <= 1e-6 * Math.max(1, Math.abs(enclosedVolume(m))));
}

function throughput(ms: number, voxels: number, triangles: number) {
  return { ms: round(ms), mVoxelsPerS: round(voxels / 1e3 / ms), mTrianglesPerS: round(triangles / 1e3 / ms, 2) };
}

async function benchWorkload(name: string, labels: LabelMap, o: Required<MeshBenchOptions>) {
  const extents = labelBoundingBoxes(labels);
  const scanned = extents.reduce((s, e) => s + boxVoxelCount(growBox(e.box, 1)), 0);
  const workload = { name, dims: labels.dims, structures: extents.length, boundingBoxVoxels: scanned };

  // Ours (plain, and with in-slice mask smoothing forced on), vtk.js, marching-cubes-fast pruned.
  const vtk = await loadVtk();
  const forced: MaskSmoothing = { radius: [1, 1, 0] };
  const timed = await timeEach(extents, {
    ours: { runs: o.runs, warmUp: true, fn: (e) => marchingCubes(labels, e.label, { box: e.box }) },
    smoothed: { runs: o.runs, warmUp: true, fn: (e) => marchingCubes(labels, e.label, { box: e.box, maskSmoothing: forced }) },
    vtk: { runs: o.peerRuns, warmUp: true, fn: (e) => vtkMarchingCubes(vtk, labels, e) },
    pruned: { runs: o.peerRuns, fn: (e) => mcfPruned(labels, e) },
  });
  const { ours, smoothed, vtk: vtkRun, pruned } = timed;
  const triangles = ours.meshes.reduce((s, m) => s + m.indices.length / 3, 0);

  // marching-cubes-fast as documented, on the labels whose cube is small enough.
  const cells = (e: LabelExtent) => mcfResolution(e) ** 3;
  const subset = extents.filter((e) => cells(e) <= o.mcfDocumentedMaxCells);
  const { documented, oursSubset: subsetOurs } = await timeEach(subset, {
    documented: { runs: 1, fn: (e) => mcfDocumented(labels, e) },
    oursSubset: { runs: o.runs, warmUp: true, fn: (e) => marchingCubes(labels, e.label, { box: e.box }) },
  });
  const subsetCells = subset.reduce((s, e) => s + cells(e), 0);
  const allCells = extents.reduce((s, e) => s + cells(e), 0);
  const msPerCell = documented.ms / Math.max(1, subsetCells);
  const subsetScanned = subset.reduce((s, e) => s + boxVoxelCount(growBox(e.box, 1)), 0);

  // The whole pipeline on one worker and on all cores.
  const specs = structureSpecs([...(await totalV2Names())].map(([label, n]) => ({ label, name: n })));
  const pipeline = async (workers: number) => {
    const runs: Awaited<ReturnType<typeof meshLabelMap>>[] = [];
    for (let r = 0; r < o.peerRuns; r++) runs.push(await meshLabelMap(labels, specs, { workers, minVoxelsPerWorker: 0 }));
    const ms = median(runs.map((r) => r.timings.totalMs));
    const last = runs[runs.length - 1];
    return {
      workers: last.workers,
      ms: round(ms),
      mVoxelsPerS: round(scanned / 1e3 / ms),
      isosurfaceTrianglesPerS: Math.round(last.isosurfaceTriangles / (ms / 1000)),
      cpuMs: {
        isosurface: round(median(runs.map((r) => r.timings.isosurfaceCpuMs))),
        smooth: round(median(runs.map((r) => r.timings.smoothCpuMs))),
        simplify: round(median(runs.map((r) => r.timings.simplifyCpuMs))),
        finish: round(median(runs.map((r) => r.timings.finishCpuMs))),
        glb: round(median(runs.map((r) => r.timings.glbMs))),
      },
      outputTriangles: last.triangles,
      glbMB: round(last.glb.byteLength / 1024 / 1024, 3),
      runsMs: runs.map((r) => round(r.timings.totalMs)),
    };
  };
  const single = await pipeline(1);
  const all = await pipeline(availableParallelism());

  const candidates = [
    { name: 'ours (mesh/marchingCubes.ts)', ms: ours.ms, same: true },
    { name: '@kitware/vtk.js ImageMarchingCubes', ms: vtkRun.ms, same: sameSurfaces(vtkRun.meshes, ours.meshes) },
    { name: 'marching-cubes-fast (exact block test)', ms: pruned.ms, same: sameSurfaces(pruned.meshes, ours.meshes) },
    { name: 'marching-cubes-fast (as documented, extrapolated)', ms: msPerCell * allCells, same: sameSurfaces(documented.meshes, subsetOurs.meshes) },
  ].filter((c) => c.same);
  const fastest = candidates.reduce((a, b) => (b.ms < a.ms ? b : a));
  return {
    workload,
    fastestAtEqualQuality: fastest.name,
    isosurface: {
      triangles,
      ours: { ...throughput(ours.ms, scanned, triangles), runsMs: ours.runsMs },
      oursWithInSliceMaskSmoothing: { ...throughput(smoothed.ms, scanned, triangles), radius: forced.radius, sameTopology: smoothed.meshes.every((m, i) => m.indices.length === ours.meshes[i].indices.length) },
      vtkJsImageMarchingCubes: { ...throughput(vtkRun.ms, scanned, triangles), runsMs: vtkRun.runsMs, sameSurface: sameSurfaces(vtkRun.meshes, ours.meshes), timesSlowerThanOurs: round(vtkRun.ms / ours.ms) },
      marchingCubesFastPruned: { ...throughput(pruned.ms, scanned, triangles), runsMs: pruned.runsMs, sameSurface: sameSurfaces(pruned.meshes, ours.meshes), timesSlowerThanOurs: round(pruned.ms / ours.ms) },
      marchingCubesFastDocumented: {
        note: `timed on ${subset.length} of ${extents.length} labels (power-of-two cube ≤ ${o.mcfDocumentedMaxCells} cells); all-label time extrapolated from its time per cube cell`,
        labelsTimed: subset.length,
        timedMs: round(documented.ms),
        oursOnSameLabelsMs: round(subsetOurs.ms, 2),
        timesSlowerThanOursOnSameLabels: round(documented.ms / subsetOurs.ms),
        mVoxelsPerSOnSameLabels: round(subsetScanned / 1e3 / documented.ms, 2),
        cubeCellsTimed: subsetCells,
        cubeCellsAllLabels: allCells,
        extrapolatedAllLabelsMs: Math.round(msPerCell * allCells),
        extrapolatedTimesSlowerThanOurs: Math.round((msPerCell * allCells) / ours.ms),
        sameSurface: sameSurfaces(documented.meshes, subsetOurs.meshes),
      },
    },
    pipeline: { oneWorker: single, allWorkers: all, speedup: round(single.ms / all.ms, 2) },
  };
}

/** The smoothing used before constrained smoothing and joined diagonals (for the staircase figures). */
const UNCONSTRAINED: StructureMeshOptions = { joinDiagonals: false, smoothIterations: 20, smoothPassBand: 0.1, smoothConstraintVoxels: 0 };

/**
 * The voxel staircase on analytic shapes (see test/mesh/analyticShapes.ts): distance of vertices to the
 * true surface and angle of vertex normals to the true normals, for the smoothed surface (before
 * simplification) and the finished one, with the former smoothing and with the defaults.
 */
export async function staircase(): Promise<Record<string, unknown>> {
  await simplifierReady();
  const r = (v: number) => round(v, 2);
  const rows = [];
  for (const g of MEASURED_GRIDS) {
    const grid = gridAround(g.spacing);
    for (const shape of analyticShapes()) {
      const labels = voxelise(shape, grid);
      const measure = (options: StructureMeshOptions) => {
        const { surface, finished } = meshLabelOne(labels, options);
        const s = surfaceError({ ...surface.smoothed, normals: vertexNormals(surface.smoothed) }, shape);
        const f = surfaceError(finished.mesh, shape);
        const fig = (e: typeof s) => ({ rmsMm: r(e.rmsMm), p95Mm: r(e.p95Mm), normalRmsDeg: r(e.normalRmsDeg), normalP95Deg: r(e.normalP95Deg), gentleSlopeNormalRmsDeg: r(e.shallow.normalRmsDeg) });
        return { smoothed: fig(s), finished: { ...fig(f), triangles: finished.structure.triangles } };
      };
      rows.push({ grid: g.name, shape: shape.name, before: measure(UNCONSTRAINED), after: measure({}) });
    }
  }
  return { description: 'vertex distance (mm) and normal angle (°) to the true surface; before = 20 × Taubin k_PB 0.1 unconstrained, usual case table; after = defaults', rows };
}

export async function bench(options: MeshBenchOptions = {}): Promise<Record<string, unknown>> {
  const o = { ...MESH_BENCH_DEFAULTS, ...options };
  const seg = await exampleSeg();
  const results = [];
  results.push(await benchWorkload('example_seg.nii.gz (3 mm)', seg, o));
  results.push(await benchWorkload(`example_seg.nii.gz resampled to ${o.fineSpacingMm} mm (nearest)`, resampleNearest(seg, o.fineSpacingMm), o));
  return {
    description: 'per-label isosurface over the label box ±1 voxel at iso-level ½ (binary mask), ours vs vtk.js and marching-cubes-fast in the same run; then the whole meshing stage',
    cores: availableParallelism(),
    cpu: cpus()[0]?.model,
    budget: { isosurfaceMVoxelsPerSPerCore: 120 },
    chosen: results.every((r) => r.fastestAtEqualQuality.startsWith('ours')) ? 'ours (mesh/marchingCubes.ts): the same surface as every peer, fastest on every workload' : 'see fastestAtEqualQuality per workload',
    workloads: results,
    staircase: await staircase(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bench(), null, 2));
}
