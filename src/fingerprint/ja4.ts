/**
 * JA4, the TLS client fingerprint of FoxIO (BSD-3-Clause), from its
 * technical details. Only JA4 itself: the other JA4+ methods are not ours.
 */
import { createHash } from 'node:crypto';

import {
  TlsExtension,
  isGreaseValue,
  type ClientHello,
} from './tls-client-hello.js';

/** How the ClientHello travelled: TLS over TCP, QUIC, or DTLS. */
export type Ja4Transport = 't' | 'q' | 'd';

/** The four JA4 forms, named as the JA4 tools print them. */
export interface Ja4 {
  /** Sorted lists, hashed: `t13d1516h2_8daaf6152771_e5627efa2ab1`. */
  ja4: string;
  /** Raw: sorted lists in hex, not hashed. */
  ja4_r: string;
  /** Original wire order (SNI and ALPN kept), hashed. */
  ja4_o: string;
  /** Original wire order, not hashed. */
  ja4_ro: string;
}

/** JA4's two-character names of protocol versions; anything else is 00. */
const VERSION_CODES: ReadonlyMap<number, string> = new Map([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
]);

/** The value JA4 prints for an empty list instead of a hash. */
const EMPTY_HASH = '000000000000';
/** Hex digits of SHA-256 kept in a JA4 hash part. */
const HASH_HEX_DIGITS = 12;
/** Counts are two decimal digits; larger counts print as 99. */
const MAX_COUNT = 99;

/**
 * JA4 of a ClientHello. GREASE values (RFC 8701) are ignored everywhere;
 * SNI (0x0000) and ALPN (0x0010) count as extensions but leave the sorted
 * extension list, which is followed by the signature algorithms in wire
 * order.
 */
export function ja4(hello: ClientHello, transport: Ja4Transport): Ja4 {
  const ciphers = hexWithoutGrease(hello.cipherSuites);
  const extensions = hexWithoutGrease(hello.extensions);
  const sigAlgs = hexWithoutGrease(hello.signatureAlgorithms).join(',');

  const a =
    transport +
    versionCode(hello) +
    (hello.extensions.includes(TlsExtension.ServerName) ? 'd' : 'i') +
    twoDigits(ciphers.length) +
    twoDigits(extensions.length) +
    alpnCode(hello.alpn);

  const sortedCiphers = [...ciphers].sort().join(',');
  const sortedExtensions = extensions
    .filter((hex) => hex !== '0000' && hex !== '0010')
    .sort()
    .join(',');
  const originalCiphers = ciphers.join(',');
  const originalExtensions = extensions.join(',');

  const sorted = withSigAlgs(sortedExtensions, sigAlgs);
  const original = withSigAlgs(originalExtensions, sigAlgs);
  // Both hashed forms print zeros when only SNI and ALPN are present.
  const hasExtensions = sortedExtensions !== '';
  const sortedHash = hasExtensions ? hash12(sorted) : EMPTY_HASH;
  const originalHash = hasExtensions ? hash12(original) : EMPTY_HASH;
  return {
    ja4: `${a}_${hash12(sortedCiphers)}_${sortedHash}`,
    ja4_r: `${a}_${sortedCiphers}_${sorted}`,
    ja4_o: `${a}_${hash12(originalCiphers)}_${originalHash}`,
    ja4_ro: `${a}_${originalCiphers}_${original}`,
  };
}

/**
 * The highest supported_versions value, else the legacy version; DTLS
 * numbers count down (0xfeff is 1.0, 0xfefc is 1.3), so lowest wins there.
 */
function versionCode(hello: ClientHello): string {
  let best = -1;
  for (const version of hello.supportedVersions) {
    if (isGreaseValue(version)) continue;
    if (best < 0 || isNewerVersion(version, best)) best = version;
  }
  if (best < 0) best = hello.legacyVersion;
  return VERSION_CODES.get(best) ?? '00';
}

function isNewerVersion(version: number, than: number): boolean {
  const isDtls = version >= 0xfe00 && than >= 0xfe00;
  return isDtls ? version < than : version > than;
}

/**
 * First and last character of the first ALPN id, or when either is not
 * an ASCII letter or digit, first and last hex digit of the whole id.
 */
function alpnCode(alpn: readonly string[]): string {
  if (alpn.length === 0 || alpn[0].length === 0) return '00';
  const id = alpn[0];
  const first = id.charCodeAt(0);
  const last = id.charCodeAt(id.length - 1);
  if (isAlphanumeric(first) && isAlphanumeric(last)) {
    return String.fromCharCode(first, last);
  }
  const firstHex = first.toString(16).padStart(2, '0');
  const lastHex = last.toString(16).padStart(2, '0');
  return firstHex[0] + lastHex[1];
}

function isAlphanumeric(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a)
  );
}

/** Four lower-case hex digits per value, GREASE left out, wire order. */
function hexWithoutGrease(values: readonly number[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (!isGreaseValue(value)) out.push(value.toString(16).padStart(4, '0'));
  }
  return out;
}

function twoDigits(count: number): string {
  return String(Math.min(count, MAX_COUNT)).padStart(2, '0');
}

/** The extension list, then `_` and the signature algorithms if any. */
function withSigAlgs(extensions: string, sigAlgs: string): string {
  return sigAlgs === '' ? extensions : `${extensions}_${sigAlgs}`;
}

function hash12(text: string): string {
  if (text === '') return EMPTY_HASH;
  const digest = createHash('sha256').update(text).digest('hex');
  return digest.slice(0, HASH_HEX_DIGITS);
}
