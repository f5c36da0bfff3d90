/**
 * Signing in, out, and changing a password, as the session routes use them. Wrong passwords are
 * rate-limited per address and per account (`signInGuard`); an unknown user name costs the same time
 * as a wrong password.
 */
import { HolocaseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { dummyPasswordHash, passwordProblem, verifyPassword } from './password.ts';
import { createSession, deleteOtherSessions, deleteSession, sessionCookie } from './sessions.ts';
import type { SignInGuard } from './signInGuard.ts';
import { findUserForLogin, getUser, setPassword, type User } from './users.ts';

export interface SignInDeps {
  db: Database;
  log: Logger;
  signInGuard: SignInGuard;
  secure: boolean;
  config: { sessionHours: number };
}

/** What `GET /api/session` shows of a user. */
export function sessionUserView(user: User) {
  return { id: user.id, username: user.username, isAdmin: user.isAdmin, team: user.team, mustChangePassword: user.mustChangePassword };
}

export async function signIn(deps: SignInDeps, body: { username: string; password: string }, clientIp: string): Promise<{ user: User; cookie: string }> {
  deps.signInGuard.check(body.username, clientIp);
  const found = findUserForLogin(deps.db, body.username);
  const ok = await verifyPassword(body.password, found?.passwordHash ?? (await dummyPasswordHash()));
  if (!found || !ok) {
    deps.signInGuard.failed(body.username, clientIp);
    deps.log.info('sign-in refused');
    throw new HolocaseError('UNAUTHORIZED', 'wrong user name or password');
  }
  deps.signInGuard.succeeded(body.username, clientIp);
  const { token } = createSession(deps.db, found.user.id, deps.config.sessionHours);
  deps.log.info({ userId: found.user.id }, 'signed in');
  return { user: found.user, cookie: sessionCookie(token, { secure: deps.secure, maxAgeSeconds: deps.config.sessionHours * 3600 }) };
}

/** Ends the session; returns the `Set-Cookie` value that clears the cookie. */
export function signOutCookie(deps: SignInDeps, token: string | undefined): string {
  deleteSession(deps.db, token);
  return sessionCookie('', { secure: deps.secure, maxAgeSeconds: 0 });
}

export async function changePassword(
  deps: SignInDeps,
  user: User,
  sessionToken: string | undefined,
  body: { currentPassword: string; newPassword: string },
  clientIp: string,
): Promise<User> {
  deps.signInGuard.check(user.username, clientIp);
  const found = findUserForLogin(deps.db, user.username);
  if (!found || !(await verifyPassword(body.currentPassword, found.passwordHash))) {
    deps.signInGuard.failed(user.username, clientIp);
    throw new HolocaseError('UNAUTHORIZED', 'the current password is wrong');
  }
  const problem = passwordProblem(body.newPassword);
  if (problem) throw new HolocaseError('BAD_REQUEST', problem);
  if (body.newPassword === body.currentPassword) throw new HolocaseError('BAD_REQUEST', 'the new password must differ from the current one');
  await setPassword(deps.db, user.id, body.newPassword);
  deleteOtherSessions(deps.db, user.id, sessionToken);
  deps.log.info({ userId: user.id }, 'password changed');
  return getUser(deps.db, user.id)!;
}
