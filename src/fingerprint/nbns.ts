/**
 * NetBIOS name service (RFC 1002 section 4.2, UDP 137): the names a host
 * asks for or registers as its own, and the name tables it reports.
 */
import { u16be } from '../decode/bytes.js';
import { readDnsName } from './dns.js';
import { formatIpv4, formatMac } from './text.js';

/** NetBIOS name service UDP port (RFC 1002 section 4.2). */
export const NBNS_PORT = 137;

/** Opcodes (RFC 1002 section 4.2.1.1). */
export const NbnsOpcode = {
  Query: 0,
  Registration: 5,
  Release: 6,
  Wack: 7,
  Refresh: 8,
  /** Multi-homed registration, a Microsoft extension sent by Windows. */
  MultiHomedRegistration: 15,
} as const;

/** Question and record types (RFC 1002 section 4.2.1.2). */
export const NbnsType = {
  /** NetBIOS general name service resource record. */
  Nb: 0x20,
  /** Node status (the name table of a host). */
  NbStat: 0x21,
} as const;

/** One NetBIOS name from a node-status name table. */
export interface NbnsNodeName {
  /** First 15 bytes, trailing spaces dropped; odd bytes as `<xx>`. */
  name: string;
  /** 16th byte: the service (0x00 workstation, 0x20 server, 0x1b...). */
  suffix: number;
  /** `NAME<xx>`, the usual display form. */
  fullName: string;
  isGroup: boolean;
}

/** What one NBNS packet says. Absent: '', -1 or empty. */
export interface NbnsInfo {
  transactionId: number;
  isResponse: boolean;
  opcode: number;
  rcode: number;
  /** The B flag: sent by broadcast. */
  isBroadcast: boolean;
  /** Name of the question, or of the first record in a response. */
  name: string;
  suffix: number;
  /** `NAME<xx>` as tshark and nbtstat print it. */
  fullName: string;
  /** NetBIOS scope (the labels after the encoded name), usually ''. */
  scope: string;
  /** NB (0x20) or NBSTAT (0x21). */
  nameType: number;
  /**
   * True for a registration, refresh or multi-homed registration request:
   * the sender announcing `name` as its own.
   */
  isRegistration: boolean;
  /** Addresses in NB records (registration or positive query answer). */
  addresses: string[];
  /** The G flag of the first NB entry: a group rather than unique name. */
  isGroup: boolean;
  /** Node status response: the host's name table. */
  nodeNames: NbnsNodeName[];
  /** Node status response: unit id (usually the MAC), '' otherwise. */
  unitId: string;
}

const NBNS_HDR_BYTES = 12;
/** An encoded NetBIOS name is one 32-byte label (RFC 1001 14.1). */
const ENCODED_NAME_BYTES = 32;
/** Questions skipped per packet (RFC 1002 packets carry one). */
const MAX_NBNS_QUESTIONS = 4;
/** Records read per packet over all sections. */
export const MAX_NBNS_RECORDS = 8;
/** Addresses and node names kept. */
export const MAX_NBNS_ADDRESSES = 8;
export const MAX_NBNS_NODE_NAMES = 32;
/** Pointers followed to reach an encoded name. */
const MAX_NAME_POINTER_JUMPS = 4;

interface NameRead {
  nameOff: number;
  nextOff: number;
  scope: string;
}

/**
 * Parse an NBNS packet in a UDP payload `buf[off .. end)`. Returns null
 * when the header is short, or when neither a question nor a first record
 * carries a valid first-level encoded name (RFC 1001 section 14.1).
 */
export function parseNbns(
  buf: Uint8Array,
  off: number,
  end: number,
): NbnsInfo | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < NBNS_HDR_BYTES + 1 + ENCODED_NAME_BYTES) {
    return null;
  }
  const flags = u16be(buf, off + 2);
  const questionCount = u16be(buf, off + 4);
  const recordCount =
    u16be(buf, off + 6) + u16be(buf, off + 8) + u16be(buf, off + 10);
  if (questionCount + recordCount === 0) return null;

  const first = readNbName(buf, off, off + NBNS_HDR_BYTES, end);
  if (first === null || first.nextOff + 4 > end) return null;
  const opcode = (flags >> 11) & 0x0f;
  const isResponse = (flags & 0x8000) !== 0;
  const info: NbnsInfo = {
    transactionId: u16be(buf, off),
    isResponse,
    opcode,
    rcode: flags & 0x0f,
    isBroadcast: (flags & 0x0010) !== 0,
    name: decodeNbName(buf, first.nameOff, 15),
    suffix: decodeNbByte(buf, first.nameOff + 30),
    fullName: '',
    scope: first.scope,
    nameType: u16be(buf, first.nextOff),
    isRegistration:
      !isResponse &&
      (opcode === NbnsOpcode.Registration ||
        opcode === NbnsOpcode.Refresh ||
        opcode === NbnsOpcode.MultiHomedRegistration),
    addresses: [],
    isGroup: false,
    nodeNames: [],
    unitId: '',
  };
  info.fullName = fullName(info.name, info.suffix);

  // Records follow the questions; the first name may have been either.
  let pos = off + NBNS_HDR_BYTES;
  for (let i = 0; i < questionCount && pos > 0; i++) {
    if (i === MAX_NBNS_QUESTIONS) return info;
    const question = readNbName(buf, off, pos, end);
    pos = question === null ? -1 : question.nextOff + 4;
  }
  const records = Math.min(recordCount, MAX_NBNS_RECORDS);
  for (let i = 0; i < records && pos > 0; i++) {
    pos = readRecord(buf, off, pos, end, info);
  }
  return info;
}

