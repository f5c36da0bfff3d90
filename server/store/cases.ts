/**
 * Case rows: who owns a case, what it is called, which model, and the state of its latest job.
 * Files live in the case folder (`caseFolders.ts`); a row exists from upload on, its files only once complete.
 */
import type { Database } from './database.ts';

export type CaseStatus = 'queued' | 'running' | 'done' | 'failed';

export interface CaseRow {
  id: string;
  ownerId: string | null;
  label: string;
  teamShared: boolean;
  modelId: string;
  modelName: string;
  modelVersion: string;
  status: CaseStatus;
  stage: string | null;
  percent: number;
  message: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  retryable: boolean;
  createdAt: number;
  processedAt: number | null;
  glbBytes: number | null;
  glbEtag: string | null;
  /** Precompressed variants stored beside `case.glb` (`gzip`, `br`). */
  glbEncodings: string[];
  /** The label-map revision whose hologram `glb*` describe (null: the case folder's, before any revision). */
  glbRevision: number | null;
  /** The owner's team (joined from users), for access checks. */
  ownerTeam: string | null;
  ownerName: string | null;
}

interface RawCase {
  id: string;
  owner_id: string | null;
  label: string;
  team_shared: number;
  model_id: string;
  model_name: string;
  model_version: string;
  status: CaseStatus;
  stage: string | null;
  percent: number;
  message: string | null;
  error_code: string | null;
  error_message: string | null;
  retryable: number;
  created_at: number;
  processed_at: number | null;
  glb_bytes: number | null;
  glb_etag: string | null;
  glb_encodings: string;
  glb_revision: number | null;
  owner_team: string | null;
  owner_name: string | null;
}

const SELECT = `SELECT c.*, u.team AS owner_team, u.username AS owner_name FROM cases c LEFT JOIN users u ON u.id = c.owner_id`;

function fromRaw(r: RawCase): CaseRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    label: r.label,
    teamShared: r.team_shared === 1,
    modelId: r.model_id,
    modelName: r.model_name,
    modelVersion: r.model_version,
    status: r.status,
    stage: r.stage,
    percent: r.percent,
    message: r.message,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    retryable: r.retryable === 1,
    createdAt: r.created_at,
    processedAt: r.processed_at,
    glbBytes: r.glb_bytes,
    glbEtag: r.glb_etag,
    glbEncodings: JSON.parse(r.glb_encodings) as string[],
    glbRevision: r.glb_revision ?? null,
    ownerTeam: r.owner_team,
    ownerName: r.owner_name,
  };
}

export interface NewCase {
  id: string;
  ownerId: string | null;
  label: string;
  teamShared: boolean;
  model: { id: string; name: string; version: string };
  status?: CaseStatus;
}

export function insertCase(db: Database, c: NewCase, now = Date.now()): void {
  db.prepare(
    `INSERT INTO cases (id, owner_id, label, team_shared, model_id, model_name, model_version, status, stage, percent, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, ?)`,
  ).run(c.id, c.ownerId, c.label, c.teamShared ? 1 : 0, c.model.id, c.model.name, c.model.version, c.status ?? 'queued', now);
}

export function getCase(db: Database, id: string): CaseRow | undefined {
  const raw = db.prepare(`${SELECT} WHERE c.id = ?`).get(id) as RawCase | undefined;
  return raw && fromRaw(raw);
}

/** Cases a user may see: their own, and those their owners shared with the user's team. Newest first. */
export function listVisibleCases(db: Database, user: { id: string; team: string | null }): CaseRow[] {
  const rows = db
    .prepare(
      `${SELECT} WHERE c.owner_id = ? OR (c.team_shared = 1 AND ? IS NOT NULL AND u.team = ?) ORDER BY c.created_at DESC, c.id`,
    )
    .all(user.id, user.team, user.team) as RawCase[];
  return rows.map(fromRaw);
}

export function updateCaseMeta(db: Database, id: string, patch: { label?: string; teamShared?: boolean }): void {
  if (patch.label !== undefined) db.prepare(`UPDATE cases SET label = ? WHERE id = ?`).run(patch.label, id);
  if (patch.teamShared !== undefined) db.prepare(`UPDATE cases SET team_shared = ? WHERE id = ?`).run(patch.teamShared ? 1 : 0, id);
}

export interface CaseProgress {
  status: CaseStatus;
  stage: string | null;
  percent: number;
  message?: string | null;
}

export function updateCaseProgress(db: Database, id: string, p: CaseProgress): void {
  db.prepare(`UPDATE cases SET status = ?, stage = ?, percent = ?, message = ? WHERE id = ?`).run(
    p.status,
    p.stage,
    Math.round(p.percent),
    p.message ?? null,
    id,
  );
}

/** A new job starts: state back to queued, old error cleared, model recorded. */
export function resetCaseForJob(db: Database, id: string, model: { id: string; name: string; version: string }): void {
  db.prepare(
    `UPDATE cases SET status = 'queued', stage = NULL, percent = 0, message = NULL, error_code = NULL, error_message = NULL,
       retryable = 0, model_id = ?, model_name = ?, model_version = ? WHERE id = ?`,
  ).run(model.id, model.name, model.version, id);
}

export interface CaseCompletion {
  processedAt: number;
  glbBytes: number;
  glbEtag: string;
  glbEncodings: string[];
  model?: { id: string; name: string; version: string };
}

export function markCaseDone(db: Database, id: string, done: CaseCompletion): void {
  db.prepare(
    `UPDATE cases SET status = 'done', stage = 'store', percent = 100, message = NULL, error_code = NULL, error_message = NULL,
       retryable = 0, processed_at = ?, glb_bytes = ?, glb_etag = ?, glb_encodings = ? WHERE id = ?`,
  ).run(done.processedAt, done.glbBytes, done.glbEtag, JSON.stringify(done.glbEncodings), id);
  if (done.model) {
    db.prepare(`UPDATE cases SET model_id = ?, model_name = ?, model_version = ? WHERE id = ?`).run(
      done.model.id,
      done.model.name,
      done.model.version,
      id,
    );
  }
}

/** The hologram served from now on is revision `revision`'s (an edit was meshed, or a revision restored). */
export function setServedGlb(db: Database, id: string, glb: { revision: number; bytes: number; etag: string; encodings: string[] }): void {
  db.prepare(`UPDATE cases SET glb_revision = ?, glb_bytes = ?, glb_etag = ?, glb_encodings = ? WHERE id = ?`).run(
    glb.revision,
    glb.bytes,
    glb.etag,
    JSON.stringify(glb.encodings),
    id,
  );
}

export function markCaseFailed(db: Database, id: string, error: { code: string; message: string; retryable: boolean }): void {
  db.prepare(
    `UPDATE cases SET status = 'failed', message = NULL, error_code = ?, error_message = ?, retryable = ? WHERE id = ?`,
  ).run(error.code, error.message, error.retryable ? 1 : 0, id);
}

export function deleteCaseRow(db: Database, id: string): void {
  db.prepare(`DELETE FROM cases WHERE id = ?`).run(id);
}
