import t from 'tap';

import { SeededRng } from '../../scripts/lib/frame-builder.js';
import {
  decodeText,
  formatHex,
  formatHexColons,
  formatIpv4,
  formatIpv6,
  formatMac,
  indexOfByte,
  matchesAsciiCaseless,
} from '../../src/fingerprint/text.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const hex = (text: string): Uint8Array =>
  Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

t.test('decodeText: ASCII and UTF-8 come back unchanged', async (t) => {
  t.equal(decodeText(bytes('SYNTH-PUMP-07'), 0, 13), 'SYNTH-PUMP-07');
  t.equal(decodeText(bytes('Gerät Zürich'), 0, 14), 'Gerät Zürich');
  t.equal(decodeText(bytes('xxABCxx'), 2, 5), 'ABC', 'honours off and end');
});

t.test('decodeText: stops at NUL unless told not to', async (t) => {
  const padded = bytes('host\0\0\0');
  t.equal(decodeText(padded, 0, padded.length), 'host');
  t.equal(
    decodeText(padded, 0, padded.length, 255, false),
    'host\ufffd\ufffd\ufffd',
    'NULs inside a field become U+FFFD',
  );
});

t.test('decodeText: control characters become U+FFFD', async (t) => {
  const text = decodeText(bytes('a\x1b[31mred\x07\x7f\u0085b'), 0, 14);
  t.equal(text, 'a\ufffd[31mred\ufffd\ufffd\ufffdb');
  t.equal(
    decodeText(bytes('line1\nline2\r\tx'), 0, 14),
    'line1\nline2\r\tx',
    'tab, LF and CR are kept',
  );
});

t.test('decodeText: invalid UTF-8 becomes U+FFFD', async (t) => {
  t.equal(decodeText(hex('41 ff 42 c3 28'), 0, 5), 'A\ufffdB\ufffd(');
});

t.test('decodeText: the cap cuts on a character boundary', async (t) => {
  const text = bytes('aé€😀');
  t.equal(text.length, 10);
  t.equal(decodeText(text, 0, 10, 2), 'a', 'é would be cut: dropped');
  t.equal(decodeText(text, 0, 10, 3), 'aé');
  t.equal(decodeText(text, 0, 10, 5), 'aé');
  t.equal(decodeText(text, 0, 10, 6), 'aé€');
  t.equal(decodeText(text, 0, 10, 9), 'aé€');
  t.equal(decodeText(text, 0, 10, 10), 'aé€😀');
  t.equal(decodeText(bytes('a'.repeat(1000)), 0, 1000).length, 255);
});

t.test('decodeText: out-of-range offsets give an empty string', async (t) => {
  const b = bytes('abc');
  t.equal(decodeText(b, 3, 3), '');
  t.equal(decodeText(b, 2, 1), '');
  t.equal(decodeText(b, -1, 2), '');
  t.equal(decodeText(b, 1, 99), 'bc', 'end past the buffer is clamped');
});

t.test('formatHex, formatHexColons and formatMac', async (t) => {
  const b = hex('00005e005321ff');
  t.equal(formatHex(b, 0, 7), '00005e005321ff');
  t.equal(formatHex(b, 0, 7, 3), '00005e', 'capped');
  t.equal(formatHex(b, 5, 99), '21ff', 'end clamped to the buffer');
  t.equal(formatHexColons(b, 4, 7), '53:21:ff');
  t.equal(formatMac(b, 0), '00:00:5e:00:53:21');
});

t.test('formatIpv4 and formatIpv6 (RFC 5952)', async (t) => {
  t.equal(formatIpv4(hex('c0000201'), 0), '192.0.2.1');
  const cases: Array<[string, string]> = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['fe800000000000000200005efe005321', 'fe80::200:5e:fe00:5321'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db8000100000001000100010001', '2001:db8:1:0:1:1:1:1'],
    ['ff020000000000000000000000010002', 'ff02::1:2'],
    ['20010db8000000000000000000000000', '2001:db8::'],
  ];
  for (const [raw, text] of cases) {
    t.equal(formatIpv6(hex(raw), 0), text, text);
  }
});

t.test('matchesAsciiCaseless and indexOfByte', async (t) => {
  const b = bytes('NOTIFY * HTTP/1.1');
  t.ok(matchesAsciiCaseless(b, 0, b.length, 'notify'));
  t.ok(matchesAsciiCaseless(b, 9, b.length, 'http/1.'));
  t.notOk(matchesAsciiCaseless(b, 0, 3, 'notify'), 'bounded by end');
  t.notOk(matchesAsciiCaseless(b, 14, 99, 'http/1.'), 'bounded by buffer');
  t.notOk(matchesAsciiCaseless(b, -1, b.length, 'n'));
  t.equal(indexOfByte(b, 0x2a, 0, b.length), 7);
  t.equal(indexOfByte(b, 0x2a, 0, 7), -1);
  t.equal(indexOfByte(b, 0x2a, 0, 999), 7);
});

t.test(
  'decodeText: random bytes never throw, never exceed the cap',
  async (t) => {
    const rng = new SeededRng(7);
    let checked = 0;
    for (let i = 0; i < 5000; i++) {
      const b = rng.bytes(rng.nextInt(300));
      const off = rng.nextInt(b.length + 2) - 1;
      const end = rng.nextInt(b.length + 10) - 2;
      const cap = rng.nextInt(300);
      const text = decodeText(b, off, end, cap, rng.chance(0.5));
      if (new TextEncoder().encode(text).length > cap * 3) break;
      if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text)) {
        break;
      }
      checked++;
    }
    t.equal(checked, 5000, 'no control characters, bounded length');
  },
);
