/**
 * Limits guessing: counts failures (wrong share codes, wrong passwords) per key — a client address, an
 * account — within a sliding window; once a key has `perKey` failures in the window, it gets 429 with
 * `Retry-After` until the oldest of them leaves the window. Successes are not counted. There is no
 * overall count: one attacker must never be able to lock everybody out.
 *
 * The table is bounded: at most `maxKeys` keys, each keeping at most `perKey` timestamps; past that the
 * key whose last failure is oldest is forgotten first. In memory: one web server process is the only
 * place these requests arrive.
 */
import { isIP } from 'node:net';
import { HolocaseError } from '../errors.ts';

export interface FailureLimiterOptions {
  /** Window length in milliseconds. */
  windowMs: number;
  /** Failures allowed per key within the window. */
  perKey: number;
  /** Most keys remembered (default 10 000). */
  maxKeys?: number;
  /** What the 429 says (default: "too many wrong attempts; wait a little and try again"). */
  message?: string;
}

export const DEFAULTS = { maxKeys: 10_000, message: 'too many wrong attempts; wait a little and try again' } as const;

export interface FailureLimiter {
  /** Throws RATE_LIMITED (429, `retryAfterSeconds` set) when `key` may not try now. */
  check(key: string, now?: number): void;
  /** Whether `key` is limited now (no throw). */
  limited(key: string, now?: number): boolean;
  fail(key: string, now?: number): void;
  /** Keys remembered now (never more than `maxKeys`). */
  size(): number;
}

export type RateLimitedError = HolocaseError & { retryAfterSeconds: number };

export function rateLimited(message: string, retryAtMs: number, now: number): RateLimitedError {
  const error = new HolocaseError('RATE_LIMITED', message) as RateLimitedError;
  error.retryAfterSeconds = Math.max(1, Math.ceil((retryAtMs - now) / 1000));
  return error;
}

export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const o = { ...DEFAULTS, ...options };
  // Map order is least recently failed first: a failure moves its key to the end.
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number): number[] => {
    const times = failures.get(key);
    if (!times) return [];
    while (times.length > 0 && times[0]! <= now - o.windowMs) times.shift();
    if (times.length === 0) failures.delete(key);
    return times;
  };
  const retryAt = (key: string, now: number): number | undefined => {
    const times = recent(key, now);
    return times.length >= o.perKey ? times[times.length - o.perKey]! + o.windowMs : undefined;
  };
  return {
    check(key, now = Date.now()) {
      const at = retryAt(key, now);
      if (at !== undefined) throw rateLimited(o.message, at, now);
    },
    limited(key, now = Date.now()) {
      return retryAt(key, now) !== undefined;
    },
    fail(key, now = Date.now()) {
      const times = recent(key, now);
      failures.delete(key);
      times.push(now);
      if (times.length > o.perKey) times.shift();
      failures.set(key, times);
      while (failures.size > o.maxKeys) failures.delete(failures.keys().next().value!);
    },
    size() {
      return failures.size;
    },
  };
}

/**
 * The key a client address is counted under: IPv4 as it is (an IPv4-mapped IPv6 address as IPv4), IPv6
 * by its /64 network — one host usually holds a whole /64, so counting single IPv6 addresses would let
 * it try without end.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
