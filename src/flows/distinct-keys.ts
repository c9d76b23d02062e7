/**
 * A bounded set of 64-bit flow-key fingerprints that counts distinct keys
 * across flow records, so a key seen again after it expired counts once.
 */

/** Fingerprints held before the set stops growing (32 MiB at the cap). */
export const DISTINCT_KEYS_MAX = 1 << 22;

const INITIAL_SLOTS = 1 << 12;

/**
 * Open-addressing set of (hi, lo) 32-bit pairs. It grows by doubling up to
 * `maxKeys`; past that it stops adding, `isSaturated` turns true and the
 * count becomes a lower bound.
 */
export class DistinctKeySet {
  size = 0;
  isSaturated = false;
  private slots: Uint32Array;
  private mask: number;

  constructor(readonly maxKeys: number = DISTINCT_KEYS_MAX) {
    this.slots = new Uint32Array(INITIAL_SLOTS * 2);
    this.mask = INITIAL_SLOTS - 1;
  }

  /** Add a fingerprint; returns true when it was not there before. */
  add(hi: number, lo: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
    // (0, 0) marks an empty slot, so nudge the one key that would collide.
    if (hi === 0 && lo === 0) lo = 1;
    if (this.findSlot(hi, lo) >= 0) return false;
    if (this.size * 2 >= this.mask + 1) {
      if (this.size >= this.maxKeys) {
        this.isSaturated = true;
        return false;
      }
      this.grow();
    }
    this.place(this.slots, this.mask, hi, lo);
    this.size++;
    return true;
  }

  private findSlot(hi: number, lo: number): number {
    let slot = (hi ^ lo) & this.mask;
    for (;;) {
      const storedHi = this.slots[slot * 2];
      const storedLo = this.slots[slot * 2 + 1];
      if (storedHi === 0 && storedLo === 0) return -1;
      if (storedHi === hi && storedLo === lo) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const slotCount = (this.mask + 1) * 2;
    this.slots = new Uint32Array(slotCount * 2);
    this.mask = slotCount - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) {
        this.place(this.slots, this.mask, old[i], old[i + 1]);
      }
    }
  }

  private place(slots: Uint32Array, mask: number, hi: number, lo: number) {
    let slot = (hi ^ lo) & mask;
    while (slots[slot * 2] !== 0 || slots[slot * 2 + 1] !== 0) {
      slot = (slot + 1) & mask;
    }
    slots[slot * 2] = hi >>> 0;
    slots[slot * 2 + 1] = lo >>> 0;
  }
}
