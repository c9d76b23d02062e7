import { createCipheriv } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  EtherType,
  IpProto,
  SeededRng,
  ethernetFrame,
  ipv4Packet,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';
import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodeStatus, DecodedPacket } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import { ja4 } from '../../src/fingerprint/ja4.js';
import {
  QUIC_END_REASON_NAMES,
  QuicEndReason,
  QuicInitialStatus,
  QuicInitialTable,
  QuicKeyCache,
  QuicVersion,
  deriveClientInitialKeys,
  forEachCryptoFrame,
  looksLikeQuicInitial,
  openQuicClientInitial,
} from '../../src/fingerprint/quic-initial.js';
import {
  parseClientHello,
  parseClientHelloMessage,
  type ClientHello,
} from '../../src/fingerprint/tls-client-hello.js';
import { framePayload } from '../../scripts/lib/capture-files.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/public/', import.meta.url));
const ZEEK_TLS = `${FIXTURES}ja3/zeek/testing/btest/Traces/tls/`;

/** Chrome's first Initial datagram (FoxIO quic-tls-handshake.pcapng). */
const CHROME_INITIAL = framePayload(
  `${FIXTURES}ja4/pcap/quic-tls-handshake.pcapng`,
  1,
);
/** A 1756-byte ClientHello: too big for one Initial packet. */
const KYBER_RECORD = framePayload(
  `${ZEEK_TLS}chrome-1250-tls-x25519-kyber.pcap`,
  4,
);
const KYBER_MESSAGE = KYBER_RECORD.subarray(5);
const KYBER_HELLO = parseClientHello(KYBER_RECORD, 0, KYBER_RECORD.length);

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

t.test('quic: v1 client keys -> RFC 9001 appendix A.1', (t) => {
  const dcid = Buffer.from('8394c8f03e515708', 'hex');
  const keys = deriveClientInitialKeys(QuicVersion.V1, dcid);
  t.ok(keys);
  t.equal(hex(keys!.key), '1f369613dd76d5467730efcbe3b1a22d');
  t.equal(hex(keys!.iv), 'fa044b2f42a3fd3b46fb255c');
  t.equal(hex(keys!.hp), '9f50449e04a0e810283a1e9933adedd2');
  t.end();
});

t.test('quic: v2 client keys -> RFC 9369 appendix A.1', (t) => {
  const dcid = Buffer.from('8394c8f03e515708', 'hex');
  const keys = deriveClientInitialKeys(QuicVersion.V2, dcid);
  t.equal(hex(keys!.key), '8b1a0bc121284290a29e0971b5cd045d');
  t.equal(hex(keys!.iv), '91f73e2351d8fa91660e909f');
  t.equal(hex(keys!.hp), '45b95e15235d6f45a6b19cbcb0294ba9');
  t.equal(deriveClientInitialKeys(0xff00001d, dcid), null, 'drafts: none');
  t.end();
});

t.test('quic: Chrome Initial -> CRYPTO frames -> its ClientHello', (t) => {
  t.ok(looksLikeQuicInitial(CHROME_INITIAL, 0, CHROME_INITIAL.length));
  const opened = openQuicClientInitial(
    CHROME_INITIAL,
    0,
    CHROME_INITIAL.length,
  );
  t.ok(opened);
  const pieces: Array<[number, number]> = [];
  const message = new Uint8Array(4096);
  t.ok(
    forEachCryptoFrame(
      opened!.payload,
      0,
      opened!.payload.length,
      (offset, buf, off, end) => {
        pieces.push([offset, end - off]);
        message.set(buf.subarray(off, end), offset);
      },
    ),
  );
  t.ok(pieces.length > 1, `${pieces.length} CRYPTO frames, out of order`);
  const hello = parseClientHelloMessage(message, 0, message.length);
  t.ok(hello);
  t.equal(hello!.sni, 'www.google.com');
  t.equal(ja4(hello!, 'q').ja4, 'q13d0310h3_55b375c5d22e_cd85d2d88918');
  t.end();
});

t.test('quic: every prefix and single-byte mutations -> no throw', (t) => {
  let opened = 0;
  for (let end = 0; end < CHROME_INITIAL.length; end++) {
    if (openQuicClientInitial(CHROME_INITIAL, 0, end) !== null) opened++;
  }
  t.equal(opened, 0, 'no prefix opens (the tag is at the end)');

  const rng = new SeededRng(0x9001);
  let openedMutants = 0;
  for (let i = 0; i < 600; i++) {
    const mutant = CHROME_INITIAL.slice();
    mutant[rng.nextInt(mutant.length)] ^= 1 << rng.nextInt(8);
    if (openQuicClientInitial(mutant, 0, mutant.length) !== null) {
      openedMutants++;
    }
  }
  t.equal(openedMutants, 0, 'any flipped bit fails authentication');
  for (let i = 0; i < 3000; i++) {
    const bytes = rng.bytes(rng.nextRange(0, 1400));
    forEachCryptoFrame(bytes, 0, bytes.length, () => undefined);
    openQuicClientInitial(bytes, 0, bytes.length);
  }
  t.pass('random bytes never throw');
  t.end();
});

