/**
 * Mutation fuzzer for the decoders, the flow table and the inventory (every
 * extractor, the device table, the settling of device counters): frames
 * from the fixture captures, bit-flipped, cut short and with length fields
 * pushed to extremes, must never throw and never hang.
 */
import { fileURLToPath } from 'node:url';

import {
  CaptureFileError,
  CaptureFileReader,
} from '../src/capture/capture-file.js';
import { LinkType } from '../src/capture/link-type.js';
import { LayerCounts } from '../src/decode/layer-counts.js';
import { decodeFrame } from '../src/decode/frame.js';
import { DecodeStatus, DecodedPacket } from '../src/decode/packet.js';
import { FlowTable } from '../src/flows/flow-table.js';
import { Inventory } from '../src/inventory/inventory.js';
import { listCaptureFiles } from './lib/capture-files.js';

/** A frame to mutate, with the link type it was captured on. */
export interface SeedFrame {
  bytes: Uint8Array;
  linkType: number;
}

export interface FuzzOptions {
  seeds: SeedFrame[];
  iterations: number;
  /** PRNG seed, so a failure can be replayed exactly. */
  randomSeed: number;
  /** Stop early when this much wall time has passed (0: no limit). */
  maxDurationMs?: number;
}

export interface FuzzResult {
  iterations: number;
  exceptions: number;
  /** The first exception, with the input that caused it, hex-encoded. */
  firstFailure: { message: string; frameHex: string; linkType: number } | null;
  /** Slowest single decode, to tell a hang from a slow machine. */
  slowestDecodeMs: number;
  statusCounts: Record<string, number>;
}

const MUTATIONS_PER_FRAME_MAX = 4;
/**
 * A small device table, so that mutated MACs fill it and evictions run;
 * a report (which settles every flow into its devices) every so often.
 */
const FUZZ_MAX_DEVICES = 1024;
const REPORT_EVERY_ITERATIONS = 20_000;
const MAX_FRAME_BYTES = 2048;

/** Link types every mutant is also decoded as: wrong-link input is input. */
const LINK_TYPES = Object.values(LinkType);

/**
 * Run `iterations` mutants through decode, counting, the flow table and the
 * inventory, as the pipeline does. Exceptions are caught and reported,
 * never rethrown.
 */
export function runFuzz(options: FuzzOptions): FuzzResult {
  const random = xorshift32(options.randomSeed);
  const packet = new DecodedPacket();
  const counts = new LayerCounts();
  const inventory = new Inventory({ maxDevices: FUZZ_MAX_DEVICES });
  const flows = new FlowTable({
    maxFlows: 4096,
    onFlowEnd: (_table, flowId) => inventory.onFlowEnd(flowId),
  });
  inventory.attachFlows(flows);
  const scratch = new Uint8Array(MAX_FRAME_BYTES);
  const statusCounts = [0, 0, 0, 0];
  const startedMs = performance.now();
  const result: FuzzResult = {
    iterations: 0,
    exceptions: 0,
    firstFailure: null,
    slowestDecodeMs: 0,
    statusCounts: {},
  };

  for (let i = 0; i < options.iterations; i++) {
    const seed = options.seeds[random() % options.seeds.length];
    const frameBytes = mutate(seed.bytes, scratch, random);
    const linkType =
      random() % 8 === 0
        ? LINK_TYPES[random() % LINK_TYPES.length]
        : seed.linkType;
    // Sometimes claim more on the wire than captured, as a snap length does.
    const wireBytes = frameBytes + (random() % 4 === 0 ? random() % 1500 : 0);

    const decodeStartMs = performance.now();
    try {
      const status = decodeFrame(
        scratch,
        0,
        frameBytes,
        wireBytes,
        linkType,
        packet,
      );
      statusCounts[status]++;
      counts.count(packet, status);
      if (status === DecodeStatus.Ok) {
        const timeUs = i * 1000;
        const flowId = flows.observe(packet, scratch, timeUs, wireBytes);
        if (flowId < 0 || flows.lastIsWatched) {
          inventory.observe(
            packet,
            scratch,
            frameBytes,
            timeUs,
            wireBytes,
            flowId,
          );
        }
      }
      if (i % REPORT_EVERY_ITERATIONS === REPORT_EVERY_ITERATIONS - 1) {
        inventory.report();
      }
    } catch (error) {
      result.exceptions++;
      if (result.firstFailure === null) {
        result.firstFailure = {
          message: error instanceof Error ? (error.stack ?? error.message) : '',
          frameHex: Buffer.from(scratch.subarray(0, frameBytes)).toString(
            'hex',
          ),
          linkType,
        };
      }
    }
    const decodeMs = performance.now() - decodeStartMs;
    if (decodeMs > result.slowestDecodeMs) result.slowestDecodeMs = decodeMs;

    result.iterations++;
    const limitMs = options.maxDurationMs ?? 0;
    if (limitMs > 0 && (i & 0xfff) === 0) {
      if (performance.now() - startedMs > limitMs) break;
    }
  }

  result.statusCounts = {
    ok: statusCounts[DecodeStatus.Ok],
    truncated: statusCounts[DecodeStatus.Truncated],
    malformed: statusCounts[DecodeStatus.Malformed],
    unsupported: statusCounts[DecodeStatus.Unsupported],
  };
  return result;
}

