import t from 'tap';

import { SequenceTracker } from '../../src/publish/sequence-tracker.js';

t.test('sequence tracker: in order, gap, late arrival, duplicate', (t) => {
  const tracker = new SequenceTracker();
  t.same(tracker.observe('s/flows', 'boot-a', 1), { kind: 'first' });
  t.same(tracker.observe('s/flows', 'boot-a', 2), { kind: 'next' });
  t.same(tracker.observe('s/flows', 'boot-a', 5), {
    kind: 'gap',
    missing: 2,
    fromSeq: 3,
    toSeq: 4,
  });
  t.equal(tracker.missing, 2);
  t.same(tracker.observe('s/flows', 'boot-a', 3), { kind: 'next' }, 'late');
  t.equal(tracker.missing, 1, 'a late arrival fills the gap');
  t.same(tracker.observe('s/flows', 'boot-a', 3), { kind: 'duplicate' });
  t.same(tracker.observe('s/flows', 'boot-a', 5), { kind: 'duplicate' });
  t.same(tracker.observe('s/flows', 'boot-a', 1), { kind: 'duplicate' });
  t.equal(tracker.duplicates, 3);
  t.end();
});

t.test(
  'sequence tracker: streams are independent; a new boot restarts',
  (t) => {
    const tracker = new SequenceTracker();
    tracker.observe('s/flows', 'boot-a', 1);
    t.same(tracker.observe('s/devices', 'boot-a', 1), { kind: 'first' });
    t.same(tracker.observe('s/flows', 'boot-b', 1), {
      kind: 'reboot',
      previousBootId: 'boot-a',
    });
    t.same(tracker.observe('s/flows', 'boot-b', 2), { kind: 'next' });
    t.same(tracker.observe('s/status', 'boot-b', 0), { kind: 'unsequenced' });
    t.end();
  },
);

t.test('sequence tracker: streams beyond the cap are forgotten', (t) => {
  const tracker = new SequenceTracker(2);
  tracker.observe('a', 'boot', 1);
  tracker.observe('b', 'boot', 1);
  tracker.observe('c', 'boot', 1);
  t.same(tracker.observe('a', 'boot', 2), { kind: 'first' }, 'a was evicted');
  t.same(tracker.observe('c', 'boot', 2), { kind: 'next' });
  t.end();
});
