/**
 * Ethernet II with 802.1Q / 802.1ad VLAN tags, and the EtherType dispatch to
 * the network layer shared by every link type that carries an EtherType.
 */
import { decodeArp } from './arp.js';
import { u16be } from './bytes.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import {
  DecodeStatus,
  Layer,
  MAX_VLAN_DEPTH,
  Reason,
  type DecodedPacket,
} from './packet.js';
import { malformed, truncated } from './status.js';

const ETHERNET_HDR_BYTES = 14;
const VLAN_TAG_BYTES = 4;

/** EtherTypes (IEEE registry) the decoder follows. */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  /** Reverse ARP (RFC 903) shares ARP's packet format. */
  Rarp: 0x8035,
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  QinQ: 0x88a8,
  /** Pre-standard QinQ tags still sent by some switches. */
  QinQLegacy1: 0x9100,
  QinQLegacy2: 0x9200,
  Lldp: 0x88cc,
} as const;

/** Below this value the EtherType field is an 802.3 length (LLC follows). */
const ETHERTYPE_MIN = 0x0600;

/** Decode an Ethernet II frame (IEEE 802.3 clause 3) at `off`. */
export function decodeEthernet(
  buf: Uint8Array,
  off: number,
  end: number,
  out: DecodedPacket,
): number {
  if (end - off < ETHERNET_HDR_BYTES) {
    return truncated(out, Reason.EthernetTruncated);
  }
  out.layers |= Layer.Ethernet;
  out.dstMacOff = off;
  out.srcMacOff = off + 6;

  const etherType = u16be(buf, off + 12);
  return decodeEtherTypePayload(
    buf,
    off + ETHERNET_HDR_BYTES,
    end,
    etherType,
    out,
  );
}

/**
 * Follow VLAN tags, then decode the network layer named by `etherType`
 * starting at `off`. An EtherType we do not decode (LLDP, 802.3 LLC...)
 * is not an error: the frame counts as other.
 */
export function decodeEtherTypePayload(
  buf: Uint8Array,
  off: number,
  end: number,
  etherType: number,
  out: DecodedPacket,
): number {
  while (isVlanEtherType(etherType)) {
    if (out.vlanCount === MAX_VLAN_DEPTH) {
      return malformed(out, Reason.VlanDepthExceeded);
    }
    if (end - off < VLAN_TAG_BYTES) return truncated(out, Reason.VlanTruncated);

    const tci = u16be(buf, off);
    if (out.vlanCount === 0) out.vlanPriority = tci >> 13;
    out.vlanIds[out.vlanCount++] = tci & 0x0fff;
    out.layers |= Layer.Vlan;
    etherType = u16be(buf, off + 2);
    off += VLAN_TAG_BYTES;
  }
  out.etherType = etherType;
  out.networkOff = off;

  switch (etherType) {
    case EtherType.Ipv4:
      return decodeIpv4(buf, off, end, out);
    case EtherType.Ipv6:
      return decodeIpv6(buf, off, end, out);
    case EtherType.Arp:
    case EtherType.Rarp:
      return decodeArp(buf, off, end, out);
    default:
      return DecodeStatus.Ok;
  }
}

function isVlanEtherType(etherType: number): boolean {
  return (
    etherType === EtherType.Vlan ||
    etherType === EtherType.QinQ ||
    etherType === EtherType.QinQLegacy1 ||
    etherType === EtherType.QinQLegacy2
  );
}

/** True when `etherType` is an 802.3 length, not a type. */
export function isLlcLength(etherType: number): boolean {
  return etherType < ETHERTYPE_MIN;
}
