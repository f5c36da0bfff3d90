/**
 * Job rows: one per processing run of a case (upload, re-run, resume). The queue in embedded mode is
 * `SELECT … WHERE status = 'queued' ORDER BY created_at`; in scale-out mode the row mirrors the BullMQ job.
 */
import type { Database } from './database.ts';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';
export type QueueKind = 'embedded' | 'redis';

export interface JobRow {
  id: string;
  caseId: string;
  modelId: string;
  status: JobStatus;
  interruptions: number;
  queue: QueueKind;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

interface RawJob {
  id: string;
  case_id: string;
  model_id: string;
  status: JobStatus;
  interruptions: number;
  queue: QueueKind;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

function fromRaw(r: RawJob): JobRow {
  return {
    id: r.id,
    caseId: r.case_id,
    modelId: r.model_id,
    status: r.status,
    interruptions: r.interruptions,
    queue: r.queue,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export function insertJob(db: Database, job: { id: string; caseId: string; modelId: string; queue: QueueKind }, now = Date.now()): void {
  db.prepare(`INSERT INTO jobs (id, case_id, model_id, status, queue, created_at) VALUES (?, ?, ?, 'queued', ?, ?)`).run(
    job.id,
    job.caseId,
    job.modelId,
    job.queue,
    now,
  );
}

export function getJob(db: Database, id: string): JobRow | undefined {
  const raw = db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as RawJob | undefined;
  return raw && fromRaw(raw);
}

export function jobsWithStatus(db: Database, statuses: JobStatus[], queue?: QueueKind): JobRow[] {
  const marks = statuses.map(() => '?').join(', ');
  const rows = db
    .prepare(`SELECT * FROM jobs WHERE status IN (${marks}) ${queue ? 'AND queue = ?' : ''} ORDER BY created_at, id`)
    .all(...statuses, ...(queue ? [queue] : [])) as RawJob[];
  return rows.map(fromRaw);
}

/** The case's unfinished job, if any (a case runs one job at a time). */
export function activeJobForCase(db: Database, caseId: string): JobRow | undefined {
  const raw = db
    .prepare(`SELECT * FROM jobs WHERE case_id = ? AND status IN ('queued', 'running') ORDER BY created_at DESC LIMIT 1`)
    .get(caseId) as RawJob | undefined;
  return raw && fromRaw(raw);
}

export function setJobStatus(db: Database, id: string, status: JobStatus, now = Date.now()): void {
  if (status === 'running') db.prepare(`UPDATE jobs SET status = ?, started_at = ? WHERE id = ?`).run(status, now, id);
  else if (status === 'queued') db.prepare(`UPDATE jobs SET status = ? WHERE id = ?`).run(status, id);
  else db.prepare(`UPDATE jobs SET status = ?, finished_at = ? WHERE id = ?`).run(status, now, id);
}

/** A server stop caught this job running: count it and put it back in the queue. Returns the new count. */
export function recordInterruption(db: Database, id: string): number {
  db.prepare(`UPDATE jobs SET interruptions = interruptions + 1, status = 'queued' WHERE id = ?`).run(id);
  return (db.prepare(`SELECT interruptions FROM jobs WHERE id = ?`).get(id) as { interruptions: number }).interruptions;
}
