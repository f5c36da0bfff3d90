// Change the signed-in user's password (required once after a one-time password).
import { z } from 'zod';
import { apiRoute, jsonResponse, readJson } from '../../../../server/http/apiRoute.ts';
import { changePassword, sessionUserView } from '../../../../server/auth/signIn.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const Body = z.object({ currentPassword: z.string().min(1).max(256), newPassword: z.string().min(1).max(256) });

export const POST = apiRoute({ auth: 'user', beforePasswordChange: true }, async ({ request, rt, log, user, sessionToken, clientIp }) => {
  const body = await readJson(request, Body);
  const updated = await changePassword({ ...rt, log }, user!, sessionToken, body, clientIp);
  return jsonResponse({ user: sessionUserView(updated) });
});
