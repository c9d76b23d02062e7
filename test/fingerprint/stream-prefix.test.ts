import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  SeededRng,
  TcpConversation,
  TcpFlag,
  textBytes,
  type TcpEndpoint,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';
import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodeStatus, DecodedPacket } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import { ja3 } from '../../src/fingerprint/ja3.js';
import {
  STREAM_END_REASON_NAMES,
  StreamEndReason,
  StreamPrefixStatus,
  StreamPrefixTable,
  type StreamPrefixTableOptions,
} from '../../src/fingerprint/stream-prefix.js';
import {
  parseClientHello,
  type ClientHello,
} from '../../src/fingerprint/tls-client-hello.js';
import { framePayload } from '../../scripts/lib/capture-files.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/public/', import.meta.url));
const ZEEK_TLS = `${FIXTURES}ja3/zeek/testing/btest/Traces/tls/`;
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

/** Firefox, 517 bytes (FoxIO tls12.pcap frame 1). */
const FIREFOX = framePayload(`${FIXTURES}ja4/pcap/tls12.pcap`, 1);
/** Chrome with an X25519Kyber768 key share, 1756 bytes (Zeek trace). */
const KYBER = framePayload(`${ZEEK_TLS}chrome-1250-tls-x25519-kyber.pcap`, 4);

function endpoint(ip: string, port: number, isn: number, mss: number) {
  const spec: TcpEndpoint = {
    mac: '00:00:5e:00:53:01',
    ip,
    port,
    ttl: 64,
    isn,
    window: 502,
    synOptions: [{ kind: 'mss', mssBytes: 1460 }],
    mssBytes: mss,
  };
  return spec;
}

/** A client and server conversation whose client sends `mss`-byte segments. */
function conversation(mss: number, isn = 1000, clientPort = 50000) {
  return new TcpConversation(
    endpoint('192.0.2.10', clientPort, isn, mss),
    endpoint('198.51.100.20', 443, 77, 1400),
  );
}

/** Client data segments only (drops the peer's trailing ACK). */
function clientSegments(
  conv: TcpConversation,
  payload: Uint8Array,
): Uint8Array[] {
  return conv.send(true, payload).slice(0, -1);
}

/** Re-frame a one-record ClientHello into records of `chunkBytes`. */
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

/** Decode + flows + stream prefix, frame by frame, as the pipeline would. */
class Harness {
  readonly packet = new DecodedPacket();
  readonly table: StreamPrefixTable;
  readonly flows: FlowTable;
  readonly statuses: number[] = [];
  readonly hellos: ClientHello[] = [];
  private timeUs = 1_700_000_000_000_000;
  lastHelloBuf: Uint8Array | undefined;

  constructor(options: StreamPrefixTableOptions = {}) {
    this.table = new StreamPrefixTable(options);
    this.flows = new FlowTable({
      onFlowEnd: (_table, flowId) => this.table.release(flowId),
    });
  }

  feed(frames: Uint8Array[]): number[] {
    const out: number[] = [];
    for (const frame of frames) {
      const status = decodeFrame(
        frame,
        0,
        frame.length,
        frame.length,
        LinkType.Ethernet,
        this.packet,
      );
      if (status !== DecodeStatus.Ok) throw new Error('frame did not decode');
      this.timeUs += 1000;
      const flowId = this.flows.observe(
        this.packet,
        frame,
        this.timeUs,
        frame.length,
      );
      const result = this.table.append(flowId, this.packet, frame);
      out.push(result);
      this.statuses.push(result);
      if (result === StreamPrefixStatus.Complete) {
        this.lastHelloBuf = this.table.helloBuf;
        const hello = parseClientHello(
          this.table.helloBuf,
          this.table.helloOff,
          this.table.helloEnd,
        );
        if (hello !== null) this.hellos.push(hello);
      }
    }
    return out;
  }

  ended(reason: number): number {
    return this.table.endedByReason[reason];
  }
}

