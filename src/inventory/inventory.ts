/**
 * The inventory stage: attributes frames to their devices, runs the
 * fingerprint extractors a frame can feed, and keeps devices classified.
 */
import { LRUCache } from 'lru-cache';

import { Layer, TcpFlag, type DecodedPacket } from '../decode/packet.js';
import { linkSourceWord, Watch, type FlowTable } from '../flows/flow-table.js';
import { parseCdp } from '../fingerprint/cdp.js';
import { parseDhcp } from '../fingerprint/dhcp.js';
import {
  isDhcpv6ClientMessage,
  parseDhcpv6,
  type Duid,
} from '../fingerprint/dhcpv6.js';
import { DicomPduType } from '../fingerprint/dicom.js';
import { dnsQuestionKey, parseDns, summarizeMdns } from '../fingerprint/dns.js';
import { parseHttpRequest } from '../fingerprint/http-request.js';
import { ja3 } from '../fingerprint/ja3.js';
import { ja4, type Ja4Transport } from '../fingerprint/ja4.js';
import { parseLldp } from '../fingerprint/lldp.js';
import { detectMedicalHint } from '../fingerprint/medical-hints.js';
import { parseNbns } from '../fingerprint/nbns.js';
import { parseSip, SIP_PORT } from '../fingerprint/sip.js';
import { parseSsdp } from '../fingerprint/ssdp.js';
import {
  StreamPrefixStatus,
  StreamPrefixTable,
} from '../fingerprint/stream-prefix.js';
import {
  formatIpv4,
  formatIpv6,
  isLinkLocalText,
  parseIpv4Word,
  parseMac,
} from '../fingerprint/text.js';
import {
  QUIC_MIN_INITIAL_DATAGRAM_BYTES,
  QuicInitialStatus,
  QuicInitialTable,
} from '../fingerprint/quic-initial.js';
import {
  parseClientHello,
  parseClientHelloMessage,
  type ClientHello,
} from '../fingerprint/tls-client-hello.js';
import { parseWsDiscovery } from '../fingerprint/ws-discovery.js';
import { loadDefaultCatalog, type CompiledCatalog } from './catalog.js';
import {
  PREVIOUS_SYN_SHAPE,
  RECENT_ARP_ADDRESS,
  RECENT_SERVER_PORT,
  RECENT_SYN_SHAPE,
  SipRoleBit,
  type Device,
  type DeviceReport,
} from './device.js';
import { DeviceTable, DEVICE_TABLE_MAX_DEVICES } from './device-table.js';
import { KeyMemo } from './key-memo.js';
import {
  applyMedicalHint,
  observeMedicalTcp,
  observeTcpSignature,
  TcpSignatureMemo,
  synShapeKey,
} from './medical.js';
import { isGroupAddress, loadVendorRegistry } from './oui.js';

export interface InventoryOptions {
  maxDevices?: number;
  catalog?: CompiledCatalog;
}

/** A MAC seen with more source IPs than this forwards for others. */
export const ROUTER_MIN_SOURCE_IPS = 8;

/**
 * Flows a newly found router's flow directions may be looked through per
 * second of packet time (a pass visits every flow held): a few routers at
 * start cost one pass each, while traffic that makes many MACs look like
 * routers cannot stall the sensor with passes over a million flows.
 */
const ROUTER_RESCAN_FLOWS_PER_SEC = 1_000_000;
/** What the extractors still want from a flow direction. */
const Inspection = {
  /** No payload seen yet, or a ClientHello is being gathered. */
  Unseen: 0,
  /** Identified, or nothing to identify: later payload is skipped. */
  Done: 1,
  /** An HL7 sender: each message's MSH is read. */
  Hl7: 2,
} as const;

const MLLP_START_BLOCK = 0x0b;
/** IPv4 addresses of directly seen devices remembered, at most. */
const DIRECT_ADDRESSES_MAX = 65_536;
/** Words of the filter in front of them: 2^16 bits. */
const DIRECT_FILTER_WORDS = 2048;
/** Router addresses learnt from DHCP, at most. */
const ROUTER_ADDRESSES_MAX = 1024;
/** Address-to-MAC bindings remembered for conflict detection. */
const ARP_BINDINGS_MAX = 65_536;
/** (device, ARP-claimed address) pairs remembered, to skip repeats. */
const ARP_CLAIMS_MAX = 65_536;
/** (device, SYN shape) pairs remembered, to skip repeated signatures. */
const SYN_SHAPES_MAX = 65_536;
/** (device, DNS question) pairs remembered, to skip repeated queries. */
const DNS_QUESTIONS_MAX = 65_536;
/** (device, server port) pairs remembered, to skip repeated SYN+ACKs. */
const SERVER_PORTS_MAX = 65_536;
/** (device, UDP port) pairs answered from once, awaiting a second flow. */
const UDP_REPLY_PORTS_MAX = 65_536;
/** UDP ports below this are services on their first reply (IANA system). */
const UDP_SYSTEM_PORTS_END = 1024;
/** The dynamic port range's start (RFC 6335): an asker there is a client. */
const DYNAMIC_PORTS_START = 49_152;

/**
 * Words of state per flow direction, at (flow id * 2 + direction) * 4: the
 * sender's device table index + 1 (0: not known yet, -1: no device), that
 * device's serial, its `linkSourceWord`, and the direction's `Inspection`
 * state. One array, so a packet reads one line.
 */
const FLOW_STATE_WORDS = 4;
const SENDER_INDEX = 0;
const SENDER_SERIAL = 1;
const SENDER_LINK_SOURCE = 2;
const INSPECTION = 3;
const NO_SENDER = -1;
/**
 * Per flow direction, at (flow id * 2 + direction) * 2: the packets and
 * bytes of the direction already added to its sender's counters.
 */
const SETTLED_WORDS = 2;
/** Flow directions the per-direction arrays hold at first; they double. */
const FLOW_STATE_MIN_FLOWS = 16_384;
/**
 * Packet time between settling every flow's counters into its devices, so
 * that the device table's recency (which device a full table evicts) is at
 * most this stale for devices whose flows are all long-lived.
 */
const SETTLE_INTERVAL_US = 10_000_000;

/** Extractors counted in `InventoryCounters.extractorHits`, by index. */
const Extractor = {
  Arp: 0,
  Ipv6Nd: 1,
  Dhcp: 2,
  Dhcpv6: 3,
  Mdns: 4,
  Ssdp: 5,
  Nbns: 6,
  WsDiscovery: 7,
  MedicalHint: 8,
  TcpSyn: 9,
  Http: 10,
  Medical: 11,
  Tls: 12,
  Quic: 13,
  Lldp: 14,
  Cdp: 15,
  Dns: 16,
  Sip: 17,
} as const;
const EXTRACTOR_NAMES = [
  'arp',
  'ipv6_nd',
  'dhcp',
  'dhcpv6',
  'mdns',
  'ssdp',
  'nbns',
  'ws_discovery',
  'medical_hint',
  'tcp_syn',
  'http',
  'medical',
  'tls',
  'quic',
  'lldp',
  'cdp',
  'dns',
  'sip',
];

const NA_ICMP_TYPE = 136;
/** Router solicitation to redirect: the neighbour discovery messages. */
const ND_FIRST_ICMP_TYPE = 133;
const ND_LAST_ICMP_TYPE = 137;
const CDP_MAC = [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc];
const ETHERTYPE_LLDP = 0x88cc;

/** The stage's own counters, for status and the bench. */
export interface InventoryCounters {
  /** Frames or messages each extractor took identity from, by name. */
  extractorHits: Record<string, number>;
  devicesEvicted: number;
  tlsStreamsEvicted: number;
  /**
   * Entries dropped from the full memos of ARP claims, SYN shapes and
   * directly seen addresses: each costs a repeat of work, not a result.
   */
  memoEvicted: number;
  /**
   * Routers found while the pass budget was spent: the flows they were
   * credited with before stay theirs until those flows end.
   */
  routerRescansSkipped: number;
}

