/**
 * Where a case's files live under the data folder, and the atomic moves that make them visible.
 *
 *   <data>/cases/<id>/      the complete case: ct.nii.gz, labels.nii.gz, case.glb (desktop level of
 *                           detail), case-xr.glb (headsets), report.json, glb-levels.json (+ .gz / .br
 *                           copies of each GLB when they help). Only ever renamed into place.
 *   <data>/incoming/<id>/   the raw upload (may carry patient identifiers); deleted once ingest has
 *                           written the de-identified CT, and also when ingest fails.
 *   <data>/work/<id>/       a job's scratch: ct.nii.gz + ingest.json after step 1, out-<job>/ during step 2.
 *   <data>/trash/           old case folders being removed after a swap.
 *   <data>/locks/<id>.lock  held by the process running the case's job (see `jobs/caseLock.ts`).
 *   <data>/revisions/<id>/  the label-map revisions (`server/edit/revisionFiles.ts`), kept across re-runs.
 *
 * In scale-out mode workers on other machines see the same folder through a shared mount.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { HolocaseError } from '../errors.ts';

export interface CaseLayout {
  caseDir: string;
  incomingDir: string;
  workDir: string;
  /** De-identified CT written by step 1 of a job (before `runCase`). */
  workCt: string;
  /** The ingest report of step 1 (de-identified). */
  workIngestReport: string;
}

export { CASE_FILES, GLB_FILES, GLB_LEVELS_FILE } from '../pipeline/caseFiles.ts';

const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newId(): string {
  return randomUUID();
}

/** True for ids this server makes; anything else never reaches a file path. */
export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function caseLayout(dataDir: string, caseId: string): CaseLayout {
  if (!isValidId(caseId)) throw new HolocaseError('NOT_FOUND', 'no such case');
  const workDir = path.join(dataDir, 'work', caseId);
  return {
    caseDir: path.join(dataDir, 'cases', caseId),
    incomingDir: path.join(dataDir, 'incoming', caseId),
    workDir,
    workCt: path.join(workDir, 'ct.nii.gz'),
    workIngestReport: path.join(workDir, 'ingest.json'),
  };
}

export async function exists(target: string): Promise<boolean> {
  return stat(target).then(
    () => true,
    () => false,
  );
}

/**
 * Makes `sourceDir` the case folder `caseDir` atomically: a reader sees the old complete folder or the
 * new complete folder, never a mix.
 * 1. Move an existing case folder aside into `<data>/trash/` (same file system: a rename).
 * 2. Rename the new folder into place.
 * 3. Delete the old one.
 */
export async function publishCaseFolder(dataDir: string, sourceDir: string, caseDir: string): Promise<void> {
  const trash = path.join(dataDir, 'trash');
  await mkdir(trash, { recursive: true });
  await mkdir(path.dirname(caseDir), { recursive: true });
  const old = path.join(trash, `${path.basename(caseDir)}-${Date.now()}`);
  const hadOld = await exists(caseDir);
  if (hadOld) await rename(caseDir, old);
  try {
    await rename(sourceDir, caseDir);
  } catch (error) {
    if (hadOld) await rename(old, caseDir);
    throw error;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** Removes every file of a case (case folder, upload, scratch, revisions). */
export async function removeCaseFiles(dataDir: string, caseId: string): Promise<void> {
  const layout = caseLayout(dataDir, caseId);
  const revisions = path.join(dataDir, 'revisions', caseId);
  await Promise.all([layout.caseDir, layout.incomingDir, layout.workDir, revisions].map((dir) => rm(dir, { recursive: true, force: true })));
}
