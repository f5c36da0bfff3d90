// A typed share code ({ code }) → a fresh share URL; wrong codes are rate-limited (429 + Retry-After).
import { z } from 'zod';
import { apiRoute, jsonResponse, readJson } from '../../../server/http/apiRoute.ts';
import { redeemShareCode } from '../../../server/auth/shareLinks.ts';
import { isHolocaseError } from '../../../server/errors.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const Body = z.object({ code: z.string().min(1).max(32) });

export const POST = apiRoute({ auth: 'none' }, async ({ request, rt, clientIp }) => {
  rt.shareCodeLimiter.check(clientIp);
  const body = await readJson(request, Body);
  try {
    const { url, expiresAt } = redeemShareCode(rt.db, body.code);
    return jsonResponse({ url, expiresAt });
  } catch (error) {
    if (isHolocaseError(error) && (error.code === 'NOT_FOUND' || error.code === 'GONE')) rt.shareCodeLimiter.fail(clientIp);
    throw error;
  }
});