/**
 * Device inventory fed by the packet pipeline. It sees the frames of a
 * flow direction only while it asks for them (`FlowTable.setWatch`) and
 * frames outside flows (ARP, LLDP, later fragments); a device's counters
 * are settled from the flow table's. Devices are found through integer
 * indexes; strings are built only when a device, an address or a
 * fingerprint is new.
 */
export class Inventory {
  readonly devices: DeviceTable;
  readonly catalog: CompiledCatalog;
  readonly tlsStreams = new StreamPrefixTable();
  readonly quicInitials = new QuicInitialTable();
  private readonly hits = new Float64Array(EXTRACTOR_NAMES.length);
  private readonly ipOwners = new LRUCache<string, Device>({
    max: ARP_BINDINGS_MAX,
  });
  private readonly routerIps = new Set<string>();
  /** The IPv4 ones of `routerIps`, as signed words: tested per frame. */
  private readonly routerIpv4Words = new Set<number>();
  /** Router addresses (signed words) held by a routed host entry. */
  private readonly routedTwinWords = new Set<number>();
  /** The flow table whose ids `observe` receives: `attachFlows`. */
  private flows: FlowTable | null = null;
  /** Per flow direction, `FLOW_STATE_WORDS` words; grown with flow ids. */
  private flowState = new Int32Array(0);
  /** Per flow direction, `SETTLED_WORDS` counters; grown with flow ids. */
  private settled = new Float64Array(0);
  /** Packet time at which every flow is next settled. */
  private nextSettleUs = 0;
  /** Flows the next router passes may visit (`ROUTER_RESCAN_FLOWS_PER_SEC`). */
  private rescanBudgetFlows = ROUTER_RESCAN_FLOWS_PER_SEC;
  private rescanBudgetAtUs = 0;
  private routerRescansSkipped = 0;
  /**
   * Devices seen directly (not through a router) by IPv4 address: key
   * (address, 0), values (table index, serial).
   */
  private readonly directByIpv4 = new KeyMemo(DIRECT_ADDRESSES_MAX);
  /**
   * One bit per hash of each address `directByIpv4` was given: a clear bit
   * says "not there" from 8 kB that stay in cache, which is the answer for
   * nearly every public address behind a router.
   */
  private readonly directFilter = new Int32Array(DIRECT_FILTER_WORDS);
  /** (device serial, address) pairs an ARP sender already claimed. */
  private readonly arpClaims = new KeyMemo(ARP_CLAIMS_MAX);
  /** (device serial, SYN shape digest) pairs already fingerprinted. */
  private readonly synShapes = new KeyMemo(SYN_SHAPES_MAX);
  /** (device serial, DNS question digest) pairs already recorded. */
  private readonly dnsQuestions = new KeyMemo(DNS_QUESTIONS_MAX);
  /** (device serial, port) pairs a SYN+ACK already came from. */
  private readonly serverPorts = new KeyMemo(SERVER_PORTS_MAX);
  /** (device serial, port) pairs a UDP reply came from, in one flow yet. */
  private readonly udpReplyPorts = new KeyMemo(UDP_REPLY_PORTS_MAX);
  private readonly signatures = new TcpSignatureMemo();

  constructor(options: InventoryOptions = {}) {
    this.devices = new DeviceTable(
      options.maxDevices ?? DEVICE_TABLE_MAX_DEVICES,
    );
    this.catalog = options.catalog ?? loadDefaultCatalog();
    // Load the vendor registry now: it is start-up work, not a packet's.
    loadVendorRegistry();
  }

  /**
   * Take flow ids from `flows` from now on. The flow table counts each flow
   * direction's packets and bytes and hands `observe` only the packets of
   * directions the inventory watches, so a device's counters are settled
   * from its flows: when a flow ends, when its sender changes, on
   * `report()`, and every `SETTLE_INTERVAL_US` of packet time.
   */
  attachFlows(flows: FlowTable): void {
    this.flows = flows;
    this.flowState = new Int32Array(0);
    this.settled = new Float64Array(0);
  }

  /**
   * Account one decoded frame (status Ok) to its device and feed the
   * extractors. `flowId` is what the attached flow table returned for it
   * (-1: none); a frame of a flow direction the table no longer watches
   * need not come here, for the flow table counts it.
   */
  observe(
    packet: DecodedPacket,
    buf: Uint8Array,
    frameEnd: number,
    timeUs: number,
    wireBytes: number,
    flowId: number,
  ): void {
    const vlan = packet.vlanCount > 0 ? packet.vlanIds[0] : 0;
    const flows = this.flows;
    if (flowId < 0 || flows === null) {
      // No flow counts this frame (ARP, other link-layer frames, later IP
      // fragments): it counts here.
      const senderId = tableIdOf(this.sourceDevice(packet, buf, vlan, timeUs));
      if (senderId >= 0) this.devices.count(senderId, wireBytes, timeUs);
      this.inspect(senderId, packet, buf, frameEnd, vlan, timeUs, -1, -1);
    } else {
      this.observeFlowFrame(
        packet,
        buf,
        frameEnd,
        vlan,
        timeUs,
        wireBytes,
        flowId,
        flows,
      );
    }

    // Last, once the frame's sender is known: settling before would credit
    // a frame to the sender its flow direction had until now.
    if (timeUs >= this.nextSettleUs) {
      this.settleAll();
      this.nextSettleUs = timeUs + SETTLE_INTERVAL_US;
    }
  }

  /** A frame of a flow direction the flow table still watches. */
  private observeFlowFrame(
    packet: DecodedPacket,
    buf: Uint8Array,
    frameEnd: number,
    vlan: number,
    timeUs: number,
    wireBytes: number,
    flowId: number,
    flows: FlowTable,
  ): void {
    const direction = flows.lastDirection;
    const slot = this.slotOf(flowId, direction);
    const linkSource = linkSourceWord(packet, buf);
    const senderId = this.flowSenderId(
      packet,
      buf,
      vlan,
      timeUs,
      wireBytes,
      flowId,
      direction,
      slot,
      linkSource,
    );
    const watch = this.inspect(
      senderId,
      packet,
      buf,
      frameEnd,
      vlan,
      timeUs,
      flowId,
      slot,
    );
    // A sender forgotten meanwhile (found to be a router) is looked up
    // again on the direction's next packet.
    const isForgotten = this.flowState[slot + SENDER_INDEX] === 0;
    flows.setWatch(
      flowId,
      direction,
      isForgotten ? Watch.Everything : watch,
      linkSource,
    );
  }

  /**
   * The device that sent one direction of a flow (0: endpoint A to B, 1: B
   * to A, as `FlowTable.lastDirection`), or null when none is known. Valid
   * until `onFlowEnd(flowId)`.
   */
  flowSender(flowId: number, direction: number): Device | null {
    const slot = (flowId * 2 + direction) * FLOW_STATE_WORDS;
    if (flowId < 0 || slot >= this.flowState.length) return null;
    return this.rememberedSender(slot);
  }

