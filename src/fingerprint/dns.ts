/**
 * DNS, multicast DNS and LLMNR messages (one wire format): the names a
 * device asks for, the records it announces, and its mDNS service identity.
 */
import { u16be, u32be } from '../decode/bytes.js';
import { decodeText, formatIpv4, formatIpv6 } from './text.js';

/** UDP ports of the three protocols that share the DNS message format. */
export const DNS_PORT = 53;
/** Multicast DNS (RFC 6762 section 3). */
export const MDNS_PORT = 5353;
/** Link-Local Multicast Name Resolution (RFC 4795). */
export const LLMNR_PORT = 5355;

/** Resource record types read here (IANA DNS parameters registry). */
export const DnsType = {
  A: 1,
  Ns: 2,
  Cname: 5,
  Ptr: 12,
  Hinfo: 13,
  Txt: 16,
  Aaaa: 28,
  Srv: 33,
  Opt: 41,
  Any: 255,
} as const;

/** Which section of the message a record came from (RFC 1035 4.1). */
export type DnsSection = 'answer' | 'authority' | 'additional';

/** One question (RFC 1035 section 4.1.2). */
export interface DnsQuestion {
  /** Dotted name without the trailing dot; '' is the root. */
  name: string;
  type: number;
  /** Class with the mDNS unicast-response bit cleared (RFC 6762 5.4). */
  class: number;
  /** mDNS: the top bit of the class asks for a unicast reply. */
  isUnicastResponse: boolean;
}

/** One resource record (RFC 1035 section 4.1.3) with its data decoded. */
export interface DnsRecord {
  section: DnsSection;
  name: string;
  type: number;
  /** Class with the mDNS cache-flush bit cleared (RFC 6762 10.2). */
  class: number;
  isCacheFlush: boolean;
  ttlSec: number;
  /**
   * A and AAAA: the address text; PTR, CNAME, NS and SRV: the target name;
   * HINFO: the CPU string; '' for every other type.
   */
  data: string;
  /** SRV (RFC 2782): the service port, -1 for other types. */
  srvPort: number;
  /** HINFO (RFC 1035 3.3.2): the OS string, '' for other types. */
  hinfoOs: string;
  /** TXT: only the `key=value` strings whose key identifies a device. */
  txt: string[];
}

/** A parsed message; `isComplete` is false when a section was cut short. */
export interface DnsMessage {
  id: number;
  isResponse: boolean;
  /** RFC 1035 opcode (0 query, 5 update...). */
  opcode: number;
  rcode: number;
  /** The whole 16-bit flags word, for LLMNR's C/TC/T bits (RFC 4795). */
  flags: number;
  questions: DnsQuestion[];
  records: DnsRecord[];
  /** False when a count promised more than was read (cut, bad, capped). */
  isComplete: boolean;
}

/** Fixed DNS header (RFC 1035 section 4.1.1). */
export const DNS_HDR_BYTES = 12;
/** Questions read per message; more are counted as incomplete. */
export const MAX_DNS_QUESTIONS = 32;
/** Records read per message over all three sections. */
export const MAX_DNS_RECORDS = 64;
/** TXT strings kept per record. */
export const MAX_TXT_STRINGS_PER_RECORD = 16;
/** Longest name on the wire (RFC 1035 section 2.3.4). */
export const MAX_DNS_NAME_BYTES = 255;
/**
 * Compression pointers followed in one name. With the wire length cap this
 * bounds the walk even when pointers form a loop.
 */
export const MAX_DNS_POINTER_JUMPS = 32;

/**
 * TXT keys (compared without case) that name a make, model or firmware:
 * DNS-SD printer keys (ty, usb_MFG, usb_MDL, product, pdl), Apple (model,
 * am, rpMd, srcvers, osxvers), Google Cast (md) and common vendor keys.
 * Free-text keys such as `fn` (friendly name) or `note` (location) are left
 * out: they may name a person.
 */
export const MDNS_TXT_IDENTITY_KEYS: ReadonlySet<string> = new Set([
  'md',
  'model',
  'modelname',
  'ty',
  'usb_mfg',
  'usb_mdl',
  'usb_cmd',
  'product',
  'pdl',
  'manufacturer',
  'mfg',
  'mf',
  'vendor',
  'mn',
  'am',
  'rpmd',
  'devicetype',
  'os',
  'osxvers',
  'srcvers',
  'vers',
  'ver',
  'version',
  'fv',
  'fw',
  'firmware',
]);

/** A name read off the wire and the offset just past it in place. */
export interface DnsNameRead {
  name: string;
  /** Offset after the name where it started (after the first pointer). */
  nextOff: number;
  /** True when the data ended before the root label (a partial name). */
  isPartial: boolean;
}

