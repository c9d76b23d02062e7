/**
 * Generates large synthetic captures for the benchmarks: a realistic mix of
 * protocols and frame sizes over many flows, written from per-flow templates.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ArpOp,
  EtherType,
  IpProto,
  SeededRng,
  TcpFlag,
  type TcpOption,
  arpPacket,
  ethernetFrame,
  foldChecksum,
  icmpv6Message,
  icmpMessage,
  ipBytes,
  put16,
  put32,
  ipv4Packet,
  ipv6Packet,
  pseudoHeaderSum,
  sumWords,
  tcpOptionBytes,
  tcpSegment,
  udpDatagram,
  concatBytes,
  dnsMessage,
  DnsType,
} from '../lib/frame-builder.js';
import { PcapWriter } from '../lib/pcap-writer.js';
import { LinkType } from '../../src/capture/link-type.js';

/** What to generate. */
export interface BenchCaptureOptions {
  /** Output pcap (classic, microseconds, little-endian, Ethernet). */
  path: string;
  /** Exact number of frames written. */
  frames: number;
  /**
   * Distinct TCP and UDP 5-tuples; ICMP echo and ARP conversations come on
   * top (about 3% and 2% of this many).
   */
  flows: number;
  seed: number;
  /** Average frame rate the timestamps follow; 200,000 by default. */
  ratePps?: number;
  /** First timestamp, seconds since the Unix epoch. */
  startTimeSec?: number;
}

/** Counts describing the capture written. */
export interface BenchCaptureStats {
  frames: number;
  tcpFrames: number;
  udpFrames: number;
  icmpFrames: number;
  arpFrames: number;
  vlanFrames: number;
  ipv6Frames: number;
  tcpFlows: number;
  udpFlows: number;
  icmpFlows: number;
  arpFlows: number;
  /** Frames of at most 100 bytes, 101 to 1399, and 1400 or more. */
  smallFrames: number;
  midFrames: number;
  largeFrames: number;
  largestFlowPkts: number;
  fileBytes: number;
  elapsedMs: number;
}

const KIND_TCP = 0;
const KIND_UDP = 1;
const KIND_ICMP = 2;
const KIND_ARP = 3;

/** Share of frames per kind, in KIND_* order. */
const FRAME_SHARES = [0.7, 0.2, 0.05, 0.05];
const VLAN_FRAME_SHARE = 0.2;
const IPV6_FRAME_SHARE = 0.15;
/** TCP among the 5-tuple flows; the rest are UDP. */
const TCP_FLOW_SHARE = 0.6;
const ICMP_FLOWS_PER_FLOW = 0.03;
const ARP_FLOWS_PER_FLOW = 0.02;
/** Pareto shape of packets per flow: below 2, so a few flows dominate. */
const PARETO_ALPHA = 1.1;

const MAX_FRAME_BYTES = 1514;
const MIN_FRAME_BYTES = 60;
/** Bytes reserved per template: Ethernet, one tag, IPv6, TCP. */
const TEMPLATE_STRIDE_BYTES = 80;
const DEFAULT_RATE_PPS = 200_000;
const DEFAULT_START_TIME_SEC = 1_709_539_200;
const GATEWAY_MAC = '00:00:5e:00:01:01';

const UDP_DNS = 0;
const UDP_NTP = 1;
const UDP_SNMP = 2;
const UDP_SYSLOG = 3;
const UDP_RTP = 4;
const UDP_PORTS = [53, 123, 161, 514, 5004];
const TCP_PORTS = [443, 443, 443, 443, 80, 2575, 104, 22, 3389, 445, 8080];

const STACK_LINUX = 0;
const STACK_WINDOWS = 1;
const STACK_MACOS = 2;
const STACK_EMBEDDED = 3;

/** Per-stack SYN options, SYN-ACK options and initial TTL. */
const STACK_TTL = [64, 128, 64, 255];

function optionBlock(options: TcpOption[]): Buffer {
  const bytes = concatBytes(...options.map(tcpOptionBytes));
  const out = Buffer.alloc((bytes.length + 3) & ~3);
  out.set(bytes);
  return out;
}