  /**
   * Feed the frame to the extractors it can feed. Returns what they want
   * from the rest of its flow direction (a `Watch`): a direction with no
   * sender or nothing left to identify wants nothing; TCP and UDP ones
   * still being read want their payload.
   */
  private inspect(
    senderId: number,
    packet: DecodedPacket,
    buf: Uint8Array,
    frameEnd: number,
    vlan: number,
    timeUs: number,
    flowId: number,
    slot: number,
  ): number {
    const layers = packet.layers;
    if (layers & Layer.Arp) {
      this.observeArp(senderId, packet, buf, vlan, timeUs);
      return Watch.Nothing;
    }
    if (senderId < 0) return Watch.Nothing;
    const devices = this.devices;
    if (layers & Layer.Udp) {
      if (slot >= 0) this.observeUdpResponder(senderId, packet, flowId, slot);
      if (slot < 0 || this.flowState[slot + INSPECTION] !== Inspection.Done) {
        const device = devices.at(senderId) as Device;
        this.inspectUdp(device, packet, buf, vlan, timeUs, flowId, slot);
      }
      return this.payloadWatch(slot);
    }
    if (layers & Layer.Tcp) {
      this.observeTcp(senderId, packet, buf, flowId, slot);
      return this.payloadWatch(slot);
    }
    if (layers & Layer.Icmpv6) {
      // Each neighbour advertisement may claim another address.
      const device = devices.at(senderId) as Device;
      this.observeNeighborAdvert(device, packet, buf, vlan);
      return Watch.Everything;
    }
    if (packet.networkOff >= 0) {
      const device = devices.at(senderId) as Device;
      this.observeLinkLayer(device, packet, buf, frameEnd);
    }
    return Watch.Nothing;
  }

  /** Payload while the direction at `slot` is still being read, else none. */
  private payloadWatch(slot: number): number {
    return slot >= 0 && this.flowState[slot + INSPECTION] !== Inspection.Done
      ? Watch.Payload
      : Watch.Nothing;
  }

  /**
   * The table index of the device that sent the frame of the flow direction
   * at `slot`, or -1 for none. Packets of one flow direction nearly always
   * come from the same MAC, so the answer is kept per direction with the
   * MAC's last four bytes as a check; a different MAC (spoofing, a path
   * change) or an evicted device is looked up afresh, and what the previous
   * sender sent before this frame is settled to it.
   */
  private flowSenderId(
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
    timeUs: number,
    wireBytes: number,
    flowId: number,
    direction: number,
    slot: number,
    linkSource: number,
  ): number {
    // A direction's first packet has nothing remembered: its state is not
    // read, a memory access most new flows would otherwise wait for.
    const flows = this.flows as FlowTable;
    const isFirst = flows.directionPackets(flowId, direction) === 1;
    const state = this.flowState;
    const known = isFirst ? 0 : state[slot + SENDER_INDEX];
    if (known !== 0 && state[slot + SENDER_LINK_SOURCE] === linkSource) {
      if (known === NO_SENDER) return -1;
      if (this.devices.holds(known - 1, state[slot + SENDER_SERIAL])) {
        return known - 1;
      }
    }
    if (known !== 0) this.settleDirection(flowId, slot, 1, wireBytes);
    const device = this.sourceDevice(packet, buf, vlan, timeUs);
    this.rememberSender(slot, device, linkSource);
    return tableIdOf(device);
  }

  /** The device remembered at `slot`, if it is still in the table. */
  private rememberedSender(slot: number): Device | null {
    const state = this.flowState;
    const known = state[slot + SENDER_INDEX];
    if (known <= 0) return null;
    if (!this.devices.holds(known - 1, state[slot + SENDER_SERIAL])) {
      return null;
    }
    return this.devices.at(known - 1) ?? null;
  }

  private rememberSender(
    slot: number,
    device: Device | null,
    linkSource: number,
  ): void {
    const state = this.flowState;
    state[slot + SENDER_INDEX] =
      device === null ? NO_SENDER : device.tableId + 1;
    state[slot + SENDER_SERIAL] = device === null ? 0 : device.serial;
    state[slot + SENDER_LINK_SOURCE] = linkSource;
  }

  /**
   * Add what one flow direction sent since it was last settled, less the
   * newest `excludedPackets` and `excludedBytes`, to its sender. A sender
   * evicted meanwhile loses that share, and the direction is watched again
   * so that its next packet finds (or re-creates) its device.
   */
  private settleDirection(
    flowId: number,
    slot: number,
    excludedPackets: number,
    excludedBytes: number,
  ): void {
    const state = this.flowState;
    const known = state[slot + SENDER_INDEX];
    // A direction whose first packet is still being looked at has no
    // sender yet: its counts wait for one.
    if (known === 0) return;
    const flows = this.flows as FlowTable;
    const direction = (slot / FLOW_STATE_WORDS) & 1;
    const at = (slot / FLOW_STATE_WORDS) * SETTLED_WORDS;
    const settled = this.settled;
    const packets = flows.directionPackets(flowId, direction) - excludedPackets;
    const bytes = flows.directionBytes(flowId, direction) - excludedBytes;
    const newPackets = packets - settled[at];
    if (newPackets <= 0) return;
    const newBytes = bytes - settled[at + 1];
    settled[at] = packets;
    settled[at + 1] = bytes;

    if (known === NO_SENDER) return;
    if (this.devices.holds(known - 1, state[slot + SENDER_SERIAL])) {
      const lastUs = flows.directionLastUs(flowId, direction);
      this.devices.countFlow(known - 1, newPackets, newBytes, lastUs);
      return;
    }
    state[slot + SENDER_INDEX] = 0;
    flows.setWatch(flowId, direction, Watch.Everything, 0);
  }

  /** Settle every flow held into its devices' counters. */
  private settleAll(): void {
    const flows = this.flows;
    if (flows === null) return;
    const held = this.flowState.length / FLOW_STATE_WORDS;
    flows.forEachFlow((flowId) => {
      for (let direction = 0; direction < 2; direction++) {
        const index = flowId * 2 + direction;
        if (index < held) {
          this.settleDirection(flowId, index * FLOW_STATE_WORDS, 0, 0);
        }
      }
    });
  }

  /** Where flow direction state starts, growing the arrays to hold it. */
  private slotOf(flowId: number, direction: number): number {
    const index = flowId * 2 + direction;
    if (index * FLOW_STATE_WORDS >= this.flowState.length) {
      this.growFlowState(flowId);
    }
    return index * FLOW_STATE_WORDS;
  }

  /**
   * Flow ids come from a free list, lowest first, so the arrays only grow
   * to the most flows held at once: doubled, up to the table's capacity.
   */
  private growFlowState(flowId: number): void {
    const maxFlows = (this.flows as FlowTable).maxFlows;
    const heldFlows = this.flowState.length / (2 * FLOW_STATE_WORDS);
    let flows = Math.max(FLOW_STATE_MIN_FLOWS, heldFlows);
    while (flows <= flowId) flows *= 2;
    flows = Math.min(flows, maxFlows);
    const state = new Int32Array(flows * 2 * FLOW_STATE_WORDS);
    state.set(this.flowState);
    this.flowState = state;
    const settled = new Float64Array(flows * 2 * SETTLED_WORDS);
    settled.set(this.settled);
    this.settled = settled;
  }

  /** Devices as `inventory --json` reports them, most packets first. */
  report(): DeviceReport[] {
    this.settleAll();
    return this.devices
      .all()
      .filter(isReported)
      .sort((a, b) => b.packets - a.packets)
      .map((device) => device.toReport(this.catalog));
  }

  /** How many devices `report()` would list. */
  reportedDevices(): number {
    this.settleAll();
    return this.devices.all().filter(isReported).length;
  }

  counters(): InventoryCounters {
    const extractorHits: Record<string, number> = {};
    EXTRACTOR_NAMES.forEach((name, extractor) => {
      if (this.hits[extractor] > 0) extractorHits[name] = this.hits[extractor];
    });
    return {
      extractorHits,
      devicesEvicted: this.devices.evicted,
      tlsStreamsEvicted: this.tlsStreams.evictedStreams,
      memoEvicted:
        this.directByIpv4.evicted +
        this.arpClaims.evicted +
        this.synShapes.evicted +
        this.serverPorts.evicted +
        this.udpReplyPorts.evicted +
        this.dnsQuestions.evicted +
        this.signatures.evicted,
      routerRescansSkipped: this.routerRescansSkipped,
    };
  }

