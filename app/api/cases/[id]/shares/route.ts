// Share links of a case: create ({ expiresInDays? } → url, token, code, expiresAt) and list.
import { z } from 'zod';
import { apiRoute, jsonResponse, readJson } from '../../../../../server/http/apiRoute.ts';
import { caseForUser } from '../../../../../server/auth/caseAccess.ts';
import { createShare, listShares } from '../../../../../server/auth/shareLinks.ts';
import { HolocaseError } from '../../../../../server/errors.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const Body = z.object({ expiresInDays: z.number().positive().optional() });

export const GET = apiRoute<{ id: string }>({ auth: 'user' }, async ({ rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'modify');
  return jsonResponse({ shares: listShares(rt.db, c.id) });
});

export const POST = apiRoute<{ id: string }>({ auth: 'user' }, async ({ request, rt, user, params }) => {
  const c = caseForUser(rt.db, user!, params.id, 'modify');
  if (!c.glbEtag) throw new HolocaseError('CONFLICT', 'a case can be shared once it has been processed');
  const body = await readJson(request, Body, { optional: true });
  const share = createShare(rt.db, c.id, {
    expiresInDays: body.expiresInDays ?? rt.config.shareDefaultDays,
    maxDays: rt.config.shareMaxDays,
    createdBy: user!.id,
  });
  rt.log.info({ caseId: c.id, shareId: share.id, userId: user!.id }, 'share link created');
  return jsonResponse(share, { status: 201 });
});