const SYN_OPTIONS: Buffer[] = [
  optionBlock([
    { kind: 'mss', mssBytes: 1460 },
    { kind: 'sack-permitted' },
    { kind: 'timestamps', tsVal: 1000, tsEcr: 0 },
    { kind: 'nop' },
    { kind: 'window-scale', shift: 7 },
  ]),
  optionBlock([
    { kind: 'mss', mssBytes: 1460 },
    { kind: 'nop' },
    { kind: 'window-scale', shift: 8 },
    { kind: 'nop' },
    { kind: 'nop' },
    { kind: 'sack-permitted' },
  ]),
  optionBlock([
    { kind: 'mss', mssBytes: 1460 },
    { kind: 'nop' },
    { kind: 'window-scale', shift: 6 },
    { kind: 'nop' },
    { kind: 'nop' },
    { kind: 'timestamps', tsVal: 1000, tsEcr: 0 },
    { kind: 'sack-permitted' },
    { kind: 'eol' },
    { kind: 'eol' },
  ]),
  optionBlock([{ kind: 'mss', mssBytes: 1460 }]),
];
const SYN_ACK_WITH_TS = optionBlock([
  { kind: 'mss', mssBytes: 1460 },
  { kind: 'sack-permitted' },
  { kind: 'timestamps', tsVal: 5000, tsEcr: 1000 },
  { kind: 'nop' },
  { kind: 'window-scale', shift: 9 },
]);
const SYN_ACK_NO_TS = optionBlock([
  { kind: 'mss', mssBytes: 1460 },
  { kind: 'nop' },
  { kind: 'window-scale', shift: 8 },
  { kind: 'sack-permitted' },
  { kind: 'nop' },
  { kind: 'nop' },
]);
/** NOP, NOP, timestamps: carried by every segment once negotiated. */
const TS_OPTION = optionBlock([
  { kind: 'nop' },
  { kind: 'nop' },
  { kind: 'timestamps', tsVal: 0, tsEcr: 0 },
]);

/** Payload bytes shared by every frame, and their word sums by length. */
const PAYLOAD = Buffer.from(
  'SYNTHETIC-BENCH-PAYLOAD '.repeat(Math.ceil(MAX_FRAME_BYTES / 24)),
  'ascii',
);
const PAYLOAD_SUM = new Float64Array(MAX_FRAME_BYTES + 1);
for (let n = 1; n <= MAX_FRAME_BYTES; n++) {
  PAYLOAD_SUM[n] =
    n % 2 === 0
      ? PAYLOAD_SUM[n - 2] + ((PAYLOAD[n - 2] << 8) | PAYLOAD[n - 1])
      : PAYLOAD_SUM[n - 1] + (PAYLOAD[n - 1] << 8);
}

/**
 * A DNS query for an A record and its answer (RFC 1035 section 4.1); the id
 * is patched per flow so each transaction pairs up.
 */
const DNS_QUERY = Buffer.from(
  dnsMessage({
    id: 0,
    flags: 0x0100,
    questions: [{ name: 'bench.synthetic.example', type: DnsType.A }],
  }),
);
const DNS_RESPONSE = Buffer.from(
  dnsMessage({
    id: 0,
    flags: 0x8180,
    questions: [{ name: 'bench.synthetic.example', type: DnsType.A }],
    answers: [
      {
        name: 'bench.synthetic.example',
        type: DnsType.A,
        ttlSec: 300,
        data: Uint8Array.of(192, 0, 2, 53),
      },
    ],
  }),
);

/**
 * Per-flow state in typed-array columns, so that two million frames cost
 * no allocation beyond the templates built once per flow.
 */
class FlowTable {
  readonly count: Uint32Array;
  readonly sent: Uint32Array;
  readonly kind: Uint8Array;
  readonly isV6: Uint8Array;
  readonly isVlan: Uint8Array;
  readonly stack: Uint8Array;
  readonly udpClass: Uint8Array;
  readonly hdrBytes: Uint8Array;
  readonly ipOff: Uint8Array;
  /** Request or per-packet payload size chosen for the flow. */
  readonly sizeBytes: Uint16Array;
  readonly clientSeq: Uint32Array;
  readonly serverSeq: Uint32Array;
  /** Per direction (index 2 * flow + dir): IPv4 id and pseudo-header sum. */
  readonly ipId: Uint16Array;
  readonly pseudoSum: Float64Array;
  readonly templates: Buffer;

  constructor(readonly size: number) {
    this.count = new Uint32Array(size);
    this.sent = new Uint32Array(size);
    this.kind = new Uint8Array(size);
    this.isV6 = new Uint8Array(size);
    this.isVlan = new Uint8Array(size);
    this.stack = new Uint8Array(size);
    this.udpClass = new Uint8Array(size);
    this.hdrBytes = new Uint8Array(size);
    this.ipOff = new Uint8Array(size);
    this.sizeBytes = new Uint16Array(size);
    this.clientSeq = new Uint32Array(size);
    this.serverSeq = new Uint32Array(size);
    this.ipId = new Uint16Array(size * 2);
    this.pseudoSum = new Float64Array(size * 2);
    this.templates = Buffer.alloc(size * 2 * TEMPLATE_STRIDE_BYTES);
  }
}

