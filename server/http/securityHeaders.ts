/**
 * Security headers on every response (pages, JSON, GLB downloads), set by `startServer`.
 *
 * The Content-Security-Policy lets the viewer do what it does and nothing else: scripts only from this
 * server, inline ones only with this response's nonce (Next puts it on its own inline scripts when it
 * finds the policy on the request); WebAssembly compiled in the page (the meshopt decoder of the GLB)
 * and workers from this server or blob URLs; fetches, images and models from this server (and blob/data
 * URLs a loader makes); never framed by another site. WebXR needs no source of its own.
 */
import { randomBytes } from 'node:crypto';

export interface SecurityHeaderOptions {
  /** This response's script nonce (see `newNonce`). */
  nonce: string;
  /** Served over HTTPS: add `Strict-Transport-Security`. */
  https: boolean;
}

/** A fresh base64 nonce for one response. */
export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    `default-src 'self'`,
    `script-src 'self' 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    `style-src 'self' 'unsafe-inline'`,
    `img-src 'self' data: blob:`,
    `font-src 'self' data:`,
    `connect-src 'self' data: blob:`,
    `worker-src 'self' blob:`,
    `media-src 'self' blob:`,
    `manifest-src 'self'`,
    `object-src 'none'`,
    `base-uri 'none'`,
    `form-action 'self'`,
    `frame-ancestors 'none'`,
  ].join('; ');
}

export function securityHeaders(o: SecurityHeaderOptions): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(o.nonce),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // Share tokens travel in URLs: never in a Referer.
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), xr-spatial-tracking=(self)',
    ...(o.https ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}),
  };
}
