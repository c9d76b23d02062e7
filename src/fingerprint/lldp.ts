/**
 * LLDP (IEEE 802.1AB-2016 clause 8): chassis and port ids, names and
 * descriptions, capabilities, management addresses, the MUD URL (RFC 8520)
 * and the LLDP-MED inventory (ANSI/TIA-1057).
 */
import { u16be } from '../decode/bytes.js';
import {
  decodeText,
  formatHex,
  formatHexColons,
  formatIpv4,
  formatIpv6,
  namesOfBits,
} from './text.js';

/** LLDP EtherType (IEEE 802.1AB). */
export const LLDP_ETHERTYPE = 0x88cc;

/** TLV types of the basic set (802.1AB clause 8). */
export const LldpTlv = {
  End: 0,
  ChassisId: 1,
  PortId: 2,
  Ttl: 3,
  PortDescription: 4,
  SystemName: 5,
  SystemDescription: 6,
  Capabilities: 7,
  ManagementAddress: 8,
  OrgSpecific: 127,
} as const;

/** Capability bits (802.1AB clause 8), for `capabilitiesSupported`. */
export const LldpCapability = {
  Other: 1 << 0,
  Repeater: 1 << 1,
  Bridge: 1 << 2,
  WlanAccessPoint: 1 << 3,
  Router: 1 << 4,
  Telephone: 1 << 5,
  DocsisCableDevice: 1 << 6,
  StationOnly: 1 << 7,
  CVlan: 1 << 8,
  SVlan: 1 << 9,
  TwoPortMacRelay: 1 << 10,
} as const;

/** Stable names of the capability bits, bit 0 first (802.1AB clause 8). */
const LLDP_CAPABILITY_NAMES = [
  'other',
  'repeater',
  'bridge',
  'wlan_access_point',
  'router',
  'telephone',
  'docsis_cable_device',
  'station_only',
  'c_vlan',
  's_vlan',
  'two_port_mac_relay',
] as const;

/**
 * Names of the capability bits set in `bits` (a `capabilitiesEnabled` or
 * `capabilitiesSupported` map), in bit order: `bridge`, `router`,
 * `telephone`, `station_only`... None for -1 (no capabilities TLV).
 */
export function lldpCapabilityNames(bits: number): string[] {
  return namesOfBits(bits, LLDP_CAPABILITY_NAMES);
}

/** LLDP-MED inventory (TIA-1057 subtypes 5-11), '' for each absent. */
export interface LldpMedInventory {
  /** Device class: 1-3 endpoint classes, 4 network connectivity; -1. */
  deviceClass: number;
  hardwareRevision: string;
  firmwareRevision: string;
  softwareRevision: string;
  serialNumber: string;
  manufacturer: string;
  modelName: string;
  assetId: string;
}

/** What one LLDPDU says about the sender. Absent: '', -1 or empty. */
export interface LldpInfo {
  /** Chassis id subtype (802.1AB): 4 MAC, 5 network address, 7 local... */
  chassisIdSubtype: number;
  /** MAC as `aa:bb:...`, network address as text, else the string. */
  chassisId: string;
  /** Port id subtype (802.1AB): 3 MAC, 5 interface name, 7 local... */
  portIdSubtype: number;
  portId: string;
  ttlSec: number;
  portDescription: string;
  systemName: string;
  systemDescription: string;
  /** Capability bit maps (LldpCapability), -1 when the TLV is absent. */
  capabilitiesSupported: number;
  capabilitiesEnabled: number;
  /** Management addresses: IPv4/IPv6 as text, other families as hex. */
  managementAddresses: string[];
  /** IEEE 802.1 port VLAN id (802.1Q annex D), -1 when absent. */
  portVlanId: number;
  /** MUD URL (RFC 8520): IANA OUI 00-00-5E, subtype 1; '' when absent. */
  mudUrl: string;
  med: LldpMedInventory;
}

/** TLVs read per LLDPDU at most. */
export const MAX_LLDP_TLVS = 128;
/** Management addresses kept. */
export const MAX_LLDP_MGMT_ADDRESSES = 8;

const OUI_IEEE_8021 = 0x0080c2;
const OUI_IANA = 0x00005e;
const OUI_TIA = 0x0012bb;

/** IANA address family numbers used in LLDP network addresses. */
const AF_IPV4 = 1;
const AF_IPV6 = 2;

/**
 * Parse the LLDPDU in `buf[off .. end)`, the bytes after the EtherType
 * (and any VLAN tags). Returns null for fewer than 2 bytes. The TLV walk
 * stops at the End TLV, at a TLV running past `end`, or after 128 TLVs.
 */
export function parseLldp(
  buf: Uint8Array,
  off: number,
  end: number,
): LldpInfo | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < 2) return null;

  const info: LldpInfo = {
    chassisIdSubtype: -1,
    chassisId: '',
    portIdSubtype: -1,
    portId: '',
    ttlSec: -1,
    portDescription: '',
    systemName: '',
    systemDescription: '',
    capabilitiesSupported: -1,
    capabilitiesEnabled: -1,
    managementAddresses: [],
    portVlanId: -1,
    mudUrl: '',
    med: {
      deviceClass: -1,
      hardwareRevision: '',
      firmwareRevision: '',
      softwareRevision: '',
      serialNumber: '',
      manufacturer: '',
      modelName: '',
      assetId: '',
    },
  };

  let pos = off;
  for (let i = 0; i < MAX_LLDP_TLVS && pos + 2 <= end; i++) {
    const header = u16be(buf, pos);
    const type = header >> 9;
    const valueOff = pos + 2;
    const valueEnd = valueOff + (header & 0x01ff);
    if (type === LldpTlv.End || valueEnd > end) break;
    readTlv(buf, type, valueOff, valueEnd, info);
    pos = valueEnd;
  }
  return info;
}

