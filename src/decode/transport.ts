/**
 * Transport headers: TCP (RFC 9293) with its options, UDP (RFC 768), ICMP
 * (RFC 792) and ICMPv6 (RFC 4443) with neighbour discovery (RFC 4861).
 */
import { u16be, u32be } from './bytes.js';
import {
  DecodeStatus,
  Layer,
  MAX_TCP_OPTIONS,
  Reason,
  TcpOptionQuirk,
  type DecodedPacket,
} from './packet.js';
import { malformed, truncated } from './status.js';

/** IP protocol numbers (IANA) of the transports we decode. */
export const IpProtocol = {
  Icmp: 1,
  Tcp: 6,
  Udp: 17,
  Icmpv6: 58,
  Sctp: 132,
} as const;

/** TCP option kinds (IANA) that carry fields we keep. */
export const TcpOption = {
  End: 0,
  Nop: 1,
  Mss: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
} as const;

const TCP_MIN_HDR_BYTES = 20;
const UDP_HDR_BYTES = 8;
const SCTP_COMMON_HDR_BYTES = 12;
const ICMP_MIN_BYTES = 4;
const ICMP_ECHO_HDR_BYTES = 8;

/**
 * Decode the transport header at `off` for `out.ipProtocol`.
 * @param end end of the captured bytes of this IP packet
 * @param declaredEnd where the IP header says the packet ends; larger than
 *   `end` when the capture was cut by the snap length
 */
export function decodeTransport(
  buf: Uint8Array,
  off: number,
  end: number,
  declaredEnd: number,
  out: DecodedPacket,
): number {
  switch (out.ipProtocol) {
    case IpProtocol.Tcp:
      return decodeTcp(buf, off, end, declaredEnd, out);
    case IpProtocol.Udp:
      return decodeUdp(buf, off, end, out);
    case IpProtocol.Icmp:
      return decodeIcmp(buf, off, end, out, Layer.Icmp, Reason.IcmpTruncated);
    case IpProtocol.Icmpv6:
      return decodeIcmpv6(buf, off, end, out);
    case IpProtocol.Sctp:
      readSctpPorts(buf, off, end, out);
      return DecodeStatus.Ok;
    default:
      return DecodeStatus.Ok;
  }
}

/**
 * SCTP (RFC 9260) is not counted as a layer, but its ports key its flows
 * (as Community ID does); a short common header just leaves them out.
 */
function readSctpPorts(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): void {
  if (end - off < SCTP_COMMON_HDR_BYTES) return;
  out.l4Off = off;
  out.srcPort = u16be(buf, off);
  out.dstPort = u16be(buf, off + 2);
  out.payloadOff = off + SCTP_COMMON_HDR_BYTES;
  out.payloadBytes = end - out.payloadOff;
}

/** Decode a TCP header and its options at `off`. */
export function decodeTcp(
  buf: Uint8Array,
  off: number,
  end: number,
  declaredEnd: number,
  out: DecodedPacket,
): number {
  if (end - off < TCP_MIN_HDR_BYTES) return truncated(out, Reason.TcpTruncated);
  const hdrBytes = (buf[off + 12] >> 4) * 4;
  if (hdrBytes < TCP_MIN_HDR_BYTES || hdrBytes > declaredEnd - off) {
    return malformed(out, Reason.TcpHdrLenInvalid);
  }
  if (end - off < hdrBytes) return truncated(out, Reason.TcpTruncated);

  out.layers |= Layer.Tcp;
  out.l4Off = off;
  out.srcPort = u16be(buf, off);
  out.dstPort = u16be(buf, off + 2);
  out.tcpSeq = u32be(buf, off + 4);
  out.tcpAck = u32be(buf, off + 8);
  out.tcpReservedBits = buf[off + 12] & 0x0f;
  out.tcpFlags = buf[off + 13];
  out.tcpWindow = u16be(buf, off + 14);
  out.tcpUrgentPointer = u16be(buf, off + 18);
  out.tcpHdrBytes = hdrBytes;
  if (hdrBytes > TCP_MIN_HDR_BYTES) {
    decodeTcpOptions(buf, off + TCP_MIN_HDR_BYTES, off + hdrBytes, out);
  }

  out.payloadOff = off + hdrBytes;
  out.payloadBytes = Math.max(0, end - out.payloadOff);
  return DecodeStatus.Ok;
}

/**
 * Walk the option block, recording kinds in order and the values of MSS,
 * window scale, SACK-permitted and timestamps. Malformed options do not
 * drop the segment: they identify a stack, so they become quirk bits.
 */
function decodeTcpOptions(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): void {
  let cursor = off;
  while (cursor < end) {
    const kind = buf[cursor];
    if (out.tcpOptionCount === MAX_TCP_OPTIONS) {
      out.tcpOptionQuirks |= TcpOptionQuirk.TooMany;
      return;
    }
    out.tcpOptionKinds[out.tcpOptionCount++] = kind;

    if (kind === TcpOption.End) {
      for (let i = cursor + 1; i < end; i++) {
        if (buf[i] !== 0) {
          out.tcpOptionQuirks |= TcpOptionQuirk.TrailingData;
          break;
        }
      }
      return;
    }
    if (kind === TcpOption.Nop) {
      cursor++;
      continue;
    }

    if (end - cursor < 2) {
      out.tcpOptionQuirks |= TcpOptionQuirk.BadLength;
      return;
    }
    const optionBytes = buf[cursor + 1];
    if (optionBytes < 2 || optionBytes > end - cursor) {
      out.tcpOptionQuirks |= TcpOptionQuirk.BadLength;
      return;
    }
    readTcpOptionValue(buf, cursor, kind, optionBytes, out);
    cursor += optionBytes;
  }
}

