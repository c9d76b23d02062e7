/**
 * The bidirectional flow table: (VLAN, 5-tuple) keys hashed into typed-array
 * columns with a fixed capacity, idle/active/TCP-end timeouts by packet time,
 * and evictions counted by reason.
 */
import { u32be } from '../decode/bytes.js';
import { Layer, TcpFlag, type DecodedPacket } from '../decode/packet.js';
import { IpProtocol } from '../decode/transport.js';
import { communityId } from './community-id.js';
import { IdList, NO_ENTRY } from './id-list.js';

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

const ADDR_WORDS = 4;
/** Endpoint of a flow: A is the lower (address, port), B the higher. */
const DIR_A_TO_B = 0;
const DIR_B_TO_A = 1;
const STATE_FIN_FROM_A = 1;
const STATE_FIN_FROM_B = 2;
const STATE_CLOSING = 4;
/** Flows a full table looks at for one not seen since it was listed. */
const EVICTION_SECOND_CHANCES = 8;

/**
 * One flow's key and small state in one 64-byte row of an Int32Array, so a
 * lookup touches one cache line. Word offsets:
 */
const K_HASH = 0;
/**
 * protocol (bits 0-7), IP version (8-11), initiator is A (12), and per
 * direction (A to B, then B to A) what its watcher wants: every packet
 * (bits 13, 14) or those with payload (15, 16).
 */
const K_META = 1;
const K_VLAN = 2;
/** port A in the high 16 bits, port B in the low 16. */
const K_PORTS = 3;
const K_ADDR_A = 4;
const K_ADDR_B = 8;
/** Position in the hash index, for deletion. */
const K_SLOT = 12;
/**
 * TCP flag union (bits 0-7) and close state (8-15); first ICMP type (bits
 * 24-31) and code (16-23).
 */
const K_L4 = 13;
/** Per direction, the link-layer source its watcher last confirmed. */
const K_LINK_A = 14;
const KEY_STRIDE = 16;

const META_INITIATOR_A = 1 << 12;
const META_WATCH_EVERYTHING_A = 1 << 13;
const META_WATCH_PAYLOAD_A = 1 << 15;
const META_WATCH_BOTH = 3 << 13;
const META_WATCH_ANY = 15 << 13;

/** What a flow direction's watcher wants from it: `FlowTable.setWatch`. */
export const Watch = {
  /** Only a TCP SYN, or a packet from another link-layer source. */
  Nothing: 0,
  /** Packets with transport payload, and any from another link source. */
  Payload: 1,
  /** Every packet. */
  Everything: 2,
} as const;

/** One flow's counters and times in one 64-byte row of a Float64Array. */
const S_PACKETS_AB = 0;
const S_PACKETS_BA = 1;
const S_BYTES_AB = 2;
const S_BYTES_BA = 3;
const S_FIRST_US = 4;
const S_LAST_AB_US = 5;
const S_LAST_BA_US = 6;
/**
 * When the flow was last put at the recency tail or, once it closed (TCP),
 * when it closed: a closing flow has left the recency list.
 */
const S_MARK_US = 7;
const STATS_STRIDE = 8;

/** Flow-table counters: kind of flow, by protocol class. */
export const FlowClass = { Tcp: 0, Udp: 1, Other: 2 } as const;

