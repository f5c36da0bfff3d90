/**
 * `meshLabelMap`: a label map and its structures → one GLB hologram plus per-structure meshes and
 * measurements, with the structures meshed in parallel on worker threads.
 *
 * The label map crosses to the workers once, as shared memory. Each worker extracts, smooths and
 * simplifies the structures it is handed (largest boxes first, one at a time per worker, so the load
 * evens out) and keeps the surfaces; the driver then shares the case's triangle budget by surface
 * area and asks each worker to finish its own surfaces. The pool is shut down when done (or on error or
 * cancellation). With `workers: 0`, or where worker threads cannot start, everything runs on this thread.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { boxVoxelCount, growBox, labelBoundingBoxes, type LabelExtent } from '../../mesh/boundingBoxes.ts';
import { matchStructures, CASE_MESH_DEFAULTS, type CaseMeshOptions } from '../../mesh/buildCaseMeshes.ts';
import { bodyCentre } from '../../mesh/coordinates.ts';
import { voxelCount, type LabelMap, type Vec3 } from '../../mesh/grid.ts';
import { writeGlb } from '../../mesh/glbWriter.ts';
import { simplifierReady } from '../../mesh/simplify.ts';
import { withDefaults } from '../../mesh/withDefaults.ts';
import type { MeshedStructure, StructureMesh, StructureSpec } from '../../mesh/structure.ts';
import { finishLevel, LEVEL_BUDGETS, type DetailLevel } from '../../mesh/detailLevels.ts';
import { extractSurface, finishSurface, keepForFinishing, STRUCTURE_MESH_DEFAULTS, summarizeSurface, type KeptSurface, type StructureMeshOptions, type SurfaceSummary, type SurfaceTimings } from '../../mesh/structureMesh.ts';
import { HolocaseError } from '../errors.ts';
import type { StageContext } from '../pipeline/context.ts';
import { startTsWorker } from '../workers/startTsWorker.ts';
import type { MeshWorkerData, MeshWorkerReply, MeshWorkerRequest } from './workerMessages.ts';

export interface MeshLabelMapOptions extends CaseMeshOptions {
  /** Most worker threads (default `os.availableParallelism()`, never more than structures); 0 = this thread. */
  workers?: number;
  /**
   * Bounding-box voxels each worker should have at least: a small case starts fewer workers, and one
   * with less than this in all is meshed on this thread, since a worker costs a few hundred
   * milliseconds to start (more than a 3 mm case takes to mesh). 0 = always start `workers`.
   */
  minVoxelsPerWorker?: number;
  /** Quantise and meshopt-compress the GLB (false: plain float32 GLB). */
  compress?: boolean;
  /** Largest desktop GLB, bytes (over it, the level is written again with fewer triangles). */
  maxBytes?: number;
  /** Triangles for the whole case at the headset's level of detail (see `detailLevels.ts`). */
  xrMaxTriangles?: number;
  /** Largest headset GLB, bytes. */
  xrMaxBytes?: number;
}

export const MESH_LABEL_MAP_DEFAULTS = {
  workers: availableParallelism(),
  minTriangles: STRUCTURE_MESH_DEFAULTS.minTriangles,
  minVoxelsPerWorker: 8_000_000,
  compress: true,
  ...CASE_MESH_DEFAULTS,
  maxBytes: LEVEL_BUDGETS.desktop.maxBytes,
  xrMaxTriangles: LEVEL_BUDGETS.xr.maxTriangles,
  xrMaxBytes: LEVEL_BUDGETS.xr.maxBytes,
};

export interface MeshTimings {
  /** One pass over the label map for boxes and counts. */
  boxesMs: number;
  /** Wall time of the first step (isosurface, smoothing, simplification) over all structures. */
  surfacesMs: number;
  /** Wall time of the second step (budget cap, volume, normals, measurements), both levels. */
  finishMs: number;
  /** Writing the GLBs of both levels. */
  glbMs: number;
  totalMs: number;
  /** Thread time summed over structures, per step. */
  isosurfaceCpuMs: number;
  smoothCpuMs: number;
  simplifyCpuMs: number;
  finishCpuMs: number;
}

/** One level of detail of a case. */
export interface MeshedLevel {
  glb: Uint8Array;
  /** Per structure present, in label-table order. */
  structures: MeshedStructure[];
  /** The same structures with their meshes. */
  meshes: StructureMesh[];
  triangles: number;
}

