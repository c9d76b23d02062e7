/**
 * Child process of the benchmark: runs one in-process measurement over one
 * capture and prints its timing as one JSON line on stdout.
 *
 * usage: node in-process.js MODE FILE     MODE: one of IN_PROCESS_MODES
 *        node in-process.js MODE --check  prints why MODE cannot run, if so
 *
 * Prints {"frames","okFrames","elapsedNs"} or {"unavailable": reason}.
 */
import { constants as bufferConstants } from 'node:buffer';
import { createRequire } from 'node:module';

import { CaptureFileReader } from '../../src/capture/capture-file.js';
import type { FrameSink } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/link-type.js';
import { u32le } from '../../src/decode/bytes.js';
import type { LoopTiming, SpansightMode } from './spansight-sinks.js';

/** The modes this child runs; `node-pcap` is the foreign decoder. */
const IN_PROCESS_MODES = [
  'node-pcap',
  'read',
  'decode',
  'flows',
  'flows-lru',
  'pipeline',
  'sensor',
  'inventory',
];

/** node-pcap's per-frame header: 4 little-endian u32, as its addon fills. */
const NODE_PCAP_HDR_BYTES = 16;

/** node-pcap names link types by string and decodes only these. */
const NODE_PCAP_LINK_TYPES: ReadonlyMap<number, string> = new Map([
  [LinkType.Null, 'LINKTYPE_NULL'],
  [LinkType.Ethernet, 'LINKTYPE_ETHERNET'],
  [LinkType.Raw, 'LINKTYPE_RAW'],
  [LinkType.LinuxSll, 'LINKTYPE_LINUX_SLL'],
]);

interface NodePcapPacket {
  buf: Buffer;
  header: Buffer;
  link_type: string;
}

interface NodePcap {
  decode: { packet(packet: NodePcapPacket): { payload: unknown } };
}

type Outcome = LoopTiming | { unavailable: string };

function loadNodePcap(): NodePcap | string {
  try {
    const pcap = createRequire(import.meta.url)('pcap') as NodePcap;
    if (typeof pcap?.decode?.packet !== 'function') {
      return 'pcap.decode.packet is not a function';
    }
    return pcap;
  } catch (error) {
    return `cannot load node-pcap: ${(error as Error).message}`;
  }
}

/** Every frame of a capture in memory, each after a node-pcap header. */
interface PreloadedFrames {
  slab: Buffer;
  usedBytes: number;
  frames: number;
  maxCapturedBytes: number;
  linkType: number;
}

/**
 * Copy every frame into one buffer, each behind the 16-byte header node-pcap
 * reads (seconds, microseconds, captured and wire length, little-endian).
 */
function preload(path: string): PreloadedFrames | string {
  const reader = CaptureFileReader.open(path);
  try {
    // Each record here is no larger than in the file: pcap uses 16 header
    // bytes too, pcapng at least 32.
    if (reader.fileBytes > bufferConstants.MAX_LENGTH) {
      return `capture of ${reader.fileBytes} bytes exceeds one Buffer`;
    }
    const slab = Buffer.allocUnsafe(reader.fileBytes);
    const loaded = {
      slab,
      usedBytes: 0,
      frames: 0,
      maxCapturedBytes: 0,
      linkType: reader.linkType,
    };
    const sink: FrameSink = {
      onFrame(buf, off, capturedBytes, wireBytes, timeUs): void {
        let at = loaded.usedBytes;
        at = slab.writeUInt32LE(Math.floor(timeUs / 1e6), at);
        at = slab.writeUInt32LE(timeUs % 1e6, at);
        at = slab.writeUInt32LE(capturedBytes, at);
        at = slab.writeUInt32LE(wireBytes, at);
        slab.set(buf.subarray(off, off + capturedBytes), at);
        loaded.usedBytes = at + capturedBytes;
        loaded.frames++;
        if (capturedBytes > loaded.maxCapturedBytes) {
          loaded.maxCapturedBytes = capturedBytes;
        }
      },
    };
    while (reader.readBatch(sink, 65_536) > 0);
    if (reader.linkTypes.some((linkType) => linkType !== loaded.linkType)) {
      return 'node-pcap decodes one link type per capture';
    }
    return loaded;
  } finally {
    reader.close();
  }
}

/**
 * Feed every preloaded frame to `pcap.decode.packet`. Each frame is first
 * copied into one reused buffer, as node-pcap's capture addon does, so the
 * loop costs what decoding a live capture would.
 */
function timeNodePcap(path: string): Outcome {
  const pcap = loadNodePcap();
  if (typeof pcap === 'string') return { unavailable: pcap };
  const loaded = preload(path);
  if (typeof loaded === 'string') return { unavailable: loaded };
  const linkTypeName = NODE_PCAP_LINK_TYPES.get(loaded.linkType);
  if (linkTypeName === undefined) {
    return {
      unavailable: `node-pcap cannot decode link type ${loaded.linkType}`,
    };
  }

  const { slab, usedBytes } = loaded;
  const packet: NodePcapPacket = {
    buf: Buffer.alloc(Math.max(loaded.maxCapturedBytes, 1)),
    header: Buffer.alloc(NODE_PCAP_HDR_BYTES),
    link_type: linkTypeName,
  };
  let frames = 0;
  let okFrames = 0;
  const startNs = process.hrtime.bigint();
  let pos = 0;
  while (pos < usedBytes) {
    const capturedBytes = u32le(slab, pos + 8);
    const dataOff = pos + NODE_PCAP_HDR_BYTES;
    slab.copy(packet.header, 0, pos, dataOff);
    slab.copy(packet.buf, 0, dataOff, dataOff + capturedBytes);
    // Counting decoded payloads keeps the result observably used.
    if (pcap.decode.packet(packet).payload != null) okFrames++;
    frames++;
    pos = dataOff + capturedBytes;
  }
  const elapsedNs = Number(process.hrtime.bigint() - startNs);
  return { frames, okFrames, elapsedNs };
}

async function loadSpansight(): Promise<
  typeof import('./spansight-sinks.js') | string
> {
  try {
    return await import('./spansight-sinks.js');
  } catch (error) {
    return `spansight modules not built: ${(error as Error).message}`;
  }
}

async function measure(mode: string, path: string): Promise<Outcome> {
  if (mode === 'node-pcap') return timeNodePcap(path);
  const spansight = await loadSpansight();
  if (typeof spansight === 'string') return { unavailable: spansight };
  return spansight.timeSpansight(mode as SpansightMode, path);
}

async function check(mode: string): Promise<Outcome | null> {
  if (mode === 'node-pcap') {
    const pcap = loadNodePcap();
    return typeof pcap === 'string' ? { unavailable: pcap } : null;
  }
  const spansight = await loadSpansight();
  return typeof spansight === 'string' ? { unavailable: spansight } : null;
}

async function runChild(args: string[]): Promise<number> {
  const [mode, path] = args;
  if (!IN_PROCESS_MODES.includes(mode) || path === undefined) {
    process.stderr.write(
      `usage: in-process.js ${IN_PROCESS_MODES.join('|')} FILE|--check\n`,
    );
    return 2;
  }
  const outcome =
    path === '--check' ? await check(mode) : await measure(mode, path);
  process.stdout.write(JSON.stringify(outcome ?? { ok: true }) + '\n');
  return 0;
}

runChild(process.argv.slice(2)).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`in-process: ${(error as Error)?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
