/**
 * Reconnect delays: exponential back-off with full jitter, so a fleet of
 * sensors that lost the same broker does not reconnect in lockstep.
 */

/** Bounds of the back-off, in milliseconds. */
export interface BackoffOptions {
  /** Cap of the first delay. */
  initialMs: number;
  /** Cap of any delay. */
  maxMs: number;
}

/** A source of uniform numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/**
 * The delay before reconnect attempt `failures` (0 for the first retry):
 * uniform in [0, min(maxMs, initialMs * 2^failures)) ("full jitter").
 */
export function backoffDelayMs(
  failures: number,
  options: BackoffOptions,
  random: RandomSource = Math.random,
): number {
  return Math.floor(random() * backoffCapMs(failures, options));
}

/** The upper bound of `backoffDelayMs` for `failures`, in milliseconds. */
export function backoffCapMs(
  failures: number,
  options: BackoffOptions,
): number {
  // 2^30 already exceeds any sane maxMs; clamping keeps the power finite.
  const exponent = Math.min(Math.max(failures, 0), 30);
  return Math.min(options.maxMs, options.initialMs * 2 ** exponent);
}
