/**
 * The one process that serves HTTP(S): a Node `http`/`https` server handing every request to Next's
 * handler (pages and `app/api` route handlers). It adds a request id, the client address header the
 * routes trust, and one log line per request (path with share tokens masked, no query, no bodies).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import next from 'next';
import { loggablePath, type Logger } from '../log.ts';
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER } from './apiRoute.ts';
import { handleDirectRoute } from './directRoutes.ts';

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
  req.on('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * 1. Prepare Next in production mode from the project root (build folder from `HOLOCASE_NEXT_DIR`).
 * 2. Create the server; uploads may take long, so there is no whole-request timeout.
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
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      o.log.info({ reqId, method: req.method, path: loggablePath(req.url ?? '/'), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
      if (!req.complete) discardUnreadBody(req);
    });
    handleDirectRoute(req, res, Boolean(o.tls))
      .then((answered) => (answered ? undefined : handle(req, res)))
      .catch((error: unknown) => {
        o.log.error({ err: error, reqId }, 'request handler failed');
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'something went wrong on the server' } }));
        } else res.destroy();
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
