/**
 * Community ID v1 against the spec's baseline vectors, the README's tables,
 * the ordering rules, and tshark's own implementation on the spec's pcaps.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  communityId,
  type CommunityIdFlow,
  type CommunityIdOptions,
} from '../../src/flows/community-id.js';

/**
 * The spec repository's vectors and pcaps (github.com/corelight/
 * community-id-spec, BSD-3-Clause), copied into the fixtures.
 */
const SPEC_DIRS = [
  new URL('../fixtures/public/community-id-spec/', import.meta.url).pathname,
];
const specDir = SPEC_DIRS.find((dir) => existsSync(join(dir, 'baseline')));

interface BaselineVector {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  communityid: string;
}

const BASELINES: Array<[string, CommunityIdOptions]> = [
  ['baseline_deflt.json', {}],
  ['baseline_seed1.json', { seed: 1 }],
  ['baseline_nob64.json', { encoding: 'hex' }],
];

/** Text IPv4 or IPv6 address to its network-order bytes. */
function parseIp(text: string): Uint8Array {
  if (!text.includes(':')) {
    return Uint8Array.from(text.split('.').map(Number));
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, ''];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const zeroGroups = 8 - headGroups.length - tailGroups.length;
  const groups = [
    ...headGroups,
    ...new Array<string>(zeroGroups).fill('0'),
    ...tailGroups,
  ];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/**
 * A flow from text fields. Like the spec's tools, ICMP carries the type in
 * the source port and the code (or the counter type) in the destination.
 */
function flowOf(
  proto: number,
  saddr: string,
  daddr: string,
  sport: number | null,
  dport: number | null,
): CommunityIdFlow {
  const srcAddr = parseIp(saddr);
  const flow: CommunityIdFlow = {
    ipVersion: srcAddr.length === 4 ? 4 : 6,
    proto,
    srcAddr,
    dstAddr: parseIp(daddr),
  };
  if (proto === 1 || proto === 58) {
    flow.icmpType = sport ?? 0;
    flow.icmpCode = dport ?? 0;
  } else if (sport !== null && dport !== null) {
    flow.srcPort = sport;
    flow.dstPort = dport;
  }
  return flow;
}

t.test('spec baseline JSON: every vector', async (t) => {
  if (specDir === undefined) {
    t.fail(`community-id-spec not found in ${SPEC_DIRS.join(' or ')}`);
    return;
  }
  for (const [file, options] of BASELINES) {
    const text = readFileSync(join(specDir, 'baseline', file), 'utf8');
    const vectors = JSON.parse(text) as BaselineVector[];
    t.ok(vectors.length >= 23, `${file}: ${vectors.length} vectors`);
    for (const v of vectors) {
      const flow = flowOf(v.proto, v.saddr, v.daddr, v.sport, v.dport);
      t.equal(
        communityId(flow, options),
        v.communityid,
        `${file}: [${v.proto}] ${v.saddr}/${v.sport} -> ${v.daddr}/${v.dport}`,
      );
    }
  }
});

// The README's tables add cases the JSON lacks: port-less IPv6 and a
// one-way ICMPv6 type. Columns: proto, src, dst, sport, dport (- for none),
// id with the default seed, id with seed 1. Addresses a, b, A, B below.
const README_ADDRS: Record<string, string> = {
  a: '1.2.3.4',
  b: '5.6.7.8',
  A: 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D',
  B: 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D',
};
const V6_A = README_ADDRS.A;
const V6_B = README_ADDRS.B;
const README_ROWS = `
6 a b 1122 3344 wCb3OG7yAFWelaUydu0D+125CLM= HhA1B+6CoLbiKPEs5nhNYN4XWfk=
6 b a 3344 1122 wCb3OG7yAFWelaUydu0D+125CLM= HhA1B+6CoLbiKPEs5nhNYN4XWfk=
17 a b 1122 3344 0Mu9InQx6z4ZiCZM/7HXi2WMhOg= OShq+iKDAMVouh/4bMxB9Sz4amw=
17 b a 3344 1122 0Mu9InQx6z4ZiCZM/7HXi2WMhOg= OShq+iKDAMVouh/4bMxB9Sz4amw=
132 a b 1122 3344 EKt4MsxuyaE6mL+hmrEkQ9csDD8= uitchpn5MMGAQKBJh7bIr/bAr7s=
132 b a 3344 1122 EKt4MsxuyaE6mL+hmrEkQ9csDD8= uitchpn5MMGAQKBJh7bIr/bAr7s=
1 a b 8 0 crodRHL2FEsHjbv3UkRrfbs4bZ0= 9pr4ZGTICiuZoIh90RRYE2RyXpU=
1 b a 0 0 crodRHL2FEsHjbv3UkRrfbs4bZ0= 9pr4ZGTICiuZoIh90RRYE2RyXpU=
1 a b 11 0 f/YiSyWqczrTgfUCZlBUnvHRcPk= 1DD7cWGC/Yg91YGsQeni8du3pIA=
58 A B 128 0 0bf7hyMJUwt3fMED7z8LIfRpBeo= IO27GQzPuCtNnwFvjWALMHu5tJE=
58 B A 129 0 0bf7hyMJUwt3fMED7z8LIfRpBeo= IO27GQzPuCtNnwFvjWALMHu5tJE=
58 A B 146 0 fYC8+pz24E+EhANP1EZhpX0Dw10= Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=
46 a b - - ikv3kmf89luf73WPz1jOs49S768= /buhqeOmaRCopOZFy9HnoJd5XW8=
46 b a - - ikv3kmf89luf73WPz1jOs49S768= /buhqeOmaRCopOZFy9HnoJd5XW8=
46 A B - - wQ/2mwrnXP4lmJcHdGL5ePjR+e0= j6EyyfBzL4vWKHFXgUqb5Az3OxM=
46 B A - - wQ/2mwrnXP4lmJcHdGL5ePjR+e0= j6EyyfBzL4vWKHFXgUqb5Az3OxM=
`;

t.test('spec README tables: default seed and seed 1', async (t) => {
  const port = (token: string): number | null =>
    token === '-' ? null : Number(token);
  const rows = README_ROWS.trim().split('\n');
  t.equal(rows.length, 16);
  for (const row of rows) {
    const [proto, src, dst, sport, dport, deflt, seed1] = row.split(' ');
    const flow = flowOf(
      Number(proto),
      README_ADDRS[src],
      README_ADDRS[dst],
      port(sport),
      port(dport),
    );
    const name = `[${proto}] ${src}/${sport} -> ${dst}/${dport}`;
    t.equal(communityId(flow), `1:${deflt}`, `${name} default`);
    t.equal(communityId(flow, { seed: 1 }), `1:${seed1}`, `${name} seed 1`);
  }
});

t.test('hex: same digest as base64, 40 lower-case digits', async (t) => {
  const flow = flowOf(6, '1.2.3.4', '5.6.7.8', 1122, 3344);
  t.equal(
    communityId(flow, { encoding: 'hex' }),
    '1:c026f7386ef200559e95a53276ed03fb5db908b3',
  );
  const base64 = communityId(flow).slice(2);
  const hex = communityId(flow, { encoding: 'hex' }).slice(2);
  t.equal(Buffer.from(base64, 'base64').toString('hex'), hex);
});

t.test('ordering: the spec example orders both directions alike', async (t) => {
  const out = flowOf(6, '10.0.0.1', '127.0.0.1', 1234, 80);
  const back = flowOf(6, '127.0.0.1', '10.0.0.1', 80, 1234);
  t.equal(communityId(out), communityId(back));
});

t.test('ordering: equal addresses, the ports decide', async (t) => {
  const out = flowOf(17, '10.0.0.1', '10.0.0.1', 5000, 53);
  const back = flowOf(17, '10.0.0.1', '10.0.0.1', 53, 5000);
  t.equal(communityId(out), communityId(back));
  const other = flowOf(17, '10.0.0.1', '10.0.0.1', 5000, 54);
  t.not(communityId(out), communityId(other));
});

t.test('ordering: addresses compare before ports', async (t) => {
  const a = flowOf(6, '10.0.0.1', '10.0.0.2', 65535, 1);
  const b = flowOf(6, '10.0.0.2', '10.0.0.1', 1, 65535);
  t.equal(communityId(a), communityId(b));
});

t.test('icmp: one-way types are never swapped', async (t) => {
  // Destination unreachable from the higher address: swapping would make it
  // collide with the reverse message.
  const fromHigh = flowOf(1, '5.6.7.8', '1.2.3.4', 3, 1);
  const fromLow = flowOf(1, '1.2.3.4', '5.6.7.8', 3, 1);
  t.not(communityId(fromHigh), communityId(fromLow));
});

t.test('icmp: two-way types ignore the code', async (t) => {
  const echo = flowOf(1, '1.2.3.4', '5.6.7.8', 8, 0);
  const oddCode = flowOf(1, '1.2.3.4', '5.6.7.8', 8, 7);
  t.equal(communityId(echo), communityId(oddCode));
});

t.test('icmp: the v4 and v6 tables do not mix', async (t) => {
  // Type 128 pairs with 129 in ICMPv6 only; under ICMPv4 it is one-way.
  const v6 = flowOf(58, V6_B, V6_A, 128, 0);
  const v6Reply = flowOf(58, V6_A, V6_B, 129, 0);
  t.equal(communityId(v6), communityId(v6Reply));
  const v4 = flowOf(1, '5.6.7.8', '1.2.3.4', 8, 0);
  const v4OneWay = flowOf(1, '5.6.7.8', '1.2.3.4', 128, 0);
  t.not(communityId(v4), communityId(v4OneWay));
});

t.test('port-less protocols ignore any ports given', async (t) => {
  const bare = flowOf(46, '1.2.3.4', '5.6.7.8', null, null);
  const withPorts = { ...bare, srcPort: 1, dstPort: 2 };
  t.equal(communityId(bare), communityId(withPorts));
});

t.test('addresses read at offsets inside a larger buffer', async (t) => {
  const flow = flowOf(6, V6_A, V6_B, 63943, 25);
  const frame = new Uint8Array(100).fill(0xee);
  frame.set(flow.srcAddr, 22);
  frame.set(flow.dstAddr, 38);
  const inFrame: CommunityIdFlow = {
    ...flow,
    srcAddr: frame,
    srcAddrOff: 22,
    dstAddr: frame,
    dstAddrOff: 38,
  };
  t.equal(communityId(inFrame), communityId(flow));
});

t.test('bad arguments throw RangeError', async (t) => {
  const flow = flowOf(6, '1.2.3.4', '5.6.7.8', 1, 2);
  t.throws(() => communityId({ ...flow, ipVersion: 5 }), RangeError);
  t.throws(() => communityId({ ...flow, ipVersion: 6 }), RangeError);
  t.throws(() => communityId({ ...flow, srcAddrOff: 1 }), RangeError);
  t.throws(() => communityId({ ...flow, dstPort: 65536 }), RangeError);
  t.throws(() => communityId({ ...flow, proto: 256 }), RangeError);
  t.throws(() => communityId(flow, { seed: 65536 }), RangeError);
  t.throws(() => communityId(flow, { seed: -1 }), RangeError);
  const icmp = flowOf(1, '1.2.3.4', '5.6.7.8', 3, 300);
  t.throws(() => communityId(icmp), RangeError);
});

/** tshark fields per frame, first occurrence (the outer header of ICMP). */
const TSHARK_FIELDS = [
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'ip.proto',
  'ipv6.nxt',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'sctp.srcport',
  'sctp.dstport',
  'icmp.type',
  'icmp.code',
  'icmpv6.type',
  'icmpv6.code',
  'communityid',
] as const;

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Our id for one tshark row, with the protocol taken from the outer header. */
function idFromTsharkRow(
  row: Record<string, string>,
  options: CommunityIdOptions,
): string {
  const isV4 = row['ip.src'] !== '';
  const num = (field: string): number => Number(row[field]);
  let proto: number;
  if (isV4) proto = num('ip.proto');
  else if (row['icmpv6.type'] !== '') proto = 58;
  else if (row['tcp.srcport'] !== '') proto = 6;
  else if (row['udp.srcport'] !== '') proto = 17;
  else if (row['sctp.srcport'] !== '') proto = 132;
  else proto = num('ipv6.nxt');

  const src = isV4 ? row['ip.src'] : row['ipv6.src'];
  const dst = isV4 ? row['ip.dst'] : row['ipv6.dst'];
  const flow = flowOf(proto, src, dst, null, null);
  flow.srcPort = num('tcp.srcport') || num('udp.srcport') || 0;
  flow.dstPort = num('tcp.dstport') || num('udp.dstport') || 0;
  if (proto === 132) {
    flow.srcPort = num('sctp.srcport');
    flow.dstPort = num('sctp.dstport');
  }
  flow.icmpType = num(proto === 1 ? 'icmp.type' : 'icmpv6.type') || 0;
  flow.icmpCode = num(proto === 1 ? 'icmp.code' : 'icmpv6.code') || 0;
  return communityId(flow, options);
}

const conformanceSkip =
  specDir === undefined || !hasTshark()
    ? 'tshark or the community-id-spec pcaps are not available'
    : false;

t.test(
  'conformance: tshark on the spec pcaps',
  { skip: conformanceSkip },
  async (t) => {
    const pcapDir = join(specDir ?? '', 'pcaps');
    const pcaps = readdirSync(pcapDir).filter((name) => name.endsWith('.pcap'));
    const settings: Array<[string[], CommunityIdOptions]> = [
      [[], {}],
      [['-o', 'communityid.seed:1'], { seed: 1 }],
      [['-o', 'communityid.do_base64:FALSE'], { encoding: 'hex' }],
    ];
    let rows = 0;
    for (const pcap of pcaps) {
      for (const [prefs, options] of settings) {
        const args = ['-r', join(pcapDir, pcap), '-n', '-Y', 'communityid'];
        args.push('--enable-protocol', 'communityid', ...prefs);
        args.push('-T', 'fields', '-E', 'occurrence=f', '-E', 'separator=\t');
        for (const field of TSHARK_FIELDS) args.push('-e', field);
        const out = execFileSync('tshark', args, {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        for (const line of out.split('\n')) {
          if (line === '') continue;
          const values = line.split('\t');
          const row: Record<string, string> = {};
          TSHARK_FIELDS.forEach((field, i) => (row[field] = values[i] ?? ''));
          t.equal(
            idFromTsharkRow(row, options),
            row.communityid,
            `${pcap} ${prefs.join(' ')}: ${line.split('\t', 4).join(' ')}`,
          );
          rows++;
        }
      }
    }
    t.ok(rows > 50, `${rows} tshark rows compared`);
  },
);
