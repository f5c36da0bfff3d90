/**
 * Versioned schema migrations. `PRAGMA user_version` holds the number of the last one applied; each
 * runs once, in its own transaction, in order. Never edit a released migration: append a new one.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, sessions, cases, jobs, shares',
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        team TEXT,
        must_change_password INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        label TEXT NOT NULL DEFAULT '',
        team_shared INTEGER NOT NULL DEFAULT 0,
        model_id TEXT NOT NULL,
        model_name TEXT NOT NULL,
        model_version TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        stage TEXT,
        percent INTEGER NOT NULL DEFAULT 0,
        message TEXT,
        error_code TEXT,
        error_message TEXT,
        retryable INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        processed_at INTEGER,
        glb_bytes INTEGER,
        glb_etag TEXT,
        glb_encodings TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX cases_owner ON cases(owner_id, created_at);
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        interruptions INTEGER NOT NULL DEFAULT 0,
        queue TEXT NOT NULL CHECK (queue IN ('embedded', 'redis')),
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
      );
      CREATE INDEX jobs_status ON jobs(status, created_at);
      CREATE TABLE shares (
        id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL UNIQUE,
        created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX shares_case ON shares(case_id);
      CREATE TABLE share_tokens (
        token_hash TEXT PRIMARY KEY,
        share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'label-map revisions, structure validation, the revision whose hologram is served',
    sql: `
      CREATE TABLE revisions (
        case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        author_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        author_name TEXT,
        created_at INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        restored_from INTEGER,
        changes TEXT NOT NULL DEFAULT '[]',
        mesh TEXT NOT NULL DEFAULT 'pending' CHECK (mesh IN ('pending', 'ready', 'failed')),
        job_id TEXT,
        PRIMARY KEY (case_id, revision)
      );
      CREATE TABLE validations (
        case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        label INTEGER NOT NULL,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        user_name TEXT NOT NULL,
        validated_at INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (case_id, label)
      );
      ALTER TABLE cases ADD COLUMN glb_revision INTEGER;
    `,
  },
  {
    version: 4,
    name: 'PACS: change-feed position, received studies (keyed hash only), skipped studies, SEG exports',
    sql: `
      CREATE TABLE pacs_feed (
        source TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE pacs_studies (
        study_key TEXT PRIMARY KEY,
        case_id TEXT NOT NULL UNIQUE REFERENCES cases(id) ON DELETE CASCADE,
        source TEXT NOT NULL CHECK (source IN ('orthanc', 'stow')),
        orthanc_series_id TEXT,
        rule TEXT,
        received_at INTEGER NOT NULL,
        seg_status TEXT NOT NULL DEFAULT 'pending' CHECK (seg_status IN ('pending', 'sent', 'failed', 'none')),
        seg_sent_at INTEGER,
        seg_instance_id TEXT,
        seg_error TEXT
      );
      CREATE TABLE pacs_skipped (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL CHECK (source IN ('orthanc', 'stow')),
        orthanc_study_id TEXT,
        reason TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX pacs_skipped_time ON pacs_skipped(received_at);
    `,
  },
];

/**
 * 1. Read the applied version.
 * 2. Apply each newer migration and bump `user_version` in one transaction.
 * Returns the versions applied.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
    applied.push(migration.version);
  }
  return applied;
}