/** Write a capture as described by `options`; returns what was written. */
export function generateBenchCapture(
  options: BenchCaptureOptions,
): BenchCaptureStats {
  const began = performance.now();
  const { frames, flows } = options;
  if (!Number.isInteger(frames) || !Number.isInteger(flows) || flows < 1) {
    throw new RangeError('frames and flows must be positive integers');
  }
  const rng = new SeededRng(options.seed);
  const tcpFlows = Math.round(flows * TCP_FLOW_SHARE);
  const flowCounts = [
    tcpFlows,
    flows - tcpFlows,
    Math.max(1, Math.round(flows * ICMP_FLOWS_PER_FLOW)),
    Math.max(1, Math.round(flows * ARP_FLOWS_PER_FLOW)),
  ];
  const table = new FlowTable(flowCounts.reduce((a, b) => a + b, 0));

  assignCounts(table, rng, frames, flowCounts);
  assignAttributes(table, rng);
  buildTemplates(table, rng, flowCounts[KIND_TCP] + flowCounts[KIND_UDP]);
  const stats = writeFrames(table, rng, options);
  stats.tcpFlows = flowCounts[KIND_TCP];
  stats.udpFlows = flowCounts[KIND_UDP];
  stats.icmpFlows = flowCounts[KIND_ICMP];
  stats.arpFlows = flowCounts[KIND_ARP];
  stats.largestFlowPkts = table.count.reduce((a, b) => Math.max(a, b), 0);
  stats.elapsedMs = Math.round(performance.now() - began);
  return stats;
}

/** Minimum packets per flow of each kind: TCP needs its SYN and answer. */
const MIN_PKTS = [2, 1, 2, 2];

/**
 * Split each kind's frame budget over its flows with Pareto weights, so most
 * flows are short and a few carry a large share.
 */
function assignCounts(
  table: FlowTable,
  rng: SeededRng,
  frames: number,
  flowCounts: number[],
): void {
  const budgets = FRAME_SHARES.map((share) => Math.round(frames * share));
  budgets[KIND_TCP] = frames - budgets[1] - budgets[2] - budgets[3];

  let first = 0;
  for (let kind = 0; kind < 4; kind++) {
    const n = flowCounts[kind];
    const spare = budgets[kind] - n * MIN_PKTS[kind];
    if (spare < 0) {
      throw new RangeError(
        `${frames} frames are too few for ${n} flows of kind ${kind}`,
      );
    }
    const weights = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const pareto = Math.pow(1 - rng.nextFloat(), -1 / PARETO_ALPHA);
      // A cap keeps one flow from holding more than a few percent.
      weights[i] = Math.min(pareto, 0.5 * n);
      total += weights[i];
    }
    let used = 0;
    for (let i = 0; i < n; i++) {
      const extra = Math.floor((spare * weights[i]) / total);
      table.count[first + i] = MIN_PKTS[kind] + extra;
      table.kind[first + i] = kind;
      used += extra;
    }
    for (let i = 0; used < spare; i = (i + 1) % n, used++) {
      table.count[first + i]++;
    }
    first += n;
  }
}

/**
 * Choose IPv6 and VLAN tagging per flow, visiting flows in random order and
 * tagging while the tagged share of frames is below its target.
 */
function assignAttributes(table: FlowTable, rng: SeededRng): void {
  const order = new Uint32Array(table.size);
  for (let i = 0; i < order.length; i++) order[i] = i;
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }

  let assigned = 0;
  let v6Frames = 0;
  let vlanFrames = 0;
  for (const f of order) {
    const n = table.count[f];
    const canBeV6 = table.kind[f] !== KIND_ARP;
    if (canBeV6 && v6Frames < IPV6_FRAME_SHARE * assigned) {
      table.isV6[f] = 1;
      v6Frames += n;
    }
    if (vlanFrames < VLAN_FRAME_SHARE * assigned) {
      table.isVlan[f] = 1;
      vlanFrames += n;
    }
    assigned += n;

    table.stack[f] = pickStack(rng);
    if (table.kind[f] === KIND_UDP) {
      // Long UDP flows are streams (syslog, RTP); short ones transactions.
      table.udpClass[f] =
        n > 64 ? rng.pick([UDP_SYSLOG, UDP_RTP]) : rng.pick([0, 0, 1, 2, 3]);
    }
  }
}

function pickStack(rng: SeededRng): number {
  const r = rng.nextFloat();
  if (r < 0.45) return STACK_LINUX;
  if (r < 0.8) return STACK_WINDOWS;
  if (r < 0.9) return STACK_MACOS;
  return STACK_EMBEDDED;
}

