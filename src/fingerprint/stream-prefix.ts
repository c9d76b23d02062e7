/**
 * Bounded reassembly of the first bytes a TLS client sends on a TCP flow,
 * kept only until its ClientHello is whole, in one fixed slab.
 */
import { u16be } from '../decode/bytes.js';
import { Layer, TcpFlag, type DecodedPacket } from '../decode/packet.js';
import {
  HelloScan,
  TLS_CONTENT_CHANGE_CIPHER_SPEC,
  TLS_CONTENT_HANDSHAKE,
  TLS_HANDSHAKE_CLIENT_HELLO,
  TLS_RECORD_HDR_BYTES,
  scanClientHelloRecords,
} from './tls-client-hello.js';

/** Default cap on bytes buffered per stream. */
export const STREAM_PREFIX_MAX_BYTES = 16 * 1024;
/** Default cap on streams buffered at once. */
export const STREAM_PREFIX_MAX_STREAMS = 1024;

/** What `StreamPrefixTable.append` did with a segment. */
export const StreamPrefixStatus = {
  /** Not part of a ClientHello being gathered. */
  Ignored: 0,
  /** Kept; the ClientHello is not whole yet. */
  Buffering: 1,
  /** A whole ClientHello is in `helloBuf[helloOff .. helloEnd)`. */
  Complete: 2,
  /** The stream was dropped; the reason is counted in `endedByReason`. */
  GaveUp: 3,
} as const;

/** One of the `StreamPrefixStatus` values. */
export type StreamPrefixStatusId =
  (typeof StreamPrefixStatus)[keyof typeof StreamPrefixStatus];

/** Why a buffered stream left the table; ids index `endedByReason`. */
export const StreamEndReason = {
  /** Its ClientHello became whole. */
  Complete: 0,
  /** The bytes turned out not to be TLS records carrying a ClientHello. */
  NotClientHello: 1,
  /** A segment was missing (a gap in sequence numbers). */
  Gap: 2,
  /** The ClientHello did not fit in the per-stream cap. */
  Overflow: 3,
  /** The client closed (FIN or RST) before the ClientHello was whole. */
  Closed: 4,
  /** The table was full and this was the least recently fed stream. */
  Evicted: 5,
  /** Its flow ended, or its flow id was seen on another flow. */
  Released: 6,
} as const;

/** Stable snake-case names of `StreamEndReason`, indexed by id. */
export const STREAM_END_REASON_NAMES: readonly string[] = [
  'complete',
  'not_client_hello',
  'gap',
  'overflow',
  'closed',
  'evicted',
  'released',
];

/** Caps of a `StreamPrefixTable`. */
export interface StreamPrefixTableOptions {
  /** Hard cap on streams buffered at once; the least recently fed goes. */
  maxStreams?: number;
  /** Bytes kept per stream; a longer ClientHello is given up on. */
  maxBytesPerStream?: number;
}

const NO_SLOT = -1;
/** A ChangeCipherSpec record is always 6 bytes: header and the value 1. */
const CCS_RECORD_BYTES = 6;

/**
 * Gathers the client-to-server bytes of TCP flows from the first segment
 * that starts with a TLS handshake record carrying a ClientHello, in
 * sequence order, until the ClientHello is whole. A ClientHello in one
 * segment is handed back in place, without copying. Streams live in one
 * preallocated slab of `maxStreams` slots of `maxBytesPerStream` bytes, a
 * full table evicts the least recently fed stream, and every stream that
 * ends is counted by reason. No per-packet allocation.
 */
export class StreamPrefixTable {
  readonly maxStreams: number;
  readonly maxBytesPerStream: number;

  /** Streams that ended, by `StreamEndReason`. */
  readonly endedByReason = new Float64Array(STREAM_END_REASON_NAMES.length);
  /** Streams that started buffering (single-segment hellos are not). */
  startedStreams = 0;

  /**
   * After `append` returned Complete: the TLS records holding the whole
   * ClientHello are `helloBuf[helloOff .. helloEnd)`: the caller's frame
   * buffer or the slab. Valid only until the next `append`, and no longer
   * than the frame buffer itself.
   */
  helloBuf: Uint8Array = new Uint8Array(0);
  helloOff = 0;
  helloEnd = 0;

