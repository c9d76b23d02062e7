/**
 * Builders of frame bytes for fixtures and tests: link, network and transport
 * headers with correct lengths and checksums, a few application payloads
 * that identify devices, and a seeded PRNG for the generators.
 */
import { TcpFlag } from '../../src/decode/packet.js';

/** TCP flag bits, shared with the decoder so both sides use one table. */
export { TcpFlag };

/** EtherType values (IEEE 802 numbers registry). */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  /** 802.1Q customer VLAN tag. */
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  /** 802.1ad service VLAN tag (QinQ outer). */
  QinQ: 0x88a8,
  Lldp: 0x88cc,
  /** Pre-standard QinQ outer tag some switches still send. */
  QinQLegacy: 0x9100,
} as const;

/** IP protocol and IPv6 next-header numbers (IANA protocol numbers). */
export const IpProto = {
  HopByHop: 0,
  Icmp: 1,
  Tcp: 6,
  Udp: 17,
  Routing: 43,
  Fragment: 44,
  Icmpv6: 58,
  NoNext: 59,
  DestinationOptions: 60,
} as const;

/** BSD address families seen in DLT_NULL / LINKTYPE_LOOP headers. */
export const BsdAddressFamily = {
  Inet: 2,
  /** NetBSD, OpenBSD and BSD/OS. */
  Inet6Bsd: 24,
  FreeBsdInet6: 28,
  DarwinInet6: 30,
} as const;

/** Linux cooked-capture packet types (`PACKET_*` in linux/if_packet.h). */
export const SllPacketType = {
  Host: 0,
  Broadcast: 1,
  Multicast: 2,
  OtherHost: 3,
  Outgoing: 4,
} as const;

/** A MAC or IP address as text or as its network-order bytes. */
export type Address = string | Uint8Array;

const ETHERNET_HDR_BYTES = 14;
const VLAN_TAG_BYTES = 4;
/** Minimum Ethernet frame without the FCS, which captures leave out. */
const ETHERNET_MIN_FRAME_BYTES = 60;
const IPV4_HDR_BYTES = 20;
const IPV6_HDR_BYTES = 40;
const TCP_HDR_BYTES = 20;
const UDP_HDR_BYTES = 8;
const TCP_MAX_OPTION_BYTES = 40;

// ---------------------------------------------------------------------------
// Addresses and byte helpers

/** Parse `aa:bb:cc:dd:ee:ff` (or with dashes) into 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) throw new RangeError(`bad MAC ${text}`);
  return Uint8Array.from(parts, (p) => parseHexByte(p, text));
}

/** Parse dotted-quad IPv4 text into 4 network-order bytes. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new RangeError(`bad IPv4 ${text}`);
  return Uint8Array.from(parts, (p) => {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) {
      throw new RangeError(`bad IPv4 ${text}`);
    }
    return n;
  });
}

/** Parse IPv6 text (RFC 4291 section 2.2, with `::` and a dotted tail). */
export function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let head = text;
  let tail = '';
  const gap = text.indexOf('::');
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const headWords = parseIpv6Words(head, text);
  const tailWords = parseIpv6Words(tail, text);
  const total = headWords.length + tailWords.length;
  if (gap < 0 ? total !== 8 : total > 7) {
    throw new RangeError(`bad IPv6 ${text}`);
  }
  headWords.forEach((w, i) => put16(out, i * 2, w));
  tailWords.forEach((w, i) => put16(out, 16 - (tailWords.length - i) * 2, w));
  return out;
}

function parseIpv6Words(part: string, text: string): number[] {
  if (part === '') return [];
  const words: number[] = [];
  const groups = part.split(':');
  groups.forEach((g, i) => {
    if (i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g);
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      return;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new RangeError(`bad IPv6 ${text}`);
    words.push(parseInt(g, 16));
  });
  return words;
}

function parseHexByte(part: string, text: string): number {
  if (!/^[0-9a-fA-F]{1,2}$/.test(part)) throw new RangeError(`bad MAC ${text}`);
  return parseInt(part, 16);
}

/** MAC bytes from text or bytes (6 bytes expected). */
export function macBytes(mac: Address): Uint8Array {
  return typeof mac === 'string' ? parseMac(mac) : mac;
}

/** IP address bytes: 4 for dotted text, 16 for IPv6 text. */
export function ipBytes(ip: Address): Uint8Array {
  if (typeof ip !== 'string') return ip;
  return ip.includes(':') ? parseIpv6(ip) : parseIpv4(ip);
}

/** Concatenate byte arrays into a new one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** ASCII/UTF-8 bytes of a string. */
export function textBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** Write a big-endian 16-bit value. */
export function put16(b: Uint8Array, off: number, value: number): void {
  b[off] = (value >>> 8) & 0xff;
  b[off + 1] = value & 0xff;
}

/** Write a big-endian 32-bit value. */
export function put32(b: Uint8Array, off: number, value: number): void {
  b[off] = (value >>> 24) & 0xff;
  b[off + 1] = (value >>> 16) & 0xff;
  b[off + 2] = (value >>> 8) & 0xff;
  b[off + 3] = value & 0xff;
}

// ---------------------------------------------------------------------------
// Checksums (RFC 1071)

/**
 * Add the big-endian 16-bit words of `b[off, end)` to `sum` without folding;
 * an odd last byte counts as the high byte of a word. Chunks summed one after
 * another must all have even lengths except the last.
 */
