/**
 * Generates the synthetic capture fixtures in test/fixtures/generated/: small
 * files of awkward link, network and transport cases, and a realistic
 * hospital sample for the README. Output is identical on every run.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Address,
  ArpOp,
  BsdAddressFamily,
  DhcpMessageType,
  DnsType,
  EtherType,
  IpProto,
  type Ipv6Extension,
  SeededRng,
  SllPacketType,
  TcpConversation,
  type TcpEndpoint,
  TcpFlag,
  type TcpOption,
  type VlanTag,
  arpPacket,
  concatBytes,
  dhcpMessage,
  dhcpOption,
  dnsMessage,
  dnsName,
  ethernetFrame,
  fragmentIpv4,
  fragmentIpv6,
  icmpEcho,
  icmpMessage,
  icmpv6Echo,
  icmpv6Message,
  icmpv6NeighbourAdvertisement,
  icmpv6NeighbourSolicitation,
  icmpv6RouterAdvertisement,
  icmpv6RouterSolicitation,
  ipBytes,
  macBytes,
  ipv4MulticastMac,
  ipv4Packet,
  ipv4RecordRouteOption,
  ipv4RouterAlertOption,
  ipv6MulticastMac,
  ipv6Packet,
  ipv6RouterAlertOption,
  linuxSll2Frame,
  linuxSllFrame,
  lldpPdu,
  nullLoopbackFrame,
  put16,
  put32,
  rawIpFrame,
  solicitedNodeAddress,
  tcpSegment,
  textBytes,
  tlsClientHello,
  tlsRecord,
  tlsServerHello,
  udpDatagram,
} from './lib/frame-builder.js';
import { PcapWriter, PcapngWriter } from './lib/pcap-writer.js';
import { LinkType } from '../src/capture/link-type.js';

/** 2024-03-04T08:00:00Z: every fixture's first timestamp. */
export const BASE_TIME_SEC = 1_709_539_200;

/** Gap between frames in the small fixtures. */
const FIXTURE_STEP_US = 1000;

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';
export const LLDP_MAC = '01:80:c2:00:00:0e';

/** A unicast MAC from the RFC 7042 documentation block 00:00:5e:00:53:xx. */
export function docMac(n: number): string {
  return `00:00:5e:00:53:${(n & 0xff).toString(16).padStart(2, '0')}`;
}

const MAC_A = docMac(0x0a);
const MAC_B = docMac(0x0b);
const MAC_C = docMac(0x0c);

/** One frame and the length it had on the wire before any snap length. */
interface Capture {
  frame: Uint8Array;
  wireBytes: number;
}

/** Frames of one fixture, written 1 ms apart from BASE_TIME_SEC. */
class FrameList {
  readonly items: Capture[] = [];

  add(...frames: Uint8Array[]): this {
    for (const frame of frames) {
      this.items.push({ frame, wireBytes: frame.length });
    }
    return this;
  }

  /** Add `frame` cut to `capturedBytes`, as a snap length would. */
  addCut(frame: Uint8Array, capturedBytes: number): this {
    this.items.push({
      frame: frame.subarray(0, Math.min(capturedBytes, frame.length)),
      wireBytes: frame.length,
    });
    return this;
  }

  writePcap(
    path: string,
    linkType: number,
    options: { byteOrder?: 'le' | 'be'; timeResolution?: 'us' | 'ns' } = {},
  ): void {
    const w = new PcapWriter(path, {
      linkType,
      snapLenBytes: 65535,
      ...options,
    });
    this.items.forEach((c, i) => {
      const [sec, ns] = fixtureTime(i);
      w.writeFrame(c.frame, sec, ns, c.wireBytes);
    });
    w.close();
  }
}

/** Seconds and nanoseconds of the i-th frame of a small fixture. */
function fixtureTime(index: number): [number, number] {
  // Odd nanoseconds make a lost sub-microsecond digit visible in tests.
  const timeUs = index * FIXTURE_STEP_US + 17;
  return [
    BASE_TIME_SEC + Math.floor(timeUs / 1e6),
    (timeUs % 1e6) * 1000 + (index % 1000),
  ];
}

// ---------------------------------------------------------------------------
// Packet shorthands for the small fixtures

function eth(
  etherType: number,
  payload: Uint8Array,
  tags: VlanTag[] = [],
  src: Address = MAC_A,
  dst: Address = MAC_B,
): Uint8Array {
  return ethernetFrame({ dst, src, etherType, tags }, payload);
}

function udp4(
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  ttl = 64,
): Uint8Array {
  return ipv4Packet(
    { src, dst, protocol: IpProto.Udp, ttl },
    udpDatagram({ srcPort, dstPort }, payload),
  );
}

function udp6(
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  extensions: Ipv6Extension[] = [],
): Uint8Array {
  return ipv6Packet(
    { src, dst, nextHeader: IpProto.Udp, extensions },
    udpDatagram({ srcPort, dstPort }, payload),
  );
}

function tcp4(
  src: string,
  dst: string,
  flags: number,
  options: TcpOption[] = [],
  payload: Uint8Array = new Uint8Array(0),
  ports: [number, number] = [49152, 443],
): Uint8Array {
  return ipv4Packet(
    { src, dst, protocol: IpProto.Tcp, ttl: 64, id: 1, isDontFragment: true },
    tcpSegment(
      {
        srcPort: ports[0],
        dstPort: ports[1],
        seq: 0x10000000,
        ack: flags & TcpFlag.Ack ? 0x20000001 : 0,
        flags,
        window: 64240,
        options,
      },
      payload,
    ),
  );
}

function tcp6(
  src: string,
  dst: string,
  flags: number,
  options: TcpOption[] = [],
  extensions: Ipv6Extension[] = [],
): Uint8Array {
  return ipv6Packet(
    { src, dst, nextHeader: IpProto.Tcp, extensions, hopLimit: 64 },
    tcpSegment(
      {
        srcPort: 49153,
        dstPort: 443,
        seq: 0x30000000,
        ack: flags & TcpFlag.Ack ? 0x40000001 : 0,
        flags,
        window: 64800,
        options,
      },
      new Uint8Array(0),
    ),
  );
}

function echo4(src: string, dst: string, seq: number, isReply = false) {
  return ipv4Packet(
    { src, dst, protocol: IpProto.Icmp, ttl: isReply ? 128 : 64, id: seq },
    icmpEcho({ isReply, id: 0x5350, seq }, synthetic(32)),
  );
}

function echo6(
  src: string,
  dst: string,
  seq: number,
  isReply = false,
  extensions: Ipv6Extension[] = [],
): Uint8Array {
  return ipv6Packet(
    { src, dst, nextHeader: IpProto.Icmpv6, extensions },
    icmpv6Echo({ isReply, id: 0x5350, seq }, synthetic(32)),
  );
}

/** Payload bytes that say what they are: a repeated ASCII marker. */
export function synthetic(
  bytes: number,
  marker = 'SYNTHETIC-TEST-DATA ',
): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = marker.charCodeAt(i % marker.length);
  return out;
}

const LINUX_SYN: TcpOption[] = [
  { kind: 'mss', mssBytes: 1460 },
  { kind: 'sack-permitted' },
  { kind: 'timestamps', tsVal: 2_000_000, tsEcr: 0 },
  { kind: 'nop' },
  { kind: 'window-scale', shift: 7 },
];

// ---------------------------------------------------------------------------
// VLAN fixtures

function makeQinq(dir: string): void {
  const s = (vid: number, pcp = 0): VlanTag => ({
    tpid: EtherType.QinQ,
    vid,
    pcp,
  });
  const c = (vid: number, pcp = 0, isDropEligible = false): VlanTag => ({
    vid,
    pcp,
    isDropEligible,
  });
  const list = new FrameList();
  const syn = tcp4('192.0.2.1', '192.0.2.2', TcpFlag.Syn, LINUX_SYN);
  list.add(
    eth(EtherType.Ipv4, syn, [s(100), c(200)]),
    eth(
      EtherType.Ipv4,
      tcp4('192.0.2.2', '192.0.2.1', TcpFlag.Syn | TcpFlag.Ack, LINUX_SYN),
      [s(100), c(200)],
      MAC_B,
      MAC_A,
    ),
    eth(
      EtherType.Ipv6,
      udp6('2001:db8::1', '2001:db8::2', 40001, 40002, synthetic(20)),
      [s(101, 5), c(201, 3, true)],
    ),
    eth(
      EtherType.Arp,
      arpPacket({
        op: ArpOp.Request,
        senderMac: MAC_A,
        senderIp: '192.0.2.1',
        targetMac: ZERO_MAC,
        targetIp: '192.0.2.254',
      }),
      [s(100), c(200)],
      MAC_A,
      BROADCAST_MAC,
    ),
    // Triple tag (QinQinQ): service, customer, then another customer tag.
    eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.2', 1), [
      s(300),
      c(301),
      c(302),
    ]),
    eth(EtherType.Ipv4, echo4('192.0.2.2', '192.0.2.1', 1, true), [
      s(300),
      c(301),
      c(302),
    ]),
    // Pre-standard 0x9100 outer tag.
    eth(
      EtherType.Ipv4,
      udp4('192.0.2.1', '192.0.2.3', 40000, 514, textBytes('synthetic syslog')),
      [{ tpid: EtherType.QinQLegacy, vid: 400 }, c(401)],
    ),
    // Double 802.1ad, seen from misconfigured provider bridges.
    eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.4', 2), [s(500), s(501)]),
    // Five tags: beyond the four a decoder keeps.
    eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.5', 3), [
      s(10),
      c(11),
      c(12),
      c(13),
      c(14),
    ]),
    // VID 0 and 4095 (reserved values) inside a service tag.
    eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.6', 4), [s(0, 7), c(4095)]),
  );
  list.writePcap(join(dir, 'qinq.pcap'), LinkType.Ethernet);
}

function makeVlanMixed(dir: string): void {
  const list = new FrameList();
  const v = (vid: number, pcp = 0): VlanTag[] => [{ vid, pcp }];
  list.add(
    eth(
      EtherType.Ipv4,
      tcp4('192.0.2.10', '192.0.2.20', TcpFlag.Syn, LINUX_SYN),
    ),
    eth(
      EtherType.Ipv4,
      tcp4('192.0.2.10', '192.0.2.20', TcpFlag.Syn, LINUX_SYN),
      v(10),
    ),
    eth(
      EtherType.Ipv4,
      udp4('192.0.2.11', '192.0.2.53', 53000, 53, dnsQuery(1, 'pacs.example')),
      v(20, 2),
    ),
    eth(
      EtherType.Ipv6,
      udp6(
        '2001:db8:30::5',
        '2001:db8:30::53',
        53001,
        53,
        dnsQuery(2, 'a.example'),
      ),
      v(30),
    ),
    eth(
      EtherType.Arp,
      arpPacket({
        op: ArpOp.Request,
        senderMac: MAC_A,
        senderIp: '192.0.2.10',
        targetMac: ZERO_MAC,
        targetIp: '192.0.2.1',
      }),
      v(1),
      MAC_A,
      BROADCAST_MAC,
    ),
    // Priority tag: VID 0 carries only the 802.1p priority.
    eth(EtherType.Ipv4, echo4('192.0.2.10', '192.0.2.1', 1), v(0, 6)),
    eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.10', 1, true), v(4094)),
    ethernetFrame(
      {
        dst: LLDP_MAC,
        src: MAC_C,
        etherType: EtherType.Lldp,
        tags: v(10),
      },
      lldpPdu({ chassisMac: MAC_C, portName: 'port-7', ttlSec: 120 }),
    ),
    eth(EtherType.Ipv6, echo6('2001:db8::1', '2001:db8::2', 1), v(30)),
    eth(EtherType.Ipv4, udp4('192.0.2.12', '192.0.2.13', 123, 123, ntp(3, 0))),
  );
  list.writePcap(join(dir, 'vlan-mixed.pcap'), LinkType.Ethernet);
}

// ---------------------------------------------------------------------------
// IPv6 extension chains and fragments

const HBH: Ipv6Extension = {
  kind: 'hop-by-hop',
  options: [ipv6RouterAlertOption()],
};
const DEST: Ipv6Extension = {
  kind: 'destination',
  options: [Uint8Array.of(0x1e, 4, 0xde, 0xad, 0xbe, 0xef)],
};
const RT0: Ipv6Extension = {
  kind: 'routing',
  routingType: 0,
  segmentsLeft: 2,
  addresses: ['2001:db8:1::1', '2001:db8:1::2'],
};
const RT2: Ipv6Extension = {
  kind: 'routing',
  routingType: 2,
  segmentsLeft: 1,
  addresses: ['2001:db8:2::99'],
};
const SRH: Ipv6Extension = {
  kind: 'routing',
  routingType: 4,
  segmentsLeft: 1,
  addresses: ['2001:db8::2', '2001:db8:4::1'],
};
const SRC6 = '2001:db8::1';
const DST6 = '2001:db8::2';

