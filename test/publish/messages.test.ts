/**
 * Published messages: every kind round-trips through protobuf with real
 * inventory and flow data from the fixture captures, bad bytes give a
 * MessageError, and the encoding is a small fraction of the JSON.
 */
import { spawnSync } from 'node:child_process';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

import { CaptureFileReader } from '../../src/capture/capture-file.js';
import type { FlowTable } from '../../src/flows/flow-table.js';
import type { DeviceReport } from '../../src/inventory/device.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';
import { SUMMARY_COMMUNITY_ID_SAMPLES } from '../../src/publish/flow-summarizer.js';
import { spansight } from '../../src/gen/spansight.js';
import {
  DEFLATE_MIN_BYTES,
  INFLATED_MAX_BYTES,
  MessageError,
  decodeMessage,
  deviceReportOf,
  encodeAlerts,
  encodeControl,
  encodeDevices,
  encodeFlows,
  encodeStatus,
  type MessageHeader,
  type SensorStatus,
  type TopicKind,
} from '../../src/publish/messages.js';
import type {
  AlertRecord,
  DeviceFlowSummary,
  PeerSummary,
} from '../../src/publish/records.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SAMPLE = 'test/fixtures/generated/hospital-sample.pcap';
/** Captures that exercise every extractor the device record carries. */
const DEVICE_CAPTURES = [
  SAMPLE,
  'test/fixtures/public/tcpdump/LLDP_and_CDP.pcap',
  'test/fixtures/public/tcpdump/lldp_mudurl.pcap',
  'test/fixtures/public/zeek/cdp-v1.pcap',
  'test/fixtures/public/generated-dicom/dicom-dcmtk.pcap',
  'test/fixtures/public/generated-hl7/hl7-mllp-python-hl7.pcap',
  'test/fixtures/public/ja4/dhcp.pcapng',
  'test/fixtures/public/ja4/dhcpv6.pcap',
];

/** As many Community ID samples per peer as the production summarizer. */
const COMMUNITY_ID_SAMPLES = SUMMARY_COMMUNITY_ID_SAMPLES;

const HEADER: MessageHeader = {
  sensorId: 'sensor-icu-01',
  site: 'st-example',
  bootId: '0f8e4a2c-9b1d-4e6f-8a3b-5c7d9e1f2a4b',
  seq: 42,
  sentUs: 1_733_238_000_123_456,
};

// Classes are not hoisted and tap starts each test at once: helpers first.
/** Inventory and per-device flow summaries of one capture, as the CLI runs. */
function runCapture(capture: string): {
  devices: DeviceReport[];
  summaries: DeviceFlowSummary[];
} {
  const inventory = new Inventory();
  const summarizer = new TestSummarizer();
  const pipeline = new PacketPipeline({
    inventory,
    onFlowEnd: (table, flowId) => summarizer.add(table, flowId),
  });
  const reader = CaptureFileReader.open(join(REPO, capture));
  try {
    while (reader.readBatch(pipeline, 65_536) > 0);
  } finally {
    reader.close();
    pipeline.flows.flush();
  }
  return { devices: inventory.report(), summaries: summarizer.summaries() };
}

/**
 * Folds ended flows into one summary per client address over the whole
 * capture, by peer, protocol, server port and direction: realistic records
 * without depending on the production summarizer.
 */
class TestSummarizer {
  private readonly peers = new Map<string, Map<string, PeerSummary>>();
  private firstUs = Infinity;
  private lastUs = 0;