export function sumWords(
  b: Uint8Array,
  off: number,
  end: number,
  sum = 0,
): number {
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

/** Fold a word sum to 16 bits and complement it: the Internet checksum. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Internet checksum of `b[off, end)`. */
export function internetChecksum(
  b: Uint8Array,
  off = 0,
  end = b.length,
): number {
  return foldChecksum(sumWords(b, off, end));
}

/**
 * Word sum of the TCP/UDP/ICMPv6 pseudo-header: RFC 9293 section 3.1 for
 * IPv4 (addresses, protocol, length) and RFC 8200 section 8.1 for IPv6.
 */
export function pseudoHeaderSum(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  l4Bytes: number,
): number {
  let sum = sumWords(src, 0, src.length);
  sum = sumWords(dst, 0, dst.length, sum);
  return sum + protocol + (l4Bytes >>> 16) + (l4Bytes & 0xffff);
}

/**
 * Fill the checksum of a whole TCP, UDP, ICMP or ICMPv6 message in place,
 * given the addresses of its pseudo-header. Other protocols are left alone.
 */
export function fillL4Checksum(
  protocol: number,
  l4: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
): void {
  const at = l4ChecksumOffset(protocol);
  if (at < 0 || l4.length < at + 2) return;
  put16(l4, at, 0);
  const base =
    protocol === IpProto.Icmp
      ? 0
      : pseudoHeaderSum(src, dst, protocol, l4.length);
  let checksum = foldChecksum(sumWords(l4, 0, l4.length, base));
  // A computed UDP checksum of 0 is sent as all ones (RFC 768).
  if (protocol === IpProto.Udp && checksum === 0) checksum = 0xffff;
  put16(l4, at, checksum);
}

function l4ChecksumOffset(protocol: number): number {
  if (protocol === IpProto.Tcp) return 16;
  if (protocol === IpProto.Udp) return 6;
  if (protocol === IpProto.Icmp || protocol === IpProto.Icmpv6) return 2;
  return -1;
}

// ---------------------------------------------------------------------------
// Link layers

/** One VLAN tag: TPID, priority code point, drop-eligible bit and VLAN id. */
export interface VlanTag {
  /** Tag protocol id: 0x8100 (802.1Q, default), 0x88a8 (802.1ad), 0x9100. */
  tpid?: number;
  vid: number;
  pcp?: number;
  isDropEligible?: boolean;
}

/** An Ethernet II header with optional VLAN tags, outermost first. */
export interface EthernetSpec {
  dst: Address;
  src: Address;
  etherType: number;
  tags?: VlanTag[];
  /**
   * Pad to the 60-byte minimum as a NIC would (default true); trailing
   * padding is what decoders must ignore by trusting the IP length.
   */
  isPadded?: boolean;
}

/** Ethernet II frame (IEEE 802.3 clause 3) with 802.1Q/802.1ad tags. */
export function ethernetFrame(
  spec: EthernetSpec,
  payload: Uint8Array,
): Uint8Array {
  const tags = spec.tags ?? [];
  const hdrBytes = ETHERNET_HDR_BYTES + tags.length * VLAN_TAG_BYTES;
  const isPadded = spec.isPadded ?? true;
  const frameBytes = isPadded
    ? Math.max(ETHERNET_MIN_FRAME_BYTES, hdrBytes + payload.length)
    : hdrBytes + payload.length;
  const out = new Uint8Array(frameBytes);
  out.set(macBytes(spec.dst), 0);
  out.set(macBytes(spec.src), 6);

  let off = 12;
  for (const tag of tags) {
    put16(out, off, tag.tpid ?? EtherType.Vlan);
    const tci =
      ((tag.pcp ?? 0) << 13) |
      (tag.isDropEligible ? 0x1000 : 0) |
      (tag.vid & 0x0fff);
    put16(out, off + 2, tci);
    off += VLAN_TAG_BYTES;
  }
  put16(out, off, spec.etherType);
  out.set(payload, off + 2);
  return out;
}

/** ARP operation codes (RFC 826; IANA ARP parameters). */
export const ArpOp = { Request: 1, Reply: 2 } as const;

/** An ARP message for Ethernet hardware and IPv4 protocol addresses. */
export interface ArpSpec {
  op: number;
  senderMac: Address;
  senderIp: Address;
  /** All zeros in a request. */
  targetMac: Address;
  targetIp: Address;
}

/** The 28-byte ARP body (RFC 826) for Ethernet/IPv4. */
export function arpPacket(spec: ArpSpec): Uint8Array {
  const out = new Uint8Array(28);
  put16(out, 0, 1);
  put16(out, 2, EtherType.Ipv4);
  out[4] = 6;
  out[5] = 4;
  put16(out, 6, spec.op);
  out.set(macBytes(spec.senderMac), 8);
  out.set(ipBytes(spec.senderIp), 14);
  out.set(macBytes(spec.targetMac), 18);
  out.set(ipBytes(spec.targetIp), 24);
  return out;
}

/** A Linux cooked-capture v1 header (LINKTYPE_LINUX_SLL, 113). */
export interface SllSpec {
  packetType: number;
  /** ARPHRD_* of the device; 1 (Ethernet) by default. */
  arphrdType?: number;
  /** Link-layer source address, up to 8 bytes. */
  linkAddr: Address;
  /** EtherType of the payload. */
  protocol: number;
}

/** Linux cooked v1 frame: the 16-byte SLL header, all fields big-endian. */
export function linuxSllFrame(spec: SllSpec, payload: Uint8Array): Uint8Array {
  const addr = macBytes(spec.linkAddr);
  const out = new Uint8Array(16 + payload.length);
  put16(out, 0, spec.packetType);
  put16(out, 2, spec.arphrdType ?? 1);
  put16(out, 4, addr.length);
  out.set(addr.subarray(0, 8), 6);
  put16(out, 14, spec.protocol);
  out.set(payload, 16);
  return out;
}

/** A Linux cooked-capture v2 header (LINKTYPE_LINUX_SLL2, 276). */
export interface Sll2Spec extends SllSpec {
  /** Interface index on the capturing host. */
  interfaceIndex: number;
}

/** Linux cooked v2 frame: the 20-byte SLL2 header, all fields big-endian. */
export function linuxSll2Frame(
  spec: Sll2Spec,
  payload: Uint8Array,
): Uint8Array {
  const addr = macBytes(spec.linkAddr);
  const out = new Uint8Array(20 + payload.length);
  put16(out, 0, spec.protocol);
  put32(out, 4, spec.interfaceIndex);
  put16(out, 8, spec.arphrdType ?? 1);
  out[10] = spec.packetType;
  out[11] = addr.length;
  out.set(addr.subarray(0, 8), 12);
  out.set(payload, 20);
  return out;
}

/**
 * BSD loopback frame: a 4-byte address family, in the capturing host's byte
 * order for LINKTYPE_NULL (0) and always big-endian for LINKTYPE_LOOP (108).
 */
export function nullLoopbackFrame(
  family: number,
  payload: Uint8Array,
  isLittleEndian = true,
): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  if (isLittleEndian) {
    out[0] = family & 0xff;
    out[1] = (family >>> 8) & 0xff;
    out[2] = (family >>> 16) & 0xff;
    out[3] = (family >>> 24) & 0xff;
  } else {
    put32(out, 0, family);
  }
  out.set(payload, 4);
  return out;
}

/** Raw IP frame (LINKTYPE_RAW, 101): the IP packet with no link header. */
export function rawIpFrame(ipPacket: Uint8Array): Uint8Array {
  return ipPacket;
}

// ---------------------------------------------------------------------------
// IPv4 (RFC 791)

