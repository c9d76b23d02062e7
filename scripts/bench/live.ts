/**
 * `npm run bench:live`: zero-drop rate of live capture + decode + flows +
 * inventory on a veth pair, and the drop curve and event-loop lag above it.
 *
 * How it works: a namespace holds the sender end of a veth pair; trafgen
 * (netsniff-ng) sends the frames of a generated capture at stepped rates;
 * this process captures on the root-namespace end with LiveCapture and runs
 * the pipeline through runCaptureLoop, as the agent does. Each step runs
 * --runs times; the table shows medians. The zero-drop rate is the highest
 * step whose runs all had no kernel and no ring drops. The sender shares
 * the machine's cores with the sensor, so on a 2-core machine the rates are
 * a lower bound of what a dedicated sensor core reaches.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { CaptureFileReader } from '../../src/capture/capture-file.js';
import type { FrameSink } from '../../src/capture/frame.js';
import {
  LiveCapture,
  type LiveCaptureStats,
  runCaptureLoop,
} from '../../src/capture/live-capture.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';
import { ensureGeneratedCapture } from './bench-capture.js';
import { median } from './report.js';

const HELP = `usage: npm run bench:live -- [options]

options:
  --rates LIST     offered rates in packets/s, comma separated
                   (default 50000,100000,200000,300000,500000,750000,1000000)
  --runs N         runs per rate (default 3)
  --seconds N      seconds of traffic per run (default 5)
  --sink KIND      pipeline (decode+flows+inventory, default) or null
  --frames N       distinct frames the sender loops over (default 5000)
  --slice-ms N     drain slice of the capture loop (default 5)
  --sender-cpus N  trafgen processes (default 1); rate 0 sends flat out

A one-second run at the first rate warms the process up first (unreported).
`;

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const NETNS = `spansight-bench-${process.pid}`;
const CAPTURE_IF = `ssb${process.pid}c`;
const SENDER_IF = `ssb${process.pid}s`;

/** The capture of the run in progress, closed on a signal. */
let currentCapture: LiveCapture | null = null;

/** trafgen processes per run (its -P). */
let senderCpus = 1;

/** One run at one rate. */
interface RunResult {
  offeredPps: number;
  receivedPps: number;
  pipelinePps: number;
  sent: number;
  received: number;
  kernelDrops: number;
  ringDrops: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagP999Ms: number;
  lagMaxMs: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rates: {
        type: 'string',
        default: '50000,100000,200000,300000,500000,750000,1000000',
      },
      runs: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      sink: { type: 'string', default: 'pipeline' },
      frames: { type: 'string', default: '5000' },
      'slice-ms': { type: 'string', default: '5' },
      'sender-cpus': { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:live needs root (namespaces, capture)\n');
    return 1;
  }
  try {
    execFileSync('which', ['trafgen'], { stdio: 'ignore' });
  } catch {
    process.stderr.write(
      'bench:live needs trafgen: apt-get install netsniff-ng\n',
    );
    return 1;
  }
  const rates = values.rates.split(',').map(Number);
  const runs = Number(values.runs);
  const seconds = Number(values.seconds);
  const sliceMs = Number(values['slice-ms']);
  const frames = Number(values.frames);
  senderCpus = Number(values['sender-cpus']);

  const dataDir = join(repoRoot, 'bench-data');
  mkdirSync(dataDir, { recursive: true });
  const capture = await ensureGeneratedCapture(
    join(dataDir, `live-${frames}.pcap`),
    { frames, flows: Math.max(1, Math.floor(frames / 5)), seed: 11 },
    (line) => process.stderr.write(`${line}\n`),
  );
  const configPath = join(dataDir, `live-${frames}.trafgen`);
  const meanFrameBytes = writeTrafgenConfig(capture.path, configPath);

