/**
 * HTTP/1.x requests (RFC 9112) at the start of a client's TCP segment:
 * method, Host and User-Agent only; the target, which can name a patient,
 * is never read into a string. Also the header-line reader SSDP shares.
 */
import { decodeText, matchesAsciiCaseless } from './text.js';

/** What one HTTP request head says about the client. Absent: ''. */
export interface HttpRequestInfo {
  /** Request method as sent (`GET`, `POST`...). */
  method: string;
  /** `1.0` or `1.1`; '' when the request line was cut. */
  version: string;
  /** Host header value (RFC 9110 section 7.2), trimmed. */
  host: string;
  /** User-Agent header value (RFC 9110 section 10.1.5), trimmed. */
  userAgent: string;
}

/** Bytes of a request head scanned at most; longer heads are cut here. */
export const MAX_HTTP_HEAD_BYTES = 8192;
/** Header lines read at most per message. */
export const MAX_HTTP_HEADER_LINES = 64;
/** Cap on one header value kept as text. */
export const MAX_HTTP_VALUE_BYTES = 512;

// Methods of RFC 9110 section 9 plus PATCH (RFC 5789); each is followed by
// one space on the wire.
const METHODS: readonly string[] = [
  'GET',
  'POST',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'PATCH',
  'TRACE',
];

/** One header line found by `readHttpHeaderLine`: offsets into the buffer. */
export class HttpHeaderLine {
  nameOff = 0;
  nameEnd = 0;
  /** Value with surrounding spaces and tabs trimmed. */
  valueOff = 0;
  valueEnd = 0;
}

/**
 * Find the header line starting at `pos` in `buf[.. end)` and fill `line`.
 * Returns the offset of the next line, 0 at the blank line ending the head
 * (and when the data ends mid-line), or -1 for a line without a colon.
 * Accepts CRLF and bare LF endings.
 */
export function readHttpHeaderLine(
  buf: Uint8Array,
  pos: number,
  end: number,
  line: HttpHeaderLine,
): number {
  let eol = pos;
  while (eol < end && buf[eol] !== 0x0a) eol++;
  if (eol === end) return 0;
  const next = eol + 1;
  if (eol > pos && buf[eol - 1] === 0x0d) eol--;
  if (eol === pos) return 0;

  let colon = pos;
  while (colon < eol && buf[colon] !== 0x3a) colon++;
  if (colon === eol) return -1;
  line.nameOff = pos;
  line.nameEnd = colon;

  let valueOff = colon + 1;
  while (valueOff < eol && isSpace(buf[valueOff])) valueOff++;
  let valueEnd = eol;
  while (valueEnd > valueOff && isSpace(buf[valueEnd - 1])) valueEnd--;
  line.valueOff = valueOff;
  line.valueEnd = valueEnd;
  return next;
}

/** True when the header name in `line` is `lowerName` (ASCII, no case). */
export function isHeaderNamed(
  buf: Uint8Array,
  line: HttpHeaderLine,
  lowerName: string,
): boolean {
  return (
    line.nameEnd - line.nameOff === lowerName.length &&
    matchesAsciiCaseless(buf, line.nameOff, line.nameEnd, lowerName)
  );
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09;
}

const LINE = new HttpHeaderLine();

// Limitation: only the segment that starts a request is read; a Host or
// User-Agent header that arrives in a later TCP segment is missed.

/** `GET / HTTP/1.0` and a LF: the shortest request line. */
const MIN_REQUEST_LINE_BYTES = 15;

/**
 * Parse the request head at the start of a TCP payload `buf[off .. end)`.
 * Returns null unless it starts with a known method, a space and, on the
 * same line, ` HTTP/1.`; the first 8 KiB are scanned. Headers past the end
 * of this segment are missed.
 */
export function parseHttpRequest(
  buf: Uint8Array,
  off: number,
  end: number,
): HttpRequestInfo | null {
  end = Math.min(end, buf.length, off + MAX_HTTP_HEAD_BYTES);
  if (off < 0 || end - off < MIN_REQUEST_LINE_BYTES) return null;
  const method = matchMethod(buf, off, end);
  if (method === null) return null;

  let eol = off + method.length + 1;
  while (eol < end && buf[eol] !== 0x0a) eol++;
  const lineEnd = eol > off && buf[eol - 1] === 0x0d ? eol - 1 : eol;
  if (eol === end) return null;
  const versionOff = lineEnd - 8;
  if (
    versionOff <= off + method.length ||
    !matchesAsciiCaseless(buf, versionOff - 1, lineEnd, ' http/1.')
  ) {
    return null;
  }

  const info: HttpRequestInfo = {
    method,
    version: `1.${String.fromCharCode(buf[lineEnd - 1])}`,
    host: '',
    userAgent: '',
  };
  let pos = eol + 1;
  for (let i = 0; i < MAX_HTTP_HEADER_LINES && pos > 0; i++) {
    const next = readHttpHeaderLine(buf, pos, end, LINE);
    if (next === 0) break;
    if (next > 0) {
      if (info.host === '' && isHeaderNamed(buf, LINE, 'host')) {
        info.host = lineValue(buf, LINE);
      } else if (
        info.userAgent === '' &&
        isHeaderNamed(buf, LINE, 'user-agent')
      ) {
        info.userAgent = lineValue(buf, LINE);
      }
      pos = next;
    } else {
      pos = skipLine(buf, pos, end);
    }
  }
  return info;
}

/** A header line's value as safe text, capped at MAX_HTTP_VALUE_BYTES. */
export function lineValue(buf: Uint8Array, line: HttpHeaderLine): string {
  return decodeText(buf, line.valueOff, line.valueEnd, MAX_HTTP_VALUE_BYTES);
}

/** Offset after the next LF from `pos`, or 0 when there is none. */
export function skipLine(buf: Uint8Array, pos: number, end: number): number {
  for (let i = pos; i < end; i++) if (buf[i] === 0x0a) return i + 1;
  return 0;
}

function matchMethod(buf: Uint8Array, off: number, end: number): string | null {
  // Methods are upper case; the first byte rejects most segments at once.
  const first = buf[off];
  if (first < 0x41 || first > 0x5a) return null;
  for (let m = 0; m < METHODS.length; m++) {
    const method = METHODS[m];
    const spaceOff = off + method.length;
    if (spaceOff >= end || buf[spaceOff] !== 0x20) continue;
    let isMatch = true;
    for (let i = 0; i < method.length; i++) {
      if (buf[off + i] !== method.charCodeAt(i)) {
        isMatch = false;
        break;
      }
    }
    if (isMatch) return method;
  }
  return null;
}
