/**
 * Vendor hints from medical-device traffic seen passively: Philips IntelliVue
 * data export, GE CARESCAPE network broadcasts and POCT1-A device hellos.
 */
import { u16be, u32be } from '../decode/bytes.js';
import { Layer, type DecodedPacket } from '../decode/packet.js';

/** One vendor hint, with the evidence that produced it. */
export interface MedicalHint {
  vendor: string;
  product?: string;
  /**
   * Stable snake_case id of what was seen: `intellivue_connect_indication`,
   * `intellivue_data_export`, `carescape_time_sync`,
   * `carescape_discovery_port`, `poct1a_hello`.
   */
  evidence: string;
  /** 0..1: how specific the evidence is. */
  confidence: number;
  /** Which end of this packet is the device: its sender or its receiver. */
  deviceIs: 'sender' | 'receiver';
  /** Philips: UDP port the monitor offers data export on. */
  dataExportPort?: number;
  /** GE CARESCAPE: care unit and room of the central station. */
  careUnit?: string;
  room?: string;
  /** POCT1-A: device, vendor and model ids the device reports. */
  deviceId?: string;
  vendorId?: string;
  modelId?: string;
}

/** UDP ports from the vendors' public documentation. */
export const MedicalPort = {
  /** Philips IntelliVue connect indication broadcast. */
  IntellivueDiscovery: 24005,
  /** Philips IntelliVue data export protocol. */
  IntellivueDataExport: 24105,
  /** GE CARESCAPE time synchronisation broadcast. */
  CarescapeTimeSync: 2000,
  /** GE CARESCAPE discovery heartbeat. */
  CarescapeDiscovery: 7000,
} as const;

/** Values of the Philips Data Export protocol (Programming Guide). */
const Intellivue = {
  /** ROapdus.ro_type of a remote operation invoke. */
  RoivApdu: 1,
  /** ro_type values of result, error and linked result. */
  RorsApdu: 2,
  RoerApdu: 3,
  RolrsApdu: 5,
  CmdEventReport: 0,
  CmdConfirmedEventReport: 1,
  /** NOM_NOTI_MDS_CONNECT_INDIC. */
  ConnectIndication: 0x0d16,
  /** NOM_ATTR_PCOL_SUPPORT: protocols the monitor offers. */
  ProtocolSupport: 0xf101,
  /** AP_ID_DATA_OUT in a ProtoSupportEntry. */
  DataOut: 5,
  /** TP_ID_UDP in a ProtoSupportEntry. */
  TransportUdp: 1,
  /** SPpdu.session_id of data export messages. */
  DataExportSession: 0xe100,
} as const;

/** Attribute list entries walked in a connect indication. */
const MAX_INTELLIVUE_ATTRIBUTES = 64;
/** Protocol entries walked in NOM_ATTR_PCOL_SUPPORT. */
const MAX_PROTOCOL_ENTRIES = 16;
/** The CARESCAPE time message is 64 bytes of UDP data. */
const CARESCAPE_TIME_SYNC_BYTES = 64;
/** POCT1-A bytes searched for the hello and its device fields. */
export const MAX_POCT1A_SCAN_BYTES = 4096;
/** Where `<HEL.R01` must start, to skip an XML declaration at most. */
const MAX_POCT1A_ROOT_OFFSET = 256;
const MAX_ID_CHARS = 64;

/**
 * Look for a vendor hint in the UDP or TCP payload of `pkt` (decoded from
 * `buf`). Ports pick the check; a payload must also have the documented
 * structure, so a port alone never yields a hint (except the weak
 * CARESCAPE heartbeat, given a low confidence). Never throws.
 */
