/**
 * DHCPv6 (RFC 8415): message type, client and server DUIDs, vendor class,
 * FQDN, the option request list and the addresses a reply assigns.
 */
import { u16be, u32be } from '../decode/bytes.js';
import { readDnsName } from './dns.js';
import { decodeText, formatHex, formatHexColons, formatIpv6 } from './text.js';

/** DHCPv6 client and server/relay UDP ports (RFC 8415 section 7.2). */
export const DHCPV6_CLIENT_PORT = 546;
export const DHCPV6_SERVER_PORT = 547;

/** Message types (RFC 8415 section 7.3). */
export const Dhcpv6MessageType = {
  Solicit: 1,
  Advertise: 2,
  Request: 3,
  Confirm: 4,
  Renew: 5,
  Rebind: 6,
  Reply: 7,
  Release: 8,
  Decline: 9,
  Reconfigure: 10,
  InformationRequest: 11,
  RelayForw: 12,
  RelayRepl: 13,
} as const;

/** Option codes read here (IANA DHCPv6 parameters registry). */
export const Dhcpv6Option = {
  ClientId: 1,
  ServerId: 2,
  IaNa: 3,
  IaTa: 4,
  IaAddr: 5,
  OptionRequest: 6,
  RelayMessage: 9,
  VendorClass: 16,
  VendorOpts: 17,
  IaPd: 25,
  IaPrefix: 26,
  ClientFqdn: 39,
  /** Manufacturer Usage Description URL (RFC 8520 section 10). */
  MudUrl: 112,
} as const;

/** A DHCP Unique Identifier (RFC 8415 section 11). */
export interface Duid {
  /** 1 LLT, 2 EN, 3 LL, 4 UUID (RFC 6355). */
  type: number;
  /** The whole DUID, type included, as lower-case hex. */
  hex: string;
  /** LLT and LL: the link-layer address as `aa:bb:...`, else ''. */
  linkLayerAddress: string;
  /** LLT and LL: the hardware type (1 Ethernet), else -1. */
  hwType: number;
  /** EN: the IANA enterprise number of the vendor, else -1. */
  enterprise: number;
}

/** What one DHCPv6 message says about a device. Absent: -1, '' or null. */
export interface Dhcpv6Info {
  /** Type of the innermost message reached inside relay wrappers. */
  messageType: number;
  /** Relay-forward or relay-reply wrappers around that message. */
  relayHops: number;
  /** 24-bit transaction id, -1 when a relay message carried none. */
  transactionId: number;
  clientDuid: Duid | null;
  serverDuid: Duid | null;
  /** Option 16 enterprise number, -1 when absent. */
  vendorClassEnterprise: number;
  /** Option 16 vendor-class-data items, as text. */
  vendorClass: string[];
  /** Option 17 enterprise number, -1 when absent. */
  vendorOptsEnterprise: number;
  /** Option 39 domain name (RFC 4704), '' when absent. */
  fqdn: string;
  /** Option 6 codes in the client's order. */
  optionRequests: number[];
  /** IA_NA/IA_TA addresses (option 5): a reply assigns them. */
  addresses: string[];
  /** IA_PD prefixes (option 26) as `address/length`. */
  prefixes: string[];
  /** Option 112 MUD URL (RFC 8520), '' when absent. */
  mudUrl: string;
}

/** Relay wrappers followed (RFC 8415 section 7.6: HOP_COUNT_LIMIT 8). */
export const MAX_DHCPV6_RELAY_HOPS = 8;
/** Options read over the whole message, nested ones included. */
export const MAX_DHCPV6_OPTIONS = 128;
/** Option request codes kept. */
export const MAX_DHCPV6_OPTION_REQUESTS = 64;
/** Vendor-class items, addresses and prefixes kept, each. */
export const MAX_DHCPV6_LIST_ITEMS = 16;

const RELAY_HDR_BYTES = 34;
const OPTION_HDR_BYTES = 4;

/**
 * Parse a DHCPv6 message in a UDP payload `buf[off .. end)`. Returns null
 * for a payload under 4 bytes or with a message type outside 1-13. Relay
 * wrappers are unwrapped (up to 8); when a relay holds no relayed message,
 * the relay itself is the message reported.
 */
