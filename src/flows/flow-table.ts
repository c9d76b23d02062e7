/**
 * The bidirectional flow table: (VLAN, 5-tuple) keys hashed into typed-array
 * columns with a fixed capacity, idle/active/TCP-end timeouts by packet time,
 * and evictions counted by reason.
 */
import { u32be } from '../decode/bytes.js';
import { Layer, TcpFlag, type DecodedPacket } from '../decode/packet.js';
import { IpProtocol } from '../decode/transport.js';

/** Why a flow left the table; ids index `FlowTable.endedByReason`. */
export const FlowEndReason = {
  /** No packet for `idleTimeoutMs`. */
  Idle: 0,
  /** Open for `activeTimeoutMs`: exported, then tracked as a new record. */
  Active: 1,
  /** FIN from both sides or a RST, then `tcpEndGraceMs` of quiet. */
  TcpEnd: 2,
  /** The table was full and this was the least recently seen flow. */
  Capacity: 3,
  /** End of the capture, or the sensor shutting down. */
  Flush: 4,
} as const;

export const FLOW_END_REASON_NAMES: readonly string[] = [
  'idle',
  'active',
  'tcp_end',
  'capacity',
  'flush',
];

/** Defaults as NetFlow/IPFIX exporters commonly run them. */
export const FLOW_IDLE_TIMEOUT_MS = 60_000;
export const FLOW_ACTIVE_TIMEOUT_MS = 30 * 60_000;
export const FLOW_TCP_END_GRACE_MS = 5_000;
export const FLOW_TABLE_MAX_FLOWS = 1 << 20;

export interface FlowTableOptions {
  /** Hard cap on flows held at once; the least recently seen is evicted. */
  maxFlows?: number;
  idleTimeoutMs?: number;
  activeTimeoutMs?: number;
  /** Quiet time after a TCP close before the flow is exported. */
  tcpEndGraceMs?: number;
  /** Called once for each new flow record, after its key is stored. */
  onFlowStart?: (table: FlowTable, flowId: number) => void;
  /** Called when a flow record ends, before its slot is reused. */
  onFlowEnd?: (table: FlowTable, flowId: number, reason: number) => void;
}

const NO_ENTRY = -1;
const ADDR_WORDS = 4;
/** Endpoint of a flow: A is the lower (address, port), B the higher. */
const DIR_A_TO_B = 0;
const DIR_B_TO_A = 1;
const STATE_FIN_FROM_A = 1;
const STATE_FIN_FROM_B = 2;
const STATE_CLOSING = 4;

/** Flow-table counters: kind of flow, by protocol class. */
export const FlowClass = { Tcp: 0, Udp: 1, Other: 2 } as const;

/**
 * Flow table with fixed capacity. Keys never become strings: the key is
 * hashed from its integer words, entries live in typed-array columns indexed
 * by flow id, and three intrusive lists order them for expiry (by last packet
 * for idle, by start for active, by close for TCP end).
 */
export class FlowTable {
  readonly maxFlows: number;
  readonly idleTimeoutMs: number;
  readonly activeTimeoutMs: number;
  readonly tcpEndGraceMs: number;

  /** Flows currently held. */
  size = 0;
  /** New flow records started, by `FlowClass`. */
  readonly startedByClass = new Float64Array(3);
  /** Flow records ended, by `FlowEndReason`. */
  readonly endedByReason = new Float64Array(FLOW_END_REASON_NAMES.length);
  /** IP packets not attributed to a flow (later fragments). */
  unflowedPackets = 0;

  private readonly onFlowStart: FlowTableOptions['onFlowStart'];
  private readonly onFlowEnd: FlowTableOptions['onFlowEnd'];

  // Hash index: slot -> flow id, linear probing, at most half full.
  private readonly slotMask: number;
  private readonly index: Int32Array;
  private readonly slotOf: Int32Array;

  // Key columns.
  private readonly keyHash: Uint32Array;
  private readonly vlanKey: Uint32Array;
  private readonly protocol: Uint8Array;
  private readonly ipVersion: Uint8Array;
  private readonly addrA: Uint32Array;
  private readonly addrB: Uint32Array;
  private readonly portA: Uint16Array;
  private readonly portB: Uint16Array;

