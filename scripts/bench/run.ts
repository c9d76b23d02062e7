/**
 * `npm run bench`: packets per second of spansight beside libpcap, p0f,
 * nDPI, tshark and node-pcap on one generated 2M-frame capture.
 *
 * How to read the numbers:
 * - pkt/s is frames in the capture divided by the time of one run. Each row
 *   shows the median of --runs runs, with min and max; spread is (max - min)
 *   / median. Above ~10% the machine was noisy: re-run before comparing.
 * - Rows time different things. tcpdump, p0f, ndpiReader, tshark and
 *   "spansight read (process)" are whole processes, wall time from spawn to
 *   exit, start-up and output included: compare those with each other. The
 *   in-process rows time only their frame loop in a fresh node process.
 * - "capture read only", "decode" and "decode+flows" add one stage each:
 *   1e9 / pkt/s is ns per frame, and the difference between two rows is
 *   that stage's cost per frame.
 * - "vs libpcap" divides by the tcpdump median (reading and writing frames
 *   with no parsing: a ceiling for a libpcap-based reader); "vs p0f" by
 *   p0f's (a C passive fingerprinter doing comparable per-packet work).
 * - Rows marked * ran on the first 200,000 frames: tshark always, any other
 *   tool whose probe run over the whole capture was below 500k pkt/s. Fixed
 *   start-up weighs more on a short capture, so those rates are pessimistic.
 * - Runs are interleaved, each round starting at the next row, so a drift
 *   in machine load hits every row alike. A discarded probe run per row
 *   warms the page cache first.
 * - The rates are this machine's. On a Raspberry Pi, divide by about 1.5-2.5
 *   (Pi 5) or 3-6 (Pi 4) for branchy parsing code.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  describeCapture,
  ensureGeneratedCapture,
  formatBytes,
  warmPageCache,
  writeFramePrefix,
  type CaptureInfo,
} from './bench-capture.js';
import {
  WARD_DEFAULT_DURATION_SEC,
  WARD_DEFAULT_SEED,
  generateWardCapture,
} from './generate-ward-capture.js';
import { formatMemoryReport, runMemoryBench } from './memory.js';
import { benchTargets, type BenchTarget, type TargetContext } from './peers.js';
import {
  formatPublishSize,
  measurePublishSize,
  type PublishSizeReport,
} from './publish-size.js';
import {
  formatResults,
  formatShare,
  inventoryCost,
  type InventoryCost,
  newTargetResult,
  summarize,
  type TargetResult,
} from './report.js';

const HELP = `usage: npm run bench -- [options]

Measure packets per second of spansight and peer tools on one capture.

options:
  --frames N      frames in the generated capture (default 2000000)
  --flows N       flows in the generated capture (default 100000)
  --seed N        generator seed (default 1)
  --runs N        timed runs per measurement; the median is shown (default 5)
  --only a,b      run only these measurements, ids from:
                  IDS
                  (publish-size: bytes published per device-hour for the
                  capture, the hospital-like sample and one hour of a ward,
                  bench-data/ward-1h.pcap, generated on first use; not a
                  pkt/s row; inventory: its cost is timed on the ward hour
                  too)
  --capture FILE  measure FILE instead of generating bench-data/bench-2m.pcap
  --json          print one JSON object on stdout instead of the table
  --memory        instead: peak RSS of spansight read on ~1 GB and ~5 GB
                  captures (written to bench-data/, about 6 GB)
`;

const DEFAULT_FRAMES = 2_000_000;
const DEFAULT_FLOWS = 100_000;
const DEFAULT_SEED = 1;
const DEFAULT_RUNS = 5;
/** Frames given to slow tools, so a run takes seconds, not minutes. */
const SHORT_CAPTURE_FRAMES = 200_000;
/** Run-to-run spread above which the table warns of a busy machine. */
const NOISY_PCT = 10;
/** A probe below this rate moves a tool to the short capture. */
const SLOW_PKTS_PER_SEC = 500_000;

