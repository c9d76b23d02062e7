/**
 * A bounded memo of integer-pair keys with two integer values each, for the
 * inventory's per-packet "seen this already?" checks without boxing a key.
 */

/** Ways per bucket: four entries of four 32-bit words fill one cache line. */
const WAYS = 4;
const STRIDE = 4;

/** Ways a memo starts with; it doubles as it fills, up to its capacity. */
const INITIAL_WAYS = 4096;

/**
 * Set-associative memo keyed by two 32-bit words. Each key hashes to one
 * bucket of four ways. The table starts small and doubles when a bucket
 * overflows, so that it spans only the memory its keys need (random probes
 * into a sparse megabyte would miss the cache on every lookup); at its
 * capacity a new key enters a full bucket at the front and pushes its
 * oldest entry out, which is counted in `evicted`. It is a cache of facts
 * that can be recomputed, so a forgotten entry only costs work.
 */
export class KeyMemo {
  /** Entries pushed out of a full bucket. */
  evicted = 0;
  /** Ways at most: `maxEntries` rounded up to a power of two, at least 4. */
  readonly capacity: number;
  private bucketMask: number;
  /** Per way: key word 0, key word 1, value A + 1 (0: empty), value B. */
  private words: Int32Array;
  private lastWay = -1;

  constructor(maxEntries: number) {
    let buckets = 1;
    while (buckets * WAYS < maxEntries) buckets *= 2;
    this.capacity = buckets * WAYS;
    const ways = Math.min(this.capacity, INITIAL_WAYS);
    this.bucketMask = ways / WAYS - 1;
    this.words = new Int32Array(ways * STRIDE);
  }

  /** Ways the table spans now. */
  get heldWays(): number {
    return this.words.length / STRIDE;
  }

  /**
   * Find a key; true when held. The found entry's values are then read
   * with `valueA` and `valueB` (until the next call).
   */
  has(key0: number, key1: number): boolean {
    const at = this.find(key0, key1);
    if (at < 0) return false;
    this.lastWay = at;
    return true;
  }

  /** Value A of the entry `has` found last (a non-negative integer). */
  get valueA(): number {
    return this.words[this.lastWay + 2] - 1;
  }

  /** Value B of the entry `has` found last. */
  get valueB(): number {
    return this.words[this.lastWay + 3];
  }

  /**
   * Hold a key with its values (`valueA` from 0 to 2^31 - 2); returns true
   * when the key was not held before. A held key keeps its place.
   */
  set(key0: number, key1: number, valueA = 0, valueB = 0): boolean {
    const words = this.words;
    const base = (hashPair(key0, key1) & this.bucketMask) * WAYS * STRIDE;
    let way = 0;
    for (; way < WAYS; way++) {
      const at = base + way * STRIDE;
      if (words[at + 2] === 0) break;
      if (words[at] === key0 && words[at + 1] === key1) {
        words[at + 2] = valueA + 1;
        words[at + 3] = valueB;
        return false;
      }
    }
    if (way === WAYS) {
      if (this.heldWays < this.capacity) {
        this.grow();
        return this.set(key0, key1, valueA, valueB);
      }
      this.evicted++;
      way = WAYS - 1;
    }
    // Newest first: shift the younger entries one way back (a loop: at
    // most twelve words, cheaper than a builtin call).
    for (let at = base + way * STRIDE - 1; at >= base; at--) {
      words[at + STRIDE] = words[at];
    }
    words[base] = key0;
    words[base + 1] = key1;
    words[base + 2] = valueA + 1;
    words[base + 3] = valueB;
    return true;
  }

  /** Hold a key without values; true when it was new. */
  add(key0: number, key1: number): boolean {
    return this.set(key0, key1, 0, 0);
  }

  /** Forget a key; true when it was held. Younger entries keep their order. */
  delete(key0: number, key1: number): boolean {
    const at = this.find(key0, key1);
    if (at < 0) return false;
    // Close the gap: the older entries of the bucket move one way forward.
    const words = this.words;
    const bucketEnd = at - (at % (WAYS * STRIDE)) + WAYS * STRIDE;
    words.copyWithin(at, at + STRIDE, bucketEnd);
    words.fill(0, bucketEnd - STRIDE, bucketEnd);
    return true;
  }

  /** Where the key's entry starts in `words`, or -1 when it is not held. */
  private find(key0: number, key1: number): number {
    const words = this.words;
    const base = (hashPair(key0, key1) & this.bucketMask) * WAYS * STRIDE;
    for (let way = 0; way < WAYS; way++) {
      const at = base + way * STRIDE;
      if (words[at + 2] === 0) return -1;
      if (words[at] === key0 && words[at + 1] === key1) return at;
    }
    return -1;
  }

  /**
   * Double the table and re-insert every entry, oldest of each bucket
   * first, so that each bucket keeps its newest-first order.
   */
  private grow(): void {
    const old = this.words;
    this.words = new Int32Array(old.length * 2);
    this.bucketMask = this.heldWays / WAYS - 1;
    for (let base = 0; base < old.length; base += WAYS * STRIDE) {
      for (let at = base + (WAYS - 1) * STRIDE; at >= base; at -= STRIDE) {
        if (old[at + 2] === 0) continue;
        this.set(old[at], old[at + 1], old[at + 2] - 1, old[at + 3]);
      }
    }
  }
}

function hashPair(key0: number, key1: number): number {
  let h = Math.imul(key0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ key1 ^ (h >>> 15), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
