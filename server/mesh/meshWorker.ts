/**
 * A mesh worker thread: runs the two per-structure steps of `mesh/structureMesh.ts` on the label map it
 * was given once (shared memory), keeping each surface between the steps.
 * Started by `meshLabelMap` through `startTsWorker`; messages are in `workerMessages.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { simplifierReady } from '../../mesh/simplify.ts';
import { extractSurface, finishSurface, keepForFinishing, summarizeSurface, type KeptSurface } from '../../mesh/structureMesh.ts';
import type { MeshWorkerData, MeshWorkerReply, MeshWorkerRequest } from './workerMessages.ts';

const { dims, affine, data, options } = workerData as MeshWorkerData;
const labels = { dims, affine, data };
const surfaces = new Map<number, KeptSurface>();
const ready = simplifierReady();

function handle(request: MeshWorkerRequest): { reply: MeshWorkerReply; transfer: ArrayBuffer[] } {
  if (request.type === 'extract') {
    // The full-resolution smoothed mesh is dropped here: only the simplified ones are finished.
    const surface = keepForFinishing(extractSurface(labels, request.extent, options));
    surfaces.set(surface.label, surface);
    return {
      reply: {
        id: request.id,
        ok: true,
        type: 'extract',
        summary: summarizeSurface(surface),
      },
      transfer: [],
    };
  }
  const surface = surfaces.get(request.label);
  if (!surface) throw new Error(`no surface kept for label ${request.label}`);
  // Kept until the pool closes: the driver may ask again under a lower cap.
  const result = finishSurface(surface, request.spec, { ...options, maxTriangles: request.maxTriangles, level: request.level });
  // Move the result's arrays, except those the kept surface still uses (those are copied).
  const kept = new Set<ArrayBufferLike>([surface.simplified.mesh, surface.xrSimplified.mesh].flatMap((m) => [m.positions.buffer, m.indices.buffer]));
  const buffers = new Set<ArrayBuffer>();
  for (const array of [result.mesh.positions, result.mesh.indices, result.mesh.normals]) {
    if (array && array.buffer instanceof ArrayBuffer && !kept.has(array.buffer)) buffers.add(array.buffer);
  }
  return { reply: { id: request.id, ok: true, type: 'finish', result, timings: surface.timings }, transfer: [...buffers] };
}

parentPort!.on('message', (request: MeshWorkerRequest) => {
  ready.then(
    () => {
      try {
        const { reply, transfer } = handle(request);
        parentPort!.postMessage(reply, transfer);
      } catch (error) {
        parentPort!.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies MeshWorkerReply);
      }
    },
    (error: unknown) => parentPort!.postMessage({ id: request.id, ok: false, message: `mesh simplifier failed to load: ${String(error)}` } satisfies MeshWorkerReply),
  );
});
