/**
 * A binary min-heap of voxel indices keyed by a caller-owned `Float32Array` of costs, with
 * decrease-key: the priority queue of Dijkstra-style region growing. The keys are also kept in heap
 * order beside the indices, so sifting reads memory in order instead of jumping through the volume.
 * Typed arrays as long as the volume (indices, keys in heap order, positions), allocated once;
 * nothing is allocated per voxel or per operation.
 */
export class VoxelHeap {
  /** Voxel indices in heap order. */
  private readonly heap: Int32Array;
  /** Their keys, in heap order. */
  private readonly heapKeys: Float32Array;
  /** Where each voxel sits in `heap`; −1 when it is not in the heap. */
  private readonly position: Int32Array;
  private count = 0;

  /** `keys[v]` is voxel v's cost; change it only through `push`/`decrease`. */
  constructor(readonly keys: Float32Array) {
    this.heap = new Int32Array(keys.length);
    this.heapKeys = new Float32Array(keys.length);
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
      this.heapKeys[at] = key;
      this.siftUp(at);
      return;
    }
    this.heap[this.count] = voxel;
    this.heapKeys[this.count] = key;
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
      this.heapKeys[0] = this.heapKeys[this.count];
      this.position[last] = 0;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(at: number): void {
    const { heap, heapKeys, position } = this;
    const voxel = heap[at];
    const key = heapKeys[at];
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parentKey = heapKeys[parentAt];
      if (parentKey <= key) break;
      const parent = heap[parentAt];
      heap[at] = parent;
      heapKeys[at] = parentKey;
      position[parent] = at;
      at = parentAt;
    }
    heap[at] = voxel;
    heapKeys[at] = key;
    position[voxel] = at;
  }

  private siftDown(at: number): void {
    const { heap, heapKeys, position, count } = this;
    const voxel = heap[at];
    const key = heapKeys[at];
    for (;;) {
      let child = 2 * at + 1;
      if (child >= count) break;
      if (child + 1 < count && heapKeys[child + 1] < heapKeys[child]) child++;
      const childKey = heapKeys[child];
      if (childKey >= key) break;
      const c = heap[child];
      heap[at] = c;
      heapKeys[at] = childKey;
      position[c] = at;
      at = child;
    }
    heap[at] = voxel;
    heapKeys[at] = key;
    position[voxel] = at;
  }
}
