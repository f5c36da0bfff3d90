/**
 * A CT cut into what a browser can show at once and then refine: one coarse level of the whole
 * volume (a few million voxels, box-averaged) and the full-resolution voxels in slabs of whole
 * slices along the third voxel axis, each chunk int16 and gzip-compressed on its own. The viewer
 * draws every view from the coarse level first, then replaces it slab by slab, nearest to where the
 * user is looking first (the layered, coarse-first loading of neuroglancer's multiscale volumes, with
 * chunks shaped as whole slices because every 2-D view needs whole slices). `docs/ct-streaming.md`
 * gives the reasons and the numbers.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { spacingOf, type Mat4, type Vec3, type VoxelArray } from '../../mesh/grid.ts';

const gzipAsync = promisify(gzip);

export interface VolumeChunksOptions {
  /** Uncompressed size a full-resolution slab aims at (whole slices, at least one). */
  slabBytes?: number;
  /** Largest number of voxels in the coarse level. */
  coarseMaxVoxels?: number;
  /** zlib level of every chunk (1 is within 3 % of 6 in size on CT noise, and several times faster). */
  gzipLevel?: number;
}

export const VOLUME_CHUNKS_DEFAULTS: Required<VolumeChunksOptions> = {
  slabBytes: 4 * 1024 * 1024,
  coarseMaxVoxels: 4 * 1024 * 1024,
  gzipLevel: 1,
};

/** Where a chunk's gzip bytes lie in the data file. */
export interface ChunkExtent {
  offset: number;
  bytes: number;
}

/** What a viewer needs to ask for and place every chunk. Chunk 0 is the coarse level; chunk 1 + s is slab s. */
export interface VolumeChunksManifest {
  format: 'holocase-volume-chunks';
  version: 1;
  /** Full-resolution voxel counts along i, j, k. */
  dims: Vec3;
  /** Voxel index → LPS millimetres (row-major 4×4). */
  affine: Mat4;
  /** Voxel values: signed 16-bit little-endian (Hounsfield units for CT). */
  dtype: 'int16';
  /** Smallest and largest value in the volume. */
  range: [number, number];
  coarse: {
    /** Full-resolution voxels averaged into one coarse voxel, along i, j, k. */
    factor: Vec3;
    dims: Vec3;
  };
  slabs: {
    /** Slices per slab (the last one may hold fewer). */
    depth: number;
    count: number;
  };
  chunks: ChunkExtent[];
}

export interface VolumeChunks {
  manifest: VolumeChunksManifest;
  /** Gzip bytes of each chunk, in manifest order. */
  chunks: Uint8Array[];
}

/** A volume's voxels as int16 (CT values are integers within int16's range; others are rounded and clamped). */
export function toInt16(data: VoxelArray): Int16Array {
  if (data instanceof Int16Array) return data;
  const out = new Int16Array(data.length);
  for (let n = 0; n < data.length; n++) {
    const v = Math.round(data[n]);
    out[n] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
  }
  return out;
}

/**
 * Integer factors along i, j, k that bring the volume under `maxVoxels`, keeping coarse voxels as
 * close to cubes in millimetres as the grid allows.
 */
export function coarseFactor(dims: Vec3, spacing: Vec3, maxVoxels: number): Vec3 {
  const count = (f: Vec3) => f.reduce((p, x, a) => p * Math.ceil(dims[a] / x), 1);
  let size = Math.min(...spacing);
  let factor: Vec3 = [1, 1, 1];
  while (count(factor) > maxVoxels) {
    size *= 1.1;
    factor = spacing.map((s, a) => Math.min(dims[a], Math.max(1, Math.round(size / s)))) as Vec3;
  }
  return factor;
}

/** Box-averages `data` by `factor` (the last box along an axis may be smaller). */
export function downsample(data: Int16Array, dims: Vec3, factor: Vec3): { data: Int16Array; dims: Vec3 } {
  const [nx, ny, nz] = dims;
  const [fx, fy, fz] = factor;
  const out: Vec3 = [Math.ceil(nx / fx), Math.ceil(ny / fy), Math.ceil(nz / fz)];
  const [ox, oy, oz] = out;
  const sum = new Float64Array(ox * oy);
  const count = new Uint32Array(ox * oy);
  const result = new Int16Array(ox * oy * oz);
  for (let ck = 0; ck < oz; ck++) {
    sum.fill(0);
    count.fill(0);
    for (let k = ck * fz; k < Math.min(nz, (ck + 1) * fz); k++) {
      for (let j = 0; j < ny; j++) {
        const row = (j * nx + k * nx * ny) | 0;
        const crow = ((j / fy) | 0) * ox;
        for (let i = 0; i < nx; i++) {
          const c = crow + ((i / fx) | 0);
          sum[c] += data[row + i];
          count[c]++;
        }
      }
    }
    for (let c = 0; c < ox * oy; c++) result[ck * ox * oy + c] = Math.round(sum[c] / count[c]);
  }
  return { data: result, dims: out };
}

function valueRange(data: Int16Array): [number, number] {
  let lo = 32767;
  let hi = -32768;
  for (let n = 0; n < data.length; n++) {
    const v = data[n];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return data.length ? [lo, hi] : [0, 0];
}

function bytesOf(a: Int16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * 1. Take the voxels as int16 and find their range.
 * 2. Average them into the coarse level.
 * 3. Cut the full resolution into slabs of whole slices along k.
 * 4. Gzip every chunk (in zlib's thread pool, so the chunks compress in parallel).
 */
export async function chunkVolume(volume: { dims: Vec3; affine: Mat4; data: VoxelArray }, options: VolumeChunksOptions = {}): Promise<VolumeChunks> {
  const o = { ...VOLUME_CHUNKS_DEFAULTS, ...options };
  const [nx, ny, nz] = volume.dims;
  // 1. Values.
  const data = toInt16(volume.data);
  const range = valueRange(data);
  // 2. Coarse level.
  const factor = coarseFactor(volume.dims, spacingOf(volume.affine), o.coarseMaxVoxels);
  const coarse = downsample(data, volume.dims, factor);
  // 3. Slabs.
  const slice = nx * ny;
  const depth = Math.max(1, Math.floor(o.slabBytes / (slice * 2)));
  const count = Math.ceil(nz / depth);
  const raw: Uint8Array[] = [bytesOf(coarse.data)];
  for (let s = 0; s < count; s++) raw.push(bytesOf(data.subarray(s * depth * slice, Math.min(nz, (s + 1) * depth) * slice)));
  // 4. Compression.
  const chunks = await Promise.all(raw.map((bytes) => gzipAsync(bytes, { level: o.gzipLevel }).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))));
  let offset = 0;
  const extents = chunks.map((c) => {
    const extent = { offset, bytes: c.byteLength };
    offset += c.byteLength;
    return extent;
  });
  return {
    manifest: {
      format: 'holocase-volume-chunks',
      version: 1,
      dims: [...volume.dims] as Vec3,
      affine: [...volume.affine],
      dtype: 'int16',
      range,
      coarse: { factor, dims: coarse.dims },
      slabs: { depth, count },
      chunks: extents,
    },
    chunks,
  };
}
