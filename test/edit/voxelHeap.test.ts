/**
 * The growing's priority queue: every voxel comes out in cost order under the pattern Dijkstra
 * produces (pushes never below the cost last popped, a voxel pushed again at lower costs), whatever
 * the float costs; a push below the last popped cost is refused; an emptied queue starts over.
 */
import { describe, expect, it } from 'vitest';
import { VoxelHeap } from '../../server/segment/voxelHeap.ts';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('voxel heap', () => {
  it('pops in cost order while costs rise as Dijkstra makes them, duplicates and growth included', () => {
    const next = random(7);
    const heap = new VoxelHeap(4);
    const best = new Map<number, number>();
    const popped: number[] = [];
    let last = 0;
    for (let v = 0; v < 50; v++) (best.set(v, 0), heap.push(v, 0));
    let voxel = 50;
    for (let round = 0; round < 20000 && heap.size > 0; round++) {
      const v = heap.pop();
      const key = heap.lastKey;
      expect(key).toBeGreaterThanOrEqual(last);
      last = key;
      if (key > best.get(v)!) continue;
      popped.push(key);
      // Each fixed voxel offers new voxels and cheaper costs to some queued ones, never below its own.
      for (let t = 0; t < 3; t++) {
        const cost = Math.fround(key + next() * (t === 0 ? 1e-6 : 10));
        const target = t === 2 && voxel > 60 ? voxel - 1 - Math.floor(next() * 10) : voxel++;
        if (cost < (best.get(target) ?? Infinity)) (best.set(target, cost), heap.push(target, cost));
      }
      if (voxel > 5000) break;
    }
    expect(popped.length).toBeGreaterThan(1000);
    expect(popped).toEqual([...popped].sort((a, b) => a - b));
  });

  it('drains every queued voxel exactly once per push, lowest first, and returns −1 when empty', () => {
    const heap = new VoxelHeap(2);
    const keys = [5, 0.5, 3, 3, 1e-30, 1e30, 0, 7.25];
    keys.forEach((k, v) => heap.push(v, k));
    const out: number[] = [];
    for (let v = heap.pop(); v >= 0; v = heap.pop()) out.push(keys[v]!);
    expect(out).toEqual([...keys].sort((a, b) => a - b));
    expect(heap.pop()).toBe(-1);
  });

  it('refuses a cost below the last popped one while queued, and starts over once empty', () => {
    const heap = new VoxelHeap();
    heap.push(1, 2);
    heap.push(2, 4);
    expect(heap.pop()).toBe(1);
    expect(() => heap.push(3, 1)).toThrow(/below the last popped cost/);
    expect(heap.pop()).toBe(2);
    heap.push(3, 1);
    expect(heap.pop()).toBe(3);
    expect(heap.lastKey).toBe(1);
  });
});
