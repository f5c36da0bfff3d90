// Sign in (POST {username, password}), who am I (GET), sign out (DELETE).
import { z } from 'zod';
import { apiRoute, jsonResponse, readJson } from '../../../server/http/apiRoute.ts';
import { signIn, signOutCookie, sessionUserView } from '../../../server/auth/signIn.ts';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

const Body = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });

export const GET = apiRoute({ auth: 'optional' }, async ({ user }) => jsonResponse({ user: user ? sessionUserView(user) : null }));

export const POST = apiRoute({ auth: 'none' }, async ({ request, rt, log, clientIp }) => {
  const body = await readJson(request, Body);
  const { user, cookie } = await signIn({ ...rt, log }, body, clientIp);
  return jsonResponse({ user: sessionUserView(user) }, { headers: { 'Set-Cookie': cookie } });
});

export const DELETE = apiRoute({ auth: 'optional', beforePasswordChange: true }, async ({ rt, sessionToken }) =>
  jsonResponse({ user: null }, { headers: { 'Set-Cookie': signOutCookie(rt, sessionToken) } }),
);
