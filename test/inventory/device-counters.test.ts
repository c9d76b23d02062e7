/**
 * Device packet, byte and last-seen counters. The flow table counts each
 * flow direction and the inventory settles those counts into devices, so
 * these tests hold the settled totals to a per-frame reference: tshark's
 * per-MAC counts on real captures, and hand-built frames where a flow
 * direction changes MAC or a report comes mid-capture.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  EtherType,
  ethernetFrame,
  IpProto,
  ipv4Packet,
  TcpFlag,
  tcpSegment,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import type { FrameSink } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/link-type.js';
import type { DeviceReport } from '../../src/inventory/device.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';

const fixture = (path: string) =>
  fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));

/**
 * Captures without a router, so each frame belongs to its source MAC: real
 * ones (two hosts sending one multicast 5-tuple; DHCPv4 and v6) and ours
 * (VLANs, ARP and ICMP, one client's many SYNs).
 */
const HOST_CAPTURES = [
  'public/tcpdump/dcb_ets.pcap',
  'public/tcpdump/dhcpv4v6-rfc5970-rfc8572.pcap',
  'generated/vlan-mixed.pcap',
  'generated/arp-icmp.pcap',
  'generated/tcp-options.pcap',
];

t.test('settled counters equal tshark per source MAC', async (t) => {
  for (const path of HOST_CAPTURES) {
    const expected = tsharkPerMac(fixture(path));
    if (expected === null) {
      t.fail('tshark is installed by scripts/setup.sh');
      return;
    }
    const devices = reportOf(fixture(path));
    // A router's frames go to the hosts behind it, by IP.
    const hosts = devices.filter(
      (device) => device.mac !== null && !device.router,
    );
    t.ok(hosts.length > 0, `${path}: hosts by MAC`);
    for (const device of hosts) {
      const want = expected.get(device.id);
      t.same(
        { packets: device.packets, bytes: device.bytes },
        want === undefined
          ? null
          : { packets: want.packets, bytes: want.bytes },
        `${path}: ${device.id} as tshark counts it`,
      );
      t.equal(
        device.lastSeen,
        want?.lastSeen,
        `${path}: ${device.id} last seen`,
      );
    }
  }
});

t.test('a report mid-capture settles and changes no total', async (t) => {
  const path = fixture('generated/hospital-sample.pcap');
  const frames = collectFrames(path);
  const whole = reportOf(path);

  const inventory = new Inventory();
  const pipeline = new PacketPipeline({ inventory });
  const half = Math.floor(frames.length / 2);
  frames.slice(0, half).forEach((frame) => feed(pipeline, frame));
  const early = inventory.report();
  frames.slice(half).forEach((frame) => feed(pipeline, frame));
  pipeline.flows.flush();
  const late = inventory.report();

  t.ok(early.length > 0, 'devices at half time');
  const totals = (devices: DeviceReport[]) =>
    devices.map(({ id, packets, bytes, lastSeen }) => ({
      id,
      packets,
      bytes,
      lastSeen,
    }));
  t.same(sortById(totals(late)), sortById(totals(whole)), 'same totals');
  const earlyTotal = early.reduce((sum, device) => sum + device.packets, 0);
  const frameTotal = frames
    .slice(0, half)
    .filter((frame) => frame.isHostSource).length;
  t.ok(earlyTotal > 0 && earlyTotal <= frameTotal, 'early counts are real');
});

t.test('a flow direction that changes MAC is split between them', async (t) => {
  const inventory = new Inventory();
  const pipeline = new PacketPipeline({ inventory });
  const first = '02:00:00:00:00:01';
  const second = '02:00:00:00:00:02';
  const server = '02:00:00:00:00:09';
  // One 5-tuple; its client direction is sent by `first`, then by
  // `second` (as an ARP spoofer relaying it would), then by `first` again.
  const senders = [first, first, first, second, second, first];
  let timeUs = 1_700_000_000_000_000;
  senders.forEach((mac, i) => {
    timeUs += 1000;
    const flags = i === 0 ? TcpFlag.Syn : TcpFlag.Ack;
    const payload = i === 0 ? new Uint8Array(0) : textBytes(`segment ${i}`);
    feedBytes(pipeline, clientSegment(mac, flags, payload), timeUs);
    feedBytes(pipeline, serverAck(server), timeUs + 10);
  });
  const devices = inventory.report();
  const packetsOf = (mac: string) =>
    devices.find((device) => device.mac === mac)?.packets;
  t.equal(packetsOf(first), 4, 'the first MAC sent four');
  t.equal(packetsOf(second), 2, 'the second MAC sent two');
  t.equal(packetsOf(server), senders.length, 'the server answered each');
});