export interface MeshLabelMapResult {
  /** The desktop level's GLB. */
  glb: Uint8Array;
  /** Per structure present, in label-table order (desktop level). */
  structures: MeshedStructure[];
  /** The same structures with their meshes in LPS mm (for STL). */
  meshes: StructureMesh[];
  /** The body's centre (LPS mm), recorded in the GLB's scene extras. */
  centerLpsMm: Vec3;
  /** Desktop level's triangles. */
  triangles: number;
  /** The headset's level of detail: the same structures, lighter (same centre, same layout). */
  xr: MeshedLevel;
  /** Voxels scanned by marching cubes (structure boxes ±1 voxel, summed). */
  scannedVoxels: number;
  /** Triangles straight out of marching cubes, summed. */
  isosurfaceTriangles: number;
  workers: number;
  /** How many structures each worker thread meshed (empty when meshed on this thread). */
  structuresPerWorker: number[];
  timings: MeshTimings;
  warnings: string[];
}

/** Step results as the driver sees them, wherever they ran. */
interface StepRunner {
  extract(index: number): Promise<SurfaceSummary>;
  finish(index: number, maxTriangles: number, level: DetailLevel): Promise<{ result: StructureMesh; timings: SurfaceTimings }>;
  /** Structures each worker thread extracted so far (empty on this thread). */
  structuresPerWorker(): number[];
  close(): Promise<void>;
}

/**
 * 1. Check the label map; find each label's box and count; pair them with the structures.
 * 2. Start the pool (label map shared once; one worker per whole `minVoxelsPerWorker` box voxels, at
 *    most `workers`; none for a case smaller than that, which is meshed on this thread).
 * 3. First step for every structure, largest first.
 * 4. Desktop level: share its triangle budget; second step for every structure on the worker that
 *    holds it; body centre; GLB (again with fewer triangles if over its byte budget).
 * 5. Headset level the same way, on the same surfaces and centre (or the desktop's, when equal).
 */