  add(table: FlowTable, flowId: number): void {
    const flow = table.describe(flowId);
    this.firstUs = Math.min(this.firstUs, flow.firstUs);
    this.lastUs = Math.max(this.lastUs, flow.lastUs);
    const sides: Array<[string, string, boolean]> = [
      [flow.clientAddr, flow.serverAddr, true],
      [flow.serverAddr, flow.clientAddr, false],
    ];
    for (const [device, peerAddress, deviceIsClient] of sides) {
      let byPeer = this.peers.get(device);
      if (byPeer === undefined) {
        byPeer = new Map();
        this.peers.set(device, byPeer);
      }
      const key = `${peerAddress}/${flow.protocol}/${flow.serverPort}/${deviceIsClient}`;
      let peer = byPeer.get(key);
      if (peer === undefined) {
        peer = {
          peerAddress,
          protocol: flow.protocol,
          servicePort: flow.serverPort,
          isExternal: !isPrivate(peerAddress),
          deviceIsClient,
          flows: 0,
          packetsSent: 0,
          packetsReceived: 0,
          bytesSent: 0,
          bytesReceived: 0,
          firstUs: flow.firstUs,
          lastUs: flow.lastUs,
          communityIds: [],
          sampleFlow: null,
        };
        byPeer.set(key, peer);
      }
      const [sentPkts, recvPkts, sentBytes, recvBytes] = deviceIsClient
        ? [
            flow.clientPackets,
            flow.serverPackets,
            flow.clientBytes,
            flow.serverBytes,
          ]
        : [
            flow.serverPackets,
            flow.clientPackets,
            flow.serverBytes,
            flow.clientBytes,
          ];
      peer.flows++;
      peer.packetsSent += sentPkts;
      peer.packetsReceived += recvPkts;
      peer.bytesSent += sentBytes;
      peer.bytesReceived += recvBytes;
      peer.firstUs = Math.min(peer.firstUs, flow.firstUs);
      peer.lastUs = Math.max(peer.lastUs, flow.lastUs);
      if (peer.communityIds.length < COMMUNITY_ID_SAMPLES) {
        peer.communityIds.push(table.communityIdOf(flowId));
        const hasPorts = flow.protocol === 6 || flow.protocol === 17;
        if (peer.sampleFlow === null && hasPorts) {
          peer.sampleFlow = {
            deviceAddress: device,
            clientPort: flow.clientPort,
          };
        }
      }
    }
  }

  summaries(): DeviceFlowSummary[] {
    return [...this.peers].map(([deviceId, byPeer]) => ({
      deviceId,
      intervalStartUs: this.firstUs,
      intervalEndUs: this.lastUs + 1,
      peers: [...byPeer.values()],
      peersOmitted: 0,
      omittedPackets: 0,
      omittedBytes: 0,
    }));
  }
}

t.test('messages: devices snapshot of real captures round-trips', (t) => {
  for (const capture of DEVICE_CAPTURES) {
    const { devices } = runCapture(capture);
    t.ok(devices.length > 0, `${capture}: has devices`);
    const bytes = encodeDevices(HEADER, 'snapshot', devices);
    const decoded = decodeMessage('devices', bytes);
    if (decoded.topic !== 'devices') throw new Error('wrong topic');
    t.strictSame(decoded.header, { ...HEADER, sentAt: isoOfUs(HEADER.sentUs) });
    t.equal(decoded.kind, 'snapshot');
    t.strictSame(decoded.snapshot, { part: 1, parts: 1 });
    t.strictSame(decoded.devices, devices, `${capture}: devices equal`);
    t.strictSame(decoded.removedIds, []);
  }
  t.end();
});

t.test('messages: decoded devices equal `inventory --json`', (t) => {
  const cli = spawnSync(
    process.execPath,
    [join(REPO, 'bin/spansight.js'), 'inventory', '--json', SAMPLE],
    { cwd: REPO, encoding: 'utf8' },
  );
  t.equal(cli.status, 0, cli.stderr);
  const expected = JSON.parse(cli.stdout) as { devices: DeviceReport[] };
  const { devices } = runCapture(SAMPLE);
  const decoded = decodeMessage(
    'devices',
    encodeDevices(HEADER, 'snapshot', devices),
  );
  if (decoded.topic !== 'devices') throw new Error('wrong topic');
  t.strictSame(decoded.devices.map(deviceReportOf), expected.devices);
  t.end();
});

t.test('messages: device changes carry removed ids of every key form', (t) => {
  const { devices } = runCapture(SAMPLE);
  const removedIds = [
    '00:11:22:33:44:55',
    '00:11:22:33:44:55@120',
    '10.20.30.40',
    '2001:db8::1',
    'fe80::1%eth0',
    '',
  ];
  const snapshot = { part: 2, parts: 3 };
  const bytes = encodeDevices(
    HEADER,
    'changes',
    devices.slice(0, 2),
    removedIds,
    snapshot,
  );
  const decoded = decodeMessage('devices', bytes);
  if (decoded.topic !== 'devices') throw new Error('wrong topic');
  t.equal(decoded.kind, 'changes');
  t.strictSame(decoded.snapshot, snapshot);
  t.strictSame(decoded.devices, devices.slice(0, 2));
  t.strictSame(decoded.removedIds, removedIds);
  t.end();
});

