import t from 'tap';

import {
  concatBytes,
  parseIpv4,
  parseMac,
  put16,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import {
  MAX_NBNS_NODE_NAMES,
  NbnsOpcode,
  NbnsType,
  parseNbns,
} from '../../src/fingerprint/nbns.js';
import { checkRobustness } from './robustness.js';

/** RFC 1001 first-level encoding of 16 raw name bytes, with the root. */
function encodeRaw(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(34);
  out[0] = 32;
  for (let i = 0; i < 16; i++) {
    out[1 + 2 * i] = 0x41 + (raw[i] >> 4);
    out[2 + 2 * i] = 0x41 + (raw[i] & 15);
  }
  return out;
}

function encodeName(name: string, suffix: number): Uint8Array {
  const raw = new Uint8Array(16).fill(0x20);
  raw.set(textBytes(name), 0);
  raw[15] = suffix;
  return encodeRaw(raw);
}

const header = (id: number, flags: number, counts: number[]) => {
  const out = new Uint8Array(12);
  put16(out, 0, id);
  put16(out, 2, flags);
  counts.forEach((count, i) => put16(out, 4 + 2 * i, count));
  return out;
};

// Registration request: opcode 5, RD and B flags, one question and one
// additional record pointing back at it.
const registration = concatBytes(
  header(0x8001, 0x2910, [1, 0, 0, 1]),
  encodeName('SYNTH-WS-01', 0x00),
  Uint8Array.of(0, 0x20, 0, 1),
  Uint8Array.of(0xc0, 0x0c, 0, 0x20, 0, 1, 0, 4, 0x93, 0xe0, 0, 6, 0, 0),
  parseIpv4('192.0.2.20'),
);

const query = concatBytes(
  header(0x8002, 0x0110, [1, 0, 0, 0]),
  encodeName('WORKGROUP', 0x1b),
  Uint8Array.of(0, 0x20, 0, 1),
);

function nodeStatus(names: number): Uint8Array {
  const wildcard = new Uint8Array(16);
  wildcard[0] = 0x2a;
  const entries: Uint8Array[] = [];
  for (let i = 0; i < names; i++) {
    const entry = new Uint8Array(18).fill(0x20);
    entry.set(textBytes(i === 1 ? 'WORKGROUP' : 'SYNTH-WS-01'), 0);
    entry[15] = i === 0 ? 0x00 : i === 1 ? 0x00 : 0x20;
    put16(entry, 16, i === 1 ? 0x8400 : 0x0400);
    entries.push(entry);
  }
  const rdata = concatBytes(
    Uint8Array.of(names),
    ...entries,
    parseMac('00:00:5e:00:53:21'),
    new Uint8Array(40),
  );
  const fixed = new Uint8Array(10);
  put16(fixed, 0, NbnsType.NbStat);
  put16(fixed, 2, 1);
  put16(fixed, 8, rdata.length);
  return concatBytes(
    header(0x8003, 0x8400, [0, 1, 0, 0]),
    encodeRaw(wildcard),
    fixed,
    rdata,
  );
}

t.test('nbns: registration golden: the sender names itself', async (t) => {
  t.same(parseNbns(registration, 0, registration.length), {
    transactionId: 0x8001,
    isResponse: false,
    opcode: NbnsOpcode.Registration,
    rcode: 0,
    isBroadcast: true,
    name: 'SYNTH-WS-01',
    suffix: 0,
    fullName: 'SYNTH-WS-01<00>',
    scope: '',
    nameType: NbnsType.Nb,
    isRegistration: true,
    addresses: ['192.0.2.20'],
    isGroup: false,
    nodeNames: [],
    unitId: '',
  });
});

t.test('nbns: query for a group name', async (t) => {
  const info = parseNbns(query, 0, query.length);
  t.equal(info?.fullName, 'WORKGROUP<1b>');
  t.equal(info?.isRegistration, false);
  t.same(info?.addresses, []);
});

t.test('nbns: node status response: the name table and unit id', async (t) => {
  const msg = nodeStatus(3);
  const info = parseNbns(msg, 0, msg.length);
  t.equal(info?.isResponse, true);
  t.equal(info?.nameType, NbnsType.NbStat);
  t.equal(info?.fullName, `*${'<00>'.repeat(14)}<00>`, 'odd bytes as <xx>');
  t.same(info?.nodeNames, [
    {
      name: 'SYNTH-WS-01',
      suffix: 0,
      fullName: 'SYNTH-WS-01<00>',
      isGroup: false,
    },
    { name: 'WORKGROUP', suffix: 0, fullName: 'WORKGROUP<00>', isGroup: true },
    {
      name: 'SYNTH-WS-01',
      suffix: 0x20,
      fullName: 'SYNTH-WS-01<20>',
      isGroup: false,
    },
  ]);
  t.equal(info?.unitId, '00:00:5e:00:53:21');

  const big = nodeStatus(60);
  t.equal(
    parseNbns(big, 0, big.length)?.nodeNames.length,
    MAX_NBNS_NODE_NAMES,
    'name table capped',
  );
});

t.test('nbns: __MSBROWSE__ and a scope', async (t) => {
  const raw = Uint8Array.of(1, 2, ...textBytes('__MSBROWSE__'), 2, 1);
  const msg = concatBytes(
    header(1, 0x0110, [1, 0, 0, 0]),
    encodeRaw(raw).subarray(0, 33),
    Uint8Array.of(3, ...textBytes('lab'), 0),
    Uint8Array.of(0, 0x20, 0, 1),
  );
  const info = parseNbns(msg, 0, msg.length);
  t.equal(info?.fullName, '<01><02>__MSBROWSE__<02><01>');
  t.equal(info?.scope, 'lab');
});

t.test('nbns: not a NetBIOS name -> null', async (t) => {
  t.equal(parseNbns(query, 0, 40), null, 'name cut');
  const bad = Uint8Array.from(query);
  bad[13] = 0x5a;
  t.equal(parseNbns(bad, 0, bad.length), null, 'Z is not a half-byte');
  const short = Uint8Array.from(query);
  short[12] = 16;
  t.equal(parseNbns(short, 0, short.length), null, 'label not 32 bytes');
  const empty = header(1, 0, [0, 0, 0, 0]);
  t.equal(parseNbns(concatBytes(empty, query.subarray(12)), 0, 50), null);
});

t.test('nbns: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(t, parseNbns, [registration, nodeStatus(3)], 0x9b5);
});