  // Value columns.
  private readonly isInitiatorA: Uint8Array;
  private readonly firstIcmpTypeCode: Uint16Array;
  private readonly packetsAB: Float64Array;
  private readonly packetsBA: Float64Array;
  private readonly bytesAB: Float64Array;
  private readonly bytesBA: Float64Array;
  private readonly firstUs: Float64Array;
  private readonly lastUs: Float64Array;
  private readonly endUs: Float64Array;
  private readonly tcpFlagsUnion: Uint8Array;
  private readonly tcpState: Uint8Array;

  // Intrusive lists: recency (idle), start order (active), closing (TCP end).
  private readonly recent: FlowList;
  private readonly started: FlowList;
  private readonly closing: FlowList;
  private freeHead = NO_ENTRY;
  private readonly freeNext: Int32Array;

  // Scratch for the key of the packet being observed.
  private readonly srcWords = new Uint32Array(ADDR_WORDS);
  private readonly dstWords = new Uint32Array(ADDR_WORDS);

  constructor(options: FlowTableOptions = {}) {
    this.maxFlows = options.maxFlows ?? FLOW_TABLE_MAX_FLOWS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? FLOW_IDLE_TIMEOUT_MS;
    this.activeTimeoutMs = options.activeTimeoutMs ?? FLOW_ACTIVE_TIMEOUT_MS;
    this.tcpEndGraceMs = options.tcpEndGraceMs ?? FLOW_TCP_END_GRACE_MS;
    this.onFlowStart = options.onFlowStart;
    this.onFlowEnd = options.onFlowEnd;
    if (!Number.isInteger(this.maxFlows) || this.maxFlows < 1) {
      throw new RangeError(`maxFlows must be a positive integer`);
    }

    const capacity = this.maxFlows;
    const slots = nextPowerOfTwo(capacity * 2);
    this.slotMask = slots - 1;
    this.index = new Int32Array(slots).fill(NO_ENTRY);
    this.slotOf = new Int32Array(capacity);

    this.keyHash = new Uint32Array(capacity);
    this.vlanKey = new Uint32Array(capacity);
    this.protocol = new Uint8Array(capacity);
    this.ipVersion = new Uint8Array(capacity);
    this.addrA = new Uint32Array(capacity * ADDR_WORDS);
    this.addrB = new Uint32Array(capacity * ADDR_WORDS);
    this.portA = new Uint16Array(capacity);
    this.portB = new Uint16Array(capacity);

    this.isInitiatorA = new Uint8Array(capacity);
    this.firstIcmpTypeCode = new Uint16Array(capacity);
    this.packetsAB = new Float64Array(capacity);
    this.packetsBA = new Float64Array(capacity);
    this.bytesAB = new Float64Array(capacity);
    this.bytesBA = new Float64Array(capacity);
    this.firstUs = new Float64Array(capacity);
    this.lastUs = new Float64Array(capacity);
    this.endUs = new Float64Array(capacity);
    this.tcpFlagsUnion = new Uint8Array(capacity);
    this.tcpState = new Uint8Array(capacity);

    this.recent = new FlowList(capacity);
    this.started = new FlowList(capacity);
    this.closing = new FlowList(capacity);
    this.freeNext = new Int32Array(capacity);
    for (let id = capacity - 1; id >= 0; id--) {
      this.freeNext[id] = this.freeHead;
      this.freeHead = id;
    }
  }

