/**
 * The SQLite database of one data folder (`<data>/holocase.db`): opened with WAL, foreign keys and a
 * busy timeout, migrated to the latest schema. Only the web server (and CLI commands) open it; job
 * workers report to the web server instead.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { migrate } from './migrations.ts';

export type { Database };

export function databasePath(dataDir: string): string {
  return path.join(dataDir, 'holocase.db');
}

/**
 * 1. Create the data folder (owner-only permissions: it holds health data).
 * 2. Open the file; WAL lets readers run while a job's progress is written.
 * 3. Apply pending migrations.
 */
export function openDatabase(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new BetterSqlite3(databasePath(dataDir));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}
