/**
 * The --memory benchmark: peak resident memory of a whole `spansight read`
 * process on a ~1 GB and a ~5 GB capture, which should be about the same.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import {
  ensureGeneratedCapture,
  formatBytes,
  isReusableCapture,
  type BenchCaptureParams,
  type CaptureInfo,
} from './bench-capture.js';
import { timeProcess, type TargetContext } from './peers.js';

/** Capture sizes compared, in bytes (decimal, as disks are sold). */
const MEMORY_CAPTURE_BYTES = [1e9, 5e9];
/** Peak RSS may differ this much (percent) and still count as flat. */
const FLAT_RSS_TOLERANCE_PCT = 10;
/** Left free on the disk after the captures are written. */
const DISK_MARGIN_BYTES = 1e9;
/** How often /proc is polled when /usr/bin/time is missing. */
const RSS_POLL_MS = 10;
const GNU_TIME = '/usr/bin/time';

/** Peak RSS of one `spansight read` run. */
export interface MemorySample {
  path: string;
  fileBytes: number;
  frames: number;
  peakRssBytes: number;
  /** 'time -v' (exact) or 'VmHWM poll' (may miss a final spike). */
  rssMethod: string;
  elapsedNs: number;
}

/** The --memory outcome. */
export interface MemoryReport {
  samples: MemorySample[];
  /** Largest over smallest peak RSS, minus one, in percent. */
  rssGrowthPct: number;
  isFlat: boolean;
}

/**
 * Generate (or reuse) the ~1 GB and ~5 GB captures beside `base`, with as
 * many frames as `base`'s average record size needs, and measure each.
 */
export async function runMemoryBench(
  context: TargetContext,
  base: CaptureInfo,
  params: Omit<BenchCaptureParams, 'frames'>,
  dataDir: string,
  log: (line: string) => void,
): Promise<MemoryReport> {
  const bytesPerFrame = base.fileBytes / base.frames;
  const plans = MEMORY_CAPTURE_BYTES.map((bytes) => ({
    path: join(dataDir, `bench-${Math.round(bytes / 1e9)}gb.pcap`),
    bytes,
    params: { ...params, frames: Math.round(bytes / bytesPerFrame) },
  }));

  const missingBytes = plans
    .filter((plan) => !isReusableCapture(plan.path, plan.params))
    .reduce((sum, plan) => sum + plan.bytes, 0);
  if (missingBytes > 0) {
    const stats = statfsSync(dataDir);
    const freeBytes = stats.bavail * stats.bsize;
    log(
      `warning: --memory writes about ${formatBytes(missingBytes)} under ` +
        `${dataDir} (${formatBytes(freeBytes)} free); delete bench-data/ ` +
        'when done',
    );
    if (freeBytes < missingBytes + DISK_MARGIN_BYTES) {
      const spare = formatBytes(DISK_MARGIN_BYTES);
      throw new Error(
        `not enough disk space: need ${formatBytes(missingBytes)} plus ` +
          `${spare} spare, have ${formatBytes(freeBytes)}`,
      );
    }
  }

  const samples: MemorySample[] = [];
  for (const plan of plans) {
    const capture = await ensureGeneratedCapture(plan.path, plan.params, log);
    log(`measuring peak RSS of spansight read on ${plan.path}`);
    samples.push(await measurePeakRss(context, capture));
  }

  const rssValues = samples.map((sample) => sample.peakRssBytes);
  const rssGrowthPct =
    (Math.max(...rssValues) / Math.min(...rssValues) - 1) * 100;
  return {
    samples,
    rssGrowthPct,
    isFlat: rssGrowthPct <= FLAT_RSS_TOLERANCE_PCT,
  };
}

async function measurePeakRss(
  context: TargetContext,
  capture: CaptureInfo,
): Promise<MemorySample> {
  const bin = join(context.repoRoot, 'bin', 'spansight.js');
  const readArgs = [bin, 'read', capture.path, '--json', '--no-progress'];
  const measured = existsSync(GNU_TIME)
    ? await peakRssByTime(context.nodePath, readArgs)
    : await peakRssByPolling(context.nodePath, readArgs);
  const report = JSON.parse(measured.stdout) as { packets?: number };
  if (report.packets !== capture.frames) {
    throw new Error(
      `spansight read saw ${report.packets} of ${capture.frames} frames`,
    );
  }
  return {
    path: capture.path,
    fileBytes: statSync(capture.path).size,
    frames: capture.frames,
    peakRssBytes: measured.peakRssBytes,
    rssMethod: measured.rssMethod,
    elapsedNs: measured.elapsedNs,
  };
}

interface RssMeasurement {
  peakRssBytes: number;
  rssMethod: string;
  elapsedNs: number;
  stdout: string;
}

/** GNU time's "Maximum resident set size" comes from the kernel's rusage. */
async function peakRssByTime(
  nodePath: string,
  args: string[],
): Promise<RssMeasurement> {
  const outcome = await timeProcess(GNU_TIME, ['-v', nodePath, ...args], {
    captureStdout: true,
  });
  if (outcome.exitCode !== 0) {
    throw new Error(`spansight read failed: ${outcome.stderrTail.trim()}`);
  }
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(
    outcome.stderrTail,
  );
  if (match === null) throw new Error('no peak RSS in time -v output');
  return {
    peakRssBytes: Number(match[1]) * 1024,
    rssMethod: 'time -v',
    elapsedNs: outcome.elapsedNs,
    stdout: outcome.stdout,
  };
}

/** Without GNU time: the kernel's high-water mark, read until exit. */
function peakRssByPolling(
  nodePath: string,
  args: string[],
): Promise<RssMeasurement> {
  return new Promise((resolve, reject) => {
    const startNs = process.hrtime.bigint();
    const child = spawn(nodePath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let peakRssBytes = 0;
    let stdout = '';
    let stderr = '';
    const poll = (): void => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match !== null) {
          peakRssBytes = Math.max(peakRssBytes, Number(match[1]) * 1024);
        }
      } catch {
        // The process is gone; the last reading stands.
      }
    };
    const timer = setInterval(poll, RSS_POLL_MS);
    child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearInterval(timer);
      if (exitCode !== 0) {
        reject(new Error(`spansight read failed: ${stderr.trim()}`));
        return;
      }
      resolve({
        peakRssBytes,
        rssMethod: 'VmHWM poll',
        elapsedNs: Number(process.hrtime.bigint() - startNs),
        stdout,
      });
    });
  });
}

/** The --memory table. */
export function formatMemoryReport(report: MemoryReport): string {
  const lines = ['peak RSS of `spansight read FILE --json` (whole process):'];
  for (const sample of report.samples) {
    const seconds = sample.elapsedNs / 1e9;
    lines.push(
      `  ${sample.path}: ${formatBytes(sample.fileBytes)}, ` +
        `${sample.frames.toLocaleString('en-US')} frames, peak RSS ` +
        `${(sample.peakRssBytes / 2 ** 20).toFixed(1)} MiB ` +
        `(${sample.rssMethod}), ${seconds.toFixed(1)} s`,
    );
  }
  const verdict = report.isFlat ? 'within' : 'NOT within';
  lines.push(
    `  largest / smallest peak: +${report.rssGrowthPct.toFixed(1)}%, ` +
      `${verdict} ${FLAT_RSS_TOLERANCE_PCT}%`,
  );
  return lines.join('\n') + '\n';
}