  /** Forget per-flow state of a flow that ended. */
  onFlowEnd(flowId: number): void {
    const base = flowId * 2 * FLOW_STATE_WORDS;
    if (flowId >= 0 && base < this.flowState.length) {
      this.settleDirection(flowId, base, 0, 0);
      this.settleDirection(flowId, base + FLOW_STATE_WORDS, 0, 0);
      this.flowState.fill(0, base, base + 2 * FLOW_STATE_WORDS);
      const at = flowId * 2 * SETTLED_WORDS;
      this.settled.fill(0, at, at + 2 * SETTLED_WORDS);
    }
    this.tlsStreams.release(flowId);
    this.quicInitials.release(flowId);
  }

  /**
   * The device that sent the frame: its MAC's, or for a router's MAC (or a
   * link without MACs) the host behind it, keyed by source IP.
   */
  private sourceDevice(
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
    timeUs: number,
  ): Device | null {
    const macOff = packet.srcMacOff;
    const hasIp = packet.ipVersion !== 0;
    if (macOff < 0 || isGroupAddress(buf, macOff)) {
      return hasIp ? this.hostByIp(packet, buf, timeUs, null) : null;
    }

    const device = this.devices.byMac(buf, macOff, vlan, timeUs);
    if (!hasIp) return device;

    // What no router forwards, the router sent itself.
    if (!device.isRouter || isLinkScoped(packet, buf)) {
      this.bindAddress(device, packet, buf, timeUs);
      // This frame's address may be what shows the device to be a router.
      if (!device.isRouter || isLinkScoped(packet, buf)) return device;
    }
    return this.hostByIp(packet, buf, timeUs, device);
  }

  /**
   * The host behind a router (or on a link without MACs) that sent the
   * frame: a device already seen directly with that IPv4 address, else a
   * host keyed by its internal address alone (the same host whichever VLAN
   * the router forwards it on). Public addresses are destinations, not
   * devices of the site, so they get none.
   */
  private hostByIp(
    packet: DecodedPacket,
    buf: Uint8Array,
    timeUs: number,
    router: Device | null,
  ): Device | null {
    const off = packet.srcAddrOff;
    if (packet.ipVersion === 4) {
      // Signed keys stay small integers: no boxing per lookup.
      const address = readWord(buf, off);
      let host = this.directDevice(address);
      // A router address not seen directly (yet) is the router's own: it
      // relays DHCP from it onto the server's VLAN, say.
      if (host === null && router !== null && this.isRouterIpv4(address)) {
        host = router;
      }
      if (host !== null) {
        const twins = this.routedTwinWords;
        if (twins.size !== 0 && twins.has(address)) {
          this.mergeRoutedTwin(address, host);
        }
        return host;
      }
      if (!isInternalIpv4(address >>> 0)) return null;
      return this.devices.byIp(buf, off, 4, 0, timeUs);
    }
    // Limitation: IPv6 hosts behind a router are not matched to devices
    // seen directly; they stay separate routed entries.
    if (!isInternalIpv6(buf, off)) return null;
    return this.devices.byIp(buf, off, 16, 0, timeUs);
  }

  /** Whether IPv4 `address` (a signed word) is a router's, from DHCP. */
  private isRouterIpv4(address: number): boolean {
    const words = this.routerIpv4Words;
    return words.size !== 0 && words.has(address);
  }

  /**
   * Fold the host entry of router address `address` into `owner`, the
   * router (or its interface) that address belongs to.
   * Limitation: the fingerprints of the entry are not moved (a router
   * speaking for itself shows few: relayed DHCP, pings).
   */
  private mergeRoutedTwin(address: number, owner: Device): void {
    this.routedTwinWords.delete(address);
    const twin = this.devices.findIpv4(address);
    if (twin === undefined || twin === owner) return;
    this.devices.merge(twin.tableId, owner.tableId);
    owner.isDirty = true;
  }

  /** The device seen directly with IPv4 `address` (a signed word), if any. */
  private directDevice(address: number): Device | null {
    const bit = filterBit(address);
    if ((this.directFilter[bit >>> 5] & (1 << (bit & 31))) === 0) return null;
    const direct = this.directByIpv4;
    if (!direct.has(address, 0)) return null;
    const device = this.devices.at(direct.valueA);
    if (device === undefined || device.serial !== direct.valueB) return null;
    return device;
  }

  /**
   * Remember the source IP of a frame from `device`. Only a change from
   * the last address costs a string; a MAC with many source addresses, or
   * holding a router address from DHCP, is a router.
   */
  private bindAddress(
    device: Device,
    packet: DecodedPacket,
    buf: Uint8Array,
    timeUs: number,
  ) {
    const off = packet.srcAddrOff;
    const isV4 = packet.ipVersion === 4;
    // Two remembered keys per family: a host often alternates two addresses
    // (IPv6: a link-local and a global one).
    if (isV4) {
      const key = readWord(buf, off);
      if (key === device.lastIpv4Key || key === 0) return;
      if (key === device.previousIpv4Key) {
        device.previousIpv4Key = device.lastIpv4Key;
        device.lastIpv4Key = key;
        return;
      }
      device.previousIpv4Key = device.lastIpv4Key;
      device.lastIpv4Key = key;
    } else {
      // The unspecified address (::), like 0.0.0.0, is no one's address: a
      // host sends from it before it has one (DAD, MLD reports).
      const key = ipv6KeyWord(buf, off);
      if (key === device.lastIpv6Key || isUnspecifiedIpv6(buf, off)) return;
      if (key === device.previousIpv6Key) {
        device.previousIpv6Key = device.lastIpv6Key;
        device.lastIpv6Key = key;
        return;
      }
      device.previousIpv6Key = device.lastIpv6Key;
      device.lastIpv6Key = key;
    }

    const address = isV4 ? formatIpv4(buf, off) : formatIpv6(buf, off);
    if (device.ips.has(address)) return;
    device.ips.add(address);
    if (isV4) this.rememberDirect(device, device.lastIpv4Key, address);
    device.distinctAddresses++;
    device.isDirty = true;
    if (
      (isV4 && device.distinctAddresses > ROUTER_MIN_SOURCE_IPS) ||
      this.routerIps.has(address)
    ) {
      this.markRouter(device, timeUs);
    }
  }

  /**
   * `device` was seen directly with the IPv4 `address` (`key`: its signed
   * word). A router that held it without claiming it had forwarded from it.
   */
  private rememberDirect(device: Device, key: number, address: string): void {
    const holder = this.directDevice(key);
    if (
      holder !== null &&
      holder !== device &&
      holder.isRouter &&
      !this.hasClaimed(holder, address)
    ) {
      holder.ips.delete(address);
      holder.isDirty = true;
    }
    const bit = filterBit(key);
    this.directFilter[bit >>> 5] |= 1 << (bit & 31);
    this.directByIpv4.set(key, 0, device.tableId, device.serial);
  }

  /**
   * From now on the hosts behind `device` are keyed by IP. The addresses
   * it was credited with until now were partly those of hosts it forwarded
   * for: it keeps only those it showed as its own (claimed in ARP or
   * neighbour discovery, link-local, a DHCP router option no other MAC
   * claimed), and the others no longer lead routed traffic to it.
   */
  private markRouter(device: Device, timeUs: number): void {
    if (device.isRouter) return;
    device.isRouter = true;
    device.isDirty = true;
    this.forgetServerPorts(device);
    for (const address of device.ips.values()) {
      const key = parseIpv4Word(address);
      const isDirect = key !== null && this.directDevice(key) === device;
      const isOwn =
        isLinkLocalText(address) ||
        this.hasClaimed(device, address) ||
        (isDirect && this.routerIps.has(address));
      if (isOwn) continue;
      device.ips.delete(address);
      // Serial 0 is no device's: the entry now finds nothing.
      if (isDirect) this.directByIpv4.set(key, 0, 0, 0);
    }
    this.forgetFlowsSentBy(device, timeUs);
  }