/** Where a flow's client sits: index, address, MAC, port and VLAN tags. */
interface ClientSpot {
  client: number;
  port: number;
  mac: string;
  tags: Array<{ vid: number }>;
}

/**
 * Build both directions' headers of every flow, with unique client
 * address and port pairs for the first `tupleFlows` (TCP and UDP) flows.
 */
function buildTemplates(
  table: FlowTable,
  rng: SeededRng,
  tupleFlows: number,
): void {
  // Ephemeral ports step by a number prime to 28,000, so one client never
  // repeats a port while it has fewer than 28,000 flows.
  const clients = Math.max(256, Math.ceil(tupleFlows / 50));
  for (let f = 0; f < table.size; f++) {
    const client = f < tupleFlows ? f % clients : rng.nextInt(clients);
    const round = Math.floor(f / clients);
    const spot: ClientSpot = {
      client,
      port: 32768 + ((round * 7919 + client) % 28000),
      mac: hostMac(client),
      tags: table.isVlan[f] ? [{ vid: 100 + (client % 8) }] : [],
    };
    table.clientSeq[f] = rng.nextU32();
    table.serverSeq[f] = rng.nextU32();
    table.ipId[f * 2] = rng.nextInt(0x10000);
    table.ipId[f * 2 + 1] = rng.nextInt(0x10000);
    table.ipOff[f] = table.isVlan[f] ? 18 : 14;
    if (table.kind[f] === KIND_ARP) buildArpTemplates(table, f, spot);
    else buildIpTemplates(table, f, spot, rng);
  }
}

/** Whole frames: the client asks for its gateway, the gateway answers. */
function buildArpTemplates(table: FlowTable, f: number, spot: ClientSpot) {
  const clientIp = clientV4(spot.client);
  const gatewayIp = gatewayV4(spot.client);
  const request = ethernetFrame(
    {
      dst: 'ff:ff:ff:ff:ff:ff',
      src: spot.mac,
      etherType: EtherType.Arp,
      tags: spot.tags,
    },
    arpPacket({
      op: ArpOp.Request,
      senderMac: spot.mac,
      senderIp: clientIp,
      targetMac: '00:00:00:00:00:00',
      targetIp: gatewayIp,
    }),
  );
  const reply = ethernetFrame(
    {
      dst: spot.mac,
      src: GATEWAY_MAC,
      etherType: EtherType.Arp,
      tags: spot.tags,
    },
    arpPacket({
      op: ArpOp.Reply,
      senderMac: GATEWAY_MAC,
      senderIp: gatewayIp,
      targetMac: spot.mac,
      targetIp: clientIp,
    }),
  );
  table.templates.set(request, f * 2 * TEMPLATE_STRIDE_BYTES);
  table.templates.set(reply, (f * 2 + 1) * TEMPLATE_STRIDE_BYTES);
  table.hdrBytes[f] = request.length;
}

/** Ethernet, IP and transport headers for each direction of a flow. */
function buildIpTemplates(
  table: FlowTable,
  f: number,
  spot: ClientSpot,
  rng: SeededRng,
): void {
  const kind = table.kind[f];
  const isV6 = table.isV6[f] === 1;
  const server = rng.nextInt(512);
  const clientIp = isV6 ? clientV6(spot.client) : clientV4(spot.client);
  const serverIp = isV6 ? serverV6(server) : serverV4(server);
  const serverPort =
    kind === KIND_TCP ? rng.pick(TCP_PORTS) : UDP_PORTS[table.udpClass[f]];
  const protocol = l4Protocol(kind, isV6);
  table.sizeBytes[f] = flowSizeBytes(table, f, rng);

  for (let dir = 0; dir < 2; dir++) {
    const isFromClient = dir === 0;
    const src = isFromClient ? clientIp : serverIp;
    const dst = isFromClient ? serverIp : clientIp;
    const l4 = l4Template(
      kind,
      isV6,
      isFromClient ? spot.port : serverPort,
      isFromClient ? serverPort : spot.port,
      isFromClient,
      f,
    );
    const ttl = isFromClient ? STACK_TTL[table.stack[f]] : 52;
    const ip = isV6
      ? ipv6Packet({ src, dst, nextHeader: protocol, hopLimit: ttl }, l4)
      : ipv4Packet(
          { src, dst, protocol, ttl, isDontFragment: kind === KIND_TCP },
          l4,
        );
    const frame = ethernetFrame(
      {
        dst: isFromClient ? GATEWAY_MAC : spot.mac,
        src: isFromClient ? spot.mac : GATEWAY_MAC,
        etherType: isV6 ? EtherType.Ipv6 : EtherType.Ipv4,
        tags: spot.tags,
        isPadded: false,
      },
      ip,
    );
    table.templates.set(frame, (f * 2 + dir) * TEMPLATE_STRIDE_BYTES);
    table.hdrBytes[f] = frame.length;
    // ICMPv4 has no pseudo-header; the others get their length added later.
    table.pseudoSum[f * 2 + dir] =
      protocol === IpProto.Icmp
        ? 0
        : pseudoHeaderSum(ipBytes(src), ipBytes(dst), protocol, 0);
  }
}