export async function meshLabelMap(
  labels: LabelMap,
  structures: readonly StructureSpec[],
  options: MeshLabelMapOptions & StageContext = {},
): Promise<MeshLabelMapResult> {
  const o = withDefaults(MESH_LABEL_MAP_DEFAULTS, options);
  const { onProgress, log, signal } = options;
  const started = performance.now();
  signal?.throwIfAborted();

  // 1. Label map, boxes, pairs.
  if (voxelCount(labels) !== labels.data.length) {
    throw new HolocaseError('LABELS_INVALID', `label map holds ${labels.data.length} values for ${labels.dims.join('×')} voxels`);
  }
  const extents = labelBoundingBoxes(labels);
  const { pairs, warnings } = matchStructures(extents, structures);
  if (extents.length === 0) throw new HolocaseError('LABELS_INVALID', 'the label map is empty: no voxel carries a label, so there is nothing to mesh');
  if (pairs.length === 0) {
    throw new HolocaseError('LABELS_INVALID', `none of the labels in the label map (${extents.map((e) => e.label).join(', ')}) is in the label table`);
  }
  const boxesMs = performance.now() - started;
  const specs = pairs.map((p) => p.spec);

  // 2. Pool.
  const boxVoxels = pairs.reduce((sum, p) => sum + boxVoxelCount(growBox(p.extent.box, 1)), 0);
  const byWork = o.minVoxelsPerWorker > 0 ? Math.floor(boxVoxels / o.minVoxelsPerWorker) : Infinity;
  const poolSize = Math.max(0, Math.min(Math.floor(o.workers), pairs.length, byWork));
  let runner: StepRunner = poolSize > 0 ? startPool(labels, pairs.map((p) => p.extent), specs, o, poolSize) : await inlineRunner(labels, pairs.map((p) => p.extent), specs, o);
  let workers = poolSize;
  const onAbort = () => void runner.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // 3. First step, largest structures first, at most one in flight per worker.
    const summaries = new Array<SurfaceSummary>(pairs.length);
    const order = pairs.map((_, i) => i).sort((a, b) => pairs[b].extent.voxels - pairs[a].extent.voxels);
    let done = 0;
    const runAll = async (r: StepRunner) => {
      let next = 0;
      const lane = async () => {
        while (next < order.length) {
          const index = order[next++];
          summaries[index] = await r.extract(index);
          signal?.throwIfAborted();
          done++;
          onProgress?.({ stage: 'mesh', fraction: 0.8 * (done / pairs.length), message: `surface ${done} of ${pairs.length}` });
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, workers) }, lane));
    };
    const surfacesStarted = performance.now();
    try {
      await runAll(runner);
    } catch (error) {
      if (!(error instanceof PoolStartError)) throw error;
      // Worker threads cannot start here: mesh on this thread instead.
      log?.(`mesh workers could not start (${error.message}); meshing on the main thread`);
      await runner.close();
      runner = await inlineRunner(labels, pairs.map((p) => p.extent), specs, o);
      workers = 0;
      done = 0;
      await runAll(runner);
    }
    const surfacesMs = performance.now() - surfacesStarted;

    // 4–5. Each level: budget, second step (repeatable: workers keep each surface until the pool
    // closes), GLB. The desktop level fixes the centre; the headset level shares it, and shares the
    // desktop's results outright when its surfaces and budgets would give the same.
    const finishStarted = performance.now();
    const timings = new Array<SurfaceTimings>(pairs.length);
    let glbMs = 0;
    let finished = 0;
    const finishAt = (level: DetailLevel, from: number) => async (i: number, cap: number) => {
      const out = await runner.finish(i, cap, level);
      signal?.throwIfAborted();
      timings[i] = out.timings;
      finished = Math.min(pairs.length, finished + 1);
      onProgress?.({ stage: 'mesh', fraction: from + 0.1 * (finished / pairs.length), message: `finished ${finished} of ${pairs.length} (${level})` });
      return out.result;
    };
    const requests = (level: DetailLevel) => summaries.map((s) => ({ area: s.areaMm2, wanted: s.triangles[level] }));
    let centerLpsMm: Vec3 = [0, 0, 0];
    const write = (fixCentre: boolean) => async (meshes: StructureMesh[]) => {
      const t = performance.now();
      if (fixCentre) centerLpsMm = bodyCentre(meshes.map((m) => m.mesh));
      const glb = await writeGlb(meshes, { centerLpsMm, compress: o.compress });
      glbMs += performance.now() - t;
      return glb;
    };
    const desktop = await finishLevel(requests('desktop'), { maxTriangles: o.maxTriangles, maxBytes: o.maxBytes, minTriangles: o.minTriangles }, finishAt('desktop', 0.8), write(true));
    onProgress?.({ stage: 'mesh', fraction: 0.9, message: 'the headset level of detail' });
    finished = 0;
    const wanted = summaries.reduce((sum, s) => sum + s.triangles.desktop, 0);
    const xrAsDesktop = summaries.every((s) => s.xrSameAsDesktop) && wanted <= Math.min(o.xrMaxTriangles, desktop.maxTriangles) && desktop.glb.byteLength <= o.xrMaxBytes;
    const xr = xrAsDesktop
      ? desktop
      : await finishLevel(requests('xr'), { maxTriangles: o.xrMaxTriangles, maxBytes: o.xrMaxBytes, minTriangles: o.minTriangles }, finishAt('xr', 0.9), write(false));
    const finishMs = performance.now() - finishStarted - glbMs;
    const structuresPerWorker = runner.structuresPerWorker();
    await runner.close();

    onProgress?.({ stage: 'mesh', fraction: 1, message: `${desktop.meshes.length} structures meshed` });
    for (const m of [...desktop.meshes, ...(xr === desktop ? [] : xr.meshes)]) {
      if (!m.structure.watertight) warnings.push(`the surface of ${m.structure.displayName} is not closed`);
    }
    const sum = (pick: (t: SurfaceTimings) => number) => timings.reduce((s, t) => s + pick(t), 0);
    return {
      glb: desktop.glb,
      structures: desktop.meshes.map((m) => m.structure),
      meshes: desktop.meshes,
      centerLpsMm,
      triangles: desktop.triangles,
      xr: { glb: xr.glb, structures: xr.meshes.map((m) => m.structure), meshes: xr.meshes, triangles: xr.triangles },
      scannedVoxels: summaries.reduce((s, m) => s + m.scannedVoxels, 0),
      isosurfaceTriangles: summaries.reduce((s, m) => s + m.isosurfaceTriangles, 0),
      workers,
      structuresPerWorker,
      timings: {
        boxesMs,
        surfacesMs,
        finishMs,
        glbMs,
        totalMs: performance.now() - started,
        isosurfaceCpuMs: sum((t) => t.isosurfaceMs),
        smoothCpuMs: sum((t) => t.smoothMs),
        simplifyCpuMs: sum((t) => t.simplifyMs),
        finishCpuMs: sum((t) => t.finishMs),
      },
      warnings,
    };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await runner.close();
  }
}

/** Both steps on this thread. */
async function inlineRunner(labels: LabelMap, extents: LabelExtent[], specs: StructureSpec[], options: CaseMeshOptions): Promise<StepRunner> {
  await simplifierReady();
  const surfaces = new Map<number, KeptSurface>();
  return {
    async extract(index) {
      const surface = keepForFinishing(extractSurface(labels, extents[index], options));
      surfaces.set(index, surface);
      return summarizeSurface(surface);
    },
    async finish(index, maxTriangles, level) {
      const surface = surfaces.get(index)!;
      const result = finishSurface(surface, specs[index], { ...options, maxTriangles, level });
      return { result, timings: surface.timings };
    },
    structuresPerWorker: () => [],
    async close() {
      surfaces.clear();
    },
  };
}

/** Raised when no worker thread could start at all (the driver then meshes on its own thread). */
class PoolStartError extends Error {}

