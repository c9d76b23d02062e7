/**
 * Shared robustness check for parser tests: truncation, seeded mutation and
 * bounds (a parser reads only `off .. end`).
 */
import type { Test } from 'tap';

import { SeededRng } from '../../scripts/lib/frame-builder.js';

/**
 * A parser under test: reads `buf` from `off` (inclusive) to `end`
 * (exclusive, byte offsets) and returns a JSON-serialisable result.
 */
export type RangeParser = (
  buf: Uint8Array,
  off: number,
  end: number,
) => unknown;

/**
 * Every prefix of each sample, then `mutations` seeded mutations per sample
 * (1-4 random bytes, sometimes a 16-bit field at 0 or 0xffff, sometimes cut):
 * never throws, and each input placed at byte 16 of random bytes parses
 * exactly as alone (no read outside `off .. end`). Adds one assertion to `t`
 * counting the runs; the same `seed` gives the same inputs.
 */
export function checkRobustness(
  t: Test,
  parse: RangeParser,
  samples: Uint8Array[],
  seed: number,
  mutations = 3000,
): void {
  const rng = new SeededRng(seed);
  let runs = 0;
  let mismatches = 0;
  const check = (bytes: Uint8Array, end: number): void => {
    const alone = JSON.stringify(parse(bytes, 0, end));
    const padded = rng.bytes(end + 64);
    padded.set(bytes.subarray(0, end), 16);
    if (JSON.stringify(parse(padded, 16, 16 + end)) !== alone) mismatches++;
    runs++;
  };
  for (const sample of samples) {
    for (let cut = 0; cut <= sample.length; cut++) check(sample, cut);
    for (let i = 0; i < mutations; i++) {
      const copy = Uint8Array.from(sample);
      const flips = 1 + rng.nextInt(4);
      for (let f = 0; f < flips; f++) {
        copy[rng.nextInt(copy.length)] = rng.nextU32() & 0xff;
      }
      if (rng.chance(0.3)) {
        const at = rng.nextInt(copy.length - 1);
        copy[at] = copy[at + 1] = rng.chance(0.5) ? 0xff : 0;
      }
      check(copy, rng.chance(0.2) ? rng.nextInt(copy.length + 1) : copy.length);
    }
  }
  t.equal(mismatches, 0, `${runs} runs, none reads outside its bytes`);
}
