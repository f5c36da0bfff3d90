/**
 * Limits guessing: counts failures (wrong share codes, wrong passwords) per client address and in
 * total within a sliding window; when either count is reached, further attempts get 429 with
 * `Retry-After` until the oldest failure leaves the window. Successes are not counted. In memory:
 * one web server process is the only place these requests arrive.
 */
import { HolocaseError } from '../errors.ts';

export interface FailureLimiterOptions {
  /** Window length in milliseconds. */
  windowMs: number;
  /** Failures allowed per key (client address) within the window. */
  perKey: number;
  /** Failures allowed from everyone together within the window. */
  global: number;
}

export interface FailureLimiter {
  /** Throws RATE_LIMITED (429, `retryAfterSeconds` set) when `key` may not try now. */
  check(key: string, now?: number): void;
  fail(key: string, now?: number): void;
}

export type RateLimitedError = HolocaseError & { retryAfterSeconds: number };

export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const perKey = new Map<string, number[]>();
  const all: number[] = [];
  const prune = (times: number[], now: number) => {
    while (times.length > 0 && times[0]! <= now - options.windowMs) times.shift();
  };
  const limited = (retryAtMs: number, now: number): never => {
    const error = new HolocaseError('RATE_LIMITED', 'too many wrong attempts; wait a little and try again') as RateLimitedError;
    error.retryAfterSeconds = Math.max(1, Math.ceil((retryAtMs - now) / 1000));
    throw error;
  };
  return {
    check(key, now = Date.now()) {
      prune(all, now);
      const mine = perKey.get(key);
      if (mine) {
        prune(mine, now);
        if (mine.length === 0) perKey.delete(key);
        else if (mine.length >= options.perKey) limited(mine[0]! + options.windowMs, now);
      }
      if (all.length >= options.global) limited(all[0]! + options.windowMs, now);
    },
    fail(key, now = Date.now()) {
      const mine = perKey.get(key) ?? [];
      mine.push(now);
      perKey.set(key, mine);
      all.push(now);
      if (perKey.size > 10_000) {
        for (const [k, times] of perKey) {
          prune(times, now);
          if (times.length === 0) perKey.delete(k);
        }
      }
    },
  };
}