  /**
   * A router's answers until now were partly its hosts' (a server's
   * SYN+ACK or reply forwarded): its own ports are learnt afresh.
   * Limitation: stack signatures and DNS questions it forwarded before it
   * was found to be a router stay its own.
   */
  private forgetServerPorts(device: Device): void {
    for (const port of device.serverPorts.values()) {
      this.serverPorts.delete(device.serial, port + 1);
      device.serverPorts.delete(port);
    }
    this.devices.setRecentKey(device.tableId, RECENT_SERVER_PORT, 0);
  }

  /** Whether `device` holds `address` by its own ARP or ND claim. */
  private hasClaimed(device: Device, address: string): boolean {
    return this.ipOwners.peek(`${device.vlan}/${address}`) === device;
  }

  /**
   * Whether a pass over `flowsHeld` flows at packet time `timeUs` fits the
   * budget; spends it.
   */
  private spendRescanBudget(flowsHeld: number, timeUs: number): boolean {
    const elapsedUs = timeUs - this.rescanBudgetAtUs;
    if (elapsedUs > 0) {
      this.rescanBudgetFlows = Math.min(
        ROUTER_RESCAN_FLOWS_PER_SEC,
        this.rescanBudgetFlows +
          (elapsedUs / 1e6) * ROUTER_RESCAN_FLOWS_PER_SEC,
      );
      this.rescanBudgetAtUs = timeUs;
    }
    if (flowsHeld > this.rescanBudgetFlows) {
      this.routerRescansSkipped++;
      return false;
    }
    this.rescanBudgetFlows -= flowsHeld;
    return true;
  }

  /**
   * Settle every flow direction `device` is remembered to have sent and
   * watch it again, so that its next packet finds its sender afresh.
   */
  private forgetFlowsSentBy(device: Device, timeUs: number): void {
    const flows = this.flows;
    if (flows === null || !this.spendRescanBudget(flows.size, timeUs)) {
      return;
    }
    const state = this.flowState;
    const held = state.length / FLOW_STATE_WORDS;
    flows.forEachFlow((flowId) => {
      for (let direction = 0; direction < 2; direction++) {
        const index = flowId * 2 + direction;
        const slot = index * FLOW_STATE_WORDS;
        if (
          index >= held ||
          state[slot + SENDER_INDEX] !== device.tableId + 1 ||
          state[slot + SENDER_SERIAL] !== device.serial
        ) {
          continue;
        }
        this.settleDirection(flowId, slot, 0, 0);
        state[slot + SENDER_INDEX] = 0;
        flows.setWatch(flowId, direction, Watch.Everything, 0);
      }
    });
  }

  /**
   * ARP binds an address to the sender's MAC; the same address claimed by
   * another MAC is a conflict (spoofing or a misconfigured device). Only a
   * binding the sender has not repeated since costs strings.
   */
  private observeArp(
    sourceId: number,
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
    timeUs: number,
  ): void {
    const macOff = packet.arpSenderMacOff;
    if (macOff < 0) return;
    this.hit(Extractor.Arp);
    const addressKey = readWord(buf, packet.arpSenderIpOff);
    if (addressKey === 0) return;
    // The sender hardware address is nearly always the frame's source,
    // whose device (keyed by that MAC: an ARP frame has no IP) is known.
    const devices = this.devices;
    const senderId =
      sourceId >= 0 &&
      packet.srcMacOff >= 0 &&
      isSameMac(buf, macOff, packet.srcMacOff)
        ? sourceId
        : devices.byMac(buf, macOff, vlan, timeUs).tableId;
    if (devices.recentKey(senderId, RECENT_ARP_ADDRESS) === addressKey) return;
    devices.setRecentKey(senderId, RECENT_ARP_ADDRESS, addressKey);
    if (!this.arpClaims.add(devices.serialAt(senderId), addressKey)) return;

    const sender = devices.at(senderId) as Device;
    const senderIp = formatIpv4(buf, packet.arpSenderIpOff);
    this.claimAddress(sender, `${vlan}/${senderIp}`, senderIp);
    if (!sender.ips.has(senderIp)) {
      sender.ips.add(senderIp);
      sender.isDirty = true;
    }
    // A router's own address (a gateway relaying DHCP, say) reaches the
    // mirror routed through another of its interfaces: it is the router's.
    // Limitation: a router answering proxy ARP for remote hosts would be
    // credited with their routed traffic.
    this.rememberDirect(sender, addressKey, senderIp);
  }

  /**
   * IPv6 neighbour advertisement (RFC 4861): the sender claims the target
   * address. A claim on an address another MAC holds is a conflict, as with
   * ARP; repeats of the last claim cost nothing.
   */
  private observeNeighborAdvert(
    device: Device,
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
  ): void {
    if (packet.icmpType !== NA_ICMP_TYPE || packet.ndTargetAddrOff < 0) return;
    const targetKey = ipv6KeyWord(buf, packet.ndTargetAddrOff);
    if (targetKey === device.lastNdTargetKey) return;
    device.lastNdTargetKey = targetKey;
    this.hit(Extractor.Ipv6Nd);

    const target = formatIpv6(buf, packet.ndTargetAddrOff);
    this.claimAddress(device, `${vlan}/${target}`, target);
    if (!device.ips.has(target)) {
      device.ips.add(target);
      device.isDirty = true;
    }
  }

  /** Record that `device` holds `address`; flag both on a conflict. */
  private claimAddress(device: Device, binding: string, address: string) {
    const owner = this.ipOwners.get(binding);
    if (owner !== undefined && owner !== device) {
      device.findings.add(`address_conflict:${address}`);
      owner.findings.add(`address_conflict:${address}`);
    }
    this.ipOwners.set(binding, device);
  }

  /**
   * UDP protocols are told by port (or, for QUIC and the vendor hints, by
   * the first datagram's structure): a flow direction whose first datagram
   * no extractor recognised is not looked at again.
   */
  private inspectUdp(
    device: Device,
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
    timeUs: number,
    flowId: number,
    slot: number,
  ): void {
    if (slot < 0) {
      this.observeUdp(device, packet, buf, vlan, timeUs, flowId);
      return;
    }
    if (this.flowState[slot + INSPECTION] === Inspection.Done) return;
    if (!this.observeUdp(device, packet, buf, vlan, timeUs, flowId)) {
      this.flowState[slot + INSPECTION] = Inspection.Done;
    }
  }

