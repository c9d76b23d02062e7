/**
 * DHCPv4 (RFC 2131, options RFC 2132): the fields that identify a client,
 * the option 55 fingerprint in request order and what the server assigns.
 */
import { u32be } from '../decode/bytes.js';
import { readDnsName } from './dns.js';
import { decodeText, formatHex, formatHexColons, formatIpv4 } from './text.js';

/** BOOTP/DHCP server and client UDP ports (RFC 2131 section 4.1). */
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/** Option 53 message types (RFC 2132 section 9.6). */
export const DhcpMessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

/** Option codes read here (IANA BOOTP/DHCP parameters registry). */
export const DhcpOption = {
  Pad: 0,
  Router: 3,
  HostName: 12,
  RequestedAddress: 50,
  Overload: 52,
  MessageType: 53,
  ServerId: 54,
  ParameterRequestList: 55,
  VendorClass: 60,
  ClientId: 61,
  ClientFqdn: 81,
  /** Manufacturer Usage Description URL (RFC 8520 section 10). */
  MudUrl: 161,
  End: 255,
} as const;

/** What one DHCP message says about a device. Absent: -1, '' or null. */
export interface DhcpInfo {
  /** BOOTP op: 1 request (client), 2 reply (server). */
  op: number;
  /** False for plain BOOTP: no cookie, so no options were read. */
  hasMagicCookie: boolean;
  /** Transaction id, to pair a reply with its request. */
  xid: number;
  /** Option 53, -1 for plain BOOTP-style messages without it. */
  messageType: number;
  /** chaddr as `aa:bb:...` for hlen 1-16 (Ethernet: the client MAC). */
  clientHwAddr: string;
  hwType: number;
  /** ciaddr, '' when 0.0.0.0. */
  clientAddress: string;
  /** yiaddr, '' when 0.0.0.0. */
  yourAddress: string;
  /** yiaddr of an ACK: the address the server assigned; '' otherwise. */
  assignedAddress: string;
  /** giaddr of a relay agent, '' when 0.0.0.0. */
  relayAddress: string;
  /** Option 55 codes in the client's request order. */
  parameterRequestList: number[];
  /** Option 55 as the comma-joined DHCP fingerprint, '' when absent. */
  fingerprint: string;
  /** Option 60 vendor class identifier. */
  vendorClass: string;
  /** Option 12 host name. */
  hostName: string;
  /** Option 61 client identifier as hex (type byte first), '' if absent. */
  clientIdHex: string;
  /** Option 81 client FQDN name (RFC 4702), '' when absent. */
  clientFqdn: string;
  /** Option 50 requested address, '' when absent. */
  requestedAddress: string;
  /** Option 54 server identifier, '' when absent. */
  serverId: string;
  /** Option 3 routers, in order. */
  routers: string[];
  /** Option 161 MUD URL (RFC 8520), '' when absent. */
  mudUrl: string;
}

/** BOOTP fixed header, before the vendor area (RFC 951). */
export const BOOTP_FIXED_BYTES = 236;
/** BOOTP fixed header up to and including the magic cookie. */
export const DHCP_FIXED_BYTES = 240;
/** The magic cookie 99.130.83.99 that marks DHCP options (RFC 2131 3). */
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** Routers kept from option 3. */
export const MAX_DHCP_ROUTERS = 8;
/** Option 55 codes kept (one byte each, 255 fit in one option). */
export const MAX_DHCP_REQUESTED_OPTIONS = 255;

// sname and file fields, which option 52 may fill with options.
const SNAME_OFF = 44;
const SNAME_BYTES = 64;
const FILE_OFF = 108;
const FILE_BYTES = 128;

/**
 * Parse a DHCP or BOOTP message in a UDP payload `buf[off .. end)`.
 * Returns null unless the payload holds a 236-byte BOOTP header with op 1
 * or 2 and a hardware address length up to 16. Options are read only after
 * the DHCP magic cookie (plain BOOTP, still sent by some older devices,
 * has none), in the order of RFC 2131 section 4.1: options, then file,
 * then sname when option 52 says they are overloaded. A cut option ends
 * its area.
 */
