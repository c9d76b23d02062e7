/**
 * Text <-> bytes for the compact fields of published messages: MAC, IP,
 * UUID, hex digests and Community IDs. Parsers accept only the canonical
 * text the sensor itself prints, so every accepted value round-trips.
 */
import { formatIpv4, formatIpv6 } from '../fingerprint/text.js';

// 6 bytes of a lowercase `aa:bb:cc:dd:ee:ff`, else null: the decoders' own.
export { parseMac } from '../fingerprint/text.js';

/** Lowercase `aa:bb:cc:dd:ee:ff` of 6 bytes. */
export function formatMac(bytes: Uint8Array): string {
  return bytesToHex(bytes).replace(/(..)(?!$)/g, '$1:');
}

/**
 * 4 or 16 bytes of an IPv4 dotted quad or an IPv6 address in the form the
 * decoders print (RFC 5952 shortening, lowercase); null for anything else.
 */
export function parseIp(text: string): Uint8Array | null {
  const bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (bytes === null) return null;
  return formatIp(bytes) === text ? bytes : null;
}

/** Text of a 4- or 16-byte address; null for other lengths. */
export function formatIp(bytes: Uint8Array): string | null {
  if (bytes.length === 4) return formatIpv4(bytes, 0);
  if (bytes.length === 16) return formatIpv6(bytes, 0);
  return null;
}

/** 16 bytes of a lowercase RFC 9562 UUID text, else null. */
export function parseUuid(text: string): Uint8Array | null {
  const re = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  if (!re.test(text)) return null;
  return hexToBytes(text.replaceAll('-', ''));
}

/** Lowercase 8-4-4-4-12 text of 16 bytes. */
export function formatUuid(bytes: Uint8Array): string {
  const hex = bytesToHex(bytes);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ].join('-');
}

/**
 * The 20-byte SHA-1 behind a Community ID v1 text (`1:` + base64 with
 * padding, corelight spec); null for any other text.
 */
export function parseCommunityId(text: string): Uint8Array | null {
  if (!/^1:[A-Za-z0-9+/]{27}=$/.test(text)) return null;
  const digest = new Uint8Array(Buffer.from(text.slice(2), 'base64'));
  return formatCommunityId(digest) === text ? digest : null;
}

/** Community ID v1 text of a 20-byte digest. */
export function formatCommunityId(digest: Uint8Array): string {
  return `1:${Buffer.from(digest).toString('base64')}`;
}

/** Bytes of an even-length lowercase hex string (checked by callers). */
export function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Lowercase hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString(
    'hex',
  );
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const value = Number(parts[i]);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

/** Hex groups with at most one `::`; no embedded IPv4, no zone. */
function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail =
    halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const groupCount = head.length + tail.length;
  if (halves.length === 1 ? groupCount !== 8 : groupCount > 7) return null;

  const bytes = new Uint8Array(16);
  const groups = [...head, ...new Array<string>(8 - groupCount).fill('0')];
  groups.push(...tail);
  for (let g = 0; g < 8; g++) {
    if (!/^[0-9a-f]{1,4}$/.test(groups[g])) return null;
    const value = parseInt(groups[g], 16);
    bytes[2 * g] = value >> 8;
    bytes[2 * g + 1] = value & 0xff;
  }
  return bytes;
}