function l4Protocol(kind: number, isV6: boolean): number {
  if (kind === KIND_TCP) return IpProto.Tcp;
  if (kind === KIND_UDP) return IpProto.Udp;
  return isV6 ? IpProto.Icmpv6 : IpProto.Icmp;
}

/** The transport header alone; lengths and checksums are patched later. */
function l4Template(
  kind: number,
  isV6: boolean,
  srcPort: number,
  dstPort: number,
  isFromClient: boolean,
  flow: number,
): Uint8Array {
  const empty = new Uint8Array(0);
  if (kind === KIND_TCP) {
    return tcpSegment(
      { srcPort, dstPort, flags: 0, window: isFromClient ? 502 : 8212 },
      empty,
    );
  }
  if (kind === KIND_UDP) return udpDatagram({ srcPort, dstPort }, empty);
  const id = Uint8Array.of((flow >>> 8) & 0xff, flow & 0xff, 0, 0);
  if (isV6) return icmpv6Message(isFromClient ? 128 : 129, 0, id);
  return icmpMessage(isFromClient ? 8 : 0, 0, id);
}

/** A per-flow size: request bytes, datagram bytes or echo data bytes. */
function flowSizeBytes(table: FlowTable, f: number, rng: SeededRng): number {
  const kind = table.kind[f];
  if (kind === KIND_TCP) return rng.nextRange(100, 900);
  if (kind === KIND_ICMP) return rng.pick([32, 56]);
  switch (table.udpClass[f]) {
    case UDP_DNS:
      return DNS_QUERY.length;
    case UDP_NTP:
      return 48;
    case UDP_SNMP:
      return rng.nextRange(40, 90);
    case UDP_RTP:
      return rng.pick([172, 172, 1200]);
    default:
      return rng.nextRange(80, 400);
  }
}