function makeIpv6ExtChains(dir: string): void {
  const list = new FrameList();
  list.add(...ipv6ChainFrames());
  for (const f of ipv6ChainFragments()) list.add(eth(EtherType.Ipv6, f));
  list.writePcap(join(dir, 'ipv6-ext-chains.pcap'), LinkType.Ethernet);
}

/** Whole packets with extension chains before each upper layer. */
function ipv6ChainFrames(): Uint8Array[] {
  const [hbh, dest, rt0, rt2, srh] = [HBH, DEST, RT0, RT2, SRH];
  const [src, dst] = [SRC6, DST6];
  return [
    eth(EtherType.Ipv6, udp6(src, dst, 1000, 2000, synthetic(16), [hbh])),
    eth(
      EtherType.Ipv6,
      tcp6(src, dst, TcpFlag.Syn, LINUX_SYN, [hbh, rt0, dest]),
    ),
    eth(EtherType.Ipv6, echo6(src, dst, 1, false, [dest, rt2])),
    eth(
      EtherType.Ipv6,
      tcp6(src, '2001:db8:4::1', TcpFlag.Syn, LINUX_SYN, [
        hbh,
        dest,
        srh,
        dest,
      ]),
    ),
    eth(EtherType.Ipv6, udp6(src, dst, 1001, 2001, synthetic(8), [dest, dest])),
    // Atomic fragment: offset 0 and no more fragments (RFC 8021).
    eth(
      EtherType.Ipv6,
      tcp6(src, dst, TcpFlag.Syn, LINUX_SYN, [
        { kind: 'fragment', offsetBytes: 0, isMoreFragments: false, id: 7 },
      ]),
    ),
    // No next header after destination options.
    eth(
      EtherType.Ipv6,
      ipv6Packet(
        { src, dst, nextHeader: IpProto.NoNext, extensions: [hbh, dest] },
        new Uint8Array(0),
      ),
    ),
    // Mobility header (135) in the generic extension layout.
    eth(
      EtherType.Ipv6,
      ipv6Packet(
        {
          src,
          dst,
          nextHeader: IpProto.NoNext,
          extensions: [
            { kind: 'other', protocol: 135, body: new Uint8Array(6) },
          ],
        },
        new Uint8Array(0),
      ),
    ),
    // Nine destination option headers: longer than a decoder follows.
    eth(
      EtherType.Ipv6,
      udp6(src, dst, 1002, 2002, synthetic(8), new Array(9).fill(dest)),
    ),
    // MLDv2 report behind a hop-by-hop router alert.
    eth(
      EtherType.Ipv6,
      ipv6Packet(
        {
          src: 'fe80::1',
          dst: 'ff02::16',
          nextHeader: IpProto.Icmpv6,
          hopLimit: 1,
          extensions: [hbh],
        },
        mldv2Report('ff02::fb'),
      ),
      [],
      MAC_A,
      ipv6MulticastMac('ff02::16'),
    ),
  ];
}

/** UDP, TCP data and ICMPv6 each fragmented behind extension headers. */
function ipv6ChainFragments(): Uint8Array[] {
  const [hbh, dest, rt0] = [HBH, DEST, RT0];
  const [src, dst] = [SRC6, DST6];
  const udpFragments = fragmentIpv6(
    { src, dst, nextHeader: IpProto.Udp, extensions: [hbh, dest] },
    udpDatagram({ srcPort: 1003, dstPort: 2003 }, synthetic(2000)),
    1232,
    0x01020304,
  );
  const tcpFragments = fragmentIpv6(
    { src, dst, nextHeader: IpProto.Tcp, extensions: [hbh, rt0, dest] },
    tcpSegment(
      { srcPort: 49200, dstPort: 80, seq: 1, ack: 1, flags: TcpFlag.Ack },
      synthetic(1800),
    ),
    1024,
    0x01020305,
  );
  const icmpFragments = fragmentIpv6(
    { src, dst, nextHeader: IpProto.Icmpv6 },
    icmpv6Echo({ isReply: false, id: 1, seq: 1 }, synthetic(1600)),
    1200,
    0x01020306,
  );
  return [...udpFragments, ...tcpFragments, ...icmpFragments];
}

function mldv2Report(group: string): Uint8Array {
  const body = new Uint8Array(4 + 20);
  put16(body, 2, 1);
  body[4] = 4;
  body.set(ipBytes(group), 8);
  return icmpv6Message(143, 0, body);
}

function makeFragments(dir: string): void {
  const list = new FrameList();
  for (const f of ipv4Fragments()) list.add(eth(EtherType.Ipv4, f));
  list.add(...ipv4DontFragment(), ...ipv4Overlap());
  for (const f of ipv6Fragments()) list.add(eth(EtherType.Ipv6, f));
  list.writePcap(join(dir, 'fragments.pcap'), LinkType.Ethernet);
}

const FRAGMENT_BASE = {
  src: '192.0.2.1',
  dst: '192.0.2.2',
  protocol: IpProto.Udp,
  ttl: 64,
};

/** In order, reversed, ICMP, an 8-byte first fragment, options. */
function ipv4Fragments(): Uint8Array[] {
  const base = FRAGMENT_BASE;
  const udp = udpDatagram({ srcPort: 5001, dstPort: 9001 }, synthetic(3500));
  const inOrder = fragmentIpv4({ ...base, id: 0x1001 }, udp, 1480);
  const reversed = fragmentIpv4({ ...base, id: 0x1002 }, udp, 1480).reverse();
  const icmp = fragmentIpv4(
    { ...base, protocol: IpProto.Icmp, id: 0x1003 },
    icmpEcho({ isReply: false, id: 2, seq: 1 }, synthetic(2000)),
    1480,
  );
  // A first fragment of 8 bytes: the TCP ports but not the flags.
  const tiny = fragmentIpv4(
    { ...base, protocol: IpProto.Tcp, id: 0x1004 },
    tcpSegment(
      { srcPort: 49300, dstPort: 23, seq: 9, flags: TcpFlag.Syn },
      new Uint8Array(0),
    ),
    8,
  );
  // Options with the copied bit travel in every fragment, record route not.
  const withOptions = fragmentIpv4(
    {
      ...base,
      id: 0x1005,
      options: [ipv4RouterAlertOption(), ipv4RecordRouteOption(2)],
    },
    udpDatagram({ srcPort: 5002, dstPort: 9002 }, synthetic(1500)),
    1000,
  );
  return [...inOrder, ...reversed, ...icmp, ...tiny, ...withOptions];
}

/** Don't-fragment set on a full-size segment, then on an ICMP echo. */
function ipv4DontFragment(): Uint8Array[] {
  const base = FRAGMENT_BASE;
  return [
    eth(
      EtherType.Ipv4,
      tcp4(
        '192.0.2.1',
        '192.0.2.2',
        TcpFlag.Ack | TcpFlag.Psh,
        [],
        synthetic(1460),
      ),
    ),
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        { ...base, protocol: IpProto.Icmp, id: 0x1006, isDontFragment: true },
        icmpEcho({ isReply: false, id: 3, seq: 1 }, synthetic(100)),
      ),
    ),
  ];
}

/** Overlapping fragments: same id, the second starts inside the first. */
function ipv4Overlap(): Uint8Array[] {
  const base = FRAGMENT_BASE;
  const whole = udpDatagram({ srcPort: 5003, dstPort: 9003 }, synthetic(64));
  return [
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        {
          ...base,
          id: 0x1007,
          isMoreFragments: true,
          isL4ChecksumFilled: false,
        },
        whole.subarray(0, 48),
      ),
    ),
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        {
          ...base,
          id: 0x1007,
          fragmentOffsetBytes: 40,
          isL4ChecksumFilled: false,
        },
        whole.subarray(40),
      ),
    ),
  ];
}

/** IPv6 UDP fragments with the second arriving first, then ICMPv6. */
function ipv6Fragments(): Uint8Array[] {
  const v6 = fragmentIpv6(
    { src: '2001:db8::1', dst: '2001:db8::2', nextHeader: IpProto.Udp },
    udpDatagram({ srcPort: 5004, dstPort: 9004 }, synthetic(3000)),
    1448,
    0xf00d,
  );
  const v6Icmp = fragmentIpv6(
    { src: '2001:db8::2', dst: '2001:db8::1', nextHeader: IpProto.Icmpv6 },
    icmpv6Echo({ isReply: true, id: 5, seq: 5 }, synthetic(2000)),
    1448,
    0xf00e,
  );
  return [v6[1], v6[0], v6[2], ...v6Icmp];
}

// ---------------------------------------------------------------------------
// Truncated and malformed headers

function makeTruncated(dir: string): void {
  const list = new FrameList();
  addSnapCuts(list);
  list.add(...malformedHeaders());
  list.writePcap(join(dir, 'truncated.pcap'), LinkType.Ethernet);
}

/** Frames cut by the snap length at and inside each header. */
function addSnapCuts(list: FrameList): void {
  const v4Syn = eth(
    EtherType.Ipv4,
    tcp4('192.0.2.1', '192.0.2.2', TcpFlag.Syn, LINUX_SYN),
  );
  const v4Udp = eth(
    EtherType.Ipv4,
    udp4('192.0.2.1', '192.0.2.2', 5000, 53, dnsQuery(9, 'cut.example')),
  );
  const tagged = eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.2', 1), [
    { tpid: EtherType.QinQ, vid: 10 },
    { vid: 20 },
  ]);
  const v4Options = eth(
    EtherType.Ipv4,
    ipv4Packet(
      {
        src: '192.0.2.1',
        dst: '192.0.2.2',
        protocol: IpProto.Udp,
        options: [ipv4RecordRouteOption(4)],
      },
      udpDatagram({ srcPort: 1, dstPort: 2 }, synthetic(8)),
    ),
  );
  const v6Ext = eth(
    EtherType.Ipv6,
    tcp6('2001:db8::1', '2001:db8::2', TcpFlag.Syn, LINUX_SYN, [
      { kind: 'hop-by-hop', options: [ipv6RouterAlertOption()] },
      {
        kind: 'routing',
        routingType: 4,
        segmentsLeft: 1,
        addresses: ['2001:db8::2', '2001:db8::3'],
      },
    ]),
  );
  const arp = eth(
    EtherType.Arp,
    arpPacket({
      op: ArpOp.Request,
      senderMac: MAC_A,
      senderIp: '192.0.2.1',
      targetMac: ZERO_MAC,
      targetIp: '192.0.2.2',
    }),
  );

  list
    .addCut(v4Syn, 0)
    .addCut(v4Syn, 5)
    .addCut(v4Syn, 13)
    .addCut(tagged, 16)
    .addCut(tagged, 20)
    .addCut(arp, 14 + 20)
    .addCut(v4Syn, 14 + 12)
    .addCut(v4Options, 14 + 24)
    .addCut(v6Ext, 14 + 30)
    .addCut(v6Ext, 14 + 40 + 4)
    .addCut(v6Ext, 14 + 40 + 8 + 20)
    .addCut(v4Syn, 14 + 20 + 10)
    .addCut(v4Syn, 14 + 20 + 24)
    .addCut(v4Udp, 14 + 20 + 4)
    .addCut(
      eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.2', 2)),
      14 + 20 + 2,
    );
}

/** Malformed headers in frames that were captured whole. */
function malformedHeaders(): Uint8Array[] {
  const udpBody = udpDatagram({ srcPort: 1, dstPort: 2 }, synthetic(12));
  const v4 = { src: '192.0.2.1', dst: '192.0.2.2', protocol: IpProto.Udp };
  return [
    eth(EtherType.Ipv4, ipv4Packet({ ...v4, ihlWords: 4 }, udpBody)),
    eth(EtherType.Ipv4, ipv4Packet({ ...v4, ihlWords: 15 }, udpBody)),
    eth(EtherType.Ipv4, ipv4Packet({ ...v4, totalBytes: 16 }, udpBody)),
    eth(EtherType.Ipv4, ipv4Packet({ ...v4, totalBytes: 1500 }, udpBody)),
    eth(EtherType.Ipv4, ipv4Packet({ ...v4, version: 5 }, udpBody)),
    eth(EtherType.Ipv4, ipv4Packet({ ...v4, version: 6 }, udpBody)),
    eth(
      EtherType.Ipv6,
      ipv6Packet(
        { src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 17, version: 4 },
        udpBody,
      ),
    ),
    eth(
      EtherType.Ipv6,
      ipv6Packet(
        {
          src: '2001:db8::1',
          dst: '2001:db8::2',
          nextHeader: 17,
          payloadBytes: 900,
        },
        udpBody,
      ),
    ),
    eth(EtherType.Ipv4, ipv4Packet({ ...v4, headerChecksum: 0xbad0 }, udpBody)),
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        { ...v4 },
        udpDatagram({ srcPort: 1, dstPort: 2, lengthBytes: 4 }, synthetic(12)),
      ),
    ),
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        { ...v4 },
        udpDatagram(
          { srcPort: 1, dstPort: 2, lengthBytes: 200 },
          synthetic(12),
        ),
      ),
    ),
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        { ...v4, protocol: IpProto.Tcp },
        tcpSegment(
          { srcPort: 1, dstPort: 2, flags: TcpFlag.Syn, dataOffsetWords: 4 },
          new Uint8Array(0),
        ),
      ),
    ),
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        { ...v4, protocol: IpProto.Tcp },
        tcpSegment(
          { srcPort: 1, dstPort: 2, flags: TcpFlag.Syn, dataOffsetWords: 15 },
          new Uint8Array(0),
        ),
      ),
    ),
    // An IPv4 header whose transport header is missing entirely.
    eth(
      EtherType.Ipv4,
      ipv4Packet({ ...v4, protocol: IpProto.Tcp }, new Uint8Array(6)),
    ),
    eth(EtherType.Ipv4, new Uint8Array(0)),
  ];
}

