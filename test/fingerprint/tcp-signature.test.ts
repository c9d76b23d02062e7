/**
 * TCP SYN/SYN-ACK signatures: golden cases, p0f 3.09b conformance on public
 * captures (and on crafted quirk cases when p0f is installed), the OS table,
 * truncation and random mutation.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  CaptureFileError,
  CaptureFileReader,
} from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodedPacket, Reason, TcpFlag } from '../../src/decode/packet.js';
import { guessOs, OS_SIGNATURES } from '../../src/fingerprint/os-signatures.js';
import { TcpSignatureMemo } from '../../src/inventory/medical.js';
import {
  extractTcpSignature,
  guessInitialTtl,
  TcpQuirk,
  toP0fRawSig,
  type TcpSignature,
} from '../../src/fingerprint/tcp-signature.js';
import {
  EtherType,
  ethernetFrame,
  IpProto,
  ipv4Packet,
  ipv6Packet,
  SeededRng,
  tcpSegment,
  type TcpOption,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const P0F_FIXTURES = join(REPO, 'test', 'fixtures', 'public', 'p0f');
// P0F_CORPUS_DIR=<corpus>/_generated/p0f runs the same check on every log
// there, reading each capture from the corpus tree beside it.
const P0F_CORPUS_DIR = process.env.P0F_CORPUS_DIR;
const hasP0f = spawnSync('p0f', ['-h']).error === undefined;

const MAC_A = '00:00:5e:00:53:01';
const MAC_B = '00:00:5e:00:53:02';
const MSS_1460: TcpOption = { kind: 'mss', mssBytes: 1460 };
const NOP: TcpOption = { kind: 'nop' };
const SOK: TcpOption = { kind: 'sack-permitted' };
const ws = (shift: number): TcpOption => ({ kind: 'window-scale', shift });
const ts = (tsVal: number, tsEcr = 0): TcpOption => ({
  kind: 'timestamps',
  tsVal,
  tsEcr,
});
const raw = (...bytes: number[]): TcpOption => ({
  kind: 'raw',
  bytes: Uint8Array.from(bytes),
});
const LINUX_SYN = [MSS_1460, SOK, ts(12345), NOP, ws(7)];
const WINDOWS_SYN = [MSS_1460, NOP, ws(8), NOP, NOP, SOK];
const MACOS_SYN = [
  MSS_1460,
  NOP,
  ws(6),
  NOP,
  NOP,
  ts(777),
  SOK,
  { kind: 'eol' },
  { kind: 'eol' },
] satisfies TcpOption[];

interface SynSpec {
  flags?: number;
  options?: TcpOption[];
  window?: number;
  ttl?: number;
  id?: number;
  isDontFragment?: boolean;
  tos?: number;
  seq?: number;
  ack?: number;
  urgentPointer?: number;
  reservedBits?: number;
  payload?: Uint8Array;
  srcPort?: number;
  ipOptions?: Uint8Array[];
}

/** An Ethernet + IPv4 + TCP frame; a SYN from a Linux-like stack by default. */
function syn4(spec: SynSpec = {}): Uint8Array {
  const flags = spec.flags ?? TcpFlag.Syn;
  const isSynAck = (flags & TcpFlag.Ack) !== 0;
  const tcp = tcpSegment(
    {
      srcPort: isSynAck ? 443 : (spec.srcPort ?? 50000),
      dstPort: isSynAck ? (spec.srcPort ?? 50000) : 443,
      seq: spec.seq ?? 1000,
      ack: spec.ack ?? (isSynAck ? 1001 : 0),
      flags,
      window: spec.window ?? 64240,
      options: spec.options ?? LINUX_SYN,
      urgentPointer: spec.urgentPointer,
      reservedBits: spec.reservedBits,
    },
    spec.payload ?? new Uint8Array(0),
  );
  const ip = ipv4Packet(
    {
      src: isSynAck ? '192.0.2.2' : '192.0.2.1',
      dst: isSynAck ? '192.0.2.1' : '192.0.2.2',
      protocol: IpProto.Tcp,
      ttl: spec.ttl ?? 64,
      id: spec.id ?? 4242,
      isDontFragment: spec.isDontFragment ?? true,
      tos: spec.tos,
      options: spec.ipOptions,
    },
    tcp,
  );
  return ethernetFrame(
    { dst: MAC_B, src: MAC_A, etherType: EtherType.Ipv4 },
    ip,
  );
}

