/**
 * Gzip bombs, made for real in a second: a `.nii.gz` whose header declares a huge volume (e.g.
 * 512×512×8000 int16 = 4 GiB) followed by that many zero bytes, compressed to about 4 MB — a valid
 * gzip file (`gunzip -t` accepts it) of the kind that once took the server down.
 *
 * One mebibyte of zeros is deflated once into a byte-aligned, non-final block (a full flush), and that
 * block is repeated; the gzip trailer's CRC-32 is computed without touching 4 GiB, by applying the
 * (affine) CRC step of one mebibyte of zeros 4096 times.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { gzipSync } from 'node:zlib';

const MIB = 1024 ** 2;

/** A NIfTI-1 header (352 bytes: header + empty extension flag) for a volume of `dims` voxels of `datatype`. */
export function niftiHeader(dims: [number, number, number], datatype = 4, bitpix = 16): Buffer {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);
  header.writeInt16LE(3, 40);
  dims.forEach((n, i) => header.writeInt16LE(n, 42 + 2 * i));
  for (let d = 4; d <= 7; d++) header.writeInt16LE(1, 40 + 2 * d);
  header.writeInt16LE(datatype, 70);
  header.writeInt16LE(bitpix, 72);
  header.writeFloatLE(1, 76);
  for (let i = 0; i < 3; i++) header.writeFloatLE(1, 80 + 4 * i);
  header.writeFloatLE(352, 108);
  header.writeFloatLE(1, 112);
  header.write('n+1\0', 344, 'latin1');
  return header;
}

/** CRC-32 after `mebibytes` MiB of zeros, starting from `crc`, without computing over them. */
function crcAfterZeros(crc: number, mebibytes: number): number {
  // One MiB of zeros maps the CRC affinely: f(c) = L(c) ⊕ f(0). Find L from the 32 unit vectors.
  const zeros = Buffer.alloc(MIB);
  const base = crc32(zeros, 0);
  const columns = Array.from({ length: 32 }, (_, bit) => (crc32(zeros, (1 << bit) >>> 0) ^ base) >>> 0);
  let c = crc >>> 0;
  for (let i = 0; i < mebibytes; i++) {
    let next = base;
    for (let bit = 0; bit < 32; bit++) if ((c >>> bit) & 1) next ^= columns[bit]!;
    c = next >>> 0;
  }
  return c;
}

/** A gzip file holding the NIfTI `header` followed by `zeroMebibytes` MiB of zeros. */
export function gzipBombNifti(dims: [number, number, number] = [512, 512, 8000], datatype = 4, bitpix = 16): Buffer {
  const header = niftiHeader(dims, datatype, bitpix);
  const zeroBytes = dims[0] * dims[1] * dims[2] * (bitpix / 8);
  if (zeroBytes % MIB !== 0) throw new Error('the voxel data must be a whole number of MiB');
  const mebibytes = zeroBytes / MIB;
  const headBlock = deflateRawSync(header, { finishFlush: constants.Z_FULL_FLUSH });
  const zeroBlock = deflateRawSync(Buffer.alloc(MIB), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const last = deflateRawSync(Buffer.alloc(0));
  const gzipHead = gzipSync(Buffer.alloc(0)).subarray(0, 10);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crcAfterZeros(crc32(header), mebibytes), 0);
  trailer.writeUInt32LE((header.length + zeroBytes) % 2 ** 32, 4);
  const out = Buffer.alloc(10 + headBlock.length + zeroBlock.length * mebibytes + last.length + 8);
  let at = 0;
  for (const part of [gzipHead, headBlock]) at += part.copy(out, at);
  for (let i = 0; i < mebibytes; i++) at += zeroBlock.copy(out, at);
  for (const part of [last, trailer]) at += part.copy(out, at);
  return out;
}