interface BenchOptions {
  frames: number;
  flows: number;
  seed: number;
  runs: number;
  only: string[] | null;
  capturePath: string | null;
  isJson: boolean;
  isMemory: boolean;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dataDir = join(repoRoot, 'bench-data');
/** Id of the publish-size group: sizes, not a pkt/s target. */
const PUBLISH_SIZE_ID = 'publish-size';
/** The hospital-like sample the publish-size group also measures. */
const HOSPITAL_SAMPLE = join(
  repoRoot,
  'test/fixtures/generated/hospital-sample.pcap',
);

/** One hour of a hospital ward segment (generate-ward-capture.ts). */
const WARD_CAPTURE = join(dataDir, 'ward-1h.pcap');

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function parsePositiveInt(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name} must be a positive integer, got "${text}"`);
  }
  return value;
}

function parseOptions(args: string[], ids: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args,
    options: {
      frames: { type: 'string', default: String(DEFAULT_FRAMES) },
      flows: { type: 'string', default: String(DEFAULT_FLOWS) },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      runs: { type: 'string', default: String(DEFAULT_RUNS) },
      only: { type: 'string' },
      capture: { type: 'string' },
      json: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP.replace('IDS', ids.join(',')));
    return null;
  }
  const only = values.only === undefined ? null : values.only.split(',');
  const unknown = (only ?? []).filter((id) => !ids.includes(id));
  if (unknown.length > 0) {
    throw new Error(`unknown --only ${unknown.join(',')}; ids: ${ids}`);
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    throw new Error(`--seed must be a non-negative integer`);
  }
  return {
    frames: parsePositiveInt('frames', values.frames),
    flows: parsePositiveInt('flows', values.flows),
    seed,
    runs: parsePositiveInt('runs', values.runs),
    only,
    capturePath: values.capture === undefined ? null : resolve(values.capture),
    isJson: values.json,
    isMemory: values.memory,
  };
}

function captureName(frames: number): string {
  if (frames % 1_000_000 === 0) return `bench-${frames / 1_000_000}m.pcap`;
  return `bench-${frames}.pcap`;
}

async function loadCapture(options: BenchOptions): Promise<CaptureInfo> {
  if (options.capturePath !== null) {
    log(`counting frames of ${options.capturePath}`);
    return describeCapture(options.capturePath);
  }
  const path = join(dataDir, captureName(options.frames));
  return ensureGeneratedCapture(
    path,
    { frames: options.frames, flows: options.flows, seed: options.seed },
    log,
  );
}

function emptyResult(target: BenchTarget): TargetResult {
  return newTargetResult(target.id, target.label, target.method);
}

function pktsPerSec(frames: number, elapsedNs: number): number {
  return frames / (elapsedNs / 1e9);
}

function formatRate(rate: number): string {
  return `${Math.round(rate).toLocaleString('en-US')} pkt/s`;
}

/**
 * Check and probe every target, then measure them in interleaved rounds.
 * The probe is discarded: it warms caches and picks the capture per target.
 */
async function measureTargets(
  targets: BenchTarget[],
  full: CaptureInfo,
  short: CaptureInfo,
  runs: number,
): Promise<TargetResult[]> {
  const results = targets.map(emptyResult);
  const captures = new Map<string, CaptureInfo>();
  for (const [i, target] of targets.entries()) {
    const result = results[i];
    const reason = await target.check();
    if (reason !== null) {
      result.status = 'unavailable';
      result.reason = reason;
      log(`${target.label}: unavailable (${reason})`);
      continue;
    }
    try {
      const capture = await probe(target, full, short);
      captures.set(target.id, capture);
      result.frames = capture.frames;
      result.isTruncated = capture !== full;
    } catch (error) {
      result.status = 'failed';
      result.reason = (error as Error).message;
      log(`${target.label}: failed (${result.reason})`);
    }
  }

  const active = targets.filter((target) => captures.has(target.id));
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < active.length; k++) {
      const target = active[(round + k) % active.length];
      const result = results[targets.indexOf(target)];
      try {
        const sample = await target.run(captures.get(target.id)!);
        if (sample === null) throw new Error('killed at its deadline');
        const rate = pktsPerSec(sample.frames, sample.elapsedNs);
        result.runPktsPerSec.push(rate);
        log(`run ${round + 1}/${runs} ${target.label}: ${formatRate(rate)}`);
      } catch (error) {
        result.errors.push((error as Error).message);
        log(`run ${round + 1}/${runs} ${target.label}: failed`);
      }
    }
  }
  for (const result of results) {
    if (result.status === 'ok' && result.runPktsPerSec.length === 0) {
      result.status = 'failed';
      result.reason = result.errors[0] ?? 'no run completed';
    }
  }
  summarize(results);
  return results;
}

/**
 * One discarded run that picks the capture: the short one for a known slow
 * tool, or for one slower than 500k pkt/s on the full capture. A process
 * that cannot finish the full capture at that rate is killed at the time
 * it would have needed, so the probe never costs more than that.
 */
async function probe(
  target: BenchTarget,
  full: CaptureInfo,
  short: CaptureInfo,
): Promise<CaptureInfo> {
  if (target.isKnownSlow || full === short) {
    const sample = await target.run(short);
    if (sample !== null) {
      const rate = pktsPerSec(sample.frames, sample.elapsedNs);
      log(`${target.label}: probe on the short capture ${formatRate(rate)}`);
    }
    return short;
  }
  const deadlineMs = (full.frames / SLOW_PKTS_PER_SEC) * 1000;
  const sample = await target.run(full, deadlineMs);
  if (sample === null) {
    log(`${target.label}: probe slower than ${formatRate(SLOW_PKTS_PER_SEC)}`);
    return short;
  }
  const rate = pktsPerSec(sample.frames, sample.elapsedNs);
  log(`${target.label}: probe ${formatRate(rate)}`);
  return rate < SLOW_PKTS_PER_SEC ? short : full;
}

function machineSummary(): Record<string, unknown> {
  const cores = cpus();
  return {
    node: process.version,
    cpuModel: cores[0]?.model ?? 'unknown',
    cpuCount: cores.length,
    loadAverage1m: loadavg()[0],
  };
}

function describeForPeople(capture: CaptureInfo, short: CaptureInfo): string {
  const avgBytes = capture.fileBytes / Math.max(capture.frames, 1);
  const machine = machineSummary();
  const load = Number(machine.loadAverage1m).toFixed(2);
  return (
    `capture: ${capture.path} (${capture.format}, ` +
    `${capture.frames.toLocaleString('en-US')} frames, ` +
    `${formatBytes(capture.fileBytes)}, ${avgBytes.toFixed(0)} B/frame)\n` +
    (short === capture
      ? ''
      : `short capture: ${short.path} ` +
        `(${short.frames.toLocaleString('en-US')} frames)\n`) +
    `machine: ${machine.cpuModel} x${machine.cpuCount}, node ` +
    `${machine.node}, load average ${load}\n`
  );
}

async function runBench(args: string[]): Promise<number> {
  const context: TargetContext = { repoRoot, nodePath: process.execPath };
  const allTargets = benchTargets(context);
  const options = parseOptions(args, [
    ...allTargets.map((target) => target.id),
    PUBLISH_SIZE_ID,
  ]);
  if (options === null) return 0;

  if (options.isMemory) {
    const base = await loadCapture(options);
    const report = await runMemoryBench(
      context,
      base,
      { flows: options.flows, seed: options.seed },
      dataDir,
      log,
    );
    process.stdout.write(
      options.isJson
        ? JSON.stringify({ memory: report }, null, 2) + '\n'
        : formatMemoryReport(report),
    );
    return report.isFlat ? 0 : 1;
  }

  const capture = await loadCapture(options);
  const targets = allTargets.filter(
    (target) => options.only === null || options.only.includes(target.id),
  );
  let short = capture;
  if (targets.length > 0 && capture.frames > SHORT_CAPTURE_FRAMES) {
    const name = basename(capture.path).replace(/\.[^.]*$/, '');
    const shortPath = join(dataDir, `${name}.first-200k.${capture.format}`);
    short = writeFramePrefix(capture, SHORT_CAPTURE_FRAMES, shortPath);
  }
  if (targets.length > 0) warmPageCache(capture.path);

  const loadAtStart = loadavg()[0];
  const results = await measureTargets(targets, capture, short, options.runs);
  const wardInventoryCost = targets.some((target) => target.id === 'inventory')
    ? await measureWardInventoryCost(allTargets, options.runs)
    : null;
  const publishSizes =
    options.only === null || options.only.includes(PUBLISH_SIZE_ID)
      ? await measurePublishSizes(capture)
      : [];

  if (options.isJson) {
    const report = {
      capture,
      shortCapture: short,
      runs: options.runs,
      machine: { ...machineSummary(), loadAverage1mAtStart: loadAtStart },
      results,
      inventoryCost: inventoryCost(results),
      wardInventoryCost,
      publishSizes,
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    process.stdout.write(describeForPeople(capture, short) + '\n');
    if (targets.length > 0) process.stdout.write(formatResults(results));
    if (wardInventoryCost !== null) {
      process.stdout.write(formatWardInventoryCost(wardInventoryCost));
    }
    const noisy = results.filter((result) => result.spreadPct > NOISY_PCT);
    if (noisy.length > 0) {
      process.stdout.write(
        `\nwarning: ${noisy.length} rows spread over ${NOISY_PCT}% (load ` +
          `average ${loadAtStart.toFixed(2)} at start, ${cpus().length} ` +
          'cores): the machine was busy; re-run when it is idle\n',
      );
    }
    if (publishSizes.length > 0) {
      process.stdout.write(
        '\npublish size: what the sensor publishes, offline (sizes are ' +
          'deterministic: one run)\n',
      );
      for (const report of publishSizes) {
        process.stdout.write(formatPublishSize(report));
      }
    }
  }
  return results.some((result) => result.status === 'failed') ? 1 : 0;
}

/**
 * The inventory's cost on an hour of a ward: decode + flows, the sensor
 * pipeline and the inventory pipeline, timed in interleaved rounds as on
 * the bench capture. The bench capture opens a flow every 20 frames; this
 * is the traffic the sensor is for.
 */
async function measureWardInventoryCost(
  allTargets: BenchTarget[],
  runs: number,
): Promise<InventoryCost> {
  const ward = describeCapture(ensureWardCapture());
  warmPageCache(ward.path);
  const ids = ['flows', 'sensor', 'inventory'];
  const targets = allTargets.filter((target) => ids.includes(target.id));
  log(`inventory cost on ${ward.path}`);
  const results = await measureTargets(targets, ward, ward, runs);
  return inventoryCost(results);
}

function formatWardInventoryCost(cost: InventoryCost): string {
  return (
    `on ${basename(WARD_CAPTURE)} (one hour of a ward): inventory pipeline ` +
    `rate ${formatShare(cost.ofDecodeFlows)} of decode+flows, ` +
    `${formatShare(cost.ofSensorPipeline)} of the sensor pipeline\n`
  );
}

/**
 * Publish sizes of the bench capture, the hospital-like sample and the
 * ward hour.
 */
async function measurePublishSizes(
  capture: CaptureInfo,
): Promise<PublishSizeReport[]> {
  const reports: PublishSizeReport[] = [];
  for (const path of [capture.path, HOSPITAL_SAMPLE, ensureWardCapture()]) {
    log(`publish size of ${path}`);
    reports.push(await measurePublishSize(path));
  }
  return reports;
}

/** What the ward capture was made with, stored beside it. */
interface WardSidecar {
  durationSec: number;
  seed: number;
  /** SHA-1 of the compiled generator and the fixture helpers it uses. */
  generatorSha1: string;
  fileBytes: number;
  mtimeMs: number;
}

/**
 * The ward capture's path, generated when missing or when the generator
 * changed since it was written (about 1 GB, a minute or so).
 */
function ensureWardCapture(): string {
  const sidecarPath = `${WARD_CAPTURE}.params.json`;
  const wanted = {
    durationSec: WARD_DEFAULT_DURATION_SEC,
    seed: WARD_DEFAULT_SEED,
    generatorSha1: wardGeneratorSha1(),
  };
  if (existsSync(WARD_CAPTURE) && existsSync(sidecarPath)) {
    const stat = statSync(WARD_CAPTURE);
    let sidecar: WardSidecar | null = null;
    try {
      sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as WardSidecar;
    } catch {
      sidecar = null;
    }
    if (
      sidecar !== null &&
      sidecar.durationSec === wanted.durationSec &&
      sidecar.seed === wanted.seed &&
      sidecar.generatorSha1 === wanted.generatorSha1 &&
      sidecar.fileBytes === stat.size &&
      sidecar.mtimeMs === stat.mtimeMs
    ) {
      log(`reusing ${WARD_CAPTURE}`);
      return WARD_CAPTURE;
    }
  }
  mkdirSync(dataDir, { recursive: true });
  log(`generating ${WARD_CAPTURE}: ${wanted.durationSec} s of a ward`);
  const startedMs = performance.now();
  const stats = generateWardCapture({
    path: WARD_CAPTURE,
    durationSec: wanted.durationSec,
    seed: wanted.seed,
  });
  const seconds = (performance.now() - startedMs) / 1000;
  log(
    `generated ${stats.frames.toLocaleString('en-US')} frames, ` +
      `${formatBytes(stats.wireBytes)} on the wire, in ${seconds.toFixed(1)} s`,
  );
  const stat = statSync(WARD_CAPTURE);
  const sidecar: WardSidecar = {
    ...wanted,
    fileBytes: stat.size,
    mtimeMs: stat.mtimeMs,
  };
  writeFileSync(sidecarPath, JSON.stringify(sidecar, null, 2) + '\n');
  return WARD_CAPTURE;
}

function wardGeneratorSha1(): string {
  const hash = createHash('sha1');
  for (const module of [
    './generate-ward-capture.js',
    '../make-fixtures.js',
    '../lib/frame-builder.js',
  ]) {
    hash.update(readFileSync(fileURLToPath(new URL(module, import.meta.url))));
  }
  return hash.digest('hex');
}

runBench(process.argv.slice(2)).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error)?.message ?? error}\n`);
    process.exitCode = 1;
  },
);
