/**
 * TLS fingerprints against established tools on real captures: JA4 against
 * the JA4 project's expected outputs, JA3 against tshark and salesforce's
 * Zeek baseline. Frames go through decodeFrame, the flow table and the
 * stream-prefix / QUIC tables exactly as in the pipeline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { CaptureFileReader } from '../../src/capture/capture-file.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodeStatus, DecodedPacket, Layer } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import { ja3, type Ja3 } from '../../src/fingerprint/ja3.js';
import { ja4, type Ja4 } from '../../src/fingerprint/ja4.js';
import {
  QuicInitialStatus,
  QuicInitialTable,
} from '../../src/fingerprint/quic-initial.js';
import {
  StreamPrefixStatus,
  StreamPrefixTable,
} from '../../src/fingerprint/stream-prefix.js';
import {
  parseClientHello,
  parseClientHelloMessage,
  parseDtlsClientHello,
  type ClientHello,
} from '../../src/fingerprint/tls-client-hello.js';
import { listCaptureFiles } from '../../scripts/lib/capture-files.js';

const PUBLIC = fileURLToPath(new URL('../fixtures/public/', import.meta.url));
const JA4_DIR = join(PUBLIC, 'ja4');
const JA3_DIR = join(PUBLIC, 'ja3');
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

type Transport = 'tcp' | 'udp';

/** One ClientHello as our pipeline saw it. */
interface Seen {
  /** 1-based frame number of the frame that completed the hello. */
  frame: number;
  transport: Transport;
  /** `src srcPort dst dstPort`, addresses in full form. */
  key: string;
  /** 1-based index of this hello among its flow direction's hellos. */
  index: number;
  hello: ClientHello;
  ja3: Ja3;
  ja4: Ja4;
}

/** Every ClientHello of a capture: TCP, QUIC (`q`) and DTLS (`d`). */
function fingerprintCapture(path: string): Seen[] {
  const packet = new DecodedPacket();
  const tcp = new StreamPrefixTable();
  const quic = new QuicInitialTable();
  const flows = new FlowTable({
    onFlowEnd: (_table, flowId) => {
      tcp.release(flowId);
      quic.release(flowId);
    },
  });
  const seen: Seen[] = [];
  const countByKey = new Map<string, number>();
  let frame = 0;

  const record = (
    buf: Uint8Array,
    transport: Transport,
    hello: ClientHello | null,
    letter: 't' | 'q' | 'd',
  ) => {
    if (hello === null) return;
    const key = [
      formatAddress(buf, packet.srcAddrOff, packet.ipVersion),
      packet.srcPort,
      formatAddress(buf, packet.dstAddrOff, packet.ipVersion),
      packet.dstPort,
    ].join(' ');
    const index = (countByKey.get(`${transport} ${key}`) ?? 0) + 1;
    countByKey.set(`${transport} ${key}`, index);
    seen.push({
      frame,
      transport,
      key,
      index,
      hello,
      ja3: ja3(hello),
      ja4: ja4(hello, letter),
    });
  };

  const sink = {
    onFrame(
      buf: Uint8Array,
      off: number,
      capturedBytes: number,
      wireBytes: number,
      timeUs: number,
      linkType: number,
    ) {
      frame++;
      const status = decodeFrame(
        buf,
        off,
        capturedBytes,
        wireBytes,
        linkType,
        packet,
      );
      if (status !== DecodeStatus.Ok) return;
      const flowId = flows.observe(packet, buf, timeUs, wireBytes);
      if (packet.layers & Layer.Tcp) {
        if (tcp.append(flowId, packet, buf) === StreamPrefixStatus.Complete) {
          const hello = parseClientHello(
            tcp.helloBuf,
            tcp.helloOff,
            tcp.helloEnd,
          );
          record(buf, 'tcp', hello, 't');
        }
      } else if (packet.layers & Layer.Udp) {
        const q = quic.append(flowId, packet, buf);
        if (q === QuicInitialStatus.Complete) {
          const hello = parseClientHelloMessage(
            quic.helloBuf,
            quic.helloOff,
            quic.helloEnd,
          );
          record(buf, 'udp', hello, 'q');
        } else if (q === QuicInitialStatus.Ignored) {
          const end = packet.payloadOff + packet.payloadBytes;
          record(
            buf,
            'udp',
            parseDtlsClientHello(buf, packet.payloadOff, end),
            'd',
          );
        }
      }
    },
  };

  const reader = CaptureFileReader.open(path);
  try {
    while (reader.readBatch(sink, 4096) > 0);
  } finally {
    reader.close();
  }
  return seen;
}

