/**
 * The label maps the editor sends and receives: gzip of uint16 little-endian values, x fastest, over
 * the CT grid or a box of it. Inflation stops one byte past the expected size, so a small body that
 * claims (or hides) gigabytes costs nothing.
 */
import { promisify } from 'node:util';
import { gunzip, gzip, constants as zlibConstants } from 'node:zlib';
import { HolocaseError } from '../errors.ts';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/** `gz` inflated to exactly `count` uint16 values; 400 for another size, 413 past it. */
export async function inflateLabels(gz: Uint8Array, count: number, what: string): Promise<Uint16Array> {
  const expected = count * 2;
  let raw: Buffer;
  try {
    raw = await gunzipAsync(gz, { maxOutputLength: expected + 1, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HolocaseError('INPUT_TOO_LARGE', `${what} inflates to more than the ${count} uint16 values its grid holds`);
    }
    throw new HolocaseError('BAD_REQUEST', `${what} is not a readable gzip stream (${(error as Error).message})`);
  }
  if (raw.length !== expected) {
    throw new HolocaseError('BAD_REQUEST', `${what} holds ${raw.length} bytes once inflated; its grid needs ${count} uint16 values (${expected} bytes)`);
  }
  const out = new Uint16Array(count);
  new Uint8Array(out.buffer).set(raw);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) for (let p = 0; p < count; p++) out[p] = ((out[p] & 0xff) << 8) | (out[p] >> 8);
  return out;
}

/** Labels as the editor reads them back: gzip of uint16 little-endian. */
export async function deflateLabels(labels: Uint16Array): Promise<Buffer> {
  return gzipAsync(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength), { level: 6 });
}