  /**
   * Account one decoded packet to its flow, creating the flow if needed, and
   * expire what the packet's time says is over. Returns the flow id, or -1
   * when the packet belongs to no flow (not IP, or a later fragment).
   */
  observe(
    packet: DecodedPacket,
    buf: Uint8Array,
    timeUs: number,
    wireBytes: number,
  ): number {
    this.expire(timeUs);
    if ((packet.layers & (Layer.Ipv4 | Layer.Ipv6)) === 0) return NO_ENTRY;
    if (packet.fragmentOffsetBytes > 0) {
      // Limitation: later IP fragments are not matched to their first
      // fragment's flow; their bytes are counted only in unflowedPackets.
      this.unflowedPackets++;
      return NO_ENTRY;
    }

    const direction = this.loadKey(packet, buf);
    const hash = this.hashKey(packet);
    let id = this.find(hash, packet);
    if (id === NO_ENTRY) id = this.insert(hash, packet, direction, timeUs);

    if (direction === DIR_A_TO_B) {
      this.packetsAB[id]++;
      this.bytesAB[id] += wireBytes;
    } else {
      this.packetsBA[id]++;
      this.bytesBA[id] += wireBytes;
    }
    this.lastUs[id] = timeUs;
    if (packet.layers & Layer.Tcp) this.trackTcp(id, packet, direction, timeUs);
    if (this.tcpState[id] & STATE_CLOSING) return id;
    this.recent.moveToTail(id);
    return id;
  }

  /** End every flow whose timeout has passed at packet time `nowUs`. */
  expire(nowUs: number): void {
    const idleUs = this.idleTimeoutMs * 1000;
    let id = this.recent.head;
    while (id !== NO_ENTRY && nowUs - this.lastUs[id] > idleUs) {
      this.end(id, FlowEndReason.Idle);
      id = this.recent.head;
    }

    const graceUs = this.tcpEndGraceMs * 1000;
    id = this.closing.head;
    while (id !== NO_ENTRY && nowUs - this.endUs[id] > graceUs) {
      this.end(id, FlowEndReason.TcpEnd);
      id = this.closing.head;
    }

    const activeUs = this.activeTimeoutMs * 1000;
    id = this.started.head;
    while (id !== NO_ENTRY && nowUs - this.firstUs[id] > activeUs) {
      this.restartActive(id, nowUs);
      id = this.started.head;
    }
  }

  /** End every flow held, e.g. at the end of a capture. */
  flush(): void {
    while (this.started.head !== NO_ENTRY) {
      this.end(this.started.head, FlowEndReason.Flush);
    }
  }

  /** Flows ended because the table was full. */
  get evictedFlows(): number {
    return this.endedByReason[FlowEndReason.Capacity];
  }

  /** Read one flow's record; valid for a flow id handed out by this table. */
  describe(flowId: number): FlowRecord {
    const aIsClient = this.isInitiatorA[flowId] === 1;
    const a = formatAddress(this.addrA, flowId, this.ipVersion[flowId]);
    const b = formatAddress(this.addrB, flowId, this.ipVersion[flowId]);
    const vlanKey = this.vlanKey[flowId];
    return {
      ipVersion: this.ipVersion[flowId],
      protocol: this.protocol[flowId],
      vlanOuter: vlanKey >>> 12,
      vlanInner: vlanKey & 0xfff,
      clientAddr: aIsClient ? a : b,
      clientPort: aIsClient ? this.portA[flowId] : this.portB[flowId],
      serverAddr: aIsClient ? b : a,
      serverPort: aIsClient ? this.portB[flowId] : this.portA[flowId],
      clientPackets: aIsClient
        ? this.packetsAB[flowId]
        : this.packetsBA[flowId],
      serverPackets: aIsClient
        ? this.packetsBA[flowId]
        : this.packetsAB[flowId],
      clientBytes: aIsClient ? this.bytesAB[flowId] : this.bytesBA[flowId],
      serverBytes: aIsClient ? this.bytesBA[flowId] : this.bytesAB[flowId],
      firstUs: this.firstUs[flowId],
      lastUs: this.lastUs[flowId],
      tcpFlags: this.tcpFlagsUnion[flowId],
      icmpType: this.firstIcmpTypeCode[flowId] >> 8,
      icmpCode: this.firstIcmpTypeCode[flowId] & 0xff,
    };
  }

  /** The flow's class for counting: TCP, UDP or other. */
  flowClass(flowId: number): number {
    const protocol = this.protocol[flowId];
    if (protocol === IpProtocol.Tcp) return FlowClass.Tcp;
    if (protocol === IpProtocol.Udp) return FlowClass.Udp;
    return FlowClass.Other;
  }

