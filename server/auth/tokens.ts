/**
 * Random secrets (session and share tokens, share codes, one-time passwords) and the stored form of
 * tokens and codes: only the SHA-256 hash is kept, so a copy of the database opens nothing.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';

/** `bytes` random bytes as base64url (16 → 128 bits, 22 characters). */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** `length` characters drawn uniformly from `alphabet` (for secrets a person types). */
export function randomCharacters(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