/** Ethernet + IPv6 + TCP SYN. */
function syn6(spec: SynSpec & { flowLabel?: number } = {}): Uint8Array {
  const tcp = tcpSegment(
    {
      srcPort: 50000,
      dstPort: 443,
      seq: 1000,
      flags: spec.flags ?? TcpFlag.Syn,
      window: spec.window ?? 64800,
      options: spec.options ?? LINUX_SYN,
    },
    new Uint8Array(0),
  );
  const ip = ipv6Packet(
    {
      src: '2001:db8::1',
      dst: '2001:db8::2',
      nextHeader: IpProto.Tcp,
      hopLimit: spec.ttl ?? 64,
      flowLabel: spec.flowLabel ?? 0,
      trafficClass: spec.tos ?? 0,
    },
    tcp,
  );
  return ethernetFrame(
    { dst: MAC_B, src: MAC_A, etherType: EtherType.Ipv6 },
    ip,
  );
}

function signatureOf(frame: Uint8Array, capturedBytes = frame.length) {
  const pkt = new DecodedPacket();
  decodeFrame(frame, 0, capturedBytes, frame.length, LinkType.Ethernet, pkt);
  return extractTcpSignature(frame.subarray(0, capturedBytes), pkt);
}

function mustSign(frame: Uint8Array): TcpSignature {
  const sig = signatureOf(frame);
  if (sig === null) throw new Error('expected a signature');
  return sig;
}

t.test('golden: common stacks', async (t) => {
  const linux = mustSign(syn4());
  t.equal(
    linux.text,
    'S:4:64:0:1460:64240=mss*44:7:mss,sok,ts,nop,ws:df,idnz:0',
  );
  t.equal(linux.initialTtl, 64);
  t.equal(linux.distanceHops, 0);
  t.equal(linux.mssBytes, 1460);
  t.equal(linux.windowScale, 7);
  t.same(linux.windowMultiple, { base: 'mss', factor: 44 });
  t.equal(
    toP0fRawSig(linux),
    '4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+:0',
  );

  const windows = mustSign(
    syn4({ options: WINDOWS_SYN, ttl: 120, window: 8192 }),
  );
  t.equal(
    windows.text,
    'S:4:128:0:1460:8192:8:mss,nop,ws,nop,nop,sok:df,idnz:0',
  );
  t.equal(windows.distanceHops, 8);
  t.equal(
    toP0fRawSig(windows),
    '4:120+8:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0',
  );

  const mac = mustSign(syn4({ options: MACOS_SYN, window: 65535, id: 0 }));
  t.equal(mac.optionLayout, 'mss,nop,ws,nop,nop,ts,sok,eol+1');
  t.equal(
    mac.text,
    'S:4:64:0:1460:65535:6:mss,nop,ws,nop,nop,ts,sok,eol+1:df:0',
  );

  const bare = mustSign(syn4({ options: [], window: 4128, ttl: 255 }));
  t.equal(bare.text, 'S:4:255:0:-:4128:-::df,idnz:0');
  t.equal(toP0fRawSig(bare), '4:255+0:0:0:4128,0::df,id+:0');
});

t.test('golden: SYN+ACK, IPv6, window multiples', async (t) => {
  const synAck = mustSign(
    syn4({ flags: TcpFlag.Syn | TcpFlag.Ack, window: 65160, ack: 0 }),
  );
  t.ok(synAck.isSynAck);
  t.ok(synAck.text.startsWith('SA:4:64:0:1460:65160:7:'), synAck.text);
  t.ok(synAck.quirks & TcpQuirk.AckZero, 'ack number zero with ACK set');
  // 65160 = 45 x 1448 (MSS 1460 less 12 bytes of timestamps): p0f's rule.
  t.equal(
    toP0fRawSig(synAck),
    '4:64+0:0:1460:mss*45,7:mss,sok,ts,nop,ws:df,id+,ack-:0',
  );
  // With the peer's SYN MSS as a divisor, as p0f tries on SYN+ACKs.
  const odd = mustSign(
    syn4({
      flags: TcpFlag.Syn | TcpFlag.Ack,
      window: 7000,
      options: [{ kind: 'mss', mssBytes: 1200 }],
    }),
  );
  t.equal(toP0fRawSig(odd), '4:64+0:0:1200:7000,0:mss:df,id+:0');
  t.equal(toP0fRawSig(odd, 1000), '4:64+0:0:1200:mss*7,0:mss:df,id+:0');

  const v6 = mustSign(syn6({ flowLabel: 0x12345, window: 1340 * 7 }));
  t.equal(v6.ipVersion, 6);
  t.same(v6.windowMultiple, null, '1340 is MSS 1280 + 60: not for 1460');
  t.equal(v6.text, 'S:6:64:0:1460:9380:7:mss,sok,ts,nop,ws:flow:0');
  const mtu6 = mustSign(
    syn6({ options: [{ kind: 'mss', mssBytes: 1280 }], window: 1340 * 7 }),
  );
  t.same(mtu6.windowMultiple, { base: 'mtu', factor: 7 });
  t.equal(toP0fRawSig(mtu6), '6:64+0:0:1280:mtu*7,0:mss::0');
});

