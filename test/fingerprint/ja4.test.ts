import t from 'tap';

import { ja4 } from '../../src/fingerprint/ja4.js';
import type { ClientHello } from '../../src/fingerprint/tls-client-hello.js';

const hex = (list: string): number[] =>
  list.split(',').map((value) => parseInt(value, 16));

/** The worked example of FoxIO's JA4 technical details, plus GREASE. */
function specExample(): ClientHello {
  return {
    legacyVersion: 0x0303,
    supportedVersions: [0x5a5a, 0x0304, 0x0303],
    cipherSuites: [
      0x2a2a,
      ...hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c'),
      ...hex('009d,002f,0035'),
    ],
    extensions: [
      0x3a3a,
      ...hex('001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b'),
      ...hex('ff01,000b,000a,0015'),
      0xfafa,
    ],
    sni: 'example.org',
    alpn: ['h2', 'http/1.1'],
    supportedGroups: [0x4a4a, 0x001d],
    ecPointFormats: [0],
    signatureAlgorithms: hex('0403,0804,0401,0503,0805,0501,0806,0601'),
  };
}

t.test('ja4: the spec example -> its four published forms', (t) => {
  const result = ja4(specExample(), 't');
  t.equal(result.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
  t.equal(
    result.ja4_r,
    't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,' +
      'c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,' +
      '002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
  );
  t.equal(result.ja4_o, 't13d1516h2_acb858a92679_18f69afefd3d');
  t.equal(
    result.ja4_ro,
    't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,' +
      '009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,' +
      '0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,' +
      '0806,0601',
  );
  t.end();
});

t.test('ja4: no signature algorithms -> no trailing underscore', (t) => {
  const hello = specExample();
  hello.signatureAlgorithms = [];
  const result = ja4(hello, 't');
  t.equal(result.ja4.slice(-12), '6d807ffa2a79');
  t.ok(result.ja4_r.endsWith('4469,ff01'));
  t.end();
});

t.test('ja4: transport letter -> t, q or d', (t) => {
  t.match(ja4(specExample(), 'q').ja4, /^q13d/);
  t.match(ja4(specExample(), 'd').ja4, /^d13d/);
  t.end();
});

t.test('ja4: no SNI -> i; counts over 99 -> 99', (t) => {
  const hello = specExample();
  hello.extensions = hello.extensions.filter((type) => type !== 0);
  hello.cipherSuites = Array.from({ length: 120 }, (_, i) => 0x0100 + i);
  t.match(ja4(hello, 't').ja4, /^t13i9915h2_/);
  t.end();
});

t.test('ja4: version -> supported_versions, else legacy', (t) => {
  const cases: Array<[number[], number, string]> = [
    [[0x0a0a, 0x0303, 0x0304], 0x0303, '13'],
    [[], 0x0303, '12'],
    [[0x1a1a], 0x0302, '11'],
    [[], 0x0301, '10'],
    [[], 0x0300, 's3'],
    [[], 0x0002, 's2'],
    [[], 0x0305, '00'],
    [[], 0xfeff, 'd1'],
    [[], 0xfefd, 'd2'],
    [[0xfefd, 0xfefc], 0xfefd, 'd3'],
  ];
  for (const [versions, legacy, code] of cases) {
    const hello = specExample();
    hello.supportedVersions = versions;
    hello.legacyVersion = legacy;
    t.equal(ja4(hello, 't').ja4.slice(1, 3), code, `${versions} ${legacy}`);
  }
  t.end();
});

t.test('ja4: ALPN -> first and last character, or hex digits', (t) => {
  const cases: Array<[string[], string]> = [
    [['h2', 'http/1.1'], 'h2'],
    [['http/1.1'], 'h1'],
    [['h'], 'hh'],
    [[], '00'],
    [['', 'h2'], '00'],
    // The spec's examples of non-alphanumeric first or last bytes.
    [['\xab'], 'ab'],
    [['\xab\xcd'], 'ad'],
    [['0\xab'], '3b'],
    [['01\xab\xcd'], '3d'],
    [['0\xab\xcd1'], '01'],
  ];
  for (const [alpn, code] of cases) {
    const hello = specExample();
    hello.alpn = alpn;
    t.equal(ja4(hello, 't').ja4.slice(8, 10), code, JSON.stringify(alpn));
  }
  t.end();
});

t.test('ja4: empty lists -> twelve zeros', (t) => {
  const hello = specExample();
  hello.cipherSuites = [0x0a0a];
  hello.extensions = [0x0000, 0x0010];
  hello.signatureAlgorithms = [];
  const result = ja4(hello, 't');
  t.equal(result.ja4, 't13d0002h2_000000000000_000000000000');
  // Only SNI and ALPN: zeros in the original-order form as well.
  t.equal(result.ja4_o, 't13d0002h2_000000000000_000000000000');
  t.equal(result.ja4_ro, 't13d0002h2__0000,0010');
  t.end();
});
