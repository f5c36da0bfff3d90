// Revoke a share link (by its id, not its token): it stops working at once.
import { apiRoute } from '../../../../server/http/apiRoute.ts';
import { caseForUser } from '../../../../server/auth/caseAccess.ts';
import { getShare, revokeShare } from '../../../../server/auth/shareLinks.ts';
import { isValidId } from '../../../../server/store/caseFolders.ts';
import { HolocaseError } from '../../../../server/errors.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export const DELETE = apiRoute<{ id: string }>({ auth: 'user' }, async ({ rt, user, params }) => {
  const share = isValidId(params.id) ? getShare(rt.db, params.id) : undefined;
  if (!share) throw new HolocaseError('NOT_FOUND', 'no such share link');
  caseForUser(rt.db, user!, share.caseId, 'modify');
  revokeShare(rt.db, share.id);
  rt.log.info({ shareId: share.id, userId: user!.id }, 'share link revoked');
  return new Response(null, { status: 204 });
});