t.test('golden: quirks', async (t) => {
  const cases: Array<[string, SynSpec, string, string]> = [
    ['ECN in IP', { tos: 0x02 }, 'ecn', 'ecn'],
    [
      'ECE+CWR',
      { flags: TcpFlag.Syn | TcpFlag.Ece | TcpFlag.Cwr },
      'ecn',
      'ecn',
    ],
    ['AE bit', { reservedBits: 1 }, 'ecn', 'ecn'],
    ['reserved bits', { reservedBits: 0x0e }, 'rsv', ''],
    ['zero seq', { seq: 0 }, 'seq0', 'seq-'],
    ['ack on SYN', { ack: 7 }, 'acknz', ''],
    ['PSH', { flags: TcpFlag.Syn | TcpFlag.Psh }, 'psh', 'pushf+'],
    [
      'URG',
      { flags: TcpFlag.Syn | TcpFlag.Urg, urgentPointer: 1 },
      'urg',
      'urgf+',
    ],
    ['urgent pointer', { urgentPointer: 3 }, 'urgptr', 'uptr+'],
    ['no DF, id 0', { isDontFragment: false, id: 0 }, 'id0', 'id-'],
    ['zero TSval', { options: [MSS_1460, ts(0)] }, 'ts0', 'ts1-'],
    ['TSecr on SYN', { options: [MSS_1460, ts(5, 9)] }, 'tsecr', 'ts2+'],
    ['shift 15', { options: [MSS_1460, ws(15)] }, 'ws15', 'exws'],
    ['MSS length 3', { options: [raw(2, 3, 5), NOP, ws(7)] }, 'optbad', 'bad'],
    [
      'data after EOL',
      { options: [MSS_1460, raw(0, 1, 2, 3)] },
      'eoldata',
      'opt+',
    ],
    ['payload', { payload: Uint8Array.of(1, 2, 3) }, '', ''],
  ];
  for (const [name, spec, ours, p0f] of cases) {
    const sig = mustSign(syn4(spec));
    const quirks = sig.text.split(':')[8].split(',');
    if (ours !== '') t.ok(quirks.includes(ours), `${name}: ${sig.text}`);
    const p0fQuirks = toP0fRawSig(sig).split(':')[6].split(',');
    if (p0f !== '') t.ok(p0fQuirks.includes(p0f), `${name}: p0f ${p0f}`);
  }
  t.equal(mustSign(syn4({ payload: Uint8Array.of(1) })).hasPayload, true);
  const ipReserved = syn4();
  ipReserved[14 + 6] |= 0x80;
  t.ok(mustSign(ipReserved).quirks & TcpQuirk.IpReservedFlag, 'IP MBZ bit');
  t.match(toP0fRawSig(mustSign(ipReserved)), /:df,id\+,0\+:/);
  const ipOptions = mustSign(syn4({ ipOptions: [Uint8Array.of(1, 1, 1, 0)] }));
  t.equal(ipOptions.ipOptionBytes, 4);
  // p0f never looks at the last byte after an end marker.
  const lastByte = mustSign(syn4({ options: [MSS_1460, raw(0, 0, 0, 1)] }));
  t.ok(lastByte.quirks & TcpQuirk.EolData);
  t.notMatch(toP0fRawSig(lastByte), /opt\+/);
});

t.test('golden: malformed option blocks follow p0f', async (t) => {
  const cases: Array<[TcpOption[], string]> = [
    [[raw(2, 0), MSS_1460], '0:516:mss*44,0:mss,sack:df,id+,bad'],
    [[raw(2, 1, 0, 0)], '0:0:64240,0:mss:df,id+,bad'],
    [[MSS_1460, raw(8, 30, 1, 2, 3, 4)], '0:1460:mss*44,0:mss,ts:df,id+,bad'],
    [[raw(29, 1), MSS_1460], '0:0:64240,0:?29:df,id+,bad'],
    [[MSS_1460, raw(254, 4, 0xf9, 0x89)], '0:1460:mss*44,0:mss,?254:df,id+'],
    [
      new Array<TcpOption>(40).fill(NOP),
      `0:0:64240,0:${'nop,'.repeat(23)}nop:df,id+,bad`,
    ],
    [
      new Array<TcpOption>(24).fill(NOP),
      `0:0:64240,0:${'nop,'.repeat(23)}nop:df,id+`,
    ],
    [[raw(1, 2, 4, 5)], '0:0:64240,0:nop,mss:df,id+,bad'],
    [[MSS_1460, raw(4, 3, 0, 0)], '0:1460:mss*44,0:mss,sok,eol+1:df,id+,bad'],
    [
      [raw(5, 10, 1, 1, 1, 1, 1, 1, 1, 1), NOP, NOP],
      '0:0:64240,0:sack,nop,nop:df,id+',
    ],
  ];
  for (const [options, expected] of cases) {
    const rawSig = toP0fRawSig(mustSign(syn4({ options })));
    t.equal(rawSig, `4:64+0:${expected}:0`);
  }
});