t.test('messages: non-canonical values use text fallbacks', (t) => {
  const [base] = runCapture(SAMPLE).devices;
  const odd: DeviceReport = {
    ...base,
    id: 'AA:BB:CC:DD:EE:FF@7',
    mac: 'AA:BB:CC:DD:EE:FF',
    vlan: 7,
    ips: ['10.1.2.3', '010.1.2.3', '2001:DB8::1'],
    tls: { ja3: ['not-a-digest'], ja4: [], sni: ['x.example'] },
    firstSeen: '2024-03-04T08:00:00Z',
    lastSeen: '2024-03-04T08:00:01.5+01:00',
  };
  const routed: DeviceReport = {
    ...base,
    id: '192.0.2.7',
    mac: null,
    vendor: null,
    make: null,
    model: null,
    confidence: 0.123456789,
  };
  const decoded = decodeMessage(
    'devices',
    encodeDevices(HEADER, 'changes', [odd, routed]),
  );
  if (decoded.topic !== 'devices') throw new Error('wrong topic');
  t.strictSame(decoded.devices, [odd, routed]);
  t.end();
});

t.test('messages: LLDP and CDP records keep unknown keys and types', (t) => {
  const [base] = runCapture(SAMPLE).devices;
  const device: DeviceReport = {
    ...base,
    lldp: {
      chassisId: '',
      systemName: 'sw1',
      capabilitiesEnabled: -1,
      managementAddresses: [],
      medModel: 42,
      portVlanId: 120,
      nested: { a: [1, 'b', null] },
    },
    cdp: { platform: 'cisco WS-C3560', addresses: ['10.0.0.1', 7] },
  };
  const decoded = decodeMessage(
    'devices',
    encodeDevices(HEADER, 'changes', [device]),
  );
  if (decoded.topic !== 'devices') throw new Error('wrong topic');
  t.strictSame(decoded.devices, [device]);
  t.end();
});

t.test('messages: DNS queries and mDNS instances round-trip', (t) => {
  const [base] = runCapture(SAMPLE).devices;
  const asker: DeviceReport = {
    ...base,
    dns: {
      queries: [
        'pacs.hospital.example',
        '7.2.0.10.in-addr.arpa',
        '_ipp._tcp.local',
      ],
    },
    mdns: null,
  };
  const announcer: DeviceReport = {
    ...base,
    id: '00:00:5e:00:53:41',
    mac: '00:00:5e:00:53:41',
    vlan: 0,
    dns: null,
    mdns: {
      services: [],
      models: [],
      instances: [
        'Alaris Pump 1234._http._tcp.local',
        'Ward 3 Printer._ipp._tcp.local',
      ],
    },
  };
  const bytes = encodeDevices(HEADER, 'changes', [asker, announcer]);
  const decoded = decodeMessage('devices', bytes);
  if (decoded.topic !== 'devices') throw new Error('wrong topic');
  t.strictSame(decoded.devices, [asker, announcer]);

  // The published numbers: Device fields 39 and 40, length-delimited.
  const tagged = spansight.v1.Device.encode({
    dnsQueries: ['a'],
    mdnsInstances: ['b'],
  }).finish();
  t.strictSame([...tagged], [0xba, 0x02, 1, 0x61, 0xc2, 0x02, 1, 0x62]);

  // Another sensor may send instances without an `mdns` sub-message: the
  // device still has an mdns record.
  const outer = spansight.v1.Devices.decode(bytes);
  const body = spansight.v1.Devices.decode(
    outer.deflated.length > 0 ? inflateRawSync(outer.deflated) : bytes,
  );
  body.header = outer.header;
  body.devices[1].mdns = null;
  const bare = decodeMessage(
    'devices',
    spansight.v1.Devices.encode(body).finish(),
  );
  if (bare.topic !== 'devices') throw new Error('wrong topic');
  t.strictSame(bare.devices[1].mdns, announcer.mdns);
  t.end();
});

