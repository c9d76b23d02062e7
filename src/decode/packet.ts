/**
 * The decoded-packet record every decoder fills in, with the layer bits and
 * the stable reason ids for packets that could not be decoded.
 */

/** What a decoder returns; the reason for anything but Ok is in the record. */
export const DecodeStatus = {
  Ok: 0,
  Truncated: 1,
  Malformed: 2,
  Unsupported: 3,
} as const;

export type DecodeStatusId = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/** Bits of `DecodedPacket.layers`: which headers were decoded in the frame. */
export const Layer = {
  Ethernet: 1 << 0,
  Vlan: 1 << 1,
  Arp: 1 << 2,
  Ipv4: 1 << 3,
  Ipv6: 1 << 4,
  Tcp: 1 << 5,
  Udp: 1 << 6,
  Icmp: 1 << 7,
  Icmpv6: 1 << 8,
  LinuxSll: 1 << 9,
  Loopback: 1 << 10,
} as const;

/**
 * Why a packet was not fully decoded. The ids and their names are stable:
 * dashboards and tests key on the names, so never renumber or rename one.
 */
export const Reason = {
  None: 0,
  LinkTypeUnsupported: 1,
  EthernetTruncated: 2,
  VlanTruncated: 3,
  VlanDepthExceeded: 4,
  SllTruncated: 5,
  LoopbackTruncated: 6,
  ArpTruncated: 7,
  Ipv4Truncated: 8,
  Ipv4VersionInvalid: 9,
  Ipv4HdrLenInvalid: 10,
  Ipv4TotalLenInvalid: 11,
  Ipv6Truncated: 12,
  Ipv6VersionInvalid: 13,
  Ipv6ExtTruncated: 14,
  Ipv6ExtChainTooLong: 15,
  TcpTruncated: 16,
  TcpHdrLenInvalid: 17,
  UdpTruncated: 18,
  UdpLenInvalid: 19,
  IcmpTruncated: 20,
  Icmpv6Truncated: 21,
  RawIpVersionInvalid: 22,
  FrameEmpty: 23,
} as const;

export type ReasonId = (typeof Reason)[keyof typeof Reason];

/** Snake-case names of the reasons, indexed by reason id. */
export const REASON_NAMES: readonly string[] = [
  'none',
  'link_type_unsupported',
  'ethernet_truncated',
  'vlan_truncated',
  'vlan_depth_exceeded',
  'sll_truncated',
  'loopback_truncated',
  'arp_truncated',
  'ipv4_truncated',
  'ipv4_version_invalid',
  'ipv4_hdr_len_invalid',
  'ipv4_total_len_invalid',
  'ipv6_truncated',
  'ipv6_version_invalid',
  'ipv6_ext_truncated',
  'ipv6_ext_chain_too_long',
  'tcp_truncated',
  'tcp_hdr_len_invalid',
  'udp_truncated',
  'udp_len_invalid',
  'icmp_truncated',
  'icmpv6_truncated',
  'raw_ip_version_invalid',
  'frame_empty',
];

/** 802.1Q tags kept per frame; a deeper stack is a drop, not a loop. */
export const MAX_VLAN_DEPTH = 4;

/** IPv6 extension headers followed before giving up on a chain. */
export const MAX_IPV6_EXT_HEADERS = 8;

/** TCP options recorded per segment (40 option bytes hold at most 40). */
export const MAX_TCP_OPTIONS = 40;

/** TCP flag bits as in the header's flags byte (RFC 9293, RFC 3168). */
export const TcpFlag = {
  Fin: 0x01,
  Syn: 0x02,
  Rst: 0x04,
  Psh: 0x08,
  Ack: 0x10,
  Urg: 0x20,
  Ece: 0x40,
  Cwr: 0x80,
} as const;

/** Quirks of a TCP option block: malformations that identify a stack. */
export const TcpOptionQuirk = {
  /** An option's length runs past the header or is below 2. */
  BadLength: 1 << 0,
  /** Non-zero bytes after the end-of-options marker. */
  TrailingData: 1 << 1,
  /** More options than MAX_TCP_OPTIONS (only with many NOPs). */
  TooMany: 1 << 2,
  /** A known option with the wrong length (MSS not 4, window scale not 3). */
  WrongKnownLength: 1 << 3,
} as const;

/**
 * One decoded frame. Decoders fill a single preallocated instance per
 * pipeline; every field keeps its type, and -1 or 0 means absent. Offsets
 * point into the frame buffer passed to the decoder and are valid only
 * while that buffer is.
 */
export class DecodedPacket {
  /** Bitwise OR of `Layer` bits for the headers decoded. */
  layers = 0;
  /** `Reason` id when the frame stopped early; 0 when fully decoded. */
  reason = 0;

  /** Link layer: MAC offsets are -1 when the link type has none. */
  dstMacOff = -1;
  srcMacOff = -1;
  /** EtherType (or SLL protocol) of the network layer, after any VLANs. */
  etherType = 0;
  vlanCount = 0;
  /** VLAN ids, outermost first; only `vlanCount` entries are valid. */
  readonly vlanIds = new Uint16Array(MAX_VLAN_DEPTH);
  /** 802.1p priority of the outermost tag. */
  vlanPriority = 0;
  /** Offset of the bytes after the link header and VLAN tags, -1 if none. */
  networkOff = -1;

