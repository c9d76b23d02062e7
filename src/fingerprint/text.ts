/**
 * Safe text out of packet bytes for the discovery extractors: bounded
 * UTF-8/ASCII strings without control characters, hex, MAC and IP forms.
 */

/** Default cap, in input bytes, on one string taken from a packet field. */
export const MAX_TEXT_BYTES = 255;

// One decoder for the process; `fatal: false` turns bad sequences into
// U+FFFD instead of throwing.
const UTF8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

// C0 controls except tab, LF and CR (kept: multi-line system descriptions
// are common), DEL and C1 controls. They could drive a terminal that
// prints the value, so they become U+FFFD.
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

// Two hex digits for each byte value.
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

/** Longest UTF-8 sequence; the cap backs off at most this far. */
const UTF8_MAX_SEQ_BYTES = 4;

/**
 * Decode `buf[off .. end)` as UTF-8 (ASCII is a subset) into a string of at
 * most `maxBytes` input bytes, cut on a character boundary. Invalid
 * sequences become U+FFFD, as do control characters other than tab, LF and
 * CR. With `stopAtNul` (the default) the text ends at the first NUL byte,
 * as C-string fields padded with zeros do. Never throws; out-of-range
 * offsets give ''.
 */
export function decodeText(
  buf: Uint8Array,
  off: number,
  end: number,
  maxBytes: number = MAX_TEXT_BYTES,
  stopAtNul = true,
): string {
  const limit = Math.min(end, buf.length, off + maxBytes);
  if (off < 0 || limit <= off) return '';

  let stop = off;
  let isPlain = true;
  while (stop < limit) {
    const b = buf[stop];
    if (b === 0 && stopAtNul) break;
    if (b < 0x20 || b >= 0x7f) isPlain = false;
    stop++;
  }

  // Cut by the cap inside a multi-byte character: drop its lead bytes too.
  if (stop === limit && limit < Math.min(end, buf.length)) {
    let backed = 0;
    while (
      backed < UTF8_MAX_SEQ_BYTES - 1 &&
      stop > off &&
      (buf[stop] & 0xc0) === 0x80
    ) {
      stop--;
      backed++;
    }
  }
  if (stop === off) return '';

  const text = UTF8.decode(buf.subarray(off, stop));
  return isPlain ? text : text.replace(CONTROL_CHARS, '\ufffd');
}

/** Lower-case hex of `buf[off .. end)`, at most `maxBytes` bytes of input. */
export function formatHex(
  buf: Uint8Array,
  off: number,
  end: number,
  maxBytes: number = MAX_TEXT_BYTES,
): string {
  const limit = Math.min(end, buf.length, off + maxBytes);
  let text = '';
  for (let i = Math.max(off, 0); i < limit; i++) {
    text += HEX_BYTE[buf[i]];
  }
  return text;
}

/** `aa:bb:cc:dd:ee:ff` (lower case) as 6 bytes; null for any other text. */
export function parseMac(text: string): Uint8Array | null {
  if (!/^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/.test(text)) return null;
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    mac[i] = parseInt(text.slice(i * 3, i * 3 + 2), 16);
  }
  return mac;
}

/** A 6-byte MAC at `off` as `aa:bb:cc:dd:ee:ff`; the caller checks bounds. */
export function formatMac(buf: Uint8Array, off: number): string {
  return formatHexColons(buf, off, off + 6);
}

/** Bytes `buf[off .. end)` as colon-separated lower-case hex pairs. */
export function formatHexColons(
  buf: Uint8Array,
  off: number,
  end: number,
): string {
  let text = '';
  for (let i = off; i < end; i++) {
    if (i > off) text += ':';
    text += HEX_BYTE[buf[i]];
  }
  return text;
}

/** A 4-byte IPv4 address at `off` in dotted quad; the caller checks bounds. */
export function formatIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** The signed 32-bit word of a dotted-quad IPv4 text, or null for others. */
export function parseIpv4Word(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let word = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    word = (word << 8) | Number(part);
  }
  return word;
}

/** Whether address text is link-local: fe80::/10 or 169.254/16. */
export function isLinkLocalText(address: string): boolean {
  return /^(fe[89ab][0-9a-f]:|169\.254\.)/i.test(address);
}

/**
 * A 16-byte IPv6 address at `off` in the RFC 5952 text form: lower case,
 * no leading zeros, the longest run of two or more zero groups (the first
 * of equal runs) as `::`. The caller checks bounds.
 */
export function formatIpv6(buf: Uint8Array, off: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const isZero =
      g < 8 && buf[off + 2 * g] === 0 && buf[off + 2 * g + 1] === 0;
    if (isZero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;

  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += '::';
      g += bestLen - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += ((buf[off + 2 * g] << 8) | buf[off + 2 * g + 1]).toString(16);
  }
  return text;
}

/**
 * True when `buf[off .. off + lowerAscii.length)` equals `lowerAscii`
 * ignoring ASCII case; `lowerAscii` must be lower case. Bounded by `end`.
 */
export function matchesAsciiCaseless(
  buf: Uint8Array,
  off: number,
  end: number,
  lowerAscii: string,
): boolean {
  const count = lowerAscii.length;
  if (off < 0 || end - off < count || off + count > buf.length) return false;
  for (let i = 0; i < count; i++) {
    let b = buf[off + i];
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b !== lowerAscii.charCodeAt(i)) return false;
  }
  return true;
}

/** Index of the first `byte` in `buf[off .. end)`, or -1. */
export function indexOfByte(
  buf: Uint8Array,
  byte: number,
  off: number,
  end: number,
): number {
  const limit = Math.min(end, buf.length);
  for (let i = Math.max(off, 0); i < limit; i++) {
    if (buf[i] === byte) return i;
  }
  return -1;
}

/**
 * The names of the bits set in `bits`, bit 0 first (`names[i]` for bit i);
 * none for a negative value (a field that was absent).
 */
export function namesOfBits(bits: number, names: readonly string[]): string[] {
  const set: string[] = [];
  if (bits < 0) return set;
  for (let bit = 0; bit < names.length; bit++) {
    if (bits & (1 << bit)) set.push(names[bit]);
  }
  return set;
}
