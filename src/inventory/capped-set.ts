/** A set with a hard cap that drops its oldest member to admit a new one. */

/**
 * Insertion-ordered set of at most `maxSize` members. Adding a new member
 * to a full set evicts the oldest and counts it, so a device's history
 * stays bounded whatever the traffic does. A device holds some twenty of
 * these and most stay empty, so the underlying Set is made on first add.
 */
export class CappedSet<T> {
  evicted = 0;
  private members: Set<T> | null = null;

  constructor(readonly maxSize: number) {}

  /** Add `value`; returns true when it was not there before. */
  add(value: T): boolean {
    let members = this.members;
    if (members === null) {
      members = new Set<T>();
      this.members = members;
    }
    if (members.has(value)) return false;
    if (members.size >= this.maxSize) {
      const oldest = members.values().next().value as T;
      members.delete(oldest);
      this.evicted++;
    }
    members.add(value);
    return true;
  }

  /** Remove `value`; returns true when it was there. */
  delete(value: T): boolean {
    return this.members !== null && this.members.delete(value);
  }

  has(value: T): boolean {
    return this.members !== null && this.members.has(value);
  }

  get size(): number {
    return this.members === null ? 0 : this.members.size;
  }

  /** Members, oldest first. */
  values(): T[] {
    return this.members === null ? [] : [...this.members];
  }
}