/** Label values in shared memory (copied once unless they already are). */
export function sharedLabels(data: LabelMap['data']): LabelMap['data'] {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const shared = new SharedArrayBuffer(data.byteLength);
  const view = data instanceof Uint8Array ? new Uint8Array(shared) : data instanceof Uint16Array ? new Uint16Array(shared) : new Uint32Array(shared);
  view.set(data);
  return view;
}

interface Pending {
  resolve: (reply: MeshWorkerReply & { ok: true }) => void;
  reject: (error: Error) => void;
  name: string;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  busy: boolean;
  proven: boolean;
  waiters: (() => void)[];
}

const WORKER_ENTRY = new URL('./meshWorker.ts', import.meta.url);

/** A pool of `size` mesh workers sharing the label map. */
function startPool(labels: LabelMap, extents: LabelExtent[], specs: StructureSpec[], options: CaseMeshOptions, size: number): StepRunner {
  // Only the per-structure options cross to the workers (every key of STRUCTURE_MESH_DEFAULTS, so a
  // new option reaches them without a change here; no callbacks or signals).
  const structureOptions: Record<string, unknown> = {};
  for (const key of Object.keys(STRUCTURE_MESH_DEFAULTS) as (keyof StructureMeshOptions)[]) {
    if (options[key] !== undefined) structureOptions[key] = options[key];
  }
  const workerData: MeshWorkerData = {
    dims: labels.dims,
    affine: labels.affine,
    data: sharedLabels(labels.data),
    options: structureOptions as StructureMeshOptions,
  };
  const slots: Slot[] = [];
  const owner = new Map<number, Slot>();
  let nextId = 1;
  let closed = false;

  const fail = (slot: Slot, error: Error) => {
    const anyProven = slots.some((s) => s.proven);
    for (const p of slot.pending.values()) {
      p.reject(!anyProven ? new PoolStartError(error.message) : new HolocaseError('MESH_FAILED', `meshing ${p.name} failed: ${error.message}`));
    }
    slot.pending.clear();
  };

  for (let i = 0; i < size; i++) {
    const worker = startTsWorker(WORKER_ENTRY, workerData as unknown as Record<string, unknown>);
    const slot: Slot = { worker, pending: new Map(), busy: false, proven: false, waiters: [] };
    worker.on('message', (reply: MeshWorkerReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      slot.proven = true;
      if (reply.ok) p.resolve(reply);
      else p.reject(new HolocaseError('MESH_FAILED', `meshing ${p.name} failed: ${reply.message}`));
    });
    worker.on('error', (error) => fail(slot, error));
    worker.on('exit', (code) => {
      if (!closed) fail(slot, new Error(`mesh worker stopped (exit code ${code})`));
    });
    slots.push(slot);
  }

  const send = (slot: Slot, request: MeshWorkerRequest, name: string) =>
    new Promise<MeshWorkerReply & { ok: true }>((resolve, reject) => {
      if (closed) return reject(new HolocaseError('MESH_FAILED', 'meshing was stopped'));
      slot.pending.set(request.id, { resolve, reject, name });
      slot.worker.postMessage(request);
    });

  // One first-step request in flight per worker: wait for an idle one and claim it in the same turn
  // (claiming after an await would let two callers take the same worker while another sits idle).
  const claimIdleSlot = async (): Promise<Slot> => {
    for (;;) {
      const slot = slots.find((s) => !s.busy);
      if (slot) {
        slot.busy = true;
        return slot;
      }
      await new Promise<void>((resolve) => slots.forEach((s) => s.waiters.push(resolve)));
    }
  };
  const release = (slot: Slot) => {
    slot.busy = false;
    for (const s of slots) s.waiters.splice(0).forEach((w) => w());
  };

  return {
    async extract(index) {
      const slot = await claimIdleSlot();
      try {
        const reply = await send(slot, { id: nextId++, type: 'extract', extent: extents[index] }, specs[index].displayName);
        owner.set(index, slot);
        return (reply as Extract<MeshWorkerReply, { type: 'extract' }>).summary;
      } finally {
        release(slot);
      }
    },
    async finish(index, maxTriangles, level) {
      const slot = owner.get(index);
      if (!slot) throw new HolocaseError('MESH_FAILED', `meshing ${specs[index].displayName} failed: its surface was lost`);
      const reply = (await send(slot, { id: nextId++, type: 'finish', label: extents[index].label, spec: specs[index], maxTriangles, level }, specs[index].displayName)) as Extract<MeshWorkerReply, { type: 'finish' }>;
      return { result: reply.result, timings: reply.timings };
    },
    structuresPerWorker: () => slots.map((slot) => [...owner.values()].filter((s) => s === slot).length),
    async close() {
      if (closed) return;
      closed = true;
      for (const slot of slots) {
        for (const p of slot.pending.values()) p.reject(new HolocaseError('MESH_FAILED', 'meshing was stopped'));
        slot.pending.clear();
      }
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