t.test('messages: status round-trips every field', (t) => {
  const status: SensorStatus = {
    sensorVersion: '0.1.0',
    state: 'online',
    session: 3,
    uptimeMs: 86_400_123,
    startedUs: 1_733_151_600_000_000,
    captureSourceKind: 'interface',
    captureSource: 'eth1',
    frames: 9_876_543_210,
    wireBytes: 6_543_210_987_654,
    framesPerSec: 12_345.5,
    wireBytesPerSec: 7_654_321.25,
    rateIntervalMs: 10_000,
    kernelDroppedFrames: 17,
    interfaceDroppedFrames: 2,
    decodeDroppedFrames: { ipv4_hdr_len_invalid: 3, truncated: 11 },
    decoderExceptions: 0,
    flowsActive: 4_100,
    flowsEvicted: 12,
    devicesHeld: 310,
    devicesEvicted: 0,
    outboxRecords: 5,
    outboxBytes: 40_960,
    outboxDroppedRecords: 1,
    outboxTornRecords: 1,
    memoryRssBytes: 123_456_789,
    heapUsedBytes: 45_678_901,
    publishedMessages: 8_640,
    publishedBytes: 9_000_000,
    publishErrors: 4,
    reconnects: 2,
    feedState: 'lost',
    lastFrameUs: 1_733_238_000_000_001,
  };
  const decoded = decodeMessage('status', encodeStatus(HEADER, status));
  if (decoded.topic !== 'status') throw new Error('wrong topic');
  t.strictSame(decoded.status, status);
  t.equal(decoded.header.sentAt, '2024-12-03T15:00:00.123Z');

  const will = { ...HEADER, seq: 0 };
  const offline = decodeMessage(
    'status',
    encodeStatus(will, { ...status, state: 'offline', feedState: 'ok' }),
  );
  if (offline.topic !== 'status') throw new Error('wrong topic');
  t.equal(offline.header.seq, 0);
  t.equal(offline.status.state, 'offline');
  t.end();
});

t.test('messages: flow summaries of a real capture round-trip', (t) => {
  const { summaries } = runCapture(SAMPLE);
  t.ok(summaries.length > 5, `${summaries.length} device summaries`);
  const decoded = decodeMessage('flows', encodeFlows(HEADER, summaries));
  if (decoded.topic !== 'flows') throw new Error('wrong topic');
  t.strictSame(decoded.summaries, summaries);

  // A device on a shorter interval and a peer without a canonical address.
  const odd: DeviceFlowSummary = {
    ...summaries[0],
    intervalStartUs: summaries[0].intervalStartUs - 5_000_000,
    intervalEndUs: summaries[0].intervalStartUs + 1,
    peers: [
      {
        ...summaries[0].peers[0],
        peerAddress: 'fe80::1%eth0',
        communityIds: ['1:short'],
        firstUs: summaries[0].intervalStartUs - 6_000_000,
      },
    ],
  };
  const mixed = decodeMessage(
    'flows',
    encodeFlows(HEADER, [summaries[1], odd]),
  );
  if (mixed.topic !== 'flows') throw new Error('wrong topic');
  t.strictSame(mixed.summaries, [summaries[1], odd]);

  // Community IDs the sample flow does not reproduce travel as digests;
  // an empty list with a sample stays empty.
  const sampled = summaries.find((summary) =>
    summary.peers.some((peer) => peer.sampleFlow !== null),
  ) as DeviceFlowSummary;
  const peer = sampled.peers.find((row) => row.sampleFlow !== null);
  const other = summaries
    .flatMap((summary) => summary.peers)
    .find((row) => row.communityIds.length > 0 && row !== peer);
  const unusual: DeviceFlowSummary = {
    ...sampled,
    peers: [
      { ...(peer as PeerSummary), communityIds: other?.communityIds ?? [] },
      { ...(peer as PeerSummary), servicePort: 1, communityIds: [] },
    ],
  };
  const kept = decodeMessage('flows', encodeFlows(HEADER, [unusual]));
  if (kept.topic !== 'flows') throw new Error('wrong topic');
  t.strictSame(kept.summaries, [unusual]);

  const empty = decodeMessage('flows', encodeFlows(HEADER, []));
  if (empty.topic !== 'flows') throw new Error('wrong topic');
  t.strictSame(empty.summaries, []);
  t.end();
});

