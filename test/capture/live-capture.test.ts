/**
 * Live capture in network namespaces: fixtures replayed with tcpreplay into
 * a veth pair, captured on the root-namespace end, compared with offline.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

import { CaptureFileReader } from '../../src/capture/capture-file.js';
import type { FrameSink } from '../../src/capture/frame.js';
import {
  LiveCapture,
  type LiveCaptureOptions,
  runCaptureLoop,
} from '../../src/capture/live-capture.js';
import type { DeviceReport } from '../../src/inventory/device.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';
import {
  type VethNetns,
  createVethNetns,
  replay,
  sweepLeftovers,
  txPackets,
} from '../support/netns.js';

const FIXTURES = [
  'generated/hospital-sample.pcap',
  'public/generated-dicom/dicom-dcmtk.pcap',
  'public/generated-hl7/hl7-mllp-python-hl7.pcap',
].map((name) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)));

const SAMPLE = FIXTURES[0];

/**
 * The configured default. The DICOM fixture's A-ASSOCIATE requests are
 * longer, so both runs lose the implementation UID of some associations.
 */
const SNAP = 2048;

/** The sample's traffic is VLAN-tagged; this keeps its UDP frames. */
const BPF_FILTER = 'vlan and udp';

function defineTests(): void {
  for (const path of FIXTURES) {
    const name = path.split('/').pop();
    t.test(`live: inventory of ${name} equals the offline one`, async (t) => {
      const fileFrames = offlineRun(path, null);
      const env = setUp(t);
      const inventory = new Inventory();
      const pipeline = new PacketPipeline({ inventory });
      const timed = new TimeRecordingSink(pipeline, fileFrames.frames);
      const txBefore = txPackets(env.captureIf);
      const capture = await openCapture(t, env, { snapLengthBytes: SNAP });
      const loop = runCaptureLoop(capture, timed);
      t.teardown(() => loop.stop());

      await replay(env, path, { pps: 20_000 });
      await waitFor(() => capture.stats().framesDelivered >= fileFrames.frames);
      await sleepMs(300);
      await loop.stop();
      pipeline.flows.flush();

      const stats = capture.stats();
      t.equal(stats.framesReceived, fileFrames.frames, 'every frame received');
      t.equal(stats.framesDelivered, fileFrames.frames, 'every frame drained');
      t.equal(stats.kernelDrops, 0, 'no kernel drops');
      t.equal(stats.ringDrops, 0, 'no ring drops');
      t.equal(stats.feedState, 'ok');
      t.equal(stats.linkUp, true);
      t.equal(pipeline.wireBytes, fileFrames.wireBytes, 'same wire bytes');
      // The inventory depends on packet times (flow timeouts, conflict
      // windows), and the replay squeezes minutes into a fraction of a
      // second; so the file's frames are run offline with the live times.
      const offline = offlineRun(path, timed.timesUs, SNAP);
      t.same(
        withoutTimes(inventory.report()),
        withoutTimes(offline.devices),
        'same devices, fingerprints, counters and classification',
      );
      t.ok(offline.devices.length > 0, 'the fixture has devices');
      t.equal(txPackets(env.captureIf) - txBefore, 0, 'nothing transmitted');
      t.equal(txPackets(env.captureIf), 0, 'capture end never transmitted');
    });
  }

  t.test('live: a BPF filter keeps only the matching frames', async (t) => {
    const expected = countWithTcpdump(SAMPLE, BPF_FILTER);
    t.ok(expected > 0, 'the sample has matching frames');
    const env = setUp(t);
    const counter = new CountingSink();
    const capture = await openCapture(t, env, { bpfFilter: BPF_FILTER });
    const loop = runCaptureLoop(capture, counter);
    t.teardown(() => loop.stop());
    await replay(env, SAMPLE, { pps: 20_000 });
    await waitFor(() => counter.frames >= expected);
    await sleepMs(300);
    t.equal(counter.frames, expected, 'as many frames as tcpdump -r finds');
    t.equal(capture.stats().framesReceived, expected);
  });

  t.test('live: snap length caps the captured bytes', async (t) => {
    const offline = offlineRun(SAMPLE, null);
    const env = setUp(t);
    const counter = new CountingSink();
    const capture = await openCapture(t, env, { snapLengthBytes: 96 });
    const loop = runCaptureLoop(capture, counter);
    t.teardown(() => loop.stop());
    await replay(env, SAMPLE, { pps: 20_000 });
    await waitFor(() => counter.frames >= offline.frames);
    t.equal(counter.frames, offline.frames);
    t.equal(counter.maxCapturedBytes, 96, 'no frame above the snap length');
    t.equal(counter.wireBytes, offline.wireBytes, 'wire lengths kept');
  });

  t.test(
    'live: silence raises no_frames, the next frame clears it',
    async (t) => {
      const env = setUp(t);
      const counter = new CountingSink();
      const capture = await openCapture(t, env, { feedLossTimeoutSec: 1 });
      const loop = runCaptureLoop(capture, counter);
      t.teardown(() => loop.stop());
      const events: string[] = [];
      capture.on('feed_lost', (reason) => events.push(`lost:${reason}`));
      capture.on('feed_restored', () => events.push('restored'));

      await waitFor(() => capture.stats().feedState === 'lost', 5000);
      t.equal(capture.stats().feedLossReason, 'no_frames');
      await replay(env, SAMPLE, { pps: 20_000 });
      await waitFor(() => capture.stats().feedState === 'ok', 5000);
      t.same(events, ['lost:no_frames', 'restored']);
    },
  );

  t.test(
    'live: link down and up: feed lost, then capture resumes',
    async (t) => {
      const env = setUp(t);
      const counter = new CountingSink();
      const capture = await openCapture(t, env, {});
      const loop = runCaptureLoop(capture, counter);
      t.teardown(() => loop.stop());
      const events: string[] = [];
      capture.on('feed_lost', (reason) => events.push(`lost:${reason}`));
      capture.on('feed_restored', () => events.push('restored'));

      execFileSync('ip', ['link', 'set', env.captureIf, 'down']);
      await waitFor(() => capture.stats().feedState === 'lost', 5000);
      t.equal(capture.stats().feedLossReason, 'link_down');
      t.equal(capture.stats().linkUp, false);

      execFileSync('ip', ['link', 'set', env.captureIf, 'up']);
      await waitFor(() => capture.stats().feedState === 'ok', 10_000);
      t.equal(capture.stats().linkUp, true);
      const before = counter.frames;
      await replay(env, SAMPLE, { pps: 20_000 });
      await waitFor(() => counter.frames - before >= 2215, 10_000);
      t.equal(counter.frames - before, 2215, 'frames flow after link up');
      t.same(events.slice(0, 2), ['lost:link_down', 'restored']);
      t.equal(txPackets(env.captureIf), 0, 'nothing transmitted');
    },
  );

  t.test(
    'live: interface deleted and re-created: capture reopens',
    async (t) => {
      const env = setUp(t);
      const counter = new CountingSink();
      const capture = await openCapture(t, env, {});
      const loop = runCaptureLoop(capture, counter);
      t.teardown(() => loop.stop());
      let reopened = 0;
      capture.on('reopened', () => reopened++);

      env.deletePair();
      await waitFor(() => capture.stats().feedState === 'lost', 5000);
      // Whichever notices first: the link monitor, or the read failing.
      t.ok(
        ['interface_missing', 'capture_failed'].includes(
          capture.stats().feedLossReason ?? '',
        ),
        `lost for a missing interface: ${capture.stats().feedLossReason}`,
      );

      env.createPair();
      await waitFor(() => capture.stats().feedState === 'ok', 15_000);
      t.equal(reopened, 1, 'one new session');
      t.equal(capture.stats().sessionsOpened, 2);
      const before = counter.frames;
      await replay(env, SAMPLE, { pps: 20_000 });
      await waitFor(() => counter.frames - before >= 2215, 10_000);
      t.equal(
        counter.frames - before,
        2215,
        'frames flow on the new interface',
      );
    },
  );

  t.test('live: opening a missing interface fails with a code', async (t) => {
    await t.rejects(LiveCapture.open({ interface: 'ssc-missing0' }), {
      code: 'E_CAPTURE_OPEN_FAILED',
    });
    await t.rejects(LiveCapture.open({ interface: '../etc' }), {
      code: 'E_CONFIG_INVALID',
    });
  });
}