  /**
   * Two independent 32-bit hashes of a flow's key, for sets that must tell
   * keys apart without storing them (64 bits: collisions are negligible).
   */
  keyHashes(flowId: number): [number, number] {
    let h = mix32(this.keyHash[flowId] ^ 0x5bd1e995);
    const base = flowId * ADDR_WORDS;
    for (let i = 0; i < ADDR_WORDS; i++) {
      h = mix32(h ^ this.addrA[base + i]);
      h = mix32(h ^ this.addrB[base + i]);
    }
    h = mix32(h ^ ((this.portA[flowId] << 16) | this.portB[flowId]));
    h = mix32(h ^ this.vlanKey[flowId] ^ (this.protocol[flowId] << 24));
    return [this.keyHash[flowId], h >>> 0];
  }

  /** Store the packet's key in the scratch words; return its direction. */
  private loadKey(packet: DecodedPacket, buf: Uint8Array): number {
    const src = this.srcWords;
    const dst = this.dstWords;
    if (packet.ipVersion === 4) {
      src[0] = u32be(buf, packet.srcAddrOff);
      dst[0] = u32be(buf, packet.dstAddrOff);
      src[1] = src[2] = src[3] = dst[1] = dst[2] = dst[3] = 0;
    } else {
      for (let i = 0; i < ADDR_WORDS; i++) {
        src[i] = u32be(buf, packet.srcAddrOff + i * 4);
        dst[i] = u32be(buf, packet.dstAddrOff + i * 4);
      }
    }

    for (let i = 0; i < ADDR_WORDS; i++) {
      if (src[i] !== dst[i]) return src[i] < dst[i] ? DIR_A_TO_B : DIR_B_TO_A;
    }
    return packet.srcPort <= packet.dstPort ? DIR_A_TO_B : DIR_B_TO_A;
  }

  /** Hash the scratch key; symmetric, so both directions meet. */
  private hashKey(packet: DecodedPacket): number {
    const src = this.srcWords;
    const dst = this.dstWords;
    let h = packet.ipProtocol | (vlanKeyOf(packet) << 8);
    for (let i = 0; i < ADDR_WORDS; i++) h = mix32(h ^ (src[i] ^ dst[i]));
    h = mix32(h ^ (src[0] + dst[0]));
    h = mix32(
      h ^ ((packet.srcPort ^ packet.dstPort) | (portsOf(packet) << 16)),
    );
    return h >>> 0;
  }

  private find(hash: number, packet: DecodedPacket): number {
    let slot = hash & this.slotMask;
    for (;;) {
      const id = this.index[slot];
      if (id === NO_ENTRY) return NO_ENTRY;
      if (this.keyHash[id] === hash && this.keyEquals(id, packet)) return id;
      slot = (slot + 1) & this.slotMask;
    }
  }

  private keyEquals(id: number, packet: DecodedPacket): boolean {
    if (this.protocol[id] !== packet.ipProtocol) return false;
    if (this.vlanKey[id] !== vlanKeyOf(packet)) return false;
    const base = id * ADDR_WORDS;
    const src = this.srcWords;
    const dst = this.dstWords;
    const isSrcA =
      src[0] === this.addrA[base] &&
      src[1] === this.addrA[base + 1] &&
      src[2] === this.addrA[base + 2] &&
      src[3] === this.addrA[base + 3] &&
      dst[0] === this.addrB[base] &&
      dst[1] === this.addrB[base + 1] &&
      dst[2] === this.addrB[base + 2] &&
      dst[3] === this.addrB[base + 3] &&
      packet.srcPort === this.portA[id] &&
      packet.dstPort === this.portB[id];
    if (isSrcA) return true;
    return (
      dst[0] === this.addrA[base] &&
      dst[1] === this.addrA[base + 1] &&
      dst[2] === this.addrA[base + 2] &&
      dst[3] === this.addrA[base + 3] &&
      src[0] === this.addrB[base] &&
      src[1] === this.addrB[base + 1] &&
      src[2] === this.addrB[base + 2] &&
      src[3] === this.addrB[base + 3] &&
      packet.dstPort === this.portA[id] &&
      packet.srcPort === this.portB[id]
    );
  }