t.test('messages: alerts round-trip, unknown severity kept as text', (t) => {
  const alerts: AlertRecord[] = [
    {
      kind: 'dicom_user_identity',
      severity: 'critical',
      deviceId: '00:09:fb:12:34:56@20',
      timeUs: 1_709_539_200_500_000,
      summary: 'DICOM user identity sent in clear',
    },
    {
      kind: 'new_external_destination',
      severity: 'warning',
      deviceId: '10.10.100.20',
      timeUs: 1_709_539_201_000_000,
      summary: 'first connection to an external address',
    },
    {
      kind: 'feed_lost',
      severity: 'emergency',
      deviceId: 'sensor',
      timeUs: 0,
      summary: '',
    },
  ];
  const decoded = decodeMessage('alerts', encodeAlerts(HEADER, alerts));
  if (decoded.topic !== 'alerts') throw new Error('wrong topic');
  t.strictSame(decoded.alerts, alerts);
  t.end();
});

t.test('messages: control rebirth request round-trips', (t) => {
  const control = {
    requestId: 'req-7',
    issuedUs: 1_733_238_000_000_000,
    rebirth: { topics: ['devices'] },
    signedCommand: null,
  };
  const decoded = decodeMessage('control', encodeControl(control));
  if (decoded.topic !== 'control') throw new Error('wrong topic');
  t.strictSame(decoded.control, control);
  t.end();
});

t.test('messages: a boot id that is not a UUID is refused', (t) => {
  t.throws(() => encodeAlerts({ ...HEADER, bootId: 'boot-1' }, []), {
    name: 'MessageError',
    code: 'E_MESSAGE_INVALID',
  });
  t.end();
});

t.test('messages: large bodies travel deflated, small ones plain', (t) => {
  const { devices, summaries } = runCapture(SAMPLE);
  const snapshot = encodeDevices(HEADER, 'snapshot', devices);
  const outer = spansight.v1.Devices.decode(snapshot);
  t.ok(outer.deflated.length > 0, 'a snapshot is deflated');
  t.equal(outer.devices.length, 0, 'no device outside the deflated body');
  t.equal(Number(outer.header?.seq), HEADER.seq, 'the header stays outside');

  const one = encodeFlows(HEADER, [
    { ...summaries[0], peers: summaries[0].peers.slice(0, 1) },
  ]);
  t.ok(one.length < DEFLATE_MIN_BYTES, `one peer row: ${one.length} B`);
  t.equal(spansight.v1.Flows.decode(one).deflated.length, 0, 'plain');

  // A body inflating past the bound is refused, not inflated into memory.
  const bomb = spansight.v1.Alerts.encode({
    header: { sensorId: 's', site: 'x', bootId: new Uint8Array(16), seq: 1 },
    deflated: deflateRawSync(new Uint8Array(INFLATED_MAX_BYTES + 1)),
  }).finish();
  t.throws(() => decodeMessage('alerts', bomb), {
    code: 'E_MESSAGE_DECODE',
    message: /deflated body/,
  });
  t.end();
});

t.test('messages: truncated, mutated and random bytes -> MessageError', (t) => {
  const { devices, summaries } = runCapture(SAMPLE);
  const samples: Array<[TopicKind, Uint8Array]> = [
    ['devices', encodeDevices(HEADER, 'snapshot', devices.slice(0, 6))],
    ['flows', encodeFlows(HEADER, summaries.slice(0, 4))],
    ['status', encodeStatus(HEADER, minimalStatus())],
    [
      'alerts',
      encodeAlerts(HEADER, [
        {
          kind: 'address_conflict',
          severity: 'warning',
          deviceId: '10.0.0.1',
          timeUs: 1,
          summary: 'x',
        },
      ]),
    ],
  ];
  const random = seededRandom(20261203);
  for (const [topic, bytes] of samples) {
    let prefixErrors = 0;
    for (let length = 0; length < bytes.length; length++) {
      if (tryDecode(t, topic, bytes.subarray(0, length)) === 'error') {
        prefixErrors++;
      }
    }
    // Most prefixes cut a field in half; some end on a field boundary and
    // decode as a shorter valid message, which the sequence number covers.
    t.ok(prefixErrors > bytes.length / 2, `${topic}: prefixes mostly fail`);

    for (let i = 0; i < 2000; i++) {
      const mutated = Uint8Array.from(bytes);
      mutated[Math.floor(random() * mutated.length)] = Math.floor(
        random() * 256,
      );
      tryDecode(t, topic, mutated);
    }
    for (let i = 0; i < 500; i++) {
      const garbage = new Uint8Array(Math.floor(random() * 200));
      for (let j = 0; j < garbage.length; j++) {
        garbage[j] = Math.floor(random() * 256);
      }
      tryDecode(t, topic, garbage);
    }
  }
  t.throws(() => decodeMessage('devices', Uint8Array.of(0x0a, 0x05, 0x0a)), {
    name: 'MessageError',
    code: 'E_MESSAGE_DECODE',
    message: /^devices message of 3 bytes is not valid spansight.v1: /,
  });
  t.throws(() => decodeMessage('status', new Uint8Array(0)), {
    code: 'E_MESSAGE_DECODE',
    message: /no header/,
  });
  t.end();
});