t.test('initial TTL guess and p0f distance limit', async (t) => {
  const cases: Array<[number, number, string]> = [
    [0, 32, '0+32'],
    [1, 32, '1+31'],
    [33, 64, '33+31'],
    [93, 128, '93+35'],
    [92, 128, '92+?'],
    [129, 255, '129+?'],
    [220, 255, '220+35'],
    [255, 255, '255+0'],
  ];
  for (const [ttl, initial, p0f] of cases) {
    t.equal(guessInitialTtl(ttl), initial, `ttl ${ttl}`);
    t.equal(toP0fRawSig(mustSign(syn4({ ttl }))).split(':')[1], p0f);
  }
});

t.test('not a SYN: no signature', async (t) => {
  t.equal(signatureOf(syn4({ flags: TcpFlag.Ack })), null, 'ACK');
  t.equal(signatureOf(syn4({ flags: TcpFlag.Syn | TcpFlag.Fin })), null);
  t.equal(signatureOf(syn4({ flags: TcpFlag.Syn | TcpFlag.Rst })), null);
  t.equal(signatureOf(syn4({ flags: TcpFlag.Rst | TcpFlag.Ack })), null);
  const udp = syn4();
  udp[14 + 9] = IpProto.Udp;
  t.equal(signatureOf(udp), null, 'UDP');
});

t.test('OS table: labels for common stacks', async (t) => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['linux', syn4(), 'linux'],
    ['windows 10', syn4({ options: WINDOWS_SYN, ttl: 128 }), 'windows'],
    [
      'windows 7',
      syn4({ options: WINDOWS_SYN, ttl: 128, window: 8192 }),
      'windows',
    ],
    ['macos', syn4({ options: MACOS_SYN, window: 65535 }), 'apple'],
    [
      'freebsd',
      syn4({ options: [MSS_1460, NOP, ws(6), SOK, ts(5)], window: 65535 }),
      'freebsd',
    ],
    [
      'lwip',
      syn4({
        options: [{ kind: 'mss', mssBytes: 536 }],
        window: 2144,
        ttl: 255,
        isDontFragment: false,
      }),
      'embedded',
    ],
    [
      'cisco',
      syn4({
        options: [{ kind: 'mss', mssBytes: 536 }],
        window: 4128,
        ttl: 255,
      }),
      'network',
    ],
  ];
  for (const [name, frame, family] of cases) {
    const guess = guessOs(mustSign(frame));
    t.equal(guess?.family, family, `${name}: ${guess?.label}`);
    t.ok((guess?.confidence ?? 0) > 0 && (guess?.confidence ?? 1) <= 1);
  }
  const loopback = guessOs(
    mustSign(
      syn4({
        window: 43690,
        options: [{ kind: 'mss', mssBytes: 65495 }, SOK, ts(1), NOP, ws(7)],
      }),
    ),
  );
  t.equal(loopback?.ruleId, 'linux-any-window', 'Linux order, odd window');
  const specific = guessOs(mustSign(syn4()));
  t.equal(specific?.ruleId, 'linux-3plus', 'the specific row wins');
  const unknown = guessOs(mustSign(syn4({ ttl: 200, options: [raw(99, 2)] })));
  t.ok(unknown === null || unknown.confidence < 0.3, 'weak guess at most');
  const ids = new Set(OS_SIGNATURES.map((rule) => rule.id));
  t.equal(ids.size, OS_SIGNATURES.length, 'rule ids unique');
});

// ---------------------------------------------------------------------------
// Conformance with p0f 3.09b

interface P0fLine {
  mod: string;
  cli: string;
  srv: string;
  rawSig: string;
}

function readP0fLog(path: string): P0fLine[] {
  const lines: P0fLine[] = [];
  const pattern =
    /\|?mod=(syn|syn\+ack)\|cli=([^|]+)\|srv=([^|]+)\|.*\|raw_sig=(\S+)$/;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = pattern.exec(line);
    if (m !== null)
      lines.push({ mod: m[1], cli: m[2], srv: m[3], rawSig: m[4] });
  }
  return lines;
}

