/**
 * The error every configuration problem becomes: one `ConfigError` listing
 * each problem with its source, key path and what is wrong.
 */

/** One thing wrong with the configuration, at one place. */
export interface ConfigProblem {
  /**
   * Where the value came from: a file path, `environment SPANSIGHT_...`,
   * `command line` or a board profile path.
   */
  source: string;
  /** Dotted key path (`publish.intervalSec`), or '' for the whole file. */
  keyPath: string;
  /** What is wrong, with the value seen (`must be ..., got "abc"`). */
  problem: string;
}

/**
 * Invalid configuration: code `E_CONFIG_INVALID`. The message has one line
 * per problem, `<source>: <key path>: <problem>`, so an engineer fixing a
 * file sees all problems at once rather than one per restart.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'E_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

/** One problem as one line of a `ConfigError` message. */
export function formatProblem(p: ConfigProblem): string {
  return p.keyPath === ''
    ? `${p.source}: ${p.problem}`
    : `${p.source}: ${p.keyPath}: ${p.problem}`;
}

/**
 * The candidate closest to `word` when it is close enough to be a typo
 * (edit distance at most 2, or 1 for short words), else the shortest
 * candidate that starts with `word` (`watchdog` -> `watchdogDevice`), else
 * null. Case is ignored.
 */
export function closestMatch(
  word: string,
  candidates: readonly string[],
): string | null {
  const lower = word.toLowerCase();
  const maxDistance = word.length <= 4 ? 1 : 2;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (bestDistance <= maxDistance) return best;
  if (lower.length < 4) return null;
  const extended = candidates
    .filter((c) => c.toLowerCase().startsWith(lower))
    .sort((a, b) => a.length - b.length);
  return extended[0] ?? null;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        d[(i - 1) * cols + j] + 1,
        d[i * cols + j - 1] + 1,
        d[(i - 1) * cols + j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2] + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1];
}
