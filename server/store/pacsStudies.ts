/**
 * What holocase remembers of studies that came from the PACS — and what it never stores: no UIDs, no
 * names, no descriptions. A received study is known by a keyed hash of its Study and Series Instance
 * UIDs (the same study sent again makes no second case); Orthanc's own resource ids are opaque hashes
 * and are kept so the SEG can be sent back to the same series. Skipped studies keep only a reason
 * written by holocase (e.g. "not CT (MR)").
 */
import { randomUUID } from 'node:crypto';
import type { Database } from './database.ts';

export type PacsSource = 'orthanc' | 'stow';
export type SegStatus = 'pending' | 'sent' | 'failed' | 'none';

export interface PacsStudyRow {
  studyKey: string;
  caseId: string;
  source: PacsSource;
  /** Orthanc's id of the source series (an opaque hash), when the study is in Orthanc. */
  orthancSeriesId: string | null;
  /** Name of the routing rule that chose the series. */
  rule: string | null;
  receivedAt: number;
  segStatus: SegStatus;
  segSentAt: number | null;
  /** Orthanc's id of the SEG instance last stored there. */
  segInstanceId: string | null;
  segError: string | null;
}

interface RawPacsStudy {
  study_key: string;
  case_id: string;
  source: PacsSource;
  orthanc_series_id: string | null;
  rule: string | null;
  received_at: number;
  seg_status: SegStatus;
  seg_sent_at: number | null;
  seg_instance_id: string | null;
  seg_error: string | null;
}

function fromRaw(r: RawPacsStudy): PacsStudyRow {
  return {
    studyKey: r.study_key,
    caseId: r.case_id,
    source: r.source,
    orthancSeriesId: r.orthanc_series_id,
    rule: r.rule,
    receivedAt: r.received_at,
    segStatus: r.seg_status,
    segSentAt: r.seg_sent_at,
    segInstanceId: r.seg_instance_id,
    segError: r.seg_error,
  };
}

export interface NewPacsStudy {
  studyKey: string;
  caseId: string;
  source: PacsSource;
  orthancSeriesId?: string;
  rule?: string;
}

export function hasPacsStudy(db: Database, studyKey: string): boolean {
  return db.prepare(`SELECT 1 FROM pacs_studies WHERE study_key = ?`).get(studyKey) !== undefined;
}

/** Records a received study; false when its key is already known (a study sent twice). */
export function insertPacsStudy(db: Database, s: NewPacsStudy, now = Date.now()): boolean {
  const result = db
    .prepare(
      `INSERT OR IGNORE INTO pacs_studies (study_key, case_id, source, orthanc_series_id, rule, received_at, seg_status)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(s.studyKey, s.caseId, s.source, s.orthancSeriesId ?? null, s.rule ?? null, now, s.orthancSeriesId ? 'pending' : 'none');
  return result.changes === 1;
}

export function pacsStudyForCase(db: Database, caseId: string): PacsStudyRow | undefined {
  const raw = db.prepare(`SELECT * FROM pacs_studies WHERE case_id = ?`).get(caseId) as RawPacsStudy | undefined;
  return raw && fromRaw(raw);
}

/** Cases from the PACS whose SEG still has to go back (done cases only). */
export function casesAwaitingSeg(db: Database): string[] {
  return (
    db
      .prepare(`SELECT p.case_id FROM pacs_studies p JOIN cases c ON c.id = p.case_id WHERE p.seg_status = 'pending' AND c.status = 'done'`)
      .all() as { case_id: string }[]
  ).map((r) => r.case_id);
}

export function recordSegResult(
  db: Database,
  caseId: string,
  result: { status: 'sent'; instanceId: string } | { status: 'failed'; error: string } | { status: 'pending' },
  now = Date.now(),
): void {
  if (result.status === 'sent') {
    db.prepare(`UPDATE pacs_studies SET seg_status = 'sent', seg_sent_at = ?, seg_instance_id = ?, seg_error = NULL WHERE case_id = ?`).run(
      now,
      result.instanceId,
      caseId,
    );
  } else if (result.status === 'failed') {
    db.prepare(`UPDATE pacs_studies SET seg_status = 'failed', seg_error = ? WHERE case_id = ?`).run(result.error, caseId);
  } else {
    db.prepare(`UPDATE pacs_studies SET seg_status = 'pending' WHERE case_id = ? AND orthanc_series_id IS NOT NULL`).run(caseId);
  }
}

export function listPacsStudies(db: Database, limit = 200): PacsStudyRow[] {
  return (db.prepare(`SELECT * FROM pacs_studies ORDER BY received_at DESC LIMIT ?`).all(limit) as RawPacsStudy[]).map(fromRaw);
}

export interface SkippedStudy {
  id: string;
  source: PacsSource;
  orthancStudyId: string | null;
  /** Why no case was made, in holocase's words (never a DICOM value). */
  reason: string;
  receivedAt: number;
}

export function recordSkippedStudy(db: Database, s: { source: PacsSource; orthancStudyId?: string; reason: string }, now = Date.now()): SkippedStudy {
  const row: SkippedStudy = { id: randomUUID(), source: s.source, orthancStudyId: s.orthancStudyId ?? null, reason: s.reason, receivedAt: now };
  db.prepare(`INSERT INTO pacs_skipped (id, source, orthanc_study_id, reason, received_at) VALUES (?, ?, ?, ?, ?)`).run(
    row.id,
    row.source,
    row.orthancStudyId,
    row.reason,
    row.receivedAt,
  );
  return row;
}

export function listSkippedStudies(db: Database, limit = 200): SkippedStudy[] {
  const rows = db.prepare(`SELECT * FROM pacs_skipped ORDER BY received_at DESC, id LIMIT ?`).all(limit) as {
    id: string;
    source: PacsSource;
    orthanc_study_id: string | null;
    reason: string;
    received_at: number;
  }[];
  return rows.map((r) => ({ id: r.id, source: r.source, orthancStudyId: r.orthanc_study_id, reason: r.reason, receivedAt: r.received_at }));
}

/** The change-feed position of a source (`undefined` before the first read). */
export function feedPosition(db: Database, source: string): number | undefined {
  const row = db.prepare(`SELECT position FROM pacs_feed WHERE source = ?`).get(source) as { position: number } | undefined;
  return row?.position;
}

export function saveFeedPosition(db: Database, source: string, position: number, now = Date.now()): void {
  db.prepare(
    `INSERT INTO pacs_feed (source, position, updated_at) VALUES (?, ?, ?)
     ON CONFLICT(source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
  ).run(source, position, now);
}