  /**
   * Feed one datagram to its extractor; false when the rest of its flow
   * direction has nothing more to tell (none recognised it, or it named
   * all the direction can).
   */
  private observeUdp(
    device: Device,
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
    timeUs: number,
    flowId: number,
  ): boolean {
    const off = packet.payloadOff;
    const end = off + packet.payloadBytes;
    const src = packet.srcPort;
    const dst = packet.dstPort;

    // Only a padded datagram can be a QUIC client Initial (RFC 9000 14.1).
    if (packet.payloadBytes >= QUIC_MIN_INITIAL_DATAGRAM_BYTES) {
      const status = this.quicInitials.append(flowId, packet, buf);
      if (status === QuicInitialStatus.Complete) {
        const quic = this.quicInitials;
        const hello = parseClientHelloMessage(
          quic.helloBuf,
          quic.helloOff,
          quic.helloEnd,
        );
        this.observeClientHello(device, hello, 'q');
      }
      if (status !== QuicInitialStatus.Ignored) return true;
    }

    if (dst === 67 || dst === 68 || src === 67 || src === 68) {
      this.observeDhcp(packet, buf, vlan, timeUs);
      return true;
    }
    if (src === SIP_PORT || dst === SIP_PORT) {
      return this.observeSip(device, buf, off, end);
    }
    if (dst === 546 || dst === 547) {
      this.observeDhcpv6(device, buf, off, end, vlan, timeUs);
      return true;
    }
    if (src === 5353 || dst === 5353 || src === 5355 || dst === 5355) {
      this.observeMdns(device, buf, off, end);
      return true;
    }
    // DNS: the names a device asks its server for. A direction that opens
    // with a query stays inspected, so each later query on a reused 5-tuple
    // is read too; one that opens with anything else is not DNS, and is
    // done. A server's answers name what others asked, not the server, so
    // that direction is done too.
    // Limitation: queries sent over TCP (RFC 7766) are not read.
    if (dst === 53) {
      // Devices ask the same few names again and again: a question this
      // device sent before is told by its wire bytes, without parsing.
      const nameKey = dnsQuestionKey(buf, off, end);
      const asked = this.dnsQuestions;
      if (nameKey !== 0 && asked.has(device.serial, nameKey)) {
        this.hit(Extractor.Dns);
        return true;
      }
      const message = parseDns(buf, off, end);
      if (message === null || message.isResponse || !message.isComplete) {
        return false;
      }
      this.hit(Extractor.Dns);
      this.addQueryNames(device, message.questions);
      if (nameKey !== 0) asked.add(device.serial, nameKey);
      return true;
    }
    if (src === 53) return false;
    if (dst === 1900 || src === 1900) {
      const info = parseSsdp(buf, off, end);
      if (info !== null) {
        this.hit(Extractor.Ssdp);
        addText(device, device.ssdpServers, info.server || info.userAgent);
        addText(
          device,
          device.ssdpTypes,
          info.notificationType || info.searchTarget,
        );
      }
      return true;
    }
    if (dst === 137 || src === 137) {
      const info = parseNbns(buf, off, end);
      if (info !== null && (info.isRegistration || info.isResponse)) {
        this.hit(Extractor.Nbns);
        addText(device, device.nbnsNames, info.name);
      }
      return true;
    }
    if (dst === 3702 || src === 3702) {
      const info = parseWsDiscovery(buf, off, end);
      if (info !== null) {
        this.hit(Extractor.WsDiscovery);
        for (const type of info.types) addText(device, device.wsdTypes, type);
        for (const scope of info.scopes) {
          addText(device, device.wsdScopes, scope);
        }
      }
      return true;
    }
    // A vendor hint names its sender (or receiver) once for the whole
    // direction: a monitor's wave stream repeats it in every datagram, and
    // reading each would cost the inventory a tenth of a ward's traffic.
    const hint = detectMedicalHint(buf, packet);
    if (hint === null) return false;
    this.hit(Extractor.MedicalHint);
    const target =
      hint.deviceIs === 'sender'
        ? device
        : this.destinationDevice(packet, buf, vlan, timeUs);
    if (target !== null) applyMedicalHint(target, hint);
    return false;
  }

  /** The unicast destination's device, for hints that identify it. */
  private destinationDevice(
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
    timeUs: number,
  ): Device | null {
    const macOff = packet.dstMacOff;
    if (macOff < 0 || isGroupAddress(buf, macOff)) return null;
    return this.devices.byMac(buf, macOff, vlan, timeUs);
  }

  /**
   * DHCP: the client is the chaddr (a relay forwards for it), its option 55
   * list is the fingerprint, and an ACK binds the assigned address.
   */
  private observeDhcp(
    packet: DecodedPacket,
    buf: Uint8Array,
    vlan: number,
    timeUs: number,
  ): void {
    const off = packet.payloadOff;
    const info = parseDhcp(buf, off, off + packet.payloadBytes);
    if (info === null || info.hwType !== 1) return;
    this.hit(Extractor.Dhcp);
    for (const router of info.routers) {
      this.noteRouterAddress(router, timeUs);
    }

    const client = this.devices.byMac(buf, off + 28, vlan, timeUs);
    if (info.op === 1) {
      if (
        info.fingerprint !== '' &&
        client.dhcpFingerprint !== info.fingerprint
      ) {
        client.dhcpFingerprint = info.fingerprint;
        client.isDirty = true;
      }
      if (
        info.vendorClass !== '' &&
        client.dhcpVendorClass !== info.vendorClass
      ) {
        client.dhcpVendorClass = info.vendorClass;
        client.isDirty = true;
      }
      if (info.hostName !== '') {
        client.dhcpHostname = info.hostName;
        addText(client, client.hostnames, info.hostName);
      }
      setMudUrl(client, info.mudUrl);
    } else if (
      info.assignedAddress !== '' &&
      info.assignedAddress !== '0.0.0.0'
    ) {
      if (!client.ips.has(info.assignedAddress)) {
        client.ips.add(info.assignedAddress);
        client.isDirty = true;
      }
    }
  }

  // Limitation: a relayed message that a known router forwards from a
  // public relay address has no sender device, so it is not read.
  /**
   * DHCPv6: a client message names its client by DUID. When a relay
   * forwarded it, or a router (the sender is a host keyed by IP), the
   * facts go to the MAC of an Ethernet link-layer DUID on the same VLAN,
   * as DHCPv4 uses chaddr; a relayed one without such a DUID names no
   * device. Otherwise, server messages included, they stay with the
   * sender.
   */
  private observeDhcpv6(
    sender: Device,
    buf: Uint8Array,
    off: number,
    end: number,
    vlan: number,
    timeUs: number,
  ): void {
    const info = parseDhcpv6(buf, off, end);
    if (info === null) return;
    this.hit(Extractor.Dhcpv6);
    const isClientMessage = isDhcpv6ClientMessage(info.messageType);
    const duid = isClientMessage ? info.clientDuid : null;
    // A DUID keeps the address of whichever interface it was made from
    // (RFC 8415 section 11.2), so a direct sender outranks it. A relay is
    // never the client; a host behind a router is, when nothing better.
    let client: Device | null = sender;
    if (isClientMessage && (info.relayHops > 0 || sender.mac === null)) {
      const named = duid === null ? null : this.duidDevice(duid, vlan, timeUs);
      client = named ?? (info.relayHops > 0 ? null : sender);
    }
    if (client === null) return;

    setMudUrl(client, info.mudUrl);
    const vendorClass = info.vendorClass.join(' ');
    if (vendorClass !== '' && client.dhcpv6VendorClass !== vendorClass) {
      client.dhcpv6VendorClass = vendorClass;
      client.isDirty = true;
    }
    const optionRequests = info.optionRequests.join(',');
    if (
      isClientMessage &&
      optionRequests !== '' &&
      client.dhcpv6OptionRequests !== optionRequests
    ) {
      client.dhcpv6OptionRequests = optionRequests;
      client.isDirty = true;
    }
    if (duid === null) return;
    if (client.dhcpv6Duid !== duid.hex) {
      client.dhcpv6Duid = duid.hex;
      client.isDirty = true;
    }
    addText(client, client.hostnames, info.fqdn);
  }

  /**
   * The device of an Ethernet link-layer DUID (LLT or LL) on `vlan`,
   * created if new; null when the DUID names no unicast Ethernet MAC.
   */
  private duidDevice(duid: Duid, vlan: number, timeUs: number): Device | null {
    const isEthernetDuid =
      (duid.type === 1 || duid.type === 3) && duid.hwType === 1;
    if (!isEthernetDuid) return null;
    const mac = parseMac(duid.linkLayerAddress);
    if (mac === null || isGroupAddress(mac, 0)) return null;
    return this.devices.byMac(mac, 0, vlan, timeUs);
  }

  /**
   * A router address from DHCP: the MAC holding it forwards for others, so
   * hosts behind it are keyed by IP from now on. Rare, so a scan is fine.
   */
  private noteRouterAddress(address: string, timeUs: number): void {
    if (this.routerIps.has(address)) return;
    if (this.routerIps.size >= ROUTER_ADDRESSES_MAX) return;
    this.routerIps.add(address);
    const word = parseIpv4Word(address);
    if (word !== null) this.routerIpv4Words.add(word);
    for (const device of this.devices.all()) {
      if (device.mac !== null && device.ips.has(address)) {
        this.markRouter(device, timeUs);
      }
    }

    // Frames the router sent from this address before it was known as a
    // router's made a host entry of it: the flows credited to that entry
    // look for their sender again, and the first that finds the router
    // folds the entry into it (`hostByIp`).
    const twin = word === null ? undefined : this.devices.findIpv4(word);
    if (word !== null && twin !== undefined) {
      this.forgetFlowsSentBy(twin, timeUs);
      this.routedTwinWords.add(word);
    }
  }