// ---------------------------------------------------------------------------
// TCP option layouts

const rawOpt = (...bytes: number[]): TcpOption => ({
  kind: 'raw',
  bytes: Uint8Array.from(bytes),
});
const NOP: TcpOption = { kind: 'nop' };
const EOL: TcpOption = { kind: 'eol' };
const SACK_OK: TcpOption = { kind: 'sack-permitted' };
const mss = (mssBytes: number): TcpOption => ({ kind: 'mss', mssBytes });
const ws = (shift: number): TcpOption => ({ kind: 'window-scale', shift });
const ts = (tsVal: number, tsEcr = 0): TcpOption => ({
  kind: 'timestamps',
  tsVal,
  tsEcr,
});

/**
 * SYN and SYN-ACK option lists: common stacks first, then malformed
 * lengths, out-of-range values and rare kinds.
 */
const TCP_OPTION_LAYOUTS: Array<[TcpOption[], TcpOption[]]> = [
  [LINUX_SYN, [mss(1460), SACK_OK, ts(9000, 2_000_000), NOP, ws(7)]],
  [
    [mss(1460), NOP, ws(8), NOP, NOP, SACK_OK],
    [mss(1460), NOP, ws(8), SACK_OK, NOP, NOP],
  ],
  [
    [mss(1460), NOP, ws(6), NOP, NOP, ts(1), SACK_OK, EOL, EOL],
    [mss(1460), SACK_OK, ts(5, 1), NOP, ws(6)],
  ],
  [[mss(536)], [mss(536)]],
  [[], []],
  [
    [mss(1460), NOP, NOP, SACK_OK, NOP, ws(2)],
    [mss(1380), NOP, NOP, SACK_OK],
  ],
  [new Array<TcpOption>(40).fill(NOP), [mss(1460)]],
  [
    [mss(1460), EOL, rawOpt(0x01, 0x02, 0x03)],
    [mss(1460), NOP, ws(14)],
  ],
  [[rawOpt(2, 0), mss(1460)], [mss(1460)]],
  [[rawOpt(2, 1, 0, 0)], [mss(1460)]],
  [[mss(1460), rawOpt(8, 30, 1, 2, 3, 4)], [mss(1460)]],
  [[rawOpt(2, 3, 5), NOP, ws(7)], [mss(1460)]],
  [[mss(1460), rawOpt(3, 4, 7, 0)], [mss(1460)]],
  [
    [mss(1460), ws(15)],
    [mss(1460), ws(15)],
  ],
  [[mss(1460), rawOpt(254, 4, 0xf9, 0x89)], [mss(1460)]],
  [[rawOpt(29, 1), mss(1460)], [mss(1460)]],
  [[mss(1460), rawOpt(34, 10, 1, 2, 3, 4, 5, 6, 7, 8)], [mss(1460)]],
  [
    [mss(65535), ws(0), SACK_OK],
    [mss(0), ws(0)],
  ],
];

function makeTcpOptions(dir: string): void {
  const list = new FrameList();
  TCP_OPTION_LAYOUTS.forEach(([synOptions, synAckOptions], i) => {
    const port = 50000 + i;
    list.add(
      eth(
        EtherType.Ipv4,
        tcp4('192.0.2.1', '192.0.2.2', TcpFlag.Syn, synOptions, undefined, [
          port,
          443,
        ]),
      ),
      eth(
        EtherType.Ipv4,
        tcp4(
          '192.0.2.2',
          '192.0.2.1',
          TcpFlag.Syn | TcpFlag.Ack,
          synAckOptions,
          undefined,
          [443, port],
        ),
        [],
        MAC_B,
        MAC_A,
      ),
    );
  });
  list.add(...tcpOddities());
  list.writePcap(join(dir, 'tcp-options.pcap'), LinkType.Ethernet);
}

/** Flag and field oddities a stack fingerprint records, then IPv6 SYNs. */
function tcpOddities(): Uint8Array[] {
  const odd = (spec: {
    flags: number;
    urgentPointer?: number;
    reservedBits?: number;
    options?: TcpOption[];
  }): Uint8Array =>
    eth(
      EtherType.Ipv4,
      ipv4Packet(
        { src: '192.0.2.1', dst: '192.0.2.2', protocol: IpProto.Tcp, ttl: 64 },
        tcpSegment(
          { srcPort: 50100, dstPort: 80, seq: 77, ack: 0, ...spec },
          spec.flags & TcpFlag.Syn ? new Uint8Array(0) : synthetic(10),
        ),
      ),
    );
  return [
    odd({ flags: TcpFlag.Ack | TcpFlag.Urg | TcpFlag.Psh, urgentPointer: 0 }),
    odd({ flags: TcpFlag.Ack | TcpFlag.Psh, urgentPointer: 5 }),
    odd({ flags: TcpFlag.Syn, reservedBits: 0x0e, options: [mss(1460)] }),
    odd({ flags: TcpFlag.Syn | TcpFlag.Ece | TcpFlag.Cwr, options: LINUX_SYN }),
    odd({ flags: TcpFlag.Syn | TcpFlag.Fin, options: [mss(1460)] }),
    eth(EtherType.Ipv6, tcp6(SRC6, DST6, TcpFlag.Syn, LINUX_SYN)),
    eth(
      EtherType.Ipv6,
      tcp6(DST6, SRC6, TcpFlag.Syn | TcpFlag.Ack, [mss(1440), NOP, ws(10)]),
      [],
      MAC_B,
      MAC_A,
    ),
  ];
}

// ---------------------------------------------------------------------------
// Link types other than Ethernet

/** IPv4 and IPv6 packets shared by the non-Ethernet link fixtures. */
function linkSamples(): {
  v4: Uint8Array[];
  v6: Uint8Array[];
  arp: Uint8Array;
} {
  return {
    v4: [
      tcp4('192.0.2.1', '192.0.2.2', TcpFlag.Syn, LINUX_SYN),
      udp4('192.0.2.1', '192.0.2.53', 53123, 53, dnsQuery(3, 'sll.example')),
      echo4('192.0.2.1', '192.0.2.2', 1),
    ],
    v6: [
      tcp6('2001:db8::1', '2001:db8::2', TcpFlag.Syn, LINUX_SYN),
      udp6('2001:db8::1', '2001:db8::53', 53124, 53, dnsQuery(4, 'v6.example')),
      echo6('2001:db8::1', '2001:db8::2', 1),
    ],
    arp: arpPacket({
      op: ArpOp.Reply,
      senderMac: MAC_B,
      senderIp: '192.0.2.2',
      targetMac: MAC_A,
      targetIp: '192.0.2.1',
    }),
  };
}

function makeSll(dir: string): void {
  const { v4, v6, arp } = linkSamples();
  const list = new FrameList();
  const sll = (
    protocol: number,
    payload: Uint8Array,
    packetType: number = SllPacketType.Host,
    linkAddr: Address = MAC_A,
    arphrdType = 1,
  ) => linuxSllFrame({ packetType, protocol, linkAddr, arphrdType }, payload);
  for (const p of v4) list.add(sll(EtherType.Ipv4, p));
  for (const p of v6) list.add(sll(EtherType.Ipv6, p, SllPacketType.Outgoing));
  list.add(
    sll(EtherType.Arp, arp, SllPacketType.Broadcast),
    // An untagged-by-hardware VLAN: the tag is still in the payload.
    sll(EtherType.Vlan, concatBytes(Uint8Array.of(0, 42, 0x08, 0), v4[2])),
    // A tunnel device: ARPHRD_NONE and no link address.
    sll(EtherType.Ipv4, v4[1], SllPacketType.Host, new Uint8Array(0), 0xfffe),
    // Loopback: ARPHRD_LOOPBACK with an all-zero address.
    sll(EtherType.Ipv6, v6[2], SllPacketType.Host, ZERO_MAC, 772),
    // Protocol 0x0004 is 802.2 LLC, here a spanning-tree BPDU: no IP.
    sll(0x0004, stpConfigBpdu(MAC_C)),
    sll(EtherType.Ipv4, v4[0]).subarray(0, 10),
  );
  list.writePcap(join(dir, 'sll.pcap'), LinkType.LinuxSll);
}

/** An LLC-framed STP configuration BPDU (IEEE 802.1D clause 9.3.1). */
function stpConfigBpdu(bridgeMac: string): Uint8Array {
  const bpdu = new Uint8Array(3 + 35);
  bpdu.set([0x42, 0x42, 0x03], 0);
  const bridgeId = concatBytes(Uint8Array.of(0x80, 0x00), macBytes(bridgeMac));
  bpdu.set(bridgeId, 3 + 5);
  bpdu.set(bridgeId, 3 + 17);
  put16(bpdu, 3 + 25, 0x8001);
  // Max age 20 s, hello 2 s, forward delay 15 s, in 1/256 s units.
  put16(bpdu, 3 + 29, 20 * 256);
  put16(bpdu, 3 + 31, 2 * 256);
  put16(bpdu, 3 + 33, 15 * 256);
  return bpdu;
}

function makeSll2(dir: string): void {
  const { v4, v6, arp } = linkSamples();
  const list = new FrameList();
  const sll2 = (
    protocol: number,
    payload: Uint8Array,
    interfaceIndex: number,
    packetType: number = SllPacketType.Host,
  ) =>
    linuxSll2Frame(
      { packetType, protocol, linkAddr: MAC_A, interfaceIndex },
      payload,
    );
  for (const p of v4) list.add(sll2(EtherType.Ipv4, p, 2));
  for (const p of v6)
    list.add(sll2(EtherType.Ipv6, p, 3, SllPacketType.Outgoing));
  list.add(
    sll2(EtherType.Arp, arp, 2, SllPacketType.Broadcast),
    sll2(EtherType.Ipv4, v4[2], 1, SllPacketType.OtherHost),
    sll2(EtherType.Ipv4, v4[0], 2).subarray(0, 15),
  );
  list.writePcap(join(dir, 'sll2.pcap'), LinkType.LinuxSll2);
}

function makeNullLoopback(dir: string): void {
  const { v4, v6 } = linkSamples();
  const families = [
    BsdAddressFamily.Inet6Bsd,
    BsdAddressFamily.FreeBsdInet6,
    BsdAddressFamily.DarwinInet6,
  ];

  // DLT_NULL from a little-endian host, and from a big-endian one.
  for (const byteOrder of ['le', 'be'] as const) {
    const isLittleEndian = byteOrder === 'le';
    const list = new FrameList();
    for (const p of v4) {
      list.add(nullLoopbackFrame(BsdAddressFamily.Inet, p, isLittleEndian));
    }
    v6.forEach((p, i) =>
      list.add(nullLoopbackFrame(families[i], p, isLittleEndian)),
    );
    list.add(nullLoopbackFrame(99, v4[0], isLittleEndian));
    list.add(Uint8Array.of(2, 0));
    const name = isLittleEndian
      ? 'null-loopback.pcap'
      : 'null-loopback-be.pcap';
    list.writePcap(join(dir, name), LinkType.Null, { byteOrder });
  }

  // LINKTYPE_LOOP (OpenBSD) is big-endian whatever the file's order.
  const loop = new FrameList();
  for (const p of v4)
    loop.add(nullLoopbackFrame(BsdAddressFamily.Inet, p, false));
  v6.forEach((p, i) => loop.add(nullLoopbackFrame(families[i], p, false)));
  loop.writePcap(join(dir, 'loop.pcap'), LinkType.Loop);
}

function makeRawIp(dir: string): void {
  const { v4, v6 } = linkSamples();
  const list = new FrameList();
  for (let i = 0; i < v4.length; i++) {
    list.add(rawIpFrame(v4[i]), rawIpFrame(v6[i]));
  }
  const bad = Uint8Array.from(v4[1]);
  bad[0] = 0x55;
  list.add(bad, v6[0].subarray(0, 20));
  list.writePcap(join(dir, 'raw-ip.pcap'), LinkType.Raw);

  // The version-specific raw link types carry one IP version each.
  const only4 = new FrameList().add(...v4);
  only4.writePcap(join(dir, 'raw-ipv4.pcap'), LinkType.Ipv4);
  const only6 = new FrameList().add(...v6);
  only6.writePcap(join(dir, 'raw-ipv6.pcap'), LinkType.Ipv6);
}

