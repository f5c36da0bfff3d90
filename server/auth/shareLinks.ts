/**
 * Read-only share links for one case: `/s/<token>` (128-bit random token, stored as its SHA-256 hash)
 * with an expiry (default 7 days) and revocation, plus a 6-character code a person can type on a
 * headset keyboard, which redeems (rate-limited) to a fresh token of the same share.
 * Revoked or expired → GONE (410); never existed → NOT_FOUND (404).
 */
import { HolocaseError, isHolocaseError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { getCase, type CaseRow } from '../store/cases.ts';
import { newId } from '../store/caseFolders.ts';
import { hashToken, randomCharacters, randomToken } from './tokens.ts';

/** No 0/O, 1/I/L, 5/S or 2/Z look-alikes: 27 characters, 6 of them ≈ 3.9·10⁸ codes. */
export const CODE_ALPHABET = '346789ABCDEFGHJKMNPQRTUVWXY';
export const CODE_LENGTH = 6;

export interface ShareOptions {
  /** Lifetime in days (default 7). */
  expiresInDays?: number;
  /** Longest lifetime allowed. */
  maxDays?: number;
  createdBy?: string | null;
}

export const DEFAULTS = { expiresInDays: 7, maxDays: 90 } as const;

export interface ShareInfo {
  id: string;
  caseId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  active: boolean;
}

export interface NewShare extends ShareInfo {
  /** `/s/<token>` — the token is shown once, only its hash is stored. */
  url: string;
  token: string;
  /** The typable code, e.g. `K7P-4XM` shown; accepted with or without the dash. */
  code: string;
}

interface RawShare {
  id: string;
  case_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

function info(r: RawShare, now: number): ShareInfo {
  return {
    id: r.id,
    caseId: r.case_id,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
    active: r.revoked_at === null && r.expires_at > now,
  };
}

/** Upper-cases and drops separators, so `k7p-4xm` and `K7P 4XM` are the same code. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[^0-9A-Z]/g, '');
}

/**
 * 1. Check the lifetime.
 * 2. Draw a token and a code (a code colliding with an existing one is drawn again).
 * 3. Store the share, its code hash and its first token hash.
 */
export function createShare(db: Database, caseId: string, options: ShareOptions = {}, now = Date.now()): NewShare {
  const days = options.expiresInDays ?? DEFAULTS.expiresInDays;
  const maxDays = options.maxDays ?? DEFAULTS.maxDays;
  if (!Number.isFinite(days) || days <= 0 || days > maxDays) {
    throw new HolocaseError('BAD_REQUEST', `a share link lasts between a few minutes and ${maxDays} days (expiresInDays)`);
  }
  const id = newId();
  const token = randomToken(16);
  const expiresAt = now + Math.round(days * 86400_000);
  for (let attempt = 0; ; attempt++) {
    const code = randomCharacters(CODE_ALPHABET, CODE_LENGTH);
    try {
      db.transaction(() => {
        db.prepare(`INSERT INTO shares (id, case_id, code_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`).run(
          id,
          caseId,
          hashToken(code),
          options.createdBy ?? null,
          now,
          expiresAt,
        );
        db.prepare(`INSERT INTO share_tokens (token_hash, share_id, created_at) VALUES (?, ?, ?)`).run(hashToken(token), id, now);
      })();
      const row: RawShare = { id, case_id: caseId, created_at: now, expires_at: expiresAt, revoked_at: null };
      return { ...info(row, now), url: `/s/${token}`, token, code: `${code.slice(0, 3)}-${code.slice(3)}` };
    } catch (error) {
      if (attempt < 5 && String((error as Error).message).includes('UNIQUE')) continue;
      throw error;
    }
  }
}

export function listShares(db: Database, caseId: string, now = Date.now()): ShareInfo[] {
  return (db.prepare(`SELECT * FROM shares WHERE case_id = ? ORDER BY created_at DESC`).all(caseId) as RawShare[]).map((r) => info(r, now));
}

export function getShare(db: Database, shareId: string, now = Date.now()): ShareInfo | undefined {
  const row = db.prepare(`SELECT * FROM shares WHERE id = ?`).get(shareId) as RawShare | undefined;
  return row && info(row, now);
}

export function revokeShare(db: Database, shareId: string, now = Date.now()): void {
  db.prepare(`UPDATE shares SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(now, shareId);
}

function usable(row: RawShare | undefined, now: number): RawShare {
  if (!row) throw new HolocaseError('NOT_FOUND', 'this share link does not exist');
  if (row.revoked_at !== null) throw new HolocaseError('GONE', 'this share link was revoked');
  if (row.expires_at <= now) throw new HolocaseError('GONE', 'this share link has expired');
  return row;
}

/** The case a share token opens; NOT_FOUND / GONE otherwise, and NOT_FOUND when the case is not ready. */
export function caseForShareToken(db: Database, token: string, now = Date.now()): { share: ShareInfo; case: CaseRow } {
  const row = db
    .prepare(`SELECT s.* FROM share_tokens t JOIN shares s ON s.id = t.share_id WHERE t.token_hash = ?`)
    .get(hashToken(token)) as RawShare | undefined;
  const share = usable(row, now);
  const c = getCase(db, share.case_id);
  if (!c || !c.glbEtag) throw new HolocaseError('NOT_FOUND', 'the shared case is not available');
  return { share: info(share, now), case: c };
}

/** The status a share link's page answers with, like its API: 200 usable, 410 revoked or expired, 404 unknown. */
export function shareLinkStatus(db: Database, token: string, now = Date.now()): number {
  try {
    caseForShareToken(db, token, now);
    return 200;
  } catch (error) {
    if (isHolocaseError(error)) return error.status;
    throw error;
  }
}

/** A fresh token for the share a code names (the caller rate-limits failures). */
export function redeemShareCode(db: Database, code: string, now = Date.now()): { url: string; token: string; expiresAt: string } {
  const normalized = normalizeCode(code);
  const row = normalized.length === CODE_LENGTH ? (db.prepare(`SELECT * FROM shares WHERE code_hash = ?`).get(hashToken(normalized)) as RawShare | undefined) : undefined;
  const share = usable(row, now);
  const token = randomToken(16);
  db.prepare(`INSERT INTO share_tokens (token_hash, share_id, created_at) VALUES (?, ?, ?)`).run(hashToken(token), share.id, now);
  return { url: `/s/${token}`, token, expiresAt: new Date(share.expires_at).toISOString() };
}
