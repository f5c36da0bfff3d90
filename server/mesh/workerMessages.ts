/**
 * Messages between `meshLabelMap` and its mesh worker threads (`meshWorker.ts`).
 * A worker keeps each structure's surface between the two steps, so the label map crosses to each
 * worker once (shared memory) and only small summaries and the final meshes cross back.
 */
import type { LabelExtent } from '../../mesh/boundingBoxes.ts';
import type { DetailLevel } from '../../mesh/detailLevels.ts';
import type { Mat4, Vec3 } from '../../mesh/grid.ts';
import type { StructureMesh, StructureSpec } from '../../mesh/structure.ts';
import type { StructureMeshOptions, SurfaceSummary, SurfaceTimings } from '../../mesh/structureMesh.ts';

/** `workerData` of a mesh worker (besides `entry`, added by `startTsWorker`). */
export interface MeshWorkerData {
  dims: Vec3;
  affine: Mat4;
  /** Label values backed by a SharedArrayBuffer: shared, not copied. */
  data: Uint8Array | Uint16Array | Uint32Array;
  options: StructureMeshOptions;
}

export type MeshWorkerRequest =
  | { id: number; type: 'extract'; extent: LabelExtent }
  | { id: number; type: 'finish'; label: number; spec: StructureSpec; maxTriangles: number; level: DetailLevel };

export type MeshWorkerReply =
  | { id: number; ok: true; type: 'extract'; summary: SurfaceSummary }
  | { id: number; ok: true; type: 'finish'; result: StructureMesh; timings: SurfaceTimings }
  | { id: number; ok: false; message: string };
