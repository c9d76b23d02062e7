import { fileURLToPath } from 'node:url';
import t from 'tap';

import { SeededRng, tlsClientHello } from '../../scripts/lib/frame-builder.js';
import {
  HelloScan,
  isGreaseValue,
  parseClientHello,
  parseClientHelloMessage,
  parseDtlsClientHello,
  scanClientHelloRecords,
  type ClientHello,
} from '../../src/fingerprint/tls-client-hello.js';
import { framePayload } from '../../scripts/lib/capture-files.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/public/', import.meta.url));

/** Firefox's ClientHello in tls12.pcap (FoxIO JA4 test data), frame 1. */
const FIREFOX = framePayload(`${FIXTURES}ja4/pcap/tls12.pcap`, 1);

/** A built ClientHello with GREASE values in every list that may hold one. */
const BUILT = tlsClientHello({
  serverName: 'device.example',
  random: new Uint8Array(32).fill(7),
  sessionId: new Uint8Array(32).fill(9),
  cipherSuites: [0x0a0a, 0x1301, 0x1302, 0xc02b],
  alpn: ['h2', 'http/1.1'],
  groups: [0x2a2a, 0x001d, 0x0017],
  signatureAlgorithms: [0x0403, 0x0804],
  versions: [0x3a3a, 0x0304, 0x0303],
  keyShare: new Uint8Array(32).fill(1),
});

/** Re-frame a single-record ClientHello into records of `chunkBytes`. */
function splitIntoRecords(records: Uint8Array, chunkBytes: number) {
  const message = records.subarray(5, 5 + ((records[3] << 8) | records[4]));
  const parts: number[] = [];
  for (let off = 0; off < message.length; off += chunkBytes) {
    const chunk = message.subarray(off, off + chunkBytes);
    parts.push(0x16, 0x03, 0x01, chunk.length >> 8, chunk.length & 0xff);
    parts.push(...chunk);
  }
  return Uint8Array.from(parts);
}

t.test('tls: Firefox ClientHello from tls12.pcap -> every field', (t) => {
  const hello = parseClientHello(FIREFOX, 0, FIREFOX.length);
  t.ok(hello);
  const h = hello as ClientHello;
  t.equal(h.legacyVersion, 0x0303);
  t.same(h.supportedVersions, [0x0304, 0x0303]);
  t.same(
    h.cipherSuites,
    [
      0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030,
      0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ],
  );
  t.same(
    h.extensions,
    [0, 23, 65281, 10, 11, 35, 16, 5, 34, 51, 43, 13, 45, 28, 21],
  );
  t.equal(h.sni, 'contile.services.mozilla.com');
  t.same(h.alpn, ['h2', 'http/1.1']);
  t.same(h.supportedGroups, [29, 23, 24, 25, 256, 257]);
  t.same(h.ecPointFormats, [0]);
  t.same(
    h.signatureAlgorithms,
    [
      0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
      0x0203, 0x0201,
    ],
  );
  t.end();
});

t.test('tls: GREASE values stay in the parsed lists', (t) => {
  const h = parseClientHello(BUILT, 0, BUILT.length) as ClientHello;
  t.same(h.cipherSuites, [0x0a0a, 0x1301, 0x1302, 0xc02b]);
  t.same(h.supportedGroups, [0x2a2a, 0x001d, 0x0017]);
  t.same(h.supportedVersions, [0x3a3a, 0x0304, 0x0303]);
  t.same(h.extensions, [0, 11, 10, 13, 16, 43, 51]);
  t.equal(h.sni, 'device.example');
  t.end();
});

t.test('tls: isGreaseValue -> the 16 RFC 8701 values only', (t) => {
  let count = 0;
  for (let v = 0; v <= 0xffff; v++) if (isGreaseValue(v)) count++;
  t.equal(count, 16);
  t.ok(isGreaseValue(0x0a0a));
  t.ok(isGreaseValue(0xfafa));
  t.notOk(isGreaseValue(0x0a1a));
  t.notOk(isGreaseValue(0x1301));
  t.end();
});

t.test('tls: a ClientHello over several records -> same fields', (t) => {
  const whole = parseClientHello(FIREFOX, 0, FIREFOX.length);
  // Chunks of 1 and 3 bytes split the 4-byte handshake header too.
  for (const chunkBytes of [1, 3, 4, 100, 300]) {
    const records = splitIntoRecords(FIREFOX, chunkBytes);
    t.equal(
      scanClientHelloRecords(records, 0, records.length),
      HelloScan.Complete,
      `${chunkBytes}-byte records complete`,
    );
    t.same(
      parseClientHello(records, 0, records.length),
      whole,
      `${chunkBytes}-byte records`,
    );
  }
  t.end();
});

t.test('tls: bytes after the ClientHello are not read', (t) => {
  const withTail = new Uint8Array(FIREFOX.length + 6);
  withTail.set(FIREFOX);
  withTail.set([0x14, 0x03, 0x03, 0x00, 0x01, 0x01], FIREFOX.length);
  t.same(
    parseClientHello(withTail, 0, withTail.length),
    parseClientHello(FIREFOX, 0, FIREFOX.length),
  );
  t.end();
});

