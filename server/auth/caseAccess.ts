/**
 * Who may do what with a case. Seeing: the owner, and members of the owner's team when the owner
 * shared it with the team. Changing (label, sharing, re-run, delete, share links): the owner only.
 * A case the user may not see does not exist for them: 404, never 403.
 */
import { HolocaseError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { getCase, type CaseRow } from '../store/cases.ts';
import { isValidId } from '../store/caseFolders.ts';
import type { User } from './users.ts';

export type CaseAccess = 'view' | 'modify';

export function canView(user: User, c: CaseRow): boolean {
  return c.ownerId === user.id || (c.teamShared && user.team !== null && c.ownerTeam === user.team);
}

export function canModify(user: User, c: CaseRow): boolean {
  return c.ownerId === user.id;
}

/** The case when `user` has `access` to it; otherwise NOT_FOUND (unseen) or FORBIDDEN (seen, not owned). */
export function caseForUser(db: Database, user: User, caseId: string, access: CaseAccess): CaseRow {
  const c = isValidId(caseId) ? getCase(db, caseId) : undefined;
  if (!c || !canView(user, c)) throw new HolocaseError('NOT_FOUND', 'no such case');
  if (access === 'modify' && !canModify(user, c)) {
    throw new HolocaseError('FORBIDDEN', 'only the person who uploaded this case can change it');
  }
  return c;
}
