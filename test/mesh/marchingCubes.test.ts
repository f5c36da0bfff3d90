/**
 * Marching cubes on label maps: closed, consistently oriented surfaces on the voxel boundary, the
 * label's box found exactly, and the same surface as the two peer implementations.
 */
import { describe, expect, it } from 'vitest';
import { boxVoxelCount, labelBoundingBoxes } from '../../mesh/boundingBoxes.ts';
import { composeAffine, type Vec3 } from '../../mesh/grid.ts';
import { maskSmoothingFor } from '../../mesh/maskSmoothing.ts';
import { marchingCubes } from '../../mesh/marchingCubes.ts';
import { checkEdges, enclosedVolume } from '../../mesh/meshMetrics.ts';
import { exampleSeg } from './labelMaps.ts';
import { loadVtk, mcfPruned, vtkMarchingCubes } from './peers.ts';

/** A seeded pseudo-random generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('marchingCubes', () => {
  it('turns one voxel into an octahedron of volume 1/6 with outward normals', () => {
    const dims: Vec3 = [3, 3, 3];
    const data = new Uint8Array(27);
    data[13] = 7;
    const mesh = marchingCubes({ dims, data }, 7);
    expect(mesh.indices.length / 3).toBe(8);
    expect(enclosedVolume(mesh)).toBeCloseTo(1 / 6, 10);
    expect(checkEdges(mesh).watertight).toBe(true);
  });

  it('gives closed, consistently oriented surfaces for random masks (every case and ambiguity)', () => {
    const next = random(42);
    for (let trial = 0; trial < 30; trial++) {
      const dims: Vec3 = [9 + trial % 5, 8, 7 + (trial % 3)];
      const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
      const density = 0.2 + 0.6 * next();
      for (let n = 0; n < data.length; n++) data[n] = next() < density ? 1 + (n % 2) : 0;
      for (const label of [1, 2]) {
        const mesh = marchingCubes({ dims, data }, label);
        const edges = checkEdges(mesh);
        expect(edges, `trial ${trial} label ${label}`).toEqual({ watertight: true, boundaryEdges: 0, nonManifoldEdges: 0, misorientedEdges: 0 });
        expect(enclosedVolume(mesh)).toBeGreaterThan(0);
      }
    }
  });

  it('closes structures cut by the edge of the grid at the outer voxel face', () => {
    // A full 4×4×4 grid: every voxel is the label, the surface is the grid's outer boundary.
    const dims: Vec3 = [4, 4, 4];
    const mesh = marchingCubes({ dims, data: new Uint8Array(64).fill(1) }, 1);
    expect(checkEdges(mesh).watertight).toBe(true);
    let min = Infinity;
    let max = -Infinity;
    for (const v of mesh.positions) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([-0.5, 3.5]);
    // Flat faces lie exactly on the voxel boundary; only the 12 edges (a ⅛ voxel² chamfer along each
    // of their 4 voxels) and the 8 corners are cut off.
    const volume = enclosedVolume(mesh);
    expect(volume).toBeLessThan(64);
    expect(volume).toBeGreaterThan(64 - 12 * 4 * 0.125);
  });

  it('scanning the label box gives the same surface as scanning the whole grid', async () => {
    const seg = await exampleSeg();
    for (const extent of labelBoundingBoxes(seg).slice(0, 8)) {
      const boxed = marchingCubes(seg, extent.label, { box: extent.box });
      const whole = marchingCubes(seg, extent.label);
      expect(boxed.indices.length).toBe(whole.indices.length);
      expect(enclosedVolume(boxed)).toBeCloseTo(enclosedVolume(whole), 6);
    }
  });
});

describe('mask smoothing (thick-slice grids)', () => {
  it('is sized from the spacing: none on isotropic grids, in-slice only on anisotropic ones', () => {
    const axes: [Vec3, Vec3, Vec3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    expect(maskSmoothingFor(composeAffine([0, 0, 0], [3, 3, 3], axes))).toBeUndefined();
    expect(maskSmoothingFor(composeAffine([0, 0, 0], [0.7, 0.9, 2.5], axes))!.radius).toEqual([4, 3, 0]);
    expect(maskSmoothingFor(composeAffine([0, 0, 0], [0.7, 0.9, 2.5], axes), { strength: 0 })).toBeUndefined();
  });

  it('keeps the topology and every vertex on its grid edge', async () => {
    const seg = await exampleSeg();
    for (const extent of labelBoundingBoxes(seg).slice(0, 10)) {
      const plain = marchingCubes(seg, extent.label, { box: extent.box });
      const smoothed = marchingCubes(seg, extent.label, { box: extent.box, maskSmoothing: { radius: [2, 2, 1] } });
      expect(smoothed.indices).toEqual(plain.indices);
      let moved = 0;
      for (let v = 0; v < plain.positions.length; v += 3) {
        let axes = 0;
        for (let a = 0; a < 3; a++) {
          const d = Math.abs(smoothed.positions[v + a] - plain.positions[v + a]);
          expect(d).toBeLessThan(0.5);
          if (d > 1e-6) axes++;
        }
        expect(axes).toBeLessThanOrEqual(1);
        if (axes) moved++;
      }
      expect(moved).toBeGreaterThan(0);
    }
  });
});

describe('labelBoundingBoxes', () => {
  it('finds each label\'s exact box and voxel count', async () => {
    const seg = await exampleSeg();
    const extents = labelBoundingBoxes(seg);
    const [nx, ny] = seg.dims;
    const brute = new Map<number, { min: number[]; max: number[]; voxels: number }>();
    seg.data.forEach((label, n) => {
      if (label === 0) return;
      const p = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))];
      const e = brute.get(label) ?? { min: [Infinity, Infinity, Infinity], max: [-1, -1, -1], voxels: 0 };
      e.voxels++;
      for (let a = 0; a < 3; a++) {
        e.min[a] = Math.min(e.min[a], p[a]);
        e.max[a] = Math.max(e.max[a], p[a]);
      }
      brute.set(label, e);
    });
    expect(extents.map((e) => e.label)).toEqual([...brute.keys()].sort((a, b) => a - b));
    for (const e of extents) {
      const b = brute.get(e.label)!;
      expect([e.box.min, e.box.max, e.voxels]).toEqual([b.min, b.max, b.voxels]);
      expect(boxVoxelCount(e.box)).toBeGreaterThanOrEqual(e.voxels);
    }
  });
});

describe('peers give the same surface', () => {
  it('vtk.js ImageMarchingCubes and marching-cubes-fast agree with ours on real labels', async () => {
    const seg = await exampleSeg();
    const vtk = await loadVtk();
    // Small and mid-sized labels (the peers are slow on big ones; see the benchmark).
    const extents = labelBoundingBoxes(seg).filter((e) => e.voxels < 2500).slice(0, 6);
    expect(extents.length).toBeGreaterThan(3);
    for (const extent of extents) {
      const ours = marchingCubes(seg, extent.label, { box: extent.box });
      for (const peer of [vtkMarchingCubes(vtk, seg, extent), mcfPruned(seg, extent)]) {
        expect(peer.indices.length).toBe(ours.indices.length);
        expect(peer.positions.length).toBe(ours.positions.length);
        expect(enclosedVolume(peer)).toBeCloseTo(enclosedVolume(ours), 3);
        expect(checkEdges(peer).watertight).toBe(true);
      }
    }
  });
});
