/**
 * The label-map side of a case for its detail and share views: current revision (revision 0 is made
 * on first sight for cases processed before revisions existed), the served revision's structures,
 * validations, and whether the viewer may edit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { canEdit } from '../auth/caseAccess.ts';
import type { User } from '../auth/users.ts';
import type { EditingState } from '../http/caseViews.ts';
import type { StructureReport } from '../pipeline/runCase.ts';
import type { Database } from '../store/database.ts';
import type { CaseRow } from '../store/cases.ts';
import { ensureRevisions } from './modelRevision.ts';
import { REVISION_FILES, revisionDir } from './revisionFiles.ts';
import { latestRevision, listValidations } from './revisionRows.ts';

export function editingState(db: Database, dataDir: string, row: CaseRow, user?: User): { c: CaseRow; editing: EditingState } {
  const c = ensureRevisions(db, dataDir, row);
  const latest = latestRevision(db, c.id);
  let structures: StructureReport[] | undefined;
  if (c.glbRevision !== null) {
    try {
      structures = (JSON.parse(readFileSync(path.join(revisionDir(dataDir, c.id, c.glbRevision), REVISION_FILES.mesh), 'utf8')) as { structures: StructureReport[] }).structures;
    } catch {
      structures = undefined;
    }
  }
  return {
    c,
    editing: {
      revision: latest >= 0 ? latest : null,
      ...(structures ? { structures } : {}),
      validations: listValidations(db, c.id),
      canEdit: user ? canEdit(user, c) && c.status === 'done' : false,
    },
  };
}
