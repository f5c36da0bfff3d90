/**
 * Label maps on the wire to the editing API: uint16 little-endian voxels (x fastest), gzip-compressed
 * by the browser's own `CompressionStream` a slab at a time (a 512×512×600 map never exists twice in
 * memory), and boxes of the grid cut out of the map or written back.
 */
import type { Vec3 } from '../../../mesh/grid.ts';
import type { LabelArray } from '../slices/labelVolume.ts';
import type { Box } from '../slices/renderSlice.ts';

/** Voxels converted and compressed per step. */
const STEP = 1 << 22;

/** Gzip of `values` as uint16 little-endian. */
export async function gzipUint16(values: LabelArray): Promise<Blob> {
  const stream = new CompressionStream('gzip');
  const compressed = new Response(stream.readable).blob();
  const writer = stream.writable.getWriter();
  for (let start = 0; start < values.length; start += STEP) {
    const part = values.subarray(start, Math.min(values.length, start + STEP));
    const wide = part instanceof Uint16Array ? part.slice() : Uint16Array.from(part);
    await writer.ready;
    await writer.write(new Uint8Array(wide.buffer));
  }
  await writer.close();
  return compressed;
}

/** Inflates a gzip body of `count` uint16 values. */
export async function gunzipUint16(body: Blob, count: number): Promise<Uint16Array> {
  const bytes = new Uint8Array(await new Response(body.stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  if (bytes.byteLength !== count * 2) throw new Error(`the server sent ${bytes.byteLength / 2} values for a box of ${count}`);
  return new Uint16Array(bytes.buffer);
}

export function boxVoxels(box: Box): number {
  return (box[3] - box[0]) * (box[4] - box[1]) * (box[5] - box[2]);
}

/** The label values inside `box`, x fastest. */
export function labelsInBox(labels: LabelArray, dims: Vec3, box: Box): Uint16Array {
  const [nx, ny] = dims;
  const out = new Uint16Array(boxVoxels(box));
  let n = 0;
  for (let k = box[2]; k < box[5]; k++) {
    for (let j = box[1]; j < box[4]; j++) {
      const row = j * nx + k * nx * ny;
      for (let i = box[0]; i < box[3]; i++) out[n++] = labels[row + i];
    }
  }
  return out;
}

/** Bounding box of `label`'s voxels grown by `margin` voxels and clamped to the grid, or null when it has none. */
export function labelBox(labels: LabelArray, dims: Vec3, label: number, margin = 1): Box | null {
  const [nx, ny, nz] = dims;
  const lo = [nx, ny, nz];
  const hi = [-1, -1, -1];
  for (let k = 0, n = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        if (labels[n] !== label) continue;
        if (i < lo[0]) lo[0] = i;
        if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k;
        if (k > hi[2]) hi[2] = k;
      }
    }
  }
  if (hi[0] < 0) return null;
  return growBox(lo, hi, [margin, margin, margin], dims);
}

/** The box from `lo` to `hi` (inclusive voxel bounds) grown by `margin` voxels per axis, clamped to the grid. */
export function growBox(lo: number[], hi: number[], margin: number[], dims: Vec3): Box {
  const box: Box = [0, 0, 0, 0, 0, 0];
  for (let a = 0; a < 3; a++) {
    box[a] = Math.max(0, lo[a] - margin[a]);
    box[a + 3] = Math.min(dims[a], hi[a] + margin[a] + 1);
  }
  return box;
}