  private readonly slab: Uint8Array;
  private readonly slotOfFlow = new Map<number, number>();
  private readonly flowOfSlot: Int32Array;
  private readonly nextSeq: Uint32Array;
  private readonly heldBytes: Int32Array;
  /** Source port (high 16 bits) and destination port of the client. */
  private readonly clientPorts: Uint32Array;
  /** 1 when the client's address sorts below the server's. */
  private readonly clientAddrLower: Uint8Array;
  // Recency list over slots (head = least recently fed) and a free list.
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NO_SLOT;
  private tail = NO_SLOT;
  private freeHead = NO_SLOT;

  constructor(options: StreamPrefixTableOptions = {}) {
    this.maxStreams = options.maxStreams ?? STREAM_PREFIX_MAX_STREAMS;
    this.maxBytesPerStream =
      options.maxBytesPerStream ?? STREAM_PREFIX_MAX_BYTES;
    if (!Number.isInteger(this.maxStreams) || this.maxStreams < 1) {
      throw new RangeError('maxStreams must be a positive integer');
    }
    if (
      !Number.isInteger(this.maxBytesPerStream) ||
      this.maxBytesPerStream < TLS_RECORD_HDR_BYTES
    ) {
      throw new RangeError('maxBytesPerStream must be an integer of 5 or more');
    }

    const slots = this.maxStreams;
    this.slab = new Uint8Array(slots * this.maxBytesPerStream);
    this.flowOfSlot = new Int32Array(slots).fill(NO_SLOT);
    this.nextSeq = new Uint32Array(slots);
    this.heldBytes = new Int32Array(slots);
    this.clientPorts = new Uint32Array(slots);
    this.clientAddrLower = new Uint8Array(slots);
    this.prev = new Int32Array(slots).fill(NO_SLOT);
    this.next = new Int32Array(slots).fill(NO_SLOT);
    for (let slot = slots - 1; slot >= 0; slot--) {
      this.next[slot] = this.freeHead;
      this.freeHead = slot;
    }
  }

  /** Streams buffered now. */
  get size(): number {
    return this.slotOfFlow.size;
  }

  /** Streams pushed out because the table was full. */
  get evictedStreams(): number {
    return this.endedByReason[StreamEndReason.Evicted];
  }

  /**
   * Feed one decoded TCP segment of flow `flowId` (as `FlowTable.observe`
   * returned it). Returns a `StreamPrefixStatus`; on Complete the
   * ClientHello's records are in `helloBuf`. Never throws on packet bytes.
   */
  append(
    flowId: number,
    packet: DecodedPacket,
    buf: Uint8Array,
  ): StreamPrefixStatusId {
    if (flowId < 0 || (packet.layers & Layer.Tcp) === 0) {
      return StreamPrefixStatus.Ignored;
    }
    if (this.slotOfFlow.size !== 0) {
      const slot = this.slotOfFlow.get(flowId);
      if (slot !== undefined) return this.continueStream(slot, packet, buf);
    }
    if (packet.payloadBytes === 0) return StreamPrefixStatus.Ignored;
    return this.startStream(flowId, packet, buf);
  }

  /** Forget the stream of a flow that ended; call from `onFlowEnd`. */
  release(flowId: number): void {
    const slot = this.slotOfFlow.get(flowId);
    if (slot !== undefined) this.endStream(slot, StreamEndReason.Released);
  }

