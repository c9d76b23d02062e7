/**
 * Summaries of the benchmark runs: median, min, max and spread per target,
 * ratios against the libpcap and p0f baselines, as a table or as JSON.
 */
import { formatCount, formatTable } from '../../src/cli/format.js';

/** What became of one target over all runs. */
export interface TargetResult {
  id: string;
  label: string;
  method: string;
  status: 'ok' | 'unavailable' | 'failed';
  /** Why the target is unavailable or failed. */
  reason: string | null;
  /** Frames per run: the whole capture, or its first frames when slow. */
  frames: number;
  isTruncated: boolean;
  /** Rate of each successful run, in run order. */
  runPktsPerSec: number[];
  medianPktsPerSec: number;
  minPktsPerSec: number;
  maxPktsPerSec: number;
  /** (max - min) / median, in percent: the run-to-run noise. */
  spreadPct: number;
  /** Median rate divided by the tcpdump (libpcap raw read) median. */
  vsLibpcap: number | null;
  /** Median rate divided by the p0f median. */
  vsP0f: number | null;
  /** Messages of failed runs. */
  errors: string[];
}

/** A result with no run yet. */
export function newTargetResult(
  id: string,
  label: string,
  method: string,
): TargetResult {
  return {
    id,
    label,
    method,
    status: 'ok',
    reason: null,
    frames: 0,
    isTruncated: false,
    runPktsPerSec: [],
    medianPktsPerSec: 0,
    minPktsPerSec: 0,
    maxPktsPerSec: 0,
    spreadPct: 0,
    vsLibpcap: null,
    vsP0f: null,
    errors: [],
  };
}

/** Middle value of `values` (mean of the two middle ones when even). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Fill the statistics and ratios of every result that has runs. */
export function summarize(results: TargetResult[]): void {
  for (const result of results) {
    const rates = result.runPktsPerSec;
    if (rates.length === 0) continue;
    result.medianPktsPerSec = median(rates);
    result.minPktsPerSec = Math.min(...rates);
    result.maxPktsPerSec = Math.max(...rates);
    result.spreadPct =
      ((result.maxPktsPerSec - result.minPktsPerSec) /
        result.medianPktsPerSec) *
      100;
  }
  const baseline = (id: string): number => {
    const found = results.find((result) => result.id === id);
    return found?.status === 'ok' ? found.medianPktsPerSec : 0;
  };
  const libpcap = baseline('tcpdump');
  const p0f = baseline('p0f');
  for (const result of results) {
    if (result.status !== 'ok') continue;
    result.vsLibpcap = libpcap > 0 ? result.medianPktsPerSec / libpcap : null;
    result.vsP0f = p0f > 0 ? result.medianPktsPerSec / p0f : null;
  }
}

/**
 * What the inventory costs: its pipeline's rate as a share of decode +
 * flows alone (the target: at least 75%) and of the sensor pipeline
 * without it. Each is the median of per-round ratios: runs go round-robin,
 * so the two rates of a round were measured moments apart and the
 * machine's slow drifts cancel. Null when a run of either failed.
 */
export interface InventoryCost {
  ofDecodeFlows: number | null;
  ofSensorPipeline: number | null;
}

export function inventoryCost(results: TargetResult[]): InventoryCost {
  return {
    ofDecodeFlows: pairedRatio(results, 'inventory', 'flows'),
    ofSensorPipeline: pairedRatio(results, 'inventory', 'sensor'),
  };
}

function pairedRatio(
  results: TargetResult[],
  id: string,
  baselineId: string,
): number | null {
  const target = results.find((result) => result.id === id);
  const baseline = results.find((result) => result.id === baselineId);
  if (target?.status !== 'ok' || baseline?.status !== 'ok') return null;
  const rates = target.runPktsPerSec;
  const baseRates = baseline.runPktsPerSec;
  if (rates.length === 0 || rates.length !== baseRates.length) return null;
  return median(rates.map((rate, round) => rate / baseRates[round]));
}

/** A ratio as a whole percentage; '-' when it could not be measured. */
export function formatShare(ratio: number | null): string {
  return ratio === null ? '-' : `${(ratio * 100).toFixed(0)}%`;
}

function formatFrames(frames: number): string {
  if (frames >= 1e6) return `${(frames / 1e6).toFixed(2)}M`;
  return `${Math.round(frames / 1e3)}k`;
}

function formatRatio(ratio: number | null): string {
  if (ratio === null) return '-';
  return ratio >= 10 ? `${ratio.toFixed(1)}x` : `${ratio.toFixed(2)}x`;
}

/** The human-readable table, with footnotes for truncation and failures. */
export function formatResults(results: TargetResult[]): string {
  const head = [
    'measurement',
    'frames',
    'median pkt/s',
    'min',
    'max',
    'spread',
    'vs libpcap',
    'vs p0f',
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const result of results) {
    if (result.status !== 'ok') {
      rows.push([result.label, '', result.status, '', '', '', '', '']);
      notes.push(`${result.label}: ${result.status}: ${result.reason}`);
      continue;
    }
    const frames =
      formatFrames(result.frames) + (result.isTruncated ? '*' : '');
    rows.push([
      result.label,
      frames,
      formatCount(result.medianPktsPerSec),
      formatCount(result.minPktsPerSec),
      formatCount(result.maxPktsPerSec),
      `${result.spreadPct.toFixed(1)}%`,
      formatRatio(result.vsLibpcap),
      formatRatio(result.vsP0f),
    ]);
    for (const error of result.errors) {
      notes.push(`${result.label}: a run failed: ${error}`);
    }
  }

  const lines = [formatTable(head, rows), ''];
  if (results.some((result) => result.isTruncated)) {
    lines.push(
      '* measured on the first frames of the capture only: the tool is',
      '  known to be slow, or ran below 500k pkt/s in its probe run',
    );
  }
  lines.push('spread = (max - min) / median over the runs');
  const cost = inventoryCost(results);
  if (cost.ofDecodeFlows !== null || cost.ofSensorPipeline !== null) {
    lines.push(
      `inventory pipeline rate: ${formatShare(cost.ofDecodeFlows)} of ` +
        `decode+flows (target 75%), ${formatShare(cost.ofSensorPipeline)} ` +
        'of the sensor pipeline without it (medians of per-round ratios)',
    );
  }
  lines.push('', 'how each row is timed:');
  for (const result of results) {
    lines.push(`  ${result.label}: ${result.method}`);
  }
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n') + '\n';
}