/** The same Ethernet frames in every byte order and time resolution. */
function makeMixedVariants(dir: string): void {
  const { v4, v6, arp } = linkSamples();
  const list = new FrameList();
  for (const p of v4) list.add(eth(EtherType.Ipv4, p));
  for (const p of v6) list.add(eth(EtherType.Ipv6, p, [{ vid: 6 }]));
  list.add(eth(EtherType.Arp, arp, [], MAC_B, MAC_A));
  list.addCut(eth(EtherType.Ipv4, v4[0]), 40);
  for (const byteOrder of ['le', 'be'] as const) {
    for (const timeResolution of ['us', 'ns'] as const) {
      list.writePcap(
        join(dir, `mixed-${byteOrder}-${timeResolution}.pcap`),
        LinkType.Ethernet,
        { byteOrder, timeResolution },
      );
    }
  }
}

/** A pcapng block type no registry assigns (0x0bad is the custom block). */
const UNKNOWN_BLOCK_TYPE = 0x0000_0042;

/**
 * Three interfaces (Ethernet in microseconds, SLL2 in nanoseconds, raw IP),
 * a simple packet block and an unknown block type between the packets.
 */
function makeMultiInterface(dir: string): void {
  const { v4, v6 } = linkSamples();
  for (const byteOrder of ['le', 'be'] as const) {
    const name =
      byteOrder === 'le'
        ? 'multi-interface.pcapng'
        : 'multi-interface-be.pcapng';
    const w = new PcapngWriter(join(dir, name), {
      byteOrder,
      application: 'spansight make-fixtures',
    });
    const ether = w.addInterface({ linkType: LinkType.Ethernet, name: 'eth0' });
    const cooked = w.addInterface({
      linkType: LinkType.LinuxSll2,
      name: 'any',
      timeResolutionExp10: 9,
    });
    const raw = w.addInterface({
      linkType: LinkType.Raw,
      name: 'tun0',
      snapLenBytes: 65535,
    });
    let step = 0;
    const next = (): [number, number] => fixtureTime(step++);

    w.writeFrame(ether, eth(EtherType.Ipv4, v4[0]), ...next());
    w.writeFrame(
      cooked,
      linuxSll2Frame(
        {
          packetType: SllPacketType.Outgoing,
          protocol: EtherType.Ipv6,
          linkAddr: MAC_A,
          interfaceIndex: 4,
        },
        v6[1],
      ),
      ...next(),
    );
    w.writeSimpleFrame(eth(EtherType.Ipv4, v4[2]));
    w.writeBlock(
      UNKNOWN_BLOCK_TYPE,
      textBytes('a block type readers must skip'),
    );
    w.writeFrame(raw, rawIpFrame(v6[2]), ...next());
    w.writeFrame(
      cooked,
      linuxSll2Frame(
        {
          packetType: SllPacketType.Host,
          protocol: EtherType.Ipv4,
          linkAddr: MAC_B,
          interfaceIndex: 2,
        },
        v4[1],
      ),
      ...next(),
    );
    w.writeFrame(
      raw,
      rawIpFrame(echo4('192.0.2.1', '192.0.2.9', 9)),
      ...next(),
    );
    const cut = eth(EtherType.Ipv6, v6[0]);
    w.writeFrame(ether, cut.subarray(0, 30), ...next(), cut.length);
    w.close();
  }
}

// ---------------------------------------------------------------------------
// ARP, ICMP and neighbour discovery

function makeArpIcmp(dir: string): void {
  const list = new FrameList();
  list.add(...arpFrames());
  list.add(
    eth(EtherType.Ipv4, echo4('192.0.2.1', '192.0.2.2', 1)),
    eth(
      EtherType.Ipv4,
      echo4('192.0.2.2', '192.0.2.1', 1, true),
      [],
      MAC_B,
      MAC_A,
    ),
    eth(EtherType.Ipv4, icmpError4(3, 3, '192.0.2.2', '192.0.2.1')),
    eth(EtherType.Ipv4, icmpError4(11, 0, '192.0.2.254', '192.0.2.1')),
  );
  list.add(...neighbourDiscoveryFrames());
  list.writePcap(join(dir, 'arp-icmp.pcap'), LinkType.Ethernet);
}

/**
 * Request and reply; gratuitous request and reply (sender IP = target IP);
 * an RFC 5227 probe (sender 0.0.0.0); a second MAC claiming 192.0.2.2.
 */
function arpFrames(): Uint8Array[] {
  const rows: Array<[number, string, string, string, string, string]> = [
    [ArpOp.Request, MAC_A, '192.0.2.1', ZERO_MAC, '192.0.2.2', BROADCAST_MAC],
    [ArpOp.Reply, MAC_B, '192.0.2.2', MAC_A, '192.0.2.1', MAC_A],
    [ArpOp.Request, MAC_C, '192.0.2.3', ZERO_MAC, '192.0.2.3', BROADCAST_MAC],
    [
      ArpOp.Reply,
      MAC_C,
      '192.0.2.3',
      BROADCAST_MAC,
      '192.0.2.3',
      BROADCAST_MAC,
    ],
    [ArpOp.Request, MAC_C, '0.0.0.0', ZERO_MAC, '192.0.2.4', BROADCAST_MAC],
    [ArpOp.Reply, docMac(0x0d), '192.0.2.2', MAC_A, '192.0.2.1', MAC_A],
  ];
  return rows.map(([op, senderMac, senderIp, targetMac, targetIp, dst]) =>
    eth(
      EtherType.Arp,
      arpPacket({ op, senderMac, senderIp, targetMac, targetIp }),
      [],
      senderMac,
      dst,
    ),
  );
}

/** DAD, NS/NA with link-layer options, unsolicited NA, RS, RA, echo. */
function neighbourDiscoveryFrames(): Uint8Array[] {
  const ll1 = 'fe80::200:5eff:fe00:530a';
  const ll2 = 'fe80::200:5eff:fe00:530b';
  const snm = solicitedNodeAddress(ll2);
  const ra = icmpv6RouterAdvertisement({
    routerLifetimeSec: 1800,
    isOtherConfig: true,
    sourceLinkAddr: MAC_C,
    mtuBytes: 1500,
    prefixes: [
      {
        prefix: '2001:db8:1::',
        prefixBits: 64,
        validLifetimeSec: 86400,
        preferredLifetimeSec: 14400,
      },
    ],
  });
  const solicitedNa = icmpv6NeighbourAdvertisement({
    target: ll2,
    isSolicited: true,
    isOverride: true,
    targetLinkAddr: MAC_B,
  });
  const unsolicitedNa = icmpv6NeighbourAdvertisement({
    target: ll2,
    isOverride: true,
    targetLinkAddr: MAC_B,
  });
  const ns = icmpv6NeighbourSolicitation({
    target: ll2,
    sourceLinkAddr: MAC_A,
  });
  const rs = icmpv6RouterSolicitation({ sourceLinkAddr: MAC_A });
  return [
    // Duplicate address detection: unspecified source, no link address.
    ndFrame(
      undefined,
      '::',
      snm,
      MAC_B,
      icmpv6NeighbourSolicitation({ target: ll2 }),
    ),
    ndFrame(undefined, ll1, snm, MAC_A, ns),
    ndFrame(undefined, ll2, ll1, MAC_B, solicitedNa, MAC_A),
    ndFrame(undefined, ll2, 'ff02::1', MAC_B, unsolicitedNa),
    ndFrame(undefined, ll1, 'ff02::2', MAC_A, rs),
    ndFrame(undefined, ROUTER_LL, 'ff02::1', MAC_C, ra),
    eth(EtherType.Ipv6, echo6('2001:db8:1::a', '2001:db8:1::b', 1)),
    eth(
      EtherType.Ipv6,
      echo6('2001:db8:1::b', '2001:db8:1::a', 1, true),
      [],
      MAC_B,
      MAC_A,
    ),
  ];
}

/** An ICMP error quoting the IP header and first 8 bytes of a UDP probe. */
function icmpError4(
  type: number,
  code: number,
  src: string,
  dst: string,
): Uint8Array {
  const probe = udp4(dst, '192.0.2.99', 33434, 33435, synthetic(12), 1);
  const body = concatBytes(new Uint8Array(4), probe.subarray(0, 28));
  return ipv4Packet(
    { src, dst, protocol: IpProto.Icmp, ttl: 255 },
    icmpMessage(type, code, body),
  );
}

// ---------------------------------------------------------------------------
// Application payload helpers

export function dnsQuery(id: number, name: string, type: number = DnsType.A) {
  return dnsMessage({ id, flags: 0x0100, questions: [{ name, type }] });
}

/** A 48-byte NTPv4 packet (RFC 5905) in `mode` at Unix time `timeSec`. */
export function ntp(mode: number, timeSec: number, originSec = 0): Uint8Array {
  const out = new Uint8Array(48);
  out[0] = (4 << 3) | mode;
  const ntpSec = timeSec === 0 ? 0 : timeSec + 2_208_988_800;
  if (mode === 4) {
    out[1] = 2;
    out[2] = 6;
    out[3] = 0xec;
    out.set(ipBytes('10.10.100.1'), 12);
    put32(out, 16, ntpSec - 60);
    put32(out, 24, originSec === 0 ? 0 : originSec + 2_208_988_800);
    put32(out, 32, ntpSec);
  }
  put32(out, 40, ntpSec);
  return out;
}

// ---------------------------------------------------------------------------
// Hospital sample: a few VLANs of synthetic devices over ten minutes

/** TCP/IP stack personality: initial TTL and SYN option layout. */
export type Stack = 'linux' | 'windows' | 'embedded';

/** A synthetic device or server; every name and payload says SYNTH. */
export interface Host {
  name: string;
  mac: string;
  ip: string;
  vlan: number;
  stack: Stack;
  /** Next IPv4 identification this host sends. */
  ipId: number;
  /** DHCP client parameters; absent for statically addressed hosts. */
  dhcp?: DhcpProfile;
  linkLocal?: string;
}

const SAMPLE_DURATION_SEC = 600;
const SAMPLE_SEED = 0x5eed;
export const SERVER_VLAN = 100;
export const DNS_SERVER_IP = '10.10.100.10';
export const NTP_SERVER_IP = '10.10.100.11';
const SYSLOG_SERVER_IP = '10.10.100.12';
export const HL7_ENGINE_IP = '10.10.100.20';
export const PACS_IP = '10.10.100.30';
export const NMS_IP = '10.10.100.50';
export const SWITCH_MAC = '10:57:25:53:00:f0';

/** Names the DNS server answers, with their addresses. */
const DNS_ZONE: Record<string, string> = {
  'hl7.hospital.example': HL7_ENGINE_IP,
  'pacs.hospital.example': PACS_IP,
  'ntp.hospital.example': NTP_SERVER_IP,
  'syslog.hospital.example': SYSLOG_SERVER_IP,
  'intranet.hospital.example': '10.10.100.40',
  'updates.synthetic-vendor.example': '203.0.113.10',
  'telemetry.synthetic-vendor.example': '203.0.113.20',
  'portal.synthetic-cloud.example': '198.51.100.30',
};

export function ttlOf(stack: Stack): number {
  if (stack === 'windows') return 128;
  if (stack === 'embedded') return 255;
  return 64;
}

function vlanHex(vlan: number): string {
  return vlan.toString(16).padStart(2, '0');
}

/** VRRP virtual router MAC (RFC 5798) of the VLAN's gateway, VRID = VLAN. */
export function gatewayMac(vlan: number): string {
  return `00:00:5e:00:01:${vlanHex(vlan)}`;
}

export function gatewayIp(vlan: number): string {
  return `10.10.${vlan}.1`;
}

/** What a DHCP client asks for (option 55) and calls itself (option 60). */
export interface DhcpProfile {
  paramList: number[];
  vendorClass: string;
}

export const DHCP_PROFILES: Record<string, DhcpProfile> = {
  monitor: {
    paramList: [1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59],
    vendorClass: 'synthetic-monitor-os 2.1',
  },
  pump: { paramList: [1, 3, 6, 42], vendorClass: 'synthetic-pump-fw 1.4' },
  windows: {
    paramList: [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252],
    vendorClass: 'MSFT 5.0',
  },
  phone: {
    paramList: [1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46],
    vendorClass: 'synthetic-phone-os 17',
  },
};

