/**
 * A binary min-heap of voxel indices keyed by a caller-owned `Float32Array` of costs, with
 * decrease-key: the priority queue of Dijkstra-style region growing. Three typed arrays as long as the
 * volume (heap, position, keys), allocated once; nothing is allocated per voxel or per operation.
 */
export class VoxelHeap {
  /** Voxel indices in heap order. */
  private readonly heap: Int32Array;
  /** Where each voxel sits in `heap`; −1 when it is not in the heap. */
  private readonly position: Int32Array;
  private count = 0;

  /** `keys[v]` is voxel v's cost; change it only through `push`/`decrease`. */
  constructor(readonly keys: Float32Array) {
    this.heap = new Int32Array(keys.length);
    this.position = new Int32Array(keys.length).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  has(voxel: number): boolean {
    return this.position[voxel] >= 0;
  }

  /** Inserts `voxel` with cost `key`, or lowers its cost when it is already queued with a higher one. */
  push(voxel: number, key: number): void {
    const at = this.position[voxel];
    this.keys[voxel] = key;
    if (at >= 0) {
      this.siftUp(at);
      return;
    }
    this.heap[this.count] = voxel;
    this.position[voxel] = this.count;
    this.siftUp(this.count++);
  }

  /** Removes and returns the voxel with the lowest cost (−1 when empty). */
  pop(): number {
    if (this.count === 0) return -1;
    const top = this.heap[0];
    this.position[top] = -1;
    const last = this.heap[--this.count];
    if (this.count > 0) {
      this.heap[0] = last;
      this.position[last] = 0;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(at: number): void {
    const { heap, position, keys } = this;
    const voxel = heap[at];
    const key = keys[voxel];
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt];
      if (keys[parent] <= key) break;
      heap[at] = parent;
      position[parent] = at;
      at = parentAt;
    }
    heap[at] = voxel;
    position[voxel] = at;
  }

  private siftDown(at: number): void {
    const { heap, position, keys, count } = this;
    const voxel = heap[at];
    const key = keys[voxel];
    for (;;) {
      let child = 2 * at + 1;
      if (child >= count) break;
      if (child + 1 < count && keys[heap[child + 1]] < keys[heap[child]]) child++;
      const c = heap[child];
      if (keys[c] >= key) break;
      heap[at] = c;
      position[c] = at;
      at = child;
    }
    heap[at] = voxel;
    position[voxel] = at;
  }
}