/**
 * Read a domain name at `off` (RFC 1035 section 4.1.4). Compression
 * pointers are offsets from `msgOff`; pass -1 to refuse them (names in
 * DHCP options). With `allowPartial` a name that runs to `end` without a
 * root label is returned as partial (DHCPv6 FQDN, RFC 4704). Returns null
 * for a cut or malformed name, a pointer loop or a name over 255 bytes.
 */
export function readDnsName(
  buf: Uint8Array,
  msgOff: number,
  off: number,
  end: number,
  allowPartial = false,
): DnsNameRead | null {
  end = Math.min(end, buf.length);
  if (off < 0) return null;
  let pos = off;
  let nextOff = -1;
  let jumps = 0;
  let wireBytes = 0;
  let name = '';

  for (;;) {
    if (pos >= end) {
      if (!allowPartial || nextOff >= 0) return null;
      return { name, nextOff: pos, isPartial: true };
    }
    const labelBytes = buf[pos];
    if (labelBytes === 0) {
      if (nextOff < 0) nextOff = pos + 1;
      return { name, nextOff, isPartial: false };
    }

    if ((labelBytes & 0xc0) === 0xc0) {
      if (msgOff < 0 || pos + 1 >= end) return null;
      if (++jumps > MAX_DNS_POINTER_JUMPS) return null;
      if (nextOff < 0) nextOff = pos + 2;
      pos = msgOff + (((labelBytes & 0x3f) << 8) | buf[pos + 1]);
      continue;
    }
    // 0x40 and 0x80 prefixes are the obsolete extended label types.
    if ((labelBytes & 0xc0) !== 0) return null;

    wireBytes += labelBytes + 1;
    if (wireBytes + 1 > MAX_DNS_NAME_BYTES) return null;
    if (pos + 1 + labelBytes > end) {
      if (!allowPartial || nextOff >= 0) return null;
      return { name, nextOff: end, isPartial: true };
    }
    const label = decodeText(buf, pos + 1, pos + 1 + labelBytes, 63, false);
    name = name === '' ? label : `${name}.${label}`;
    pos += 1 + labelBytes;
  }
}

/**
 * A 32-bit digest of the name asked by a DNS query in `buf[off .. end)`
 * with exactly one question, read from its wire bytes without building a
 * string; 0 when the payload is not such a query or its name is compressed.
 * Lets a caller skip parsing a question it has seen from the same sender.
 */
export function dnsQuestionKey(
  buf: Uint8Array,
  off: number,
  end: number,
): number {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < DNS_HDR_BYTES + 1) return 0;
  const isResponse = (buf[off + 2] & 0x80) !== 0;
  if (isResponse || u16be(buf, off + 4) !== 1) return 0;
  let h = 0x811c9dc5;
  for (let pos = off + DNS_HDR_BYTES; pos < end;) {
    const labelBytes = buf[pos];
    if (labelBytes === 0) return h | 1;
    if ((labelBytes & 0xc0) !== 0 || pos + 1 + labelBytes > end) return 0;
    for (let i = pos; i <= pos + labelBytes; i++) {
      h = Math.imul(h ^ buf[i], 0x01000193);
    }
    pos += 1 + labelBytes;
  }
  return 0;
}

/**
 * Parse a DNS, mDNS or LLMNR message in a UDP payload `buf[off .. end)`.
 * Returns null when the payload is shorter than the 12-byte header; a
 * message whose sections are cut or malformed comes back with what was
 * read and `isComplete` false. The caller picks the protocol by port; for
 * DNS over TCP it passes the offset after the 2-byte length prefix.
 */
export function parseDns(
  buf: Uint8Array,
  off: number,
  end: number,
): DnsMessage | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < DNS_HDR_BYTES) return null;

  const flags = u16be(buf, off + 2);
  const questionCount = u16be(buf, off + 4);
  const recordCounts = [
    u16be(buf, off + 6),
    u16be(buf, off + 8),
    u16be(buf, off + 10),
  ];
  const message: DnsMessage = {
    id: u16be(buf, off),
    isResponse: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    rcode: flags & 0x0f,
    flags,
    questions: [],
    records: [],
    isComplete: true,
  };

  let pos = off + DNS_HDR_BYTES;
  for (let i = 0; i < questionCount; i++) {
    if (i === MAX_DNS_QUESTIONS) return incomplete(message);
    const read = readDnsName(buf, off, pos, end);
    if (read === null || read.nextOff + 4 > end) return incomplete(message);
    const rawClass = u16be(buf, read.nextOff + 2);
    message.questions.push({
      name: read.name,
      type: u16be(buf, read.nextOff),
      class: rawClass & 0x7fff,
      isUnicastResponse: (rawClass & 0x8000) !== 0,
    });
    pos = read.nextOff + 4;
  }

  for (let s = 0; s < 3; s++) {
    const section = SECTIONS[s];
    for (let i = 0; i < recordCounts[s]; i++) {
      if (message.records.length === MAX_DNS_RECORDS) {
        return incomplete(message);
      }
      pos = readRecord(buf, off, pos, end, section, message.records);
      if (pos < 0) return incomplete(message);
    }
  }
  return message;
}

