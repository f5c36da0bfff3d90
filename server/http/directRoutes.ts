/**
 * Routes our HTTP server answers itself, ahead of Next, with the same handlers the `app/api` route
 * files export: the GLB downloads (Next would drop `Content-Length`/`Content-Encoding`), and the CT
 * chunks and label maps of the slice views (many requests per page: no detour through Next). The Web
 * `Response` is written to the Node response unchanged. Also the status of a share link's page, which
 * Next renders but cannot give a 410.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { shareLinkStatus } from '../auth/shareLinks.ts';
import { caseGlbRoute, shareGlbRoute } from './glbRoutes.ts';
import { getRuntime } from './runtime.ts';
import { caseCtChunkRoute, caseLabelsRoute, shareCtChunkRoute, shareLabelsRoute } from './volumeRoutes.ts';

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

interface DirectRoute {
  pattern: RegExp;
  /** Names of the pattern's capture groups, in order. */
  params: string[];
  handler: Handler;
}

const ROUTES: DirectRoute[] = [
  { pattern: /^\/api\/cases\/([^/]+)\/model\.glb$/, params: ['id'], handler: caseGlbRoute as unknown as Handler },
  { pattern: /^\/api\/share\/([^/]+)\/model\.glb$/, params: ['token'], handler: shareGlbRoute as unknown as Handler },
  { pattern: /^\/api\/cases\/([^/]+)\/ct\/([^/]+)$/, params: ['id', 'chunk'], handler: caseCtChunkRoute as unknown as Handler },
  { pattern: /^\/api\/share\/([^/]+)\/ct\/([^/]+)$/, params: ['token', 'chunk'], handler: shareCtChunkRoute as unknown as Handler },
  { pattern: /^\/api\/cases\/([^/]+)\/labels$/, params: ['id'], handler: caseLabelsRoute as unknown as Handler },
  { pattern: /^\/api\/share\/([^/]+)\/labels$/, params: ['token'], handler: shareLabelsRoute as unknown as Handler },
];

function toWebRequest(req: IncomingMessage, secure: boolean): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return new Request(`${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: req.method, headers });
}

async function writeWebResponse(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
  });
  res.writeHead(response.status, headers);
  if (!response.body || head) {
    await response.body?.cancel();
    res.end();
    return;
  }
  const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  await new Promise<void>((resolve) => {
    body.pipe(res);
    res.on('close', () => {
      body.destroy();
      resolve();
    });
  });
}

/** Answers the request when it is one of ours (GET/HEAD); returns false to hand it to Next. */
export async function handleDirectRoute(req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const pathname = (req.url ?? '/').split('?')[0]!;
  for (const route of ROUTES) {
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    const params = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
    const response = await route.handler(toWebRequest(req, secure), { params: Promise.resolve(params) });
    await writeWebResponse(res, response, req.method === 'HEAD');
    return true;
  }
  return false;
}

const SHARE_PAGE = /^\/s\/([^/]+)\/?$/;

/**
 * The status the page of a share link (`/s/<token>`) must answer with, like its API: 410 for a revoked
 * or expired link, 404 for one that never existed; undefined for other requests and usable links.
 * The page itself (Next) shows the friendly message either way.
 */
export async function sharePageStatus(req: IncomingMessage): Promise<number | undefined> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const token = SHARE_PAGE.exec((req.url ?? '/').split('?')[0]!)?.[1];
  if (!token) return undefined;
  const status = shareLinkStatus((await getRuntime()).db, decodeURIComponent(token));
  return status === 200 ? undefined : status;
}