/** IPv4 header fields; the overrides exist to build malformed headers. */
export interface Ipv4Spec {
  src: Address;
  dst: Address;
  protocol: number;
  ttl?: number;
  id?: number;
  /** DSCP and ECN byte. */
  tos?: number;
  isDontFragment?: boolean;
  isMoreFragments?: boolean;
  /** Offset of this fragment's data in the datagram; a multiple of 8. */
  fragmentOffsetBytes?: number;
  /** Options, one array per option; padded with end-of-list to 4 bytes. */
  options?: Uint8Array[];
  /** Version nibble to write instead of 4. */
  version?: number;
  /** Header length field (32-bit words) to write instead of the real one. */
  ihlWords?: number;
  /** Total length field to write instead of the real one. */
  totalBytes?: number;
  /** Header checksum to write instead of the computed one. */
  headerChecksum?: number;
  /**
   * Fill the TCP/UDP/ICMP checksum of the payload; defaults to true for an
   * unfragmented packet, the only case where the payload is whole.
   */
  isL4ChecksumFilled?: boolean;
}

/** Router alert option (RFC 2113), copied into fragments. */
export function ipv4RouterAlertOption(): Uint8Array {
  return Uint8Array.of(0x94, 4, 0, 0);
}

/** Record route option (RFC 791) with room for `slots` addresses. */
export function ipv4RecordRouteOption(slots: number): Uint8Array {
  const out = new Uint8Array(3 + slots * 4);
  out[0] = 7;
  out[1] = out.length;
  out[2] = 4;
  return out;
}

/** An IPv4 packet with header checksum; the payload is copied. */
export function ipv4Packet(spec: Ipv4Spec, payload: Uint8Array): Uint8Array {
  const options = concatBytes(...(spec.options ?? []));
  const optionBytes = (options.length + 3) & ~3;
  const hdrBytes = IPV4_HDR_BYTES + optionBytes;
  const out = new Uint8Array(hdrBytes + payload.length);
  const src = ipBytes(spec.src);
  const dst = ipBytes(spec.dst);
  const offsetBytes = spec.fragmentOffsetBytes ?? 0;
  if (offsetBytes % 8 !== 0) {
    throw new RangeError('fragment offset must be a multiple of 8 bytes');
  }

  out[0] = ((spec.version ?? 4) << 4) | ((spec.ihlWords ?? hdrBytes / 4) & 15);
  out[1] = spec.tos ?? 0;
  put16(out, 2, spec.totalBytes ?? out.length);
  put16(out, 4, spec.id ?? 0);
  const flags =
    (spec.isDontFragment ? 0x4000 : 0) | (spec.isMoreFragments ? 0x2000 : 0);
  put16(out, 6, flags | (offsetBytes / 8));
  out[8] = spec.ttl ?? 64;
  out[9] = spec.protocol;
  out.set(src, 12);
  out.set(dst, 16);
  out.set(options, 20);
  put16(out, 10, spec.headerChecksum ?? internetChecksum(out, 0, hdrBytes));

  out.set(payload, hdrBytes);
  const isWhole = offsetBytes === 0 && !spec.isMoreFragments;
  if (spec.isL4ChecksumFilled ?? isWhole) {
    fillL4Checksum(spec.protocol, out.subarray(hdrBytes), src, dst);
  }
  return out;
}

/**
 * Split a whole transport message into IPv4 fragments of at most
 * `maxFragmentBytes` of data each (rounded down to 8), after filling its
 * checksum. Only options with the copied bit go into later fragments.
 */
