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
 * normals, both levels' GLBs) on this thread, one worker thread and all cores, its surfaces measured
 * against the label map (`meshQuality.ts`), and the peer 3D Slicer uses: native VTK (discrete flying
 * edges, windowed-sinc smoothing, quadric decimation to our triangle counts; `vtkSurfaces.py`, Debian's
 * python3-vtk9, skipped with a note where it is not installed), measured the same way. Figures are
 * medians of several consecutive runs; the fast implementations get an untimed warm-up run first.
 *
 * Then clinical sizes: the CT phantom at 3, 1.5, 0.8 × 0.8 × 1 and 0.6 × 0.6 × 0.75 mm (its exact
 * 72-structure label map; at 0.8 mm also the rules model's segmentation, as `holocase run` meshes it),
 * each in a fresh process: meshing seconds, CPU seconds, peak memory, triangles and bytes of the desktop
 * and headset levels of detail, and per structure triangles, volume error and Hausdorff 95 against the
 * label map.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { boxVoxelCount, growBox, labelBoundingBoxes, type LabelExtent } from '../../mesh/boundingBoxes.ts';
import { toPatientSpace } from '../../mesh/coordinates.ts';
import { spacingOf, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import type { StructureMesh } from '../../mesh/structure.ts';
import { marchingCubes, type MaskSmoothing } from '../../mesh/marchingCubes.ts';
import { enclosedVolume } from '../../mesh/meshMetrics.ts';
import type { TriangleMesh } from '../../mesh/triangleMesh.ts';
import { meshLabelMap, type MeshLabelMapResult } from '../../server/mesh/meshLabelMap.ts';
import { loadModelBundle, segment } from '../../server/segment/segment.ts';
import { makePhantom } from '../../server/volume/phantom.ts';
import { meshQualityReport, summarizeQuality } from '../mesh/meshQuality.ts';
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

const run = promisify(execFile);

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
  let lastResult: MeshLabelMapResult | undefined;
  const pipeline = async (workers: number) => {
    const runs: MeshLabelMapResult[] = [];
    for (let r = 0; r < o.peerRuns; r++) runs.push(await meshLabelMap(labels, specs, { workers, minVoxelsPerWorker: workers === 0 ? undefined : 0 }));
    const ms = median(runs.map((r) => r.timings.totalMs));
    const last = runs[runs.length - 1];
    lastResult = last;
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
      xrTriangles: last.xr.triangles,
      xrGlbMB: round(last.xr.glb.byteLength / 1024 / 1024, 3),
      runsMs: runs.map((r) => round(r.timings.totalMs)),
    };
  };
  const inline = await pipeline(0);
  const single = await pipeline(1);
  const all = await pipeline(availableParallelism());
  const fastest = Math.min(inline.ms, all.ms);
  const vtkNative = await vtkPeer(labels, lastResult!);

  const candidates = [
    { name: 'ours (mesh/marchingCubes.ts)', ms: ours.ms, same: true },
    { name: '@kitware/vtk.js ImageMarchingCubes', ms: vtkRun.ms, same: sameSurfaces(vtkRun.meshes, ours.meshes) },
    { name: 'marching-cubes-fast (exact block test)', ms: pruned.ms, same: sameSurfaces(pruned.meshes, ours.meshes) },
    { name: 'marching-cubes-fast (as documented, extrapolated)', ms: msPerCell * allCells, same: sameSurfaces(documented.meshes, subsetOurs.meshes) },
  ].filter((c) => c.same);
  const fastestIsosurface = candidates.reduce((a, b) => (b.ms < a.ms ? b : a));
  return {
    workload,
    fastestAtEqualQuality: fastestIsosurface.name,
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
    pipeline: {
      thisThread: inline,
      oneWorker: single,
      allWorkers: all,
      speedup: round(single.ms / all.ms, 2),
      quality: summarizeQuality(meshQualityReport(labels, lastResult!.meshes)),
    },
    vtkNative: { ...vtkNative, ...('seconds' in vtkNative ? { holocaseMs: round(fastest), holocaseAhead: fastest < (vtkNative.seconds as { total: number }).total * 1000 } : {}) },
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
  const phantoms = [];
  for (const [spacing, source] of PHANTOM_WORKLOADS) phantoms.push(await phantomInChild(spacing, source));
  return {
    description:
      'per-label isosurface over the label box ±1 voxel at iso-level ½ (binary mask), ours vs vtk.js and marching-cubes-fast in the same run; then the whole meshing stage, with native VTK (3D Slicer\'s pipeline) as a peer; then the CT phantom at 3, 1.5, 0.8 and 0.6 mm: meshing time, peak memory, both levels of detail and per-structure quality against the label map',
    cores: availableParallelism(),
    cpu: cpus()[0]?.model,
    budget: { isosurfaceMVoxelsPerSPerCore: 120 },
    chosen: results.every((r) => r.fastestAtEqualQuality.startsWith('ours')) ? 'ours (mesh/marchingCubes.ts): the same surface as every peer, fastest on every workload' : 'see fastestAtEqualQuality per workload',
    workloads: results,
    phantoms,
    staircase: await staircase(),
  };
}

/** The phantom workloads: voxel size (mm) and where the label map comes from. */
const PHANTOM_WORKLOADS: [Vec3, PhantomSource][] = [
  [[3, 3, 3], 'exact'],
  [[1.5, 1.5, 1.5], 'exact'],
  [[0.8, 0.8, 1], 'exact'],
  [[0.8, 0.8, 1], 'rules'],
  [[0.6, 0.6, 0.75], 'exact'],
];

/** `exact`: the phantom's own 72-structure label map; `rules`: the CT segmented by `hu-anatomy`, as `holocase run` does. */
type PhantomSource = 'exact' | 'rules';

/** One phantom workload in a fresh process, so its peak memory is its own. */
async function phantomInChild(spacing: Vec3, source: PhantomSource): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--phantom', spacing.join(','), source], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/**
 * 1. The phantom at `spacing`; its exact label map, or the rules model's segmentation of its CT.
 * 2. `meshLabelMap` with the defaults (workers on every core), RSS sampled every 50 ms.
 * 3. Both levels' sizes; quality of the desktop level per structure against the label map.
 */
export async function phantomWorkload(spacing: Vec3, source: PhantomSource): Promise<Record<string, unknown>> {
  // 1. Label map.
  const phantom = makePhantom({ spacingMm: spacing, noiseHu: source === 'exact' ? 0 : undefined });
  let labels: LabelMap;
  let table: { label: number; name: string }[];
  if (source === 'exact') {
    labels = { dims: phantom.labels.dims, affine: phantom.labels.affine, data: phantom.labels.data };
    table = Object.entries(phantom.table).map(([label, name]) => ({ label: Number(label), name }));
  } else {
    const segmented = await segment(phantom.ct, await loadModelBundle('hu-anatomy'));
    labels = { dims: segmented.labels.dims, affine: segmented.labels.affine, data: segmented.labels.data };
    table = segmented.structures;
  }
  // 2. Meshing, with memory sampled.
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await meshLabelMap(labels, structureSpecs(table));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  // 3. Levels and quality.
  const report = meshQualityReport(labels, result.meshes);
  const mb = (bytes: number) => round(bytes / 1e6, 2);
  return {
    workload: `CT phantom ${spacing.join(' × ')} mm (${labels.dims.join('×')}), ${source === 'exact' ? 'its exact label map' : 'segmented by hu-anatomy'}`,
    cores: availableParallelism(),
    workers: result.workers,
    meshSeconds: round(seconds, 2),
    cpuSeconds: round((used.user + used.system) / 1e6, 1),
    timingsMs: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, Math.round(v)])),
    memoryMB: { beforeMeshing: mb(baseline), peakWhileMeshing: mb(peak), processMax: mb(process.resourceUsage().maxRSS * 1024) },
    isosurfaceTriangles: result.isosurfaceTriangles,
    levels: {
      desktop: { triangles: result.triangles, glbMB: mb(result.glb.byteLength), drawCalls: result.structures.length },
      xr: { triangles: result.xr.triangles, glbMB: mb(result.xr.glb.byteLength), drawCalls: result.xr.structures.length },
    },
    quality: summarizeQuality(report),
    structures: report.map(({ name, triangles, voxelVolumeMl, volumeErrorPct, hausdorff95Mm, hausdorff95Voxels, watertight }) => ({ name, triangles, voxelVolumeMl, volumeErrorPct, hausdorff95Mm, hausdorff95Voxels, watertight })),
  };
}