  /** A segment of a flow with no stream: start one if it opens a hello. */
  private startStream(
    flowId: number,
    packet: DecodedPacket,
    buf: Uint8Array,
  ): StreamPrefixStatusId {
    let off = packet.payloadOff;
    const end = off + packet.payloadBytes;
    // A TLS 1.3 client answering a HelloRetryRequest may send its
    // compatibility ChangeCipherSpec and second ClientHello in one segment.
    if (isChangeCipherSpecRecord(buf, off, end)) off += CCS_RECORD_BYTES;
    if (!opensClientHello(buf, off, end)) return StreamPrefixStatus.Ignored;

    const scan = scanClientHelloRecords(buf, off, end);
    if (scan === HelloScan.NotClientHello) return StreamPrefixStatus.Ignored;
    if (scan === HelloScan.Complete) {
      this.helloBuf = buf;
      this.helloOff = off;
      this.helloEnd = end;
      return StreamPrefixStatus.Complete;
    }
    if (end - off > this.maxBytesPerStream) {
      this.endedByReason[StreamEndReason.Overflow]++;
      return StreamPrefixStatus.GaveUp;
    }

    const slot = this.takeSlot();
    this.slotOfFlow.set(flowId, slot);
    this.flowOfSlot[slot] = flowId;
    this.clientPorts[slot] = packet.srcPort * 0x10000 + packet.dstPort;
    this.clientAddrLower[slot] = isSrcAddrLower(packet, buf) ? 1 : 0;
    const seq = dataSeq(packet);
    this.nextSeq[slot] = (seq + (off - packet.payloadOff)) >>> 0;
    this.heldBytes[slot] = 0;
    this.startedStreams++;
    return this.appendBytes(slot, packet, buf, off, end);
  }

  /** A segment of a flow that has a stream. */
  private continueStream(
    slot: number,
    packet: DecodedPacket,
    buf: Uint8Array,
  ): StreamPrefixStatusId {
    const ports = packet.srcPort * 0x10000 + packet.dstPort;
    let isClient = ports === this.clientPorts[slot];
    let isServer =
      packet.dstPort * 0x10000 + packet.srcPort === this.clientPorts[slot];
    if (packet.srcPort === packet.dstPort) {
      // Equal ports: only the address order tells the two sides apart.
      const isLower = isSrcAddrLower(packet, buf) ? 1 : 0;
      isClient = isLower === this.clientAddrLower[slot];
      isServer = !isClient;
    }
    if (isServer) return StreamPrefixStatus.Ignored;
    if (!isClient) {
      // The flow id now names another flow: the old stream is stale.
      const flowId = this.flowOfSlot[slot];
      this.endStream(slot, StreamEndReason.Released);
      return this.append(flowId, packet, buf);
    }

    const off = packet.payloadOff;
    const end = off + packet.payloadBytes;
    if (end > off) {
      // Signed distance in sequence space, so wrap-around is harmless.
      const aheadBytes = (dataSeq(packet) - this.nextSeq[slot]) | 0;
      // Limitation: a segment seen before an earlier one (reordered on the
      // mirror) ends the stream as a gap, and that ClientHello is missed.
      if (aheadBytes > 0) return this.giveUp(slot, StreamEndReason.Gap);
      // A retransmission: keep only the bytes not seen yet.
      const newOff = off - aheadBytes;
      if (newOff < end) return this.appendBytes(slot, packet, buf, newOff, end);
    }
    if ((packet.tcpFlags & (TcpFlag.Fin | TcpFlag.Rst)) !== 0) {
      return this.giveUp(slot, StreamEndReason.Closed);
    }
    this.touch(slot);
    return StreamPrefixStatus.Buffering;
  }

  /** Copy `buf[off .. end)` after the stream's bytes and rescan them. */
  private appendBytes(
    slot: number,
    packet: DecodedPacket,
    buf: Uint8Array,
    off: number,
    end: number,
  ): StreamPrefixStatusId {
    const held = this.heldBytes[slot];
    const newBytes = end - off;
    if (held + newBytes > this.maxBytesPerStream) {
      return this.giveUp(slot, StreamEndReason.Overflow);
    }
    const base = slot * this.maxBytesPerStream;
    this.slab.set(buf.subarray(off, end), base + held);
    this.heldBytes[slot] = held + newBytes;
    this.nextSeq[slot] = (this.nextSeq[slot] + newBytes) >>> 0;

    const scan = scanClientHelloRecords(
      this.slab,
      base,
      base + held + newBytes,
    );
    if (scan === HelloScan.NotClientHello) {
      return this.giveUp(slot, StreamEndReason.NotClientHello);
    }
    if (scan === HelloScan.Complete) {
      this.helloBuf = this.slab;
      this.helloOff = base;
      this.helloEnd = base + held + newBytes;
      // The bytes stay in the slab until the slot is taken again.
      this.endStream(slot, StreamEndReason.Complete);
      return StreamPrefixStatus.Complete;
    }
    if ((packet.tcpFlags & (TcpFlag.Fin | TcpFlag.Rst)) !== 0) {
      return this.giveUp(slot, StreamEndReason.Closed);
    }
    this.touch(slot);
    return StreamPrefixStatus.Buffering;
  }

