/**
 * Password hashing with scrypt (node:crypto), a random 16-byte salt per password, parameters stored
 * with the hash so they can be raised later: `scrypt$N$r$p$<salt b64>$<hash b64>`.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { randomCharacters } from './tokens.ts';

export interface PasswordOptions {
  /** CPU/memory cost (power of two). 2^15 with r = 8 takes ~32 MiB and ~60 ms here. */
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

export const DEFAULTS: PasswordOptions = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };

function derive(password: string, salt: Buffer, o: PasswordOptions): Promise<Buffer> {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, o.keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPassword(password: string, options: Partial<PasswordOptions> = {}): Promise<string> {
  const o = { ...DEFAULTS, ...options };
  const salt = randomBytes(16);
  const key = await derive(password, salt, o);
  return ['scrypt', o.N, o.r, o.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Constant-time comparison; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), { N: Number(N), r: Number(r), p: Number(p), keyLength: expected.length });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password, verified against when the user does not exist (equal timing). */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

const OTP_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A one-time password for a new account: 16 characters (~79 bits), no look-alike characters. */
export function oneTimePassword(length = 16): string {
  return randomCharacters(OTP_ALPHABET, length);
}

/** What a new password must satisfy, in words. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 10) return 'the new password must have at least 10 characters';
  if (password.length > 256) return 'the new password must have at most 256 characters';
  return undefined;
}