/** Address text as p0f prints it: dotted quad, or 8 unpadded hex groups. */
function addressText(buf: Uint8Array, off: number, ipVersion: number): string {
  if (ipVersion === 4) return Array.from(buf.subarray(off, off + 4)).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((buf[off + i] << 8) | buf[off + i + 1]).toString(16));
  }
  return groups.join(':');
}

function forEachFrame(
  path: string,
  onPacket: (buf: Uint8Array, pkt: DecodedPacket, frameEnd: number) => void,
): void {
  const reader = CaptureFileReader.open(path);
  const pkt = new DecodedPacket();
  const sink = {
    onFrame(
      buf: Uint8Array,
      off: number,
      capturedBytes: number,
      wireBytes: number,
      _timeUs: number,
      linkType: number,
    ): void {
      decodeFrame(buf, off, capturedBytes, wireBytes, linkType, pkt);
      onPacket(buf, pkt, off + capturedBytes);
    },
  };
  try {
    while (reader.readBatch(sink, 4096) > 0);
  } catch (error) {
    if (!(error instanceof CaptureFileError)) throw error;
  } finally {
    reader.close();
  }
}

/**
 * Our signatures for the SYNs and SYN+ACKs p0f would report: p0f skips
 * VLAN-tagged frames, IPv6 with extension headers, fragments, packets cut
 * shorter than their IP length, repeated SYNs of one connection, SYN+ACKs
 * without a SYN before them and repeated SYN+ACKs.
 */
function ourP0fLines(path: string): P0fLine[] {
  const out: P0fLine[] = [];
  const flows = new Map<
    string,
    { synSeq: number; synMss: number; isAcked: boolean }
  >();
  forEachFrame(path, (buf, pkt, frameEnd) => {
    const sig = extractTcpSignature(buf, pkt);
    if (sig === null) return;
    // p0f reads IP at a fixed offset after the link header and IPv6 only
    // when TCP follows the fixed header: tagged frames and extension
    // headers are invisible to it.
    if (pkt.vlanCount > 0) return;
    if (pkt.ipVersion === 6 && pkt.ipv6ExtCount > 0) return;
    if (pkt.ipHdrOff + pkt.ipTotalBytes > frameEnd) return;
    const srcAddr = addressText(buf, pkt.srcAddrOff, pkt.ipVersion);
    const dstAddr = addressText(buf, pkt.dstAddrOff, pkt.ipVersion);
    const src = `${srcAddr}/${pkt.srcPort}`;
    const dst = `${dstAddr}/${pkt.dstPort}`;
    if (!sig.isSynAck) {
      const flow = flows.get(`${src}>${dst}`);
      if (flow !== undefined && flow.synSeq === pkt.tcpSeq) return;
      flows.delete(`${dst}>${src}`);
      flows.set(`${src}>${dst}`, {
        synSeq: pkt.tcpSeq,
        synMss: Math.max(0, sig.mssBytes),
        isAcked: false,
      });
      out.push({ mod: 'syn', cli: src, srv: dst, rawSig: toP0fRawSig(sig) });
      return;
    }
    const flow = flows.get(`${dst}>${src}`);
    if (flow === undefined || flow.isAcked) return;
    flow.isAcked = true;
    out.push({
      mod: 'syn+ack',
      cli: dst,
      srv: src,
      rawSig: toP0fRawSig(sig, flow.synMss),
    });
  });
  return out;
}

function hasDecodedFrame(path: string): boolean {
  let isDecoded = false;
  forEachFrame(path, (_buf, pkt) => {
    if (pkt.reason !== Reason.LinkTypeUnsupported) isDecoded = true;
  });
  return isDecoded;
}

interface LogPair {
  name: string;
  capture: string;
  log: string;
}

function listLogPairs(dir: string, captureRoot: string): LogPair[] {
  const found: LogPair[] = [];
  if (!existsSync(dir)) return found;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      found.push(...listLogPairs(path, join(captureRoot, name)));
    } else if (name.endsWith('.p0f.log')) {
      const capture = join(captureRoot, name.slice(0, -'.p0f.log'.length));
      if (existsSync(capture)) found.push({ name: path, capture, log: path });
    }
  }
  return found;
}

