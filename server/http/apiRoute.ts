/**
 * The shape every `app/api/.../route.ts` handler shares: find the runtime, read the session, check the
 * origin of state-changing requests, require sign-in where asked, and turn any error into
 * `{ error: { code, message } }` with its status (HolocaseError → its status; anything else → 500 with
 * a generic message, the details only in the log).
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { HolocaseError, isHolocaseError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { checkOrigin } from '../auth/originCheck.ts';
import { readCookie, SESSION_COOKIE, userForSession } from '../auth/sessions.ts';
import type { User } from '../auth/users.ts';
import { getRuntime, type Runtime } from './runtime.ts';

export interface ApiContext<P> {
  request: Request;
  params: P;
  rt: Runtime;
  /** The signed-in user (always set when the route requires sign-in). */
  user: User | undefined;
  sessionToken: string | undefined;
  requestId: string;
  /** The client's address (see `clientAddress`). */
  clientIp: string;
  log: Logger;
}

export interface ApiRouteOptions {
  /** `user`: 401 without a session; `optional`: user may be undefined; `none`: no session read. */
  auth: 'user' | 'optional' | 'none';
  /** Allowed while the user still has to change a one-time password. */
  beforePasswordChange?: boolean;
}

/** Header our HTTP server sets from the socket (incoming values are replaced). */
export const CLIENT_IP_HEADER = 'x-holocase-client-ip';
export const REQUEST_ID_HEADER = 'x-request-id';

type RouteContext<P> = { params: Promise<P> };

export function apiRoute<P = Record<string, never>>(
  options: ApiRouteOptions,
  handler: (ctx: ApiContext<P>) => Promise<Response>,
): (request: Request, context: RouteContext<P>) => Promise<Response> {
  return async (request, context) => {
    const requestId = request.headers.get(REQUEST_ID_HEADER) ?? randomUUID();
    let log: Logger | undefined;
    try {
      const rt = await getRuntime();
      log = rt.log.child({ reqId: requestId });
      const sessionToken = options.auth === 'none' ? undefined : readCookie(request.headers.get('cookie'), SESSION_COOKIE);
      checkOrigin(request.method, request.headers, { hasSession: sessionToken !== undefined, trustProxy: rt.config.trustProxy, secure: rt.secure });
      const user = userForSession(rt.db, sessionToken);
      if (options.auth === 'user') {
        if (!user) throw new HolocaseError('UNAUTHORIZED', 'sign in first');
        if (user.mustChangePassword && !options.beforePasswordChange) {
          throw new HolocaseError('FORBIDDEN', 'change your one-time password first (POST /api/session/password)');
        }
      }
      const clientIp = clientAddress(request.headers, rt.clientAddressSource);
      const params = ((await context?.params) ?? {}) as P;
      return await handler({ request, params, rt, user, sessionToken, requestId, clientIp, log });
    } catch (error) {
      return errorResponse(error, log, requestId);
    }
  };
}

/**
 * The client's address as the runtime may trust it: the proxy's `X-Forwarded-For` (first entry) under
 * `trustProxy`, the socket's address our server wrote, or `unknown` — never a header a client could
 * have written itself.
 */
export function clientAddress(headers: Headers, source: Runtime['clientAddressSource']): string {
  if (source === 'proxy') return headers.get('x-forwarded-for')?.split(',')[0]?.trim() || headers.get(CLIENT_IP_HEADER) || 'unknown';
  if (source === 'socket') return headers.get(CLIENT_IP_HEADER) || 'unknown';
  return 'unknown';
}

export function errorResponse(error: unknown, log: Logger | undefined, requestId?: string): Response {
  if (isHolocaseError(error)) {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
    if (retryAfter) headers['Retry-After'] = String(retryAfter);
    if (error.status >= 500) log?.error({ errorCode: error.code }, 'request failed');
    return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status, headers });
  }
  if (log) log.error({ err: error }, 'internal error');
  else console.error(`[${requestId}] internal error`, error);
  return Response.json(
    { error: { code: 'INTERNAL', message: 'something went wrong on the server; the log has details' + (requestId ? ` (request ${requestId})` : '') } },
    { status: 500, headers: { 'Cache-Control': 'no-store' } },
  );
}

export function jsonResponse(data: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return Response.json(data, { status: init.status ?? 200, headers: { 'Cache-Control': 'no-store', ...init.headers } });
}

/** Reads a small JSON body (≤ 64 KiB) and validates it; BAD_REQUEST says what is wrong. */
export async function readJson<S extends z.ZodType>(request: Request, schema: S, options: { optional?: boolean } = {}): Promise<z.infer<S>> {
  const text = await request.text();
  if (text.length > 65536) throw new HolocaseError('BAD_REQUEST', 'the request body is too large');
  let value: unknown;
  if (text.trim() === '' && options.optional) value = {};
  else {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HolocaseError('BAD_REQUEST', 'the request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HolocaseError('BAD_REQUEST', `${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
  return parsed.data;
}
