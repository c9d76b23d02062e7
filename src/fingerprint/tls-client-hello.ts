/**
 * TLS ClientHello (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2): the
 * fields that identify a client, read from a record stream or one message.
 */
import { u16be } from '../decode/bytes.js';

/** TLS record content type of handshake records (RFC 8446 section 5.1). */
export const TLS_CONTENT_HANDSHAKE = 0x16;
/** TLS record content type of ChangeCipherSpec records. */
export const TLS_CONTENT_CHANGE_CIPHER_SPEC = 0x14;
/** Handshake message type of a ClientHello (RFC 8446 section 4). */
export const TLS_HANDSHAKE_CLIENT_HELLO = 1;
/** Record header: type, version (2 bytes), length (2 bytes). */
export const TLS_RECORD_HDR_BYTES = 5;
/** Handshake header: type, then a 24-bit big-endian length. */
export const TLS_HANDSHAKE_HDR_BYTES = 4;
/** DTLS record header: type, version, epoch, 48-bit sequence, length. */
export const DTLS_RECORD_HDR_BYTES = 13;
/** DTLS handshake header: TLS's 4 bytes, message_seq, fragment fields. */
export const DTLS_HANDSHAKE_HDR_BYTES = 12;
/**
 * Largest record body accepted: 2^14 plaintext bytes plus the 2048 bytes
 * RFC 5246 section 6.2.3 allows a compressed or protected record.
 */
export const TLS_MAX_RECORD_BODY_BYTES = 16384 + 2048;

/**
 * Smallest ClientHello body: version (2), random (32), session id length
 * (1), cipher suites length (2), compression methods length (1).
 */
const CLIENT_HELLO_MIN_BODY_BYTES = 38;
const RANDOM_BYTES = 32;

/** TLS extension types (IANA "TLS ExtensionType Values") read here. */
export const TlsExtension = {
  ServerName: 0x0000,
  SupportedGroups: 0x000a,
  EcPointFormats: 0x000b,
  SignatureAlgorithms: 0x000d,
  Alpn: 0x0010,
  SupportedVersions: 0x002b,
} as const;

/** What `scanClientHelloRecords` found at the start of a record stream. */
export const HelloScan = {
  /** Consistent so far, but the ClientHello is not complete yet. */
  NeedMore: 0,
  /** Every byte of the ClientHello message is present. */
  Complete: 1,
  /** The bytes are not TLS records carrying a ClientHello. */
  NotClientHello: 2,
} as const;

/** One of the `HelloScan` values. */
export type HelloScanId = (typeof HelloScan)[keyof typeof HelloScan];

/**
 * The identifying fields of one ClientHello. Lists keep wire order and
 * every value, GREASE (RFC 8701) included; fingerprints filter later.
 */
export interface ClientHello {
  /** `legacy_version` (client_version before TLS 1.3), e.g. 0x0303. */
  legacyVersion: number;
  /** Values of the supported_versions extension (RFC 8446 4.2.1). */
  supportedVersions: number[];
  /** Cipher suite ids (IANA "TLS Cipher Suites"). */
  cipherSuites: number[];
  /** Extension type ids, duplicates included. */
  extensions: number[];
  /**
   * First host_name of the server_name extension (RFC 6066 section 3), one
   * character per byte (Latin-1); empty when absent.
   */
  sni: string;
  /** ALPN protocol ids (RFC 7301), one character per byte (Latin-1). */
  alpn: string[];
  /** supported_groups values (RFC 8446 4.2.7, formerly elliptic_curves). */
  supportedGroups: number[];
  /** ec_point_formats values, one byte each (RFC 8422 section 5.1.2). */
  ecPointFormats: number[];
  /** signature_algorithms values (RFC 8446 4.2.3). */
  signatureAlgorithms: number[];
}