function compareWithP0f(pairs: LogPair[], root: string) {
  let equal = 0;
  let total = 0;
  const mismatches: string[] = [];
  for (const pair of pairs) {
    const theirs = readP0fLog(pair.log);
    const ours = ourP0fLines(pair.capture);
    for (let i = 0; i < theirs.length; i++) {
      total++;
      const a = theirs[i];
      const b = ours[i];
      const isSame =
        b !== undefined &&
        a.mod === b.mod &&
        a.cli === b.cli &&
        a.srv === b.srv &&
        a.rawSig === b.rawSig;
      if (isSame) equal++;
      else {
        mismatches.push(
          `${relative(root, pair.log)} #${i}: p0f ${a.mod} ${a.rawSig} ` +
            `ours ${b?.mod} ${b?.rawSig}`,
        );
      }
    }
    if (ours.length > theirs.length) {
      mismatches.push(
        `${relative(root, pair.log)}: ${ours.length - theirs.length} extra`,
      );
    }
  }
  return { equal, total, mismatches };
}

t.test(
  'p0f raw_sig equal on every SYN and SYN+ACK of the fixtures',
  async (t) => {
    const pairs = listLogPairs(P0F_FIXTURES, P0F_FIXTURES);
    t.ok(pairs.length >= 20, `${pairs.length} captures with p0f logs`);
    const { equal, total, mismatches } = compareWithP0f(pairs, P0F_FIXTURES);
    t.comment(`p0f raw_sig equal on ${equal}/${total}`);
    t.ok(total >= 200, `${total} SYN and SYN+ACK lines`);
    t.same(mismatches, [], 'no mismatch');
    t.equal(equal, total);
  },
);

t.test(
  'p0f raw_sig on the whole corpus',
  { skip: P0F_CORPUS_DIR === undefined ? 'P0F_CORPUS_DIR not set' : false },
  async (t) => {
    const dir = P0F_CORPUS_DIR ?? '';
    const all = listLogPairs(dir, join(dir, '..', '..'));
    // Captures in link types the decoder does not read (ARCNET) are out.
    const pairs = all.filter((pair) => hasDecodedFrame(pair.capture));
    const { equal, total, mismatches } = compareWithP0f(pairs, dir);
    t.comment(
      `p0f raw_sig equal on ${equal}/${total} (${pairs.length} captures; ` +
        `${all.length - pairs.length} in unsupported link types)`,
    );
    // A wrong directory must fail, not pass on nothing.
    t.ok(pairs.length > 0, `captures with p0f logs under ${dir}`);
    t.same(mismatches, []);
    t.equal(equal, total);
  },
);

t.test(
  'p0f run now on crafted quirk cases agrees',
  { skip: hasP0f ? false : 'p0f not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'spansight-p0f-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const capture = join(dir, 'quirks.pcap');
    writeQuirkCapture(capture);
    const log = join(dir, 'quirks.p0f.log');
    const run = spawnSync('p0f', ['-r', capture, '-o', log], {
      encoding: 'utf8',
    });
    t.equal(run.status, 0, 'p0f ran');
    const theirs = readP0fLog(log);
    const ours = ourP0fLines(capture);
    t.ok(theirs.length >= 40, `${theirs.length} lines from p0f`);
    t.same(
      ours.map((line) => `${line.mod} ${line.cli} ${line.rawSig}`),
      theirs.map((line) => `${line.mod} ${line.cli} ${line.rawSig}`),
    );
  },
);

