import { createHash } from 'node:crypto';
import t from 'tap';

import { ja3 } from '../../src/fingerprint/ja3.js';
import type { ClientHello } from '../../src/fingerprint/tls-client-hello.js';

function hello(overrides: Partial<ClientHello>): ClientHello {
  return {
    legacyVersion: 0x0303,
    supportedVersions: [],
    cipherSuites: [],
    extensions: [],
    sni: '',
    alpn: [],
    supportedGroups: [],
    ecPointFormats: [],
    signatureAlgorithms: [],
    ...overrides,
  };
}

t.test('ja3: fields in decimal, wire order, GREASE removed', (t) => {
  const result = ja3(
    hello({
      cipherSuites: [0x0a0a, 0x1301, 0xc02b, 0x00ff],
      extensions: [0x1a1a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0xfafa],
      supportedGroups: [0x2a2a, 0x001d, 0x0017],
      ecPointFormats: [0, 1, 2],
      supportedVersions: [0x3a3a, 0x0304],
    }),
  );
  t.equal(result.full, '771,4865-49195-255,0-23-65281-10-11,29-23,0-1-2');
  t.equal(result.md5, createHash('md5').update(result.full).digest('hex'));
  t.match(result.md5, /^[0-9a-f]{32}$/);
  t.end();
});

t.test('ja3: no extensions -> empty fields keep their commas', (t) => {
  const result = ja3(
    hello({ legacyVersion: 0x0300, cipherSuites: [0x000a, 0x002f] }),
  );
  t.equal(result.full, '768,10-47,,,');
  t.end();
});

t.test('ja3: only GREASE in a list -> that field empty', (t) => {
  const result = ja3(
    hello({ cipherSuites: [0x0a0a], extensions: [0x0a0a, 0x0000] }),
  );
  t.equal(result.full, '771,,0,,');
  t.end();
});