export function detectMedicalHint(
  buf: Uint8Array,
  pkt: DecodedPacket,
): MedicalHint | null {
  const off = pkt.payloadOff;
  if (off < 0 || pkt.payloadBytes === 0) return null;
  const end = Math.min(buf.length, off + pkt.payloadBytes);
  if ((pkt.layers & Layer.Udp) !== 0) {
    const hint = detectUdpHint(buf, off, end, pkt);
    if (hint !== null) return hint;
  } else if ((pkt.layers & Layer.Tcp) === 0) {
    return null;
  }
  // XML starts with '<', or with a UTF-8 byte order mark before it.
  if (buf[off] !== 0x3c && buf[off] !== 0xef) return null;
  const hello = parsePoct1aHello(buf, off, end);
  if (hello === null) return null;
  return {
    vendor: hello.vendorId !== '' ? hello.vendorId : 'unknown',
    ...(hello.modelId !== '' ? { product: hello.modelId } : {}),
    evidence: 'poct1a_hello',
    confidence: 0.9,
    deviceIs: 'sender',
    deviceId: hello.deviceId,
    vendorId: hello.vendorId,
    modelId: hello.modelId,
  };
}

function detectUdpHint(
  buf: Uint8Array,
  off: number,
  end: number,
  pkt: DecodedPacket,
): MedicalHint | null {
  switch (pkt.dstPort) {
    case MedicalPort.IntellivueDiscovery: {
      const port = parseIntellivueConnectIndication(buf, off, end);
      if (port < 0) return null;
      return {
        vendor: 'Philips',
        product: 'IntelliVue patient monitor',
        evidence: 'intellivue_connect_indication',
        confidence: 0.9,
        deviceIs: 'sender',
        ...(port > 0 ? { dataExportPort: port } : {}),
      };
    }
    case MedicalPort.CarescapeTimeSync:
      return carescapeTimeSyncHint(buf, off, end, pkt);
    case MedicalPort.CarescapeDiscovery:
      // Limitation: the heartbeat's layout is not public, so only a
      // broadcast to its port is checked, and the hint stays weak.
      if (!isBroadcast(buf, pkt)) return null;
      return {
        vendor: 'GE HealthCare',
        product: 'CARESCAPE Network device',
        evidence: 'carescape_discovery_port',
        confidence: 0.25,
        deviceIs: 'sender',
      };
    default:
      break;
  }
  const isFromMonitor = pkt.srcPort === MedicalPort.IntellivueDataExport;
  if (!isFromMonitor && pkt.dstPort !== MedicalPort.IntellivueDataExport) {
    return null;
  }
  if (!isIntellivueDataExport(buf, off, end)) return null;
  return {
    vendor: 'Philips',
    product: 'IntelliVue patient monitor',
    evidence: 'intellivue_data_export',
    confidence: 0.8,
    deviceIs: isFromMonitor ? 'sender' : 'receiver',
  };
}

// Limitation: the IntelliVue layouts follow Philips' public programming
// guide and have not been checked against a capture from a monitor.
/**
 * Check a Philips IntelliVue connect indication (the monitor's broadcast
 * to UDP 24005): a 4-byte nomenclature header, ROapdus (invoke), ROIVapdu
 * (event report), EventReportArgument with event type connect indication,
 * then an attribute list; every length field must match the datagram.
 * Returns the data export UDP port from the protocol support attribute,
 * 0 when none is listed, or -1 when this is not a connect indication.
 */
export function parseIntellivueConnectIndication(
  buf: Uint8Array,
  off: number,
  end: number,
): number {
  const total = Math.min(end, buf.length) - off;
  if (off < 0 || total < 32) return -1;
  if (u16be(buf, off + 4) !== Intellivue.RoivApdu) return -1;
  if (u16be(buf, off + 6) !== total - 8) return -1;
  const command = u16be(buf, off + 10);
  if (
    command !== Intellivue.CmdEventReport &&
    command !== Intellivue.CmdConfirmedEventReport
  ) {
    return -1;
  }
  if (u16be(buf, off + 12) !== total - 14) return -1;
  if (u16be(buf, off + 24) !== Intellivue.ConnectIndication) return -1;
  if (u16be(buf, off + 26) !== total - 28) return -1;
  if (u16be(buf, off + 30) !== total - 32) return -1;

  const count = Math.min(u16be(buf, off + 28), MAX_INTELLIVUE_ATTRIBUTES);
  const listEnd = off + total;
  let cursor = off + 32;
  for (let i = 0; i < count && listEnd - cursor >= 4; i++) {
    const attribute = u16be(buf, cursor);
    const valueOff = cursor + 4;
    const valueEnd = valueOff + u16be(buf, cursor + 2);
    if (valueEnd > listEnd) return -1;
    if (attribute === Intellivue.ProtocolSupport) {
      return dataExportPort(buf, valueOff, valueEnd);
    }
    cursor = valueEnd;
  }
  return 0;
}