  setUpVeth();
  const cleanUp = (): void => tearDownVeth();
  process.on('exit', cleanUp);
  // A capture worker stopped by process exit in mid-dispatch aborts node;
  // close the capture first.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      void (currentCapture?.close() ?? Promise.resolve()).then(() =>
        process.exit(130),
      );
    });
  }

  process.stdout.write(
    `live capture bench: ${values.sink} sink, ${frames} distinct frames ` +
      `(mean ${meanFrameBytes.toFixed(0)} bytes), ${seconds} s per run, ` +
      `${runs} runs per rate, slice ${sliceMs} ms\n\n`,
  );
  const header =
    'target pps | offered pps | received pps | pipeline pps | kernel drops' +
    ' | ring drops | runs with drops | lag p50/p99/p99.9/max ms';
  process.stdout.write(`${header}\n`);
  let zeroDropPps = 0;
  // The first run of a process runs the pipeline in V8's interpreter until
  // it is compiled: a one-time start-up cost of the sensor, not its rate.
  await runOnce(rates[0], 1, values.sink, sliceMs, configPath);
  for (const rate of rates) {
    const results: RunResult[] = [];
    for (let i = 0; i < runs; i++) {
      results.push(
        await runOnce(rate, seconds, values.sink, sliceMs, configPath),
      );
    }
    const m = (pick: (r: RunResult) => number): number =>
      median(results.map(pick));
    const isZeroDrop = results.every(hasNoDrops);
    if (isZeroDrop)
      zeroDropPps = Math.max(
        zeroDropPps,
        m((r) => r.offeredPps),
      );
    process.stdout.write(
      [
        rate,
        Math.round(m((r) => r.offeredPps)),
        Math.round(m((r) => r.receivedPps)),
        Math.round(m((r) => r.pipelinePps)),
        m((r) => r.kernelDrops),
        m((r) => r.ringDrops),
        `${results.length - results.filter(hasNoDrops).length}/${results.length}`,
        [
          m((r) => r.lagP50Ms),
          m((r) => r.lagP99Ms),
          m((r) => r.lagP999Ms),
          m((r) => r.lagMaxMs),
        ]
          .map((v) => v.toFixed(1))
          .join('/'),
      ].join(' | ') + '\n',
    );
  }
  process.stdout.write(
    `\nzero-drop rate (offered, all runs): ${Math.round(zeroDropPps)} pps\n`,
  );
  return 0;
}

/**
 * Nothing lost: not in the kernel, not in the ring, and not before the
 * capture socket either (a veth backlog overflow shows only as fewer frames
 * received than trafgen sent).
 */
function hasNoDrops(run: RunResult): boolean {
  return (
    run.kernelDrops === 0 &&
    run.ringDrops === 0 &&
    run.received > 0 &&
    run.received >= run.sent
  );
}