export function fragmentIpv4(
  spec: Ipv4Spec,
  l4: Uint8Array,
  maxFragmentBytes: number,
): Uint8Array[] {
  const whole = Uint8Array.from(l4);
  fillL4Checksum(spec.protocol, whole, ipBytes(spec.src), ipBytes(spec.dst));
  const stepBytes = maxFragmentBytes & ~7;
  if (stepBytes <= 0) throw new RangeError('fragments need 8 data bytes');
  const copied = (spec.options ?? []).filter((o) => (o[0] & 0x80) !== 0);

  const out: Uint8Array[] = [];
  for (let off = 0; off < whole.length; off += stepBytes) {
    const end = Math.min(whole.length, off + stepBytes);
    out.push(
      ipv4Packet(
        {
          ...spec,
          options: off === 0 ? spec.options : copied,
          fragmentOffsetBytes: off,
          isMoreFragments: end < whole.length,
          isL4ChecksumFilled: false,
        },
        whole.subarray(off, end),
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------
// IPv6 (RFC 8200)

/** An IPv6 extension header; the chain's next-header fields are computed. */
export type Ipv6Extension =
  | {
      kind: 'hop-by-hop' | 'destination';
      /** Option TLVs, each complete; the header is padded with PadN. */
      options?: Uint8Array[];
    }
  | {
      kind: 'routing';
      /** 0 (deprecated source route), 2 (Mobile IPv6), 4 (SRH, RFC 8754). */
      routingType: number;
      segmentsLeft: number;
      /**
       * Addresses in header order; for the SRH (type 4) the segment list,
       * whose first entry is the final destination.
       */
      addresses: Address[];
    }
  | {
      kind: 'fragment';
      offsetBytes: number;
      isMoreFragments: boolean;
      id: number;
    }
  | {
      /** Any header in the generic layout (next header, length in 8s). */
      kind: 'other';
      protocol: number;
      /** Bytes after the first two; padded with zeros to 8n + 6. */
      body: Uint8Array;
    };

/** IPv6 header fields and its extension chain. */
export interface Ipv6Spec {
  src: Address;
  dst: Address;
  /** Protocol of the upper layer after all extension headers. */
  nextHeader: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  extensions?: Ipv6Extension[];
  /** Version nibble to write instead of 6. */
  version?: number;
  /** Payload length field to write instead of the real one. */
  payloadBytes?: number;
  /**
   * Fill the upper-layer checksum; defaults to true unless the chain has a
   * fragment header that is not an atomic fragment.
   */
  isL4ChecksumFilled?: boolean;
}

/** Router alert option TLV for a hop-by-hop header (RFC 2711), MLD value. */
export function ipv6RouterAlertOption(): Uint8Array {
  return Uint8Array.of(5, 2, 0, 0);
}

/** An IPv6 packet; the payload (upper-layer message) is copied. */
export function ipv6Packet(spec: Ipv6Spec, payload: Uint8Array): Uint8Array {
  const extensions = spec.extensions ?? [];
  const chain = serializeIpv6Chain(extensions, spec.nextHeader);
  const out = new Uint8Array(
    IPV6_HDR_BYTES + chain.bytes.length + payload.length,
  );
  const src = ipBytes(spec.src);
  const dst = ipBytes(spec.dst);

  const flowLabel = (spec.flowLabel ?? 0) & 0xfffff;
  const trafficClass = spec.trafficClass ?? 0;
  put32(
    out,
    0,
    (((spec.version ?? 6) << 28) | (trafficClass << 20) | flowLabel) >>> 0,
  );
  put16(out, 4, spec.payloadBytes ?? out.length - IPV6_HDR_BYTES);
  out[6] = chain.firstProtocol;
  out[7] = spec.hopLimit ?? 64;
  out.set(src, 8);
  out.set(dst, 24);
  out.set(chain.bytes, IPV6_HDR_BYTES);

  const l4Off = IPV6_HDR_BYTES + chain.bytes.length;
  out.set(payload, l4Off);
  const isPartial = extensions.some(
    (e) => e.kind === 'fragment' && (e.offsetBytes > 0 || e.isMoreFragments),
  );
  if (spec.isL4ChecksumFilled ?? !isPartial) {
    const finalDst = ipv6FinalDestination(extensions) ?? dst;
    fillL4Checksum(spec.nextHeader, out.subarray(l4Off), src, finalDst);
  }
  return out;
}

/**
 * The destination the upper-layer checksum covers (RFC 8200 section 8.1):
 * the last hop of a routing header that still has segments left.
 */
function ipv6FinalDestination(
  extensions: Ipv6Extension[],
): Uint8Array | undefined {
  let finalDst: Uint8Array | undefined;
  for (const e of extensions) {
    if (e.kind !== 'routing' || e.segmentsLeft === 0) continue;
    if (e.addresses.length === 0) continue;
    const last =
      e.routingType === 4
        ? e.addresses[0]
        : e.addresses[e.addresses.length - 1];
    finalDst = ipBytes(last);
  }
  return finalDst;
}

/**
 * Split an upper-layer message into IPv6 fragments after filling its
 * checksum. Hop-by-hop, routing and destination options before a routing
 * header stay in every fragment (RFC 8200 section 4.5); the rest of the
 * chain travels in the first fragment's data.
 */
export function fragmentIpv6(
  spec: Ipv6Spec,
  l4: Uint8Array,
  maxFragmentBytes: number,
  id: number,
): Uint8Array[] {
  const extensions = spec.extensions ?? [];
  const whole = Uint8Array.from(l4);
  const finalDst = ipv6FinalDestination(extensions) ?? ipBytes(spec.dst);
  fillL4Checksum(spec.nextHeader, whole, ipBytes(spec.src), finalDst);

  let lastUnfragmentable = extensions[0]?.kind === 'hop-by-hop' ? 0 : -1;
  extensions.forEach((e, i) => {
    if (e.kind === 'routing') lastUnfragmentable = i;
  });
  const unfragmentable = extensions.slice(0, lastUnfragmentable + 1);
  const rest = serializeIpv6Chain(
    extensions.slice(lastUnfragmentable + 1),
    spec.nextHeader,
  );
  const data = concatBytes(rest.bytes, whole);
  const stepBytes = maxFragmentBytes & ~7;
  if (stepBytes <= 0) throw new RangeError('fragments need 8 data bytes');

  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += stepBytes) {
    const end = Math.min(data.length, off + stepBytes);
    const fragment: Ipv6Extension = {
      kind: 'fragment',
      offsetBytes: off,
      isMoreFragments: end < data.length,
      id,
    };
    out.push(
      ipv6Packet(
        {
          ...spec,
          nextHeader: rest.firstProtocol,
          extensions: [...unfragmentable, fragment],
          isL4ChecksumFilled: false,
        },
        data.subarray(off, end),
      ),
    );
  }
  return out;
}

/** Serialize an extension chain ending in `lastProtocol`. */
export function serializeIpv6Chain(
  extensions: Ipv6Extension[],
  lastProtocol: number,
): { firstProtocol: number; bytes: Uint8Array } {
  const parts = extensions.map((e, i) => {
    const next =
      i + 1 < extensions.length
        ? ipv6ExtensionProtocol(extensions[i + 1])
        : lastProtocol;
    return serializeIpv6Extension(e, next);
  });
  return {
    firstProtocol:
      extensions.length > 0
        ? ipv6ExtensionProtocol(extensions[0])
        : lastProtocol,
    bytes: concatBytes(...parts),
  };
}

function ipv6ExtensionProtocol(e: Ipv6Extension): number {
  switch (e.kind) {
    case 'hop-by-hop':
      return IpProto.HopByHop;
    case 'destination':
      return IpProto.DestinationOptions;
    case 'routing':
      return IpProto.Routing;
    case 'fragment':
      return IpProto.Fragment;
    case 'other':
      return e.protocol;
  }
}

function serializeIpv6Extension(e: Ipv6Extension, next: number): Uint8Array {
  switch (e.kind) {
    case 'hop-by-hop':
    case 'destination':
      return optionsHeader(next, concatBytes(...(e.options ?? [])));
    case 'routing':
      return routingHeader(e, next);
    case 'fragment': {
      const out = new Uint8Array(8);
      out[0] = next;
      if (e.offsetBytes % 8 !== 0) {
        throw new RangeError('fragment offset must be a multiple of 8 bytes');
      }
      put16(out, 2, e.offsetBytes | (e.isMoreFragments ? 1 : 0));
      put32(out, 4, e.id);
      return out;
    }
    case 'other': {
      const totalBytes = (2 + e.body.length + 7) & ~7;
      const out = new Uint8Array(totalBytes);
      out[0] = next;
      out[1] = totalBytes / 8 - 1;
      out.set(e.body, 2);
      return out;
    }
  }
}

function optionsHeader(next: number, options: Uint8Array): Uint8Array {
  const totalBytes = (2 + options.length + 7) & ~7;
  const out = new Uint8Array(totalBytes);
  out[0] = next;
  out[1] = totalBytes / 8 - 1;
  out.set(options, 2);

  // Pad1 is a single zero byte; longer gaps take one PadN option.
  const padBytes = totalBytes - 2 - options.length;
  if (padBytes >= 2) {
    out[2 + options.length] = 1;
    out[3 + options.length] = padBytes - 2;
  }
  return out;
}

function routingHeader(
  e: Extract<Ipv6Extension, { kind: 'routing' }>,
  next: number,
): Uint8Array {
  const addresses = e.addresses.map(ipBytes);
  const out = new Uint8Array(8 + addresses.length * 16);
  out[0] = next;
  out[1] = addresses.length * 2;
  out[2] = e.routingType;
  out[3] = e.segmentsLeft;
  // The SRH keeps the index of its last entry where older types reserve 0.
  if (e.routingType === 4) out[4] = Math.max(0, addresses.length - 1);
  addresses.forEach((a, i) => out.set(a, 8 + i * 16));
  return out;
}

// ---------------------------------------------------------------------------
// TCP (RFC 9293) and UDP (RFC 768)

/** One TCP option; `raw` writes any bytes, valid or not. */
export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; mssBytes: number }
  | { kind: 'window-scale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'timestamps'; tsVal: number; tsEcr: number }
  | { kind: 'raw'; bytes: Uint8Array };

/** TCP header fields; the checksum is filled by the IP builder. */
export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** `TcpFlag` bits. */
  flags: number;
  /** Window field as sent, before any window scaling. */
  window?: number;
  urgentPointer?: number;
  options?: TcpOption[];
  /** Data offset field (32-bit words) to write instead of the real one. */
  dataOffsetWords?: number;
  /** The three reserved bits and the former NS bit, as a nibble. */
  reservedBits?: number;
}

/** Bytes of one TCP option (RFC 9293 section 3.2, RFC 7323, RFC 2018). */
export function tcpOptionBytes(option: TcpOption): Uint8Array {
  switch (option.kind) {
    case 'eol':
      return Uint8Array.of(0);
    case 'nop':
      return Uint8Array.of(1);
    case 'mss':
      return Uint8Array.of(2, 4, option.mssBytes >>> 8, option.mssBytes & 255);
    case 'window-scale':
      return Uint8Array.of(3, 3, option.shift);
    case 'sack-permitted':
      return Uint8Array.of(4, 2);
    case 'sack': {
      const out = new Uint8Array(2 + option.blocks.length * 8);
      out[0] = 5;
      out[1] = out.length;
      option.blocks.forEach(([left, right], i) => {
        put32(out, 2 + i * 8, left);
        put32(out, 6 + i * 8, right);
      });
      return out;
    }
    case 'timestamps': {
      const out = new Uint8Array(10);
      out[0] = 8;
      out[1] = 10;
      put32(out, 2, option.tsVal);
      put32(out, 6, option.tsEcr);
      return out;
    }
    case 'raw':
      return option.bytes;
  }
}

/**
 * A TCP segment with its checksum zero: the IP builder fills it because it
 * covers the pseudo-header. Options are padded with zeros (end of list) to
 * a 4-byte boundary and may not exceed 40 bytes.
 */
export function tcpSegment(spec: TcpSpec, payload: Uint8Array): Uint8Array {
  const options = concatBytes(...(spec.options ?? []).map(tcpOptionBytes));
  const optionBytes = (options.length + 3) & ~3;
  if (optionBytes > TCP_MAX_OPTION_BYTES) {
    throw new RangeError(`${optionBytes} option bytes exceed 40`);
  }
  const hdrBytes = TCP_HDR_BYTES + optionBytes;
  const out = new Uint8Array(hdrBytes + payload.length);
  put16(out, 0, spec.srcPort);
  put16(out, 2, spec.dstPort);
  put32(out, 4, spec.seq ?? 0);
  put32(out, 8, spec.ack ?? 0);
  out[12] =
    ((spec.dataOffsetWords ?? hdrBytes / 4) << 4) |
    ((spec.reservedBits ?? 0) & 15);
  out[13] = spec.flags;
  put16(out, 14, spec.window ?? 65535);
  put16(out, 18, spec.urgentPointer ?? 0);
  out.set(options, TCP_HDR_BYTES);
  out.set(payload, hdrBytes);
  return out;
}

/** UDP header fields; the checksum is filled by the IP builder. */
export interface UdpSpec {
  srcPort: number;
  dstPort: number;
  /** Length field to write instead of header plus payload. */
  lengthBytes?: number;
}

/** A UDP datagram with its checksum zero (filled by the IP builder). */
export function udpDatagram(spec: UdpSpec, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(UDP_HDR_BYTES + payload.length);
  put16(out, 0, spec.srcPort);
  put16(out, 2, spec.dstPort);
  put16(out, 4, spec.lengthBytes ?? out.length);
  out.set(payload, UDP_HDR_BYTES);
  return out;
}

// ---------------------------------------------------------------------------
// ICMP (RFC 792) and ICMPv6 (RFC 4443, RFC 4861)

/** Echo request or reply fields shared by ICMP and ICMPv6. */
export interface EchoSpec {
  isReply: boolean;
  id: number;
  seq: number;
}

/** ICMP echo request (type 8) or reply (type 0) with its checksum. */
export function icmpEcho(spec: EchoSpec, payload: Uint8Array): Uint8Array {
  return icmpMessage(spec.isReply ? 0 : 8, 0, echoBody(spec, payload));
}

/** Any ICMP message: type, code, checksum, then `body` (with checksum). */
export function icmpMessage(
  type: number,
  code: number,
  body: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = code;
  out.set(body, 4);
  put16(out, 2, internetChecksum(out));
  return out;
}

/**
 * Any ICMPv6 message with its checksum zero: it covers the IPv6
 * pseudo-header, so `ipv6Packet` fills it.
 */
export function icmpv6Message(
  type: number,
  code: number,
  body: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = code;
  out.set(body, 4);
  return out;
}

/** ICMPv6 echo request (128) or reply (129). */
export function icmpv6Echo(spec: EchoSpec, payload: Uint8Array): Uint8Array {
  return icmpv6Message(spec.isReply ? 129 : 128, 0, echoBody(spec, payload));
}

function echoBody(spec: EchoSpec, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  put16(out, 0, spec.id);
  put16(out, 2, spec.seq);
  out.set(payload, 4);
  return out;
}

/** ND source (1) or target (2) link-layer address option for Ethernet. */
function linkAddrOption(type: number, mac: Address): Uint8Array {
  const out = new Uint8Array(8);
  out[0] = type;
  out[1] = 1;
  out.set(macBytes(mac), 2);
  return out;
}

/** Neighbour solicitation (type 135, RFC 4861 section 4.3). */
export function icmpv6NeighbourSolicitation(spec: {
  target: Address;
  sourceLinkAddr?: Address;
}): Uint8Array {
  const body = new Uint8Array(20);
  body.set(ipBytes(spec.target), 4);
  const options =
    spec.sourceLinkAddr === undefined
      ? new Uint8Array(0)
      : linkAddrOption(1, spec.sourceLinkAddr);
  return icmpv6Message(135, 0, concatBytes(body, options));
}

/** Neighbour advertisement (type 136, RFC 4861 section 4.4). */
export function icmpv6NeighbourAdvertisement(spec: {
  target: Address;
  isRouter?: boolean;
  isSolicited?: boolean;
  isOverride?: boolean;
  targetLinkAddr?: Address;
}): Uint8Array {
  const body = new Uint8Array(20);
  body[0] =
    (spec.isRouter ? 0x80 : 0) |
    (spec.isSolicited ? 0x40 : 0) |
    (spec.isOverride ? 0x20 : 0);
  body.set(ipBytes(spec.target), 4);
  const options =
    spec.targetLinkAddr === undefined
      ? new Uint8Array(0)
      : linkAddrOption(2, spec.targetLinkAddr);
  return icmpv6Message(136, 0, concatBytes(body, options));
}

/** Router solicitation (type 133, RFC 4861 section 4.1). */
export function icmpv6RouterSolicitation(spec: {
  sourceLinkAddr?: Address;
}): Uint8Array {
  const options =
    spec.sourceLinkAddr === undefined
      ? new Uint8Array(0)
      : linkAddrOption(1, spec.sourceLinkAddr);
  return icmpv6Message(133, 0, concatBytes(new Uint8Array(4), options));
}

/** One prefix information option of a router advertisement. */
export interface NdPrefix {
  prefix: Address;
  prefixBits: number;
  validLifetimeSec: number;
  preferredLifetimeSec: number;
  /** On-link (L) and autonomous (A) flags; both true by default. */
  isOnLink?: boolean;
  isAutonomous?: boolean;
}

/** Router advertisement (type 134, RFC 4861 section 4.2). */
export function icmpv6RouterAdvertisement(spec: {
  curHopLimit?: number;
  isManaged?: boolean;
  isOtherConfig?: boolean;
  routerLifetimeSec: number;
  reachableTimeMs?: number;
  retransTimerMs?: number;
  sourceLinkAddr?: Address;
  mtuBytes?: number;
  prefixes?: NdPrefix[];
}): Uint8Array {
  const body = new Uint8Array(12);
  body[0] = spec.curHopLimit ?? 64;
  body[1] = (spec.isManaged ? 0x80 : 0) | (spec.isOtherConfig ? 0x40 : 0);
  put16(body, 2, spec.routerLifetimeSec);
  put32(body, 4, spec.reachableTimeMs ?? 0);
  put32(body, 8, spec.retransTimerMs ?? 0);

  const options: Uint8Array[] = [];
  if (spec.sourceLinkAddr !== undefined) {
    options.push(linkAddrOption(1, spec.sourceLinkAddr));
  }
  if (spec.mtuBytes !== undefined) {
    const mtu = new Uint8Array(8);
    mtu[0] = 5;
    mtu[1] = 1;
    put32(mtu, 4, spec.mtuBytes);
    options.push(mtu);
  }
  for (const p of spec.prefixes ?? []) {
    const opt = new Uint8Array(32);
    opt[0] = 3;
    opt[1] = 4;
    opt[2] = p.prefixBits;
    opt[3] =
      ((p.isOnLink ?? true) ? 0x80 : 0) | ((p.isAutonomous ?? true) ? 0x40 : 0);
    put32(opt, 4, p.validLifetimeSec);
    put32(opt, 8, p.preferredLifetimeSec);
    opt.set(ipBytes(p.prefix), 16);
    options.push(opt);
  }
  return icmpv6Message(134, 0, concatBytes(body, ...options));
}

/** The solicited-node multicast address of `ip` (RFC 4291 section 2.7.1). */
export function solicitedNodeAddress(ip: Address): Uint8Array {
  const b = ipBytes(ip);
  const out = parseIpv6('ff02::1:ff00:0');
  out.set(b.subarray(13, 16), 13);
  return out;
}

/** The Ethernet multicast MAC of an IPv6 multicast address (RFC 2464). */
export function ipv6MulticastMac(ip: Address): Uint8Array {
  const b = ipBytes(ip);
  return Uint8Array.of(0x33, 0x33, b[12], b[13], b[14], b[15]);
}

/** The Ethernet multicast MAC of an IPv4 multicast address (RFC 1112). */
export function ipv4MulticastMac(ip: Address): Uint8Array {
  const b = ipBytes(ip);
  return Uint8Array.of(0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]);
}

// ---------------------------------------------------------------------------
// Application payloads that identify devices

/** One DHCP option (RFC 2132): code and value bytes. */
export interface DhcpOption {
  code: number;
  value: Uint8Array;
}

/** DHCP message types (option 53, RFC 2132 section 9.6). */
export const DhcpMessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

/** A DHCP/BOOTP message (RFC 2131 section 2). */
export interface DhcpSpec {
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  op: number;
  xid: number;
  clientMac: Address;
  secs?: number;
  isBroadcast?: boolean;
  ciaddr?: Address;
  yiaddr?: Address;
  siaddr?: Address;
  giaddr?: Address;
  /** Options in wire order; the end option is appended. */
  options: DhcpOption[];
}

/** DHCP option from a code and value. */
export function dhcpOption(code: number, value: Uint8Array): DhcpOption {
  return { code, value };
}

/** A DHCP message body, padded to the 300-byte BOOTP minimum. */
export function dhcpMessage(spec: DhcpSpec): Uint8Array {
  const fixed = new Uint8Array(240);
  fixed[0] = spec.op;
  fixed[1] = 1;
  fixed[2] = 6;
  put32(fixed, 4, spec.xid);
  put16(fixed, 8, spec.secs ?? 0);
  put16(fixed, 10, spec.isBroadcast ? 0x8000 : 0);
  fixed.set(ipBytes(spec.ciaddr ?? '0.0.0.0'), 12);
  fixed.set(ipBytes(spec.yiaddr ?? '0.0.0.0'), 16);
  fixed.set(ipBytes(spec.siaddr ?? '0.0.0.0'), 20);
  fixed.set(ipBytes(spec.giaddr ?? '0.0.0.0'), 24);
  fixed.set(macBytes(spec.clientMac), 28);
  put32(fixed, 236, 0x63825363);

  const options = spec.options.map((o) =>
    concatBytes(Uint8Array.of(o.code, o.value.length), o.value),
  );
  const body = concatBytes(fixed, ...options, Uint8Array.of(255));
  if (body.length >= 300) return body;
  return concatBytes(body, new Uint8Array(300 - body.length));
}

/** One DNS question (RFC 1035 section 4.1.2). */
export interface DnsQuestion {
  name: string;
  type: number;
  /** 1 (IN) by default; mDNS sets the top bit to ask for unicast. */
  class?: number;
}

/** One DNS resource record with raw RDATA. */
export interface DnsRecord {
  name: string;
  type: number;
  class?: number;
  ttlSec: number;
  data: Uint8Array;
}

/** DNS record types used by the fixtures (IANA DNS parameters). */
export const DnsType = {
  A: 1,
  Ptr: 12,
  Txt: 16,
  Aaaa: 28,
  Srv: 33,
} as const;

/** A name in DNS label form, without compression. */
export function dnsName(name: string): Uint8Array {
  const labels = name
    .split('.')
    .filter((l) => l !== '')
    .map((l) => {
      const bytes = textBytes(l);
      return concatBytes(Uint8Array.of(bytes.length), bytes);
    });
  return concatBytes(...labels, Uint8Array.of(0));
}

/** A DNS message (RFC 1035 section 4.1) without name compression. */
export function dnsMessage(spec: {
  id: number;
  /** The 16-bit flags word: 0x0100 for a recursive query, 0x8180 reply. */
  flags: number;
  questions?: DnsQuestion[];
  answers?: DnsRecord[];
}): Uint8Array {
  const questions = spec.questions ?? [];
  const answers = spec.answers ?? [];
  const hdr = new Uint8Array(12);
  put16(hdr, 0, spec.id);
  put16(hdr, 2, spec.flags);
  put16(hdr, 4, questions.length);
  put16(hdr, 6, answers.length);

  const parts: Uint8Array[] = [hdr];
  for (const q of questions) {
    const tail = new Uint8Array(4);
    put16(tail, 0, q.type);
    put16(tail, 2, q.class ?? 1);
    parts.push(dnsName(q.name), tail);
  }
  for (const r of answers) {
    const mid = new Uint8Array(10);
    put16(mid, 0, r.type);
    put16(mid, 2, r.class ?? 1);
    put32(mid, 4, r.ttlSec);
    put16(mid, 8, r.data.length);
    parts.push(dnsName(r.name), mid, r.data);
  }
  return concatBytes(...parts);
}

/** Fields of an LLDPDU (IEEE 802.1AB-2016 clause 8). */
export interface LldpSpec {
  chassisMac: Address;
  /** Port id sent as an interface name (subtype 5). */
  portName: string;
  ttlSec: number;
  portDescription?: string;
  systemName?: string;
  systemDescription?: string;
  /** System capabilities and enabled capabilities bit maps. */
  capabilities?: { available: number; enabled: number };
  managementIpv4?: Address;
}

/** An LLDPDU, ready for EtherType 0x88cc to 01:80:c2:00:00:0e. */
export function lldpPdu(spec: LldpSpec): Uint8Array {
  const tlvs: Uint8Array[] = [
    lldpTlv(1, concatBytes(Uint8Array.of(4), macBytes(spec.chassisMac))),
    lldpTlv(2, concatBytes(Uint8Array.of(5), textBytes(spec.portName))),
    lldpTlv(3, Uint8Array.of(spec.ttlSec >>> 8, spec.ttlSec & 255)),
  ];
  if (spec.portDescription !== undefined) {
    tlvs.push(lldpTlv(4, textBytes(spec.portDescription)));
  }
  if (spec.systemName !== undefined) {
    tlvs.push(lldpTlv(5, textBytes(spec.systemName)));
  }
  if (spec.systemDescription !== undefined) {
    tlvs.push(lldpTlv(6, textBytes(spec.systemDescription)));
  }
  if (spec.capabilities !== undefined) {
    const caps = new Uint8Array(4);
    put16(caps, 0, spec.capabilities.available);
    put16(caps, 2, spec.capabilities.enabled);
    tlvs.push(lldpTlv(7, caps));
  }
  if (spec.managementIpv4 !== undefined) {
    // Address string length, IANA family 1 (IPv4), address, ifIndex
    // numbering, interface 0, empty OID.
    const mgmt = concatBytes(
      Uint8Array.of(5, 1),
      ipBytes(spec.managementIpv4),
      Uint8Array.of(2, 0, 0, 0, 0, 0),
    );
    tlvs.push(lldpTlv(8, mgmt));
  }
  tlvs.push(lldpTlv(0, new Uint8Array(0)));
  return concatBytes(...tlvs);
}

function lldpTlv(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + value.length);
  put16(out, 0, (type << 9) | value.length);
  out.set(value, 2);
  return out;
}

