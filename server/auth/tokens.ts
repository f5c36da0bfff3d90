/**
 * Random bearer secrets (session tokens, share tokens) and their stored form: only the SHA-256 hash
 * is kept, so a copy of the database opens nothing.
 */
import { createHash, randomBytes } from 'node:crypto';

/** `bytes` random bytes as base64url (16 → 128 bits, 22 characters). */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