/** Name, MAC index, address, VLAN, stack, DHCP profile (none: static). */
const HOST_ROWS: Array<[string, number, string, number, Stack, string?]> = [
  ['SYNTH-MON-01', 0x11, '10.10.10.11', 10, 'linux', 'monitor'],
  ['SYNTH-MON-02', 0x12, '10.10.10.12', 10, 'linux', 'monitor'],
  ['SYNTH-MON-03', 0x13, '10.10.10.13', 10, 'linux', 'monitor'],
  ['SYNTH-MON-04', 0x14, '10.10.10.14', 10, 'linux', 'monitor'],
  ['SYNTH-PUMP-01', 0x21, '10.10.10.21', 10, 'embedded', 'pump'],
  ['SYNTH-PUMP-02', 0x22, '10.10.10.22', 10, 'embedded', 'pump'],
  ['SYNTH-PUMP-03', 0x23, '10.10.10.23', 10, 'embedded', 'pump'],
  ['SYNTH-CT-01', 0x31, '10.10.20.21', 20, 'linux'],
  ['SYNTH-US-01', 0x32, '10.10.20.22', 20, 'windows', 'windows'],
  ['SYNTH-WS-IMG-01', 0x33, '10.10.20.31', 20, 'windows', 'windows'],
  ['SYNTH-WS-01', 0x41, '10.10.30.31', 30, 'windows', 'windows'],
  ['SYNTH-WS-02', 0x42, '10.10.30.32', 30, 'windows', 'windows'],
  ['SYNTH-WS-03', 0x43, '10.10.30.33', 30, 'windows', 'windows'],
  ['SYNTH-PRN-01', 0x4a, '10.10.30.40', 30, 'linux'],
  ['SYNTH-PHONE-01', 0x4b, '10.10.30.77', 30, 'linux', 'phone'],
  ['SYNTH-DNS-DHCP', 0x60, DNS_SERVER_IP, SERVER_VLAN, 'linux'],
  ['SYNTH-NTP', 0x61, NTP_SERVER_IP, SERVER_VLAN, 'linux'],
  ['SYNTH-SYSLOG', 0x62, SYSLOG_SERVER_IP, SERVER_VLAN, 'linux'],
  ['SYNTH-HL7-ENGINE', 0x63, HL7_ENGINE_IP, SERVER_VLAN, 'windows'],
  ['SYNTH-PACS', 0x64, PACS_IP, SERVER_VLAN, 'linux'],
  ['SYNTH-NMS', 0x65, NMS_IP, SERVER_VLAN, 'linux'],
];

/**
 * Real IEEE OUIs of the kind of maker each synthetic host stands for, so the
 * sample exercises vendor lookup and classification (the rest of each MAC
 * is made up).
 */
const SAMPLE_OUIS: Array<[RegExp, string]> = [
  [/^SYNTH-MON-/, '00:09:5c'], // Philips Medical Systems (monitoring)
  [/^SYNTH-PUMP-/, '00:12:21'], // B. Braun Melsungen
  [/^SYNTH-(CT|US)-/, '44:4b:5d'], // GE Healthcare
  [/^SYNTH-PRN-/, '18:60:24'], // Hewlett Packard
  [/^SYNTH-(WS|DNS|NTP|SYSLOG|HL7|PACS|NMS)/, '10:65:30'], // Dell
];

export function sampleMac(name: string, macIndex: number): string {
  const oui = SAMPLE_OUIS.find(([pattern]) => pattern.test(name))?.[1];
  if (oui === undefined) return docMac(macIndex);
  return `${oui}:53:00:${(macIndex & 0xff).toString(16).padStart(2, '0')}`;
}

function makeHosts(): Host[] {
  const hosts = HOST_ROWS.map(
    ([name, macIndex, ip, vlan, stack, profile]): Host => ({
      name,
      mac: sampleMac(name, macIndex),
      ip,
      vlan,
      stack,
      ipId: (macIndex * 7919) & 0xffff,
      dhcp: profile === undefined ? undefined : DHCP_PROFILES[profile],
    }),
  );
  for (const h of hosts) {
    if (h.vlan === 30 && h.name.startsWith('SYNTH-WS')) {
      h.linkLocal = `fe80::5359:4e54:0:${h.ip.split('.')[3]}`;
    }
  }
  // The phone uses a randomised, locally administered MAC.
  const phone = hosts.find((h) => h.name === 'SYNTH-PHONE-01');
  if (phone !== undefined) {
    phone.mac = 'da:a1:19:53:00:01';
    phone.linkLocal = 'fe80::d8a1:19ff:fe53:1';
  }
  return hosts;
}

function synOptions(
  stack: Stack,
  isSynAck: boolean,
  tsVal: number,
): TcpOption[] {
  if (stack === 'windows') {
    return isSynAck
      ? [
          { kind: 'mss', mssBytes: 1460 },
          { kind: 'nop' },
          { kind: 'window-scale', shift: 8 },
          { kind: 'sack-permitted' },
          { kind: 'nop' },
          { kind: 'nop' },
        ]
      : [
          { kind: 'mss', mssBytes: 1460 },
          { kind: 'nop' },
          { kind: 'window-scale', shift: 8 },
          { kind: 'nop' },
          { kind: 'nop' },
          { kind: 'sack-permitted' },
        ];
  }
  if (stack === 'embedded') return [{ kind: 'mss', mssBytes: 1460 }];
  return [
    { kind: 'mss', mssBytes: 1460 },
    { kind: 'sack-permitted' },
    { kind: 'timestamps', tsVal, tsEcr: isSynAck ? tsVal ^ 0x5a5a : 0 },
    { kind: 'nop' },
    { kind: 'window-scale', shift: 7 },
  ];
}

/** Frames with capture times, written in time order at the end. */
export class Timeline {
  private readonly events: Array<{
    timeUs: number;
    order: number;
    frame: Uint8Array;
  }> = [];

  add(timeUs: number, frame: Uint8Array): void {
    this.events.push({
      timeUs: Math.round(timeUs),
      order: this.events.length,
      frame,
    });
  }

  /** Add frames `gapUs` apart from `startUs`; returns the time after them. */
  addSeries(startUs: number, gapUs: number, frames: Uint8Array[]): number {
    frames.forEach((f, i) => this.add(startUs + i * gapUs, f));
    return startUs + frames.length * gapUs;
  }

  get frameCount(): number {
    return this.events.length;
  }

  write(path: string): void {
    this.events.sort((a, b) => a.timeUs - b.timeUs || a.order - b.order);
    const w = new PcapWriter(path, { linkType: LinkType.Ethernet });
    const baseUs = BASE_TIME_SEC * 1e6;
    for (const e of this.events) {
      const timeUs = baseUs + e.timeUs;
      w.writeFrame(e.frame, Math.floor(timeUs / 1e6), (timeUs % 1e6) * 1000);
    }
    w.close();
  }
}

/** The hospital network: hosts, routing between VLANs, frame assembly. */
export class HospitalNet {
  readonly byIp = new Map<string, Host>();

  constructor(
    readonly hosts: Host[],
    readonly rng: SeededRng,
    readonly timeline: Timeline,
  ) {
    for (const h of hosts) this.byIp.set(h.ip, h);
  }

  get devices(): Host[] {
    return this.hosts.filter((h) => h.vlan !== SERVER_VLAN);
  }

  find(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  /**
   * The MAC and TTL with which a packet from `peerIp` reaches `host`: the
   * peer itself on the same subnet, else the gateway with one hop used up.
   */
  peerOf(
    host: Host,
    peerIp: string,
  ): { mac: string; ttl: number; ipId: () => number } {
    const peer = this.byIp.get(peerIp);
    const isLocal = peer !== undefined && peer.vlan === host.vlan;
    if (peer !== undefined) {
      return {
        mac: isLocal ? peer.mac : gatewayMac(host.vlan),
        ttl: ttlOf(peer.stack) - (isLocal ? 0 : 1),
        ipId: () => (peer.ipId = (peer.ipId + 1) & 0xffff),
      };
    }
    // Internet hosts: a Linux-like server some fourteen hops away.
    return {
      mac: gatewayMac(host.vlan),
      ttl: 50,
      ipId: () => this.rng.nextInt(0x10000),
    };
  }

  /** An IPv4 frame on `host`'s VLAN, to or from a peer. */
  ipFrame(
    host: Host,
    peerIp: string,
    isFromHost: boolean,
    protocol: number,
    l4: Uint8Array,
  ): Uint8Array {
    const peer = this.peerOf(host, peerIp);
    const isGroup = isGroupAddress(peerIp);
    const ip = ipv4Packet(
      {
        src: isFromHost ? host.ip : peerIp,
        dst: isFromHost ? peerIp : host.ip,
        protocol,
        ttl: isFromHost
          ? isGroup
            ? groupTtl(peerIp)
            : ttlOf(host.stack)
          : peer.ttl,
        id: isFromHost ? (host.ipId = (host.ipId + 1) & 0xffff) : peer.ipId(),
        isDontFragment: protocol === IpProto.Tcp || host.stack === 'linux',
      },
      l4,
    );
    const dstMac = isGroup
      ? groupMac(peerIp)
      : isFromHost
        ? peer.mac
        : host.mac;
    return ethernetFrame(
      {
        dst: dstMac,
        src: isFromHost ? host.mac : peer.mac,
        etherType: EtherType.Ipv4,
        tags: [{ vid: host.vlan }],
      },
      ip,
    );
  }

  udpFrame(
    host: Host,
    peerIp: string,
    isFromHost: boolean,
    hostPort: number,
    peerPort: number,
    payload: Uint8Array,
  ): Uint8Array {
    const l4 = udpDatagram(
      {
        srcPort: isFromHost ? hostPort : peerPort,
        dstPort: isFromHost ? peerPort : hostPort,
      },
      payload,
    );
    return this.ipFrame(host, peerIp, isFromHost, IpProto.Udp, l4);
  }

  /** A request from `host` and the reply `rttUs` later. */
  udpExchange(
    timeUs: number,
    host: Host,
    peerIp: string,
    hostPort: number,
    peerPort: number,
    request: Uint8Array,
    reply: Uint8Array | undefined,
    rttUs = 600,
  ): void {
    this.timeline.add(
      timeUs,
      this.udpFrame(host, peerIp, true, hostPort, peerPort, request),
    );
    if (reply !== undefined) {
      this.timeline.add(
        timeUs + rttUs,
        this.udpFrame(host, peerIp, false, hostPort, peerPort, reply),
      );
    }
  }

  /** A TCP connection from `host` to `peerIp:port`. */
  tcp(host: Host, peerIp: string, peerPort: number): TcpConversation {
    const peer = this.peerOf(host, peerIp);
    const peerHost = this.byIp.get(peerIp);
    const peerStack: Stack = peerHost?.stack ?? 'linux';
    const client: TcpEndpoint = {
      mac: host.mac,
      ip: host.ip,
      port: this.ephemeralPort(host),
      ttl: ttlOf(host.stack),
      isn: this.rng.nextU32(),
      window: host.stack === 'windows' ? 1026 : 502,
      synOptions: synOptions(host.stack, false, this.rng.nextU32()),
      mssBytes: 1460,
    };
    const server: TcpEndpoint = {
      mac: peer.mac,
      ip: peerIp,
      port: peerPort,
      ttl: peer.ttl,
      isn: this.rng.nextU32(),
      window: peerStack === 'windows' ? 8212 : 509,
      synOptions: synOptions(peerStack, true, this.rng.nextU32()),
      mssBytes: 1460,
    };
    return new TcpConversation(client, server, [{ vid: host.vlan }]);
  }

  ephemeralPort(host: Host): number {
    const base = host.stack === 'windows' ? 49152 : 32768;
    return base + this.rng.nextInt(16000);
  }
}

function isGroupAddress(ip: string): boolean {
  const first = Number(ip.split('.')[0]);
  return (first >= 224 && first <= 239) || ip.endsWith('.255');
}

function groupTtl(ip: string): number {
  if (ip === '224.0.0.251') return 255;
  if (ip === '239.255.255.250') return 4;
  return 64;
}

function groupMac(ip: string): Address {
  return ip.endsWith('.255') ? BROADCAST_MAC : ipv4MulticastMac(ip);
}

function secUs(sec: number): number {
  return sec * 1e6;
}

// ---------------------------------------------------------------------------
// Hospital sample scenarios

function sampleLldp(net: HospitalNet): void {
  const ports = ['Gi1/0/1', 'Gi1/0/2', 'Gi1/0/3', 'Gi1/0/48'];
  ports.forEach((portName, i) => {
    for (let sec = 0.5 + i * 0.01; sec < SAMPLE_DURATION_SEC; sec += 30) {
      const pdu = lldpPdu({
        chassisMac: SWITCH_MAC,
        portName,
        ttlSec: 120,
        portDescription: `synthetic access port ${i + 1}`,
        systemName: 'SYNTH-SW-ICU-01',
        systemDescription: 'Synthetic switch OS 1.0 (generated test data)',
        capabilities: { available: 0x14, enabled: 0x04 },
        managementIpv4: '10.10.100.2',
      });
      // Cisco Systems OUI: the switch sends LLDP from each port's own MAC.
      const src = `10:57:25:53:00:${(0xf1 + i).toString(16)}`;
      net.timeline.add(
        secUs(sec),
        ethernetFrame({ dst: LLDP_MAC, src, etherType: EtherType.Lldp }, pdu),
      );
    }
  });
}

/** DORA through the VLAN gateway acting as relay, then ARP probe/announce. */
function sampleDhcp(net: HospitalNet, host: Host, startUs: number): number {
  const profile = host.dhcp;
  if (profile === undefined) return startUs;
  const xid = net.rng.nextU32();
  const relayIp = gatewayIp(host.vlan);
  const server = net.find('SYNTH-DNS-DHCP');
  const steps: Array<[number, number]> = [
    [DhcpMessageType.Discover, DhcpMessageType.Offer],
    [DhcpMessageType.Request, DhcpMessageType.Ack],
  ];
  let t = startUs;
  for (const [askType, answerType] of steps) {
    const ask = dhcpClientMessage(host, profile, xid, askType);
    const relayed = dhcpClientMessage(host, profile, xid, askType, relayIp);
    const answer = dhcpServerMessage(host, xid, answerType, relayIp);
    net.timeline.add(t, clientBroadcast(host, ask));
    // The relay's copy to the server and the answer, on the server VLAN.
    net.timeline.add(t + 300, relayFrame(server, relayIp, true, relayed));
    net.timeline.add(t + 900, relayFrame(server, relayIp, false, answer));
    net.timeline.add(t + 1200, relayToClient(host, relayIp, answer));
    t += 20_000 + net.rng.nextInt(50_000);
  }

  // RFC 5227 probe, then an announcement (gratuitous ARP).
  const probe = ['0.0.0.0', host.ip];
  probe.forEach((senderIp, i) =>
    net.timeline.add(
      t + 100_000 + i * 1_100_000,
      arpFrameOf(
        host,
        ArpOp.Request,
        senderIp,
        ZERO_MAC,
        host.ip,
        BROADCAST_MAC,
      ),
    ),
  );
  return t + 1_300_000;
}

/** DISCOVER or REQUEST from `host`; `giaddr` set once relayed. */
export function dhcpClientMessage(
  host: Host,
  profile: DhcpProfile,
  xid: number,
  type: number,
  giaddr?: string,
): Uint8Array {
  const options = [
    dhcpOption(53, Uint8Array.of(type)),
    // Client identifier: hardware type 1 (Ethernet) and the MAC.
    dhcpOption(61, concatBytes(Uint8Array.of(1), macBytes(host.mac))),
    dhcpOption(12, textBytes(host.name)),
    dhcpOption(60, textBytes(profile.vendorClass)),
    dhcpOption(55, Uint8Array.from(profile.paramList)),
  ];
  if (type === DhcpMessageType.Request) {
    options.push(
      dhcpOption(50, ipBytes(host.ip)),
      dhcpOption(54, ipBytes(DNS_SERVER_IP)),
    );
  }
  return dhcpMessage({ op: 1, xid, clientMac: host.mac, giaddr, options });
}

/** OFFER or ACK from the server, through the relay at `relayIp`. */
export function dhcpServerMessage(
  host: Host,
  xid: number,
  type: number,
  relayIp: string,
): Uint8Array {
  return dhcpMessage({
    op: 2,
    xid,
    clientMac: host.mac,
    yiaddr: host.ip,
    siaddr: DNS_SERVER_IP,
    giaddr: relayIp,
    options: [
      dhcpOption(53, Uint8Array.of(type)),
      dhcpOption(54, ipBytes(DNS_SERVER_IP)),
      dhcpOption(51, u32Bytes(86400)),
      dhcpOption(1, ipBytes('255.255.255.0')),
      dhcpOption(3, ipBytes(relayIp)),
      dhcpOption(6, ipBytes(DNS_SERVER_IP)),
      dhcpOption(15, textBytes('hospital.example')),
      dhcpOption(42, ipBytes(NTP_SERVER_IP)),
    ],
  });
}

function u32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  put32(out, 0, value);
  return out;
}

