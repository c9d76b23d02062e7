/**
 * A bounded memo of integer-pair keys with two integer values each, for the
 * inventory's per-packet "seen this already?" checks without boxing a key.
 */

/** Ways per bucket: four entries of four 32-bit words fill one cache line. */
const WAYS = 4;
const STRIDE = 4;

/**
 * Set-associative memo keyed by two 32-bit words. Each key hashes to one
 * bucket of four ways; a new key enters a full bucket at the front and
 * pushes its oldest entry out, which is counted in `evicted`. It is a cache
 * of facts that can be recomputed, so a forgotten entry only costs work.
 */
export class KeyMemo {
  /** Entries pushed out of a full bucket. */
  evicted = 0;
  /** Ways held: `maxEntries` rounded up to a power of two, at least 4. */
  readonly capacity: number;
  private readonly bucketMask: number;
  /** Per way: key word 0, key word 1, value A + 1 (0: empty), value B. */
  private readonly words: Int32Array;
  private lastWay = -1;

  constructor(maxEntries: number) {
    let buckets = 1;
    while (buckets * WAYS < maxEntries) buckets *= 2;
    this.bucketMask = buckets - 1;
    this.capacity = buckets * WAYS;
    this.words = new Int32Array(this.capacity * STRIDE);
  }

  /**
   * Find a key; true when held. The found entry's values are then read
   * with `valueA` and `valueB` (until the next call).
   */
  has(key0: number, key1: number): boolean {
    const words = this.words;
    const base = (hashPair(key0, key1) & this.bucketMask) * WAYS * STRIDE;
    for (let way = 0; way < WAYS; way++) {
      const at = base + way * STRIDE;
      if (words[at + 2] === 0) return false;
      if (words[at] === key0 && words[at + 1] === key1) {
        this.lastWay = at;
        return true;
      }
    }
    return false;
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
}

function hashPair(key0: number, key1: number): number {
  let h = Math.imul(key0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ key1 ^ (h >>> 15), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