/** Passes frames on and keeps the capture time of each, in order. */
class TimeRecordingSink implements FrameSink {
  readonly timesUs: Float64Array;
  private frames = 0;

  constructor(
    private readonly next: FrameSink,
    maxFrames: number,
  ) {
    this.timesUs = new Float64Array(maxFrames);
  }

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    if (this.frames < this.timesUs.length) this.timesUs[this.frames] = timeUs;
    this.frames++;
    this.next.onFrame(buf, off, capturedBytes, wireBytes, timeUs, linkType);
  }
}

/** Counts frames and bytes; keeps the largest captured length. */
class CountingSink implements FrameSink {
  frames = 0;
  wireBytes = 0;
  maxCapturedBytes = 0;

  onFrame(
    _buf: Uint8Array,
    _off: number,
    capturedBytes: number,
    wireBytes: number,
  ): void {
    this.frames++;
    this.wireBytes += wireBytes;
    if (capturedBytes > this.maxCapturedBytes) {
      this.maxCapturedBytes = capturedBytes;
    }
  }
}

interface OfflineRun {
  frames: number;
  wireBytes: number;
  devices: DeviceReport[];
}

/**
 * The offline inventory, as `spansight inventory FILE` computes it, with
 * frame i stamped `timesUs[i]` instead of its file time when given, and
 * cut to the snap length as libpcap would.
 */