t.test('quic: malformed frames -> false', (t) => {
  const noop = () => undefined;
  // CRYPTO whose length runs past the end; an unknown frame type 0x08.
  t.notOk(forEachCryptoFrame(Uint8Array.of(6, 0, 10, 1), 0, 4, noop));
  t.notOk(forEachCryptoFrame(Uint8Array.of(1, 8), 0, 2, noop));
  // PADDING, PING, ACK (largest 5, delay 0, 1 range: gap 0, length 1).
  t.ok(
    forEachCryptoFrame(Uint8Array.of(0, 1, 2, 5, 0, 1, 0, 0, 1), 0, 9, noop),
  );
  t.end();
});

/** Encode a QUIC variable-length integer in 2 bytes (below 16384). */
const varint2 = (value: number) =>
  Uint8Array.of(0x40 | (value >> 8), value & 0xff);

/** A CRYPTO frame carrying `data` at `offset`. */
function cryptoFrame(offset: number, data: Uint8Array): Uint8Array {
  return Uint8Array.from([
    6,
    ...varint2(offset),
    ...varint2(data.length),
    ...data,
  ]);
}

/**
 * Seal a client Initial packet as RFC 9001 sections 5.3-5.4 describe, the
 * reverse of what the sensor does, padded so the datagram is 1200 bytes.
 */
function sealClientInitial(
  version: number,
  dcid: Uint8Array,
  packetNumber: number,
  frames: Uint8Array[],
  keyDcid = dcid,
): Uint8Array {
  const keys = deriveClientInitialKeys(version, keyDcid)!;
  const type = version === QuicVersion.V2 ? 1 : 0;
  let plain = Buffer.concat(frames);
  const headerBytes = 1 + 4 + 1 + dcid.length + 1 + 1 + 2 + 2;
  const padBytes = Math.max(0, 1200 - headerBytes - plain.length - 16);
  plain = Buffer.concat([plain, Buffer.alloc(padBytes)]);

  const header = Buffer.concat([
    Buffer.of(0xc0 | (type << 4) | 0x01),
    Buffer.from([
      version >>> 24,
      (version >> 16) & 255,
      (version >> 8) & 255,
      version & 255,
    ]),
    Buffer.of(dcid.length),
    Buffer.from(dcid),
    Buffer.of(0, 0),
    Buffer.from(varint2(2 + plain.length + 16)),
    Buffer.of(packetNumber >> 8, packetNumber & 0xff),
  ]);
  const nonce = Buffer.from(keys.iv);
  nonce[10] ^= packetNumber >> 8;
  nonce[11] ^= packetNumber & 0xff;
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  const sealed = Buffer.concat([
    gcm.update(plain),
    gcm.final(),
    gcm.getAuthTag(),
  ]);

  const packet = Buffer.concat([header, sealed]);
  const pnOff = header.length - 2;
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  const mask = ecb.update(packet.subarray(pnOff + 4, pnOff + 20));
  packet[0] ^= mask[0] & 0x0f;
  packet[pnOff] ^= mask[1];
  packet[pnOff + 1] ^= mask[2];
  return packet;
}

function udpFrame(srcPort: number, payload: Uint8Array): Uint8Array {
  const udp = udpDatagram({ srcPort, dstPort: 443 }, payload);
  const ip = ipv4Packet(
    { src: '192.0.2.10', dst: '198.51.100.20', protocol: IpProto.Udp },
    udp,
  );
  return ethernetFrame(
    {
      dst: '00:00:5e:00:53:02',
      src: '00:00:5e:00:53:01',
      etherType: EtherType.Ipv4,
    },
    ip,
  );
}

/** Decode + flows + QUIC table, frame by frame. */
class Harness {
  readonly packet = new DecodedPacket();
  readonly table: QuicInitialTable;
  readonly flows = new FlowTable();
  readonly hellos: ClientHello[] = [];
  private timeUs = 1_700_000_000_000_000;

  constructor(maxStreams = 4, maxBytesPerStream = 4096) {
    this.table = new QuicInitialTable({ maxStreams, maxBytesPerStream });
  }