/**
 * Check whether `buf[off .. end)`, the start of one direction of a TLS
 * connection, holds a whole ClientHello: handshake records (RFC 8446 section
 * 5.1) whose bodies join into one handshake message of type 1. The message
 * may be spread over several records. Reads only headers; never throws.
 */
export function scanClientHelloRecords(
  buf: Uint8Array,
  off: number,
  end: number,
): HelloScanId {
  end = Math.min(end, buf.length);
  // Handshake header bytes seen so far: they too can straddle records.
  let hdrSeen = 0;
  let messageBytes = 0;
  let gatheredBytes = 0;
  let pos = off;
  // Every record is at least 5 bytes long, so this bounds the walk.
  while (pos < end) {
    if (end - pos < TLS_RECORD_HDR_BYTES) {
      return isRecordPrefix(buf, pos, end)
        ? HelloScan.NeedMore
        : HelloScan.NotClientHello;
    }
    if (!isHandshakeRecordHeader(buf, pos)) return HelloScan.NotClientHello;

    const bodyBytes = u16be(buf, pos + 3);
    const bodyOff = pos + TLS_RECORD_HDR_BYTES;
    const bodyEnd = Math.min(bodyOff + bodyBytes, end);
    for (let p = bodyOff; p < bodyEnd && hdrSeen < 4; p++, hdrSeen++) {
      if (hdrSeen === 0) {
        if (buf[p] !== TLS_HANDSHAKE_CLIENT_HELLO) {
          return HelloScan.NotClientHello;
        }
      } else {
        messageBytes = messageBytes * 256 + buf[p];
      }
    }

    gatheredBytes += bodyEnd - bodyOff;
    if (hdrSeen === 4) {
      if (messageBytes < CLIENT_HELLO_MIN_BODY_BYTES) {
        return HelloScan.NotClientHello;
      }
      if (gatheredBytes >= TLS_HANDSHAKE_HDR_BYTES + messageBytes) {
        return HelloScan.Complete;
      }
    }
    if (bodyEnd < bodyOff + bodyBytes) return HelloScan.NeedMore;
    pos = bodyEnd;
  }
  return HelloScan.NeedMore;
}

/**
 * Parse the ClientHello at the start of a TLS record stream `buf[off ..
 * end)` (record header 0x16 first). The message may span several records.
 * Returns null when the bytes are not a ClientHello, are malformed, or do
 * not hold the whole message yet. Never throws; allocates only the result
 * (and a copy of the message when it spans records).
 */
export function parseClientHello(
  buf: Uint8Array,
  off: number,
  end: number,
): ClientHello | null {
  end = Math.min(end, buf.length);
  if (scanClientHelloRecords(buf, off, end) !== HelloScan.Complete) {
    return null;
  }

  // Common case: the first record holds the whole message; parse in place.
  const firstBodyOff = off + TLS_RECORD_HDR_BYTES;
  const firstBodyEnd = firstBodyOff + u16be(buf, off + 3);
  if (firstBodyEnd - firstBodyOff >= TLS_HANDSHAKE_HDR_BYTES) {
    const messageEnd =
      firstBodyOff +
      TLS_HANDSHAKE_HDR_BYTES +
      handshakeMessageBytes(buf, firstBodyOff);
    if (messageEnd <= firstBodyEnd) {
      return parseClientHelloMessage(buf, firstBodyOff, messageEnd);
    }
  }

  const message = joinHandshakeRecords(buf, off, end);
  return message === null
    ? null
    : parseClientHelloMessage(message, 0, message.length);
}

/**
 * Parse one ClientHello handshake message, `buf[off]` being its type byte
 * (RFC 8446 section 4): the form QUIC CRYPTO frames carry (RFC 9001
 * section 4). Returns null when it is not a whole, well-formed ClientHello.
 * Never throws.
 */