/** TLS ClientHello fields (RFC 8446 section 4.1.2). */
export interface TlsClientHelloSpec {
  serverName: string;
  random: Uint8Array;
  sessionId?: Uint8Array;
  cipherSuites: number[];
  /** ALPN protocol ids (RFC 7301). */
  alpn?: string[];
  /** Supported groups; the first also gets a key share of `keyShare`. */
  groups: number[];
  signatureAlgorithms: number[];
  /** Supported versions extension values; omitted when empty. */
  versions?: number[];
  /** Key share bytes for the first group (32 for x25519). */
  keyShare?: Uint8Array;
}

/** A TLS handshake record holding one ClientHello. */
export function tlsClientHello(spec: TlsClientHelloSpec): Uint8Array {
  const sessionId = spec.sessionId ?? new Uint8Array(0);
  const suites = u16List(spec.cipherSuites);
  const extensions: Uint8Array[] = [
    tlsExtension(0, serverNameList(spec.serverName)),
    tlsExtension(11, Uint8Array.of(1, 0)),
    tlsExtension(10, withLen16(u16List(spec.groups))),
    tlsExtension(13, withLen16(u16List(spec.signatureAlgorithms))),
  ];
  if (spec.alpn !== undefined) {
    const ids = spec.alpn.map((p) => withLen8(textBytes(p)));
    extensions.push(tlsExtension(16, withLen16(concatBytes(...ids))));
  }
  if (spec.versions !== undefined && spec.versions.length > 0) {
    extensions.push(tlsExtension(43, withLen8(u16List(spec.versions))));
  }
  if (spec.keyShare !== undefined) {
    const share = concatBytes(
      u16List([spec.groups[0]]),
      withLen16(spec.keyShare),
    );
    extensions.push(tlsExtension(51, withLen16(share)));
  }

  const body = concatBytes(
    Uint8Array.of(0x03, 0x03),
    spec.random,
    withLen8(sessionId),
    withLen16(suites),
    Uint8Array.of(1, 0),
    withLen16(concatBytes(...extensions)),
  );
  return tlsRecord(22, tlsHandshake(1, body));
}

