/**
 * The one process that serves HTTP(S): a Node `http`/`https` server handing every request to Next's
 * handler (pages and `app/api` route handlers). It adds a request id, the client address header the
 * routes trust (from the socket, replacing whatever the client sent), the security headers (with a
 * per-response script nonce Next applies), and one log line per request (path with share tokens
 * masked, no query, no bodies). A path with a malformed percent-escape is answered 400 here, before
 * anything tries to decode it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import next from 'next';
import { loggablePath, type Logger } from '../log.ts';
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER } from './apiRoute.ts';
import { handleDirectRoute, sharePageStatus } from './directRoutes.ts';
import { contentSecurityPolicy, newNonce, securityHeaders } from './securityHeaders.ts';

export interface StartServerOptions {
  projectRoot: string;
  port: number;
  host: string;
  log: Logger;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
}

export interface RunningServer {
  server: http.Server;
  /** Addresses people (and headsets) can open. */
  urls: string[];
  port: number;
  close(): Promise<void>;
}

/** URLs for the address the server listens on (every LAN address for 0.0.0.0 / ::). */
export function serverUrls(protocol: 'http' | 'https', host: string, port: number): string[] {
  const hosts: string[] = [];
  if (host === '0.0.0.0' || host === '::') {
    hosts.push('localhost');
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const a of addresses ?? []) if (!a.internal && a.family === 'IPv4') hosts.push(a.address);
    }
  } else hosts.push(host.includes(':') ? `[${host}]` : host);
  return hosts.map((h) => `${protocol}://${h}:${port}/`);
}

/** How much of an unread request body (after a 413 or 401 on an upload) is read and dropped. */
export const DRAIN_LIMITS = { bytes: 64 * 1024 ** 2, ms: 30_000 } as const;

/**
 * A response went out before the request body was read (413, 415, 401 on an upload). Reading and
 * dropping a little more lets the client finish sending and see the answer (closing at once makes many
 * clients report a reset instead); past `DRAIN_LIMITS` the connection is closed.
 */
function discardUnreadBody(req: IncomingMessage): void {
  let bytes = 0;
  const timer = setTimeout(() => req.destroy(), DRAIN_LIMITS.ms);
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > DRAIN_LIMITS.bytes) req.destroy();
  });
  // Once the body has been read the connection may carry the client's next request: leave it alone.
  req.on('end', () => clearTimeout(timer));
  req.on('close', () => clearTimeout(timer));
  req.resume();
}

/** Whether every percent-escape in the request's path decodes (`%ff` alone does not). */
export function hasDecodablePath(url: string): boolean {
  try {
    decodeURIComponent(url.split('?')[0] ?? '');
    return true;
  } catch {
    return false;
  }
}

/** Makes the response answer `status` whatever the page renderer sets (Next cannot send a 410). */
function forceStatus(res: ServerResponse, status: number): void {
  const writeHead = res.writeHead.bind(res) as (code: number, ...rest: unknown[]) => ServerResponse;
  res.writeHead = ((_code: number, ...rest: unknown[]) => writeHead(status, ...rest)) as ServerResponse['writeHead'];
  Object.defineProperty(res, 'statusCode', { get: () => status, set: () => {}, configurable: true });
}

function answerJson(res: ServerResponse, status: number, code: string, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify({ error: { code, message } }));
}

/**
 * 1. Prepare Next in production mode from the project root (build folder from `HOLOCASE_NEXT_DIR`).
 * 2. Create the server; uploads may take long, so there is no whole-request timeout (uploads have an
 *    idle timeout of their own).
 * 3. Listen and report the URLs.
 */
export async function startServer(o: StartServerOptions): Promise<RunningServer> {
  const app = next({ dev: false, dir: o.projectRoot, quiet: true });
  await app.prepare();
  const handle = app.getRequestHandler();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const reqId = randomUUID();
    req.headers[REQUEST_ID_HEADER] = reqId;
    req.headers[CLIENT_IP_HEADER] = req.socket.remoteAddress ?? 'unknown';
    res.setHeader('X-Request-Id', reqId);
    // Security headers; the policy also goes on the request, where Next finds the nonce for its scripts.
    const nonce = newNonce();
    req.headers['content-security-policy'] = contentSecurityPolicy(nonce);
    for (const [name, value] of Object.entries(securityHeaders({ nonce, https: Boolean(o.tls) }))) res.setHeader(name, value);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      o.log.info({ reqId, method: req.method, path: loggablePath(req.url ?? '/'), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
      if (!req.complete) discardUnreadBody(req);
    });
    if (!hasDecodablePath(req.url ?? '/')) {
      answerJson(res, 400, 'BAD_REQUEST', 'the address has a malformed percent-escape');
      return;
    }
    handleDirectRoute(req, res, Boolean(o.tls))
      .then(async (answered) => {
        if (answered) return;
        const status = await sharePageStatus(req);
        if (status) forceStatus(res, status);
        await handle(req, res);
      })
      .catch((error: unknown) => {
        o.log.error({ err: error, reqId }, 'request handler failed');
        if (!res.headersSent) answerJson(res, 500, 'INTERNAL', 'something went wrong on the server');
        else res.destroy();
      });
  };
  const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, onRequest) : http.createServer(onRequest);
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return {
    server,
    port,
    urls: serverUrls(o.tls ? 'https' : 'http', o.host, port),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await app.close();
    },
  };
}
