import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  EtherType,
  IpProto,
  ethernetFrame,
  ipv4Packet,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { defaultSections } from '../../src/control/config-schema.js';
import { InternalNetworks } from '../../src/flows/internal-networks.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';
import { FlowSummarizer } from '../../src/publish/flow-summarizer.js';
import type { DeviceFlowSummary } from '../../src/publish/records.js';

const PUMP_MAC = '00:09:fb:00:00:01';
const SERVER_MAC = '00:09:fb:00:00:02';
const ROUTER_MAC = '00:00:5e:00:01:01';
const PUMP_IP = '10.1.0.5';
const SERVER_IP = '10.1.0.9';
const EXTERNAL_IP = '203.0.113.7';
const MINUTE_US = 60_000_000;
/** A whole minute of packet time, so intervals align to it. */
const START_US = 1_700_000_040_000_000;

interface Harness {
  pipeline: PacketPipeline;
  summarizer: FlowSummarizer;
  intervals: DeviceFlowSummary[][];
}

function makeHarness(
  options: { maxPeersPerDevice?: number; siteNetworks?: string[] } = {},
): Harness {
  const inventory = new Inventory();
  const intervals: DeviceFlowSummary[][] = [];
  let summarizer: FlowSummarizer | undefined;
  const clock = {
    get nextBoundaryUs() {
      return summarizer!.nextBoundaryUs;
    },
    reach: (timeUs: number) => summarizer!.reach(timeUs),
  };
  const pipeline = new PacketPipeline({
    inventory,
    clock,
    onFlowStart: (_table, flowId) => summarizer!.onFlowStart(flowId),
    onFlowEnd: (_table, flowId) => summarizer!.onFlowEnd(flowId),
  });
  summarizer = new FlowSummarizer({
    flows: pipeline.flows,
    senderOf: (flowId, direction) => inventory.flowSender(flowId, direction),
    onInterval: (summaries) => intervals.push(summaries),
    internalNetworks: new InternalNetworks(options.siteNetworks),
    maxPeersPerDevice: options.maxPeersPerDevice,
  });
  return { pipeline, summarizer, intervals };
}

function sendUdp(
  harness: Harness,
  spec: {
    srcMac: string;
    dstMac: string;
    src: string;
    dst: string;
    srcPort: number;
    dstPort: number;
    payloadBytes: number;
  },
  timeUs: number,
): number {
  const frame = ethernetFrame(
    { src: spec.srcMac, dst: spec.dstMac, etherType: EtherType.Ipv4 },
    ipv4Packet(
      { src: spec.src, dst: spec.dst, protocol: IpProto.Udp },
      udpDatagram(
        { srcPort: spec.srcPort, dstPort: spec.dstPort },
        new Uint8Array(spec.payloadBytes),
      ),
    ),
  );
  harness.pipeline.onFrame(
    frame,
    0,
    frame.length,
    frame.length,
    timeUs,
    LinkType.Ethernet,
  );
  return frame.length;
}

const pumpToServer = {
  srcMac: PUMP_MAC,
  dstMac: SERVER_MAC,
  src: PUMP_IP,
  dst: SERVER_IP,
  srcPort: 40000,
  dstPort: 2575,
  payloadBytes: 100,
};
const serverToPump = {
  srcMac: SERVER_MAC,
  dstMac: PUMP_MAC,
  src: SERVER_IP,
  dst: PUMP_IP,
  srcPort: 2575,
  dstPort: 40000,
  payloadBytes: 20,
};
const pumpToInternet = {
  srcMac: PUMP_MAC,
  dstMac: ROUTER_MAC,
  src: PUMP_IP,
  dst: EXTERNAL_IP,
  srcPort: 40001,
  dstPort: 443,
  payloadBytes: 300,
};

function peerOf(
  summaries: DeviceFlowSummary[],
  deviceId: string,
  peer: string,
) {
  const device = summaries.find((summary) => summary.deviceId === deviceId);
  return device?.peers.find((row) => row.peerAddress === peer);
}