function offlineRun(
  path: string,
  timesUs: Float64Array | null,
  snapLengthBytes = Infinity,
): OfflineRun {
  const inventory = new Inventory();
  const pipeline = new PacketPipeline({ inventory });
  let index = 0;
  const restamp: FrameSink = {
    onFrame(buf, off, capturedBytes, wireBytes, timeUs, linkType): void {
      const time = timesUs === null ? timeUs : timesUs[index++];
      const keptBytes = Math.min(capturedBytes, snapLengthBytes);
      pipeline.onFrame(buf, off, keptBytes, wireBytes, time, linkType);
    },
  };
  const reader = CaptureFileReader.open(path);
  try {
    while (reader.readBatch(restamp, 65_536) > 0);
  } finally {
    reader.close();
  }
  pipeline.flows.flush();
  return {
    frames: pipeline.frames,
    wireBytes: pipeline.wireBytes,
    devices: inventory.report(),
  };
}

/**
 * The report without firstSeen/lastSeen: live timestamps are the replay's,
 * not the file's. Everything else, counts and bytes included, must match.
 */
function withoutTimes(devices: DeviceReport[]): unknown[] {
  return devices.map(({ firstSeen: _f, lastSeen: _l, ...rest }) => rest);
}

function setUp(t: Test): VethNetns {
  const env = createVethNetns();
  t.teardown(() => env.destroy());
  return env;
}

async function openCapture(
  t: Test,
  env: VethNetns,
  options: Partial<LiveCaptureOptions>,
): Promise<LiveCapture> {
  const capture = await LiveCapture.open({
    interface: env.captureIf,
    ringBytes: 4 * 1024 * 1024,
    bufferBytes: 8 * 1024 * 1024,
    monitorIntervalMs: 200,
    reopenMinDelayMs: 200,
    ...options,
  });
  t.teardown(() => capture.close());
  return capture;
}

function countWithTcpdump(path: string, filter: string): number {
  const out = execFileSync('tcpdump', ['-nn', '-r', path, filter], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.split('\n').filter((line) => line !== '').length;
}

async function waitFor(isDone: () => boolean, timeoutMs = 20_000) {
  const endMs = Date.now() + timeoutMs;
  while (!isDone() && Date.now() < endMs) await sleepMs(50);
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function whySkip(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for namespaces';
  for (const tool of ['ip', 'tcpreplay', 'tcpdump']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

// Last, so that the helper classes above exist when the tests start.
const skip = whySkip();
if (skip !== null) {
  t.plan(0, skip);
} else {
  sweepLeftovers();
  defineTests();
}
