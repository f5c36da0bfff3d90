/**
 * Who may try a password now. Wrong passwords are counted per client address (whatever the account)
 * and per account (whatever the address), never overall, so a flood of guesses from other machines
 * cannot lock out the rest of the hospital:
 *
 * - an address with `perAddress` wrong passwords in the window gets 429, for every account;
 * - an account with `perAccount` wrong passwords in the window (a distributed guess at one person's
 *   password) gets 429 from every address except those it signed in from successfully in the last
 *   `knownAddressDays` days: its owner at their usual workstation is not locked out by someone else.
 *
 * Both tables are bounded (see `failureLimiter`); unknown user names are counted like real ones, so the
 * answers do not tell which accounts exist.
 */
import { addressKey, createFailureLimiter } from '../http/failureLimiter.ts';

export interface SignInGuardOptions {
  /** Window length in milliseconds (default 15 minutes). */
  windowMs?: number;
  /** Wrong passwords allowed per client address within the window (default 10). */
  perAddress?: number;
  /** Wrong passwords allowed per account within the window, from addresses it is not known at (default 20). */
  perAccount?: number;
  /** Most addresses and accounts remembered in each table (default 10 000). */
  maxKeys?: number;
  /** How long a successful sign-in makes an address known for its account (default 30 days). */
  knownAddressDays?: number;
  /** Most known addresses kept per account (default 10; the least recently used is forgotten). */
  knownAddressesPerAccount?: number;
}

export const DEFAULTS: Required<SignInGuardOptions> = {
  windowMs: 15 * 60_000,
  perAddress: 10,
  perAccount: 20,
  maxKeys: 10_000,
  knownAddressDays: 30,
  knownAddressesPerAccount: 10,
};

export interface SignInGuard {
  /** Throws RATE_LIMITED (429 + `retryAfterSeconds`) when this address may not try this account now. */
  check(account: string, address: string, now?: number): void;
  failed(account: string, address: string, now?: number): void;
  succeeded(account: string, address: string, now?: number): void;
}

export function createSignInGuard(options: SignInGuardOptions = {}): SignInGuard {
  const o = { ...DEFAULTS, ...options };
  const byAddress = createFailureLimiter({ windowMs: o.windowMs, perKey: o.perAddress, maxKeys: o.maxKeys });
  const byAccount = createFailureLimiter({
    windowMs: o.windowMs,
    perKey: o.perAccount,
    maxKeys: o.maxKeys,
    message: 'too many wrong passwords for this account; wait a little, or sign in from a computer you have used before',
  });
  // account → (address → last successful sign-in), least recently used first.
  const known = new Map<string, Map<string, number>>();
  const accountKey = (account: string) => account.trim().toLowerCase();
  const isKnown = (account: string, address: string, now: number) => {
    const at = known.get(account)?.get(address);
    return at !== undefined && at > now - o.knownAddressDays * 86400_000;
  };
  return {
    check(account, address, now = Date.now()) {
      const a = addressKey(address);
      const k = accountKey(account);
      byAddress.check(a, now);
      if (!isKnown(k, a, now)) byAccount.check(k, now);
    },
    failed(account, address, now = Date.now()) {
      byAddress.fail(addressKey(address), now);
      byAccount.fail(accountKey(account), now);
    },
    succeeded(account, address, now = Date.now()) {
      const k = accountKey(account);
      const addresses = known.get(k) ?? new Map<string, number>();
      const a = addressKey(address);
      addresses.delete(a);
      addresses.set(a, now);
      while (addresses.size > o.knownAddressesPerAccount) addresses.delete(addresses.keys().next().value!);
      known.delete(k);
      known.set(k, addresses);
      while (known.size > o.maxKeys) known.delete(known.keys().next().value!);
    },
  };
}
