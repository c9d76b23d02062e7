/**
 * WS-Discovery (SOAP over UDP 3702; OASIS WS-Discovery 1.1 and the 2005
 * draft; IEEE 11073-20702 SDC uses it): message type, endpoint address,
 * types, scopes and XAddrs, read by a bounded tag scanner, no XML library.
 */
import { decodeText, indexOfByte, matchesAsciiCaseless } from './text.js';

/** WS-Discovery multicast port (IANA `ws-discovery`, UDP 3702). */
export const WS_DISCOVERY_PORT = 3702;

/** What one WS-Discovery message says. Absent: '', -1 or empty. */
export interface WsDiscoveryInfo {
  /**
   * Last segment of the WS-Addressing Action (`Hello`, `Bye`, `Probe`,
   * `ProbeMatches`, `Resolve`, `ResolveMatches`), or the body element's
   * name when there is no Action.
   */
  messageType: string;
  /** The full Action URI; its namespace tells 2005 from 1.1. */
  action: string;
  /** EndpointReference addresses, usually `urn:uuid:...`. */
  endpointAddresses: string[];
  /** Types QNames as sent, e.g. `dpws:Device`, `mdpws:MedicalDevice`. */
  types: string[];
  /** Scope URIs; SDC puts the device location and type here. */
  scopes: string[];
  /** Transport addresses of the metadata service (URLs). */
  xAddrs: string[];
  metadataVersion: number;
}

/** Bytes scanned at most (one UDP datagram). */
export const MAX_WSD_BYTES = 65535;
/** Tags visited at most; real messages have a few dozen. */
export const MAX_WSD_TAGS = 1024;
/** Items kept in each list. */
export const MAX_WSD_LIST_ITEMS = 16;
/** Cap on one element's text, in bytes. */
export const MAX_WSD_TEXT_BYTES = 2048;

const BODY_MESSAGES: readonly string[] = [
  'Hello',
  'Bye',
  'Probe',
  'ProbeMatches',
  'Resolve',
  'ResolveMatches',
];

/**
 * Parse a WS-Discovery message in a UDP payload `buf[off .. end)`. Returns
 * null unless the payload starts (after an optional BOM and white space)
 * with `<`, holds an Envelope element, and names a message by its Action
 * or body element. Elements are matched by local name, any prefix.
 */
export function parseWsDiscovery(
  buf: Uint8Array,
  off: number,
  end: number,
): WsDiscoveryInfo | null {
  end = Math.min(end, buf.length, off + MAX_WSD_BYTES);
  if (off < 0 || end - off < 16) return null;
  let pos = off;
  if (buf[pos] === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf) {
    pos += 3;
  }
  while (pos < end && pos - off < 64 && isXmlSpace(buf[pos])) pos++;
  if (buf[pos] !== 0x3c) return null;

  const info: WsDiscoveryInfo = {
    messageType: '',
    action: '',
    endpointAddresses: [],
    types: [],
    scopes: [],
    xAddrs: [],
    metadataVersion: -1,
  };
  const scan: TagScan = { hasEnvelope: false, bodyMessage: '', eprDepth: 0 };
  scanTags(buf, pos, end, info, scan);

  if (!scan.hasEnvelope) return null;
  if (info.action !== '') {
    info.messageType = info.action.slice(info.action.lastIndexOf('/') + 1);
  } else {
    info.messageType = scan.bodyMessage;
  }
  return info.messageType === '' ? null : info;
}

/** What the tag scan remembers between tags. */
interface TagScan {
  hasEnvelope: boolean;
  /** First discovery message element seen in the body. */
  bodyMessage: string;
  /** Open EndpointReference elements around the current position. */
  eprDepth: number;
}

/** Visit up to MAX_WSD_TAGS tags from `pos`, filling `info` and `scan`. */
function scanTags(
  buf: Uint8Array,
  pos: number,
  end: number,
  info: WsDiscoveryInfo,
  scan: TagScan,
): void {
  for (let tags = 0; tags < MAX_WSD_TAGS; tags++) {
    const lt = indexOfByte(buf, 0x3c, pos, end);
    if (lt < 0 || lt + 1 >= end) return;
    const next = buf[lt + 1];

    // Declarations, comments and CDATA: skip past their end.
    if (next === 0x3f || next === 0x21) {
      pos = skipMarkup(buf, lt, end);
      if (pos < 0) return;
      continue;
    }
    const isClosing = next === 0x2f;
    const nameOff = isClosing ? lt + 2 : lt + 1;
    let nameEnd = nameOff;
    while (nameEnd < end && isNameByte(buf[nameEnd])) nameEnd++;
    const gt = findTagEnd(buf, nameEnd, end);
    if (gt < 0) return;
    pos = gt + 1;
    const local = localName(buf, nameOff, nameEnd);

    if (isClosing) {
      if (local === 'EndpointReference' && scan.eprDepth > 0) scan.eprDepth--;
      continue;
    }
    if (buf[gt - 1] === 0x2f) continue;

    if (local === 'Envelope') scan.hasEnvelope = true;
    else if (local === 'EndpointReference') scan.eprDepth++;
    else if (scan.bodyMessage === '' && BODY_MESSAGES.includes(local)) {
      scan.bodyMessage = local;
    } else if (INTERESTING.has(local)) {
      readElement(buf, pos, end, local, scan.eprDepth > 0, info);
    }
  }
}

