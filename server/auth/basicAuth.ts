/**
 * HTTP Basic authentication with a holocase account, for machines that cannot hold a session (a PACS
 * or a viewer pushing studies over DICOMweb). Wrong passwords are rate-limited like sign-ins (per address and per account); an
 * account that still has its one-time password must change it first.
 */
import { HolocaseError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { dummyPasswordHash, verifyPassword } from './password.ts';
import type { SignInGuard } from './signInGuard.ts';
import { findUserForLogin, type User } from './users.ts';

/** The account named by an `Authorization: Basic` header; undefined when there is no such header. */
export async function basicAuthUser(
  deps: { db: Database; signInGuard: SignInGuard },
  authorization: string | null,
  clientIp: string,
): Promise<User | undefined> {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon >= 0 ? decoded.slice(0, colon) : decoded;
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  deps.signInGuard.check(username, clientIp);
  const found = findUserForLogin(deps.db, username);
  const ok = await verifyPassword(password, found?.passwordHash ?? (await dummyPasswordHash()));
  if (!found || !ok) {
    deps.signInGuard.failed(username, clientIp);
    throw new HolocaseError('UNAUTHORIZED', 'wrong user name or password');
  }
  deps.signInGuard.succeeded(username, clientIp);
  if (found.user.mustChangePassword) throw new HolocaseError('FORBIDDEN', 'this account still has its one-time password; sign in once and change it');
  return found.user;
}
