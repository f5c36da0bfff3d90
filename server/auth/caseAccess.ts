/**
 * Who may do what with a case (docs/editing-api.md has the table):
 * - view: the owner, and members of the owner's team when the owner shared it with the team;
 * - edit (correct the label map, restore revisions, validate structures): the same people — a team the
 *   case is shared with plans the case together;
 * - modify (label, sharing, re-run, delete, share links): the owner only.
 * Administrators manage accounts; that opens no case. A case the user may not see does not exist for
 * them: 404, never 403. Share links are read-only (their routes are GET only).
 */
import { HolocaseError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { getCase, type CaseRow } from '../store/cases.ts';
import { isValidId } from '../store/caseFolders.ts';
import type { User } from './users.ts';

export type CaseAccess = 'view' | 'edit' | 'modify';

export function canView(user: User, c: CaseRow): boolean {
  return c.ownerId === user.id || (c.teamShared && user.team !== null && c.ownerTeam === user.team);
}

/** May correct the segmentation: whoever may view it (see the header). */
export function canEdit(user: User, c: CaseRow): boolean {
  return canView(user, c);
}

export function canModify(user: User, c: CaseRow): boolean {
  return c.ownerId === user.id;
}

/** The case when `user` has `access` to it; otherwise NOT_FOUND (unseen) or FORBIDDEN (seen, not owned). */
export function caseForUser(db: Database, user: User, caseId: string, access: CaseAccess): CaseRow {
  const c = isValidId(caseId) ? getCase(db, caseId) : undefined;
  if (!c || !canView(user, c)) throw new HolocaseError('NOT_FOUND', 'no such case');
  if (access === 'edit' && !canEdit(user, c)) throw new HolocaseError('FORBIDDEN', 'you may view this case but not correct it');
  if (access === 'modify' && !canModify(user, c)) {
    throw new HolocaseError('FORBIDDEN', 'only the person who uploaded this case can change it');
  }
  return c;
}
