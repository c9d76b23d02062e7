/** IPv6 (RFC 8200): fixed header, a bounded extension-header chain. */
import { u16be, u32be } from './bytes.js';
import {
  DecodeStatus,
  Layer,
  MAX_IPV6_EXT_HEADERS,
  Reason,
  type DecodedPacket,
} from './packet.js';
import { malformed, truncated } from './status.js';
import { decodeTransport } from './transport.js';

const IPV6_HDR_BYTES = 40;
const FRAGMENT_HDR_BYTES = 8;

/** IPv6 next-header values of the extension headers we walk (IANA). */
export const Ipv6Ext = {
  HopByHop: 0,
  Routing: 43,
  Fragment: 44,
  AuthHeader: 51,
  DestinationOptions: 60,
  NoNextHeader: 59,
} as const;

/** Decode an IPv6 header at `off`, its extensions and the transport header. */
export function decodeIpv6(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  if (end - off < IPV6_HDR_BYTES) return truncated(out, Reason.Ipv6Truncated);
  const word0 = u32be(buf, off);
  if (word0 >>> 28 !== 6) return malformed(out, Reason.Ipv6VersionInvalid);

  // A payload length of 0 means a jumbogram (RFC 2675) or an offloaded
  // send; either way the frame holds the packet.
  const payloadBytes = u16be(buf, off + 4);
  const declaredEnd =
    payloadBytes === 0 ? end : off + IPV6_HDR_BYTES + payloadBytes;

  out.layers |= Layer.Ipv6;
  out.ipVersion = 6;
  out.ipHdrOff = off;
  out.tos = (word0 >>> 20) & 0xff;
  out.ipv6FlowLabel = word0 & 0xfffff;
  out.ttl = buf[off + 7];
  out.srcAddrOff = off + 8;
  out.dstAddrOff = off + 24;
  out.ipTotalBytes = declaredEnd - off;

  const ipEnd = Math.min(end, declaredEnd);
  let nextHeader = buf[off + 6];
  let cursor = off + IPV6_HDR_BYTES;
  while (isExtensionHeader(nextHeader)) {
    if (out.ipv6ExtCount === MAX_IPV6_EXT_HEADERS) {
      return malformed(out, Reason.Ipv6ExtChainTooLong);
    }
    if (ipEnd - cursor < 8) return truncated(out, Reason.Ipv6ExtTruncated);
    out.ipv6ExtTypes[out.ipv6ExtCount++] = nextHeader;

    let extBytes: number;
    if (nextHeader === Ipv6Ext.Fragment) {
      extBytes = FRAGMENT_HDR_BYTES;
      const offsetAndFlags = u16be(buf, cursor + 2);
      out.fragmentOffsetBytes = offsetAndFlags & 0xfff8;
      out.ipMoreFragments = (offsetAndFlags & 1) !== 0;
      out.ipId = u32be(buf, cursor + 4);
      out.isFragment = true;
    } else if (nextHeader === Ipv6Ext.AuthHeader) {
      extBytes = (buf[cursor + 1] + 2) * 4;
    } else {
      extBytes = (buf[cursor + 1] + 1) * 8;
    }
    if (ipEnd - cursor < extBytes) {
      return truncated(out, Reason.Ipv6ExtTruncated);
    }

    nextHeader = buf[cursor];
    cursor += extBytes;
    if (out.fragmentOffsetBytes > 0) break;
  }
  out.ipHdrBytes = cursor - off;
  out.ipProtocol = nextHeader;

  // Later fragments start mid-payload: there is no transport header to read.
  if (out.fragmentOffsetBytes > 0) return DecodeStatus.Ok;
  if (nextHeader === Ipv6Ext.NoNextHeader) return DecodeStatus.Ok;
  return decodeTransport(buf, cursor, ipEnd, declaredEnd, out);
}

function isExtensionHeader(nextHeader: number): boolean {
  return (
    nextHeader === Ipv6Ext.HopByHop ||
    nextHeader === Ipv6Ext.Routing ||
    nextHeader === Ipv6Ext.Fragment ||
    nextHeader === Ipv6Ext.DestinationOptions ||
    nextHeader === Ipv6Ext.AuthHeader
  );
}
