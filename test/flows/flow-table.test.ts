import t from 'tap';

import {
  EtherType,
  ethernetFrame,
  IpProto,
  ipv4Packet,
  tcpSegment,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import {
  FlowEndReason,
  FlowTable,
  linkSourceWord,
  Watch,
  type FlowRecord,
} from '../../src/flows/flow-table.js';

const SEC_US = 1_000_000;

/** An Ethernet/IPv4 frame with a UDP or TCP header, decoded in place. */
function ipv4Frame(
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  tcpFlags = -1,
  vlanId = -1,
): { buf: Uint8Array; packet: DecodedPacket } {
  const isTcp = tcpFlags >= 0;
  const l4Bytes = isTcp ? 20 : 8;
  const vlanBytes = vlanId >= 0 ? 4 : 0;
  const buf = new Uint8Array(14 + vlanBytes + 20 + l4Bytes);
  const view = new DataView(buf.buffer);
  let off = 12;
  if (vlanId >= 0) {
    view.setUint16(off, 0x8100);
    view.setUint16(off + 2, vlanId);
    off += 4;
  }
  view.setUint16(off, 0x0800);
  off += 2;
  buf[off] = 0x45;
  view.setUint16(off + 2, 20 + l4Bytes);
  buf[off + 8] = 64;
  buf[off + 9] = isTcp ? 6 : 17;
  view.setUint32(off + 12, src);
  view.setUint32(off + 16, dst);
  off += 20;
  view.setUint16(off, srcPort);
  view.setUint16(off + 2, dstPort);
  if (isTcp) {
    buf[off + 12] = 0x50;
    buf[off + 13] = tcpFlags;
  } else {
    view.setUint16(off + 4, 8);
  }
  const packet = new DecodedPacket();
  decodeFrame(buf, 0, buf.length, buf.length, LinkType.Ethernet, packet);
  return { buf, packet };
}

const observe = (
  table: FlowTable,
  frame: { buf: Uint8Array; packet: DecodedPacket },
  timeUs: number,
  wireBytes = 100,
) => table.observe(frame.packet, frame.buf, timeUs, wireBytes);

const HOST_A = 0x0a000001;
const HOST_B = 0x0a000002;

t.test(
  'both directions meet in one flow, oriented client to server',
  async (t) => {
    const table = new FlowTable({ maxFlows: 16 });
    // The higher address opens the connection, so orientation is not order.
    const syn = ipv4Frame(HOST_B, HOST_A, 40000, 443, TcpFlag.Syn);
    const synAck = ipv4Frame(
      HOST_A,
      HOST_B,
      443,
      40000,
      TcpFlag.Syn | TcpFlag.Ack,
    );
    const ack = ipv4Frame(HOST_B, HOST_A, 40000, 443, TcpFlag.Ack);
    const id = observe(table, syn, 1 * SEC_US, 60);
    t.equal(observe(table, synAck, 2 * SEC_US, 70), id);
    t.equal(observe(table, ack, 3 * SEC_US, 80), id);
    t.equal(table.size, 1);

    const record: FlowRecord = table.describe(id);
    t.equal(record.clientAddr, '10.0.0.2');
    t.equal(record.clientPort, 40000);
    t.equal(record.serverAddr, '10.0.0.1');
    t.equal(record.serverPort, 443);
    t.equal(record.clientPackets, 2);
    t.equal(record.serverPackets, 1);
    t.equal(record.clientBytes, 140);
    t.equal(record.serverBytes, 70);
    t.equal(record.firstUs, 1 * SEC_US);
    t.equal(record.lastUs, 3 * SEC_US);
    t.equal(record.tcpFlags, TcpFlag.Syn | TcpFlag.Ack);
  },
);

t.test(
  'a SYN-ACK seen first still makes its receiver the client',
  async (t) => {
    const table = new FlowTable({ maxFlows: 4 });
    const synAck = ipv4Frame(
      HOST_A,
      HOST_B,
      443,
      40000,
      TcpFlag.Syn | TcpFlag.Ack,
    );
    const record = table.describe(observe(table, synAck, SEC_US));
    t.equal(record.clientAddr, '10.0.0.2');
    t.equal(record.serverPort, 443);
  },
);

t.test('vlan is part of the key', async (t) => {
  const table = new FlowTable({ maxFlows: 4 });
  const a = observe(table, ipv4Frame(HOST_A, HOST_B, 1, 2, -1, 10), SEC_US);
  const b = observe(table, ipv4Frame(HOST_A, HOST_B, 1, 2, -1, 20), SEC_US);
  t.not(a, b);
  t.equal(table.describe(b).vlanOuter, 20);
});

t.test('full table evicts the least recently seen and counts it', async (t) => {
  const ended: number[] = [];
  const table = new FlowTable({
    maxFlows: 2,
    onFlowEnd: (table, id, reason) => {
      ended.push(reason);
      t.equal(table.describe(id).clientPort, 1, 'the oldest flow goes');
    },
  });
  observe(table, ipv4Frame(HOST_A, HOST_B, 1, 9), 1 * SEC_US);
  observe(table, ipv4Frame(HOST_A, HOST_B, 2, 9), 2 * SEC_US);
  observe(table, ipv4Frame(HOST_A, HOST_B, 3, 9), 3 * SEC_US);
  t.equal(table.size, 2);
  t.equal(table.evictedFlows, 1);
  t.same(ended, [FlowEndReason.Capacity]);
});

t.test('idle timeout by packet time, not the wall clock', async (t) => {
  const table = new FlowTable({ maxFlows: 8, idleTimeoutMs: 10_000 });
  observe(table, ipv4Frame(HOST_A, HOST_B, 1, 9), 0);
  observe(table, ipv4Frame(HOST_A, HOST_B, 2, 9), 8 * SEC_US);
  observe(table, ipv4Frame(HOST_A, HOST_B, 2, 9), 15 * SEC_US);
  t.equal(table.size, 1, 'the flow quiet for 15 s is gone');
  t.equal(table.endedByReason[FlowEndReason.Idle], 1);
  table.expire(30 * SEC_US);
  t.equal(table.size, 0);
  t.equal(table.endedByReason[FlowEndReason.Idle], 2);
});

t.test(
  'active timeout exports a long flow and keeps tracking it',
  async (t) => {
    const exported: number[] = [];
    const table = new FlowTable({
      maxFlows: 8,
      activeTimeoutMs: 60_000,
      onFlowEnd: (table, id) => exported.push(table.describe(id).clientPackets),
    });
    for (let second = 0; second <= 90; second += 10) {
      observe(table, ipv4Frame(HOST_A, HOST_B, 1, 9), second * SEC_US);
    }
    t.equal(table.size, 1);
    t.same(exported, [7], 'packets of the first 60 s exported once');
    t.equal(table.endedByReason[FlowEndReason.Active], 1);
  },
);

t.test('tcp close: FIN both ways, then a grace period', async (t) => {
  const table = new FlowTable({ maxFlows: 8, tcpEndGraceMs: 2_000 });
  const fin = TcpFlag.Fin | TcpFlag.Ack;
  observe(table, ipv4Frame(HOST_A, HOST_B, 5000, 80, TcpFlag.Syn), 0);
  observe(table, ipv4Frame(HOST_A, HOST_B, 5000, 80, fin), 1 * SEC_US);
  observe(table, ipv4Frame(HOST_B, HOST_A, 80, 5000, fin), 1 * SEC_US);
  const lastAck = ipv4Frame(HOST_A, HOST_B, 5000, 80, TcpFlag.Ack);
  observe(table, lastAck, 2 * SEC_US);
  t.equal(table.size, 1, 'the final ACK joins the closing flow');
  table.expire(4 * SEC_US);
  t.equal(table.size, 0);
  t.equal(table.endedByReason[FlowEndReason.TcpEnd], 1);
});

t.test('deletes keep every other key findable (model check)', async (t) => {
  // Random packets over more keys than fit: whatever the table still holds
  // must map to the same flow id, through every backward-shift delete.
  const maxFlows = 64;
  const heldIdByKey = new Map<number, number>();
  const keyById = new Map<number, number>();
  const table = new FlowTable({
    maxFlows,
    idleTimeoutMs: 1e9,
    onFlowEnd: (_table, id) => {
      heldIdByKey.delete(keyById.get(id) ?? -1);
      keyById.delete(id);
    },
  });
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  const frames = Array.from({ length: 400 }, (_, i) =>
    ipv4Frame(HOST_A + (random() % 7), HOST_B + (random() % 7), i, 53),
  );
  let mismatches = 0;
  for (let step = 0; step < 5000; step++) {
    const key = random() % frames.length;
    const expectedId = heldIdByKey.get(key);
    const id = table.observe(frames[key].packet, frames[key].buf, step, 64);
    if (expectedId !== undefined && expectedId !== id) mismatches++;
    heldIdByKey.set(key, id);
    keyById.set(id, key);
  }
  t.equal(mismatches, 0, 'a held key always maps to its own flow');
  t.equal(table.size, heldIdByKey.size, 'the model and the table agree');
  t.ok(table.evictedFlows > 1000, 'the run exercised eviction');
});

t.test('ipv6 addresses print in RFC 5952 form', async (t) => {
  const buf = new Uint8Array(14 + 40 + 8);
  buf.set([0x86, 0xdd], 12);
  buf.set([0x60, 0, 0, 0, 0, 8, 17, 64], 14);
  buf.set([0x20, 0x01, 0x0d, 0xb8], 22);
  buf[37] = 1;
  buf.set([0xfe, 0x80], 38);
  buf[53] = 2;
  buf.set([0, 53, 0x13, 0x88, 0, 8], 54);
  const packet = new DecodedPacket();
  decodeFrame(buf, 0, buf.length, buf.length, LinkType.Ethernet, packet);
  const table = new FlowTable({ maxFlows: 2 });
  const record = table.describe(table.observe(packet, buf, 0, buf.length));
  t.equal(record.clientAddr, '2001:db8::1');
  t.equal(record.serverAddr, 'fe80::2');
});

/** A decoded Ethernet/IPv4/TCP frame from `mac`, with `payloadText`. */
function tcpFrame(
  mac: string,
  fromClient: boolean,
  flags: number,
  payloadText = '',
): { buf: Uint8Array; packet: DecodedPacket } {
  const client = { ip: '10.0.0.2', port: 40000 };
  const server = { ip: '10.0.0.1', port: 443 };
  const [src, dst] = fromClient ? [client, server] : [server, client];
  const buf = ethernetFrame(
    { src: mac, dst: '02:00:00:00:00:ff', etherType: EtherType.Ipv4 },
    ipv4Packet(
      { src: src.ip, dst: dst.ip, protocol: IpProto.Tcp },
      tcpSegment(
        { srcPort: src.port, dstPort: dst.port, flags },
        textBytes(payloadText),
      ),
    ),
  );
  const packet = new DecodedPacket();
  decodeFrame(buf, 0, buf.length, buf.length, LinkType.Ethernet, packet);
  return { buf, packet };
}

t.test('a watcher is handed what it asked for, per direction', async (t) => {
  const table = new FlowTable({ maxFlows: 16 });
  const client = '02:00:00:00:00:01';
  const server = '02:00:00:00:00:09';
  const watched = (
    frame: { buf: Uint8Array; packet: DecodedPacket },
    timeUs: number,
  ) => {
    const id = observe(table, frame, timeUs);
    return { id, direction: table.lastDirection, is: table.lastIsWatched };
  };

  const syn = watched(tcpFrame(client, true, TcpFlag.Syn), 1);
  t.ok(syn.is, 'a new record is watched');
  const linkOf = (frame: { buf: Uint8Array; packet: DecodedPacket }) =>
    linkSourceWord(frame.packet, frame.buf);
  const clientAck = tcpFrame(client, true, TcpFlag.Ack);
  table.setWatch(syn.id, syn.direction, Watch.Payload, linkOf(clientAck));
  t.notOk(watched(clientAck, 2).is, 'no payload, not wanted');
  t.ok(
    watched(tcpFrame(client, true, TcpFlag.Ack, 'GET /'), 3).is,
    'payload wanted',
  );

  table.setWatch(syn.id, syn.direction, Watch.Nothing, linkOf(clientAck));
  t.notOk(watched(tcpFrame(client, true, TcpFlag.Ack, 'more'), 4).is);
  t.ok(watched(tcpFrame(client, true, TcpFlag.Syn), 5).is, 'a SYN always');
  t.ok(
    watched(tcpFrame('02:00:00:00:00:66', true, TcpFlag.Ack), 6).is,
    'another MAC always',
  );

  const reply = watched(tcpFrame(server, false, TcpFlag.Ack, 'data'), 7);
  t.equal(reply.id, syn.id, 'one flow');
  t.ok(reply.is, 'the other direction is still watched');
  t.equal(table.directionPackets(syn.id, syn.direction), 6);
  t.equal(table.directionPackets(syn.id, reply.direction), 1);
  t.equal(table.directionLastUs(syn.id, syn.direction), 6);
  t.equal(table.directionLastUs(syn.id, reply.direction), 7);
  t.equal(table.describe(syn.id).lastUs, 7, 'the flow: either way');
});

t.test('an active-timeout restart is watched afresh', async (t) => {
  const table = new FlowTable({ maxFlows: 16, activeTimeoutMs: 1000 });
  const client = '02:00:00:00:00:01';
  const first = tcpFrame(client, true, TcpFlag.Ack, 'a');
  const id = observe(table, first, 1);
  table.setWatch(
    id,
    table.lastDirection,
    Watch.Nothing,
    linkSourceWord(first.packet, first.buf),
  );
  t.notOk((observe(table, first, 2), table.lastIsWatched));
  t.equal(observe(table, first, 2 * SEC_US), id, 'same record id');
  t.equal(table.endedByReason[FlowEndReason.Active], 1);
  t.ok(table.lastIsWatched, 'the new record is watched');
});