t.test('messages: protobuf is a small fraction of the JSON', (t) => {
  const { devices, summaries } = runCapture(SAMPLE);
  const deviceRatio = sizeRatio(
    t,
    `devices (${devices.length})`,
    encodeDevices(HEADER, 'snapshot', devices),
    devices,
  );
  const peers = summaries.reduce((sum, s) => sum + s.peers.length, 0);
  const withoutIds = summaries.map((summary) => ({
    ...summary,
    peers: summary.peers.map((peer) => ({
      ...peer,
      communityIds: [],
      sampleFlow: null,
    })),
  }));
  const flowRatio = sizeRatio(
    t,
    `flows (${summaries.length} devices, ${peers} peers)`,
    encodeFlows(HEADER, summaries),
    summaries,
  );
  const bareFlowRatio = sizeRatio(
    t,
    'flows without Community IDs',
    encodeFlows(HEADER, withoutIds),
    withoutIds,
  );
  t.ok(bareFlowRatio < 0.1, 'flow counters and times under 1/10 of JSON');
  t.ok(flowRatio < 0.1, 'flow summaries under 1/10 of JSON');
  t.ok(deviceRatio < 0.1, 'device records under 1/10 of JSON');
  t.end();
});

/** Encoded size over JSON size, reported as a comment. */
function sizeRatio(
  t: Test,
  what: string,
  encoded: Uint8Array,
  records: unknown,
): number {
  const jsonBytes = Buffer.byteLength(JSON.stringify(records));
  const ratio = encoded.length / jsonBytes;
  t.comment(
    `${what}: ${encoded.length} B protobuf, ${jsonBytes} B JSON, ` +
      `ratio ${ratio.toFixed(3)}`,
  );
  return ratio;
}

function isPrivate(address: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|fe80:|fd)/.test(address);
}

function tryDecode(
  t: Test,
  topic: TopicKind,
  bytes: Uint8Array,
): 'ok' | 'error' {
  try {
    decodeMessage(topic, bytes);
    return 'ok';
  } catch (error) {
    if (!(error instanceof MessageError)) {
      t.fail(`${topic}: ${String(error)} is not a MessageError`);
    }
    return 'error';
  }
}

function minimalStatus(): SensorStatus {
  return {
    sensorVersion: '0.1.0',
    state: 'online',
    session: 1,
    uptimeMs: 1000,
    startedUs: 1_733_238_000_000_000,
    captureSourceKind: 'file',
    captureSource: 'sample.pcap',
    frames: 10,
    wireBytes: 1000,
    framesPerSec: 1,
    wireBytesPerSec: 100,
    rateIntervalMs: 10_000,
    kernelDroppedFrames: 0,
    interfaceDroppedFrames: 0,
    decodeDroppedFrames: { truncated: 1 },
    decoderExceptions: 0,
    flowsActive: 1,
    flowsEvicted: 0,
    devicesHeld: 1,
    devicesEvicted: 0,
    outboxRecords: 0,
    outboxBytes: 0,
    outboxDroppedRecords: 0,
    outboxTornRecords: 0,
    memoryRssBytes: 1,
    heapUsedBytes: 1,
    publishedMessages: 0,
    publishedBytes: 0,
    publishErrors: 0,
    reconnects: 0,
    feedState: 'ok',
    lastFrameUs: 1,
  };
}

function isoOfUs(timeUs: number): string {
  return new Date(Math.floor(timeUs / 1000)).toISOString();
}

/** Mulberry32: a small seeded generator, so failures reproduce. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
