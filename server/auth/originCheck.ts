/**
 * Cross-site request check for state-changing requests: the browser's `Origin` (or, lacking it, the
 * `Referer`) must be this server's origin — scheme and host both, so a page on `http://` cannot act on
 * an `https://` server of the same name. With a session cookie one of them is required; without one
 * (scripts signing in with curl) a present header must still match.
 */
import { HolocaseError } from '../errors.ts';

export interface OriginCheckOptions {
  /** The request carries a session cookie. */
  hasSession: boolean;
  /** Take the host and scheme from `X-Forwarded-Host` / `X-Forwarded-Proto` (a trusted reverse proxy is in front). */
  trustProxy: boolean;
  /** This server is reached over HTTPS (when no trusted proxy says otherwise). */
  secure: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const first = (value: string | null | undefined) => value?.split(',')[0]?.trim() || undefined;

/** This server's origin as the browser sees it (`https://holo.lan:3000`), or undefined without a Host. */
export function expectedOrigin(headers: Headers, options: Pick<OriginCheckOptions, 'trustProxy' | 'secure'>): string | undefined {
  const host = (options.trustProxy && first(headers.get('x-forwarded-host'))) || headers.get('host');
  const scheme = (options.trustProxy && first(headers.get('x-forwarded-proto'))) || (options.secure ? 'https' : 'http');
  if (!host) return undefined;
  try {
    return new URL(`${scheme}://${host}`).origin.toLowerCase();
  } catch {
    return undefined;
  }
}

export function checkOrigin(method: string, headers: Headers, options: OriginCheckOptions): void {
  if (SAFE_METHODS.has(method.toUpperCase())) return;
  const source = headers.get('origin') ?? headers.get('referer');
  if (!source || source === 'null') {
    if (options.hasSession) throw new HolocaseError('FORBIDDEN', 'this request must come from a holocase page (no Origin header)');
    return;
  }
  let sourceOrigin: string;
  try {
    sourceOrigin = new URL(source).origin.toLowerCase();
  } catch {
    throw new HolocaseError('FORBIDDEN', 'the Origin header is not a valid URL');
  }
  if (sourceOrigin !== expectedOrigin(headers, options)) {
    throw new HolocaseError('FORBIDDEN', 'this request came from another site');
  }
}