  private giveUp(slot: number, reason: number): StreamPrefixStatusId {
    this.endStream(slot, reason);
    return StreamPrefixStatus.GaveUp;
  }

  /** A free slot, evicting the least recently fed stream if none is. */
  private takeSlot(): number {
    if (this.freeHead === NO_SLOT) {
      this.endStream(this.head, StreamEndReason.Evicted);
    }
    const slot = this.freeHead;
    this.freeHead = this.next[slot];
    this.prev[slot] = this.tail;
    this.next[slot] = NO_SLOT;
    if (this.tail === NO_SLOT) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
    return slot;
  }

  /** Move a slot to the recency tail. */
  private touch(slot: number): void {
    if (this.tail === slot) return;
    this.unlink(slot);
    this.prev[slot] = this.tail;
    this.next[slot] = NO_SLOT;
    if (this.tail === NO_SLOT) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
  }

  private unlink(slot: number): void {
    const before = this.prev[slot];
    const after = this.next[slot];
    if (before === NO_SLOT) this.head = after;
    else this.next[before] = after;
    if (after === NO_SLOT) this.tail = before;
    else this.prev[after] = before;
  }

  private endStream(slot: number, reason: number): void {
    this.endedByReason[reason]++;
    this.slotOfFlow.delete(this.flowOfSlot[slot]);
    this.flowOfSlot[slot] = NO_SLOT;
    this.heldBytes[slot] = 0;
    this.unlink(slot);
    this.prev[slot] = NO_SLOT;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }
}

/** Sequence number of a segment's first payload byte (a SYN takes one). */
function dataSeq(packet: DecodedPacket): number {
  const synBytes = (packet.tcpFlags & TcpFlag.Syn) !== 0 ? 1 : 0;
  return (packet.tcpSeq + synBytes) >>> 0;
}

/**
 * A handshake record whose body, when long enough to tell, starts a
 * ClientHello: a few byte checks that reject most segments.
 */
function opensClientHello(buf: Uint8Array, off: number, end: number): boolean {
  if (end - off < 3) return false;
  if (buf[off] !== TLS_CONTENT_HANDSHAKE || buf[off + 1] !== 3) return false;
  if (buf[off + 2] > 4) return false;
  return (
    end - off <= TLS_RECORD_HDR_BYTES ||
    buf[off + 5] === TLS_HANDSHAKE_CLIENT_HELLO
  );
}

/** ChangeCipherSpec record (RFC 8446 appendix D.4): 14 03 0x 00 01 01. */
function isChangeCipherSpecRecord(
  buf: Uint8Array,
  off: number,
  end: number,
): boolean {
  return (
    end - off > CCS_RECORD_BYTES &&
    buf[off] === TLS_CONTENT_CHANGE_CIPHER_SPEC &&
    buf[off + 1] === 3 &&
    u16be(buf, off + 3) === 1 &&
    buf[off + 5] === 1
  );
}

/** Whether the source address sorts below the destination, bytewise. */
function isSrcAddrLower(packet: DecodedPacket, buf: Uint8Array): boolean {
  const addrBytes = packet.ipVersion === 4 ? 4 : 16;
  const src = packet.srcAddrOff;
  const dst = packet.dstAddrOff;
  for (let i = 0; i < addrBytes; i++) {
    if (buf[src + i] !== buf[dst + i]) return buf[src + i] < buf[dst + i];
  }
  return false;
}