export function clientBroadcast(host: Host, dhcp: Uint8Array): Uint8Array {
  return ethernetFrame(
    {
      dst: BROADCAST_MAC,
      src: host.mac,
      etherType: EtherType.Ipv4,
      tags: [{ vid: host.vlan }],
    },
    ipv4Packet(
      {
        src: '0.0.0.0',
        dst: '255.255.255.255',
        protocol: IpProto.Udp,
        ttl: ttlOf(host.stack),
      },
      udpDatagram({ srcPort: 68, dstPort: 67 }, dhcp),
    ),
  );
}

export function relayFrame(
  server: Host,
  relayIp: string,
  isToServer: boolean,
  dhcp: Uint8Array,
): Uint8Array {
  const relayMac = gatewayMac(SERVER_VLAN);
  return ethernetFrame(
    {
      dst: isToServer ? server.mac : relayMac,
      src: isToServer ? relayMac : server.mac,
      etherType: EtherType.Ipv4,
      tags: [{ vid: SERVER_VLAN }],
    },
    ipv4Packet(
      {
        src: isToServer ? relayIp : server.ip,
        dst: isToServer ? server.ip : relayIp,
        protocol: IpProto.Udp,
        ttl: 64,
        id: (server.ipId = (server.ipId + 1) & 0xffff),
      },
      udpDatagram({ srcPort: 67, dstPort: 67 }, dhcp),
    ),
  );
}

export function relayToClient(
  host: Host,
  relayIp: string,
  dhcp: Uint8Array,
): Uint8Array {
  return ethernetFrame(
    {
      dst: host.mac,
      src: gatewayMac(host.vlan),
      etherType: EtherType.Ipv4,
      tags: [{ vid: host.vlan }],
    },
    ipv4Packet(
      { src: relayIp, dst: host.ip, protocol: IpProto.Udp, ttl: 64 },
      udpDatagram({ srcPort: 67, dstPort: 68 }, dhcp),
    ),
  );
}

export function arpFrameOf(
  host: Host,
  op: number,
  senderIp: string,
  targetMac: string,
  targetIp: string,
  dst: string,
  senderMac: string = host.mac,
): Uint8Array {
  return ethernetFrame(
    {
      dst,
      src: senderMac,
      etherType: EtherType.Arp,
      tags: [{ vid: host.vlan }],
    },
    arpPacket({ op, senderMac, senderIp, targetMac, targetIp }),
  );
}

/** The host resolves its gateway; the gateway later refreshes the host. */
function sampleArp(net: HospitalNet, host: Host, startUs: number): void {
  const gwMac = gatewayMac(host.vlan);
  const gwIp = gatewayIp(host.vlan);
  net.timeline.add(
    startUs,
    arpFrameOf(host, ArpOp.Request, host.ip, ZERO_MAC, gwIp, BROADCAST_MAC),
  );
  net.timeline.add(
    startUs + 400,
    arpFrameOf(host, ArpOp.Reply, gwIp, host.mac, host.ip, host.mac, gwMac),
  );
  for (
    let t = startUs + secUs(100 + net.rng.nextInt(60));
    t < secUs(SAMPLE_DURATION_SEC);
    t += secUs(240)
  ) {
    net.timeline.add(
      t,
      arpFrameOf(
        host,
        ArpOp.Request,
        gwIp,
        ZERO_MAC,
        host.ip,
        BROADCAST_MAC,
        gwMac,
      ),
    );
    net.timeline.add(
      t + 700,
      arpFrameOf(host, ArpOp.Reply, host.ip, gwMac, gwIp, gwMac),
    );
  }
}

function sampleDns(
  net: HospitalNet,
  host: Host,
  timeUs: number,
  name: string,
): void {
  const id = net.rng.nextInt(0x10000);
  const port = net.ephemeralPort(host);
  const address = DNS_ZONE[name];
  const answers =
    address === undefined
      ? []
      : [{ name, type: DnsType.A, ttlSec: 300, data: ipBytes(address) }];
  const reply = dnsMessage({
    id,
    flags: address === undefined ? 0x8183 : 0x8180,
    questions: [{ name, type: DnsType.A }],
    answers,
  });
  net.udpExchange(
    timeUs,
    host,
    DNS_SERVER_IP,
    port,
    53,
    dnsQuery(id, name),
    reply,
    800,
  );
}

function sampleNtp(net: HospitalNet, host: Host, startUs: number): void {
  const port = host.stack === 'windows' ? 123 : net.ephemeralPort(host);
  for (
    let t = startUs;
    t < secUs(SAMPLE_DURATION_SEC);
    t += secUs(64) + net.rng.nextInt(2_000_000)
  ) {
    const sec = BASE_TIME_SEC + Math.floor(t / 1e6);
    net.udpExchange(
      t,
      host,
      NTP_SERVER_IP,
      port,
      123,
      ntp(3, sec),
      ntp(4, sec, sec),
      700,
    );
  }
}

function sampleSyslog(
  net: HospitalNet,
  host: Host,
  startUs: number,
  periodSec: number,
): void {
  let n = 1;
  for (
    let t = startUs;
    t < secUs(SAMPLE_DURATION_SEC);
    t += secUs(periodSec) + net.rng.nextInt(3_000_000)
  ) {
    // RFC 5424: facility local0, severity informational.
    const header = `<134>1 ${isoTime(t)} ${host.name} synthd - - -`;
    const line = `${header} synthetic status message ${n++}, no patient data`;
    net.timeline.add(
      t,
      net.udpFrame(host, SYSLOG_SERVER_IP, true, 514, 514, textBytes(line)),
    );
  }
}

function isoTime(timeUs: number): string {
  return new Date(
    BASE_TIME_SEC * 1000 + Math.floor(timeUs / 1000),
  ).toISOString();
}

export function hl7Time(timeUs: number): string {
  return isoTime(timeUs).replace(/[-:T]/g, '').slice(0, 14);
}

/** An MSH segment (HL7 v2.5.1) from one application/facility to another. */
export function hl7Header(
  from: string[],
  to: string[],
  stamp: string,
  messageType: string,
  controlId: string,
): string {
  const fields = ['MSH', '^~\\&', ...from, ...to, stamp, '', messageType];
  return [...fields, controlId, 'P', '2.5.1'].join('|');
}

/** MLLP framing (HL7 v2 appendix C): 0x0b, message, 0x1c 0x0d. */
export function mllp(segments: string[]): Uint8Array {
  return concatBytes(
    Uint8Array.of(0x0b),
    textBytes(segments.join('\r') + '\r'),
    Uint8Array.of(0x1c, 0x0d),
  );
}

/** One monitor keeps a connection to the HL7 engine and sends vitals. */
function sampleHl7(
  net: HospitalNet,
  host: Host,
  startUs: number,
  bed: number,
): void {
  const conv = net.tcp(host, HL7_ENGINE_IP, 2575);
  let t = net.timeline.addSeries(startUs, 350, conv.handshake());
  let n = 1;
  while (t < secUs(SAMPLE_DURATION_SEC - 20)) {
    const id = `SYNTH${bed}-${String(n).padStart(5, '0')}`;
    const stamp = hl7Time(t);
    const monitor = ['SYNTH-MONITOR', `SYNTH-ICU-BED-${bed}`];
    const engine = ['SYNTH-HL7-ENGINE', 'SYNTH-HOSPITAL'];
    const heartRate = 60 + net.rng.nextInt(40);
    const spo2 = 94 + net.rng.nextInt(6);
    const message = mllp([
      hl7Header(monitor, engine, stamp, 'ORU^R01^ORU_R01', id),
      `PID|1||SYNTH-PAT-000${bed}^^^SYNTH^MR||TEST^SYNTHETIC||19000101|U`,
      'OBR|1|||SYNTH-VITALS^Synthetic vitals',
      `OBX|1|NM|8867-4^Heart rate^LN||${heartRate}|/min|||||F`,
      `OBX|2|NM|2708-6^Oxygen saturation^LN||${spo2}|%|||||F`,
    ]);
    const ack = mllp([
      hl7Header(engine, monitor, stamp, 'ACK^R01^ACK', `A${id}`),
      `MSA|AA|${id}`,
    ]);
    net.timeline.addSeries(t, 300, conv.send(true, message));
    net.timeline.addSeries(t + 4000, 300, conv.send(false, ack));
    t += secUs(10) + net.rng.nextInt(500_000);
    n++;
  }
  net.timeline.addSeries(t, 300, conv.close());
}

// DICOM upper layer (PS3.8 section 9.3) and command sets (PS3.7).

const DICOM_APP_CONTEXT = '1.2.840.10008.3.1.1.1';
const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const VERIFICATION_SOP = '1.2.840.10008.1.1';
export const CT_IMAGE_SOP = '1.2.840.10008.5.1.4.1.1.2';
/** A UUID-derived root (ISO/IEC 9834-8, `2.25`) for the synthetic UIDs. */
const SYNTH_UID_ROOT = '2.25.171717171717171717171717';
const SYNTH_IMPL_VERSION = 'SYNTH_DICOM_01';

function aeTitle(name: string): Uint8Array {
  return textBytes(name.padEnd(16, ' ').slice(0, 16));
}

function dicomItem(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  put16(out, 2, body.length);
  out.set(body, 4);
  return out;
}

