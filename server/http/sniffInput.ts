/**
 * What an uploaded file is, from its first bytes (never from its name: names are not kept).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

export type InputKind = 'zip' | 'nifti' | 'nifti-gz' | 'dicom';

/** The extension ingest recognises for each kind. */
export const KIND_EXTENSION: Record<InputKind, string> = { zip: '.zip', nifti: '.nii', 'nifti-gz': '.nii.gz', dicom: '.dcm' };

async function head(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The first `length` bytes of a gzip file's content (undefined when it is not valid gzip). */
function gunzipHead(file: string, length: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const source = createReadStream(file);
    const gunzip = createGunzip();
    const finish = (value: Buffer | undefined) => {
      source.destroy();
      gunzip.destroy();
      resolve(value);
    };
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= length) finish(Buffer.concat(chunks).subarray(0, length));
    });
    gunzip.on('end', () => finish(Buffer.concat(chunks)));
    gunzip.on('error', () => finish(undefined));
    source.on('error', () => finish(undefined));
    source.pipe(gunzip);
  });
}

function isNiftiHeader(b: Buffer): boolean {
  if (b.length < 348) return false;
  const size = b.readInt32LE(0);
  const sizeBE = b.readInt32BE(0);
  if (size === 348 || sizeBE === 348) {
    const magic = b.subarray(344, 348).toString('latin1');
    return magic === 'n+1\0' || magic === 'ni1\0';
  }
  if ((size === 540 || sizeBE === 540) && b.length >= 8) return b.subarray(4, 8).toString('latin1').startsWith('n+2');
  return false;
}

function isDicom(b: Buffer): boolean {
  if (b.length >= 132 && b.subarray(128, 132).toString('latin1') === 'DICM') return true;
  // No preamble: starts with a group 0002 or 0008 element (little endian), as some exporters write.
  if (b.length < 8) return false;
  const group = b.readUInt16LE(0);
  return (group === 0x0002 || group === 0x0008) && b.readUInt16LE(2) < 0x0100;
}

export async function sniffInput(file: string): Promise<InputKind | undefined> {
  const b = await head(file, 512);
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6)) return 'zip';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    const inner = await gunzipHead(file, 540);
    return inner && isNiftiHeader(inner) ? 'nifti-gz' : undefined;
  }
  if (isNiftiHeader(b)) return 'nifti';
  if (isDicom(b)) return 'dicom';
  return undefined;
}
