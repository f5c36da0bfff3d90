/**
 * The key a received series is remembered by: HMAC-SHA256 of its Study and Series Instance UIDs with a
 * secret of this install. The UIDs themselves are never stored (PS3.15's basic profile replaces them,
 * and they can be looked up in the hospital's systems); without the secret the key cannot be matched
 * to a study, with it the same study sent again finds its case. The secret lives in
 * `<data>/pacs/study-key` (made on first use, readable only by the service account).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type StudyKey = (studyInstanceUid: string, seriesInstanceUid: string) => string;

/** The install's key function; the secret is read (or made) on first use. */
export function studyKeyOf(dataDir: string): StudyKey {
  let secret: Buffer | undefined;
  return (study, series) => {
    secret ??= readOrMakeSecret(path.join(dataDir, 'pacs', 'study-key'));
    return createHmac('sha256', secret).update(`${study.trim()}\\${series.trim()}`).digest('hex');
  };
}

function readOrMakeSecret(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const secret = randomBytes(32);
    try {
      writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
      return secret;
    } catch {
      return readFileSync(file); // made at the same moment by another process: use that one
    }
  }
}