t.test('counters survive flows ending and restarting', async (t) => {
  // A short idle timeout ends the flow between bursts: each burst is a new
  // record of the same 5-tuple, settled when it ends.
  const inventory = new Inventory();
  const pipeline = new PacketPipeline({
    inventory,
    flows: { idleTimeoutMs: 1000 },
  });
  const client = '02:00:00:00:00:21';
  let timeUs = 1_700_000_000_000_000;
  for (let burst = 0; burst < 3; burst++) {
    timeUs += 5_000_000;
    for (let i = 0; i < 5; i++) {
      timeUs += 100;
      const payload = textBytes(`burst ${burst} segment ${i}`);
      feedBytes(pipeline, clientSegment(client, TcpFlag.Ack, payload), timeUs);
    }
  }
  t.equal(pipeline.flows.endedByReason[0], 2, 'two records ended idle');
  const device = inventory.report().find((found) => found.mac === client);
  t.equal(device?.packets, 15, 'every burst counted');
  t.equal(
    device?.lastSeen,
    isoTime(timeUs),
    'last seen is the last frame it sent',
  );
});

interface Frame {
  bytes: Uint8Array;
  wireBytes: number;
  timeUs: number;
  linkType: number;
  /** From a unicast MAC: a frame some device is credited with. */
  isHostSource: boolean;
}

function reportOf(path: string): DeviceReport[] {
  const inventory = new Inventory();
  const pipeline = new PacketPipeline({ inventory });
  readCaptureFile(path, pipeline);
  pipeline.flows.flush();
  return inventory.report();
}

function collectFrames(path: string): Frame[] {
  const frames: Frame[] = [];
  const sink: FrameSink = {
    onFrame(buf, off, capturedBytes, wireBytes, timeUs, linkType) {
      const bytes = buf.slice(off, off + capturedBytes);
      const isHostSource =
        linkType === LinkType.Ethernet && (bytes[6] & 1) === 0;
      frames.push({ bytes, wireBytes, timeUs, linkType, isHostSource });
    },
  };
  readCaptureFile(path, sink);
  return frames;
}

function feed(pipeline: PacketPipeline, frame: Frame): void {
  pipeline.onFrame(
    frame.bytes,
    0,
    frame.bytes.length,
    frame.wireBytes,
    frame.timeUs,
    frame.linkType,
  );
}

function feedBytes(
  pipeline: PacketPipeline,
  bytes: Uint8Array,
  timeUs: number,
) {
  pipeline.onFrame(
    bytes,
    0,
    bytes.length,
    bytes.length,
    timeUs,
    LinkType.Ethernet,
  );
}

function clientSegment(mac: string, flags: number, payload: Uint8Array) {
  return ethernetFrame(
    { src: mac, dst: '02:00:00:00:00:09', etherType: EtherType.Ipv4 },
    ipv4Packet(
      { src: '10.1.0.5', dst: '10.1.0.9', protocol: IpProto.Tcp },
      tcpSegment({ srcPort: 40000, dstPort: 443, flags }, payload),
    ),
  );
}

function serverAck(mac: string) {
  return ethernetFrame(
    { src: mac, dst: '02:00:00:00:00:01', etherType: EtherType.Ipv4 },
    ipv4Packet(
      { src: '10.1.0.9', dst: '10.1.0.5', protocol: IpProto.Tcp },
      tcpSegment(
        { srcPort: 443, dstPort: 40000, flags: TcpFlag.Ack },
        new Uint8Array(0),
      ),
    ),
  );
}

/**
 * Frames, wire bytes and last frame time per source MAC, with `@vlan` for
 * the outer tag as device ids have it, from tshark; null without tshark.
 */
function tsharkPerMac(
  path: string,
): Map<string, { packets: number; bytes: number; lastSeen: string }> | null {
  const run = spawnSync(
    'tshark',
    [
      '-r',
      path,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'eth.src',
      '-e',
      'frame.len',
      '-e',
      'frame.time_epoch',
      '-e',
      'vlan.id',
      '-Y',
      'eth.src',
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) return null;
  const totals = new Map<
    string,
    { packets: number; bytes: number; lastUs: number }
  >();
  for (const line of run.stdout.trim().split('\n')) {
    const [mac, lengthText, epochText, vlanText = ''] = line.split('|');
    if ((parseInt(mac.slice(0, 2), 16) & 1) !== 0) continue;
    const vlan = Number(vlanText.split(',')[0] || 0);
    const id = vlan > 0 ? `${mac}@${vlan}` : mac;
    const [seconds, fraction = ''] = epochText.split('.');
    const timeUs =
      Number(seconds) * 1e6 + Number(fraction.padEnd(6, '0').slice(0, 6));
    const entry = totals.get(id) ?? { packets: 0, bytes: 0, lastUs: 0 };
    entry.packets++;
    entry.bytes += Number(lengthText);
    entry.lastUs = Math.max(entry.lastUs, timeUs);
    totals.set(id, entry);
  }
  return new Map(
    [...totals].map(([mac, { packets, bytes, lastUs }]) => [
      mac,
      { packets, bytes, lastSeen: isoTime(lastUs) },
    ]),
  );
}

function isoTime(timeUs: number): string {
  return new Date(Math.floor(timeUs / 1000)).toISOString();
}

function sortById<T extends { id: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.id.localeCompare(b.id));
}
