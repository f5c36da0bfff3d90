/**
 * Structured JSON logs (pino). What may appear: ids (case, job, request, user), stages, timings, sizes,
 * status codes, error codes. What never appears: patient identifiers, original file names, labels typed
 * by users, passwords, session or share tokens (`redact` below is the safety net, not the policy).
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level; `silent` turns logging off. */
  level?: string;
  /** Bound to every line, e.g. `{ role: 'worker' }`. */
  bindings?: Record<string, unknown>;
  /** Write synchronously to this file descriptor (default 1, stdout). */
  fd?: number;
}

export const DEFAULTS = { level: 'info', fd: 1 } as const;

/** Field paths blanked if a caller ever logs them by mistake. */
const REDACT = [
  'password',
  'token',
  'cookie',
  'headers.cookie',
  'headers.authorization',
  'req.headers.cookie',
  'filename',
  'fileName',
  'label',
  '*.password',
  '*.token',
  '*.filename',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? DEFAULTS.level,
      base: { app: 'holocase', pid: process.pid, ...options.bindings },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: options.fd ?? DEFAULTS.fd, sync: true }),
  );
}

/**
 * A URL path safe to log: share tokens (`/s/<token>`, `/api/share/<token>`) replaced, query dropped.
 */
export function loggablePath(url: string): string {
  const pathOnly = url.split('?')[0] ?? '';
  return pathOnly.replace(/^\/(s|api\/share)\/[^/]+/, '/$1/:token');
}
