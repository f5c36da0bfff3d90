/**
 * The priority queue of Dijkstra-style region growing: voxel indices by non-negative cost, popped
 * cheapest first, for a caller whose pushes never undercut the cost it last popped (Dijkstra's with
 * non-negative steps). That allows a radix heap: a cost is filed by the highest bit in which it
 * differs from the last popped one (a non-negative float's bits order like the float), so a push is
 * an append and a voxel moves between its 33 buckets a few times at most; a binary heap sifts through
 * ~20 levels of memory for every push and pop, which on a 0.8 mm region was most of the growing's time.
 *
 * There is no decrease-key: a voxel whose cost drops is pushed again, and the caller skips the stale
 * entries it pops (the voxel is fixed by then). Buckets grow by doubling (they hold the front of the
 * growth, not the volume); nothing is allocated per operation.
 */
const BUCKETS = 33;

export class VoxelHeap {
  private readonly voxels: Int32Array[] = [];
  private readonly keys: Uint32Array[] = [];
  private readonly counts = new Int32Array(BUCKETS);
  private count = 0;
  /** Bits of the cost last popped. */
  private last = 0;
  private readonly bits = new Uint32Array(1);
  private readonly float = new Float32Array(this.bits.buffer);

  constructor(capacity = 1 << 12) {
    for (let b = 0; b < BUCKETS; b++) {
      this.voxels.push(new Int32Array(capacity));
      this.keys.push(new Uint32Array(capacity));
    }
  }

  /** The cost of the voxel `pop` returned last. */
  get lastKey(): number {
    this.bits[0] = this.last;
    return this.float[0]!;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Queues `voxel` at cost `key`, which must not be below the cost last popped unless the queue is
   * empty (again, when the voxel is queued at a higher cost).
   */
  push(voxel: number, key: number): void {
    this.float[0] = key;
    const bits = this.bits[0]!;
    // An empty queue starts over: any cost may come next.
    if (this.count === 0) this.last = 0;
    if (bits < this.last) throw new RangeError(`voxel heap: cost ${key} is below the last popped cost`);
    this.file(bits === this.last ? 0 : 32 - Math.clz32(bits ^ this.last), voxel, bits);
    this.count++;
  }

  /** Removes and returns the voxel with the lowest cost (−1 when empty). */
  pop(): number {
    if (this.count === 0) return -1;
    if (this.counts[0] === 0) {
      let b = 1;
      while (this.counts[b] === 0) b++;
      // The bucket's lowest cost becomes the last popped one; every entry of the bucket then files lower.
      const voxels = this.voxels[b]!;
      const keys = this.keys[b]!;
      const n = this.counts[b]!;
      let min = keys[0]!;
      for (let t = 1; t < n; t++) if (keys[t]! < min) min = keys[t]!;
      this.last = min;
      this.counts[b] = 0;
      for (let t = 0; t < n; t++) {
        const bits = keys[t]!;
        this.file(bits === min ? 0 : 32 - Math.clz32(bits ^ min), voxels[t]!, bits);
      }
    }
    this.count--;
    return this.voxels[0]![--this.counts[0]!]!;
  }

  private file(bucket: number, voxel: number, bits: number): void {
    const at = this.counts[bucket]!;
    if (at === this.voxels[bucket]!.length) {
      const voxels = new Int32Array(at * 2);
      const keys = new Uint32Array(at * 2);
      voxels.set(this.voxels[bucket]!);
      keys.set(this.keys[bucket]!);
      this.voxels[bucket] = voxels;
      this.keys[bucket] = keys;
    }
    this.voxels[bucket]![at] = voxel;
    this.keys[bucket]![at] = bits;
    this.counts[bucket] = at + 1;
  }
}
