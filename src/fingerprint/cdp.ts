/**
 * Cisco Discovery Protocol (versions 1 and 2, SNAP PID 0x2000 to
 * 01:00:0c:cc:cc:cc): device id, platform, software version, port,
 * addresses and capabilities.
 */
import { u16be, u32be } from '../decode/bytes.js';
import {
  decodeText,
  formatHex,
  formatIpv4,
  formatIpv6,
  namesOfBits,
} from './text.js';

/** CDP's multicast destination MAC. */
export const CDP_MULTICAST_MAC = '01:00:0c:cc:cc:cc';

/** TLV types read here (Cisco's published CDP TLV list). */
export const CdpTlv = {
  DeviceId: 0x0001,
  Addresses: 0x0002,
  PortId: 0x0003,
  Capabilities: 0x0004,
  SoftwareVersion: 0x0005,
  Platform: 0x0006,
  NativeVlan: 0x000a,
  SystemName: 0x0014,
  ManagementAddresses: 0x0016,
} as const;

/** Capability bits of the capabilities TLV. */
export const CdpCapability = {
  Router: 0x01,
  TransparentBridge: 0x02,
  SourceRouteBridge: 0x04,
  Switch: 0x08,
  Host: 0x10,
  IgmpCapable: 0x20,
  Repeater: 0x40,
  VoipPhone: 0x80,
  RemotelyManaged: 0x100,
  CvtaPhonePort: 0x200,
  TwoPortMacRelay: 0x400,
} as const;

/** Stable names of the capability bits, bit 0 first (as `CdpCapability`). */
const CDP_CAPABILITY_NAMES = [
  'router',
  'transparent_bridge',
  'source_route_bridge',
  'switch',
  'host',
  'igmp',
  'repeater',
  'phone',
  'remotely_managed',
  'cvta_phone_port',
  'two_port_mac_relay',
] as const;

/**
 * Names of the capability bits set in `bits` (`CdpInfo.capabilities`), in
 * bit order: `router`, `switch`, `host`, `phone`... None for -1 (no
 * capabilities TLV).
 */
export function cdpCapabilityNames(bits: number): string[] {
  return namesOfBits(bits, CDP_CAPABILITY_NAMES);
}

/** What one CDP packet says about the sender. Absent: '', -1 or empty. */
export interface CdpInfo {
  /** CDP version from the header (1 or 2). */
  version: number;
  ttlSec: number;
  deviceId: string;
  /** Platform, e.g. `cisco WS-C3560G-24PS`. */
  platform: string;
  /** Software version; several lines joined by LF as sent. */
  softwareVersion: string;
  /** Sending interface, e.g. `GigabitEthernet0/13`. */
  portId: string;
  /** CdpCapability bits, -1 when the TLV is absent. */
  capabilities: number;
  /** Addresses TLV: IPv4/IPv6 as text, other protocols as hex. */
  addresses: string[];
  /** Management addresses TLV, same forms. */
  managementAddresses: string[];
  nativeVlan: number;
  systemName: string;
}

/** LLC (3) + SNAP (5) + CDP header (4). */
const CDP_MIN_BYTES = 12;
const CDP_HDR_OFF = 8;
const CDP_TLV_HDR_BYTES = 4;
/** TLVs read per packet at most. */
export const MAX_CDP_TLVS = 64;
/** Addresses kept per address TLV. */
export const MAX_CDP_ADDRESSES = 8;
/** Cap on the software version text, in bytes. */
export const MAX_CDP_VERSION_BYTES = 1024;

// The protocol field of an IPv6 address entry: an 802.2 LLC/SNAP header
// with EtherType 0x86dd.
const IPV6_SNAP = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd];

/**
 * Parse a CDP packet at its LLC header `buf[off .. end)` (the bytes after
 * the 802.3 length field). Returns null unless the header is LLC
 * AA-AA-03 with SNAP OUI 00-00-0C and PID 0x2000.
 */
