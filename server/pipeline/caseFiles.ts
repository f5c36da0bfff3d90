/** The files of a complete case folder, as `runCase` writes them and the server serves them. */
import type { DetailLevel } from '../../mesh/detailLevels.ts';

export const CASE_FILES = {
  ct: 'ct.nii.gz',
  labels: 'labels.nii.gz',
  glb: 'case.glb',
  report: 'report.json',
} as const;

/**
 * The GLB of each level of detail (see `mesh/detailLevels.ts`): the desktop's is the case's `case.glb`;
 * the headset's is written beside it. A case folder from before levels existed has only `case.glb`,
 * which then serves both.
 */
export const GLB_FILES: Record<DetailLevel, string> = {
  desktop: CASE_FILES.glb,
  xr: 'case-xr.glb',
};

/**
 * Each level's finished surfaces (`server/edit/meshCache.ts`), so the first correction of the model's
 * output re-meshes only the structures it changed. Optional: without them every structure is meshed.
 */
export const MESH_CACHE_FILES: Record<DetailLevel, string> = {
  desktop: 'meshes.bin',
  xr: 'meshes-xr.bin',
};

/** Size, strong ETag and kept compressed copies of each level's GLB, written once when the case is stored. */
export const GLB_LEVELS_FILE = 'glb-levels.json';