/** Debian's Python with VTK (python3-vtk9), if installed. */
async function vtkPython(): Promise<string | undefined> {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      await run(python, ['-c', 'import vtk, numpy']);
      return python;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

/**
 * Native VTK as 3D Slicer meshes a label map (`vtkSurfaces.py`), each structure decimated to the
 * triangles holocase gave it; its surfaces are measured like ours. Skipped, with a note, without VTK.
 */
async function vtkPeer(labels: LabelMap, ours: MeshLabelMapResult): Promise<Record<string, unknown>> {
  const python = await vtkPython();
  if (!python) return { skipped: 'native VTK not installed here (Debian: apt-get install python3-vtk9); optional peer' };
  const dir = await mkdtemp(path.join(tmpdir(), 'holocase-bench-vtk-'));
  try {
    // 1. The label map and the request.
    const spacing = spacingOf(labels.affine);
    const boxes = new Map(labelBoundingBoxes(labels).map((e) => [e.label, e.box]));
    await writeFile(path.join(dir, 'labels.raw'), new Uint8Array(labels.data.buffer, labels.data.byteOffset, labels.data.byteLength));
    const request = {
      labels: path.join(dir, 'labels.raw'),
      dtype: labels.data instanceof Uint8Array ? 'uint8' : 'uint16',
      dims: labels.dims,
      spacing,
      structures: ours.structures.map((s) => ({ label: s.label, triangles: s.triangles, box: [boxes.get(s.label)!.min, boxes.get(s.label)!.max] })),
    };
    await writeFile(path.join(dir, 'request.json'), JSON.stringify(request));
    // 2. VTK.
    const { stdout } = await run(python, [fileURLToPath(new URL('./vtkSurfaces.py', import.meta.url)), path.join(dir, 'request.json'), path.join(dir, 'out.bin')], { maxBuffer: 16 * 1024 * 1024 });
    const figures = JSON.parse(stdout) as { vtk: string; seconds: Record<string, number> };
    // 3. Its surfaces, from its grid frame (index · spacing) into LPS, measured like ours.
    const bytes = await readFile(path.join(dir, 'out.bin'));
    const meshes: StructureMesh[] = [];
    for (let at = 0; at < bytes.length; ) {
      const label = bytes.readInt32LE(at);
      const vertices = bytes.readInt32LE(at + 4);
      const triangles = bytes.readInt32LE(at + 8);
      at += 12;
      const positions = new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + vertices * 12));
      at += vertices * 12;
      const indices = Uint32Array.from(new Int32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + triangles * 12)));
      at += triangles * 12;
      for (let v = 0; v < positions.length; v++) positions[v] /= spacing[v % 3];
      const structure = ours.structures.find((s) => s.label === label)!;
      meshes.push({ structure, mesh: toPatientSpace({ positions, indices }, labels.affine), centroidLpsMm: [0, 0, 0] });
    }
    const report = meshQualityReport(labels, meshes);
    return {
      peer: `native VTK ${figures.vtk} (Debian python3-vtk9): discrete flying edges, windowed sinc (20 iterations, pass band 0.01), quadric decimation to holocase's triangles per structure, normals`,
      seconds: Object.fromEntries(Object.entries(figures.seconds).map(([k, v]) => [k, round(v, 3)])),
      triangles: report.reduce((sum, r) => sum + r.triangles, 0),
      quality: summarizeQuality(report),
      volumeErrorPct: Object.fromEntries(report.map((r) => [r.name, r.volumeErrorPct])),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--phantom') {
    const spacing = process.argv[3].split(',').map(Number) as Vec3;
    console.log(JSON.stringify(await phantomWorkload(spacing, process.argv[4] as PhantomSource)));
    process.exit(0);
  }
  console.log(JSON.stringify(await bench(), null, 2));
}
