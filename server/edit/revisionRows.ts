/**
 * Revision and validation rows. A revision row exists once its folder is complete; `mesh` says whether
 * its hologram is made. A validation row says who confirmed a structure and in which revision; it is
 * deleted when a later revision changes that structure.
 */
import type { Database } from '../store/database.ts';

export type MeshState = 'pending' | 'ready' | 'failed';

export interface StructureChange {
  label: number;
  structure: string;
  volumeMlBefore: number;
  volumeMlAfter: number;
}

export interface RevisionRow {
  caseId: string;
  revision: number;
  authorId: string | null;
  /** User name of the author; null for the model's output. */
  author: string | null;
  createdAt: number;
  note: string;
  restoredFrom: number | null;
  changes: StructureChange[];
  mesh: MeshState;
}

interface RawRevision {
  case_id: string;
  revision: number;
  author_id: string | null;
  author_name: string | null;
  created_at: number;
  note: string;
  restored_from: number | null;
  changes: string;
  mesh: MeshState;
}

function fromRaw(r: RawRevision): RevisionRow {
  return {
    caseId: r.case_id,
    revision: r.revision,
    authorId: r.author_id,
    author: r.author_name,
    createdAt: r.created_at,
    note: r.note,
    restoredFrom: r.restored_from,
    changes: JSON.parse(r.changes) as StructureChange[],
    mesh: r.mesh,
  };
}

export function listRevisions(db: Database, caseId: string): RevisionRow[] {
  return (db.prepare(`SELECT * FROM revisions WHERE case_id = ? ORDER BY revision DESC`).all(caseId) as RawRevision[]).map(fromRaw);
}

export function getRevision(db: Database, caseId: string, revision: number): RevisionRow | undefined {
  const raw = db.prepare(`SELECT * FROM revisions WHERE case_id = ? AND revision = ?`).get(caseId, revision) as RawRevision | undefined;
  return raw && fromRaw(raw);
}

/** The newest revision number, or −1 when the case has none yet. */
export function latestRevision(db: Database, caseId: string): number {
  const row = db.prepare(`SELECT MAX(revision) AS n FROM revisions WHERE case_id = ?`).get(caseId) as { n: number | null };
  return row.n ?? -1;
}

export interface NewRevision {
  caseId: string;
  revision: number;
  author: { id: string; name: string } | null;
  note: string;
  restoredFrom?: number | null;
  changes: StructureChange[];
  mesh: MeshState;
  createdAt?: number;
}

export function insertRevision(db: Database, r: NewRevision): void {
  db.prepare(
    `INSERT INTO revisions (case_id, revision, author_id, author_name, created_at, note, restored_from, changes, mesh) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.caseId, r.revision, r.author?.id ?? null, r.author?.name ?? null, r.createdAt ?? Date.now(), r.note, r.restoredFrom ?? null, JSON.stringify(r.changes), r.mesh);
}

export function setRevisionMesh(db: Database, caseId: string, revision: number, mesh: MeshState): void {
  db.prepare(`UPDATE revisions SET mesh = ? WHERE case_id = ? AND revision = ?`).run(mesh, caseId, revision);
}

export interface Validation {
  label: number;
  by: string;
  at: string;
  revision: number;
}

export function listValidations(db: Database, caseId: string): Map<number, Validation> {
  const rows = db.prepare(`SELECT label, user_name, validated_at, revision FROM validations WHERE case_id = ?`).all(caseId) as {
    label: number;
    user_name: string;
    validated_at: number;
    revision: number;
  }[];
  return new Map(rows.map((r) => [r.label, { label: r.label, by: r.user_name, at: new Date(r.validated_at).toISOString(), revision: r.revision }]));
}

export function setValidation(db: Database, caseId: string, label: number, user: { id: string; username: string }, revision: number, now = Date.now()): Validation {
  db.prepare(
    `INSERT INTO validations (case_id, label, user_id, user_name, validated_at, revision) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (case_id, label) DO UPDATE SET user_id = excluded.user_id, user_name = excluded.user_name, validated_at = excluded.validated_at, revision = excluded.revision`,
  ).run(caseId, label, user.id, user.username, now, revision);
  return { label, by: user.username, at: new Date(now).toISOString(), revision };
}

/** Clears validations of the given labels (all of them when `labels` is undefined). */
export function clearValidations(db: Database, caseId: string, labels?: readonly number[]): void {
  if (!labels) {
    db.prepare(`DELETE FROM validations WHERE case_id = ?`).run(caseId);
    return;
  }
  const statement = db.prepare(`DELETE FROM validations WHERE case_id = ? AND label = ?`);
  for (const label of labels) statement.run(caseId, label);
}
