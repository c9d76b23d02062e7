import t from 'tap';

import { textBytes } from '../../scripts/lib/frame-builder.js';
import { MAX_SIP_BYTES, parseSip } from '../../src/fingerprint/sip.js';
import { checkRobustness } from './robustness.js';

// Made-up numbers and names; the headers as phones and registrars send
// them (RFC 3261 section 24 has the same shapes).
const REGISTER =
  'REGISTER sip:registrar.example SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKsynth1\r\n' +
  'Max-Forwards: 70\r\nTo: Ward 4 <sip:2104@registrar.example>\r\n' +
  'From: Ward 4 <sip:2104@registrar.example>;tag=synth\r\n' +
  'Call-ID: synth-1@192.0.2.20\r\nCSeq: 1826 REGISTER\r\n' +
  'Contact: <sip:2104@192.0.2.20>\r\n' +
  'User-Agent: PolycomVVX-VVX_411-UA/6.4.3.5018\r\n' +
  'Content-Length: 0\r\n\r\n';

const OK =
  'SIP/2.0 200 OK\r\n' +
  'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKsynth1\r\n' +
  'CSeq: 1826 REGISTER\r\nServer: SYNTH-CallManager/14.0\r\n\r\n';

const parse = (text: string) => {
  const b = textBytes(text);
  return parseSip(b, 0, b.length);
};

t.test('sip: a request names its user agent and its hops', async (t) => {
  t.same(parse(REGISTER), {
    method: 'REGISTER',
    statusCode: -1,
    userAgent: 'PolycomVVX-VVX_411-UA/6.4.3.5018',
    server: '',
    cseqMethod: 'REGISTER',
    viaCount: 1,
  });
  const forwarded = REGISTER.replace(
    'Via: ',
    'Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKp;x="a,b", ',
  );
  t.equal(parse(forwarded)?.viaCount, 2, 'a quoted comma separates nothing');
  const compact = REGISTER.replace('Via: ', 'v: ').replace(
    'Max-Forwards',
    'V: SIP/2.0/TCP proxy.example\r\nMax-Forwards',
  );
  t.equal(parse(compact)?.viaCount, 2, 'compact form, any case');
});

t.test('sip: a response names its server and what it answers', async (t) => {
  const info = parse(OK);
  t.equal(info?.statusCode, 200);
  t.equal(info?.method, '');
  t.equal(info?.server, 'SYNTH-CallManager/14.0');
  t.equal(info?.cseqMethod, 'REGISTER');
  t.equal(parse(OK.replace('CSeq: 1826', 'CSeq: x'))?.cseqMethod, '');
});

t.test('sip: the first copy of a header wins; values are capped', async (t) => {
  const twice = REGISTER.replace(
    'Content-Length',
    'User-Agent: second\r\nContent-Length',
  );
  t.equal(parse(twice)?.userAgent, 'PolycomVVX-VVX_411-UA/6.4.3.5018');
  const long = REGISTER.replace('PolycomVVX', 'P'.repeat(2000));
  t.ok((parse(long)?.userAgent.length ?? 0) <= 512, 'capped');
});

t.test('sip: headers past the scan limit are not read', async (t) => {
  const padded = REGISTER.replace(
    'User-Agent',
    `X-Pad: ${'x'.repeat(MAX_SIP_BYTES)}\r\nUser-Agent`,
  );
  t.equal(parse(padded)?.userAgent, '');
});

t.test('sip: not SIP -> null', async (t) => {
  t.equal(parse('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), null, 'HTTP');
  t.equal(parse('SIP/2.0 2x0 OK\r\n\r\n'), null, 'bad status code');
  t.equal(parse('SIP/2.0 099 Low\r\n\r\n'), null, 'no such class');
  t.equal(parse('register sip:a SIP/2.0\r\n\r\n'), null, 'lower-case method');
  t.equal(parse('REGISTER sip:a HTTP/1.1\r\n\r\n'), null, 'not SIP/2.0');
  t.equal(parse('REGISTER sip:a SIP/2.0'), null, 'no line end');
  t.equal(parseSip(new Uint8Array(64), 0, 64), null);
});

t.test('sip: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(t, parseSip, [textBytes(REGISTER), textBytes(OK)], 0x5160);
});