export function parseDhcpv6(
  buf: Uint8Array,
  off: number,
  end: number,
): Dhcpv6Info | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < 4) return null;
  const outerType = buf[off];
  if (outerType < 1 || outerType > Dhcpv6MessageType.RelayRepl) return null;

  const info: Dhcpv6Info = {
    messageType: outerType,
    relayHops: 0,
    transactionId: -1,
    clientDuid: null,
    serverDuid: null,
    vendorClassEnterprise: -1,
    vendorClass: [],
    vendorOptsEnterprise: -1,
    fqdn: '',
    optionRequests: [],
    addresses: [],
    prefixes: [],
    mudUrl: '',
  };
  const budget = { options: MAX_DHCPV6_OPTIONS };

  // Unwrap relays: each relay message's option 9 holds the next message.
  // A relay without one (cut, or malformed) is itself the message.
  let msgOff = off;
  let msgEnd = end;
  while (isRelay(buf[msgOff]) && info.relayHops < MAX_DHCPV6_RELAY_HOPS) {
    if (msgEnd - msgOff < RELAY_HDR_BYTES) break;
    const inner = findOption(
      buf,
      msgOff + RELAY_HDR_BYTES,
      msgEnd,
      Dhcpv6Option.RelayMessage,
      budget,
    );
    if (inner < 0) break;
    const innerOff = inner + OPTION_HDR_BYTES;
    const innerEnd = innerOff + u16be(buf, inner + 2);
    if (innerEnd - innerOff < 4) break;
    info.relayHops++;
    msgOff = innerOff;
    msgEnd = innerEnd;
  }

  info.messageType = buf[msgOff];
  if (isRelay(info.messageType)) return info;
  info.transactionId =
    (buf[msgOff + 1] << 16) | (buf[msgOff + 2] << 8) | buf[msgOff + 3];
  walkOptions(buf, msgOff + 4, msgEnd, info, budget, 0);
  return info;
}

/**
 * A message a client sends (RFC 8415 section 7.3): Solicit, Request,
 * Confirm, Renew, Rebind, Release, Decline or Information-request. Its
 * Client Identifier names the sender; in a server's message, the addressee.
 */
export function isDhcpv6ClientMessage(messageType: number): boolean {
  switch (messageType) {
    case Dhcpv6MessageType.Solicit:
    case Dhcpv6MessageType.Request:
    case Dhcpv6MessageType.Confirm:
    case Dhcpv6MessageType.Renew:
    case Dhcpv6MessageType.Rebind:
    case Dhcpv6MessageType.Release:
    case Dhcpv6MessageType.Decline:
    case Dhcpv6MessageType.InformationRequest:
      return true;
    default:
      return false;
  }
}

function isRelay(messageType: number): boolean {
  return (
    messageType === Dhcpv6MessageType.RelayForw ||
    messageType === Dhcpv6MessageType.RelayRepl
  );
}

/** Offset of the first option `code` in `buf[off .. end)`, or -1. */
function findOption(
  buf: Uint8Array,
  off: number,
  end: number,
  code: number,
  budget: { options: number },
): number {
  let pos = off;
  while (pos + OPTION_HDR_BYTES <= end && budget.options-- > 0) {
    const valueEnd = pos + OPTION_HDR_BYTES + u16be(buf, pos + 2);
    if (valueEnd > end) return -1;
    if (u16be(buf, pos) === code) return pos;
    pos = valueEnd;
  }
  return -1;
}

/**
 * Walk options in `buf[off .. end)`; IA options nest one level of
 * address/prefix options (depth 1). The shared budget bounds the total.
 */
function walkOptions(
  buf: Uint8Array,
  off: number,
  end: number,
  info: Dhcpv6Info,
  budget: { options: number },
  depth: number,
): void {
  let pos = off;
  while (pos + OPTION_HDR_BYTES <= end && budget.options-- > 0) {
    const code = u16be(buf, pos);
    const valueOff = pos + OPTION_HDR_BYTES;
    const valueEnd = valueOff + u16be(buf, pos + 2);
    if (valueEnd > end) return;
    if (depth === 0) {
      readTopOption(buf, code, valueOff, valueEnd, info, budget);
    } else {
      readIaSubOption(buf, code, valueOff, valueEnd, info);
    }
    pos = valueEnd;
  }
}