// Limitation: namespaces are not resolved (elements match by local name)
// and text inside CDATA sections is skipped, not read.
const INTERESTING: ReadonlySet<string> = new Set([
  'Action',
  'Address',
  'Types',
  'Scopes',
  'XAddrs',
  'MetadataVersion',
]);

/** Store the text content starting at `off` of an interesting element. */
function readElement(
  buf: Uint8Array,
  off: number,
  end: number,
  local: string,
  isInEpr: boolean,
  info: WsDiscoveryInfo,
): void {
  const textEnd = indexOfByte(buf, 0x3c, off, end);
  if (textEnd < 0) return;
  const text = unescapeXml(
    decodeText(buf, off, textEnd, MAX_WSD_TEXT_BYTES, false).trim(),
  );
  switch (local) {
    case 'Action':
      if (info.action === '') info.action = text;
      return;
    case 'Address':
      // Addresses outside an EndpointReference are ReplyTo/From headers.
      if (isInEpr && text !== '') addItem(info.endpointAddresses, text);
      return;
    case 'Types':
      addList(info.types, text);
      return;
    case 'Scopes':
      addList(info.scopes, text);
      return;
    case 'XAddrs':
      addList(info.xAddrs, text);
      return;
    case 'MetadataVersion': {
      const version = Number.parseInt(text, 10);
      if (info.metadataVersion < 0 && version >= 0) {
        info.metadataVersion = version;
      }
      return;
    }
    default:
      return;
  }
}

/** Add the white-space separated items of `text` (a list type). */
function addList(list: string[], text: string): void {
  const items = text.split(/[ \t\r\n]+/);
  for (let i = 0; i < items.length; i++) {
    if (items[i] !== '') addItem(list, items[i]);
  }
}

function addItem(list: string[], item: string): void {
  if (list.length < MAX_WSD_LIST_ITEMS && !list.includes(item)) {
    list.push(item);
  }
}

/** The part of a qualified tag name after its prefix. */
function localName(buf: Uint8Array, off: number, end: number): string {
  const colon = indexOfByte(buf, 0x3a, off, end);
  return decodeText(buf, colon < 0 ? off : colon + 1, end, 64, false);
}

/** Offset of the `>` ending a tag, skipping quoted attribute values. */
function findTagEnd(buf: Uint8Array, off: number, end: number): number {
  let quote = 0;
  for (let i = off; i < end; i++) {
    const b = buf[i];
    if (quote !== 0) {
      if (b === quote) quote = 0;
    } else if (b === 0x22 || b === 0x27) {
      quote = b;
    } else if (b === 0x3e) {
      return i;
    }
  }
  return -1;
}

/** Offset after a `<?...?>`, `<!--...-->` or `<![CDATA[...]]>`, or -1. */
function skipMarkup(buf: Uint8Array, lt: number, end: number): number {
  let terminator = '>';
  if (matchesAsciiCaseless(buf, lt, end, '<!--')) terminator = '-->';
  else if (matchesAsciiCaseless(buf, lt, end, '<![cdata[')) terminator = ']]>';
  for (let i = lt + 2; i < end; i++) {
    if (matchesAsciiCaseless(buf, i, end, terminator)) {
      return i + terminator.length;
    }
  }
  return -1;
}

function isXmlSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** Name characters of ASCII tags: letters, digits, `_ - . :`, non-ASCII. */
function isNameByte(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x30 && b <= 0x3a) ||
    b === 0x5f ||
    b === 0x2d ||
    b === 0x2e ||
    b >= 0x80
  );
}

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/** Replace the predefined and numeric character references of XML 1.0. */
function unescapeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHAR_REFERENCE, replaceReference);
}

const CHAR_REFERENCE = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g;

function replaceReference(reference: string, body: string): string {
  if (!body.startsWith('#')) return ENTITIES[body] ?? reference;
  const code =
    body[1] === 'x'
      ? Number.parseInt(body.slice(2), 16)
      : Number.parseInt(body.slice(1), 10);
  // White space stays white space; other controls, surrogates and values
  // outside Unicode are left as the reference text.
  if (code === 0x09 || code === 0x0a || code === 0x0d) return ' ';
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return reference;
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return reference;
  return String.fromCodePoint(code);
}
