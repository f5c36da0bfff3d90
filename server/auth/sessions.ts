/**
 * Sign-in sessions: a random 256-bit token in the `holocase_session` cookie (HttpOnly, SameSite=Lax,
 * Path=/, Secure under HTTPS); the database keeps its hash and expiry.
 */
import type { Database } from '../store/database.ts';
import { getUser, type User } from './users.ts';
import { hashToken, randomToken } from './tokens.ts';

export const SESSION_COOKIE = 'holocase_session';

export function createSession(db: Database, userId: string, hours: number, now = Date.now()): { token: string; expiresAt: number } {
  const token = randomToken(32);
  const expiresAt = now + hours * 3600_000;
  db.prepare(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`).run(hashToken(token), userId, now, expiresAt);
  db.prepare(`DELETE FROM sessions WHERE expires_at < ?`).run(now);
  return { token, expiresAt };
}

/** The signed-in user for a session token, or undefined when unknown or expired. */
export function userForSession(db: Database, token: string | undefined, now = Date.now()): User | undefined {
  if (!token) return undefined;
  const row = db.prepare(`SELECT user_id, expires_at FROM sessions WHERE token_hash = ?`).get(hashToken(token)) as
    | { user_id: string; expires_at: number }
    | undefined;
  if (!row || row.expires_at <= now) return undefined;
  return getUser(db, row.user_id);
}

export function deleteSession(db: Database, token: string | undefined): void {
  if (token) db.prepare(`DELETE FROM sessions WHERE token_hash = ?`).run(hashToken(token));
}

/** Ends every session of a user except `keepToken` (after a password change). */
export function deleteOtherSessions(db: Database, userId: string, keepToken: string | undefined): void {
  db.prepare(`DELETE FROM sessions WHERE user_id = ? AND token_hash != ?`).run(userId, keepToken ? hashToken(keepToken) : '');
}

export interface CookieOptions {
  /** Add `Secure` (the site is served over HTTPS). */
  secure: boolean;
  /** Lifetime in seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
}

export function sessionCookie(token: string, options: CookieOptions): string {
  const parts = [`${SESSION_COOKIE}=${token}`, 'HttpOnly', 'SameSite=Lax', 'Path=/', `Max-Age=${options.maxAgeSeconds}`];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Reads one cookie from a `Cookie` header. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