/** Read one resource record at `pos`; returns the next offset or -1. */
function readRecord(
  buf: Uint8Array,
  msgOff: number,
  pos: number,
  end: number,
  info: NbnsInfo,
): number {
  const name = readNbName(buf, msgOff, pos, end);
  if (name === null || name.nextOff + 10 > end) return -1;
  const type = u16be(buf, name.nextOff);
  const dataOff = name.nextOff + 10;
  const dataEnd = dataOff + u16be(buf, name.nextOff + 8);
  if (dataEnd > end) return -1;

  if (type === NbnsType.Nb) {
    // NB entries: 16-bit flags (G is the top bit) and an IPv4 address.
    for (let p = dataOff; p + 6 <= dataEnd; p += 6) {
      if (info.addresses.length === 0) info.isGroup = (buf[p] & 0x80) !== 0;
      if (info.addresses.length === MAX_NBNS_ADDRESSES) break;
      info.addresses.push(formatIpv4(buf, p + 2));
    }
  } else if (type === NbnsType.NbStat && info.isResponse) {
    readNodeStatus(buf, dataOff, dataEnd, info);
  }
  return dataEnd;
}

/**
 * Node status RDATA (RFC 1002 4.2.18): name count, 18-byte entries (16
 * name bytes, 16-bit flags), then statistics starting with the unit id.
 */
function readNodeStatus(
  buf: Uint8Array,
  off: number,
  end: number,
  info: NbnsInfo,
): void {
  if (off >= end) return;
  const count = buf[off];
  let pos = off + 1;
  for (let i = 0; i < count && pos + 18 <= end; i++, pos += 18) {
    if (info.nodeNames.length === MAX_NBNS_NODE_NAMES) continue;
    const name = decodeRawName(buf, pos);
    const suffix = buf[pos + 15];
    info.nodeNames.push({
      name,
      suffix,
      fullName: fullName(name, suffix),
      isGroup: (buf[pos + 16] & 0x80) !== 0,
    });
  }
  if (pos + 6 <= end) info.unitId = formatMac(buf, pos);
}

/**
 * Find the encoded name at `pos`, following up to 4 compression pointers;
 * returns the offset of its 32 encoded bytes, the offset after the whole
 * name in place, and the scope. Null unless the label is 32 bytes of A-P.
 */
function readNbName(
  buf: Uint8Array,
  msgOff: number,
  pos: number,
  end: number,
): NameRead | null {
  let at = pos;
  let nextOff = -1;
  for (let jumps = 0; ; jumps++) {
    if (at + 2 > end) return null;
    if ((buf[at] & 0xc0) !== 0xc0) break;
    if (jumps === MAX_NAME_POINTER_JUMPS) return null;
    if (nextOff < 0) nextOff = at + 2;
    at = msgOff + (((buf[at] & 0x3f) << 8) | buf[at + 1]);
  }
  if (buf[at] !== ENCODED_NAME_BYTES) return null;
  if (at + 1 + ENCODED_NAME_BYTES > end) return null;
  for (let i = at + 1; i <= at + ENCODED_NAME_BYTES; i++) {
    if (buf[i] < 0x41 || buf[i] > 0x50) return null;
  }

  const scope = readDnsName(buf, msgOff, at + 1 + ENCODED_NAME_BYTES, end);
  if (scope === null) return null;
  if (nextOff < 0) nextOff = scope.nextOff;
  return { nameOff: at + 1, nextOff, scope: scope.name };
}

/** One byte from two first-level encoded characters ('A' + nibble). */
function decodeNbByte(buf: Uint8Array, off: number): number {
  return ((buf[off] - 0x41) << 4) | (buf[off + 1] - 0x41);
}

/** The first `count` decoded bytes of an encoded name, as display text. */
function decodeNbName(buf: Uint8Array, off: number, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) {
    text += displayByte(decodeNbByte(buf, off + 2 * i));
  }
  return text.replace(/ +$/, '');
}

/** The first 15 raw bytes of a name-table entry, as display text. */
function decodeRawName(buf: Uint8Array, off: number): string {
  let text = '';
  for (let i = 0; i < 15; i++) text += displayByte(buf[off + i]);
  return text.replace(/ +$/, '');
}

// Printable ASCII stays; anything else is shown as <xx>, as nbtstat does.
// Limitation: names in an OEM code page (bytes over 0x7f) are not decoded;
// they show as <xx> escapes.
function displayByte(b: number): string {
  if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
  return `<${b.toString(16).padStart(2, '0')}>`;
}

function fullName(name: string, suffix: number): string {
  return `${name}<${suffix.toString(16).padStart(2, '0')}>`;
}