const SECTIONS: readonly DnsSection[] = ['answer', 'authority', 'additional'];

function incomplete(message: DnsMessage): DnsMessage {
  message.isComplete = false;
  return message;
}

/** Read one record at `pos` into `records`; returns the next offset or -1. */
function readRecord(
  buf: Uint8Array,
  msgOff: number,
  pos: number,
  end: number,
  section: DnsSection,
  records: DnsRecord[],
): number {
  const read = readDnsName(buf, msgOff, pos, end);
  if (read === null || read.nextOff + 10 > end) return -1;
  const fixedOff = read.nextOff;
  const dataBytes = u16be(buf, fixedOff + 8);
  const dataOff = fixedOff + 10;
  const dataEnd = dataOff + dataBytes;
  if (dataEnd > end) return -1;

  const rawClass = u16be(buf, fixedOff + 2);
  const record: DnsRecord = {
    section,
    name: read.name,
    type: u16be(buf, fixedOff),
    class: rawClass & 0x7fff,
    isCacheFlush: (rawClass & 0x8000) !== 0,
    ttlSec: u32be(buf, fixedOff + 4),
    data: '',
    srvPort: -1,
    hinfoOs: '',
    txt: [],
  };
  // OPT (RFC 6891) carries the UDP payload size in the class field.
  if (record.type === DnsType.Opt) {
    record.class = rawClass;
    record.isCacheFlush = false;
  }
  readRecordData(buf, msgOff, dataOff, dataEnd, end, record);
  records.push(record);
  return dataEnd;
}

/** Decode the RDATA of the types that identify a device; others stay ''. */
function readRecordData(
  buf: Uint8Array,
  msgOff: number,
  dataOff: number,
  dataEnd: number,
  msgEnd: number,
  record: DnsRecord,
): void {
  const dataBytes = dataEnd - dataOff;
  switch (record.type) {
    case DnsType.A:
      if (dataBytes === 4) record.data = formatIpv4(buf, dataOff);
      return;
    case DnsType.Aaaa:
      if (dataBytes === 16) record.data = formatIpv6(buf, dataOff);
      return;
    case DnsType.Ptr:
    case DnsType.Cname:
    case DnsType.Ns: {
      const target = readDnsName(buf, msgOff, dataOff, msgEnd);
      if (target !== null && target.nextOff <= dataEnd) {
        record.data = target.name;
      }
      return;
    }
    case DnsType.Srv: {
      if (dataBytes < 7) return;
      const target = readDnsName(buf, msgOff, dataOff + 6, msgEnd);
      if (target === null || target.nextOff > dataEnd) return;
      record.srvPort = u16be(buf, dataOff + 4);
      record.data = target.name;
      return;
    }
    case DnsType.Hinfo:
      readHinfo(buf, dataOff, dataEnd, record);
      return;
    case DnsType.Txt:
      readTxt(buf, dataOff, dataEnd, record.txt);
      return;
    default:
      return;
  }
}

/** HINFO: two character-strings, CPU then OS (RFC 1035 section 3.3.2). */
function readHinfo(
  buf: Uint8Array,
  off: number,
  end: number,
  record: DnsRecord,
): void {
  if (off >= end || off + 1 + buf[off] > end) return;
  const cpuEnd = off + 1 + buf[off];
  record.data = decodeText(buf, off + 1, cpuEnd);
  if (cpuEnd >= end || cpuEnd + 1 + buf[cpuEnd] > end) return;
  record.hinfoOs = decodeText(buf, cpuEnd + 1, cpuEnd + 1 + buf[cpuEnd]);
}

/** TXT character-strings (RFC 6763 section 6), identity keys only. */
function readTxt(
  buf: Uint8Array,
  off: number,
  end: number,
  out: string[],
): void {
  let pos = off;
  while (pos < end && out.length < MAX_TXT_STRINGS_PER_RECORD) {
    const stringBytes = buf[pos];
    const stringEnd = pos + 1 + stringBytes;
    if (stringEnd > end) return;
    const entry = decodeText(buf, pos + 1, stringEnd, 255, false);
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (MDNS_TXT_IDENTITY_KEYS.has(key.toLowerCase())) out.push(entry);
    pos = stringEnd;
  }
}