/**
 * A TLS 1.3 ServerHello record (legacy version 1.2, supported_versions
 * 0x0304 and an x25519 key share), echoing the client's session id.
 */
export function tlsServerHello(spec: {
  random: Uint8Array;
  sessionId?: Uint8Array;
  cipherSuite: number;
  keyShare: Uint8Array;
}): Uint8Array {
  const extensions = concatBytes(
    tlsExtension(43, u16List([0x0304])),
    tlsExtension(51, concatBytes(u16List([0x001d]), withLen16(spec.keyShare))),
  );
  const body = concatBytes(
    Uint8Array.of(0x03, 0x03),
    spec.random,
    withLen8(spec.sessionId ?? new Uint8Array(0)),
    u16List([spec.cipherSuite]),
    Uint8Array.of(0),
    withLen16(extensions),
  );
  return tlsRecord(22, tlsHandshake(2, body));
}

/** A TLS record (RFC 8446 section 5.1) with legacy version 0x0303. */
export function tlsRecord(contentType: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = contentType;
  put16(out, 1, 0x0303);
  put16(out, 3, body.length);
  out.set(body, 5);
  return out;
}

function tlsHandshake(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = (body.length >>> 16) & 0xff;
  put16(out, 2, body.length & 0xffff);
  out.set(body, 4);
  return out;
}