const { Ignored, Buffering, Complete, GaveUp } = StreamPrefixStatus;
const FIREFOX_HELLO = parseClientHello(FIREFOX, 0, FIREFOX.length);
const KYBER_HELLO = parseClientHello(KYBER, 0, KYBER.length);

t.test('stream: whole hello in one segment -> Complete in place', (t) => {
  const h = new Harness();
  const conv = conversation(1460);
  h.feed(conv.handshake());
  const frames = clientSegments(conv, FIREFOX);
  t.same(h.feed(frames), [Complete]);
  t.same(h.hellos, [FIREFOX_HELLO]);
  t.equal(h.lastHelloBuf, frames[0], 'no copy: the frame buffer itself');
  t.equal(h.table.startedStreams, 0);
  t.equal(h.table.size, 0);
  t.end();
});

t.test('stream: Kyber hello over 4 segments -> Complete on the last', (t) => {
  const h = new Harness();
  const conv = conversation(536);
  h.feed(conv.handshake());
  t.same(h.feed(clientSegments(conv, KYBER)), [
    Buffering,
    Buffering,
    Buffering,
    Complete,
  ]);
  t.same(h.hellos, [KYBER_HELLO]);
  t.equal(h.ended(StreamEndReason.Complete), 1);
  t.equal(h.table.size, 0, 'released once complete');
  t.end();
});

t.test('stream: hello over several records and segments -> same', (t) => {
  for (const [recordBytes, mss] of [
    [100, 90],
    [1, 536],
    [700, 5],
  ]) {
    const h = new Harness();
    const conv = conversation(mss);
    const statuses = h.feed(
      clientSegments(conv, splitIntoRecords(KYBER, recordBytes)),
    );
    t.equal(statuses[statuses.length - 1], Complete, `${recordBytes}/${mss}`);
    t.same(h.hellos, [KYBER_HELLO]);
  }
  t.end();
});

t.test('stream: server segments and pure ACKs -> Ignored', (t) => {
  const h = new Harness();
  const conv = conversation(536);
  const [first, ...rest] = clientSegments(conv, KYBER);
  h.feed([first]);
  // A server record in the middle: ServerHello-like bytes from port 443.
  const fromServer = conv.segment(
    false,
    TcpFlag.Ack | TcpFlag.Psh,
    Uint8Array.of(0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0, 0, 0),
  );
  const ack = conv.segment(true, TcpFlag.Ack, new Uint8Array(0));
  t.same(h.feed([fromServer, ack]), [Ignored, Buffering]);
  h.feed(rest);
  t.same(h.hellos, [KYBER_HELLO]);
  t.end();
});

t.test('stream: retransmitted segments -> hello unchanged', (t) => {
  const h = new Harness();
  const segments = clientSegments(conversation(536), KYBER);
  const [a, b, c, d] = segments;
  t.same(h.feed([a, a, b, a, b, c, d]), [
    Buffering,
    Buffering,
    Buffering,
    Buffering,
    Buffering,
    Buffering,
    Complete,
  ]);
  t.same(h.hellos, [KYBER_HELLO]);
  t.end();
});

t.test('stream: overlapping retransmission -> only new bytes kept', (t) => {
  const h = new Harness();
  const small = clientSegments(conversation(300), KYBER);
  const large = clientSegments(conversation(700), KYBER);
  // 0-300, then 0-700 (400 new bytes), then 600-900 (200 new), the rest.
  h.feed([small[0], large[0], small[2]]);
  h.feed(small.slice(3));
  t.same(h.hellos, [KYBER_HELLO]);
  t.end();
});

t.test('stream: a missing segment -> GaveUp gap', (t) => {
  const h = new Harness();
  const [a, , c, d] = clientSegments(conversation(536), KYBER);
  t.same(h.feed([a, c, d]), [Buffering, GaveUp, Ignored]);
  t.equal(h.ended(StreamEndReason.Gap), 1);
  t.equal(h.table.size, 0);
  t.same(h.hellos, []);
  t.end();
});