/** One capture session while trafgen sends `rate` pps for `seconds`. */
async function runOnce(
  rate: number,
  seconds: number,
  sinkKind: string,
  sliceMs: number,
  configPath: string,
): Promise<RunResult> {
  const sink: FrameSink =
    sinkKind === 'null'
      ? { onFrame(): void {} }
      : new PacketPipeline({ inventory: new Inventory() });
  const capture = await LiveCapture.open({
    interface: CAPTURE_IF,
    feedLossTimeoutSec: 3600,
  });
  currentCapture = capture;
  const loop = runCaptureLoop(capture, sink, { sliceMs });
  const lag = monitorEventLoopDelay({ resolution: 1 });
  const before = capture.stats();

  // Rate 0: no pacing, each trafgen process as fast as it goes.
  const count = rate > 0 ? Math.round(rate * seconds) : 200_000 * seconds;
  const pacing = rate > 0 ? ['-b', `${rate}pps`] : [];
  const trafgenArgs = ['-i', configPath, '-o', SENDER_IF, '-n', String(count)]
    .concat(pacing)
    .concat(['-P', String(senderCpus), '-q']);
  const sender = spawn(
    'ip',
    ['netns', 'exec', NETNS, 'trafgen', ...trafgenArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let senderOut = '';
  sender.stdout.on('data', (chunk: Buffer) => (senderOut += chunk));
  sender.stderr.on('data', (chunk: Buffer) => (senderOut += chunk));
  const exited = new Promise<void>((done) => sender.on('close', () => done()));

  // trafgen parses its config first; time the run from the first frame.
  while (capture.stats().framesReceived === before.framesReceived) {
    if (sender.exitCode !== null) break;
    await sleepMs(5);
  }
  const startedMs = performance.now();
  lag.enable();
  await exited;
  const sentMs = performance.now();
  lag.disable();
  // Let the ring drain, then read the counters once more.
  let after: LiveCaptureStats = capture.stats();
  while (after.framesDelivered < after.framesReceived - after.ringDrops) {
    await sleepMs(10);
    after = capture.stats();
  }
  const drainedMs = performance.now();
  await sleepMs(300);
  after = capture.stats();
  await loop.stop();
  await capture.close();
  currentCapture = null;

  const sent = Number(/(\d+) packets outgoing/.exec(senderOut)?.[1] ?? 0);
  const sendSec = Math.max(1e-3, (sentMs - startedMs) / 1000);
  const received = after.framesReceived - before.framesReceived;
  return {
    offeredPps: sent / sendSec,
    receivedPps: received / sendSec,
    pipelinePps:
      (after.framesDelivered - before.framesDelivered) /
      Math.max(1e-3, (drainedMs - startedMs) / 1000),
    sent,
    received,
    kernelDrops: after.kernelDrops - before.kernelDrops,
    ringDrops: after.ringDrops - before.ringDrops,
    lagP50Ms: lag.percentile(50) / 1e6,
    lagP99Ms: lag.percentile(99) / 1e6,
    lagP999Ms: lag.percentile(99.9) / 1e6,
    lagMaxMs: lag.max / 1e6,
  };
}

/**
 * Write the capture's frames as a trafgen packet config (one `{ bytes }`
 * block per frame). Returns the mean frame length in bytes.
 */
function writeTrafgenConfig(pcapPath: string, configPath: string): number {
  const blocks: string[] = [];
  let totalBytes = 0;
  const sink: FrameSink = {
    onFrame(buf, off, capturedBytes): void {
      const bytes: string[] = [];
      for (let i = 0; i < capturedBytes; i++) {
        bytes.push(`0x${buf[off + i].toString(16).padStart(2, '0')}`);
      }
      blocks.push(`{ ${bytes.join(', ')} }`);
      totalBytes += capturedBytes;
    },
  };
  const reader = CaptureFileReader.open(pcapPath);
  try {
    while (reader.readBatch(sink, 65_536) > 0);
  } finally {
    reader.close();
  }
  writeFileSync(configPath, blocks.join('\n') + '\n');
  return totalBytes / Math.max(1, blocks.length);
}

/** Veth pair: sender end in a new namespace, capture end without address. */
function setUpVeth(): void {
  tearDownVeth();
  run('ip', ['netns', 'add', NETNS]);
  run(
    'ip',
    ['link', 'add', CAPTURE_IF, 'type', 'veth', 'peer', 'name'].concat([
      SENDER_IF,
      'netns',
      NETNS,
    ]),
  );
  // No IPv6 on either end: neither sends anything the bench did not ask for.
  writeFileSync(`/proc/sys/net/ipv6/conf/${CAPTURE_IF}/disable_ipv6`, '1');
  run(
    'ip',
    ['netns', 'exec', NETNS, 'sysctl', '-q', '-w'].concat([
      `net.ipv6.conf.${SENDER_IF}.disable_ipv6=1`,
    ]),
  );
  run('ip', ['link', 'set', CAPTURE_IF, 'up']);
  run('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', SENDER_IF, 'up']);
}

function tearDownVeth(): void {
  for (const args of [
    ['netns', 'del', NETNS],
    ['link', 'del', CAPTURE_IF],
  ]) {
    try {
      execFileSync('ip', args, { stdio: 'ignore' });
    } catch {
      // Not there.
    }
  }
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

process.exitCode = await main();
