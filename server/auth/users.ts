/**
 * Local user accounts. A new account gets a one-time password that must be changed at first sign-in.
 */
import { HolocaseError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { newId } from '../store/caseFolders.ts';
import { hashPassword, oneTimePassword } from './password.ts';

export interface User {
  id: string;
  username: string;
  isAdmin: boolean;
  team: string | null;
  mustChangePassword: boolean;
}

interface RawUser {
  id: string;
  username: string;
  password_hash: string;
  is_admin: number;
  team: string | null;
  must_change_password: number;
}

function fromRaw(r: RawUser): User {
  return { id: r.id, username: r.username, isAdmin: r.is_admin === 1, team: r.team, mustChangePassword: r.must_change_password === 1 };
}

export interface AddUserOptions {
  /** May manage accounts. */
  admin?: boolean;
  /** Team name: cases shared with the team are visible to every member. */
  team?: string;
}

const USERNAME = /^[a-zA-Z0-9._-]{2,64}$/;

/** Creates an account and returns it with its one-time password (shown once, never stored in clear). */
export async function addUser(db: Database, username: string, options: AddUserOptions = {}): Promise<{ user: User; password: string }> {
  if (!USERNAME.test(username)) {
    throw new HolocaseError('BAD_REQUEST', 'a user name has 2–64 letters, digits, dots, dashes or underscores');
  }
  if (db.prepare(`SELECT 1 FROM users WHERE username = ?`).get(username)) {
    throw new HolocaseError('CONFLICT', `user "${username}" already exists`);
  }
  const password = oneTimePassword();
  const id = newId();
  db.prepare(
    `INSERT INTO users (id, username, password_hash, is_admin, team, must_change_password, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)`,
  ).run(id, username, await hashPassword(password), options.admin ? 1 : 0, options.team ?? null, Date.now());
  return { user: getUser(db, id)!, password };
}

export function getUser(db: Database, id: string): User | undefined {
  const raw = db.prepare(`SELECT * FROM users WHERE id = ?`).get(id) as RawUser | undefined;
  return raw && fromRaw(raw);
}

/** The account and its stored hash, for sign-in. */
export function findUserForLogin(db: Database, username: string): { user: User; passwordHash: string } | undefined {
  const raw = db.prepare(`SELECT * FROM users WHERE username = ?`).get(username) as RawUser | undefined;
  return raw && { user: fromRaw(raw), passwordHash: raw.password_hash };
}

export function listUsers(db: Database): User[] {
  return (db.prepare(`SELECT * FROM users ORDER BY username`).all() as RawUser[]).map(fromRaw);
}

export async function setPassword(db: Database, userId: string, password: string, options: { mustChange?: boolean } = {}): Promise<void> {
  db.prepare(`UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?`).run(
    await hashPassword(password),
    options.mustChange ? 1 : 0,
    userId,
  );
}

/** Issues a new one-time password (an administrator resetting a forgotten password). */
export async function resetPassword(db: Database, username: string): Promise<string> {
  const found = findUserForLogin(db, username);
  if (!found) throw new HolocaseError('NOT_FOUND', `no user "${username}"`);
  const password = oneTimePassword();
  await setPassword(db, found.user.id, password, { mustChange: true });
  db.prepare(`DELETE FROM sessions WHERE user_id = ?`).run(found.user.id);
  return password;
}
