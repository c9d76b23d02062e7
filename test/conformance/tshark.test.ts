/**
 * Conformance with an established dissector: for every capture under
 * test/fixtures, tshark and spansight must agree frame by frame on the
 * headers decoded, and on the set of TCP and UDP flow keys.
 */
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

import {
  CaptureFileError,
  CaptureFileReader,
} from '../../src/capture/capture-file.js';
import {
  Layer,
  REASON_NAMES,
  type DecodedPacket,
} from '../../src/decode/packet.js';
import type { FlowTable } from '../../src/flows/flow-table.js';
import { PacketPipeline } from '../../src/pipeline.js';
import { listCaptureFiles } from '../../scripts/lib/capture-files.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// CONFORMANCE_DIR points the same checks at another tree, e.g. the whole
// public corpus, when hunting for disagreements by hand.
const FIXTURES = process.env.CONFORMANCE_DIR ?? join(REPO, 'test', 'fixtures');

const hasTshark = spawnSync('tshark', ['--version']).status === 0;

const captures = listCaptureFiles(FIXTURES);

t.test('fixtures exist', async (t) => {
  t.ok(captures.length >= 20, `${captures.length} captures under fixtures`);
});

for (const path of captures) {
  const name = relative(FIXTURES, path);
  t.test(name, { skip: hasTshark ? false : 'tshark not installed' }, (t) => {
    const ours = decodeWithSpansight(path);
    const theirs = dissectWithTshark(path, ours.framesRead);

    t.equal(
      theirs.frames.length,
      ours.framesRead,
      'same number of frames read',
    );
    compareFrames(t, ours, theirs);
    compareFlowKeys(t, ours, theirs);
    t.end();
  });
}

interface OurResult {
  framesRead: number;
  layersByFrame: number[];
  reasonByFrame: number[];
  /** Key read straight off each frame's decoded record, for TCP and UDP. */
  flowKeyByFrame: Array<string | undefined>;
  /** Keys of the flows the flow table created. */
  flowKeys: Set<string>;
  error: CaptureFileError | undefined;
}

/** Run our pipeline, keeping each frame's layers and reason. */
function decodeWithSpansight(path: string): OurResult {
  const flowKeys = new Set<string>();
  const pipeline = new PacketPipeline({
    onFlowStart: (table, flowId) => {
      const key = ourFlowKey(table, flowId);
      if (key !== undefined) flowKeys.add(key);
    },
  });
  const layersByFrame: number[] = [];
  const reasonByFrame: number[] = [];
  const flowKeyByFrame: Array<string | undefined> = [];
  const sink = {
    onFrame(
      buf: Uint8Array,
      off: number,
      capturedBytes: number,
      wireBytes: number,
      timeUs: number,
      linkType: number,
    ) {
      pipeline.onFrame(buf, off, capturedBytes, wireBytes, timeUs, linkType);
      layersByFrame.push(pipeline.packet.layers);
      reasonByFrame.push(pipeline.packet.reason);
      flowKeyByFrame.push(packetFlowKey(pipeline.packet, buf));
    },
  };

  let error: CaptureFileError | undefined;
  const reader = CaptureFileReader.open(path);
  try {
    while (reader.readBatch(sink, 4096) > 0);
  } catch (caught) {
    if (!(caught instanceof CaptureFileError)) throw caught;
    error = caught;
  } finally {
    reader.close();
  }
  return {
    framesRead: pipeline.frames,
    layersByFrame,
    reasonByFrame,
    flowKeyByFrame,
    flowKeys,
    error,
  };
}

/** The key of a well-formed TCP or UDP frame, from its decoded record. */
function packetFlowKey(
  packet: DecodedPacket,
  buf: Uint8Array,
): string | undefined {
  if (packet.reason !== 0) return undefined;
  const protocol =
    packet.layers & Layer.Tcp ? 'tcp' : packet.layers & Layer.Udp ? 'udp' : '';
  if (protocol === '') return undefined;
  const vlans = Array.from(packet.vlanIds.subarray(0, packet.vlanCount));
  const addrBytes = packet.ipVersion === 4 ? 4 : 16;
  const src = formatAddress(buf, packet.srcAddrOff, addrBytes);
  const dst = formatAddress(buf, packet.dstAddrOff, addrBytes);
  return flowKey(
    protocol,
    vlans,
    `${src}/${packet.srcPort}`,
    `${dst}/${packet.dstPort}`,
  );
}

function formatAddress(buf: Uint8Array, off: number, bytes: number) {
  if (bytes === 4) return Array.from(buf.subarray(off, off + 4)).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((buf[off + i] << 8) | buf[off + i + 1]).toString(16));
  }
  return normalizeAddress(groups.join(':'));
}

