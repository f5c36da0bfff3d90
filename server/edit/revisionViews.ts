/** What the API shows of a case's revisions (`GET /api/cases/:id/revisions`). Dates are ISO strings. */
import type { Database } from '../store/database.ts';
import type { CaseRow } from '../store/cases.ts';
import { ensureRevisions } from './modelRevision.ts';
import { listRevisions, type MeshState, type StructureChange } from './revisionRows.ts';

export interface RevisionView {
  revision: number;
  /** User name; null for the model's output. */
  author: string | null;
  createdAt: string;
  note: string;
  restoredFrom: number | null;
  /** Whether this revision's hologram is made. */
  mesh: MeshState;
  changes: StructureChange[];
}

export function revisionList(db: Database, dataDir: string, c: CaseRow): { current: number | null; revisions: RevisionView[] } {
  ensureRevisions(db, dataDir, c);
  const rows = listRevisions(db, c.id);
  return {
    current: rows[0]?.revision ?? null,
    revisions: rows.map((r) => ({
      revision: r.revision,
      author: r.author,
      createdAt: new Date(r.createdAt).toISOString(),
      note: r.note,
      restoredFrom: r.restoredFrom,
      mesh: r.mesh,
      changes: r.changes,
    })),
  };
}
