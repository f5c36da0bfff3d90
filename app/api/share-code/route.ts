// A typed share code ({ code }) → a fresh share URL; wrong codes are rate-limited per client address (429 + Retry-After).
import { z } from 'zod';
import { apiRoute, jsonResponse, readJson } from '../../../server/http/apiRoute.ts';
import { redeemShareCode } from '../../../server/auth/shareLinks.ts';
import { isHolocaseError } from '../../../server/errors.ts';
import { addressKey } from '../../../server/http/failureLimiter.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const Body = z.object({ code: z.string().min(1).max(32) });

export const POST = apiRoute({ auth: 'none' }, async ({ request, rt, clientIp }) => {
  const address = addressKey(clientIp);
  rt.shareCodeLimiter.check(address);
  const body = await readJson(request, Body);
  try {
    const { url, expiresAt } = redeemShareCode(rt.db, body.code);
    return jsonResponse({ url, expiresAt });
  } catch (error) {
    if (isHolocaseError(error) && (error.code === 'NOT_FOUND' || error.code === 'GONE')) rt.shareCodeLimiter.fail(address);
    throw error;
  }
});
