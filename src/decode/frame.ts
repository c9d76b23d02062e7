/**
 * Entry of the decoder: picks the link-layer decoder for a frame's link type
 * and fills one preallocated `DecodedPacket`.
 */
import { LinkType } from '../capture/link-type.js';
import { u16be, u32be, u32le } from './bytes.js';
import { decodeEthernet, decodeEtherTypePayload } from './ethernet.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { DecodeStatus, Layer, Reason, type DecodedPacket } from './packet.js';
import { malformed, truncated, unsupported } from './status.js';

/** Linux cooked capture v1 header (LINKTYPE_LINUX_SLL). */
const SLL_HDR_BYTES = 16;
/** Linux cooked capture v2 header (LINKTYPE_LINUX_SLL2). */
const SLL2_HDR_BYTES = 20;
/** BSD loopback: the address family as a 4-byte integer. */
const LOOPBACK_HDR_BYTES = 4;
/** ARPHRD_ETHER: the cooked header's address is an Ethernet MAC. */
const ARPHRD_ETHER = 1;

/**
 * Decode the frame at `buf[off .. off + capturedBytes)` into `out`.
 * Never throws on frame bytes: a frame that cannot be fully decoded returns
 * Truncated, Malformed or Unsupported with `out.reason` set, and `out.layers`
 * holds the headers decoded before the problem.
 * @param wireBytes the frame's length on the wire (not used for bounds)
 */
export function decodeFrame(
  buf: Uint8Array,
  off: number,
  capturedBytes: number,
  wireBytes: number,
  linkType: number,
  out: DecodedPacket,
): number {
  out.reset();
  const end = Math.min(off + capturedBytes, buf.length);
  if (end <= off) return truncated(out, Reason.FrameEmpty);

  switch (linkType) {
    case LinkType.Ethernet:
      return decodeEthernet(buf, off, end, out);
    case LinkType.LinuxSll:
      return decodeLinuxSll(buf, off, end, out);
    case LinkType.LinuxSll2:
      return decodeLinuxSll2(buf, off, end, out);
    case LinkType.Raw:
      return decodeRawIp(buf, off, end, out);
    case LinkType.Ipv4:
      return decodeIpv4(buf, off, end, out);
    case LinkType.Ipv6:
      return decodeIpv6(buf, off, end, out);
    case LinkType.Null:
      return decodeLoopback(buf, off, end, out, false);
    case LinkType.Loop:
      return decodeLoopback(buf, off, end, out, true);
    default:
      return unsupported(out, Reason.LinkTypeUnsupported);
  }
}

/** Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes. */
function decodeLinuxSll(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  if (end - off < SLL_HDR_BYTES) return truncated(out, Reason.SllTruncated);
  out.layers |= Layer.LinuxSll;

  const arphrd = u16be(buf, off + 2);
  const addrBytes = u16be(buf, off + 4);
  if (arphrd === ARPHRD_ETHER && addrBytes === 6) out.srcMacOff = off + 6;

  const protocol = u16be(buf, off + 14);
  return decodeEtherTypePayload(buf, off + SLL_HDR_BYTES, end, protocol, out);
}

/** Linux cooked v2: protocol first, then interface index and address. */
function decodeLinuxSll2(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  if (end - off < SLL2_HDR_BYTES) return truncated(out, Reason.SllTruncated);
  out.layers |= Layer.LinuxSll;

  const arphrd = u16be(buf, off + 8);
  const addrBytes = buf[off + 11];
  if (arphrd === ARPHRD_ETHER && addrBytes === 6) out.srcMacOff = off + 12;

  const protocol = u16be(buf, off);
  return decodeEtherTypePayload(buf, off + SLL2_HDR_BYTES, end, protocol, out);
}

/** Raw IP: no link header, the version nibble says which IP. */
function decodeRawIp(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  const version = buf[off] >> 4;
  if (version === 4) return decodeIpv4(buf, off, end, out);
  if (version === 6) return decodeIpv6(buf, off, end, out);
  return malformed(out, Reason.RawIpVersionInvalid);
}

/**
 * BSD loopback. DLT_NULL stores the family in the capturing host's byte
 * order, which the file does not record, so accept either order.
 */
function decodeLoopback(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
  isBigEndian: boolean,
): number {
  if (end - off < LOOPBACK_HDR_BYTES) {
    return truncated(out, Reason.LoopbackTruncated);
  }
  out.layers |= Layer.Loopback;

  let family = isBigEndian ? u32be(buf, off) : u32le(buf, off);
  if (!isBigEndian && family > 0xffff) family = u32be(buf, off);
  const ipOff = off + LOOPBACK_HDR_BYTES;

  // AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28
  // (FreeBSD) or 30 (macOS).
  if (family === 2) return decodeIpv4(buf, ipOff, end, out);
  if (family === 24 || family === 28 || family === 30) {
    return decodeIpv6(buf, ipOff, end, out);
  }
  return DecodeStatus.Ok;
}