  feed(frames: Uint8Array[]): number[] {
    return frames.map((frame) => {
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
      const id = this.flows.observe(this.packet, frame, this.timeUs, 1);
      const result = this.table.append(id, this.packet, frame);
      if (result === QuicInitialStatus.Complete) {
        const hello = parseClientHelloMessage(
          this.table.helloBuf,
          this.table.helloOff,
          this.table.helloEnd,
        );
        if (hello !== null) this.hellos.push(hello);
      }
      return result;
    });
  }
}

const { Ignored, Buffering, Complete, GaveUp } = QuicInitialStatus;
const DCID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

/** The Kyber ClientHello as two Initial packets, frames shuffled. */
function kyberInPackets(version: number, port = 50000): Uint8Array[] {
  const m = KYBER_MESSAGE;
  const first = sealClientInitial(version, DCID, 0, [
    cryptoFrame(500, m.subarray(500, 1000)),
    Uint8Array.of(1),
    cryptoFrame(0, m.subarray(0, 500)),
  ]);
  const second = sealClientInitial(version, DCID, 1, [
    cryptoFrame(1000, m.subarray(1000)),
  ]);
  return [udpFrame(port, first), udpFrame(port, second)];
}

t.test('quic: hello over two v1 Initial packets -> Complete', (t) => {
  const h = new Harness();
  t.same(h.feed(kyberInPackets(QuicVersion.V1)), [Buffering, Complete]);
  t.same(h.hellos, [KYBER_HELLO]);
  t.equal(h.table.size, 0);
  t.equal(h.table.endedByReason[QuicEndReason.Complete], 1);
  t.end();
});

t.test('quic: second packet first, and QUIC v2 -> Complete', (t) => {
  const h = new Harness();
  const [a, b] = kyberInPackets(QuicVersion.V2);
  t.same(h.feed([b, a]), [Buffering, Complete]);
  t.same(h.hellos, [KYBER_HELLO]);
  t.end();
});

t.test('quic: not Initial, short, or a server Initial -> Ignored', (t) => {
  const h = new Harness();
  const [a] = kyberInPackets(QuicVersion.V1);
  const short = udpFrame(50000, new Uint8Array(100).fill(0xc0));
  const dns = udpFrame(50000, new Uint8Array(1300));
  // Same bytes with a wrong DCID byte: the keys no longer match.
  const wrongKeys = a.slice();
  wrongKeys[14 + 20 + 8 + 6] ^= 1;
  t.same(h.feed([short, dns, wrongKeys]), [Ignored, Ignored, Ignored]);
  t.equal(h.table.unopenedPackets, 1);
  t.end();
});

t.test('quic: full table and small cap -> evicted, overflow', (t) => {
  const h = new Harness(1, 4096);
  const one = kyberInPackets(QuicVersion.V1, 50001);
  const two = kyberInPackets(QuicVersion.V1, 50002);
  t.same(h.feed([one[0], two[0]]), [Buffering, Buffering]);
  t.equal(h.table.endedByReason[QuicEndReason.Evicted], 1);
  t.same(h.feed([two[1]]), [Complete]);

  const small = new Harness(4, 1024);
  // The first packet's handshake header already says 1756 bytes.
  t.same(small.feed(kyberInPackets(QuicVersion.V1, 50003)), [GaveUp, Ignored]);
  t.equal(small.table.endedByReason[QuicEndReason.Overflow], 1);
  t.equal(QUIC_END_REASON_NAMES.length, Object.keys(QuicEndReason).length);
  t.end();
});

t.test('quic: key cache -> a connection id that failed is not retried', (t) => {
  const cache = new QuicKeyCache();
  const good = sealClientInitial(QuicVersion.V1, DCID, 0, [
    cryptoFrame(0, KYBER_MESSAGE.subarray(0, 900)),
  ]);
  // Sealed with other keys, as a server's Initial is for a client's id.
  const wrong = sealClientInitial(
    QuicVersion.V1,
    DCID,
    0,
    [cryptoFrame(0, KYBER_MESSAGE.subarray(0, 900))],
    Uint8Array.of(9, 9),
  );
  t.equal(openQuicClientInitial(wrong, 0, wrong.length, cache), null);
  const entry = cache.find(QuicVersion.V1, DCID);
  t.ok(entry >= 0 && cache.isFailed(entry), 'remembered as failing');
  t.equal(
    openQuicClientInitial(good, 0, good.length, cache),
    null,
    'same id: skipped without trying',
  );
  const fresh = new QuicKeyCache();
  t.ok(openQuicClientInitial(good, 0, good.length, fresh), 'opens');
  t.ok(openQuicClientInitial(good, 0, good.length, fresh), 'opens again');
  t.notOk(fresh.isFailed(fresh.find(QuicVersion.V1, DCID)));
  t.end();
});