function formatAddress(buf: Uint8Array, off: number, ipVersion: number) {
  if (ipVersion === 4) return Array.from(buf.subarray(off, off + 4)).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((buf[off + i] << 8) | buf[off + i + 1]).toString(16));
  }
  return groups.join(':');
}

/** Any IPv6 text form to eight unpadded groups, to match ours. */
function fullAddress(text: string): string {
  if (!text.includes(':')) return text;
  const [head, tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros =
    tail === undefined
      ? []
      : new Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups]
    .map((group) => parseInt(group, 16).toString(16))
    .join(':');
}

/** Where a FoxIO capture was copied: as is, or trimmed to its hellos. */
function ja4Capture(name: string): string | undefined {
  for (const folder of ['pcap', 'pcap-trimmed']) {
    const path = join(JA4_DIR, folder, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

const fingerprintCache = new Map<string, Seen[]>();
function fingerprints(path: string): Seen[] {
  let seen = fingerprintCache.get(path);
  if (seen === undefined) {
    seen = fingerprintCapture(path);
    fingerprintCache.set(path, seen);
  }
  return seen;
}

/**
 * The JA4 spec now prints the first and last hex digit of a first ALPN
 * whose first or last byte is not alphanumeric (FoxIO/ja4 issue #148); the
 * reference outputs predate that and print `99`. We follow the spec; this
 * capture's ALPN starts with 0xba 0xad, so the spec gives `bd`.
 */
const ALPN_RULE_UPDATE = new Map([['tls-non-ascii-alpn.pcapng', 'bd']]);

t.test('JA4 (TCP) equals the JA4 python reference outputs', (t) => {
  const dir = join(JA4_DIR, 'python', 'test', 'testdata');
  let expectedCount = 0;
  let identical = 0;
  let equalAfterAlpnUpdate = 0;
  for (const file of readdirSync(dir).sort()) {
    const name = file.replace(/\.json$/, '');
    const path = ja4Capture(name);
    if (path === undefined) continue;
    const seen = fingerprints(path).filter((s) => s.transport === 'tcp');
    const streams = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Array<
      Record<string, string>
    >;
    const matched = new Set<Seen>();
    for (const stream of streams) {
      const key = [
        fullAddress(stream.src),
        stream.srcport,
        fullAddress(stream.dst),
        stream.dstport,
      ].join(' ');
      for (let n = 1; stream[`JA4.${n}`] !== undefined; n++) {
        expectedCount++;
        const ours = seen.find((s) => s.key === key && s.index === n);
        if (ours === undefined) {
          t.fail(`${name} stream ${stream.stream} hello ${n}: not seen`);
          continue;
        }
        matched.add(ours);
        const expected: Ja4 = {
          ja4: stream[`JA4.${n}`],
          ja4_r: stream[`JA4_r.${n}`],
          ja4_o: stream[`JA4_o.${n}`],
          ja4_ro: stream[`JA4_ro.${n}`],
        };
        const alpn = ALPN_RULE_UPDATE.get(name);
        if (alpn !== undefined) {
          for (const form of Object.keys(expected) as Array<keyof Ja4>) {
            expected[form] =
              expected[form].slice(0, 8) + alpn + expected[form].slice(10);
          }
        }
        t.same(
          ours.ja4,
          expected,
          `${name} stream ${stream.stream} hello ${n}`,
        );
        if (JSON.stringify(ours.ja4) === JSON.stringify(expected)) {
          if (alpn === undefined) identical++;
          else equalAfterAlpnUpdate++;
        }
      }
    }
    // Every TCP hello we saw must be one the reference lists, except for
    // https-connect.pcap, whose hello (inside HTTP CONNECT on port 8080)
    // only the Rust implementation reports; it is checked below.
    const extra = seen.filter((s) => !matched.has(s));
    if (name !== 'https-connect.pcap') {
      t.same(
        extra.map((s) => s.frame),
        [],
        `${name}: no other hello`,
      );
    }
  }
  t.ok(expectedCount >= 150, `${expectedCount} reference hellos`);
  t.comment(
    `JA4 (TCP) vs python reference: ${identical + equalAfterAlpnUpdate}/` +
      `${expectedCount} equal in all four forms (${equalAfterAlpnUpdate} ` +
      'after the spec update for non-alphanumeric ALPN)',
  );
  t.end();
});

t.test('JA4 (TCP and QUIC) equals the JA4 Rust reference snapshots', (t) => {
  const dir = join(JA4_DIR, 'rust', 'ja4', 'src', 'snapshots');
  const total = { tcp: 0, udp: 0 };
  const equal = { tcp: 0, udp: 0 };
  for (const file of readdirSync(dir).sort()) {
    const name = file.replace(/^ja4__insta@/, '').replace(/\.snap$/, '');
    const path = ja4Capture(name);
    if (path === undefined) continue;
    const seen = fingerprints(path);
    for (const entry of readSnapshot(join(dir, file))) {
      if (entry.ja4 === undefined) continue;
      const transport = entry.transport as Transport;
      const key = [
        fullAddress(entry.src),
        entry.src_port,
        fullAddress(entry.dst),
        entry.dst_port,
      ].join(' ');
      const expected = ALPN_RULE_UPDATE.has(name)
        ? entry.ja4.slice(0, 8) +
          ALPN_RULE_UPDATE.get(name) +
          entry.ja4.slice(10)
        : entry.ja4;
      // The snapshots list one hello per stream: the first.
      const ours = seen.find(
        (s) => s.transport === transport && s.key === key && s.index === 1,
      );
      total[transport]++;
      t.equal(ours?.ja4.ja4, expected, `${name} ${transport} ${key}`);
      if (ours?.ja4.ja4 === expected) equal[transport]++;
    }
  }
  t.ok(total.udp >= 40, `${total.udp} QUIC hellos in the snapshots`);
  t.comment(`JA4 vs Rust reference: TCP ${equal.tcp}/${total.tcp}`);
  t.comment(`JA4 (QUIC) vs Rust reference: ${equal.udp}/${total.udp}`);
  t.end();
});

/** The list entries of an insta YAML snapshot, top-level keys only. */
function readSnapshot(path: string): Array<Record<string, string>> {
  const entries: Array<Record<string, string>> = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^(- | {2})(\w+): (.*)$/.exec(line);
    if (match === null) continue;
    if (match[1] === '- ') entries.push({});
    if (entries.length > 0) entries[entries.length - 1][match[2]] = match[3];
  }
  return entries;
}

/**
 * Hellos tshark reports that we do not: DTLS ClientHellos fragmented over
 * several datagrams (not reassembled, see tls-client-hello.ts).
 */
const FRAGMENTED_DTLS = new Set([
  'dtls1_0.pcap',
  'dtls1_2.pcap',
  'dtls-sequence-number-jumps.pcap',
]);

/**
 * Hellos we report that tshark does not: the Initial a client resends
 * after a Retry, protected with keys from the new connection id (RFC 9001
 * section 5.2), which tshark 4.0 does not open.
 */
const AFTER_RETRY = new Map([['quic_retry.pcap', [3]]]);

t.test(
  'JA3 equals tshark tls/dtls.handshake.ja3 on every fixture',
  { skip: hasTshark ? false : 'tshark not installed' },
  (t) => {
    const captures = [
      ...listCaptureFiles(join(JA4_DIR, 'pcap')),
      ...listCaptureFiles(join(JA4_DIR, 'pcap-trimmed')),
      ...listCaptureFiles(JA3_DIR),
    ];
    let total = 0;
    let equal = 0;
    let missedFragmented = 0;
    for (const path of captures) {
      const name = relative(PUBLIC, path);
      const theirs = tsharkJa3(path);
      const ours = fingerprints(path);
      const oursByFrame = new Map<number, Seen[]>();
      for (const s of ours) {
        oursByFrame.set(s.frame, [...(oursByFrame.get(s.frame) ?? []), s]);
      }
      for (const [frame, expected] of theirs) {
        total++;
        const got = (oursByFrame.get(frame) ?? []).map((s) => s.ja3);
        if (got.length === 0 && FRAGMENTED_DTLS.has(basename(path))) {
          missedFragmented++;
          continue;
        }
        t.same(got, expected, `${name} frame ${frame}`);
        if (JSON.stringify(got) === JSON.stringify(expected)) equal++;
      }
      const afterRetry = AFTER_RETRY.get(basename(path)) ?? [];
      const extra = [...oursByFrame.keys()].filter(
        (frame) => !theirs.has(frame) && !afterRetry.includes(frame),
      );
      t.same(extra, [], `${name}: no hello tshark does not see`);
    }
    t.ok(total >= 250, `${total} hellos in ${captures.length} captures`);
    t.comment(
      `JA3 vs tshark: ${equal}/${total} equal (full string and MD5); ` +
        `${missedFragmented} fragmented DTLS hellos not reassembled`,
    );
    t.todo(
      'DTLS ClientHellos fragmented over several datagrams are reassembled',
      (t) => {
        t.equal(missedFragmented, 0);
        t.end();
      },
    );
    t.end();
  },
);

/** tshark's JA3 per frame, for TLS (TCP, QUIC) and DTLS hellos. */
function tsharkJa3(path: string): Map<number, Ja3[]> {
  const result = spawnSync(
    'tshark',
    [
      '-r',
      path,
      '-Y',
      'tls.handshake.type == 1 || dtls.handshake.type == 1',
      '-T',
      'fields',
      '-E',
      'aggregator=;',
      '-e',
      'frame.number',
      '-e',
      'tls.handshake.ja3_full',
      '-e',
      'tls.handshake.ja3',
      '-e',
      'dtls.handshake.ja3_full',
      '-e',
      'dtls.handshake.ja3',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const byFrame = new Map<number, Ja3[]>();
  for (const line of result.stdout.split('\n')) {
    const [frame, tlsFull, tlsMd5, dtlsFull, dtlsMd5] = line.split('\t');
    if (frame === undefined || frame === '') continue;
    const fulls = (tlsFull || dtlsFull || '').split(';');
    const md5s = (tlsMd5 || dtlsMd5 || '').split(';');
    if (md5s[0] === '') continue;
    byFrame.set(
      Number(frame),
      md5s.map((md5, i) => ({ full: fulls[i], md5 })),
    );
  }
  return byFrame;
}

t.test('JA3 equals salesforce ja3 Zeek baselines', (t) => {
  const base = join(JA3_DIR, 'salesforce', 'testing');
  for (const [trace, baseline] of [
    ['ssl-chrome.pcap', 'ja3-tests.chrome_test1'],
    ['ssl-curl.pcap', 'ja3-tests.curl_test1'],
  ]) {
    const log = readFileSync(
      join(base, 'Baseline', baseline, 'ssl.log'),
      'utf8',
    );
    const fields = log
      .split('\n')
      .find((line) => line.startsWith('#fields'))!
      .split('\t')
      .slice(1);
    const rows = log
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split('\t'));
    const expected = rows.map((row) => row[fields.indexOf('ja3')]);
    const ours = fingerprints(join(base, 'Traces', trace)).map(
      (s) => s.ja3.md5,
    );
    t.same(ours, expected, trace);
  }
  t.end();
});