export function parseDhcp(
  buf: Uint8Array,
  off: number,
  end: number,
): DhcpInfo | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < BOOTP_FIXED_BYTES) return null;
  const op = buf[off];
  const hwBytes = buf[off + 2];
  if ((op !== 1 && op !== 2) || hwBytes > 16) return null;

  const info: DhcpInfo = {
    op,
    hasMagicCookie:
      end - off >= DHCP_FIXED_BYTES &&
      u32be(buf, off + BOOTP_FIXED_BYTES) === DHCP_MAGIC_COOKIE,
    xid: u32be(buf, off + 4),
    messageType: -1,
    clientHwAddr: formatHexColons(buf, off + 28, off + 28 + hwBytes),
    hwType: buf[off + 1],
    clientAddress: addressOrEmpty(buf, off + 12),
    yourAddress: addressOrEmpty(buf, off + 16),
    assignedAddress: '',
    relayAddress: addressOrEmpty(buf, off + 24),
    parameterRequestList: [],
    fingerprint: '',
    vendorClass: '',
    hostName: '',
    clientIdHex: '',
    clientFqdn: '',
    requestedAddress: '',
    serverId: '',
    routers: [],
    mudUrl: '',
  };

  if (!info.hasMagicCookie) return info;
  const overload = walkOptions(buf, off + DHCP_FIXED_BYTES, end, info);
  if (overload & 1) {
    walkOptions(buf, off + FILE_OFF, off + FILE_OFF + FILE_BYTES, info);
  }
  if (overload & 2) {
    walkOptions(buf, off + SNAME_OFF, off + SNAME_OFF + SNAME_BYTES, info);
  }

  info.fingerprint = info.parameterRequestList.join(',');
  if (info.messageType === DhcpMessageType.Ack) {
    info.assignedAddress = info.yourAddress;
  }
  return info;
}

/**
 * Walk the options in `buf[off .. end)` into `info`; returns the option 52
 * overload value (0 when absent). Every option takes at least one byte,
 * so the walk is bounded by the area's length.
 */
function walkOptions(
  buf: Uint8Array,
  off: number,
  end: number,
  info: DhcpInfo,
): number {
  let overload = 0;
  let pos = off;
  while (pos < end) {
    const code = buf[pos];
    if (code === DhcpOption.End) break;
    if (code === DhcpOption.Pad) {
      pos++;
      continue;
    }
    if (pos + 2 > end) break;
    const valueOff = pos + 2;
    const valueEnd = valueOff + buf[pos + 1];
    if (valueEnd > end) break;
    if (code === DhcpOption.Overload && valueEnd - valueOff === 1) {
      overload = buf[valueOff];
    } else {
      readOption(buf, code, valueOff, valueEnd, info);
    }
    pos = valueEnd;
  }
  return overload;
}

// Limitation: a string option split over several instances (RFC 3396) keeps
// only its first part; option 55 parts are joined, as they are lists.
function readOption(
  buf: Uint8Array,
  code: number,
  off: number,
  end: number,
  info: DhcpInfo,
): void {
  const valueBytes = end - off;
  switch (code) {
    case DhcpOption.MessageType:
      if (valueBytes >= 1 && info.messageType < 0) info.messageType = buf[off];
      return;
    case DhcpOption.ParameterRequestList:
      for (let i = off; i < end; i++) {
        if (info.parameterRequestList.length === MAX_DHCP_REQUESTED_OPTIONS) {
          return;
        }
        info.parameterRequestList.push(buf[i]);
      }
      return;
    case DhcpOption.HostName:
      if (info.hostName === '') info.hostName = decodeText(buf, off, end);
      return;
    case DhcpOption.VendorClass:
      if (info.vendorClass === '') info.vendorClass = decodeText(buf, off, end);
      return;
    case DhcpOption.ClientId:
      if (info.clientIdHex === '') info.clientIdHex = formatHex(buf, off, end);
      return;
    case DhcpOption.ClientFqdn:
      if (info.clientFqdn === '') info.clientFqdn = readFqdn(buf, off, end);
      return;
    case DhcpOption.RequestedAddress:
      if (valueBytes === 4) info.requestedAddress = formatIpv4(buf, off);
      return;
    case DhcpOption.ServerId:
      if (valueBytes === 4) info.serverId = formatIpv4(buf, off);
      return;
    case DhcpOption.Router:
      for (let i = off; i + 4 <= end; i += 4) {
        if (info.routers.length === MAX_DHCP_ROUTERS) return;
        info.routers.push(formatIpv4(buf, i));
      }
      return;
    case DhcpOption.MudUrl:
      if (info.mudUrl === '') info.mudUrl = decodeText(buf, off, end);
      return;
    default:
      return;
  }
}

/**
 * Option 81 (RFC 4702 section 2): flags, two obsolete rcodes, then the
 * name, in DNS wire form when the E flag (0x04) is set, else ASCII.
 */
function readFqdn(buf: Uint8Array, off: number, end: number): string {
  if (end - off < 3) return '';
  const nameOff = off + 3;
  if ((buf[off] & 0x04) === 0) return decodeText(buf, nameOff, end);
  const read = readDnsName(buf, -1, nameOff, end, true);
  return read === null ? '' : read.name;
}

function addressOrEmpty(buf: Uint8Array, off: number): string {
  if ((buf[off] | buf[off + 1] | buf[off + 2] | buf[off + 3]) === 0) return '';
  return formatIpv4(buf, off);
}