function readTopOption(
  buf: Uint8Array,
  code: number,
  off: number,
  end: number,
  info: Dhcpv6Info,
  budget: { options: number },
): void {
  switch (code) {
    case Dhcpv6Option.ClientId:
      if (info.clientDuid === null) info.clientDuid = readDuid(buf, off, end);
      return;
    case Dhcpv6Option.ServerId:
      if (info.serverDuid === null) info.serverDuid = readDuid(buf, off, end);
      return;
    case Dhcpv6Option.OptionRequest:
      for (let i = off; i + 2 <= end; i += 2) {
        if (info.optionRequests.length === MAX_DHCPV6_OPTION_REQUESTS) return;
        info.optionRequests.push(u16be(buf, i));
      }
      return;
    case Dhcpv6Option.VendorClass:
      readVendorClass(buf, off, end, info);
      return;
    case Dhcpv6Option.VendorOpts:
      if (end - off >= 4 && info.vendorOptsEnterprise < 0) {
        info.vendorOptsEnterprise = u32be(buf, off);
      }
      return;
    case Dhcpv6Option.ClientFqdn:
      if (info.fqdn === '' && end - off >= 1) {
        const read = readDnsName(buf, -1, off + 1, end, true);
        if (read !== null) info.fqdn = read.name;
      }
      return;
    case Dhcpv6Option.MudUrl:
      if (info.mudUrl === '') info.mudUrl = decodeText(buf, off, end);
      return;
    // IA_NA and IA_PD: IAID, T1, T2 then options; IA_TA: IAID then options.
    case Dhcpv6Option.IaNa:
    case Dhcpv6Option.IaPd:
      if (end - off >= 12) walkOptions(buf, off + 12, end, info, budget, 1);
      return;
    case Dhcpv6Option.IaTa:
      if (end - off >= 4) walkOptions(buf, off + 4, end, info, budget, 1);
      return;
    default:
      return;
  }
}

function readIaSubOption(
  buf: Uint8Array,
  code: number,
  off: number,
  end: number,
  info: Dhcpv6Info,
): void {
  // IAADDR: address, preferred and valid lifetimes (RFC 8415 21.6).
  if (code === Dhcpv6Option.IaAddr && end - off >= 24) {
    if (info.addresses.length < MAX_DHCPV6_LIST_ITEMS) {
      info.addresses.push(formatIpv6(buf, off));
    }
  }
  // IAPREFIX: lifetimes, prefix length, prefix (RFC 8415 21.22).
  if (code === Dhcpv6Option.IaPrefix && end - off >= 25) {
    if (info.prefixes.length < MAX_DHCPV6_LIST_ITEMS) {
      info.prefixes.push(`${formatIpv6(buf, off + 9)}/${buf[off + 8]}`);
    }
  }
}

/** Option 16: enterprise number, then length-prefixed data items (21.16). */
function readVendorClass(
  buf: Uint8Array,
  off: number,
  end: number,
  info: Dhcpv6Info,
): void {
  if (end - off < 4 || info.vendorClassEnterprise >= 0) return;
  info.vendorClassEnterprise = u32be(buf, off);
  let pos = off + 4;
  while (pos + 2 <= end && info.vendorClass.length < MAX_DHCPV6_LIST_ITEMS) {
    const itemEnd = pos + 2 + u16be(buf, pos);
    if (itemEnd > end) return;
    info.vendorClass.push(decodeText(buf, pos + 2, itemEnd));
    pos = itemEnd;
  }
}

/** DUID forms of RFC 8415 section 11 and RFC 6355. */
function readDuid(buf: Uint8Array, off: number, end: number): Duid | null {
  if (end - off < 2) return null;
  const duid: Duid = {
    type: u16be(buf, off),
    hex: formatHex(buf, off, end, 130),
    linkLayerAddress: '',
    hwType: -1,
    enterprise: -1,
  };
  // LLT: type, hardware type, time (4), address; LL: without the time.
  const addrOff = duid.type === 1 ? off + 8 : duid.type === 3 ? off + 4 : -1;
  if (addrOff >= 0 && addrOff < end && end - addrOff <= 16) {
    duid.hwType = u16be(buf, off + 2);
    duid.linkLayerAddress = formatHexColons(buf, addrOff, end);
  }
  if (duid.type === 2 && end - off >= 6) duid.enterprise = u32be(buf, off + 2);
  return duid;
}