function tlsExtension(type: number, body: Uint8Array): Uint8Array {
  return concatBytes(u16List([type]), withLen16(body));
}

function serverNameList(name: string): Uint8Array {
  const entry = concatBytes(Uint8Array.of(0), withLen16(textBytes(name)));
  return withLen16(entry);
}

function u16List(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => put16(out, i * 2, v));
  return out;
}

function withLen8(body: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(body.length), body);
}

function withLen16(body: Uint8Array): Uint8Array {
  return concatBytes(u16List([body.length]), body);
}

// ---------------------------------------------------------------------------
// TCP conversations

/** One side of a TCP conversation. */
export interface TcpEndpoint {
  mac: Address;
  ip: Address;
  port: number;
  ttl: number;
  /** Initial sequence number. */
  isn: number;
  /** Window field sent after the handshake. */
  window: number;
  /** Options of this side's SYN or SYN-ACK. */
  synOptions: TcpOption[];
  /** Largest payload per segment. */
  mssBytes: number;
}

/**
 * Builds the frames of one TCP connection over Ethernet (optionally tagged),
 * tracking sequence and acknowledgement numbers and IP ids on both sides.
 */
export class TcpConversation {
  private clientSeq: number;
  private serverSeq: number;
  private clientIpId: number;
  private serverIpId: number;
  private readonly isIpv6: boolean;