t.test('flow summaries: traffic lands in the interval of its packets', (t) => {
  const harness = makeHarness();
  let requestBytes = 0;
  let replyBytes = 0;
  // Three requests and two replies in the first minute, one request in the
  // second; one datagram to the internet in the second minute.
  for (let i = 0; i < 3; i++) {
    requestBytes += sendUdp(harness, pumpToServer, START_US + i * 1_000_000);
    if (i < 2) {
      const replyUs = START_US + 500_000 + i * 1_000_000;
      replyBytes += sendUdp(harness, serverToPump, replyUs);
    }
  }
  const secondRequestBytes = sendUdp(
    harness,
    pumpToServer,
    START_US + MINUTE_US + 5_000_000,
  );
  const internetBytes = sendUdp(
    harness,
    pumpToInternet,
    START_US + MINUTE_US + 6_000_000,
  );
  harness.pipeline.flows.flush();
  harness.summarizer.flush(START_US + MINUTE_US + 7_000_000);

  t.equal(harness.intervals.length, 2, 'two intervals saw traffic');
  const [first, second] = harness.intervals;
  t.equal(first[0].intervalStartUs, START_US);
  t.equal(first[0].intervalEndUs, START_US + MINUTE_US);

  const pumpRow = peerOf(first, PUMP_MAC, SERVER_IP);
  t.match(pumpRow, {
    protocol: 17,
    servicePort: 2575,
    isExternal: false,
    deviceIsClient: true,
    flows: 1,
    packetsSent: 3,
    packetsReceived: 2,
    bytesSent: requestBytes,
    bytesReceived: replyBytes,
    firstUs: START_US,
    lastUs: START_US + 2_000_000,
  });
  t.equal(pumpRow?.communityIds.length, 1, 'a Community ID sample');
  t.match(peerOf(first, SERVER_MAC, PUMP_IP), {
    deviceIsClient: false,
    servicePort: 2575,
    packetsSent: 2,
    packetsReceived: 3,
    bytesSent: replyBytes,
    bytesReceived: requestBytes,
  });

  t.match(peerOf(second, PUMP_MAC, SERVER_IP), {
    packetsSent: 1,
    packetsReceived: 0,
    bytesSent: secondRequestBytes,
  });
  t.match(peerOf(second, PUMP_MAC, EXTERNAL_IP), {
    isExternal: true,
    servicePort: 443,
    packetsSent: 1,
    bytesSent: internetBytes,
  });
  t.equal(
    second.find((summary) => summary.deviceId === ROUTER_MAC),
    undefined,
    'the router sent nothing, so it has no summary',
  );
  t.end();
});

t.test('flow summaries: peers beyond the cap fold into totals', (t) => {
  const harness = makeHarness({ maxPeersPerDevice: 2 });
  let foldedBytes = 0;
  for (let i = 0; i < 5; i++) {
    const bytes = sendUdp(
      harness,
      { ...pumpToServer, dst: `10.1.0.${20 + i}` },
      START_US + i * 1000,
    );
    if (i >= 2) foldedBytes += bytes;
  }
  harness.pipeline.flows.flush();
  harness.summarizer.flush(START_US + 10_000);

  const pump = harness.intervals[0].find((s) => s.deviceId === PUMP_MAC);
  t.equal(pump?.peers.length, 2, 'two peers kept');
  t.equal(pump?.peersOmitted, 3, 'three peers folded');
  t.equal(pump?.omittedPackets, 3);
  t.equal(pump?.omittedBytes, foldedBytes);
  t.equal(harness.summarizer.peersOmitted, 3);
  t.end();
});

t.test('flow summaries: a quiet capture emits nothing', (t) => {
  const harness = makeHarness();
  harness.summarizer.flush(START_US);
  t.same(harness.intervals, []);
  t.end();
});

t.test('link-local, multicast and broadcast are never external', (t) => {
  const networks = new InternalNetworks(['10.0.0.0/8']);
  for (const address of [
    '224.0.0.251',
    '239.255.255.250',
    '255.255.255.255',
    '169.254.7.7',
    '0.0.0.0',
    'ff02::fb',
    'fe80::1',
    '::',
  ]) {
    t.ok(networks.contains(address), `${address} stays on the site`);
  }
  t.ok(networks.contains('10.2.3.4'), 'the site range');
  t.notOk(networks.contains('192.168.1.1'), 'not a range of this site');
  t.notOk(networks.contains('203.0.113.7'));
  t.end();
});

t.test(
  'the sample with the default configuration: only public peers are external',
  (t) => {
    const harness = makeHarness({
      siteNetworks: defaultSections('test').inventory.internalNetworks,
    });
    readCaptureFile(
      fileURLToPath(
        new URL('../fixtures/generated/hospital-sample.pcap', import.meta.url),
      ),
      harness.pipeline,
    );
    harness.pipeline.flows.flush();
    harness.summarizer.flush(harness.pipeline.lastTimeUs + MINUTE_US);
    const peers = harness.intervals.flat().flatMap((summary) => summary.peers);
    const external = new Set(
      peers.filter((row) => row.isExternal).map((row) => row.peerAddress),
    );
    t.ok(
      peers.some((row) => row.peerAddress === '224.0.0.251' && !row.isExternal),
      'mDNS multicast is internal',
    );
    t.same(
      [...external].filter(
        (address) => !/^(192\.0\.2|198\.51\.100|203\.0\.113)\./.test(address),
      ),
      [],
      'every external peer is a public (documentation) address',
    );
    t.ok(external.size > 0, `${[...external].join(', ')} external`);
    t.end();
  },
);