export function parseCdp(
  buf: Uint8Array,
  off: number,
  end: number,
): CdpInfo | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < CDP_MIN_BYTES) return null;
  if (buf[off] !== 0xaa || buf[off + 1] !== 0xaa || buf[off + 2] !== 0x03) {
    return null;
  }
  if (buf[off + 3] !== 0 || buf[off + 4] !== 0 || buf[off + 5] !== 0x0c) {
    return null;
  }
  if (u16be(buf, off + 6) !== 0x2000) return null;

  const info: CdpInfo = {
    version: buf[off + CDP_HDR_OFF],
    ttlSec: buf[off + CDP_HDR_OFF + 1],
    deviceId: '',
    platform: '',
    softwareVersion: '',
    portId: '',
    capabilities: -1,
    addresses: [],
    managementAddresses: [],
    nativeVlan: -1,
    systemName: '',
  };

  let pos = off + CDP_MIN_BYTES;
  for (let i = 0; i < MAX_CDP_TLVS && pos + CDP_TLV_HDR_BYTES <= end; i++) {
    const type = u16be(buf, pos);
    const tlvBytes = u16be(buf, pos + 2);
    if (tlvBytes < CDP_TLV_HDR_BYTES || pos + tlvBytes > end) break;
    readTlv(buf, type, pos + CDP_TLV_HDR_BYTES, pos + tlvBytes, info);
    pos += tlvBytes;
  }
  return info;
}

function readTlv(
  buf: Uint8Array,
  type: number,
  off: number,
  end: number,
  info: CdpInfo,
): void {
  switch (type) {
    case CdpTlv.DeviceId:
      info.deviceId = decodeText(buf, off, end);
      return;
    case CdpTlv.Platform:
      info.platform = decodeText(buf, off, end);
      return;
    case CdpTlv.SoftwareVersion:
      info.softwareVersion = decodeText(buf, off, end, MAX_CDP_VERSION_BYTES);
      return;
    case CdpTlv.PortId:
      info.portId = decodeText(buf, off, end);
      return;
    case CdpTlv.SystemName:
      info.systemName = decodeText(buf, off, end);
      return;
    case CdpTlv.Capabilities:
      if (end - off >= 4) info.capabilities = u32be(buf, off);
      return;
    case CdpTlv.NativeVlan:
      if (end - off >= 2) info.nativeVlan = u16be(buf, off);
      return;
    case CdpTlv.Addresses:
      readAddresses(buf, off, end, info.addresses);
      return;
    case CdpTlv.ManagementAddresses:
      readAddresses(buf, off, end, info.managementAddresses);
      return;
    default:
      return;
  }
}

/**
 * Address list: a 32-bit count, then per entry protocol type (1 NLPID,
 * 2 802.2), protocol length, protocol, 16-bit address length, address.
 */
function readAddresses(
  buf: Uint8Array,
  off: number,
  end: number,
  out: string[],
): void {
  if (end - off < 4) return;
  const count = Math.min(u32be(buf, off), MAX_CDP_ADDRESSES);
  let pos = off + 4;
  for (let i = 0; i < count && out.length < MAX_CDP_ADDRESSES; i++) {
    if (pos + 2 > end) return;
    const protocolType = buf[pos];
    const protocolBytes = buf[pos + 1];
    const protocolOff = pos + 2;
    const lengthOff = protocolOff + protocolBytes;
    if (lengthOff + 2 > end) return;
    const addrOff = lengthOff + 2;
    const addrEnd = addrOff + u16be(buf, lengthOff);
    if (addrEnd > end) return;
    const addrBytes = addrEnd - addrOff;

    // NLPID 0xcc is IPv4; the 802.2 SNAP header with 0x86dd is IPv6.
    if (
      protocolType === 1 &&
      protocolBytes === 1 &&
      buf[protocolOff] === 0xcc &&
      addrBytes === 4
    ) {
      out.push(formatIpv4(buf, addrOff));
    } else if (
      protocolType === 2 &&
      addrBytes === 16 &&
      isIpv6Snap(buf, protocolOff, protocolBytes)
    ) {
      out.push(formatIpv6(buf, addrOff));
    } else {
      out.push(formatHex(buf, addrOff, addrEnd, 32));
    }
    pos = addrEnd;
  }
}

function isIpv6Snap(buf: Uint8Array, off: number, bytes: number): boolean {
  if (bytes !== IPV6_SNAP.length) return false;
  for (let i = 0; i < bytes; i++)
    if (buf[off + i] !== IPV6_SNAP[i]) return false;
  return true;
}
