/**
 * Cross-site request check for state-changing requests: the browser's `Origin` (or, lacking it, the
 * `Referer`) must name this host. With a session cookie one of them is required; without one
 * (scripts signing in with curl) a present header must still match.
 */
import { HolocaseError } from '../errors.ts';

export interface OriginCheckOptions {
  /** The request carries a session cookie. */
  hasSession: boolean;
  /** Take the host from `X-Forwarded-Host` (a trusted reverse proxy is in front). */
  trustProxy: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function checkOrigin(method: string, headers: Headers, options: OriginCheckOptions): void {
  if (SAFE_METHODS.has(method.toUpperCase())) return;
  const host = (options.trustProxy && headers.get('x-forwarded-host')?.split(',')[0]?.trim()) || headers.get('host');
  const source = headers.get('origin') ?? headers.get('referer');
  if (!source || source === 'null') {
    if (options.hasSession) throw new HolocaseError('FORBIDDEN', 'this request must come from a holocase page (no Origin header)');
    return;
  }
  let sourceHost: string;
  try {
    sourceHost = new URL(source).host;
  } catch {
    throw new HolocaseError('FORBIDDEN', 'the Origin header is not a valid URL');
  }
  if (!host || sourceHost.toLowerCase() !== host.toLowerCase()) {
    throw new HolocaseError('FORBIDDEN', 'this request came from another site');
  }
}
