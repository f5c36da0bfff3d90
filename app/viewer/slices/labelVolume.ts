/**
 * A case's label map in the browser: downloaded as the server stores it (a gzip NIfTI-1 file on the CT
 * grid), inflated by the browser as it streams in, and written straight into one typed array, so the
 * overlay can draw the slices that have arrived while the rest is still coming. Editing tools change
 * this array in place.
 */
import type { Vec3 } from '../../../mesh/grid.ts';

export type LabelArray = Uint8Array | Uint16Array;

export interface LabelVolume {
  dims: Vec3;
  data: LabelArray;
  /** The revision this map was loaded from. */
  revision: number;
}

export interface LoadLabelVolumeOptions {
  signal: AbortSignal;
  /** Called as voxels arrive (count filled so far, in storage order). */
  onProgress?: (volume: LabelVolume, voxelsLoaded: number) => void;
}

/** Why the label map did not load, in words for the person looking at the screen. */
export class LabelLoadError extends Error {}

const NIFTI_HEADER = 348;
/** NIfTI datatype codes a label map may use, with their size in bytes and whether they are signed. */
const LABEL_TYPES: Record<number, { bytes: 1 | 2 | 4; signed: boolean }> = {
  2: { bytes: 1, signed: false },
  256: { bytes: 1, signed: true },
  4: { bytes: 2, signed: true },
  512: { bytes: 2, signed: false },
  8: { bytes: 4, signed: true },
  768: { bytes: 4, signed: false },
};

interface LabelHeader {
  dims: Vec3;
  datatype: number;
  voxOffset: number;
}

function parseHeader(bytes: Uint8Array): LabelHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, NIFTI_HEADER);
  if (view.getInt32(0, true) !== NIFTI_HEADER) throw new LabelLoadError('the label map is not a little-endian NIfTI-1 file');
  const dims: Vec3 = [view.getInt16(42, true), view.getInt16(44, true), view.getInt16(46, true)];
  return { dims, datatype: view.getInt16(70, true), voxOffset: Math.round(view.getFloat32(108, true)) };
}

/**
 * 1. Stream the body through the browser's gzip inflater.
 * 2. Read the header; check it is on the CT grid (`dims`).
 * 3. Write each voxel into a `Uint8Array` (8-bit maps) or `Uint16Array` (wider ones) as it arrives.
 */
export async function loadLabelVolume(url: string, dims: Vec3, options: LoadLabelVolumeOptions): Promise<LabelVolume> {
  const response = await fetch(url, { signal: options.signal, credentials: 'same-origin', cache: 'no-cache' });
  if (!response.ok || !response.body) {
    const message = await response.json().then((b: { error?: { message?: string } }) => b.error?.message, () => undefined);
    throw new LabelLoadError(message ?? `the label map could not be downloaded (${response.status})`);
  }
  const revision = Number(response.headers.get('X-Holocase-Revision') ?? 0);
  const reader = response.body.pipeThrough(new DecompressionStream('gzip')).getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let header: LabelHeader | null = null;
  let type: { bytes: 1 | 2 | 4; signed: boolean } | undefined;
  let volume: LabelVolume | null = null;
  let filled = 0;
  const total = dims[0] * dims[1] * dims[2];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pending = pending.length ? concat(pending, value) : value;
    // 2. Header.
    if (!header) {
      if (pending.length < NIFTI_HEADER) continue;
      header = parseHeader(pending);
      type = LABEL_TYPES[header.datatype];
      if (!type) throw new LabelLoadError(`the label map holds voxels of NIfTI type ${header.datatype}, not integers`);
      if (header.dims.some((n, a) => n !== dims[a])) {
        throw new LabelLoadError(`the label map is ${header.dims.join('×')} voxels but the CT is ${dims.join('×')}`);
      }
      volume = { dims, data: type.bytes === 1 ? new Uint8Array(total) : new Uint16Array(total), revision };
    }
    if (pending.length < header.voxOffset && filled === 0) continue;
    // 3. Voxels.
    let start = filled === 0 ? header.voxOffset : 0;
    const count = Math.min(total - filled, Math.floor((pending.length - start) / type!.bytes));
    copyVoxels(pending, start, count, type!, volume!.data, filled);
    filled += count;
    start += count * type!.bytes;
    pending = pending.subarray(start);
    options.onProgress?.(volume!, filled);
  }
  if (!volume || filled < total) throw new LabelLoadError('the label map ended early');
  return volume;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function copyVoxels(src: Uint8Array, offset: number, count: number, type: { bytes: number; signed: boolean }, out: LabelArray, at: number): void {
  if (type.bytes === 1 && !type.signed) {
    out.set(src.subarray(offset, offset + count), at);
    return;
  }
  if (type.bytes === 2 && !type.signed && (src.byteOffset + offset) % 2 === 0) {
    out.set(new Uint16Array(src.buffer, src.byteOffset + offset, count), at);
    return;
  }
  const view = new DataView(src.buffer, src.byteOffset + offset, count * type.bytes);
  for (let n = 0; n < count; n++) {
    const v =
      type.bytes === 1 ? view.getInt8(n) : type.bytes === 2 ? (type.signed ? view.getInt16(2 * n, true) : view.getUint16(2 * n, true)) : view.getUint32(4 * n, true);
    out[at + n] = v < 0 ? 0 : v;
  }
}
