/**
 * Writes a file so that readers see either nothing or the whole file: the bytes go to a temporary
 * name beside the target, which is then renamed into place (atomic on one file system). On failure
 * the temporary file is removed. A list of byte arrays is written one after the other.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomically(file: string, bytes: Uint8Array | string | Iterable<Uint8Array>): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
