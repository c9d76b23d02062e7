/**
 * The in-process spansight measurements: our capture reader delivering every
 * frame to an empty sink, to the decoder, or to the decoder and flow table.
 */
import { CaptureFileReader } from '../../src/capture/capture-file.js';
import type { FrameSink } from '../../src/capture/frame.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodeStatus, DecodedPacket } from '../../src/decode/packet.js';
import { FLOW_TABLE_MAX_FLOWS, FlowTable } from '../../src/flows/flow-table.js';
import { LRUCache } from 'lru-cache';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';

/** Which stages run per frame. */
export type SpansightMode =
  | 'read'
  | 'decode'
  | 'flows'
  | 'flows-lru'
  | 'pipeline'
  | 'sensor'
  | 'inventory';

/** Frames counted and the time spent in the read loop. */
export interface LoopTiming {
  frames: number;
  /** Frames the decoder returned Ok for; 0 in read-only mode. */
  okFrames: number;
  elapsedNs: number;
}

/** Same batch size as `spansight read`, so the loop has the same rhythm. */
const FRAMES_PER_BATCH = 65_536;

class CountingSink implements FrameSink {
  frames = 0;
  okFrames = 0;

  onFrame(): void {
    this.frames++;
  }
}

class DecodeSink implements FrameSink {
  frames = 0;
  okFrames = 0;
  private readonly packet = new DecodedPacket();

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    _timeUs: number,
    linkType: number,
  ): void {
    this.frames++;
    const status = decodeFrame(
      buf,
      off,
      capturedBytes,
      wireBytes,
      linkType,
      this.packet,
    );
    if (status === DecodeStatus.Ok) this.okFrames++;
  }
}

class FlowSink implements FrameSink {
  frames = 0;
  okFrames = 0;
  private readonly packet = new DecodedPacket();
  private readonly flows = new FlowTable({ maxFlows: FLOW_TABLE_MAX_FLOWS });

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    this.frames++;
    const packet = this.packet;
    const status = decodeFrame(
      buf,
      off,
      capturedBytes,
      wireBytes,
      linkType,
      packet,
    );
    // As in the pipeline: only fully decoded frames have a trustworthy key.
    if (status !== DecodeStatus.Ok) return;
    this.okFrames++;
    this.flows.observe(packet, buf, timeUs, wireBytes);
  }
}

/**
 * The design alternative the typed-array table replaced: an lru-cache of
 * per-flow counters keyed by a string built from each packet's 5-tuple.
 * Kept to show, in the same run, why the flow table is not built this way.
 */
class LruFlowSink implements FrameSink {
  frames = 0;
  okFrames = 0;
  private readonly packet = new DecodedPacket();
  private readonly flows = new LRUCache<string, Float64Array>({
    max: FLOW_TABLE_MAX_FLOWS,
  });

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    this.frames++;
    const packet = this.packet;
    const status = decodeFrame(
      buf,
      off,
      capturedBytes,
      wireBytes,
      linkType,
      packet,
    );
    if (status !== DecodeStatus.Ok || packet.ipVersion === 0) return;
    this.okFrames++;
    const key = lruFlowKey(packet, buf);
    let counters = this.flows.get(key);
    if (counters === undefined) {
      counters = new Float64Array(4);
      counters[2] = timeUs;
      this.flows.set(key, counters);
    }
    counters[0]++;
    counters[1] += wireBytes;
    counters[3] = timeUs;
  }
}

/** A bidirectional key string: VLAN, protocol, lower then higher endpoint. */
function lruFlowKey(packet: DecodedPacket, buf: Uint8Array): string {
  const addrBytes = packet.ipVersion === 4 ? 4 : 16;
  let src = '';
  let dst = '';
  for (let i = 0; i < addrBytes; i++) {
    src += buf[packet.srcAddrOff + i].toString(16).padStart(2, '0');
    dst += buf[packet.dstAddrOff + i].toString(16).padStart(2, '0');
  }
  const a = `${src}/${packet.srcPort}`;
  const b = `${dst}/${packet.dstPort}`;
  const vlan = packet.vlanCount > 0 ? packet.vlanIds[0] : 0;
  return a < b
    ? `${vlan}|${packet.ipProtocol}|${a}|${b}`
    : `${vlan}|${packet.ipProtocol}|${b}|${a}`;
}

/**
 * A `PacketPipeline` as `spansight read` runs it (`pipeline`: decode, layer
 * counts, flows and the distinct flow keys it reports), as the sensor runs
 * it (`inventory`: decode, layer counts, flows, every fingerprint extractor
 * and the device table), or as the sensor would without its inventory
 * (`sensor`), which isolates what the inventory costs.
 */
class PipelineSink implements FrameSink {
  okFrames = 0;
  private readonly pipeline: PacketPipeline;

  constructor(mode: 'pipeline' | 'sensor' | 'inventory') {
    this.pipeline = new PacketPipeline({
      inventory: mode === 'inventory' ? new Inventory() : undefined,
      countDistinctKeys: mode === 'pipeline',
    });
  }

  get frames(): number {
    return this.pipeline.frames;
  }

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    this.pipeline.onFrame(buf, off, capturedBytes, wireBytes, timeUs, linkType);
  }
}

/**
 * Read all of `path` through `mode`'s stages. The timing covers the batch
 * loop only: opening the file and building the sink are left out.
 */
export function timeSpansight(mode: SpansightMode, path: string): LoopTiming {
  const sink =
    mode === 'pipeline' || mode === 'sensor' || mode === 'inventory'
      ? new PipelineSink(mode)
      : mode === 'read'
        ? new CountingSink()
        : mode === 'decode'
          ? new DecodeSink()
          : mode === 'flows-lru'
            ? new LruFlowSink()
            : new FlowSink();
  const reader = CaptureFileReader.open(path);
  try {
    const startNs = process.hrtime.bigint();
    while (reader.readBatch(sink, FRAMES_PER_BATCH) > 0);
    const elapsedNs = Number(process.hrtime.bigint() - startNs);
    return { frames: sink.frames, okFrames: sink.okFrames, elapsedNs };
  } finally {
    reader.close();
  }
}