/** ProtoSupport: count, length, 8-byte entries (proto, transport, port). */
function dataExportPort(buf: Uint8Array, off: number, end: number): number {
  if (end - off < 4) return 0;
  const count = Math.min(u16be(buf, off), MAX_PROTOCOL_ENTRIES);
  for (let i = 0; i < count; i++) {
    const entry = off + 4 + i * 8;
    if (entry + 8 > end) return 0;
    if (
      u16be(buf, entry) === Intellivue.DataOut &&
      u16be(buf, entry + 2) === Intellivue.TransportUdp
    ) {
      return u16be(buf, entry + 4);
    }
  }
  return 0;
}

/**
 * A Philips data export message (UDP 24105): session header 0xE100, then
 * ROapdus with a known operation type and a length matching the datagram.
 */
export function isIntellivueDataExport(
  buf: Uint8Array,
  off: number,
  end: number,
): boolean {
  const total = Math.min(end, buf.length) - off;
  if (off < 0 || total < 8) return false;
  if (u16be(buf, off) !== Intellivue.DataExportSession) return false;
  const roType = u16be(buf, off + 4);
  const isKnownType =
    roType === Intellivue.RoivApdu ||
    roType === Intellivue.RorsApdu ||
    roType === Intellivue.RoerApdu ||
    roType === Intellivue.RolrsApdu;
  return isKnownType && u16be(buf, off + 6) === total - 8;
}

/**
 * GE CARESCAPE time synchronisation (UDP 2000, 64 data bytes): bytes 6-9
 * hold the sender's IPv4 address, bytes 24-37 the location as
 * `<unit>|<room>` (unit up to 7, room up to 6 characters, NUL padded), and
 * bytes 60-63 seconds since 1900. The location makes the check.
 */
function carescapeTimeSyncHint(
  buf: Uint8Array,
  off: number,
  end: number,
  pkt: DecodedPacket,
): MedicalHint | null {
  if (end - off !== CARESCAPE_TIME_SYNC_BYTES) return null;
  const location = parseCarescapeLocation(buf, off + 24);
  if (location === null) return null;
  const isSenderAddress =
    pkt.ipVersion === 4 &&
    pkt.srcAddrOff >= 0 &&
    u32be(buf, off + 6) === u32be(buf, pkt.srcAddrOff);
  return {
    vendor: 'GE HealthCare',
    product: 'CARESCAPE Network central station',
    evidence: 'carescape_time_sync',
    confidence: isSenderAddress ? 0.8 : 0.6,
    deviceIs: 'sender',
    careUnit: location.unit,
    room: location.room,
  };
}

// Limitation: the CARESCAPE layout comes from an integrator's public notes,
// not from a capture; if bytes 24-37 hold something else it is missed.

/** `<unit>|<room>` at `off`: 1-7 and 0-6 printable characters, NUL after. */
export function parseCarescapeLocation(
  buf: Uint8Array,
  off: number,
): { unit: string; room: string } | null {
  const fieldEnd = off + 14;
  if (off < 0 || fieldEnd > buf.length) return null;
  let cursor = off;
  while (cursor < fieldEnd && isLocationChar(buf[cursor])) cursor++;
  const unitBytes = cursor - off;
  if (unitBytes < 1 || unitBytes > 7 || buf[cursor] !== 0x7c) return null;
  const roomOff = ++cursor;
  while (cursor < fieldEnd && isLocationChar(buf[cursor])) cursor++;
  if (cursor - roomOff > 6) return null;
  // Padding to the end of the 13-byte field must be NUL.
  for (let i = cursor; i < fieldEnd - 1; i++) if (buf[i] !== 0) return null;
  return {
    unit: asciiText(buf, off, off + unitBytes),
    room: asciiText(buf, roomOff, cursor),
  };
}

function isLocationChar(c: number): boolean {
  return c >= 0x20 && c <= 0x7e && c !== 0x7c;
}

