import t from 'tap';

import { KeyMemo } from '../../src/inventory/key-memo.js';

t.test('key-memo: capacity rounds up to whole buckets of four', async (t) => {
  t.equal(new KeyMemo(1).capacity, 4);
  t.equal(new KeyMemo(4).capacity, 4);
  t.equal(new KeyMemo(5).capacity, 8);
  t.equal(new KeyMemo(65_536).capacity, 65_536);
});

t.test('key-memo: add is true once, has finds, values kept', async (t) => {
  const memo = new KeyMemo(64);
  t.equal(memo.add(7, -3), true, 'new key');
  t.equal(memo.add(7, -3), false, 'repeat');
  t.equal(memo.has(7, -3), true);
  t.equal(memo.has(-3, 7), false, 'word order matters');
  t.equal(memo.has(0, 0), false, 'an all-zero key is not "empty"');
  t.equal(memo.add(0, 0), true);
  t.equal(memo.has(0, 0), true);

  t.equal(memo.set(0x7fffffff, 1, 12, -99), true);
  t.equal(memo.has(0x7fffffff, 1), true);
  t.equal(memo.valueA, 12);
  t.equal(memo.valueB, -99);
  t.equal(memo.set(0x7fffffff, 1, 0, 5), false, 'update, not a new key');
  t.equal(memo.has(0x7fffffff, 1), true);
  t.equal(memo.valueA, 0);
  t.equal(memo.valueB, 5);
  t.equal(memo.evicted, 0);
});

t.test('key-memo: one full bucket drops its oldest key, counted', async (t) => {
  // Four ways in one bucket: every key collides.
  const memo = new KeyMemo(4);
  for (let key = 1; key <= 4; key++) memo.set(key, key * 10, key, -key);
  t.equal(memo.evicted, 0);
  for (let key = 1; key <= 4; key++) {
    t.equal(memo.has(key, key * 10), true, `key ${key} held`);
    t.equal(memo.valueA, key, 'its own value A, not a neighbour');
    t.equal(memo.valueB, -key);
  }

  t.equal(memo.add(5, 50), true);
  t.equal(memo.evicted, 1);
  t.equal(memo.has(1, 10), false, 'the oldest is gone');
  for (let key = 2; key <= 5; key++) t.equal(memo.has(key, key * 10), true);

  // Updating a held key does not make room or count an eviction.
  t.equal(memo.set(2, 20, 9, 9), false);
  t.equal(memo.evicted, 1);
  t.equal(memo.add(6, 60), true);
  t.equal(memo.has(2, 20), false, 'insertion order, not update order');
  t.equal(memo.evicted, 2);
});

t.test('key-memo: never holds more than its capacity', async (t) => {
  const memo = new KeyMemo(256);
  const added = 10_000;
  for (let key = 0; key < added; key++) memo.add(key, ~key);
  let held = 0;
  for (let key = 0; key < added; key++) if (memo.has(key, ~key)) held++;
  t.equal(held, memo.capacity, 'every way filled, none more');
  t.equal(memo.evicted, added - memo.capacity, 'each drop counted');
  // The newest keys of each bucket survive: the last one added is held.
  t.equal(memo.has(added - 1, ~(added - 1)), true);
});

t.test('key-memo: seeded random keys agree with a reference map', async (t) => {
  // Large enough that nothing is evicted: then it must behave as a Map.
  const memo = new KeyMemo(1 << 16);
  const reference = new Map<string, number>();
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    return seed >>> 8;
  };
  let wrongAnswers = 0;
  for (let i = 0; i < 3000; i++) {
    const key0 = next() & 0x3ff;
    const key1 = next() & 0x3;
    const value = next() & 0xffff;
    const isNew = !reference.has(`${key0},${key1}`);
    if (memo.set(key0, key1, value, 0) !== isNew) wrongAnswers++;
    reference.set(`${key0},${key1}`, value);
  }
  t.equal(wrongAnswers, 0, 'set says new exactly when the key was new');
  t.equal(memo.evicted, 0);
  for (const [key, value] of reference) {
    const [key0, key1] = key.split(',').map(Number);
    if (!memo.has(key0, key1) || memo.valueA !== value) {
      t.fail(`key ${key} lost or wrong`);
    }
  }
  t.pass(`${reference.size} keys checked`);
});

t.test('key-memo: starts small and grows before it evicts', async (t) => {
  const memo = new KeyMemo(65_536);
  t.equal(memo.heldWays, 4096, 'a few thousand ways at first');
  const added = 40_000;
  let evictedBelowCapacity = 0;
  for (let key = 0; key < added; key++) {
    const wasBelowCapacity = memo.heldWays < memo.capacity;
    const evictedBefore = memo.evicted;
    memo.set(key, key ^ 0x5bd1e995, key);
    if (wasBelowCapacity) evictedBelowCapacity += memo.evicted - evictedBefore;
  }
  t.ok(memo.heldWays > 4096 && memo.heldWays <= 65_536, 'grown, not past');
  t.equal(evictedBelowCapacity, 0, 'nothing dropped while it could grow');
  let held = 0;
  for (let key = 0; key < added; key++) {
    if (memo.has(key, key ^ 0x5bd1e995) && memo.valueA === key) held++;
  }
  t.equal(held + memo.evicted, added, 'every key not evicted survives');
});

t.test(
  'key-memo: delete forgets one key, the others keep theirs',
  async (t) => {
    // Four ways in one bucket: every key collides.
    const memo = new KeyMemo(4);
    for (let key = 1; key <= 4; key++) memo.set(key, key * 10, key, -key);
    t.equal(memo.delete(2, 20), true);
    t.equal(memo.delete(2, 20), false, 'already gone');
    t.equal(memo.delete(9, 90), false, 'never held');
    t.equal(memo.has(2, 20), false);
    for (const key of [1, 3, 4]) {
      t.equal(memo.has(key, key * 10), true, `key ${key} held`);
      t.equal(memo.valueB, -key, 'with its own value');
    }

    // The freed way takes a new key without pushing an old one out.
    t.equal(memo.add(5, 50), true);
    t.equal(memo.evicted, 0);
    for (const key of [1, 3, 4, 5]) t.equal(memo.has(key, key * 10), true);
  },
);