/**
 * Copy `source` into `out` and apply 1 to 4 mutations: bit flips, random
 * bytes, a 16-bit field set to 0 or 0xffff (lengths, counts), a byte set to
 * 0x00 or 0xff (header-length nibbles), or a cut. Returns the new length.
 */
function mutate(
  source: Uint8Array,
  out: Uint8Array,
  random: () => number,
): number {
  let lengthBytes = Math.min(source.length, out.length);
  out.set(source.subarray(0, lengthBytes));
  if (lengthBytes === 0) return 0;

  const mutations = 1 + (random() % MUTATIONS_PER_FRAME_MAX);
  for (let m = 0; m < mutations && lengthBytes > 0; m++) {
    const at = random() % lengthBytes;
    switch (random() % 6) {
      case 0:
        out[at] ^= 1 << (random() % 8);
        break;
      case 1:
        out[at] = random() & 0xff;
        break;
      case 2: {
        const value = random() % 2 === 0 ? 0 : 0xff;
        out[at] = value;
        if (at + 1 < lengthBytes) out[at + 1] = value;
        break;
      }
      case 3:
        out[at] = random() % 2 === 0 ? 0x00 : 0xff;
        break;
      case 4:
        out[at] = (out[at] & 0xf0) | (random() % 16);
        break;
      default:
        lengthBytes = at;
        break;
    }
  }
  return lengthBytes;
}

/** A small deterministic PRNG (Marsaglia xorshift), never returning 0. */
export function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** Frames of every capture under `dir`, copied, at most `maxFrames`. */
export function loadSeedFrames(dir: string, maxFrames: number): SeedFrame[] {
  const frames: SeedFrame[] = [];
  for (const path of listCaptureFiles(dir)) {
    const sink = {
      onFrame(
        buf: Uint8Array,
        off: number,
        capturedBytes: number,
        _wireBytes: number,
        _timeUs: number,
        linkType: number,
      ) {
        if (frames.length >= maxFrames) return;
        const end = off + Math.min(capturedBytes, MAX_FRAME_BYTES);
        frames.push({ bytes: buf.slice(off, end), linkType });
      },
    };
    const reader = CaptureFileReader.open(path);
    try {
      while (frames.length < maxFrames && reader.readBatch(sink, 1024) > 0);
    } catch (error) {
      // Damaged fixtures still lend the frames before the damage.
      if (!(error instanceof CaptureFileError)) throw error;
    } finally {
      reader.close();
    }
    if (frames.length >= maxFrames) break;
  }
  return frames;
}

/** `npm run fuzz -- [--seconds N] [--seed N]`: fuzz until time runs out. */
async function runFromCommandLine(args: string[]): Promise<number> {
  const seconds = numberOption(args, '--seconds', 60);
  const randomSeed = numberOption(args, '--seed', Date.now() >>> 0);
  const fixtures = fileURLToPath(
    new URL('../../test/fixtures', import.meta.url),
  );
  const seeds = loadSeedFrames(fixtures, 20_000);
  if (seeds.length === 0) {
    process.stderr.write(`fuzz: no frames found under ${fixtures}\n`);
    return 1;
  }

  const result = runFuzz({
    seeds,
    iterations: Number.MAX_SAFE_INTEGER,
    randomSeed,
    maxDurationMs: seconds * 1000,
  });
  process.stdout.write(
    `${JSON.stringify({ randomSeed, seedFrames: seeds.length, ...result })}\n`,
  );
  return result.exceptions === 0 ? 0 : 1;
}

function numberOption(args: string[], name: string, fallback: number) {
  const at = args.indexOf(name);
  if (at < 0 || at + 1 >= args.length) return fallback;
  const value = Number(args[at + 1]);
  return Number.isFinite(value) ? value : fallback;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runFromCommandLine(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