export function dicomPdu(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + body.length);
  out[0] = type;
  put32(out, 2, body.length);
  out.set(body, 6);
  return out;
}

function uidItem(type: number, uid: string): Uint8Array {
  return dicomItem(type, textBytes(uid));
}

function userInfoItem(): Uint8Array {
  const maxPdu = new Uint8Array(4);
  put32(maxPdu, 0, 16384);
  return dicomItem(
    0x50,
    concatBytes(
      dicomItem(0x51, maxPdu),
      uidItem(0x52, `${SYNTH_UID_ROOT}.1`),
      dicomItem(0x55, textBytes(SYNTH_IMPL_VERSION)),
    ),
  );
}

/** A-ASSOCIATE-RQ (type 1) or -AC (type 2) with one presentation context. */
export function dicomAssociate(
  isAccept: boolean,
  calling: string,
  called: string,
  abstractSyntax: string,
): Uint8Array {
  const fixed = new Uint8Array(68);
  put16(fixed, 0, 1);
  fixed.set(aeTitle(called), 4);
  fixed.set(aeTitle(calling), 20);
  const context = isAccept
    ? dicomItem(
        0x21,
        concatBytes(Uint8Array.of(1, 0, 0, 0), uidItem(0x40, IMPLICIT_VR_LE)),
      )
    : dicomItem(
        0x20,
        concatBytes(
          Uint8Array.of(1, 0, 0, 0),
          uidItem(0x30, abstractSyntax),
          uidItem(0x40, EXPLICIT_VR_LE),
          uidItem(0x40, IMPLICIT_VR_LE),
        ),
      );
  return dicomPdu(
    isAccept ? 2 : 1,
    concatBytes(
      fixed,
      uidItem(0x10, DICOM_APP_CONTEXT),
      context,
      userInfoItem(),
    ),
  );
}

/** One P-DATA-TF PDU with one PDV on presentation context 1. */
function dicomPData(
  isCommand: boolean,
  isLast: boolean,
  value: Uint8Array,
): Uint8Array {
  const pdv = new Uint8Array(6 + value.length);
  put32(pdv, 0, 2 + value.length);
  pdv[4] = 1;
  pdv[5] = (isCommand ? 1 : 0) | (isLast ? 2 : 0);
  pdv.set(value, 6);
  return dicomPdu(4, pdv);
}

/** An element in implicit VR little endian, padded to even length. */
function dicomElement(
  group: number,
  element: number,
  value: Uint8Array | string | number,
): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === 'number') {
    bytes = Uint8Array.of(value & 0xff, (value >>> 8) & 0xff);
  } else if (typeof value === 'string') {
    // UIDs pad with NUL, text with a space (PS3.5 section 6.2).
    const isUid = /^[0-9.]+$/.test(value);
    bytes = textBytes(
      value.length % 2 === 0 ? value : value + (isUid ? '\0' : ' '),
    );
  } else {
    bytes = value;
  }
  const out = new Uint8Array(8 + bytes.length);
  out[0] = group & 0xff;
  out[1] = group >>> 8;
  out[2] = element & 0xff;
  out[3] = element >>> 8;
  out[4] = bytes.length & 0xff;
  out[5] = (bytes.length >>> 8) & 0xff;
  out[6] = (bytes.length >>> 16) & 0xff;
  out[7] = bytes.length >>> 24;
  out.set(bytes, 8);
  return out;
}

/** A command set with its group length element first. */
function dicomCommand(elements: Uint8Array[]): Uint8Array {
  const body = concatBytes(...elements);
  const length = Uint8Array.of(
    body.length & 0xff,
    (body.length >>> 8) & 0xff,
    (body.length >>> 16) & 0xff,
    body.length >>> 24,
  );
  return concatBytes(dicomElement(0, 0, length), body);
}

/** One association from `host` to the PACS: C-ECHO, or C-STORE of an image. */
function sampleDicom(
  net: HospitalNet,
  host: Host,
  startUs: number,
  calling: string,
  imageBytes: number,
  instance: number,
): void {
  const sop = imageBytes > 0 ? CT_IMAGE_SOP : VERIFICATION_SOP;
  const conv = net.tcp(host, PACS_IP, 104);
  let t = net.timeline.addSeries(startUs, 250, conv.handshake());
  const send = (isClient: boolean, pdu: Uint8Array, delayUs = 0): void => {
    t = net.timeline.addSeries(t + delayUs, 250, conv.send(isClient, pdu));
  };
  send(true, dicomAssociate(false, calling, 'SYNTH-PACS', sop));
  send(false, dicomAssociate(true, calling, 'SYNTH-PACS', sop), 2000);
  for (const pdu of dicomRequestPdus(imageBytes, instance)) send(true, pdu);
  send(false, dicomResponsePdu(imageBytes, instance), 5000);
  send(true, dicomPdu(5, new Uint8Array(4)));
  send(false, dicomPdu(6, new Uint8Array(4)), 1000);
  net.timeline.addSeries(t, 250, conv.close());
}

function instanceUid(instance: number): string {
  return `${SYNTH_UID_ROOT}.2.${instance}`;
}

/**
 * C-ECHO-RQ, or C-STORE-RQ and its data set in P-DATA PDUs within the
 * 16384-byte maximum both sides announced.
 */
export function dicomRequestPdus(
  imageBytes: number,
  instance: number,
): Uint8Array[] {
  if (imageBytes === 0) {
    const echo = dicomCommand([
      dicomElement(0, 0x0002, VERIFICATION_SOP),
      dicomElement(0, 0x0100, 0x0030),
      dicomElement(0, 0x0110, instance),
      dicomElement(0, 0x0800, 0x0101),
    ]);
    return [dicomPData(true, true, echo)];
  }
  const uid = instanceUid(instance);
  const command = dicomCommand([
    dicomElement(0, 0x0002, CT_IMAGE_SOP),
    dicomElement(0, 0x0100, 0x0001),
    dicomElement(0, 0x0110, instance),
    dicomElement(0, 0x0700, 0),
    dicomElement(0, 0x0800, 0x0000),
    dicomElement(0, 0x1000, uid),
  ]);
  const pixels = synthetic(imageBytes, 'SYNTHETIC-PIXEL-DATA ');
  const dataset = concatBytes(
    dicomElement(0x0008, 0x0016, CT_IMAGE_SOP),
    dicomElement(0x0008, 0x0018, uid),
    dicomElement(0x0008, 0x0060, 'CT'),
    dicomElement(0x0010, 0x0010, 'TEST^SYNTHETIC'),
    dicomElement(0x0010, 0x0020, 'SYNTH-PAT-0001'),
    dicomElement(0x7fe0, 0x0010, pixels),
  );
  const pdus = [dicomPData(true, true, command)];
  for (let off = 0; off < dataset.length; off += 16000) {
    const end = Math.min(dataset.length, off + 16000);
    const isLast = end === dataset.length;
    pdus.push(dicomPData(false, isLast, dataset.subarray(off, end)));
  }
  return pdus;
}

/** C-STORE-RSP or C-ECHO-RSP with status success. */
export function dicomResponsePdu(
  imageBytes: number,
  instance: number,
): Uint8Array {
  const isStore = imageBytes > 0;
  const response = dicomCommand([
    dicomElement(0, 0x0002, isStore ? CT_IMAGE_SOP : VERIFICATION_SOP),
    dicomElement(0, 0x0100, isStore ? 0x8001 : 0x8030),
    dicomElement(0, 0x0120, instance),
    dicomElement(0, 0x0800, 0x0101),
    dicomElement(0, 0x0900, 0x0000),
    ...(isStore ? [dicomElement(0, 0x1000, instanceUid(instance))] : []),
  ]);
  return dicomPData(true, true, response);
}

/** A TLS 1.3 session: hellos, then records of marker bytes both ways. */
function sampleHttps(
  net: HospitalNet,
  host: Host,
  startUs: number,
  serverName: string,
  responseBytes: number,
): void {
  const serverIp = DNS_ZONE[serverName];
  sampleDns(net, host, startUs, serverName);
  const conv = net.tcp(host, serverIp, 443);
  const sessionId = net.rng.bytes(32);
  let t = net.timeline.addSeries(startUs + 5000, 9000, conv.handshake());
  const hello = tlsClientHello({
    serverName,
    random: net.rng.bytes(32),
    sessionId,
    cipherSuites:
      host.stack === 'windows'
        ? [
            0x1302, 0x1301, 0xc02c, 0xc02b, 0xc030, 0xc02f, 0xc024, 0xc023,
            0x009d, 0x009c,
          ]
        : [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c,
            0xc030, 0x009c, 0x002f,
          ],
    groups: [0x001d, 0x0017, 0x0018],
    signatureAlgorithms: [
      0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ],
    alpn: ['h2', 'http/1.1'],
    versions: [0x0304, 0x0303],
    keyShare: net.rng.bytes(32),
  });
  t = net.timeline.addSeries(t, 9000, conv.send(true, hello));
  const serverFlight = concatBytes(
    tlsServerHello({
      random: net.rng.bytes(32),
      sessionId,
      cipherSuite: 0x1301,
      keyShare: net.rng.bytes(32),
    }),
    tlsRecord(20, Uint8Array.of(1)),
    tlsRecord(23, synthetic(2400, 'SYNTHETIC-TLS-RECORD ')),
  );
  t = net.timeline.addSeries(t + 9000, 150, conv.send(false, serverFlight));
  const clientFlight = concatBytes(
    tlsRecord(20, Uint8Array.of(1)),
    tlsRecord(23, synthetic(80, 'SYNTHETIC-TLS-RECORD ')),
    tlsRecord(23, synthetic(420, 'SYNTHETIC-TLS-RECORD ')),
  );
  t = net.timeline.addSeries(t + 2000, 150, conv.send(true, clientFlight));
  for (let sent = 0; sent < responseBytes; sent += 16384) {
    const recordBytes = Math.min(16384, responseBytes - sent);
    t = net.timeline.addSeries(
      t + 500,
      120,
      conv.send(
        false,
        tlsRecord(23, synthetic(recordBytes, 'SYNTHETIC-TLS-RECORD ')),
      ),
    );
  }
  net.timeline.addSeries(t + 30_000, 9000, conv.close());
}

/** mDNS (RFC 6762): the printer announces its IPP service; others ask. */
function sampleMdns(net: HospitalNet, printer: Host, askers: Host[]): void {
  const announce = printerAnnouncement(printer);
  const group = '224.0.0.251';
  for (const sec of [3, 4, 6, 300]) {
    net.timeline.add(
      secUs(sec),
      net.udpFrame(printer, group, true, 5353, 5353, announce),
    );
  }
  const query = dnsMessage({
    id: 0,
    flags: 0,
    questions: [{ name: '_ipp._tcp.local', type: DnsType.Ptr }],
  });
  askers.forEach((host, i) => {
    const t = secUs(40 + i * 37);
    net.timeline.add(t, net.udpFrame(host, group, true, 5353, 5353, query));
    if (host.linkLocal !== undefined) {
      net.timeline.add(t + 50, mdnsIpv6Frame(host, host.linkLocal, query));
    }
    net.timeline.add(
      t + 120_000,
      net.udpFrame(printer, group, true, 5353, 5353, announce),
    );
  });
}

/** PTR, SRV, TXT and A records of the printer's IPP service. */
export function printerAnnouncement(printer: Host): Uint8Array {
  const service = '_ipp._tcp.local';
  const instance = `${printer.name}._ipp._tcp.local`;
  const target = `${printer.name.toLowerCase()}.local`;
  // SRV: priority 0, weight 0, port 631, then the target name.
  const srv = concatBytes(Uint8Array.of(0, 0, 0, 0, 2, 0x77), dnsName(target));
  const strings = ['txtvers=1', 'ty=Synthetic Printer 1', 'note=test data'];
  const txt = concatBytes(
    ...strings.map((s) => concatBytes(Uint8Array.of(s.length), textBytes(s))),
  );
  // Class 0x8001: IN with the cache-flush bit of unique records.
  const flush = 0x8001;
  return dnsMessage({
    id: 0,
    flags: 0x8400,
    answers: [
      {
        name: service,
        type: DnsType.Ptr,
        ttlSec: 4500,
        data: dnsName(instance),
      },
      {
        name: instance,
        type: DnsType.Srv,
        class: flush,
        ttlSec: 120,
        data: srv,
      },
      {
        name: instance,
        type: DnsType.Txt,
        class: flush,
        ttlSec: 4500,
        data: txt,
      },
      {
        name: target,
        type: DnsType.A,
        class: flush,
        ttlSec: 120,
        data: ipBytes(printer.ip),
      },
    ],
  });
}

function mdnsIpv6Frame(host: Host, linkLocal: string, query: Uint8Array) {
  const ip = ipv6Packet(
    { src: linkLocal, dst: 'ff02::fb', nextHeader: IpProto.Udp, hopLimit: 255 },
    udpDatagram({ srcPort: 5353, dstPort: 5353 }, query),
  );
  return ethernetFrame(
    {
      dst: ipv6MulticastMac('ff02::fb'),
      src: host.mac,
      etherType: EtherType.Ipv6,
      tags: [{ vid: host.vlan }],
    },
    ip,
  );
}

