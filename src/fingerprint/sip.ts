/**
 * SIP (RFC 3261) messages over UDP or TCP port 5060: the software a user
 * agent names in `User-Agent` (requests) or `Server` (responses), and how
 * many hops the message made. Addresses, names and numbers in From, To,
 * Contact and the request URI are never read into strings: they name
 * people and wards, not devices.
 */
import {
  HttpHeaderLine,
  isHeaderNamed,
  lineValue,
  readHttpHeaderLine,
  skipLine,
} from './http-request.js';
import { indexOfByte, matchesAsciiCaseless } from './text.js';

/** The port SIP runs on without TLS (RFC 3261 section 19.1.2). */
export const SIP_PORT = 5060;

/** What one SIP message says about its sender's software. Absent: ''. */
export interface SipInfo {
  /** Request method (`REGISTER`, `INVITE`...); '' for a response. */
  method: string;
  /** Status code of a response, -1 for a request. */
  statusCode: number;
  /** User-Agent header value (RFC 3261 section 20.41). */
  userAgent: string;
  /** Server header value of a response (RFC 3261 section 20.35). */
  server: string;
  /** Method named by the CSeq header: what a response answers. */
  cseqMethod: string;
  /**
   * Via entries counted over every Via header (`v` in compact form). A
   * request with one was sent by the agent that made it; a proxy adds its
   * own on the way and leaves the User-Agent as it was.
   */
  viaCount: number;
}

/** Bytes of a SIP message scanned at most. */
export const MAX_SIP_BYTES = 4096;
/** Header lines read at most. */
export const MAX_SIP_HEADER_LINES = 64;

const LINE = new HttpHeaderLine();
const SIP_VERSION = 'sip/2.0';
/** `ACK sip:a SIP/2.0` and a LF: about the shortest request line. */
const MIN_START_LINE_BYTES = 16;

/**
 * Parse a SIP message at `buf[off .. end)`. Returns null unless it starts
 * with `SIP/2.0 NNN` or with an upper-case method token, a space, and on
 * the same line ` SIP/2.0`. A message cut short (a TCP segment ending
 * mid-header) yields what its first part holds.
 */
export function parseSip(
  buf: Uint8Array,
  off: number,
  end: number,
): SipInfo | null {
  end = Math.min(end, buf.length, off + MAX_SIP_BYTES);
  if (off < 0 || end - off < MIN_START_LINE_BYTES) return null;

  let method = '';
  let statusCode = -1;
  if (matchesAsciiCaseless(buf, off, end, SIP_VERSION)) {
    statusCode = readStatusCode(buf, off + SIP_VERSION.length, end);
    if (statusCode < 0) return null;
  } else {
    method = readRequestMethod(buf, off, end);
    if (method === '') return null;
  }

  const info: SipInfo = {
    method,
    statusCode,
    userAgent: '',
    server: '',
    cseqMethod: '',
    viaCount: 0,
  };
  let pos = skipLine(buf, off, end);
  for (let i = 0; i < MAX_SIP_HEADER_LINES && pos > 0; i++) {
    const next = readHttpHeaderLine(buf, pos, end, LINE);
    if (next === 0) break;
    if (next > 0) readHeader(buf, info);
    pos = next > 0 ? next : skipLine(buf, pos, end);
  }
  return info;
}

/** Three digits after the space of `SIP/2.0 `, or -1. */
function readStatusCode(buf: Uint8Array, off: number, end: number): number {
  if (end - off < 4 || buf[off] !== 0x20) return -1;
  let code = 0;
  for (let i = off + 1; i < off + 4; i++) {
    const digit = buf[i] - 0x30;
    if (digit < 0 || digit > 9) return -1;
    code = code * 10 + digit;
  }
  return code >= 100 ? code : -1;
}

/**
 * The method of a request line `METHOD URI SIP/2.0`, or '' when the line
 * is not one. Methods are tokens (RFC 3261 section 25.1); those in use are
 * upper-case letters, which rejects most payloads at the first byte.
 */
function readRequestMethod(buf: Uint8Array, off: number, end: number): string {
  let space = off;
  while (space < end && isUpperLetter(buf[space])) space++;
  if (space === off || space - off > 16 || buf[space] !== 0x20) return '';

  const eol = indexOfByte(buf, 0x0a, space, end);
  if (eol < 0) return '';
  const lineEnd = buf[eol - 1] === 0x0d ? eol - 1 : eol;
  const versionOff = lineEnd - SIP_VERSION.length;
  if (
    versionOff <= space + 1 ||
    buf[versionOff - 1] !== 0x20 ||
    !matchesAsciiCaseless(buf, versionOff, lineEnd, SIP_VERSION)
  ) {
    return '';
  }
  return String.fromCharCode(...buf.subarray(off, space));
}

function readHeader(buf: Uint8Array, info: SipInfo): void {
  // Header names are case-insensitive; the first copy of each wins.
  if (isHeaderNamed(buf, LINE, 'via') || isHeaderNamed(buf, LINE, 'v')) {
    info.viaCount += 1 + countViaSeparators(buf, LINE);
  } else if (info.userAgent === '' && isHeaderNamed(buf, LINE, 'user-agent')) {
    info.userAgent = lineValue(buf, LINE);
  } else if (info.server === '' && isHeaderNamed(buf, LINE, 'server')) {
    info.server = lineValue(buf, LINE);
  } else if (info.cseqMethod === '' && isHeaderNamed(buf, LINE, 'cseq')) {
    info.cseqMethod = readCseqMethod(buf, LINE.valueOff, LINE.valueEnd);
  }
}

/** The method of a CSeq value `1 REGISTER`, or ''. */
function readCseqMethod(buf: Uint8Array, off: number, end: number): string {
  let pos = off;
  while (pos < end && buf[pos] >= 0x30 && buf[pos] <= 0x39) pos++;
  if (pos === off) return '';
  while (pos < end && (buf[pos] === 0x20 || buf[pos] === 0x09)) pos++;
  const methodOff = pos;
  while (pos < end && isUpperLetter(buf[pos])) pos++;
  if (pos === methodOff || pos !== end || pos - methodOff > 16) return '';
  return String.fromCharCode(...buf.subarray(methodOff, pos));
}

/**
 * Commas between Via entries on one line (RFC 3261 section 7.3.1); a comma
 * inside a quoted parameter value does not separate.
 */
function countViaSeparators(buf: Uint8Array, line: HttpHeaderLine): number {
  let commas = 0;
  let isQuoted = false;
  for (let i = line.valueOff; i < line.valueEnd; i++) {
    const b = buf[i];
    if (b === 0x22) isQuoted = !isQuoted;
    else if (b === 0x2c && !isQuoted) commas++;
  }
  return commas;
}

function isUpperLetter(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}
