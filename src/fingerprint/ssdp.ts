/**
 * SSDP (UPnP Device Architecture 2.0, discovery; HTTP over UDP port 1900):
 * searches, announcements and search replies with their identity headers.
 */
import {
  HttpHeaderLine,
  isHeaderNamed,
  lineValue,
  readHttpHeaderLine,
  skipLine,
} from './http-request.js';
import { matchesAsciiCaseless } from './text.js';

/** SSDP multicast port (UPnP Device Architecture). */
export const SSDP_PORT = 1900;

/** One SSDP message's identity headers. Absent: '' or -1. */
export interface SsdpInfo {
  /** `M-SEARCH` or `NOTIFY`; '' for a search reply. */
  method: string;
  /** Status code of a search reply (200), -1 for requests. */
  statusCode: number;
  /** SERVER: `OS/version UPnP/2.0 product/version` of the device. */
  server: string;
  /** USER-AGENT of a control point's M-SEARCH. */
  userAgent: string;
  /** NT of a NOTIFY: the device or service type announced. */
  notificationType: string;
  /** NTS of a NOTIFY: `ssdp:alive`, `ssdp:byebye` or `ssdp:update`. */
  notificationSubtype: string;
  /** ST of a search or its reply: the search target. */
  searchTarget: string;
  /** USN: `uuid:device-UUID[::type]`, the device's unique service name. */
  usn: string;
  /** LOCATION: URL of the device description. */
  location: string;
}

/** Bytes of an SSDP message scanned at most. */
export const MAX_SSDP_BYTES = 4096;
/** Header lines read at most. */
export const MAX_SSDP_HEADER_LINES = 48;

const LINE = new HttpHeaderLine();

/**
 * Parse an SSDP message in a UDP payload `buf[off .. end)`. Returns null
 * unless it starts with `M-SEARCH * HTTP/1.`, `NOTIFY * HTTP/1.` or
 * `HTTP/1.x NNN`.
 */
export function parseSsdp(
  buf: Uint8Array,
  off: number,
  end: number,
): SsdpInfo | null {
  end = Math.min(end, buf.length, off + MAX_SSDP_BYTES);
  if (off < 0 || end - off < 12) return null;

  let method = '';
  let statusCode = -1;
  if (matchesAsciiCaseless(buf, off, end, 'm-search * http/1.')) {
    method = 'M-SEARCH';
  } else if (matchesAsciiCaseless(buf, off, end, 'notify * http/1.')) {
    method = 'NOTIFY';
  } else if (matchesAsciiCaseless(buf, off, end, 'http/1.')) {
    statusCode = readStatusCode(buf, off + 8, end);
    if (statusCode < 0) return null;
  } else {
    return null;
  }

  const info: SsdpInfo = {
    method,
    statusCode,
    server: '',
    userAgent: '',
    notificationType: '',
    notificationSubtype: '',
    searchTarget: '',
    usn: '',
    location: '',
  };
  let pos = skipLine(buf, off, end);
  for (let i = 0; i < MAX_SSDP_HEADER_LINES && pos > 0; i++) {
    const next = readHttpHeaderLine(buf, pos, end, LINE);
    if (next === 0) break;
    if (next > 0) readHeader(buf, info);
    pos = next > 0 ? next : skipLine(buf, pos, end);
  }
  return info;
}

/** Three digits after the space of `HTTP/1.x `, or -1. */
function readStatusCode(buf: Uint8Array, off: number, end: number): number {
  if (end - off < 4 || buf[off] !== 0x20) return -1;
  let code = 0;
  for (let i = off + 1; i < off + 4; i++) {
    const digit = buf[i] - 0x30;
    if (digit < 0 || digit > 9) return -1;
    code = code * 10 + digit;
  }
  return code;
}

function readHeader(buf: Uint8Array, info: SsdpInfo): void {
  // Header names are case-insensitive, as in HTTP; the first copy wins.
  if (info.server === '' && isHeaderNamed(buf, LINE, 'server')) {
    info.server = lineValue(buf, LINE);
  } else if (info.userAgent === '' && isHeaderNamed(buf, LINE, 'user-agent')) {
    info.userAgent = lineValue(buf, LINE);
  } else if (info.notificationType === '' && isHeaderNamed(buf, LINE, 'nt')) {
    info.notificationType = lineValue(buf, LINE);
  } else if (
    info.notificationSubtype === '' &&
    isHeaderNamed(buf, LINE, 'nts')
  ) {
    info.notificationSubtype = lineValue(buf, LINE);
  } else if (info.searchTarget === '' && isHeaderNamed(buf, LINE, 'st')) {
    info.searchTarget = lineValue(buf, LINE);
  } else if (info.usn === '' && isHeaderNamed(buf, LINE, 'usn')) {
    info.usn = lineValue(buf, LINE);
  } else if (info.location === '' && isHeaderNamed(buf, LINE, 'location')) {
    info.location = lineValue(buf, LINE);
  }
}
