/** A doubly linked list of integer ids threaded through typed arrays. */

/** The id that marks an empty link. */
export const NO_ENTRY = -1;

/**
 * Doubly linked list threaded through typed arrays, one node per id (a flow
 * or a device): O(1) push and remove with no allocation. Node links are
 * written on push, so the arrays need no initial fill.
 */
export class IdList {
  head = NO_ENTRY;
  tail = NO_ENTRY;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;

  constructor(capacity: number) {
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  pushTail(id: number): void {
    this.prev[id] = this.tail;
    this.next[id] = NO_ENTRY;
    if (this.tail === NO_ENTRY) this.head = id;
    else this.next[this.tail] = id;
    this.tail = id;
  }

  /** The id after `id`, or NO_ENTRY at the tail. */
  nextOf(id: number): number {
    return this.next[id];
  }

  remove(id: number): void {
    const before = this.prev[id];
    const after = this.next[id];
    if (before === NO_ENTRY) this.head = after;
    else this.next[before] = after;
    if (after === NO_ENTRY) this.tail = before;
    else this.prev[after] = before;
    this.prev[id] = this.next[id] = NO_ENTRY;
  }
}