/** An advertised DNS-SD service instance (RFC 6763 section 4). */
export interface MdnsServiceInstance {
  /** Full instance name, e.g. `Printer 3._ipp._tcp.local`. */
  name: string;
  /** Its service type, e.g. `_ipp._tcp.local`; '' when not seen. */
  serviceType: string;
  /** SRV target host and port; '' and -1 when no SRV was seen. */
  targetHost: string;
  port: number;
}

/** What one mDNS message says about the device that sent it. */
export interface MdnsIdentity {
  /** Names asked about in the question section. */
  queryNames: string[];
  /** The host name announced with its A/AAAA records, '' when none. */
  hostName: string;
  /** Addresses from A and AAAA records, in message order, deduplicated. */
  addresses: string[];
  /** Service types (`_ipp._tcp.local`) announced or enumerated. */
  serviceTypes: string[];
  serviceInstances: MdnsServiceInstance[];
  /** Identity TXT `key=value` entries (see MDNS_TXT_IDENTITY_KEYS). */
  txt: string[];
}

/** The DNS-SD meta-query name whose PTR targets are service types. */
const SERVICES_META_NAME = '_services._dns-sd._udp.local';

/**
 * Summarise an mDNS message (RFC 6762, DNS-SD RFC 6763): host name and
 * addresses from A/AAAA records, service types and instances from PTR and
 * SRV records, and identity TXT keys. Lists are bounded by the message's
 * own caps (MAX_DNS_RECORDS).
 */
export function summarizeMdns(message: DnsMessage): MdnsIdentity {
  const identity: MdnsIdentity = {
    queryNames: [],
    hostName: '',
    addresses: [],
    serviceTypes: [],
    serviceInstances: [],
    txt: [],
  };
  for (const question of message.questions) {
    addUnique(identity.queryNames, question.name);
  }

  for (const record of message.records) {
    switch (record.type) {
      case DnsType.A:
      case DnsType.Aaaa:
        if (record.data === '') break;
        if (identity.hostName === '') identity.hostName = record.name;
        addUnique(identity.addresses, record.data);
        break;
      case DnsType.Ptr:
        addPtr(identity, record);
        break;
      case DnsType.Srv: {
        const instance = instanceFor(identity, record.name, '');
        instance.targetHost = record.data;
        instance.port = record.srvPort;
        break;
      }
      case DnsType.Txt:
        for (const entry of record.txt) addUnique(identity.txt, entry);
        break;
      default:
        break;
    }
  }
  return identity;
}

function addPtr(identity: MdnsIdentity, record: DnsRecord): void {
  if (record.data === '') return;
  if (record.name.toLowerCase() === SERVICES_META_NAME) {
    addUnique(identity.serviceTypes, record.data);
    return;
  }
  const serviceType = serviceTypeOf(record.name);
  // Reverse-mapping PTRs (in-addr.arpa) are not services.
  if (serviceType === '') return;
  addUnique(identity.serviceTypes, serviceType);
  instanceFor(identity, record.data, serviceType);
}

/**
 * The `_service._proto.domain` part of a PTR owner name, skipping a
 * `_sub` subtype prefix (RFC 6763 section 7.1); '' when it is none.
 */
function serviceTypeOf(name: string): string {
  const sub = name.indexOf('._sub.');
  const base = sub >= 0 ? name.slice(sub + 6) : name;
  const labels = base.split('.');
  if (labels.length < 3 || !labels[0].startsWith('_')) return '';
  const proto = labels[1].toLowerCase();
  if (proto !== '_tcp' && proto !== '_udp') return '';
  return base;
}

function instanceFor(
  identity: MdnsIdentity,
  name: string,
  serviceType: string,
): MdnsServiceInstance {
  for (const instance of identity.serviceInstances) {
    if (instance.name === name) {
      if (instance.serviceType === '') instance.serviceType = serviceType;
      return instance;
    }
  }
  const instance: MdnsServiceInstance = {
    name,
    serviceType: serviceType !== '' ? serviceType : instanceType(name),
    targetHost: '',
    port: -1,
  };
  identity.serviceInstances.push(instance);
  return instance;
}

/** The service type of an instance name: what follows its first label. */
function instanceType(name: string): string {
  const match = /\.(_[^.]+\._(?:tcp|udp)\..+)$/i.exec(name);
  return match === null ? '' : match[1];
}

function addUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}