function readTlv(
  buf: Uint8Array,
  type: number,
  off: number,
  end: number,
  info: LldpInfo,
): void {
  const valueBytes = end - off;
  switch (type) {
    case LldpTlv.ChassisId:
      if (valueBytes >= 2 && info.chassisIdSubtype < 0) {
        info.chassisIdSubtype = buf[off];
        info.chassisId = readId(buf, off + 1, end, info.chassisIdSubtype, 4, 5);
      }
      return;
    case LldpTlv.PortId:
      if (valueBytes >= 2 && info.portIdSubtype < 0) {
        info.portIdSubtype = buf[off];
        info.portId = readId(buf, off + 1, end, info.portIdSubtype, 3, 4);
      }
      return;
    case LldpTlv.Ttl:
      if (valueBytes >= 2) info.ttlSec = u16be(buf, off);
      return;
    case LldpTlv.PortDescription:
      info.portDescription = decodeText(buf, off, end, 511, false);
      return;
    case LldpTlv.SystemName:
      info.systemName = decodeText(buf, off, end, 511, false);
      return;
    case LldpTlv.SystemDescription:
      info.systemDescription = decodeText(buf, off, end, 511, false);
      return;
    case LldpTlv.Capabilities:
      if (valueBytes >= 4) {
        info.capabilitiesSupported = u16be(buf, off);
        info.capabilitiesEnabled = u16be(buf, off + 2);
      }
      return;
    case LldpTlv.ManagementAddress:
      readManagementAddress(buf, off, end, info);
      return;
    case LldpTlv.OrgSpecific:
      if (valueBytes >= 4) readOrgSpecific(buf, off, end, info);
      return;
    default:
      return;
  }
}

/**
 * A chassis or port id after its subtype byte: a MAC for `macSubtype`, an
 * address family and address for `addrSubtype`, hex for port subtype 6
 * (agent circuit id, RFC 3046 binary), text otherwise.
 */
function readId(
  buf: Uint8Array,
  off: number,
  end: number,
  subtype: number,
  macSubtype: number,
  addrSubtype: number,
): string {
  if (subtype === macSubtype) {
    return end - off === 6
      ? formatHexColons(buf, off, end)
      : formatHex(buf, off, end);
  }
  if (subtype === addrSubtype) return readNetworkAddress(buf, off, end);
  if (subtype === 6 && macSubtype === 3) return formatHex(buf, off, end);
  return decodeText(buf, off, end, 255, false);
}

/** IANA address family byte, then the address (802.1AB). */
function readNetworkAddress(buf: Uint8Array, off: number, end: number): string {
  const family = buf[off];
  if (family === AF_IPV4 && end - off === 5) return formatIpv4(buf, off + 1);
  if (family === AF_IPV6 && end - off === 17) return formatIpv6(buf, off + 1);
  return formatHex(buf, off, end);
}

/**
 * Management address TLV (802.1AB): address string length (subtype
 * byte included), subtype, address, then interface and OID fields.
 */
function readManagementAddress(
  buf: Uint8Array,
  off: number,
  end: number,
  info: LldpInfo,
): void {
  if (info.managementAddresses.length === MAX_LLDP_MGMT_ADDRESSES) return;
  if (end - off < 2) return;
  const stringBytes = buf[off];
  if (stringBytes < 2 || off + 1 + stringBytes > end) return;
  const address = readNetworkAddress(buf, off + 1, off + 1 + stringBytes);
  info.managementAddresses.push(address);
}

/** Organizationally specific TLVs: OUI (3 bytes), subtype, value. */
function readOrgSpecific(
  buf: Uint8Array,
  off: number,
  end: number,
  info: LldpInfo,
): void {
  const oui = (buf[off] << 16) | (buf[off + 1] << 8) | buf[off + 2];
  const subtype = buf[off + 3];
  const valueOff = off + 4;

  if (oui === OUI_IEEE_8021 && subtype === 1 && end - valueOff >= 2) {
    info.portVlanId = u16be(buf, valueOff);
  } else if (oui === OUI_IANA && subtype === 1) {
    info.mudUrl = decodeText(buf, valueOff, end, 511, false);
  } else if (oui === OUI_TIA) {
    readMed(buf, subtype, valueOff, end, info.med);
  }
}

/** LLDP-MED capabilities (subtype 1) and inventory (subtypes 5-11). */
function readMed(
  buf: Uint8Array,
  subtype: number,
  off: number,
  end: number,
  med: LldpMedInventory,
): void {
  switch (subtype) {
    case 1:
      if (end - off >= 3) med.deviceClass = buf[off + 2];
      return;
    case 5:
      med.hardwareRevision = decodeText(buf, off, end, 32, false);
      return;
    case 6:
      med.firmwareRevision = decodeText(buf, off, end, 32, false);
      return;
    case 7:
      med.softwareRevision = decodeText(buf, off, end, 32, false);
      return;
    case 8:
      med.serialNumber = decodeText(buf, off, end, 32, false);
      return;
    case 9:
      med.manufacturer = decodeText(buf, off, end, 32, false);
      return;
    case 10:
      med.modelName = decodeText(buf, off, end, 32, false);
      return;
    case 11:
      med.assetId = decodeText(buf, off, end, 32, false);
      return;
    default:
      return;
  }
}