/** SYN/SYN+ACK pairs with every quirk and option oddity we know of. */
function writeQuirkCapture(path: string): void {
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  const specs: SynSpec[] = [
    {},
    { options: WINDOWS_SYN, ttl: 128 },
    { options: MACOS_SYN, window: 65535 },
    { options: [], window: 8192 },
    { tos: 0x01 },
    { tos: 0x03 },
    { flags: TcpFlag.Syn | TcpFlag.Ece | TcpFlag.Cwr },
    { reservedBits: 1 },
    { reservedBits: 8 },
    { seq: 0 },
    { ack: 5 },
    { flags: TcpFlag.Syn | TcpFlag.Psh },
    { flags: TcpFlag.Syn | TcpFlag.Urg, urgentPointer: 1 },
    { urgentPointer: 9 },
    { isDontFragment: false, id: 0 },
    { isDontFragment: false, id: 7 },
    { id: 0 },
    { options: [MSS_1460, ts(0)] },
    { options: [MSS_1460, ts(3, 4)] },
    { options: [MSS_1460, ws(15)] },
    { options: [MSS_1460, raw(0, 1, 2, 3)] },
    { options: [MSS_1460, raw(0, 0, 0, 1)] },
    { options: [raw(0, 0, 0, 0, 0, 1, 0, 0)] },
    { options: [raw(2, 0), MSS_1460] },
    { options: [raw(2, 1, 0, 0)] },
    { options: [raw(2, 3, 5), NOP, ws(7)] },
    { options: [MSS_1460, raw(3, 4, 7, 0)] },
    { options: [MSS_1460, raw(8, 30, 1, 2, 3, 4)] },
    { options: [raw(29, 1), MSS_1460] },
    { options: [MSS_1460, raw(30, 16, 0, 0)] },
    { options: [MSS_1460, raw(4, 3, 0, 0)] },
    { options: [raw(1, 1, 1, 3)] },
    { options: [raw(1, 1, 5, 18, 1, 1, 1, 1, 1, 1, 1, 1)] },
    { options: new Array<TcpOption>(24).fill(NOP) },
    { options: [...new Array<TcpOption>(23).fill(NOP), MSS_1460] },
    { options: [{ kind: 'mss', mssBytes: 90 }], window: 900 },
    { options: [{ kind: 'mss', mssBytes: 1000 }], window: 3120 },
    { options: [{ kind: 'mss', mssBytes: 1000 }], window: 3132 },
    { options: [{ kind: 'mss', mssBytes: 1280 }, ts(9)], window: 14480 },
    { window: 0 },
    { ttl: 1 },
    { ttl: 92 },
    { ttl: 200 },
    { ttl: 240 },
    { payload: Uint8Array.of(0x53, 0x59, 0x4e) },
    { ipOptions: [Uint8Array.of(1, 1, 1, 0)] },
  ];
  let second = 1_700_000_000;
  specs.forEach((spec, i) => {
    const srcPort = 40000 + i;
    writer.writeFrame(syn4({ ...spec, srcPort }), second++, 0);
    const answer: SynSpec = {
      ...spec,
      srcPort,
      flags: (spec.flags ?? TcpFlag.Syn) | TcpFlag.Ack,
      window: 7000,
      options: [{ kind: 'mss', mssBytes: 1200 }, SOK, ts(8, 9), NOP, ws(5)],
    };
    writer.writeFrame(syn4(answer), second++, 0);
  });
  writer.writeFrame(syn6({ flowLabel: 5 }), second++, 0);
  writer.writeFrame(syn6({ tos: 1 }), second++, 0);
  writer.close();
}

// ---------------------------------------------------------------------------
// Robustness

t.test('every prefix of a SYN: never throws', async (t) => {
  const frames = [syn4(), syn4({ options: MACOS_SYN }), syn6()];
  let signed = 0;
  for (const frame of frames) {
    for (let cut = 0; cut <= frame.length; cut++) {
      const sig = signatureOf(frame, cut);
      if (sig !== null) signed++;
    }
  }
  t.ok(signed > 0, `${signed} prefixes long enough to sign`);
});

t.test('seeded random mutations: never throws, bounded output', async (t) => {
  const rng = new SeededRng(0x5157);
  const seeds = [
    syn4(),
    syn4({ options: MACOS_SYN }),
    syn4({ options: [raw(2, 3, 5), NOP, ws(7)] }),
    syn6(),
  ];
  let signed = 0;
  let longLayouts = 0;
  for (let round = 0; round < 20000; round++) {
    const frame = Uint8Array.from(rng.pick(seeds));
    const flips = rng.nextRange(1, 6);
    for (let i = 0; i < flips; i++) {
      frame[rng.nextInt(frame.length)] = rng.nextInt(256);
    }
    const cut = rng.chance(0.2) ? rng.nextInt(frame.length + 1) : frame.length;
    const sig = signatureOf(frame, cut);
    if (sig === null) continue;
    signed++;
    if (sig.optionLayout.split(',').length > 24) longLayouts++;
    toP0fRawSig(sig, rng.nextInt(2000));
    guessOs(sig);
  }
  t.ok(signed > 1000, `${signed} mutants signed`);
  t.equal(longLayouts, 0, 'at most 24 options in a layout');
});

t.test('signature memo: the text and guess of every segment, by shape', (t) => {
  // Random SYNs and SYN+ACKs with random option bytes, headers and
  // timestamps: whatever the memo answers from a held shape must be what
  // building the signature from that very segment gives.
  const rng = new SeededRng(0x5eed);
  const memo = new TcpSignatureMemo();
  const pkt = new DecodedPacket();
  const texts = new Set<string>();
  const optionPool = Array.from({ length: 12 }, () => randomOptions(rng));
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const frame = syn4(randomSynSpec(rng, optionPool));
    decodeFrame(frame, 0, frame.length, frame.length, LinkType.Ethernet, pkt);
    const built = extractTcpSignature(frame, pkt);
    const held = memo.lookup(frame, pkt);
    if (built === null) {
      t.equal(held, null, 'no signature, none held');
      continue;
    }
    if (held?.text !== built.text) {
      t.fail(`frame ${i}: memo ${held?.text}, built ${built.text}`);
      break;
    }
    t.strictSame(held.guess, guessOs(built));
    texts.add(built.text);
    checked++;
  }
  t.ok(checked > 2500, `${checked} segments checked`);
  t.ok(texts.size > 100, `${texts.size} distinct texts`);
  t.ok(texts.size < checked / 2, 'most answers came from held shapes');
  t.end();
});