/** SSDP (UPnP device architecture 2.0): searches and the printer's NOTIFY. */
function sampleSsdp(net: HospitalNet, printer: Host, searchers: Host[]): void {
  const notify = (nt: string) =>
    textBytes(
      [
        'NOTIFY * HTTP/1.1',
        'HOST: 239.255.255.250:1900',
        'CACHE-CONTROL: max-age=1800',
        `LOCATION: http://${printer.ip}:80/synthetic-device.xml`,
        `NT: ${nt}`,
        'NTS: ssdp:alive',
        'SERVER: SyntheticOS/1.0 UPnP/1.0 SYNTH-PRN-01/1.0',
        `USN: uuid:5359e454-4845-5449-4300-000000000001::${nt}`,
        '',
        '',
      ].join('\r\n'),
    );
  for (let sec = 8; sec < SAMPLE_DURATION_SEC; sec += 120) {
    for (const nt of [
      'upnp:rootdevice',
      'urn:schemas-upnp-org:device:Printer:1',
    ]) {
      net.timeline.add(
        secUs(sec),
        net.udpFrame(printer, '239.255.255.250', true, 1900, 1900, notify(nt)),
      );
    }
  }
  const search = textBytes(
    [
      'M-SEARCH * HTTP/1.1',
      'HOST: 239.255.255.250:1900',
      'MAN: "ssdp:discover"',
      'MX: 1',
      'ST: ssdp:all',
      'USER-AGENT: SyntheticOS/1.0 UPnP/1.1 synthetic-test/0.1',
      '',
      '',
    ].join('\r\n'),
  );
  searchers.forEach((host, i) => {
    const port = net.ephemeralPort(host);
    for (let k = 0; k < 3; k++) {
      net.timeline.add(
        secUs(25 + i * 50) + k * 1_000_000,
        net.udpFrame(host, '239.255.255.250', true, port, 1900, search),
      );
    }
  });
}

/** An ICMPv6 ND message with hop limit 255 (RFC 4861), tagged with `vlan`. */
function ndFrame(
  vlan: number | undefined,
  src: Address,
  dst: Address,
  srcMac: string,
  body: Uint8Array,
  dstMac: Address = ipv6MulticastMac(dst),
): Uint8Array {
  return ethernetFrame(
    {
      dst: dstMac,
      src: srcMac,
      etherType: EtherType.Ipv6,
      tags: vlan === undefined ? [] : [{ vid: vlan }],
    },
    ipv6Packet({ src, dst, nextHeader: IpProto.Icmpv6, hopLimit: 255 }, body),
  );
}

const ROUTER_LL = 'fe80::1';

/** IPv6 on the workstation VLAN: router adverts, then per host DAD, RS, NS. */
function sampleIpv6Nd(net: HospitalNet, hosts: Host[]): void {
  const vlan = 30;
  const routerMac = gatewayMac(vlan);
  const ra = icmpv6RouterAdvertisement({
    routerLifetimeSec: 1800,
    isOtherConfig: true,
    sourceLinkAddr: routerMac,
    mtuBytes: 1500,
    prefixes: [
      {
        prefix: '2001:db8:30::',
        prefixBits: 64,
        validLifetimeSec: 2592000,
        preferredLifetimeSec: 604800,
      },
    ],
  });
  const advert = ndFrame(vlan, ROUTER_LL, 'ff02::1', routerMac, ra);
  for (let sec = 1; sec < SAMPLE_DURATION_SEC; sec += 200) {
    net.timeline.add(secUs(sec), advert);
  }
  hosts.forEach((host, i) => {
    if (host.linkLocal === undefined) return;
    const t = secUs(12 + i * 7);
    const frames = hostNdFrames(host, host.linkLocal, routerMac);
    net.timeline.add(t, frames[0]);
    net.timeline.add(t + 1_000_000, frames[1]);
    net.timeline.add(t + 1_004_000, advert);
    net.timeline.add(t + 2_000_000, frames[2]);
    net.timeline.add(t + 2_000_500, frames[3]);
  });
}

/** DAD for `ll`, a router solicitation, then the router's address resolved. */
function hostNdFrames(host: Host, ll: string, routerMac: string) {
  const vlan = host.vlan;
  const ownSnm = solicitedNodeAddress(ll);
  const routerSnm = solicitedNodeAddress(ROUTER_LL);
  const na = icmpv6NeighbourAdvertisement({
    target: ROUTER_LL,
    isRouter: true,
    isSolicited: true,
    isOverride: true,
    targetLinkAddr: routerMac,
  });
  return [
    ndFrame(
      vlan,
      '::',
      ownSnm,
      host.mac,
      icmpv6NeighbourSolicitation({ target: ll }),
    ),
    ndFrame(
      vlan,
      ll,
      'ff02::2',
      host.mac,
      icmpv6RouterSolicitation({ sourceLinkAddr: host.mac }),
    ),
    ndFrame(
      vlan,
      ll,
      routerSnm,
      host.mac,
      icmpv6NeighbourSolicitation({
        target: ROUTER_LL,
        sourceLinkAddr: host.mac,
      }),
    ),
    ndFrame(vlan, ROUTER_LL, ll, routerMac, na, host.mac),
  ];
}

/** The NMS pings clinical devices every two minutes. */
function samplePings(net: HospitalNet, hosts: Host[]): void {
  let seq = 1;
  for (let sec = 30; sec < SAMPLE_DURATION_SEC; sec += 120) {
    hosts.forEach((host, i) => {
      const t = secUs(sec) + i * 20_000;
      const payload = synthetic(32, 'SYNTH-NMS-PING ');
      const request = icmpEcho({ isReply: false, id: 0x4e4d, seq }, payload);
      const reply = icmpEcho({ isReply: true, id: 0x4e4d, seq }, payload);
      net.timeline.add(
        t,
        net.ipFrame(host, NMS_IP, false, IpProto.Icmp, request),
      );
      net.timeline.add(
        t + 450,
        net.ipFrame(host, NMS_IP, true, IpProto.Icmp, reply),
      );
      seq++;
    });
  }
}

function makeHospitalSample(dir: string): number {
  const rng = new SeededRng(SAMPLE_SEED);
  const timeline = new Timeline();
  const net = new HospitalNet(makeHosts(), rng, timeline);
  sampleLldp(net);
  const ready = sampleAddressing(net);
  const readyUs = (h: Host) => ready.get(h) ?? 0;
  sampleClinical(net, readyUs);
  sampleOffice(net, readyUs);
  timeline.write(join(dir, 'hospital-sample.pcap'));
  return timeline.frameCount;
}

/**
 * DHCP for dynamic hosts, a gratuitous ARP for static ones, then ARP
 * traffic; returns when each host is ready to talk.
 */
function sampleAddressing(net: HospitalNet): Map<Host, number> {
  let dhcpUs = secUs(1);
  const ready = new Map<Host, number>();
  for (const host of net.devices) {
    let doneUs = 0;
    if (host.dhcp === undefined) {
      doneUs = secUs(1) + net.rng.nextInt(500_000);
      net.timeline.add(
        doneUs,
        arpFrameOf(
          host,
          ArpOp.Request,
          host.ip,
          ZERO_MAC,
          host.ip,
          BROADCAST_MAC,
        ),
      );
    } else {
      doneUs = sampleDhcp(net, host, dhcpUs);
      dhcpUs += secUs(2) + net.rng.nextInt(1_000_000);
    }
    sampleArp(net, host, doneUs + 10_000);
    ready.set(host, doneUs + 50_000);
  }
  return ready;
}

/** Monitors, pumps and imaging: HL7, DICOM, NTP, syslog, pings. */
function sampleClinical(net: HospitalNet, readyUs: (h: Host) => number): void {
  const monitors = net.devices.filter((h) => h.name.startsWith('SYNTH-MON'));
  const pumps = net.devices.filter((h) => h.name.startsWith('SYNTH-PUMP'));
  const ct = net.find('SYNTH-CT-01');
  const us = net.find('SYNTH-US-01');
  const imagingWs = net.find('SYNTH-WS-IMG-01');
  monitors.forEach((m, i) => {
    sampleDns(net, m, readyUs(m), 'hl7.hospital.example');
    sampleDns(net, m, readyUs(m) + 3000, 'ntp.hospital.example');
    sampleHl7(net, m, readyUs(m) + 20_000, i + 1);
    sampleNtp(net, m, readyUs(m) + 50_000);
  });
  pumps.forEach((p) => {
    sampleNtp(net, p, readyUs(p) + 10_000);
    sampleSyslog(net, p, readyUs(p) + 200_000, 20);
  });
  sampleSyslog(net, ct, secUs(5), 45);
  sampleNtp(net, ct, secUs(3));
  sampleDns(net, ct, secUs(119), 'pacs.hospital.example');
  sampleDicom(net, ct, secUs(120), 'SYNTH-CT-01', 150_000, 1);
  sampleDicom(net, ct, secUs(400), 'SYNTH-CT-01', 120_000, 2);
  sampleDicom(net, us, readyUs(us) + secUs(30), 'SYNTH-US-01', 0, 3);
  sampleDicom(net, imagingWs, secUs(250), 'SYNTH-WS-IMG-01', 0, 4);
  sampleHttps(net, us, secUs(330), 'telemetry.synthetic-vendor.example', 3000);
  samplePings(net, [...monitors, ...pumps]);
}

/** Workstations, printer and phone: DNS, HTTPS, mDNS, SSDP, IPv6 ND. */
function sampleOffice(net: HospitalNet, readyUs: (h: Host) => number): void {
  const workstations = net.devices.filter(
    (h) => h.vlan === 30 && h.name.startsWith('SYNTH-WS'),
  );
  const printer = net.find('SYNTH-PRN-01');
  const phone = net.find('SYNTH-PHONE-01');
  const names = Object.keys(DNS_ZONE);
  workstations.forEach((ws, i) => {
    for (let k = 0; k < 6; k++) {
      const t = readyUs(ws) + secUs(15 + k * 70 + i * 3);
      sampleDns(net, ws, t, names[(i + k) % names.length]);
    }
    const unknown = 'unknown-host.hospital.example';
    sampleDns(net, ws, readyUs(ws) + secUs(200), unknown);
    const updateBytes = 30_000 + i * 10_000;
    const updates = 'updates.synthetic-vendor.example';
    sampleHttps(net, ws, secUs(60 + i * 90), updates, updateBytes);
    const portal = 'portal.synthetic-cloud.example';
    sampleHttps(net, ws, secUs(200 + i * 80), portal, 12_000);
  });
  sampleHttps(net, phone, secUs(150), 'portal.synthetic-cloud.example', 8000);
  sampleMdns(net, printer, [...workstations, phone]);
  sampleSsdp(net, printer, workstations);
  sampleIpv6Nd(net, [...workstations, phone]);
}

// ---------------------------------------------------------------------------
// Entry point

/** Write every fixture into `dir`; returns file names and sizes in bytes. */
export function makeFixtures(dir: string): Array<[string, number]> {
  mkdirSync(dir, { recursive: true });
  makeQinq(dir);
  makeVlanMixed(dir);
  makeIpv6ExtChains(dir);
  makeFragments(dir);
  makeTruncated(dir);
  makeTcpOptions(dir);
  makeSll(dir);
  makeSll2(dir);
  makeNullLoopback(dir);
  makeRawIp(dir);
  makeMixedVariants(dir);
  makeMultiInterface(dir);
  makeArpIcmp(dir);
  makeHospitalSample(dir);
  return FIXTURE_NAMES.map((name) => [name, statSync(join(dir, name)).size]);
}

/** Every file `makeFixtures` writes. */
export const FIXTURE_NAMES: readonly string[] = [
  'qinq.pcap',
  'vlan-mixed.pcap',
  'ipv6-ext-chains.pcap',
  'fragments.pcap',
  'truncated.pcap',
  'tcp-options.pcap',
  'sll.pcap',
  'sll2.pcap',
  'null-loopback.pcap',
  'null-loopback-be.pcap',
  'loop.pcap',
  'raw-ip.pcap',
  'raw-ipv4.pcap',
  'raw-ipv6.pcap',
  'mixed-le-us.pcap',
  'mixed-le-ns.pcap',
  'mixed-be-us.pcap',
  'mixed-be-ns.pcap',
  'multi-interface.pcapng',
  'multi-interface-be.pcapng',
  'arp-icmp.pcap',
  'hospital-sample.pcap',
];

const isMain =
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const defaultDir = fileURLToPath(
    new URL('../../test/fixtures/generated/', import.meta.url),
  );
  const dir = resolve(process.argv[2] ?? defaultDir);
  for (const [name, bytes] of makeFixtures(dir)) {
    console.log(`${String(bytes).padStart(9)}  ${join(dir, name)}`);
  }
}