  private insert(
    hash: number,
    packet: DecodedPacket,
    direction: number,
    timeUs: number,
  ): number {
    if (this.freeHead === NO_ENTRY) {
      const victim =
        this.recent.head !== NO_ENTRY ? this.recent.head : this.closing.head;
      this.end(victim, FlowEndReason.Capacity);
    }
    const id = this.freeHead;
    this.freeHead = this.freeNext[id];

    let slot = hash & this.slotMask;
    while (this.index[slot] !== NO_ENTRY) slot = (slot + 1) & this.slotMask;
    this.index[slot] = id;
    this.slotOf[id] = slot;

    this.storeKey(id, hash, packet, direction);
    this.isInitiatorA[id] = isInitiatorSource(packet)
      ? direction === DIR_A_TO_B
        ? 1
        : 0
      : direction === DIR_A_TO_B
        ? 0
        : 1;
    this.firstIcmpTypeCode[id] =
      packet.icmpType >= 0 ? (packet.icmpType << 8) | packet.icmpCode : 0;
    this.packetsAB[id] = this.packetsBA[id] = 0;
    this.bytesAB[id] = this.bytesBA[id] = 0;
    this.firstUs[id] = this.lastUs[id] = timeUs;
    this.endUs[id] = 0;
    this.tcpFlagsUnion[id] = 0;
    this.tcpState[id] = 0;

    this.recent.pushTail(id);
    this.started.pushTail(id);
    this.size++;
    this.startedByClass[this.flowClass(id)]++;
    if (this.onFlowStart !== undefined) this.onFlowStart(this, id);
    return id;
  }

  private storeKey(
    id: number,
    hash: number,
    packet: DecodedPacket,
    direction: number,
  ): void {
    const base = id * ADDR_WORDS;
    const lower = direction === DIR_A_TO_B ? this.srcWords : this.dstWords;
    const upper = direction === DIR_A_TO_B ? this.dstWords : this.srcWords;
    for (let i = 0; i < ADDR_WORDS; i++) {
      this.addrA[base + i] = lower[i];
      this.addrB[base + i] = upper[i];
    }
    this.portA[id] = direction === DIR_A_TO_B ? packet.srcPort : packet.dstPort;
    this.portB[id] = direction === DIR_A_TO_B ? packet.dstPort : packet.srcPort;
    this.keyHash[id] = hash;
    this.vlanKey[id] = vlanKeyOf(packet);
    this.protocol[id] = packet.ipProtocol;
    this.ipVersion[id] = packet.ipVersion;
  }

  /** Flag union and close tracking: FIN both ways, or any RST, ends it. */
  private trackTcp(
    id: number,
    packet: DecodedPacket,
    direction: number,
    timeUs: number,
  ): void {
    const flags = packet.tcpFlags;
    this.tcpFlagsUnion[id] |= flags;
    let state = this.tcpState[id];
    if (flags & TcpFlag.Fin) {
      state |= direction === DIR_A_TO_B ? STATE_FIN_FROM_A : STATE_FIN_FROM_B;
    }
    const isClosed =
      (flags & TcpFlag.Rst) !== 0 ||
      (state & (STATE_FIN_FROM_A | STATE_FIN_FROM_B)) ===
        (STATE_FIN_FROM_A | STATE_FIN_FROM_B);
    if (isClosed && (state & STATE_CLOSING) === 0) {
      state |= STATE_CLOSING;
      this.endUs[id] = timeUs;
      this.recent.remove(id);
      this.closing.pushTail(id);
    }
    this.tcpState[id] = state;
  }

  /** Export a long-lived flow and keep tracking it as a new record. */
  private restartActive(id: number, nowUs: number): void {
    if (this.onFlowEnd !== undefined) {
      this.onFlowEnd(this, id, FlowEndReason.Active);
    }
    this.endedByReason[FlowEndReason.Active]++;
    this.packetsAB[id] = this.packetsBA[id] = 0;
    this.bytesAB[id] = this.bytesBA[id] = 0;
    this.firstUs[id] = nowUs;
    this.started.remove(id);
    this.started.pushTail(id);
  }

  private end(id: number, reason: number): void {
    if (this.onFlowEnd !== undefined) this.onFlowEnd(this, id, reason);
    this.endedByReason[reason]++;

    if (this.tcpState[id] & STATE_CLOSING) this.closing.remove(id);
    else this.recent.remove(id);
    this.started.remove(id);
    this.removeFromIndex(id);
    this.freeNext[id] = this.freeHead;
    this.freeHead = id;
    this.size--;
  }