t.test('stream: sequence numbers wrapping past 2^32 -> Complete', (t) => {
  const h = new Harness();
  const frames = clientSegments(conversation(536, 0xffffff00), KYBER);
  t.equal(h.feed(frames).pop(), Complete);
  t.same(h.hellos, [KYBER_HELLO]);
  t.end();
});

t.test('stream: not TLS, or TLS but not a hello -> nothing kept', (t) => {
  const h = new Harness();
  const conv = conversation(1460);
  const http = textBytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const appData = Uint8Array.of(0x17, 0x03, 0x03, 0x00, 0x02, 1, 2);
  const serverHelloStart = Uint8Array.of(0x16, 0x03, 0x03, 0x01, 0x00, 0x02);
  t.same(h.feed(clientSegments(conv, http)), [Ignored]);
  t.same(h.feed(clientSegments(conv, appData)), [Ignored]);
  t.same(h.feed(clientSegments(conv, serverHelloStart)), [Ignored]);
  t.equal(h.table.startedStreams, 0);
  t.end();
});

t.test('stream: record header then junk -> GaveUp not_client_hello', (t) => {
  const h = new Harness();
  const conv = conversation(5);
  // A 5-byte first segment cannot tell; the next byte says ServerHello.
  const frames = clientSegments(
    conv,
    Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x02, 0, 0, 0),
  );
  t.same(h.feed(frames), [Buffering, GaveUp]);
  t.equal(h.ended(StreamEndReason.NotClientHello), 1);
  t.end();
});

t.test('stream: hello larger than the cap -> GaveUp overflow', (t) => {
  const h = new Harness({ maxBytesPerStream: 1024 });
  const statuses = h.feed(clientSegments(conversation(536), KYBER));
  t.same(statuses, [Buffering, GaveUp, Ignored, Ignored]);
  t.equal(h.ended(StreamEndReason.Overflow), 1);
  const big = new Harness({ maxBytesPerStream: 1024 });
  t.same(big.feed(clientSegments(conversation(1460), KYBER)), [
    GaveUp,
    Ignored,
  ]);
  t.equal(big.ended(StreamEndReason.Overflow), 1);
  t.end();
});

t.test('stream: full table -> least recently fed evicted, counted', (t) => {
  const h = new Harness({ maxStreams: 2 });
  const convs = [0, 1, 2].map((i) => conversation(536, 1000, 50000 + i));
  const segs = convs.map((conv) => clientSegments(conv, KYBER));
  h.feed([segs[0][0], segs[1][0]]);
  h.feed([segs[0][1]]);
  // Stream 1 is now the least recently fed; stream 2 takes its slot.
  h.feed([segs[2][0]]);
  t.equal(h.table.evictedStreams, 1);
  t.equal(h.table.size, 2);
  h.feed(segs[0].slice(2));
  h.feed(segs[2].slice(1));
  t.same(h.feed(segs[1].slice(1)), [Ignored, Ignored, Ignored]);
  t.same(h.hellos, [KYBER_HELLO, KYBER_HELLO]);
  t.end();
});

t.test('stream: FIN or RST before the hello is whole -> closed', (t) => {
  const h = new Harness();
  const conv = conversation(536);
  const [first] = clientSegments(conv, KYBER);
  h.feed([first]);
  const fin = conv.segment(true, TcpFlag.Fin | TcpFlag.Ack, new Uint8Array(0));
  t.same(h.feed([fin]), [GaveUp]);
  t.equal(h.ended(StreamEndReason.Closed), 1);
  t.end();
});

t.test('stream: release on flow end -> slot freed', (t) => {
  const h = new Harness();
  const [first] = clientSegments(conversation(536), KYBER);
  h.feed([first]);
  t.equal(h.table.size, 1);
  h.flows.flush();
  t.equal(h.table.size, 0);
  t.equal(h.ended(StreamEndReason.Released), 1);
  t.end();
});