function hostMac(client: number): string {
  const b = [
    2,
    0x53,
    0,
    (client >> 16) & 255,
    (client >> 8) & 255,
    client & 255,
  ];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** 64 clients per /24, from .2 up; .1 is the gateway. */
function clientV4(client: number): string {
  return `10.${1 + (client >> 14)}.${(client >> 6) & 255}.${(client & 63) + 2}`;
}

function gatewayV4(client: number): string {
  return `10.${1 + (client >> 14)}.${(client >> 6) & 255}.1`;
}

function serverV4(server: number): string {
  return `172.16.${server >> 7}.${(server & 127) + 1}`;
}

function clientV6(client: number): string {
  const high = (client >> 16).toString(16);
  return `2001:db8:1::${high}:${(client & 0xffff).toString(16)}`;
}

function serverV6(server: number): string {
  return `2001:db8:2::${(server + 1).toString(16)}`;
}

/** Emits frames of every kind into the writer's buffer, counting them. */
class FrameEmitter {
  readonly stats: BenchCaptureStats = {
    frames: 0,
    tcpFrames: 0,
    udpFrames: 0,
    icmpFrames: 0,
    arpFrames: 0,
    vlanFrames: 0,
    ipv6Frames: 0,
    tcpFlows: 0,
    udpFlows: 0,
    icmpFlows: 0,
    arpFlows: 0,
    smallFrames: 0,
    midFrames: 0,
    largeFrames: 0,
    largestFlowPkts: 0,
    fileBytes: 0,
    elapsedMs: 0,
  };

  constructor(
    private readonly table: FlowTable,
    private readonly writer: PcapWriter,
    private readonly rng: SeededRng,
  ) {}

  emit(f: number, timeSec: number, subSecNs: number): void {
    const kind = this.table.kind[f];
    let frameBytes = 0;
    if (kind === KIND_TCP) frameBytes = this.emitTcp(f, timeSec, subSecNs);
    else if (kind === KIND_UDP) {
      frameBytes = this.emitUdp(f, timeSec, subSecNs);
    } else if (kind === KIND_ICMP) {
      frameBytes = this.emitIcmp(f, timeSec, subSecNs);
    } else frameBytes = this.emitArp(f, timeSec, subSecNs);

    const s = this.stats;
    s.frames++;
    if (kind === KIND_TCP) s.tcpFrames++;
    else if (kind === KIND_UDP) s.udpFrames++;
    else if (kind === KIND_ICMP) s.icmpFrames++;
    else s.arpFrames++;
    if (this.table.isVlan[f]) s.vlanFrames++;
    if (this.table.isV6[f]) s.ipv6Frames++;
    if (frameBytes <= 100) s.smallFrames++;
    else if (frameBytes < 1400) s.midFrames++;
    else s.largeFrames++;
  }

  /** The segment `planTcp` chose; reused for every TCP frame. */
  private readonly segment: {
    dir: number;
    flags: number;
    payloadBytes: number;
    options: Buffer | undefined;
  } = { dir: 0, flags: 0, payloadBytes: 0, options: undefined };

  /**
   * Choose the j-th segment of a TCP flow of n packets: SYN, SYN-ACK (RST
   * when n is 2), ACK, a request, then server data with a client ACK every
   * two segments, and FIN, FIN, ACK at the end when n is at least 7.
   */
  private planTcp(f: number, j: number, n: number): void {
    const t = this.table;
    const stack = t.stack[f];
    const hasTs = stack === STACK_LINUX || stack === STACK_MACOS;
    const seg = this.segment;
    seg.dir = 0;
    seg.flags = TcpFlag.Ack;
    seg.payloadBytes = 0;
    seg.options = undefined;

    if (j === 0) {
      seg.flags = TcpFlag.Syn;
      seg.options = SYN_OPTIONS[stack];
    } else if (j === 1) {
      seg.dir = 1;
      if (n === 2) seg.flags = TcpFlag.Rst | TcpFlag.Ack;
      else {
        seg.flags = TcpFlag.Syn | TcpFlag.Ack;
        seg.options = hasTs ? SYN_ACK_WITH_TS : SYN_ACK_NO_TS;
      }
    } else if (n >= 7 && j >= n - 3) {
      seg.dir = j === n - 2 ? 1 : 0;
      seg.flags = j === n - 1 ? TcpFlag.Ack : TcpFlag.Fin | TcpFlag.Ack;
    } else if (j === 3) {
      seg.flags = TcpFlag.Psh | TcpFlag.Ack;
      seg.payloadBytes = t.sizeBytes[f];
    } else if (j > 3 && (j - 4) % 3 !== 2) {
      seg.dir = 1;
      if ((j - 4) % 3 === 1) seg.flags |= TcpFlag.Psh;
      seg.payloadBytes = -1;
    }
    if (seg.options === undefined && hasTs && j >= 2) seg.options = TS_OPTION;

    if (seg.payloadBytes < 0) {
      const optionBytes = seg.options === undefined ? 0 : seg.options.length;
      const fullBytes = MAX_FRAME_BYTES - t.hdrBytes[f] - optionBytes;
      // The last data segment before the FIN is a partial one.
      const isLast = n >= 7 && j === n - 4;
      seg.payloadBytes = isLast
        ? Math.min(fullBytes, t.sizeBytes[f] + 300)
        : fullBytes;
    }
  }

  private emitTcp(f: number, timeSec: number, subSecNs: number): number {
    const t = this.table;
    const j = t.sent[f]++;
    this.planTcp(f, j, t.count[f]);
    const { dir, flags, payloadBytes, options } = this.segment;
    const optionBytes = options === undefined ? 0 : options.length;

    const { b, off, frameBytes } = this.begin(
      f,
      dir,
      timeSec,
      subSecNs,
      optionBytes + payloadBytes,
    );
    const at = off + t.hdrBytes[f];
    if (options !== undefined) options.copy(b, at);
    if (payloadBytes > 0) PAYLOAD.copy(b, at + optionBytes, 0, payloadBytes);

    const tcpBytes = 20 + optionBytes + payloadBytes;
    this.patchIp(b, off, f, dir, tcpBytes);
    const tcp = off + t.ipOff[f] + (t.isV6[f] ? 40 : 20);
    const isClient = dir === 0;
    const isFirstSyn = flags === TcpFlag.Syn;
    put32(b, tcp + 4, isClient ? t.clientSeq[f] : t.serverSeq[f]);
    put32(
      b,
      tcp + 8,
      isFirstSyn ? 0 : isClient ? t.serverSeq[f] : t.clientSeq[f],
    );
    b[tcp + 12] = ((20 + optionBytes) >>> 2) << 4;
    b[tcp + 13] = flags;
    if (options === TS_OPTION) {
      put32(b, tcp + 24, 1000 + j);
      put32(b, tcp + 28, 5000 + j);
    }
    const advance =
      payloadBytes + (flags & (TcpFlag.Syn | TcpFlag.Fin) ? 1 : 0);
    if (isClient) t.clientSeq[f] += advance;
    else t.serverSeq[f] += advance;

    b[tcp + 16] = 0;
    b[tcp + 17] = 0;
    const sum =
      t.pseudoSum[f * 2 + dir] +
      tcpBytes +
      sumWords(b, tcp, tcp + 20 + optionBytes) +
      PAYLOAD_SUM[payloadBytes];
    put16(b, tcp + 16, foldChecksum(sum));
    return frameBytes;
  }

  /** Transactions alternate directions; syslog and RTP flow one way. */
  private emitUdp(f: number, timeSec: number, subSecNs: number): number {
    const t = this.table;
    const j = t.sent[f]++;
    const kind = t.udpClass[f];
    const isOneWay = kind === UDP_SYSLOG || kind === UDP_RTP;
    const dir = isOneWay ? 0 : j & 1;
    let payloadBytes = t.sizeBytes[f];
    if (kind === UDP_SYSLOG) payloadBytes = 80 + this.rng.nextInt(320);
    else if (kind === UDP_DNS)
      payloadBytes = (dir ? DNS_RESPONSE : DNS_QUERY).length;
    else if (dir === 1 && kind === UDP_SNMP) payloadBytes *= 3;

    const { b, off, frameBytes } = this.begin(
      f,
      dir,
      timeSec,
      subSecNs,
      payloadBytes,
    );
    const data = off + t.hdrBytes[f];
    let payloadSum = PAYLOAD_SUM[payloadBytes];
    if (kind === UDP_DNS) {
      (dir ? DNS_RESPONSE : DNS_QUERY).copy(b, data);
      put16(b, data, f & 0xffff);
      payloadSum = sumWords(b, data, data + payloadBytes);
    } else {
      PAYLOAD.copy(b, data, 0, payloadBytes);
    }
    const udpBytes = 8 + payloadBytes;
    this.patchIp(b, off, f, dir, udpBytes);
    const udp = off + t.ipOff[f] + (t.isV6[f] ? 40 : 20);
    put16(b, udp + 4, udpBytes);
    b[udp + 6] = 0;
    b[udp + 7] = 0;
    const sum =
      t.pseudoSum[f * 2 + dir] +
      udpBytes +
      sumWords(b, udp, udp + 8) +
      payloadSum;
    put16(b, udp + 6, foldChecksum(sum) || 0xffff);
    return frameBytes;
  }

  /** Echo request and reply in turn. */
  private emitIcmp(f: number, timeSec: number, subSecNs: number): number {
    const t = this.table;
    const j = t.sent[f]++;
    const dir = j & 1;
    const payloadBytes = t.sizeBytes[f];
    const { b, off, frameBytes } = this.begin(
      f,
      dir,
      timeSec,
      subSecNs,
      payloadBytes,
    );
    PAYLOAD.copy(b, off + t.hdrBytes[f], 0, payloadBytes);
    const icmpBytes = 8 + payloadBytes;
    this.patchIp(b, off, f, dir, icmpBytes);
    const icmp = off + t.ipOff[f] + (t.isV6[f] ? 40 : 20);
    put16(b, icmp + 6, (j >>> 1) + 1);
    b[icmp + 2] = 0;
    b[icmp + 3] = 0;
    const pseudo = t.isV6[f] ? t.pseudoSum[f * 2 + dir] + icmpBytes : 0;
    const sum =
      pseudo + sumWords(b, icmp, icmp + 8) + PAYLOAD_SUM[payloadBytes];
    put16(b, icmp + 2, foldChecksum(sum));
    return frameBytes;
  }

  /** Request from the client, reply from the gateway, in turn. */
  private emitArp(f: number, timeSec: number, subSecNs: number): number {
    const j = this.table.sent[f]++;
    return this.begin(f, j & 1, timeSec, subSecNs, 0).frameBytes;
  }

  /**
   * Reserve the record, copy the flow's header template and zero the
   * padding; `extraBytes` follow the template.
   */
  private begin(
    f: number,
    dir: number,
    timeSec: number,
    subSecNs: number,
    extraBytes: number,
  ): { b: Buffer; off: number; frameBytes: number } {
    const t = this.table;
    const hdrBytes = t.hdrBytes[f];
    const contentBytes = hdrBytes + extraBytes;
    const frameBytes = Math.max(MIN_FRAME_BYTES, contentBytes);
    const off = this.writer.reserveFrame(frameBytes, timeSec, subSecNs);
    const b = this.writer.buffer;
    const from = (f * 2 + dir) * TEMPLATE_STRIDE_BYTES;
    t.templates.copy(b, off, from, from + hdrBytes);
    if (contentBytes < frameBytes)
      b.fill(0, off + contentBytes, off + frameBytes);
    this.scratch.b = b;
    this.scratch.off = off;
    this.scratch.frameBytes = frameBytes;
    return this.scratch;
  }

  private readonly scratch: { b: Buffer; off: number; frameBytes: number } = {
    b: Buffer.alloc(0),
    off: 0,
    frameBytes: 0,
  };

  /** Set the IP length fields, and the IPv4 id and header checksum. */
  private patchIp(
    b: Buffer,
    off: number,
    f: number,
    dir: number,
    l4Bytes: number,
  ): void {
    const t = this.table;
    const ip = off + t.ipOff[f];
    if (t.isV6[f]) {
      put16(b, ip + 4, l4Bytes);
      return;
    }
    put16(b, ip + 2, 20 + l4Bytes);
    put16(b, ip + 4, t.ipId[f * 2 + dir]++);
    b[ip + 10] = 0;
    b[ip + 11] = 0;
    put16(b, ip + 10, foldChecksum(sumWords(b, ip, ip + 20)));
  }
}

/**
 * Order every flow's packets in time: each flow gets a start and a gap (from
 * 10 microseconds to 100 ms of a 10-second capture), and a counting sort
 * over `buckets` time slots interleaves them, keeping each flow in order.
 */
function scheduleFrames(
  table: FlowTable,
  rng: SeededRng,
  buckets: number,
): { order: Uint32Array; start: Uint32Array } {
  let total = 0;
  for (let f = 0; f < table.size; f++) total += table.count[f];
  const bucketOf = new Uint32Array(total);
  let p = 0;
  for (let f = 0; f < table.size; f++) {
    const n = table.count[f];
    const gap = Math.pow(10, -2 - 4 * rng.nextFloat());
    const span = Math.min(1, n * gap);
    const first = rng.nextFloat() * (1 - span);
    for (let j = 0; j < n; j++) {
      const key = first + (span * j) / n;
      bucketOf[p++] = Math.min(buckets - 1, Math.floor(key * buckets));
    }
  }

  const start = new Uint32Array(buckets + 1);
  for (let i = 0; i < total; i++) start[bucketOf[i] + 1]++;
  for (let i = 0; i < buckets; i++) start[i + 1] += start[i];
  const cursor = start.slice(0, buckets);
  const order = new Uint32Array(total);
  p = 0;
  for (let f = 0; f < table.size; f++) {
    for (let j = table.count[f]; j > 0; j--) order[cursor[bucketOf[p++]]++] = f;
  }
  return { order, start };
}

function writeFrames(
  table: FlowTable,
  rng: SeededRng,
  options: BenchCaptureOptions,
): BenchCaptureStats {
  const buckets = options.frames;
  const { order, start } = scheduleFrames(table, rng, buckets);
  const bucketUs = 1e6 / (options.ratePps ?? DEFAULT_RATE_PPS);
  const startUs = (options.startTimeSec ?? DEFAULT_START_TIME_SEC) * 1e6;
  const writer = new PcapWriter(options.path, {
    linkType: LinkType.Ethernet,
    snapLenBytes: 65535,
    bufferBytes: 16 * 1024 * 1024,
  });
  const emitter = new FrameEmitter(table, writer, rng);
  for (let bucket = 0; bucket < buckets; bucket++) {
    const timeUs = Math.floor(startUs + bucket * bucketUs);
    const timeSec = Math.floor(timeUs / 1e6);
    const subSecNs = (timeUs - timeSec * 1e6) * 1000;
    for (let q = start[bucket]; q < start[bucket + 1]; q++) {
      emitter.emit(order[q], timeSec, subSecNs);
    }
  }
  writer.close();
  emitter.stats.fileBytes = writer.fileBytes;
  return emitter.stats;
}

const USAGE =
  'usage: generate-capture [--frames N] [--flows N] [--seed N] ' +
  '[--rate PPS] OUT';

/** Parse `--frames N --flows N --seed N --rate PPS OUT`. */
export function parseArgs(argv: string[]): BenchCaptureOptions {
  const options: BenchCaptureOptions = {
    path: '',
    frames: 2_000_000,
    flows: 150_000,
    seed: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0)
        throw new RangeError(`${arg}: ${USAGE}`);
      return n;
    };
    if (arg === '--frames') options.frames = value();
    else if (arg === '--flows') options.flows = value();
    else if (arg === '--seed') options.seed = value();
    else if (arg === '--rate') options.ratePps = value();
    else if (arg.startsWith('--'))
      throw new RangeError(`unknown ${arg}: ${USAGE}`);
    else options.path = arg;
  }
  if (options.path === '') throw new RangeError(USAGE);
  return options;
}

const isMain =
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const stats = generateBenchCapture(parseArgs(process.argv.slice(2)));
  console.log(JSON.stringify(stats, null, 2));
}