  constructor(
    private readonly client: TcpEndpoint,
    private readonly server: TcpEndpoint,
    private readonly tags: VlanTag[] = [],
  ) {
    this.clientSeq = client.isn;
    this.serverSeq = server.isn;
    this.clientIpId = client.isn & 0xffff;
    this.serverIpId = server.isn & 0xffff;
    this.isIpv6 = ipBytes(client.ip).length === 16;
  }

  /** SYN, SYN-ACK and ACK. */
  handshake(): Uint8Array[] {
    const syn = this.segment(true, TcpFlag.Syn, new Uint8Array(0), true);
    this.clientSeq = (this.clientSeq + 1) >>> 0;
    const synAck = this.segment(
      false,
      TcpFlag.Syn | TcpFlag.Ack,
      new Uint8Array(0),
      true,
    );
    this.serverSeq = (this.serverSeq + 1) >>> 0;
    const ack = this.segment(true, TcpFlag.Ack, new Uint8Array(0));
    return [syn, synAck, ack];
  }

  /**
   * Send `payload` from one side in segments of at most the sender's MSS,
   * the last one with PSH, then one ACK from the peer.
   */
  send(isFromClient: boolean, payload: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    const mssBytes = (isFromClient ? this.client : this.server).mssBytes;
    for (let off = 0; off < payload.length; off += mssBytes) {
      const end = Math.min(payload.length, off + mssBytes);
      const flags = TcpFlag.Ack | (end === payload.length ? TcpFlag.Psh : 0);
      out.push(this.segment(isFromClient, flags, payload.subarray(off, end)));
      this.advance(isFromClient, end - off);
    }
    out.push(this.segment(!isFromClient, TcpFlag.Ack, new Uint8Array(0)));
    return out;
  }

  /** FIN from one side, FIN-ACK from the other, final ACK. */
  close(isClientFirst = true): Uint8Array[] {
    const first = this.segment(
      isClientFirst,
      TcpFlag.Fin | TcpFlag.Ack,
      new Uint8Array(0),
    );
    this.advance(isClientFirst, 1);
    const second = this.segment(
      !isClientFirst,
      TcpFlag.Fin | TcpFlag.Ack,
      new Uint8Array(0),
    );
    this.advance(!isClientFirst, 1);
    const last = this.segment(isClientFirst, TcpFlag.Ack, new Uint8Array(0));
    return [first, second, last];
  }

  /** One segment with the current numbers; does not advance them. */
  segment(
    isFromClient: boolean,
    flags: number,
    payload: Uint8Array,
    isSyn = false,
  ): Uint8Array {
    const from = isFromClient ? this.client : this.server;
    const to = isFromClient ? this.server : this.client;
    const hasAck = (flags & TcpFlag.Ack) !== 0;
    const tcp = tcpSegment(
      {
        srcPort: from.port,
        dstPort: to.port,
        seq: isFromClient ? this.clientSeq : this.serverSeq,
        ack: hasAck ? (isFromClient ? this.serverSeq : this.clientSeq) : 0,
        flags,
        window: isSyn ? 64240 : from.window,
        options: isSyn ? from.synOptions : [],
      },
      payload,
    );
    let ipId = 0;
    if (isFromClient) ipId = this.clientIpId++ & 0xffff;
    else ipId = this.serverIpId++ & 0xffff;
    const ip = this.isIpv6
      ? ipv6Packet(
          {
            src: from.ip,
            dst: to.ip,
            nextHeader: IpProto.Tcp,
            hopLimit: from.ttl,
          },
          tcp,
        )
      : ipv4Packet(
          {
            src: from.ip,
            dst: to.ip,
            protocol: IpProto.Tcp,
            ttl: from.ttl,
            id: ipId,
            isDontFragment: true,
          },
          tcp,
        );
    return ethernetFrame(
      {
        dst: to.mac,
        src: from.mac,
        etherType: this.isIpv6 ? EtherType.Ipv6 : EtherType.Ipv4,
        tags: this.tags,
      },
      ip,
    );
  }

  private advance(isFromClient: boolean, bytes: number): void {
    if (isFromClient) this.clientSeq = (this.clientSeq + bytes) >>> 0;
    else this.serverSeq = (this.serverSeq + bytes) >>> 0;
  }
}

// ---------------------------------------------------------------------------
// Seeded PRNG

/**
 * A deterministic PRNG (xoshiro128**, seeded through splitmix32) so that
 * generated fixtures are identical on every run and machine.
 */
export class SeededRng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // An all-zero state would stay zero forever.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of precision. */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }

  /** Uniform integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number {
    return Math.floor(this.nextFloat() * maxExclusive);
  }

  /** Uniform integer in [min, maxInclusive]. */
  nextRange(min: number, maxInclusive: number): number {
    return min + this.nextInt(maxInclusive - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.nextInt(items.length)];
  }

  /** `count` random bytes. */
  bytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.nextU32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
