/** A set with a hard cap that drops its oldest member to admit a new one. */

/**
 * Insertion-ordered set of at most `maxSize` members. Adding a new member
 * to a full set evicts the oldest and counts it, so a device's history
 * stays bounded whatever the traffic does.
 */
export class CappedSet<T> {
  evicted = 0;
  private readonly members = new Set<T>();

  constructor(readonly maxSize: number) {}

  /** Add `value`; returns true when it was not there before. */
  add(value: T): boolean {
    if (this.members.has(value)) return false;
    if (this.members.size >= this.maxSize) {
      const oldest = this.members.values().next().value as T;
      this.members.delete(oldest);
      this.evicted++;
    }
    this.members.add(value);
    return true;
  }

  has(value: T): boolean {
    return this.members.has(value);
  }

  get size(): number {
    return this.members.size;
  }

  /** Members, oldest first. */
  values(): T[] {
    return [...this.members];
  }
}
