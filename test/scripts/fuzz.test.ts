import { fileURLToPath } from 'node:url';
import t from 'tap';

import { loadSeedFrames, runFuzz } from '../../scripts/fuzz.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

t.test(
  '200,000 mutants of fixture frames through decode, flows and the inventory: no exception, no hang',
  async (t) => {
    const seeds = loadSeedFrames(FIXTURES, 5_000);
    t.ok(seeds.length >= 500, `${seeds.length} seed frames from the fixtures`);

    const result = runFuzz({
      seeds,
      iterations: 200_000,
      randomSeed: 20261203,
    });
    t.equal(result.iterations, 200_000);
    t.equal(result.exceptions, 0, 'no decoder or extractor exception');
    t.same(result.firstFailure, null);
    // A hang would be a loop that never ends; a decode is microseconds, so
    // anything near a second means an unbounded walk, not a slow machine.
    t.ok(result.slowestDecodeMs < 1000, `slowest ${result.slowestDecodeMs} ms`);
    t.ok(result.statusCounts.ok > 0, 'some mutants still decode');
    t.ok(
      result.statusCounts.truncated + result.statusCounts.malformed > 0,
      'some mutants are rejected with a reason',
    );
  },
);