export function parseClientHelloMessage(
  buf: Uint8Array,
  off: number,
  end: number,
): ClientHello | null {
  end = Math.min(end, buf.length);
  if (end - off < TLS_HANDSHAKE_HDR_BYTES) return null;
  if (buf[off] !== TLS_HANDSHAKE_CLIENT_HELLO) return null;
  const bodyOff = off + TLS_HANDSHAKE_HDR_BYTES;
  const bodyEnd = bodyOff + handshakeMessageBytes(buf, off);
  if (bodyEnd > end) return null;
  return parseClientHelloBody(buf, bodyOff, bodyEnd, false);
}

/**
 * Parse the ClientHello in one DTLS datagram (RFC 6347 section 4.2.2, RFC
 * 9147 section 5.3): the first record must be a plaintext (epoch 0)
 * handshake record whose message is a whole, unfragmented ClientHello.
 * Rejects other datagrams after a few byte checks. Never throws.
 */
export function parseDtlsClientHello(
  buf: Uint8Array,
  off: number,
  end: number,
): ClientHello | null {
  end = Math.min(end, buf.length);
  if (end - off < DTLS_RECORD_HDR_BYTES + DTLS_HANDSHAKE_HDR_BYTES) {
    return null;
  }
  if (buf[off] !== TLS_CONTENT_HANDSHAKE || buf[off + 1] !== 0xfe) return null;
  if (u16be(buf, off + 3) !== 0) return null;
  const hs = off + DTLS_RECORD_HDR_BYTES;
  if (buf[hs] !== TLS_HANDSHAKE_CLIENT_HELLO) return null;
  const recordEnd = hs + u16be(buf, off + 11);
  if (recordEnd > end) return null;

  // Limitation: a ClientHello fragmented over several DTLS handshake
  // fragments (larger than one datagram) is not reassembled.
  const messageBytes = handshakeMessageBytes(buf, hs);
  const fragmentOffset = (buf[hs + 6] << 16) | u16be(buf, hs + 7);
  const fragmentBytes = (buf[hs + 9] << 16) | u16be(buf, hs + 10);
  if (fragmentOffset !== 0 || fragmentBytes !== messageBytes) return null;
  const bodyOff = hs + DTLS_HANDSHAKE_HDR_BYTES;
  const bodyEnd = bodyOff + messageBytes;
  if (bodyEnd > recordEnd) return null;
  return parseClientHelloBody(buf, bodyOff, bodyEnd, true);
}

/** ClientHello body fields; DTLS adds a cookie after the session id. */
function parseClientHelloBody(
  buf: Uint8Array,
  bodyOff: number,
  bodyEnd: number,
  isDtls: boolean,
): ClientHello | null {
  if (bodyEnd - bodyOff < CLIENT_HELLO_MIN_BODY_BYTES) return null;

  const hello: ClientHello = {
    legacyVersion: u16be(buf, bodyOff),
    supportedVersions: [],
    cipherSuites: [],
    extensions: [],
    sni: '',
    alpn: [],
    supportedGroups: [],
    ecPointFormats: [],
    signatureAlgorithms: [],
  };

  let pos = bodyOff + 2 + RANDOM_BYTES;
  const sessionIdBytes = buf[pos];
  pos += 1 + sessionIdBytes;
  if (isDtls) {
    if (pos >= bodyEnd) return null;
    pos += 1 + buf[pos];
  }

  if (bodyEnd - pos < 2) return null;
  const suitesBytes = u16be(buf, pos);
  pos += 2;
  if (suitesBytes % 2 !== 0 || bodyEnd - pos < suitesBytes) return null;
  readU16List(buf, pos, pos + suitesBytes, hello.cipherSuites);
  pos += suitesBytes;

  if (bodyEnd - pos < 1) return null;
  const compressionBytes = buf[pos];
  pos += 1 + compressionBytes;
  if (pos > bodyEnd) return null;

  // SSL 3.0 and early TLS clients may end the message here (RFC 5246
  // section 7.4.1.2: the extensions block is optional).
  if (pos === bodyEnd) return hello;
  if (bodyEnd - pos < 2) return null;
  const extensionsEnd = pos + 2 + u16be(buf, pos);
  pos += 2;
  if (extensionsEnd > bodyEnd) return null;

  // Each extension takes at least 4 bytes, so this bounds the walk.
  while (pos < extensionsEnd) {
    if (extensionsEnd - pos < 4) return null;
    const type = u16be(buf, pos);
    const dataOff = pos + 4;
    const dataEnd = dataOff + u16be(buf, pos + 2);
    if (dataEnd > extensionsEnd) return null;
    hello.extensions.push(type);
    readExtension(buf, type, dataOff, dataEnd, hello);
    pos = dataEnd;
  }
  return hello;
}

