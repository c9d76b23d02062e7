/** IPv4 (RFC 791): header, options length, fragments, transport dispatch. */
import { u16be } from './bytes.js';
import { DecodeStatus, Layer, Reason, type DecodedPacket } from './packet.js';
import { malformed, truncated } from './status.js';
import { decodeTransport } from './transport.js';

const IPV4_MIN_HDR_BYTES = 20;

/** Decode an IPv4 header at `off` and the transport header after it. */
export function decodeIpv4(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  if (end - off < IPV4_MIN_HDR_BYTES) {
    return truncated(out, Reason.Ipv4Truncated);
  }
  const versionAndIhl = buf[off];
  if (versionAndIhl >> 4 !== 4) {
    return malformed(out, Reason.Ipv4VersionInvalid);
  }

  const hdrBytes = (versionAndIhl & 0x0f) * 4;
  if (hdrBytes < IPV4_MIN_HDR_BYTES) {
    return malformed(out, Reason.Ipv4HdrLenInvalid);
  }
  if (end - off < hdrBytes) return truncated(out, Reason.Ipv4Truncated);

  // A total length of 0 is what segmentation offload leaves in captures
  // taken on the sending host; the frame then holds the whole packet.
  let totalBytes = u16be(buf, off + 2);
  if (totalBytes === 0) totalBytes = end - off;
  if (totalBytes < hdrBytes) {
    return malformed(out, Reason.Ipv4TotalLenInvalid);
  }

  out.layers |= Layer.Ipv4;
  out.ipVersion = 4;
  out.ipHdrOff = off;
  out.ipHdrBytes = hdrBytes;
  out.ipTotalBytes = totalBytes;
  out.ipv4OptionBytes = hdrBytes - IPV4_MIN_HDR_BYTES;
  out.tos = buf[off + 1];
  out.ipId = u16be(buf, off + 4);
  out.ttl = buf[off + 8];
  out.ipProtocol = buf[off + 9];
  out.srcAddrOff = off + 12;
  out.dstAddrOff = off + 16;

  const flagsAndOffset = u16be(buf, off + 6);
  out.ipDontFragment = (flagsAndOffset & 0x4000) !== 0;
  out.ipMoreFragments = (flagsAndOffset & 0x2000) !== 0;
  out.fragmentOffsetBytes = (flagsAndOffset & 0x1fff) * 8;
  out.isFragment = out.ipMoreFragments || out.fragmentOffsetBytes > 0;
  // Later fragments start mid-payload: there is no transport header to read.
  if (out.fragmentOffsetBytes > 0) return DecodeStatus.Ok;

  // Ethernet pads short frames; trust the IP total length, not the frame.
  const ipEnd = Math.min(end, off + totalBytes);
  return decodeTransport(buf, off + hdrBytes, ipEnd, off + totalBytes, out);
}
