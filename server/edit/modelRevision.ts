/**
 * The model's output as a revision: revision 0 the first time a case is processed (or, for a case made
 * before revisions existed, the first time anyone asks), the next number after a re-run — so the
 * corrections made on the previous output stay restorable. The case folder's label map and GLB are
 * hard-linked into the revision folder; nothing is copied or re-meshed.
 *
 * Synchronous on purpose (small files, links and one transaction): two requests in one server process
 * cannot both record the same revision.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CaseReport } from '../pipeline/runCase.ts';
import { CASE_FILES, caseLayout } from '../store/caseFolders.ts';
import type { Database } from '../store/database.ts';
import { getCase, setServedGlb, type CaseRow } from '../store/cases.ts';
import { REVISION_FILES, REVISION_GLB_FILES, caseRevisionsDir, revisionDir, type RevisionStructures } from './revisionFiles.ts';
import { clearValidations, insertRevision, latestRevision } from './revisionRows.ts';
import { structureChanges } from './structureChanges.ts';
import { readRevisionStructures } from './revisionStructures.ts';

/** The structure table of a model run, from its report. */
function structuresOfReport(report: CaseReport): RevisionStructures {
  const voxelMl = report.input.spacingMm.reduce((a, b) => a * b, 1) / 1000;
  return {
    voxelMl,
    structures: report.structures.map((s) => ({
      label: s.label,
      name: s.name,
      displayName: s.displayName,
      group: s.group,
      color: s.color,
      voxels: Math.round(s.voxelVolumeMl / voxelMl),
      volumeMl: s.voxelVolumeMl,
    })),
  };
}

/**
 * 1. Read the finished case's report; the next revision number.
 * 2. Link labels and GLB (with its compressed copies) into a scratch folder, write the structure
 *    table and mesh report, rename it into place.
 * 3. One transaction: the row (author: none), validations cleared (new output), the GLB served is this
 *    revision's. Returns the revision number (undefined when the case has no finished output).
 */
export function recordModelRevision(db: Database, dataDir: string, caseId: string): number | undefined {
  const c = getCase(db, caseId);
  if (!c || !c.glbEtag) return undefined;
  const caseDir = caseLayout(dataDir, caseId).caseDir;
  let report: CaseReport;
  try {
    report = JSON.parse(readFileSync(path.join(caseDir, CASE_FILES.report), 'utf8')) as CaseReport;
  } catch {
    return undefined;
  }
  // 1. Number.
  const previous = latestRevision(db, caseId);
  const revision = previous + 1;
  // 2. Files.
  const parent = caseRevisionsDir(dataDir, caseId);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const scratch = path.join(parent, `.model-${revision}-${process.pid}-${Date.now()}`);
  mkdirSync(scratch);
  try {
    linkSync(path.join(caseDir, CASE_FILES.labels), path.join(scratch, REVISION_FILES.labels));
    // Both levels of detail with their compressed copies, what was recorded about them, and their surfaces.
    for (const file of [...REVISION_GLB_FILES, REVISION_FILES.glbLevels, REVISION_FILES.meshes, REVISION_FILES.xrMeshes]) {
      if (existsSync(path.join(caseDir, file))) linkSync(path.join(caseDir, file), path.join(scratch, file));
    }
    const structures = structuresOfReport(report);
    writeFileSync(path.join(scratch, REVISION_FILES.structures), JSON.stringify(structures));
    writeFileSync(path.join(scratch, REVISION_FILES.mesh), JSON.stringify({ structures: report.structures, centerLpsMm: report.glb.centerLpsMm, triangles: report.glb.triangles }));
    renameSync(scratch, revisionDir(dataDir, caseId, revision));
    // 3. Row, validations, served GLB.
    const before = previous >= 0 ? readRevisionStructures(dataDir, caseId, previous) : undefined;
    db.transaction(() => {
      insertRevision(db, {
        caseId,
        revision,
        author: null,
        note: `segmented by ${report.model.name}`,
        changes: before ? structureChanges(before, structures).changes : [],
        mesh: 'ready',
      });
      clearValidations(db, caseId);
      setServedGlb(db, caseId, { revision, bytes: c.glbBytes ?? 0, etag: c.glbEtag!, encodings: c.glbEncodings });
    })();
    return revision;
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}

/** A finished case without revisions gets its revision 0 (cases made before revisions existed, imported cases). */
export function ensureRevisions(db: Database, dataDir: string, c: CaseRow): CaseRow {
  if (c.status !== 'done' || !c.glbEtag || latestRevision(db, c.id) >= 0) return c;
  recordModelRevision(db, dataDir, c.id);
  return getCase(db, c.id) ?? c;
}