function ourFlowKey(table: FlowTable, flowId: number): string | undefined {
  const flow = table.describe(flowId);
  if (flow.protocol !== 6 && flow.protocol !== 17) return undefined;
  return flowKey(
    flow.protocol === 6 ? 'tcp' : 'udp',
    [flow.vlanOuter, flow.vlanInner],
    `${normalizeAddress(flow.clientAddr)}/${flow.clientPort}`,
    `${normalizeAddress(flow.serverAddr)}/${flow.serverPort}`,
  );
}

interface TsharkFrame {
  layers: number;
  /** Every protocol tshark listed, for messages. */
  protocols: string;
  flowKey: string | undefined;
  /** tshark hit an exception dissecting the frame. */
  isMalformed: boolean;
}

interface TsharkResult {
  frames: TsharkFrame[];
}

const TSHARK_FIELDS = [
  'frame.protocols',
  'ieee8021ad.id',
  'vlan.id',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  '_ws.malformed',
];

/**
 * Dissect with tshark: IP reassembly off (we do not reassemble), every
 * frame's protocol stack, addresses and ports.
 */
function dissectWithTshark(path: string, frameLimit: number): TsharkResult {
  const args = [
    '-r',
    path,
    '-n',
    '-o',
    'ip.defragment:FALSE',
    '-o',
    'ipv6.defragment:FALSE',
    '-T',
    'fields',
    '-E',
    'separator=\t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
  ];
  for (const field of TSHARK_FIELDS) args.push('-e', field);
  if (frameLimit >= 0) args.push('-c', String(Math.max(frameLimit, 1)));

  const result = spawnSync('tshark', args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const lines = result.stdout.split('\n').filter((line) => line.length > 0);
  const frames = lines.map(parseTsharkLine);
  return { frames: frameLimit === 0 ? [] : frames };
}

function parseTsharkLine(line: string): TsharkFrame {
  const [protocols, qinqIds, vlanIds, ipSrc, ipDst, ip6Src, ip6Dst, ...ports] =
    line.split('\t');
  const layers = expectedLayers(protocols);
  const [tcpSrc, tcpDst, udpSrc, udpDst, malformedMark] = ports;

  let key: string | undefined;
  // Take the outermost IP: tunnels and sFlow samples carry inner ones.
  const isIpv4 = (layers & Layer.Ipv4) !== 0;
  const src = isIpv4 ? first(ipSrc) : first(ip6Src);
  const dst = isIpv4 ? first(ipDst) : first(ip6Dst);
  // tshark names an 802.1ad service tag apart from 802.1Q customer tags;
  // the service tag is always the outer one.
  const vlans = [qinqIds, vlanIds]
    .filter((ids) => ids)
    .join(',')
    .split(',')
    .filter((id) => id !== '')
    .slice(0, 2)
    .map(Number);
  if (layers & Layer.Tcp) {
    key = flowKey(
      'tcp',
      vlans,
      `${normalizeAddress(src)}/${first(tcpSrc)}`,
      `${normalizeAddress(dst)}/${first(tcpDst)}`,
    );
  } else if (layers & Layer.Udp) {
    key = flowKey(
      'udp',
      vlans,
      `${normalizeAddress(src)}/${first(udpSrc)}`,
      `${normalizeAddress(dst)}/${first(udpDst)}`,
    );
  }
  return {
    layers,
    protocols,
    flowKey: key,
    isMalformed: (malformedMark ?? '') !== '',
  };
}

/**
 * The layers our decoder claims to decode, read off tshark's protocol
 * stack: link, VLAN tags, ARP or IP, IPv6 extensions, then the transport
 * right after IP. The walk stops at the first protocol outside that
 * grammar (MPLS, PPPoE, GRE...), which we do not decode either.
 */
function expectedLayers(protocols: string): number {
  const tokens = protocols.split(':').filter((token) => token !== 'ethertype');
  let layers = 0;
  let i = 0;
  if (tokens[i] === 'frame') i++;

  const link = tokens[i];
  if (link === 'eth') layers |= Layer.Ethernet;
  else if (link === 'sll') layers |= Layer.LinuxSll;
  else if (link === 'null') layers |= Layer.Loopback;
  else if (link !== 'raw' && link !== 'ip' && link !== 'ipv6') return 0;
  if (link === 'eth' || link === 'sll' || link === 'null' || link === 'raw') {
    i++;
  }

  while (tokens[i] === 'vlan' || tokens[i] === 'ieee8021ad') {
    layers |= Layer.Vlan;
    i++;
  }

  const network = tokens[i++];
  if (network === 'arp') return layers | Layer.Arp;
  if (network === 'ip') layers |= Layer.Ipv4;
  else if (network === 'ipv6') layers |= Layer.Ipv6;
  else return layers;

  while (tokens[i]?.startsWith('ipv6.') || tokens[i] === 'ah') i++;
  const transport = tokens[i];
  if (transport === 'tcp') layers |= Layer.Tcp;
  else if (transport === 'udp') layers |= Layer.Udp;
  else if (transport === 'icmp') layers |= Layer.Icmp;
  else if (transport === 'icmpv6') layers |= Layer.Icmpv6;
  return layers;
}

/**
 * Frame by frame: a frame we decoded fully has exactly tshark's layers; a
 * frame we reported as truncated or malformed has a subset of them (we
 * stop at the bad header, tshark shows it with an error). Where tshark
 * itself gave up inside a header we skip whole (an IPv6 option with a bad
 * length inside a well-formed extension header), we must agree on every
 * layer tshark did decode.
 */
function compareFrames(t: Test, ours: OurResult, theirs: TsharkResult) {
  const disagreements: string[] = [];
  let partial = 0;
  const frameCount = Math.min(ours.framesRead, theirs.frames.length);
  for (let i = 0; i < frameCount; i++) {
    const mine = ours.layersByFrame[i];
    const expected = theirs.frames[i].layers;
    const reason = ours.reasonByFrame[i];
    const isPartial = reason !== 0;
    const agrees = isPartial
      ? (mine & ~expected) === 0
      : theirs.frames[i].isMalformed
        ? (expected & ~mine) === 0
        : mine === expected;
    if (isPartial) partial++;
    if (!agrees && disagreements.length < 5) {
      disagreements.push(
        `frame ${i + 1}: ours ${layerNames(mine)}` +
          (isPartial ? ` (${REASON_NAMES[reason]})` : '') +
          `, tshark ${theirs.frames[i].protocols}`,
      );
    }
  }
  t.same(disagreements, [], `layers agree on ${frameCount} frames`);
  t.comment(`${partial} frames reported truncated or malformed by us`);
}

/**
 * Flow keys: each well-formed TCP/UDP frame has the key tshark gives it,
 * and the flow table created exactly the keys of those frames.
 */
function compareFlowKeys(t: Test, ours: OurResult, theirs: TsharkResult) {
  const disagreements: string[] = [];
  const frameKeys = new Set<string>();
  ours.flowKeyByFrame.forEach((key, i) => {
    if (key !== undefined) frameKeys.add(key);
    const frame = theirs.frames[i];
    if (frame === undefined || frame.isMalformed) return;
    if (ours.reasonByFrame[i] !== 0) return;
    if (key !== frame.flowKey && disagreements.length < 5) {
      disagreements.push(
        `frame ${i + 1}: ours ${key}, tshark ${frame.flowKey}`,
      );
    }
  });
  t.same(disagreements, [], `flow keys agree frame by frame`);

  const missing = [...frameKeys].filter((key) => !ours.flowKeys.has(key));
  const extra = [...ours.flowKeys].filter((key) => !frameKeys.has(key));
  t.same(
    { missing: missing.slice(0, 5), extra: extra.slice(0, 5) },
    { missing: [], extra: [] },
    `the flow table holds exactly the ${frameKeys.size} frame keys`,
  );
}

function flowKey(
  protocol: string,
  vlans: number[],
  endpointA: string,
  endpointB: string,
): string {
  const outer = vlans[0] ?? 0;
  const inner = vlans[1] ?? 0;
  const [low, high] = [endpointA, endpointB].sort();
  return `${protocol} vlan=${outer}.${inner} ${low} ${high}`;
}

function first(list: string | undefined): string {
  return (list ?? '').split(',')[0];
}

/** Expand an IPv6 address to eight 4-digit groups; IPv4 is kept as is. */
function normalizeAddress(address: string): string {
  if (!address.includes(':')) return address;
  let text = address.toLowerCase();
  const dotted = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    const tail = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    text = text.slice(0, dotted.index) + tail;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, ''];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === '' ? [] : rest.split(':');
  const zeros = 8 - headGroups.length - restGroups.length;
  const groups = text.includes('::')
    ? [...headGroups, ...Array(zeros).fill('0'), ...restGroups]
    : headGroups;
  return groups.map((group) => group.padStart(4, '0')).join(':');
}

function layerNames(layers: number): string {
  const names = Object.entries(Layer)
    .filter(([, bit]) => layers & bit)
    .map(([name]) => name.toLowerCase());
  return names.length > 0 ? names.join(':') : '(none)';
}