  /** Backward-shift deletion keeps probe chains intact without tombstones. */
  private removeFromIndex(id: number): void {
    const mask = this.slotMask;
    let hole = this.slotOf[id];
    this.index[hole] = NO_ENTRY;
    let slot = hole;
    for (;;) {
      slot = (slot + 1) & mask;
      const moved = this.index[slot];
      if (moved === NO_ENTRY) return;
      const home = this.keyHash[moved] & mask;
      const isHomeBetween =
        hole <= slot
          ? home > hole && home <= slot
          : home > hole || home <= slot;
      if (isHomeBetween) continue;
      this.index[hole] = moved;
      this.slotOf[moved] = hole;
      this.index[slot] = NO_ENTRY;
      hole = slot;
    }
  }
}

/** A flow as its consumers read it, oriented client to server. */
export interface FlowRecord {
  ipVersion: number;
  protocol: number;
  vlanOuter: number;
  vlanInner: number;
  clientAddr: string;
  clientPort: number;
  serverAddr: string;
  serverPort: number;
  clientPackets: number;
  serverPackets: number;
  clientBytes: number;
  serverBytes: number;
  firstUs: number;
  lastUs: number;
  tcpFlags: number;
  /** Type and code of the flow's first ICMP message; 0 otherwise. */
  icmpType: number;
  icmpCode: number;
}

/**
 * Doubly linked list threaded through typed arrays, one node per flow id:
 * O(1) push, remove and move-to-tail with no allocation.
 */
class FlowList {
  head = NO_ENTRY;
  tail = NO_ENTRY;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;

  constructor(capacity: number) {
    this.prev = new Int32Array(capacity).fill(NO_ENTRY);
    this.next = new Int32Array(capacity).fill(NO_ENTRY);
  }

  pushTail(id: number): void {
    this.prev[id] = this.tail;
    this.next[id] = NO_ENTRY;
    if (this.tail === NO_ENTRY) this.head = id;
    else this.next[this.tail] = id;
    this.tail = id;
  }

  remove(id: number): void {
    const before = this.prev[id];
    const after = this.next[id];
    if (before === NO_ENTRY) this.head = after;
    else this.next[before] = after;
    if (after === NO_ENTRY) this.tail = before;
    else this.prev[after] = before;
    this.prev[id] = this.next[id] = NO_ENTRY;
  }

  moveToTail(id: number): void {
    if (this.tail === id) return;
    this.remove(id);
    this.pushTail(id);
  }
}

/**
 * Whether the packet's source is the flow's initiator: a SYN+ACK or a
 * reply-type ICMP message comes from the responder.
 */
function isInitiatorSource(packet: DecodedPacket): boolean {
  if (packet.layers & Layer.Tcp) {
    const synAck = TcpFlag.Syn | TcpFlag.Ack;
    return (packet.tcpFlags & synAck) !== synAck;
  }
  return true;
}

function vlanKeyOf(packet: DecodedPacket): number {
  if (packet.vlanCount === 0) return 0;
  const outer = packet.vlanIds[0];
  const inner = packet.vlanCount > 1 ? packet.vlanIds[1] : 0;
  return (outer << 12) | inner;
}

/** Symmetric combination of the two ports, so both directions hash alike. */
function portsOf(packet: DecodedPacket): number {
  return (packet.srcPort + packet.dstPort) & 0xffff;
}

/** Murmur3's 32-bit finaliser: cheap and mixes every input bit. */
function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function nextPowerOfTwo(value: number): number {
  let power = 1;
  while (power < value) power *= 2;
  return power;
}

function formatAddress(
  words: Uint32Array,
  flowId: number,
  ipVersion: number,
): string {
  const base = flowId * ADDR_WORDS;
  if (ipVersion === 4) {
    const w = words[base];
    return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < ADDR_WORDS; i++) {
    const w = words[base + i];
    groups.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  }
  return compressIpv6(groups);
}

/** RFC 5952 text form: the longest run of two or more zero groups as `::`. */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}
