/**
 * The chunked CT the slice views load: every voxel comes back exactly from the slabs, the coarse level
 * is the box average of the full resolution, and the layout follows the options.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { chunkVolume, coarseFactor, downsample, toInt16 } from '../../server/volume/volumeChunks.ts';
import { seededRandom } from '../seededRandom.ts';

function inflate(bytes: Uint8Array): Int16Array {
  const raw = gunzipSync(bytes);
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

describe('chunkVolume', () => {
  it('returns every voxel from the slabs and the box average in the coarse level', async () => {
    const dims: Vec3 = [37, 23, 19];
    const random = seededRandom(7);
    const data = new Int16Array(dims[0] * dims[1] * dims[2]).map(() => Math.round(random() * 3000 - 1024));
    const affine = composeAffine([10, -20, 30], [0.8, 0.8, 1.0], [[-1, 0, 0], [0, -1, 0], [0, 0, 1]]);
    const slice = dims[0] * dims[1];
    const { manifest, chunks } = await chunkVolume({ dims, affine, data }, { slabBytes: slice * 2 * 4, coarseMaxVoxels: 1000 });

    // Layout: 4 slices per slab, the last one shorter; chunk 0 is the coarse level.
    expect(manifest.slabs).toEqual({ depth: 4, count: 5 });
    expect(chunks.length).toBe(6);
    expect(manifest.range).toEqual([Math.min(...data), Math.max(...data)]);
    expect(manifest.dims).toEqual(dims);
    expect(manifest.affine).toEqual(affine);
    let offset = 0;
    manifest.chunks.forEach((c, n) => {
      expect(c).toEqual({ offset, bytes: chunks[n].byteLength });
      offset += c.bytes;
    });

    // Full resolution: the slabs laid end to end are the volume.
    const full = new Int16Array(data.length);
    for (let s = 0; s < manifest.slabs.count; s++) full.set(inflate(chunks[1 + s]), s * 4 * slice);
    expect(full).toEqual(data);

    // Coarse: under the voxel budget, each voxel the mean of its box.
    const { factor, dims: cd } = manifest.coarse;
    expect(cd[0] * cd[1] * cd[2]).toBeLessThanOrEqual(1000);
    const coarse = inflate(chunks[0]);
    expect(coarse.length).toBe(cd[0] * cd[1] * cd[2]);
    for (const [ci, cj, ck] of [[0, 0, 0], [cd[0] - 1, cd[1] - 1, cd[2] - 1], [1, 2, 1]] as Vec3[]) {
      let sum = 0;
      let n = 0;
      for (let k = ck * factor[2]; k < Math.min(dims[2], (ck + 1) * factor[2]); k++)
        for (let j = cj * factor[1]; j < Math.min(dims[1], (cj + 1) * factor[1]); j++)
          for (let i = ci * factor[0]; i < Math.min(dims[0], (ci + 1) * factor[0]); i++, n++) sum += data[i + j * dims[0] + k * slice];
      expect(coarse[ci + cj * cd[0] + ck * cd[0] * cd[1]]).toBe(Math.round(sum / n));
    }
  });

  it('keeps coarse voxels near cubic for a clinical grid and fits the budget', () => {
    const factor = coarseFactor([512, 512, 600], [0.8, 0.8, 1.0], 4 * 1024 * 1024);
    const dims = [512, 512, 600].map((n, a) => Math.ceil(n / factor[a]));
    expect(dims[0] * dims[1] * dims[2]).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(factor[0]).toBe(factor[1]);
    // Millimetres per coarse voxel differ by at most one fine voxel between axes.
    expect(Math.abs(factor[0] * 0.8 - factor[2] * 1.0)).toBeLessThanOrEqual(1.0);
    expect(coarseFactor([10, 10, 10], [1, 1, 1], 5000)).toEqual([1, 1, 1]);
  });

  it('takes any voxel type as int16, rounded and clamped', () => {
    expect(Array.from(toInt16(new Float32Array([-2000.4, 12.5, 40000, -40000])))).toEqual([-2000, 13, 32767, -32768]);
    const ints = new Int16Array([1, 2]);
    expect(toInt16(ints)).toBe(ints);
    expect(Array.from(downsample(new Int16Array([0, 10, 20, 31]), [4, 1, 1], [3, 1, 1]).data)).toEqual([10, 31]);
  });
});