  /** ARP (RFC 826), Ethernet/IPv4 only; offsets of the 6- and 4-byte fields. */
  arpOp = 0;
  arpSenderMacOff = -1;
  arpSenderIpOff = -1;
  arpTargetMacOff = -1;
  arpTargetIpOff = -1;

  /** IP: 4 or 6, 0 when no IP header was decoded. */
  ipVersion = 0;
  ipHdrOff = -1;
  /** Offsets of the source and destination addresses (4 or 16 bytes). */
  srcAddrOff = -1;
  dstAddrOff = -1;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  /** DSCP and ECN bits: IPv4 ToS or IPv6 traffic class. */
  tos = 0;
  /** IPv4 header length including options, or IPv6 fixed + extensions. */
  ipHdrBytes = 0;
  /** Declared IP packet length: IPv4 total length, IPv6 40 + payload. */
  ipTotalBytes = 0;
  /** IPv4 identification, or the IPv6 fragment header identification. */
  ipId = 0;
  ipDontFragment = false;
  ipMoreFragments = false;
  /** Fragment offset in bytes (not 8-byte units). */
  fragmentOffsetBytes = 0;
  /** True for any fragment; later fragments carry no transport header. */
  isFragment = false;
  /** IPv4 options length in bytes (header length minus 20). */
  ipv4OptionBytes = 0;
  /** IPv6 flow label (20 bits). */
  ipv6FlowLabel = 0;
  /** IPv6 extension headers in chain order; `ipv6ExtCount` are valid. */
  readonly ipv6ExtTypes = new Uint8Array(MAX_IPV6_EXT_HEADERS);
  ipv6ExtCount = 0;
  /** Transport protocol number after IPv4 options or IPv6 extensions. */
  ipProtocol = -1;

  /** Transport header offset; -1 when absent (later fragments included). */
  l4Off = -1;
  srcPort = 0;
  dstPort = 0;

  /** TCP (RFC 9293); the flags byte and the two reserved-bit nibble. */
  tcpFlags = 0;
  tcpReservedBits = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWindow = 0;
  tcpUrgentPointer = 0;
  tcpHdrBytes = 0;
  /** TCP option kinds in wire order; `tcpOptionCount` entries are valid. */
  readonly tcpOptionKinds = new Uint8Array(MAX_TCP_OPTIONS);
  tcpOptionCount = 0;
  /** MSS option value, -1 when absent. */
  tcpMss = -1;
  /** Window-scale shift count, -1 when absent. */
  tcpWindowScale = -1;
  tcpSackPermitted = false;
  /** Timestamps option (RFC 7323); -1 when absent. */
  tcpTsVal = -1;
  tcpTsEcr = -1;
  /** `TcpOptionQuirk` bits. */
  tcpOptionQuirks = 0;

  /** UDP length field. */
  udpLengthBytes = 0;

  /** ICMP or ICMPv6 type and code; -1 when absent. */
  icmpType = -1;
  icmpCode = -1;
  /**
   * ICMPv6 neighbour discovery (RFC 4861): target address offset of a
   * solicitation or advertisement, and the link-layer address option offsets.
   */
  ndTargetAddrOff = -1;
  ndSourceLinkAddrOff = -1;
  ndTargetLinkAddrOff = -1;

  /** Application payload after the transport header, clamped to the capture. */
  payloadOff = -1;
  payloadBytes = 0;

  /** Reset every field to absent; called before each frame is decoded. */
  reset(): void {
    this.layers = 0;
    this.reason = 0;
    this.dstMacOff = -1;
    this.srcMacOff = -1;
    this.etherType = 0;
    this.vlanCount = 0;
    this.vlanPriority = 0;
    this.networkOff = -1;
    this.arpOp = 0;
    this.arpSenderMacOff = -1;
    this.arpSenderIpOff = -1;
    this.arpTargetMacOff = -1;
    this.arpTargetIpOff = -1;
    this.ipVersion = 0;
    this.ipHdrOff = -1;
    this.srcAddrOff = -1;
    this.dstAddrOff = -1;
    this.ttl = 0;
    this.tos = 0;
    this.ipHdrBytes = 0;
    this.ipTotalBytes = 0;
    this.ipId = 0;
    this.ipDontFragment = false;
    this.ipMoreFragments = false;
    this.fragmentOffsetBytes = 0;
    this.isFragment = false;
    this.ipv4OptionBytes = 0;
    this.ipv6FlowLabel = 0;
    this.ipv6ExtCount = 0;
    this.ipProtocol = -1;
    this.l4Off = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpReservedBits = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpWindow = 0;
    this.tcpUrgentPointer = 0;
    this.tcpHdrBytes = 0;
    this.tcpOptionCount = 0;
    this.tcpMss = -1;
    this.tcpWindowScale = -1;
    this.tcpSackPermitted = false;
    this.tcpTsVal = -1;
    this.tcpTsEcr = -1;
    this.tcpOptionQuirks = 0;
    this.udpLengthBytes = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.ndTargetAddrOff = -1;
    this.ndSourceLinkAddrOff = -1;
    this.ndTargetLinkAddrOff = -1;
    this.payloadOff = -1;
    this.payloadBytes = 0;
  }
}
