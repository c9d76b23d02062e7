/**
 * JA3 TLS client fingerprint, as salesforce/ja3 computes it: five fields of
 * the ClientHello in decimal, GREASE values removed, then MD5.
 */
import { createHash } from 'node:crypto';

import { isGreaseValue, type ClientHello } from './tls-client-hello.js';

/** A JA3 fingerprint: the joined fields and their MD5 (lower-case hex). */
export interface Ja3 {
  /**
   * `version,ciphers,extensions,groups,pointFormats`: decimal values, lists
   * joined with `-` in wire order, empty when absent.
   */
  full: string;
  /** MD5 of `full`, 32 lower-case hex digits. */
  md5: string;
}

/**
 * JA3 of a ClientHello: legacy version, cipher suites, extension types,
 * supported groups (without GREASE, RFC 8701) and EC point formats.
 */
export function ja3(hello: ClientHello): Ja3 {
  const full = [
    String(hello.legacyVersion),
    joinWithoutGrease(hello.cipherSuites),
    joinWithoutGrease(hello.extensions),
    joinWithoutGrease(hello.supportedGroups),
    // Point formats are single bytes, which GREASE never takes.
    hello.ecPointFormats.join('-'),
  ].join(',');
  return { full, md5: createHash('md5').update(full).digest('hex') };
}

function joinWithoutGrease(values: readonly number[]): string {
  let text = '';
  for (const value of values) {
    if (isGreaseValue(value)) continue;
    text += text === '' ? String(value) : `-${value}`;
  }
  return text;
}