/**
 * Flow table with fixed capacity. Keys never become strings: the key is
 * hashed from its integer words into an open-addressing index, and each
 * flow is one key row and one counter row, so a packet touches three cache
 * lines. Three intrusive lists order flows for expiry: by start (active
 * timeout), by close (TCP end), and by recency (idle timeout, eviction).
 * The recency list is kept lazily: a packet only stamps its flow's last
 * time, and a flow found at the head with a newer stamp is moved to the
 * tail then, so a busy flow costs no list work per packet.
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
  /**
   * Direction of the last packet observed within its flow: 0 from the lower
   * endpoint, 1 from the higher. Lets later stages cache per-direction state.
   */
  lastDirection = 0;
  /**
   * Whether the watcher of the last packet's flow direction wants it. A
   * stage that keeps state per flow direction (the inventory) watches every
   * packet of a new record's directions, and narrows that with `setWatch`
   * as it learns what it needs: once it wants nothing, only a packet from
   * another link-layer source (another MAC: spoofing, a path change) is
   * flagged, and the busy middle of a flow costs that stage nothing.
   */
  lastIsWatched = true;

  private readonly onFlowStart: FlowTableOptions['onFlowStart'];
  private readonly onFlowEnd: FlowTableOptions['onFlowEnd'];

  // Hash index: slot -> flow id, linear probing, at most half full.
  private readonly slotMask: number;
  private readonly index: Int32Array;
  private readonly keys: Int32Array;
  private readonly stats: Float64Array;

  private readonly recent: IdList;
  private readonly started: IdList;
  private readonly closing: IdList;
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
    this.keys = new Int32Array(capacity * KEY_STRIDE);
    this.stats = new Float64Array(capacity * STATS_STRIDE);

    this.recent = new IdList(capacity);
    this.started = new IdList(capacity);
    this.closing = new IdList(capacity);
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
    this.lastDirection = direction;
    const hash = this.hashKey(packet);
    let id = this.find(hash, packet);
    if (id === NO_ENTRY) id = this.insert(hash, packet, direction, timeUs);

    const row = id * STATS_STRIDE;
    const stats = this.stats;
    if (direction === DIR_A_TO_B) {
      stats[row + S_PACKETS_AB]++;
      stats[row + S_BYTES_AB] += wireBytes;
      stats[row + S_LAST_AB_US] = timeUs;
    } else {
      stats[row + S_PACKETS_BA]++;
      stats[row + S_BYTES_BA] += wireBytes;
      stats[row + S_LAST_BA_US] = timeUs;
    }
    if (packet.layers & Layer.Tcp) this.trackTcp(id, packet, direction, timeUs);

    const key = id * KEY_STRIDE;
    const meta = this.keys[key + K_META];
    // A TCP SYN is always handed over: it opens a connection (a reused
    // 5-tuple, a retransmission with other options) and names its stack.
    this.lastIsWatched =
      (meta & (META_WATCH_EVERYTHING_A << direction)) !== 0 ||
      (packet.tcpFlags & TcpFlag.Syn) !== 0 ||
      ((meta & (META_WATCH_PAYLOAD_A << direction)) !== 0 &&
        packet.payloadBytes > 0) ||
      this.keys[key + K_LINK_A + direction] !== linkSourceWord(packet, buf);
    return id;
  }

  /**
   * Set what the watcher wants from one direction (a `Watch`), with the
   * link-layer source it has seen it from (`linkSourceWord` of the packet
   * it last looked at): a packet from another is always handed over.
   */
  setWatch(
    flowId: number,
    direction: number,
    watch: number,
    linkSource: number,
  ): void {
    const key = flowId * KEY_STRIDE;
    const bits =
      watch === Watch.Everything
        ? META_WATCH_EVERYTHING_A
        : watch === Watch.Payload
          ? META_WATCH_PAYLOAD_A
          : 0;
    const mask = (META_WATCH_EVERYTHING_A | META_WATCH_PAYLOAD_A) << direction;
    this.keys[key + K_META] =
      (this.keys[key + K_META] & ~mask) | (bits << direction);
    this.keys[key + K_LINK_A + direction] = linkSource;
  }

  /** Packets one direction of a flow record sent so far. */
  directionPackets(flowId: number, direction: number): number {
    return this.stats[flowId * STATS_STRIDE + S_PACKETS_AB + direction];
  }

  /** Wire bytes one direction of a flow record sent so far. */
  directionBytes(flowId: number, direction: number): number {
    return this.stats[flowId * STATS_STRIDE + S_BYTES_AB + direction];
  }

  /** Packet time of one direction's last packet (0: none yet). */
  directionLastUs(flowId: number, direction: number): number {
    return this.stats[flowId * STATS_STRIDE + S_LAST_AB_US + direction];
  }

  /** End every flow whose timeout has passed at packet time `nowUs`. */
  expire(nowUs: number): void {
    const stats = this.stats;
    const idleUs = this.idleTimeoutMs * 1000;
    let id = this.recent.head;
    while (
      id !== NO_ENTRY &&
      nowUs - stats[id * STATS_STRIDE + S_MARK_US] > idleUs
    ) {
      if (nowUs - this.lastUsOf(id) > idleUs) {
        this.end(id, FlowEndReason.Idle);
      } else {
        this.relist(id);
      }
      id = this.recent.head;
    }

    const graceUs = this.tcpEndGraceMs * 1000;
    id = this.closing.head;
    while (
      id !== NO_ENTRY &&
      nowUs - stats[id * STATS_STRIDE + S_MARK_US] > graceUs
    ) {
      this.end(id, FlowEndReason.TcpEnd);
      id = this.closing.head;
    }

    const activeUs = this.activeTimeoutMs * 1000;
    id = this.started.head;
    while (
      id !== NO_ENTRY &&
      nowUs - stats[id * STATS_STRIDE + S_FIRST_US] > activeUs
    ) {
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

  /**
   * Call `visit` for every flow held, oldest first. `visit` must not make
   * the table start or end flows.
   */
  forEachFlow(visit: (flowId: number) => void): void {
    for (let id = this.started.head; id !== NO_ENTRY;) {
      const next = this.started.nextOf(id);
      visit(id);
      id = next;
    }
  }

  /** Whether endpoint A (direction 0's sender) opened the flow. */
  isInitiatorA(flowId: number): boolean {
    return (this.keys[flowId * KEY_STRIDE + K_META] & META_INITIATOR_A) !== 0;
  }

  /** Flows ended because the table was full. */
  get evictedFlows(): number {
    return this.endedByReason[FlowEndReason.Capacity];
  }

  /** Read one flow's record; valid for a flow id handed out by this table. */
  describe(flowId: number): FlowRecord {
    const key = flowId * KEY_STRIDE;
    const row = flowId * STATS_STRIDE;
    const keys = this.keys;
    const stats = this.stats;
    const meta = keys[key + K_META];
    const ipVersion = (meta >>> 8) & 0xf;
    const aIsClient = (meta & META_INITIATOR_A) !== 0;
    const a = formatAddress(keys, key + K_ADDR_A, ipVersion);
    const b = formatAddress(keys, key + K_ADDR_B, ipVersion);
    const portA = keys[key + K_PORTS] >>> 16;
    const portB = keys[key + K_PORTS] & 0xffff;
    const vlanKey = keys[key + K_VLAN];
    const packetsAB = stats[row + S_PACKETS_AB];
    const packetsBA = stats[row + S_PACKETS_BA];
    const bytesAB = stats[row + S_BYTES_AB];
    const bytesBA = stats[row + S_BYTES_BA];
    return {
      ipVersion,
      protocol: meta & 0xff,
      vlanOuter: vlanKey >>> 12,
      vlanInner: vlanKey & 0xfff,
      clientAddr: aIsClient ? a : b,
      clientPort: aIsClient ? portA : portB,
      serverAddr: aIsClient ? b : a,
      serverPort: aIsClient ? portB : portA,
      clientPackets: aIsClient ? packetsAB : packetsBA,
      serverPackets: aIsClient ? packetsBA : packetsAB,
      clientBytes: aIsClient ? bytesAB : bytesBA,
      serverBytes: aIsClient ? bytesBA : bytesAB,
      firstUs: stats[row + S_FIRST_US],
      lastUs: this.lastUsOf(flowId),
      tcpFlags: keys[key + K_L4] & 0xff,
      icmpType: keys[key + K_L4] >>> 24,
      icmpCode: (keys[key + K_L4] >>> 16) & 0xff,
    };
  }

  /**
   * The flow's Community ID v1 (default seed, base64), from its initiator's
   * side; ICMP flows use their first message's type and code. Computed on
   * demand (a SHA-1 per call): call it when a flow is exported.
   */
  communityIdOf(flowId: number): string {
    const key = flowId * KEY_STRIDE;
    const keys = this.keys;
    const meta = keys[key + K_META];
    const ipVersion = (meta >>> 8) & 0xf;
    const isClientA = (meta & META_INITIATOR_A) !== 0;
    const addrBytes = ipVersion === 4 ? 4 : 16;
    const a = addressBytes(keys, key + K_ADDR_A, addrBytes);
    const b = addressBytes(keys, key + K_ADDR_B, addrBytes);
    const portA = keys[key + K_PORTS] >>> 16;
    const portB = keys[key + K_PORTS] & 0xffff;
    return communityId({
      ipVersion,
      proto: meta & 0xff,
      srcAddr: isClientA ? a : b,
      dstAddr: isClientA ? b : a,
      srcPort: isClientA ? portA : portB,
      dstPort: isClientA ? portB : portA,
      icmpType: keys[key + K_L4] >>> 24,
      icmpCode: (keys[key + K_L4] >>> 16) & 0xff,
    });
  }

  /** The flow's class for counting: TCP, UDP or other. */
  flowClass(flowId: number): number {
    const protocol = this.keys[flowId * KEY_STRIDE + K_META] & 0xff;
    if (protocol === IpProtocol.Tcp) return FlowClass.Tcp;
    if (protocol === IpProtocol.Udp) return FlowClass.Udp;
    return FlowClass.Other;
  }

  /**
   * Two independent 32-bit hashes of a flow's key, for sets that must tell
   * keys apart without storing them (64 bits: collisions are negligible).
   */
  keyHashes(flowId: number): [number, number] {
    const key = flowId * KEY_STRIDE;
    const keys = this.keys;
    let h = mix32(keys[key + K_HASH] ^ 0x5bd1e995);
    // The watch bits change over a flow's life; the key does not.
    h = mix32(h ^ (keys[key + K_META] & ~META_WATCH_ANY));
    for (let i = K_VLAN; i <= K_ADDR_B + 3; i++) h = mix32(h ^ keys[key + i]);
    return [keys[key + K_HASH] >>> 0, h >>> 0];
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

  /**
   * Hash the scratch key. Symmetric (XOR and sum of the two endpoints), so
   * both directions meet; one multiply per word, one finaliser at the end.
   */
  private hashKey(packet: DecodedPacket): number {
    const src = this.srcWords;
    const dst = this.dstWords;
    let h = packet.ipProtocol ^ (vlanKeyOf(packet) << 8);
    h = Math.imul(h ^ (src[0] ^ dst[0]), 0x9e3779b1);
    h = Math.imul(h ^ (src[0] + dst[0]), 0x85ebca6b);
    if (packet.ipVersion === 6) {
      for (let i = 1; i < ADDR_WORDS; i++) {
        h = Math.imul(h ^ (src[i] ^ dst[i]), 0x9e3779b1);
        h = Math.imul(h ^ (src[i] + dst[i]), 0x85ebca6b);
      }
    }
    const ports =
      (packet.srcPort ^ packet.dstPort) |
      ((packet.srcPort + packet.dstPort) << 16);
    return mix32(h ^ ports) | 0;
  }

  private find(hash: number, packet: DecodedPacket): number {
    const keys = this.keys;
    let slot = hash & this.slotMask;
    for (;;) {
      const id = this.index[slot];
      if (id === NO_ENTRY) return NO_ENTRY;
      if (
        keys[id * KEY_STRIDE + K_HASH] === hash &&
        this.keyEquals(id, packet)
      ) {
        return id;
      }
      slot = (slot + 1) & this.slotMask;
    }
  }

  private keyEquals(id: number, packet: DecodedPacket): boolean {
    const keys = this.keys;
    const key = id * KEY_STRIDE;
    if ((keys[key + K_META] & 0xff) !== packet.ipProtocol) return false;
    if (keys[key + K_VLAN] !== vlanKeyOf(packet)) return false;
    const src = this.srcWords;
    const dst = this.dstWords;
    const a = key + K_ADDR_A;
    const b = key + K_ADDR_B;
    const ports = keys[key + K_PORTS];
    const isSrcA =
      (src[0] | 0) === keys[a] &&
      (src[1] | 0) === keys[a + 1] &&
      (src[2] | 0) === keys[a + 2] &&
      (src[3] | 0) === keys[a + 3] &&
      (dst[0] | 0) === keys[b] &&
      (dst[1] | 0) === keys[b + 1] &&
      (dst[2] | 0) === keys[b + 2] &&
      (dst[3] | 0) === keys[b + 3] &&
      ((packet.srcPort << 16) | packet.dstPort) === ports;
    if (isSrcA) return true;
    return (
      (dst[0] | 0) === keys[a] &&
      (dst[1] | 0) === keys[a + 1] &&
      (dst[2] | 0) === keys[a + 2] &&
      (dst[3] | 0) === keys[a + 3] &&
      (src[0] | 0) === keys[b] &&
      (src[1] | 0) === keys[b + 1] &&
      (src[2] | 0) === keys[b + 2] &&
      (src[3] | 0) === keys[b + 3] &&
      ((packet.dstPort << 16) | packet.srcPort) === ports
    );
  }

  private insert(
    hash: number,
    packet: DecodedPacket,
    direction: number,
    timeUs: number,
  ): number {
    if (this.freeHead === NO_ENTRY) {
      this.end(this.evictionVictim(), FlowEndReason.Capacity);
    }
    const id = this.freeHead;
    this.freeHead = this.freeNext[id];

    let slot = hash & this.slotMask;
    while (this.index[slot] !== NO_ENTRY) slot = (slot + 1) & this.slotMask;
    this.index[slot] = id;

    const keys = this.keys;
    const key = id * KEY_STRIDE;
    const isSrcA = direction === DIR_A_TO_B;
    const lower = isSrcA ? this.srcWords : this.dstWords;
    const upper = isSrcA ? this.dstWords : this.srcWords;
    for (let i = 0; i < ADDR_WORDS; i++) {
      keys[key + K_ADDR_A + i] = lower[i];
      keys[key + K_ADDR_B + i] = upper[i];
    }
    keys[key + K_PORTS] = isSrcA
      ? (packet.srcPort << 16) | packet.dstPort
      : (packet.dstPort << 16) | packet.srcPort;
    // The source started the flow unless it answers (a SYN+ACK).
    const isInitiatorA = isInitiatorSource(packet) === isSrcA;
    keys[key + K_HASH] = hash;
    keys[key + K_META] =
      packet.ipProtocol |
      (packet.ipVersion << 8) |
      (isInitiatorA ? META_INITIATOR_A : 0) |
      META_WATCH_BOTH;
    keys[key + K_VLAN] = vlanKeyOf(packet);
    keys[key + K_SLOT] = slot;
    keys[key + K_L4] =
      packet.icmpType >= 0
        ? (packet.icmpType << 24) | (packet.icmpCode << 16)
        : 0;
    keys[key + K_LINK_A] = 0;
    keys[key + K_LINK_A + 1] = 0;

    const row = id * STATS_STRIDE;
    this.stats.fill(0, row, row + STATS_STRIDE);
    this.stats[row + S_FIRST_US] = timeUs;
    this.stats[row + S_MARK_US] = timeUs;

    this.recent.pushTail(id);
    this.started.pushTail(id);
    this.size++;
    this.startedByClass[this.flowClass(id)]++;
    if (this.onFlowStart !== undefined) this.onFlowStart(this, id);
    return id;
  }

  /**
   * The least recently seen flow, near enough: a flow at the recency head
   * that saw packets since it was listed gets a second chance at the tail.
   */
  private evictionVictim(): number {
    const stats = this.stats;
    for (let i = 0; i < EVICTION_SECOND_CHANCES; i++) {
      const id = this.recent.head;
      if (id === NO_ENTRY) break;
      const row = id * STATS_STRIDE;
      if (this.lastUsOf(id) <= stats[row + S_MARK_US]) return id;
      this.relist(id);
    }
    return this.recent.head !== NO_ENTRY ? this.recent.head : this.closing.head;
  }

  /** Move a flow that saw packets since it was listed to the recency tail. */
  private relist(id: number): void {
    const row = id * STATS_STRIDE;
    this.stats[row + S_MARK_US] = this.lastUsOf(id);
    this.recent.remove(id);
    this.recent.pushTail(id);
  }

  /** Flag union and close tracking: FIN both ways, or any RST, ends it. */
  private trackTcp(
    id: number,
    packet: DecodedPacket,
    direction: number,
    timeUs: number,
  ): void {
    const at = id * KEY_STRIDE + K_L4;
    const flags = packet.tcpFlags;
    let state = (this.keys[at] >>> 8) & 0xff;
    if (flags & TcpFlag.Fin) {
      state |= direction === DIR_A_TO_B ? STATE_FIN_FROM_A : STATE_FIN_FROM_B;
    }
    const isClosed =
      (flags & TcpFlag.Rst) !== 0 ||
      (state & (STATE_FIN_FROM_A | STATE_FIN_FROM_B)) ===
        (STATE_FIN_FROM_A | STATE_FIN_FROM_B);
    if (isClosed && (state & STATE_CLOSING) === 0) {
      state |= STATE_CLOSING;
      this.stats[id * STATS_STRIDE + S_MARK_US] = timeUs;
      this.recent.remove(id);
      this.closing.pushTail(id);
    }
    this.keys[at] = (state << 8) | (this.keys[at] & 0xff) | flags;
  }

  /** Export a long-lived flow and keep tracking it as a new record. */
  private restartActive(id: number, nowUs: number): void {
    if (this.onFlowEnd !== undefined) {
      this.onFlowEnd(this, id, FlowEndReason.Active);
    }
    this.endedByReason[FlowEndReason.Active]++;
    const row = id * STATS_STRIDE;
    this.stats.fill(0, row + S_PACKETS_AB, row + S_BYTES_BA + 1);
    this.stats[row + S_FIRST_US] = nowUs;
    // A new record: its watcher starts afresh too.
    const key = id * KEY_STRIDE;
    this.keys[key + K_META] =
      (this.keys[key + K_META] & ~META_WATCH_ANY) | META_WATCH_BOTH;
    this.started.remove(id);
    this.started.pushTail(id);
  }

  /** Packet time of the flow's last packet, either way. */
  private lastUsOf(id: number): number {
    const row = id * STATS_STRIDE;
    return Math.max(
      this.stats[row + S_LAST_AB_US],
      this.stats[row + S_LAST_BA_US],
    );
  }

  private end(id: number, reason: number): void {
    if (this.onFlowEnd !== undefined) this.onFlowEnd(this, id, reason);
    this.endedByReason[reason]++;

    const state = (this.keys[id * KEY_STRIDE + K_L4] >>> 8) & 0xff;
    if (state & STATE_CLOSING) this.closing.remove(id);
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
    const keys = this.keys;
    let hole = keys[id * KEY_STRIDE + K_SLOT];
    this.index[hole] = NO_ENTRY;
    let slot = hole;
    for (;;) {
      slot = (slot + 1) & mask;
      const moved = this.index[slot];
      if (moved === NO_ENTRY) return;
      const home = keys[moved * KEY_STRIDE + K_HASH] & mask;
      const isHomeBetween =
        hole <= slot
          ? home > hole && home <= slot
          : home > hole || home <= slot;
      if (isHomeBetween) continue;
      this.index[hole] = moved;
      keys[moved * KEY_STRIDE + K_SLOT] = hole;
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

/**
 * What identifies the packet's link-layer source for `unwatch`: the last
 * four bytes of its source MAC, which tell a link's senders apart in
 * practice, or 0 on links without MACs.
 */
export function linkSourceWord(packet: DecodedPacket, buf: Uint8Array): number {
  const off = packet.srcMacOff;
  if (off < 0) return 0;
  return (
    (buf[off + 2] << 24) |
    (buf[off + 3] << 16) |
    (buf[off + 4] << 8) |
    buf[off + 5]
  );
}

function vlanKeyOf(packet: DecodedPacket): number {
  if (packet.vlanCount === 0) return 0;
  const outer = packet.vlanIds[0];
  const inner = packet.vlanCount > 1 ? packet.vlanIds[1] : 0;
  return (outer << 12) | inner;
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

/** Network-order bytes of an address stored as big-endian words. */
function addressBytes(words: Int32Array, at: number, bytes: number) {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    out[i] = (words[at + (i >> 2)] >>> (24 - 8 * (i & 3))) & 0xff;
  }
  return out;
}

function formatAddress(
  words: Int32Array,
  at: number,
  ipVersion: number,
): string {
  if (ipVersion === 4) {
    const w = words[at] >>> 0;
    return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < ADDR_WORDS; i++) {
    const w = words[at + i] >>> 0;
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