t.test('stream: ChangeCipherSpec then a second hello -> Complete', (t) => {
  const h = new Harness();
  const conv = conversation(1460);
  h.feed(clientSegments(conv, FIREFOX));
  const ccs = Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x01, 0x01);
  const second = new Uint8Array(ccs.length + FIREFOX.length);
  second.set(ccs);
  second.set(FIREFOX, ccs.length);
  t.same(h.feed(clientSegments(conv, second)), [Complete]);
  t.same(h.hellos, [FIREFOX_HELLO, FIREFOX_HELLO]);
  t.end();
});

t.test('stream: reason names -> one per reason id', (t) => {
  t.equal(STREAM_END_REASON_NAMES.length, Object.keys(StreamEndReason).length);
  t.throws(() => new StreamPrefixTable({ maxStreams: 0 }));
  t.throws(() => new StreamPrefixTable({ maxBytesPerStream: 4 }));
  t.end();
});

t.test('stream: seeded random segments never throw, stay bounded', (t) => {
  const rng = new SeededRng(0x5eed);
  const h = new Harness({ maxStreams: 8, maxBytesPerStream: 2048 });
  const convs = Array.from({ length: 20 }, (_, i) =>
    conversation(rng.nextRange(1, 800), rng.nextU32(), 40000 + i),
  );
  const pool: Uint8Array[] = [];
  for (const conv of convs) {
    const payload = rng.pick([KYBER, FIREFOX, splitIntoRecords(KYBER, 77)]);
    const mutated = payload.slice();
    for (let i = rng.nextInt(4); i > 0; i--) {
      mutated[rng.nextInt(mutated.length)] = rng.nextU32() & 0xff;
    }
    pool.push(...clientSegments(conv, mutated));
    pool.push(conv.segment(false, TcpFlag.Ack, rng.bytes(rng.nextInt(40))));
  }
  let maxSize = 0;
  for (let i = 0; i < 5000; i++) {
    h.feed([rng.pick(pool)]);
    maxSize = Math.max(maxSize, h.table.size);
  }
  t.ok(maxSize <= 8, `at most 8 streams held (saw ${maxSize})`);
  t.ok(h.hellos.length > 0, `${h.hellos.length} hellos completed`);
  t.end();
});

t.test(
  'stream: resegmented hellos -> JA3 equal to tshark on the same frames',
  { skip: hasTshark ? false : 'tshark not installed' },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'spansight-tls-'));
    const path = join(dir, 'resegmented.pcap');
    const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
    const frames: Uint8Array[] = [];
    const cases: Array<[Uint8Array, number]> = [
      [KYBER, 536],
      [KYBER, 1000],
      [splitIntoRecords(KYBER, 400), 300],
      [FIREFOX, 100],
      [splitIntoRecords(FIREFOX, 64), 1460],
    ];
    cases.forEach(([payload, mss], i) => {
      const conv = conversation(mss, 5000 + i, 41000 + i);
      frames.push(...conv.handshake(), ...conv.send(true, payload));
    });
    frames.forEach((frame, i) =>
      writer.writeFrame(frame, 1_700_000_000 + i, 0),
    );
    writer.close();

    const h = new Harness();
    const ours: string[] = [];
    frames.forEach((frame, i) => {
      const before = h.hellos.length;
      h.feed([frame]);
      if (h.hellos.length > before) {
        ours.push(`${i + 1}\t${ja3(h.hellos[h.hellos.length - 1]).md5}`);
      }
    });
    const tshark = spawnSync(
      'tshark',
      [
        '-r',
        path,
        '-Y',
        'tls.handshake.type == 1',
        '-T',
        'fields',
        '-e',
        'frame.number',
        '-e',
        'tls.handshake.ja3',
      ],
      { encoding: 'utf8' },
    );
    rmSync(dir, { recursive: true, force: true });
    const theirs = tshark.stdout.trim().split('\n');
    t.equal(ours.length, cases.length, 'every hello completed');
    t.same(ours, theirs, 'same frames, same JA3');
    t.end();
  },
);
