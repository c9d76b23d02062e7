/** ARP (RFC 826): operation and the sender/target address offsets. */
import { u16be } from './bytes.js';
import { DecodeStatus, Layer, Reason, type DecodedPacket } from './packet.js';
import { truncated } from './status.js';

const ARP_FIXED_BYTES = 8;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;

/** Decode an ARP packet at `off`; addresses are kept for Ethernet/IPv4. */
export function decodeArp(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  if (end - off < ARP_FIXED_BYTES) return truncated(out, Reason.ArpTruncated);

  const hardwareType = u16be(buf, off);
  const protocolType = u16be(buf, off + 2);
  const hardwareAddrBytes = buf[off + 4];
  const protocolAddrBytes = buf[off + 5];
  const addressesBytes = 2 * (hardwareAddrBytes + protocolAddrBytes);
  if (end - off < ARP_FIXED_BYTES + addressesBytes) {
    return truncated(out, Reason.ArpTruncated);
  }
  out.layers |= Layer.Arp;
  out.arpOp = u16be(buf, off + 6);

  const isEthernetIpv4 =
    hardwareType === HTYPE_ETHERNET &&
    protocolType === PTYPE_IPV4 &&
    hardwareAddrBytes === 6 &&
    protocolAddrBytes === 4;
  if (isEthernetIpv4) {
    out.arpSenderMacOff = off + 8;
    out.arpSenderIpOff = off + 14;
    out.arpTargetMacOff = off + 18;
    out.arpTargetIpOff = off + 24;
  }
  return DecodeStatus.Ok;
}