  /**
   * mDNS/LLMNR: a query (QR=0) gives the names the device asks for; a
   * response, what it announces about itself.
   */
  private observeMdns(
    device: Device,
    buf: Uint8Array,
    off: number,
    end: number,
  ): void {
    const message = parseDns(buf, off, end);
    if (message === null) return;
    this.hit(Extractor.Mdns);
    if (!message.isResponse) {
      this.addQueryNames(device, message.questions);
      return;
    }
    const identity = summarizeMdns(message);
    if (identity.hostName !== '') {
      addText(device, device.hostnames, identity.hostName);
    }
    for (const type of identity.serviceTypes) {
      addText(device, device.mdnsServices, type);
    }
    for (const instance of identity.serviceInstances) {
      addText(device, device.mdnsInstances, instance.name);
    }
    for (const entry of identity.txt) {
      const [key, value] = splitOnce(entry, '=');
      if (/^(md|model|ty|usb_mdl|product)$/i.test(key) && value !== '') {
        addText(device, device.mdnsModels, value);
      }
    }
  }

  /**
   * The names a DNS, mDNS or LLMNR query asks for, as the device asked
   * them: reverse lookups included, the root ('') left out.
   */
  private addQueryNames(
    device: Device,
    questions: ReadonlyArray<{ name: string }>,
  ): void {
    for (const question of questions) {
      addText(device, device.dnsQueries, question.name);
    }
  }

  private observeTcp(
    senderId: number,
    packet: DecodedPacket,
    buf: Uint8Array,
    flowId: number,
    slot: number,
  ): void {
    if (packet.tcpFlags & TcpFlag.Syn) {
      this.observeSyn(senderId, packet, buf);
      return;
    }
    if (packet.payloadBytes === 0 || slot < 0) return;

    // Identity sits at the start of a direction: a ClientHello, an HTTP
    // request, a DICOM association PDU. Later payload is not looked at,
    // except HL7 messages (each has an MSH) and a ClientHello in progress.
    const state = this.flowState[slot + INSPECTION];
    if (state === Inspection.Done) return;
    const device = this.devices.at(senderId) as Device;
    if (state === Inspection.Hl7) {
      if (buf[packet.payloadOff] === MLLP_START_BLOCK) {
        observeMedicalTcp(device, packet, buf, flowId, null);
      }
      return;
    }
    this.flowState[slot + INSPECTION] = this.inspectTcpPayload(
      device,
      packet,
      buf,
      flowId,
      slot,
    );
  }

  /**
   * A SYN or SYN+ACK: the sender's stack signature and, for a SYN+ACK, the
   * port it serves. Repeated (device, SYN shape) and (device, port) pairs
   * are told by flat memos, without reading the device.
   */
  private observeSyn(
    senderId: number,
    packet: DecodedPacket,
    buf: Uint8Array,
  ): void {
    const devices = this.devices;
    if (
      this.isShownShape(senderId, synShapeKey(packet)) ||
      observeTcpSignature(
        devices.at(senderId) as Device,
        packet,
        buf,
        this.signatures,
      )
    ) {
      this.hit(Extractor.TcpSyn);
    }

    if (packet.tcpFlags & TcpFlag.Ack) {
      this.noteServerPort(senderId, packet.srcPort);
    }
  }

  /**
   * The first datagram a UDP flow's responder sends names the port it
   * serves (DNS, NTP, SNMP, RADIUS...), as a SYN+ACK does for TCP. Only a
   * reply from a lower port than the asker's counts: a flow first seen
   * mid-stream may have its initiator wrong, and then the "responder" is
   * a client answering from its ephemeral port. Above the system ports a
   * port serves once it answered an asker in the dynamic range or two
   * flows: media streams (RTP, a call each, from ports below the dynamic
   * range) answer one flow from each port.
   * Limitation: peers that use one port on both ends (BACnet/IP on 47808,
   * NTP symmetric mode) do not show which of them serves.
   */
  private observeUdpResponder(
    senderId: number,
    packet: DecodedPacket,
    flowId: number,
    slot: number,
  ): void {
    if (packet.srcPort >= packet.dstPort) return;
    const flows = this.flows as FlowTable;
    const direction = (slot / FLOW_STATE_WORDS) & 1;
    if (flows.directionPackets(flowId, direction) !== 1) return;
    const isSenderA = direction === 0;
    if (flows.isInitiatorA(flowId) === isSenderA) return;
    const port = packet.srcPort;
    if (
      port >= UDP_SYSTEM_PORTS_END &&
      packet.dstPort < DYNAMIC_PORTS_START &&
      this.udpReplyPorts.add(this.devices.serialAt(senderId), port)
    ) {
      return;
    }
    this.noteServerPort(senderId, port);
  }

  /** Record that the device at `senderId` answered on `port`. */
  private noteServerPort(senderId: number, port: number): void {
    const devices = this.devices;
    // Ports are stored + 1, so that 0 stays "none".
    const portKey = port + 1;
    if (devices.recentKey(senderId, RECENT_SERVER_PORT) === portKey) return;
    devices.setRecentKey(senderId, RECENT_SERVER_PORT, portKey);
    if (this.serverPorts.add(devices.serialAt(senderId), portKey)) {
      const device = devices.at(senderId) as Device;
      if (device.serverPorts.add(port)) device.isDirty = true;
    }
  }

  /**
   * Whether the device has shown this SYN shape before: one of its last two
   * (in its counter row), else one the memo holds. Remembers it either way.
   */
  private isShownShape(senderId: number, shape: number): boolean {
    const devices = this.devices;
    const recentShape = devices.recentKey(senderId, RECENT_SYN_SHAPE);
    if (shape === recentShape) return true;
    if (shape === devices.recentKey(senderId, PREVIOUS_SYN_SHAPE)) return true;
    devices.setRecentKey(senderId, PREVIOUS_SYN_SHAPE, recentShape);
    devices.setRecentKey(senderId, RECENT_SYN_SHAPE, shape);
    return !this.synShapes.add(devices.serialAt(senderId), shape);
  }

  /** Look at a direction's first payload; returns what to do with the rest. */
  private inspectTcpPayload(
    device: Device,
    packet: DecodedPacket,
    buf: Uint8Array,
    flowId: number,
    slot: number,
  ): number {
    const off = packet.payloadOff;
    const end = off + packet.payloadBytes;
    const status = this.tlsStreams.append(flowId, packet, buf);
    if (status === StreamPrefixStatus.Complete) {
      const streams = this.tlsStreams;
      const hello = parseClientHello(
        streams.helloBuf,
        streams.helloOff,
        streams.helloEnd,
      );
      this.observeClientHello(device, hello, 't');
      return Inspection.Done;
    }
    if (status !== StreamPrefixStatus.Ignored) {
      return status === StreamPrefixStatus.Buffering
        ? Inspection.Unseen
        : Inspection.Done;
    }

    const first = buf[off];
    if (first >= 0x41 && first <= 0x5a) {
      const request = parseHttpRequest(buf, off, end);
      if (request !== null) {
        this.hit(Extractor.Http);
        addText(device, device.userAgents, request.userAgent);
        return Inspection.Done;
      }
    }
    if (packet.srcPort === SIP_PORT || packet.dstPort === SIP_PORT) {
      return this.observeSip(device, buf, off, end)
        ? Inspection.Unseen
        : Inspection.Done;
    }
    // A DICOM accept is read against the request of the other direction.
    const peer =
      first === DicomPduType.AssociateAc
        ? this.flowSender(flowId, ((slot / FLOW_STATE_WORDS) & 1) ^ 1)
        : null;
    if (!observeMedicalTcp(device, packet, buf, flowId, peer)) {
      return Inspection.Done;
    }
    this.hit(Extractor.Medical);
    return first === MLLP_START_BLOCK ? Inspection.Hl7 : Inspection.Done;
  }