/** Length of the handshake message whose 4-byte header is at `off`. */
function handshakeMessageBytes(buf: Uint8Array, off: number): number {
  return (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
}

/**
 * Header of a handshake record: type 0x16 and a version 3.x (SSL 3 on).
 * Limitation: SSL 2.0-compatible ClientHellos (RFC 5246 appendix E.2),
 * which only very old clients send, are not parsed.
 */
function isHandshakeRecordHeader(buf: Uint8Array, pos: number): boolean {
  return (
    buf[pos] === TLS_CONTENT_HANDSHAKE &&
    buf[pos + 1] === 3 &&
    buf[pos + 2] <= 4 &&
    u16be(buf, pos + 3) <= TLS_MAX_RECORD_BODY_BYTES
  );
}

/** Whether the 1-4 bytes at `pos` can begin a handshake record header. */
function isRecordPrefix(buf: Uint8Array, pos: number, end: number): boolean {
  if (buf[pos] !== TLS_CONTENT_HANDSHAKE) return false;
  if (end - pos >= 2 && buf[pos + 1] !== 3) return false;
  return end - pos < 3 || buf[pos + 2] <= 4;
}

/**
 * Copy the handshake bytes of the records at `off` into one message,
 * stopping once the ClientHello (already known complete) is whole.
 */
function joinHandshakeRecords(
  buf: Uint8Array,
  off: number,
  end: number,
): Uint8Array | null {
  // Gather the 4 header bytes first, as they too may straddle records.
  const header = new Uint8Array(TLS_HANDSHAKE_HDR_BYTES);
  let message: Uint8Array | null = null;
  let filled = 0;
  let pos = off;
  while (end - pos >= TLS_RECORD_HDR_BYTES) {
    const bodyOff = pos + TLS_RECORD_HDR_BYTES;
    const bodyEnd = Math.min(bodyOff + u16be(buf, pos + 3), end);
    for (let p = bodyOff; p < bodyEnd; p++) {
      if (message === null) {
        header[filled++] = buf[p];
        if (filled === TLS_HANDSHAKE_HDR_BYTES) {
          const total =
            TLS_HANDSHAKE_HDR_BYTES + handshakeMessageBytes(header, 0);
          message = new Uint8Array(total);
          message.set(header, 0);
        }
        continue;
      }
      const take = Math.min(bodyEnd - p, message.length - filled);
      message.set(buf.subarray(p, p + take), filled);
      filled += take;
      break;
    }
    if (message !== null && filled === message.length) return message;
    pos = bodyEnd;
  }
  return null;
}

/** Record the fields of the extensions JA3 and JA4 read; skip the rest. */
function readExtension(
  buf: Uint8Array,
  type: number,
  off: number,
  end: number,
  hello: ClientHello,
): void {
  switch (type) {
    case TlsExtension.ServerName:
      if (hello.sni === '') hello.sni = readServerName(buf, off, end);
      return;
    case TlsExtension.Alpn:
      if (hello.alpn.length === 0) readAlpn(buf, off, end, hello.alpn);
      return;
    case TlsExtension.SupportedGroups:
      if (hello.supportedGroups.length === 0) {
        readU16Vector(buf, off, end, hello.supportedGroups);
      }
      return;
    case TlsExtension.SignatureAlgorithms:
      if (hello.signatureAlgorithms.length === 0) {
        readU16Vector(buf, off, end, hello.signatureAlgorithms);
      }
      return;
    case TlsExtension.EcPointFormats:
      if (hello.ecPointFormats.length === 0) {
        readEcPointFormats(buf, off, end, hello.ecPointFormats);
      }
      return;
    case TlsExtension.SupportedVersions:
      if (hello.supportedVersions.length === 0) {
        readSupportedVersions(buf, off, end, hello.supportedVersions);
      }
      return;
    default:
      return;
  }
}

/** u16 values packed in `buf[off .. end)`; an odd last byte is ignored. */
function readU16List(
  buf: Uint8Array,
  off: number,
  end: number,
  out: number[],
): void {
  for (let p = off; p + 2 <= end; p += 2) out.push(u16be(buf, p));
}

/** A u16-length-prefixed vector of u16 values, clamped to the extension. */
function readU16Vector(
  buf: Uint8Array,
  off: number,
  end: number,
  out: number[],
): void {
  if (end - off < 2) return;
  const listEnd = Math.min(off + 2 + u16be(buf, off), end);
  readU16List(buf, off + 2, listEnd, out);
}

/** supported_versions in a ClientHello: a u8-length vector of u16. */
function readSupportedVersions(
  buf: Uint8Array,
  off: number,
  end: number,
  out: number[],
): void {
  if (end - off < 1) return;
  const listEnd = Math.min(off + 1 + buf[off], end);
  readU16List(buf, off + 1, listEnd, out);
}

/** ec_point_formats: a u8-length vector of u8 values. */
function readEcPointFormats(
  buf: Uint8Array,
  off: number,
  end: number,
  out: number[],
): void {
  if (end - off < 1) return;
  const listEnd = Math.min(off + 1 + buf[off], end);
  for (let p = off + 1; p < listEnd; p++) out.push(buf[p]);
}

/** server_name (RFC 6066 section 3): the first entry of type host_name. */
function readServerName(buf: Uint8Array, off: number, end: number): string {
  if (end - off < 2) return '';
  const listEnd = Math.min(off + 2 + u16be(buf, off), end);
  let pos = off + 2;
  // Each entry is at least 3 bytes, so this bounds the walk.
  while (listEnd - pos >= 3) {
    const nameType = buf[pos];
    const nameOff = pos + 3;
    const nameEnd = nameOff + u16be(buf, pos + 1);
    if (nameEnd > listEnd) return '';
    if (nameType === 0) return latin1(buf, nameOff, nameEnd);
    pos = nameEnd;
  }
  return '';
}

/** ALPN (RFC 7301 section 3.1): u16 list length, then u8-length ids. */
function readAlpn(
  buf: Uint8Array,
  off: number,
  end: number,
  out: string[],
): void {
  if (end - off < 2) return;
  const listEnd = Math.min(off + 2 + u16be(buf, off), end);
  let pos = off + 2;
  // Each id takes at least its length byte, so this bounds the walk.
  while (pos < listEnd) {
    const idEnd = pos + 1 + buf[pos];
    if (idEnd > listEnd) return;
    out.push(latin1(buf, pos + 1, idEnd));
    pos = idEnd;
  }
}

/** One character per byte, so that non-ASCII bytes survive unchanged. */
function latin1(buf: Uint8Array, off: number, end: number): string {
  let text = '';
  for (let p = off; p < end; p++) text += String.fromCharCode(buf[p]);
  return text;
}

/**
 * Whether a 16-bit cipher suite, extension, group, version or signature
 * algorithm value is a GREASE value (RFC 8701 section 2): 0x0a0a, 0x1a1a,
 * ... 0xfafa.
 */
export function isGreaseValue(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}
