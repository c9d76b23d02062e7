/** Text output for people: aligned tables, counts, a terminal progress bar. */
import { isLinkLocalText } from '../fingerprint/text.js';

/** A count with thousands separators, e.g. 1,234,567. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/**
 * Aligned columns with a rule under the head: text to the left, numbers to
 * the right. `numericColumns` says which are numbers; by default all but
 * the first.
 */
export function formatTable(
  head: string[],
  rows: string[][],
  numericColumns?: ReadonlySet<number>,
): string {
  const widths = head.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const isNumeric = (column: number): boolean =>
    numericColumns === undefined ? column > 0 : numericColumns.has(column);
  const render = (row: string[]): string =>
    row
      .map((cell, column) =>
        isNumeric(column)
          ? cell.padStart(widths[column])
          : cell.padEnd(widths[column]),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(head), rule, ...rows.map(render)].join('\n');
}

/**
 * The first two of a device's addresses that an engineer would look for:
 * IPv4 before IPv6, link-local last (reports keep the order they were seen
 * in).
 */
export function tableAddresses(ips: string[]): string {
  const rank = (ip: string): number =>
    isLinkLocalText(ip) ? 2 : ip.includes(':') ? 1 : 0;
  const sorted = [...ips].sort((a, b) => rank(a) - rank(b));
  return sorted.slice(0, 2).join(' ') + (sorted.length > 2 ? ' …' : '');
}

/** Redraws at most this often, so drawing never shows in the read rate. */
const PROGRESS_REDRAW_MS = 200;
const PROGRESS_BAR_CELLS = 30;

/** One-line progress on a terminal stream, redrawn in place. */
export class ProgressBar {
  private lastDrawMs = 0;
  private readonly startedMs = performance.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly totalBytes: number,
  ) {}

  /** Redraw with the bytes read and frames seen so far (rate-limited). */
  update(doneBytes: number, frames: number): void {
    const nowMs = performance.now();
    if (nowMs - this.lastDrawMs < PROGRESS_REDRAW_MS) return;
    this.lastDrawMs = nowMs;

    const fraction = Math.min(1, doneBytes / Math.max(1, this.totalBytes));
    const filled = Math.round(fraction * PROGRESS_BAR_CELLS);
    const bar = '#'.repeat(filled) + '.'.repeat(PROGRESS_BAR_CELLS - filled);
    const elapsedSec = (nowMs - this.startedMs) / 1000;
    const rate = elapsedSec > 0 ? frames / elapsedSec : 0;
    this.stream.write(
      `\r[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%  ` +
        `${formatCount(frames)} frames  ${formatCount(rate)}/s `,
    );
  }

  /** Clear the line so the report starts clean. */
  finish(): void {
    if (this.lastDrawMs > 0) this.stream.write('\r\x1b[2K');
  }
}