  /**
   * SIP: the software a phone or call server names, and its role. A request
   * counts from the agent that made it only (one Via: a proxy adds its own
   * and passes the User-Agent on), a response only when it answers a
   * REGISTER, which the registrar answers itself. Sending a REGISTER makes
   * a user agent (a phone, or a PBX registering to its trunk), answering
   * one a registrar; proxies send CANCEL, ACK and OPTIONS of their own, so
   * those name no role. Returns whether to read the direction's next
   * message: SIP that named no one yet.
   * Limitation: a REGISTER relayed by a proxy or SBC to the registrar
   * credits the proxy with the registrar's Server.
   */
  private observeSip(
    device: Device,
    buf: Uint8Array,
    off: number,
    end: number,
  ): boolean {
    const info = parseSip(buf, off, end);
    if (info === null) return false;
    if (info.viaCount > 1) return true;
    const isRequest = info.statusCode < 0;
    const isRegister =
      (isRequest ? info.method : info.cseqMethod) === 'REGISTER';
    if (isRegister) {
      const role = isRequest ? SipRoleBit.UserAgent : SipRoleBit.Registrar;
      if ((device.sipRoleBits & role) === 0) {
        device.sipRoleBits |= role;
        device.isDirty = true;
      }
    }

    const software = isRequest
      ? info.userAgent
      : isRegister
        ? info.server || info.userAgent
        : '';
    if (software === '') return true;
    this.hit(Extractor.Sip);
    addText(device, device.sipUserAgents, software);
    return false;
  }

  private observeClientHello(
    device: Device,
    hello: ClientHello | null,
    transport: Ja4Transport,
  ): void {
    if (hello === null) return;
    this.hit(transport === 'q' ? Extractor.Quic : Extractor.Tls);
    addText(device, device.ja3, ja3(hello).md5);
    addText(device, device.ja4, ja4(hello, transport).ja4);
    addText(device, device.sni, hello.sni);
  }

  /** LLDP and CDP: what network gear says about itself. */
  private observeLinkLayer(
    device: Device,
    packet: DecodedPacket,
    buf: Uint8Array,
    frameEnd: number,
  ): void {
    const off = packet.networkOff;
    if (packet.etherType === ETHERTYPE_LLDP) {
      const info = parseLldp(buf, off, frameEnd);
      if (info === null) return;
      this.hit(Extractor.Lldp);
      device.lldp = {
        chassisId: info.chassisId,
        portId: info.portId,
        systemName: info.systemName,
        systemDescription: info.systemDescription,
        capabilitiesEnabled: info.capabilitiesEnabled,
        managementAddresses: info.managementAddresses,
        // LLDP-MED inventory (ANSI/TIA-1057): phones and medical gear
        // announce their maker, model and firmware here.
        medManufacturer: info.med.manufacturer,
        medModel: info.med.modelName,
        medFirmware: info.med.firmwareRevision,
      };
      setMudUrl(device, info.mudUrl);
      addText(device, device.hostnames, info.systemName);
      device.isDirty = true;
      return;
    }
    if (packet.dstMacOff >= 0 && isCdpDestination(buf, packet.dstMacOff)) {
      const info = parseCdp(buf, off, frameEnd);
      if (info === null) return;
      this.hit(Extractor.Cdp);
      device.cdp = {
        deviceId: info.deviceId,
        platform: info.platform,
        softwareVersion: info.softwareVersion,
        portId: info.portId,
        addresses: info.addresses,
        // CdpCapability bits, -1 when absent: router, switch, phone...
        capabilities: info.capabilities,
      };
      addText(device, device.hostnames, info.deviceId);
      device.isDirty = true;
    }
  }

  private hit(extractor: number): void {
    this.hits[extractor]++;
  }
}

/** Add a non-empty value to one of the device's sets, marking it changed. */
function addText(
  device: Device,
  set: { add(value: string): boolean },
  value: string,
): void {
  if (value !== '' && set.add(value)) device.isDirty = true;
}

/**
 * The device's MUD URL (RFC 8520), from DHCP option 161, DHCPv6 option 112
 * or LLDP: where its maker publishes the traffic it needs.
 */
function setMudUrl(device: Device, url: string): void {
  if (url === '' || device.mudUrl === url) return;
  device.mudUrl = url;
  device.isDirty = true;
}

/** A device's index in its table, or -1 for none. */
function tableIdOf(device: Device | null): number {
  return device === null ? -1 : device.tableId;
}

function isSameMac(buf: Uint8Array, off: number, otherOff: number): boolean {
  for (let i = 0; i < 6; i++)
    if (buf[off + i] !== buf[otherOff + i]) return false;
  return true;
}

function isCdpDestination(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 6; i++) if (buf[off + i] !== CDP_MAC[i]) return false;
  return true;
}

function readWord(buf: Uint8Array, off: number): number {
  return (
    (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]
  );
}

/** A 32-bit digest of an IPv6 address, to notice a change cheaply. */
function ipv6KeyWord(buf: Uint8Array, off: number): number {
  return (
    readWord(buf, off) ^
    Math.imul(readWord(buf, off + 4), 31) ^
    Math.imul(readWord(buf, off + 8), 961) ^
    Math.imul(readWord(buf, off + 12), 29791)
  );
}

/** A 16-bit hash of an IPv4 address (a signed word), for `directFilter`. */
function filterBit(address: number): number {
  return Math.imul(address, 0x9e3779b1) >>> 16;
}

/**
 * A device is reported once it sent something: one seen only as a
 * destination (a DHCP client named by a relay, a hint's receiver) may
 * never show itself on the mirror.
 */
function isReported(device: Device): boolean {
  return device.packets > 0;
}

/**
 * A frame no router forwards: from a link-local address (fe80::/10,
 * 169.254/16: RFC 4291 2.5.6, RFC 3927 2.7), or IPv6 neighbour discovery
 * (RFC 4861: hop limit 255), whatever its source address.
 */
function isLinkScoped(packet: DecodedPacket, buf: Uint8Array): boolean {
  const off = packet.srcAddrOff;
  if (packet.ipVersion === 4) return buf[off] === 169 && buf[off + 1] === 254;
  return (
    packet.ipVersion === 6 &&
    ((buf[off] === 0xfe && (buf[off + 1] & 0xc0) === 0x80) ||
      ((packet.layers & Layer.Icmpv6) !== 0 &&
        packet.icmpType >= ND_FIRST_ICMP_TYPE &&
        packet.icmpType <= ND_LAST_ICMP_TYPE))
  );
}

function isUnspecifiedIpv6(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0) return false;
  return true;
}

/**
 * Private (RFC 1918), shared (RFC 6598) and link-local (RFC 3927) IPv4:
 * the addresses a site's own hosts use.
 */
function isInternalIpv4(address: number): boolean {
  const first = address >>> 24;
  const second = (address >>> 16) & 0xff;
  return (
    first === 10 ||
    (first === 172 && second >= 16 && second <= 31) ||
    (first === 192 && second === 168) ||
    (first === 100 && second >= 64 && second <= 127) ||
    (first === 169 && second === 254)
  );
}

/** Unique local (fc00::/7) and link-local (fe80::/10) IPv6. */
function isInternalIpv6(buf: Uint8Array, off: number): boolean {
  const first = buf[off];
  return (
    (first & 0xfe) === 0xfc ||
    (first === 0xfe && (buf[off + 1] & 0xc0) === 0x80)
  );
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}