t.test('signature memo: timestamps do not make a new shape; cap', (t) => {
  const memo = new TcpSignatureMemo();
  const pkt = new DecodedPacket();
  const lookup = (spec: SynSpec) => {
    const frame = syn4(spec);
    decodeFrame(frame, 0, frame.length, frame.length, LinkType.Ethernet, pkt);
    return memo.lookup(frame, pkt);
  };
  const withTs = (tsVal: number) => [
    MSS_1460,
    { kind: 'timestamps', tsVal, tsEcr: 0 } satisfies TcpOption,
  ];
  const first = lookup({ options: withTs(1234) });
  t.equal(lookup({ options: withTs(987654) }), first, 'same shape, held');
  t.not(lookup({ options: withTs(0) }), first, 'TSval zero is a quirk');
  t.equal(memo.evicted, 0, 'nothing evicted while few shapes');

  // Each window makes another shape: past the cap the oldest go, counted.
  for (let window = 1; window <= 1100; window++) lookup({ window });
  t.equal(memo.evicted, 2 + 1100 - 1024, 'evictions counted');
  t.end();
});

function randomSynSpec(rng: SeededRng, optionPool: TcpOption[][]): SynSpec {
  const rare = () => rng.nextRange(0, 19) === 0;
  // Option lists come from a small pool, so shapes repeat; timestamp
  // values are drawn afresh each time, as a stack's clock would give them.
  const options = optionPool[rng.nextRange(0, optionPool.length - 1)].map(
    (option): TcpOption =>
      option.kind === 'timestamps'
        ? {
            kind: 'timestamps',
            tsVal: rare() ? 0 : rng.nextRange(1, 1e9),
            tsEcr: rare() ? rng.nextRange(1, 1e9) : 0,
          }
        : option,
  );
  const flags =
    rng.nextRange(0, 1) === 0 ? TcpFlag.Syn : TcpFlag.Syn | TcpFlag.Ack;
  return {
    flags: flags | (rare() ? TcpFlag.Psh : 0),
    options,
    window: rare() ? 0 : [8192, 64240][rng.nextRange(0, 1)],
    srcPort: rng.nextRange(1024, 65535),
    ttl: rare()
      ? rng.nextRange(1, 255)
      : rng.pick([50, 64, 100, 128]) - rng.nextRange(0, 9),
    id: rare() ? 0 : rng.nextRange(1, 65535),
    isDontFragment: !rare(),
    tos: rare() ? rng.nextRange(1, 3) : 0,
    seq: rare() ? 0 : rng.nextRange(1, 1e9),
    ack: rare() ? 0 : rng.nextRange(1, 1e9),
    urgentPointer: rare() ? rng.nextRange(1, 100) : 0,
    reservedBits: rare() ? rng.nextRange(1, 15) : 0,
    payload: rare() ? new Uint8Array(4) : undefined,
  };
}

function randomOptions(rng: SeededRng): TcpOption[] {
  const kinds = [0, 1, 2, 3, 4, 5, 8, 30, 34];
  const options: TcpOption[] = [];
  // Sizes by kind as built here; a TCP header holds 40 option bytes.
  const bytesOf: Record<number, number> = { 2: 4, 3: 3, 4: 2, 8: 10 };
  let optionBytes = 0;
  const optionCount = rng.nextRange(0, 6);
  for (let o = 0; o < optionCount; o++) {
    const kind = kinds[rng.nextRange(0, kinds.length - 1)];
    optionBytes += bytesOf[kind] ?? 2;
    if (optionBytes > 40) break;
    if (rng.nextRange(0, 9) === 0) {
      // A malformed or truncated option: kind and a random length byte.
      options.push({
        kind: 'raw',
        bytes: Uint8Array.of(kind, rng.nextRange(0, 12)),
      });
    } else if (kind === 2) {
      options.push({
        kind: 'mss',
        mssBytes: [536, 1380, 1460][rng.nextRange(0, 2)],
      });
    } else if (kind === 3) {
      options.push({ kind: 'window-scale', shift: rng.nextRange(0, 15) });
    } else if (kind === 4) {
      options.push({ kind: 'sack-permitted' });
    } else if (kind === 8) {
      options.push({ kind: 'timestamps', tsVal: 1, tsEcr: 0 });
    } else if (kind === 0) {
      options.push({ kind: 'eol' });
    } else {
      options.push({ kind: 'nop' });
    }
  }
  return options;
}