/** Ethernet broadcast, IPv4 limited broadcast or an x.x.x.255 address. */
function isBroadcast(buf: Uint8Array, pkt: DecodedPacket): boolean {
  const mac = pkt.dstMacOff;
  if (mac >= 0 && mac + 6 <= buf.length) {
    let isAllOnes = true;
    for (let i = mac; i < mac + 6; i++) if (buf[i] !== 0xff) isAllOnes = false;
    if (isAllOnes) return true;
  }
  const ip = pkt.dstAddrOff;
  return pkt.ipVersion === 4 && ip >= 0 && buf[ip + 3] === 0xff;
}

/** The device fields of a POCT1-A hello (CLSI POCT1-A2 HEL.R01). */
export interface Poct1aHello {
  deviceId: string;
  vendorId: string;
  modelId: string;
}

// Limitation: a hello spread over TCP segments is read from the first one.
/**
 * Parse a POCT1-A `HEL.R01` message at the start of a payload: the root
 * element must open within the first bytes (after an XML declaration), then
 * `DEV.device_id`, `DEV.vendor_id` and `DEV.model_id` values (attribute
 * `V`) are read within MAX_POCT1A_SCAN_BYTES. Other messages (results,
 * operator lists) return null: they can name patients and staff.
 */
export function parsePoct1aHello(
  buf: Uint8Array,
  off: number,
  end: number,
): Poct1aHello | null {
  end = Math.min(end, buf.length, off + MAX_POCT1A_SCAN_BYTES);
  if (off < 0 || end - off < 9) return null;
  const root = indexOfAscii(
    buf,
    off,
    Math.min(end, off + MAX_POCT1A_ROOT_OFFSET),
    '<HEL.R01',
  );
  if (root < 0 || root + 8 >= end) return null;
  const next = buf[root + 8];
  if (next !== 0x3e && next !== 0x20 && next !== 0x2f) return null;
  // Another message may follow in the same segment: read this one only.
  const close = indexOfAscii(buf, root, end, '</HEL.R01>');
  if (close >= 0) end = close;
  const hello = {
    deviceId: elementValue(buf, root, end, '<DEV.device_id'),
    vendorId: elementValue(buf, root, end, '<DEV.vendor_id'),
    modelId: elementValue(buf, root, end, '<DEV.model_id'),
  };
  if (hello.deviceId === '' && hello.vendorId === '' && hello.modelId === '') {
    return null;
  }
  return hello;
}

/** The `V` attribute of the first `name` element after `off`, or ''. */
function elementValue(
  buf: Uint8Array,
  off: number,
  end: number,
  name: string,
): string {
  const at = indexOfAscii(buf, off, end, name);
  if (at < 0) return '';
  let cursor = at + name.length;
  while (cursor < end && buf[cursor] === 0x20) cursor++;
  if (cursor >= end || buf[cursor] !== 0x56) return '';
  cursor++;
  while (cursor < end && buf[cursor] === 0x20) cursor++;
  if (cursor >= end || buf[cursor] !== 0x3d) return '';
  cursor++;
  while (cursor < end && buf[cursor] === 0x20) cursor++;
  const quote = buf[cursor];
  if (quote !== 0x22 && quote !== 0x27) return '';
  const valueOff = cursor + 1;
  const limit = Math.min(end, valueOff + MAX_ID_CHARS + 1);
  for (let i = valueOff; i < limit; i++) {
    if (buf[i] === quote) return asciiText(buf, valueOff, i).trim();
  }
  return '';
}

/** Offset of ASCII `text` in `buf[off..end)`, or -1. */
function indexOfAscii(
  buf: Uint8Array,
  off: number,
  end: number,
  text: string,
): number {
  const first = text.charCodeAt(0);
  const last = end - text.length;
  for (let i = off; i <= last; i++) {
    if (buf[i] !== first) continue;
    let j = 1;
    while (j < text.length && buf[i + j] === text.charCodeAt(j)) j++;
    if (j === text.length) return i;
  }
  return -1;
}

/** Printable ASCII kept, anything else '?'. */
function asciiText(buf: Uint8Array, off: number, end: number): string {
  let text = '';
  for (let i = off; i < end; i++) {
    const c = buf[i];
    text += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '?';
  }
  return text;
}
