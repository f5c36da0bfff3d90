/**
 * Where a case's label-map revisions live. Each revision folder is written under a scratch name and
 * renamed into place, and never changed afterwards:
 *
 *   <data>/revisions/<caseId>/<n>/labels.nii.gz    the label map on the CT grid
 *   <data>/revisions/<caseId>/<n>/structures.json  the structure table and voxel counts (`RevisionStructures`)
 *   <data>/revisions/<caseId>/<n>/case.glb         its hologram (+ .gz / .br), once meshed
 *   <data>/revisions/<caseId>/<n>/case-xr.glb      the headset's level of detail of it (+ .gz / .br)
 *   <data>/revisions/<caseId>/<n>/glb-levels.json  ETag and encodings of each level (`glbVariants.ts`)
 *   <data>/revisions/<caseId>/<n>/mesh.json        what meshing reported per structure, with the GLB
 *   <data>/revisions/<caseId>/<n>/meshes.bin       the structures' surfaces, so the next edit re-meshes only what changed
 *   <data>/revisions/<caseId>/<n>/meshes-xr.bin    the same at the headset's level of detail
 *
 * Outside the case folder on purpose: a re-run of the model replaces the case folder, and the
 * corrections made before it must stay restorable. Files shared with the case folder (the model's
 * output) are hard links, not copies.
 */
import path from 'node:path';
import type { CaseRow } from '../store/cases.ts';
import { GLB_FILES, GLB_LEVELS_FILE, isValidId } from '../store/caseFolders.ts';
import { MESH_CACHE_FILES } from '../pipeline/caseFiles.ts';
import { ENCODING_SUFFIX } from '../store/glbVariants.ts';
import { HolocaseError } from '../errors.ts';

export const REVISION_FILES = {
  labels: 'labels.nii.gz',
  structures: 'structures.json',
  glb: GLB_FILES.desktop,
  xrGlb: GLB_FILES.xr,
  glbLevels: GLB_LEVELS_FILE,
  mesh: 'mesh.json',
  meshes: MESH_CACHE_FILES.desktop,
  xrMeshes: MESH_CACHE_FILES.xr,
} as const;

/** Every level's GLB with its compressed copies: the files a revision's hologram is served from. */
export const REVISION_GLB_FILES: readonly string[] = [REVISION_FILES.glb, REVISION_FILES.xrGlb].flatMap((file) => [file, ...Object.values(ENCODING_SUFFIX).map((suffix) => file + suffix)]);

/** A structure of one revision: what its label means and how many voxels carry it. */
export interface RevisionStructure {
  label: number;
  name: string;
  displayName: string;
  group: string;
  color: string;
  voxels: number;
  volumeMl: number;
}

export interface RevisionStructures {
  /** Volume of one voxel in mL. */
  voxelMl: number;
  structures: RevisionStructure[];
}

export function caseRevisionsDir(dataDir: string, caseId: string): string {
  if (!isValidId(caseId)) throw new HolocaseError('NOT_FOUND', 'no such case');
  return path.join(dataDir, 'revisions', caseId);
}

export function revisionDir(dataDir: string, caseId: string, revision: number): string {
  if (!Number.isInteger(revision) || revision < 0) throw new HolocaseError('NOT_FOUND', `no revision ${revision}`);
  return path.join(caseRevisionsDir(dataDir, caseId), String(revision));
}

/** The label map of revision `revision`. */
export function revisionLabelsFile(dataDir: string, caseId: string, revision: number): string {
  return path.join(revisionDir(dataDir, caseId, revision), REVISION_FILES.labels);
}

/** Folder holding the GLB that is served for the case now (its revision's, or the case folder's). */
export function servedGlbDir(dataDir: string, c: CaseRow, caseDir: string): string {
  return c.glbRevision === null ? caseDir : revisionDir(dataDir, c.id, c.glbRevision);
}