t.test('tls: SSL 3.0 hello without extensions -> empty lists', (t) => {
  const body = [0x03, 0x00, ...new Array(32).fill(5), 0, 0, 4];
  body.push(0x00, 0x0a, 0x00, 0x2f, 1, 0);
  const message = [1, 0, 0, body.length, ...body];
  const record = Uint8Array.from([
    0x16,
    0x03,
    0x00,
    0,
    message.length,
    ...message,
  ]);
  const h = parseClientHello(record, 0, record.length) as ClientHello;
  t.equal(h.legacyVersion, 0x0300);
  t.same(h.cipherSuites, [0x000a, 0x002f]);
  t.same(h.extensions, []);
  t.equal(h.sni, '');
  t.end();
});

t.test('tls: not a ClientHello -> NotClientHello, null', (t) => {
  const serverHello = FIREFOX.slice();
  serverHello[5] = 2;
  t.equal(
    scanClientHelloRecords(serverHello, 0, serverHello.length),
    HelloScan.NotClientHello,
  );
  t.equal(parseClientHello(serverHello, 0, serverHello.length), null);
  const appData = FIREFOX.slice();
  appData[0] = 0x17;
  t.equal(
    scanClientHelloRecords(appData, 0, appData.length),
    HelloScan.NotClientHello,
  );
  const http = new TextEncoder().encode('GET / HTTP/1.1\r\n');
  t.equal(
    scanClientHelloRecords(http, 0, http.length),
    HelloScan.NotClientHello,
  );
  t.end();
});

t.test('tls: every prefix -> NeedMore and null, never throws', (t) => {
  for (const records of [FIREFOX, splitIntoRecords(FIREFOX, 50)]) {
    let bad = 0;
    for (let end = 0; end < records.length; end++) {
      if (scanClientHelloRecords(records, 0, end) !== HelloScan.NeedMore) bad++;
      if (parseClientHello(records, 0, end) !== null) bad++;
    }
    t.equal(bad, 0, `${records.length}-byte stream`);
  }
  t.end();
});

t.test('tls: every prefix of the message -> null', (t) => {
  const message = FIREFOX.subarray(5);
  let bad = 0;
  for (let end = 0; end < message.length; end++) {
    if (parseClientHelloMessage(message, 0, end) !== null) bad++;
  }
  t.equal(bad, 0);
  t.ok(parseClientHelloMessage(message, 0, message.length));
  t.end();
});

t.test('tls: single-byte mutations and random bytes never throw', (t) => {
  const rng = new SeededRng(0x7415);
  const split = splitIntoRecords(FIREFOX, 200);
  let parsed = 0;
  for (const original of [FIREFOX, split, BUILT]) {
    for (let i = 0; i < original.length; i++) {
      for (const value of [0x00, 0xff, original[i] ^ 0x80, rng.nextU32()]) {
        const mutant = original.slice();
        mutant[i] = value & 0xff;
        scanClientHelloRecords(mutant, 0, mutant.length);
        if (parseClientHello(mutant, 0, mutant.length) !== null) parsed++;
        parseClientHelloMessage(mutant, 5, mutant.length);
        parseDtlsClientHello(mutant, 0, mutant.length);
      }
    }
  }
  for (let i = 0; i < 20000; i++) {
    const bytes = rng.bytes(rng.nextRange(0, 600));
    if (bytes.length > 6 && rng.chance(0.7)) {
      bytes.set([0x16, 0x03, rng.nextInt(5), bytes[3] & 0x03, bytes[4], 1]);
    }
    scanClientHelloRecords(bytes, 0, bytes.length);
    parseClientHello(bytes, 0, bytes.length);
    parseClientHelloMessage(bytes, 0, bytes.length);
    parseDtlsClientHello(bytes, 0, bytes.length);
  }
  t.ok(parsed > 0, `${parsed} mutants still parsed as ClientHellos`);
  t.end();
});

t.test('tls: an end past the buffer is clamped, never read', (t) => {
  t.same(
    parseClientHello(FIREFOX, 0, FIREFOX.length + 100),
    parseClientHello(FIREFOX, 0, FIREFOX.length),
  );
  t.equal(parseClientHello(FIREFOX, FIREFOX.length, FIREFOX.length + 10), null);
  t.equal(parseClientHelloMessage(FIREFOX, 5, FIREFOX.length - 1), null);
  t.end();
});

/** The DTLS 1.0 ClientHello of dtls-udp.notest.cap (FoxIO), frame 1. */
const DTLS = framePayload(`${FIXTURES}ja4/pcap/dtls-udp.notest.cap`, 1);

t.test('dtls: DTLS 1.0 ClientHello -> fields after the cookie', (t) => {
  const h = parseDtlsClientHello(DTLS, 0, DTLS.length) as ClientHello;
  t.ok(h);
  t.equal(h.legacyVersion, 0xfeff);
  t.equal(h.cipherSuites.length, 44);
  t.equal(h.cipherSuites[0], 0xc014);
  t.same(h.extensions, [35, 15]);
  t.end();
});

t.test('dtls: every prefix -> null; mutations never throw', (t) => {
  let bad = 0;
  for (let end = 0; end < DTLS.length; end++) {
    if (parseDtlsClientHello(DTLS, 0, end) !== null) bad++;
  }
  t.equal(bad, 0);
  for (let i = 0; i < DTLS.length; i++) {
    const mutant = DTLS.slice();
    mutant[i] ^= 0xff;
    parseDtlsClientHello(mutant, 0, mutant.length);
  }
  t.pass('no throw');
  t.end();
});

t.test('dtls: a fragment of a ClientHello -> null', (t) => {
  const fragment = DTLS.slice();
  // fragment_length one byte short of the message length.
  fragment[13 + 11] -= 1;
  t.equal(parseDtlsClientHello(fragment, 0, fragment.length), null);
  t.end();
});