function readTcpOptionValue(
  buf: Uint8Array,
  off: number,
  kind: number,
  optionBytes: number,
  out: DecodedPacket,
): void {
  switch (kind) {
    case TcpOption.Mss:
      if (optionBytes === 4) out.tcpMss = u16be(buf, off + 2);
      else out.tcpOptionQuirks |= TcpOptionQuirk.WrongKnownLength;
      return;
    case TcpOption.WindowScale:
      if (optionBytes === 3) out.tcpWindowScale = buf[off + 2];
      else out.tcpOptionQuirks |= TcpOptionQuirk.WrongKnownLength;
      return;
    case TcpOption.SackPermitted:
      if (optionBytes === 2) out.tcpSackPermitted = true;
      else out.tcpOptionQuirks |= TcpOptionQuirk.WrongKnownLength;
      return;
    case TcpOption.Timestamps:
      if (optionBytes === 10) {
        out.tcpTsVal = u32be(buf, off + 2);
        out.tcpTsEcr = u32be(buf, off + 6);
      } else {
        out.tcpOptionQuirks |= TcpOptionQuirk.WrongKnownLength;
      }
      return;
    default:
      return;
  }
}

/** Decode a UDP header at `off`. */
export function decodeUdp(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  if (end - off < UDP_HDR_BYTES) return truncated(out, Reason.UdpTruncated);
  const lengthBytes = u16be(buf, off + 4);
  // Zero is legal only for IPv6 jumbograms (RFC 2675); below 8 is bogus.
  if (lengthBytes !== 0 && lengthBytes < UDP_HDR_BYTES) {
    return malformed(out, Reason.UdpLenInvalid);
  }

  out.layers |= Layer.Udp;
  out.l4Off = off;
  out.srcPort = u16be(buf, off);
  out.dstPort = u16be(buf, off + 2);
  out.udpLengthBytes = lengthBytes;

  out.payloadOff = off + UDP_HDR_BYTES;
  const udpEnd = lengthBytes === 0 ? end : Math.min(end, off + lengthBytes);
  out.payloadBytes = Math.max(0, udpEnd - out.payloadOff);
  return DecodeStatus.Ok;
}

/** Decode an ICMP or ICMPv6 type and code, and mark `layer` decoded. */
function decodeIcmp(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
  layer: number,
  reason: number,
): number {
  if (end - off < ICMP_MIN_BYTES) return truncated(out, reason);
  out.layers |= layer;
  out.l4Off = off;
  out.icmpType = buf[off];
  out.icmpCode = buf[off + 1];

  const bodyOff = off + Math.min(ICMP_ECHO_HDR_BYTES, end - off);
  out.payloadOff = bodyOff;
  out.payloadBytes = end - bodyOff;
  return DecodeStatus.Ok;
}

/** ICMPv6 types of neighbour discovery (RFC 4861 section 4). */
export const NdType = {
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
} as const;

const ND_OPTION_SOURCE_LINK_ADDR = 1;
const ND_OPTION_TARGET_LINK_ADDR = 2;
/** Options a single ND message may carry before we stop looking. */
const MAX_ND_OPTIONS = 16;

/** Decode ICMPv6 and, for neighbour discovery, the addresses it binds. */
function decodeIcmpv6(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  const status = decodeIcmp(
    buf,
    off,
    end,
    out,
    Layer.Icmpv6,
    Reason.Icmpv6Truncated,
  );
  if (status !== DecodeStatus.Ok) return status;

  let optionsOff: number;
  switch (out.icmpType) {
    case NdType.RouterSolicitation:
      optionsOff = off + 8;
      break;
    case NdType.RouterAdvertisement:
      optionsOff = off + 16;
      break;
    case NdType.NeighborSolicitation:
    case NdType.NeighborAdvertisement:
      if (end - off >= 24) out.ndTargetAddrOff = off + 8;
      optionsOff = off + 24;
      break;
    case NdType.Redirect:
      if (end - off >= 24) out.ndTargetAddrOff = off + 8;
      optionsOff = off + 40;
      break;
    default:
      return DecodeStatus.Ok;
  }
  readNdOptions(buf, optionsOff, end, out);
  return DecodeStatus.Ok;
}

/** A bad option ends the walk; the message itself is still counted. */
function readNdOptions(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): void {
  let cursor = off;
  for (let i = 0; i < MAX_ND_OPTIONS && end - cursor >= 8; i++) {
    const type = buf[cursor];
    const optionBytes = buf[cursor + 1] * 8;
    if (optionBytes === 0 || optionBytes > end - cursor) return;

    if (type === ND_OPTION_SOURCE_LINK_ADDR && optionBytes === 8) {
      out.ndSourceLinkAddrOff = cursor + 2;
    } else if (type === ND_OPTION_TARGET_LINK_ADDR && optionBytes === 8) {
      out.ndTargetLinkAddrOff = cursor + 2;
    }
    cursor += optionBytes;
  }
}
