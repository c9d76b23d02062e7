/**
 * The published messages (schema proto/spansight/v1): encoders from the
 * plain records to protobuf bytes and decoders back for subscribers. The
 * only code that touches the generated classes in src/gen/.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

import type { DeviceReport } from '../inventory/device.js';
import { spansight } from '../gen/spansight.js';
import { communityId } from '../flows/community-id.js';
import type {
  AlertRecord,
  DeviceFlowSummary,
  PeerSummary,
  SampleFlow,
} from './records.js';
import {
  bytesToHex,
  formatIp,
  formatMac,
  formatUuid,
  hexToBytes,
  parseCommunityId,
  parseIp,
  parseMac,
  parseUuid,
  formatCommunityId,
} from './wire-text.js';

import pb = spansight.v1;

/**
 * Bodies at least this long travel deflated (the schema's `deflated`
 * field) when that makes the message smaller; a short message gains too
 * little to be worth a subscriber's inflate.
 */
export const DEFLATE_MIN_BYTES = 256;
/**
 * A deflated body inflating beyond this is refused: the largest message
 * the sensor sends (500 device summaries of 256 peers) stays far below.
 */
export const INFLATED_MAX_BYTES = 32 * 1024 * 1024;

/** Identity and order of one message; carried by every top-level message. */
export interface MessageHeader {
  sensorId: string;
  site: string;
  /** Random UUID drawn at agent start, lowercase text form. */
  bootId: string;
  /** Per topic: 1 for the first message after a boot, then +1; 0 on the will. */
  seq: number;
  /** Wall clock at encoding, microseconds since the Unix epoch. */
  sentUs: number;
}

/** The topic levels after `<prefix>/<site>/<sensor>/`. */
export type TopicKind = 'status' | 'devices' | 'flows' | 'alerts' | 'control';

/** "unknown" appears only when decoding a value a newer sensor added. */
export type SensorState = 'online' | 'offline' | 'unknown';
export type CaptureSourceKind = 'interface' | 'file' | 'unknown';
export type FeedState = 'ok' | 'lost' | 'unknown';

/** The sensor's health; counters are totals since boot unless named. */
export interface SensorStatus {
  sensorVersion: string;
  /** "online" is the birth, "offline" the death (will or clean stop). */
  state: SensorState;
  /** MQTT connection number within this boot, 1 for the first. */
  session: number;
  uptimeMs: number;
  /** Wall clock at agent start, microseconds since the Unix epoch. */
  startedUs: number;
  captureSourceKind: CaptureSourceKind;
  /** Interface name or file path. */
  captureSource: string;
  frames: number;
  wireBytes: number;
  /** Rates over the last `rateIntervalMs`. */
  framesPerSec: number;
  wireBytesPerSec: number;
  rateIntervalMs: number;
  /** pcap's ps_drop: frames the kernel dropped for want of buffer. */
  kernelDroppedFrames: number;
  /** pcap's ps_ifdrop: frames the interface dropped. */
  interfaceDroppedFrames: number;
  /** Frames not fully decoded, by stable snake_case reason id. */
  decodeDroppedFrames: Record<string, number>;
  /** Exceptions caught around capture batches; nonzero means a bug. */
  decoderExceptions: number;
  flowsActive: number;
  flowsEvicted: number;
  devicesHeld: number;
  devicesEvicted: number;
  outboxRecords: number;
  outboxBytes: number;
  /** Oldest records dropped because the outbox was full. */
  outboxDroppedRecords: number;
  /** Torn records skipped when the outbox was reopened. */
  outboxTornRecords: number;
  memoryRssBytes: number;
  heapUsedBytes: number;
  publishedMessages: number;
  publishedBytes: number;
  publishErrors: number;
  reconnects: number;
  /** "lost" when the mirror port stopped delivering frames. */
  feedState: FeedState;
  /** Packet time of the last frame, microseconds since the epoch; 0 before. */
  lastFrameUs: number;
}

export type DevicesKind = 'snapshot' | 'changes';

/** A snapshot split over several messages: part `part` of `parts`. */
export interface SnapshotPart {
  part: number;
  parts: number;
}

/** A fleet or subscriber request to one sensor (topic `control`). */
export interface ControlRequest {
  requestId: string;
  /** Sender wall clock, microseconds since the Unix epoch. */
  issuedUs: number;
  /** Republish status and a device snapshot; empty topics means all. */
  rebirth: { topics: string[] } | null;
  /** Reserved: a signed fleet command, not acted on in v1. */
  signedCommand: {
    command: Uint8Array;
    signature: Uint8Array;
    keyId: string;
  } | null;
}

/** A header as decoded, with the send time also as ISO 8601 text. */
export interface DecodedHeader extends MessageHeader {
  sentAt: string;
}

/** What `decodeMessage` returns: JSON-friendly, one shape per topic. */
export type DecodedMessage =
  | { topic: 'status'; header: DecodedHeader; status: SensorStatus }
  | {
      topic: 'devices';
      header: DecodedHeader;
      kind: DevicesKind;
      snapshot: SnapshotPart;
      devices: DeviceReport[];
      removedIds: string[];
    }
  | { topic: 'flows'; header: DecodedHeader; summaries: DeviceFlowSummary[] }
  | { topic: 'alerts'; header: DecodedHeader; alerts: AlertRecord[] }
  | { topic: 'control'; control: ControlRequest };

/** Stable codes of message errors. */
export const MessageErrorCode = {
  /** A record cannot be encoded (e.g. a boot id that is not a UUID). */
  EncodeInvalid: 'E_MESSAGE_INVALID',
  /** Bytes are truncated, not protobuf, or break the schema's rules. */
  DecodeFailed: 'E_MESSAGE_DECODE',
} as const;

/** An encode or decode failure; `code` is one of `MessageErrorCode`. */
export class MessageError extends Error {
  override readonly name = 'MessageError';
  readonly code: (typeof MessageErrorCode)[keyof typeof MessageErrorCode];

  constructor(
    code: (typeof MessageErrorCode)[keyof typeof MessageErrorCode],
    message: string,
  ) {
    super(message);
    this.code = code;
  }
}

/** Encode a status message (topic `status`). */
export function encodeStatus(
  header: MessageHeader,
  status: SensorStatus,
): Uint8Array {
  return pb.Status.encode({
    header: headerToWire(header),
    sensorVersion: status.sensorVersion,
    state: SENSOR_STATE.toWire(status.state),
    session: status.session,
    uptimeMs: status.uptimeMs,
    startedUs: status.startedUs,
    captureSourceKind: CAPTURE_KIND.toWire(status.captureSourceKind),
    captureSource: status.captureSource,
    frames: status.frames,
    wireBytes: status.wireBytes,
    framesPerSec: status.framesPerSec,
    wireBytesPerSec: status.wireBytesPerSec,
    rateIntervalMs: status.rateIntervalMs,
    kernelDroppedFrames: status.kernelDroppedFrames,
    interfaceDroppedFrames: status.interfaceDroppedFrames,
    decodeDroppedFrames: status.decodeDroppedFrames,
    decoderExceptions: status.decoderExceptions,
    flowsActive: status.flowsActive,
    flowsEvicted: status.flowsEvicted,
    devicesHeld: status.devicesHeld,
    devicesEvicted: status.devicesEvicted,
    outboxRecords: status.outboxRecords,
    outboxBytes: status.outboxBytes,
    outboxDroppedRecords: status.outboxDroppedRecords,
    outboxTornRecords: status.outboxTornRecords,
    memoryRssBytes: status.memoryRssBytes,
    heapUsedBytes: status.heapUsedBytes,
    publishedMessages: status.publishedMessages,
    publishedBytes: status.publishedBytes,
    publishErrors: status.publishErrors,
    reconnects: status.reconnects,
    feedState: FEED_STATE.toWire(status.feedState),
    lastFrameUs: status.lastFrameUs,
  }).finish();
}

/**
 * Encode a devices message (topic `devices`): every device in full, plus
 * the ids of removed devices for `changes`. Strings that repeat across
 * devices go into one table per message.
 */
export function encodeDevices(
  header: MessageHeader,
  kind: DevicesKind,
  devices: DeviceReport[],
  removedIds: string[] = [],
  snapshot: SnapshotPart = { part: 1, parts: 1 },
): Uint8Array {
  const strings = new StringTable();
  const wireDevices = devices.map((device) => deviceToWire(device, strings));
  const isSinglePart = snapshot.part === 1 && snapshot.parts === 1;
  return encodeCompact(pb.Devices, {
    header: headerToWire(header),
    kind:
      kind === 'snapshot'
        ? pb.DevicesKind.DEVICES_KIND_SNAPSHOT
        : pb.DevicesKind.DEVICES_KIND_CHANGES,
    devices: wireDevices,
    removed: removedIds.map(deviceKeyToWire),
    snapshotPart: isSinglePart ? 0 : snapshot.part,
    snapshotParts: isSinglePart ? 0 : snapshot.parts,
    strings: strings.values,
  });
}

/**
 * Encode a flows message (topic `flows`). Times travel as offsets from the
 * interval the first summary sets, so most are a byte or two.
 */
export function encodeFlows(
  header: MessageHeader,
  summaries: DeviceFlowSummary[],
): Uint8Array {
  const baseStartUs = summaries.length > 0 ? summaries[0].intervalStartUs : 0;
  const baseDurationUs =
    summaries.length > 0
      ? summaries[0].intervalEndUs - summaries[0].intervalStartUs
      : 0;
  return encodeCompact(pb.Flows, {
    header: headerToWire(header),
    intervalStartUs: baseStartUs,
    intervalDurationUs: baseDurationUs,
    devices: summaries.map((summary) => {
      const durationUs = summary.intervalEndUs - summary.intervalStartUs;
      const deviceAddress = commonSampleAddress(summary.peers);
      const wire: pb.DeviceFlows.$Properties = {
        device: deviceKeyToWire(summary.deviceId),
        intervalStartOffsetUs: summary.intervalStartUs - baseStartUs,
        peersOmitted: summary.peersOmitted,
        omittedPackets: summary.omittedPackets,
        omittedBytes: summary.omittedBytes,
        peers: summary.peers.map((peer) =>
          peerToWire(peer, summary.intervalStartUs, deviceAddress),
        ),
      };
      if (durationUs !== baseDurationUs) wire.intervalDurationUs = durationUs;
      const deviceIp = deviceAddress === null ? null : parseIp(deviceAddress);
      if (deviceIp !== null) wire.deviceIp = deviceIp;
      return wire;
    }),
  });
}

/** Encode an alerts message (topic `alerts`). */
export function encodeAlerts(
  header: MessageHeader,
  alerts: AlertRecord[],
): Uint8Array {
  return encodeCompact(pb.Alerts, {
    header: headerToWire(header),
    alerts: alerts.map((alert) => {
      const severity = SEVERITY.toWire(alert.severity);
      const wire: pb.Alert.$Properties = {
        kind: alert.kind,
        severity,
        device: deviceKeyToWire(alert.deviceId),
        timeUs: alert.timeUs,
        summary: alert.summary,
      };
      if (severity === 0) wire.severityText = alert.severity;
      return wire;
    }),
  });
}

/** Encode a control request (topic `control`), e.g. a rebirth request. */
export function encodeControl(control: ControlRequest): Uint8Array {
  const wire: pb.Control.$Properties = {
    requestId: control.requestId,
    issuedUs: control.issuedUs,
  };
  if (control.rebirth !== null) wire.rebirth = control.rebirth;
  if (control.signedCommand !== null) {
    wire.signedCommand = control.signedCommand;
  }
  return pb.Control.encode(wire).finish();
}

/**
 * Decode a message received on topic `topic`. Throws `MessageError` with
 * code `E_MESSAGE_DECODE` for truncated or malformed bytes, never another
 * error.
 */
export function decodeMessage(
  topic: TopicKind,
  bytes: Uint8Array,
): DecodedMessage {
  try {
    switch (topic) {
      case 'status':
        return decodeStatus(bytes);
      case 'devices':
        return decodeDevices(bytes);
      case 'flows':
        return decodeFlows(bytes);
      case 'alerts':
        return decodeAlerts(bytes);
      case 'control':
        return { topic, control: decodeControl(bytes) };
      default:
        throw new WireError(`unknown topic kind ${String(topic)}`);
    }
  } catch (error) {
    // protobufjs throws RangeError on truncation and Error on bad wire
    // types or UTF-8; all of them mean the bytes are not a valid message.
    const reason = error instanceof Error ? error.message : String(error);
    throw new MessageError(
      MessageErrorCode.DecodeFailed,
      `${topic} message of ${bytes.length} bytes is not valid ` +
        `spansight.v1: ${reason}`,
    );
  }
}

/**
 * The DeviceReport a decoded devices record stands for: decoded records
 * already have the report's shape, so this is a deep copy callers can own.
 */
export function deviceReportOf(record: DeviceReport): DeviceReport {
  return structuredClone(record);
}

/** A schema violation found while decoding; wrapped into MessageError. */
class WireError extends Error {}

/** The fields every message with a `deflated` body has. */
interface DeflatableProperties {
  header?: pb.Header.$Properties | null;
  deflated?: Uint8Array | null;
}

/**
 * Encode `wire`, or its header with the rest deflated when that is
 * smaller (see `deflated` in the schema).
 */
function encodeCompact<P extends DeflatableProperties>(
  type: { encode(message: P): { finish(): Uint8Array } },
  wire: NoInfer<P>,
): Uint8Array {
  const plain = type.encode(wire).finish();
  if (plain.length < DEFLATE_MIN_BYTES) return plain;
  const body = type.encode({ ...wire, header: null }).finish();
  const deflated = deflateRawSync(body);
  const headerOnly: DeflatableProperties = { header: wire.header, deflated };
  const compact = type.encode(headerOnly as P).finish();
  return compact.length < plain.length ? compact : plain;
}

/** Decode a message, inflating its body when it travelled deflated. */
function decodeCompact<M extends DeflatableProperties>(
  type: { decode(bytes: Uint8Array): M },
  bytes: Uint8Array,
): M {
  const outer = type.decode(bytes);
  if (outer.deflated == null || outer.deflated.length === 0) return outer;
  let body: Uint8Array;
  try {
    body = inflateRawSync(outer.deflated, {
      maxOutputLength: INFLATED_MAX_BYTES,
    });
  } catch (error) {
    throw new WireError(`deflated body: ${(error as Error).message}`);
  }
  const inner = type.decode(body);
  if (inner.deflated != null && inner.deflated.length > 0) {
    throw new WireError('a deflated body holds another');
  }
  inner.header = outer.header;
  return inner;
}

/** Two-way map between a string union and a protobuf enum. */
class EnumMap<T extends string> {
  private readonly byName: Map<string, number>;
  private readonly byNumber: Map<number, T>;

  constructor(
    entries: Array<[T, number]>,
    private readonly unknown: T,
  ) {
    this.byName = new Map(entries);
    this.byNumber = new Map(entries.map(([name, value]) => [value, name]));
  }

  /** The enum number; 0 (unspecified) for a name the schema lacks. */
  toWire(name: string): number {
    return this.byName.get(name) ?? 0;
  }

  fromWire(value: number): T {
    return this.byNumber.get(value) ?? this.unknown;
  }
}

const SENSOR_STATE = new EnumMap<SensorState>(
  [
    ['online', pb.SensorState.SENSOR_STATE_ONLINE],
    ['offline', pb.SensorState.SENSOR_STATE_OFFLINE],
  ],
  'unknown',
);
const CAPTURE_KIND = new EnumMap<CaptureSourceKind>(
  [
    ['interface', pb.CaptureSourceKind.CAPTURE_SOURCE_KIND_INTERFACE],
    ['file', pb.CaptureSourceKind.CAPTURE_SOURCE_KIND_FILE],
  ],
  'unknown',
);
const FEED_STATE = new EnumMap<FeedState>(
  [
    ['ok', pb.FeedState.FEED_STATE_OK],
    ['lost', pb.FeedState.FEED_STATE_LOST],
  ],
  'unknown',
);
const SEVERITY = new EnumMap<string>(
  [
    ['info', pb.Severity.SEVERITY_INFO],
    ['warning', pb.Severity.SEVERITY_WARNING],
    ['critical', pb.Severity.SEVERITY_CRITICAL],
  ],
  'unknown',
);

function headerToWire(header: MessageHeader): pb.Header.$Properties {
  const bootId = parseUuid(header.bootId);
  if (bootId === null) {
    throw new MessageError(
      MessageErrorCode.EncodeInvalid,
      `header.bootId must be a lowercase UUID, got ${JSON.stringify(header.bootId)}`,
    );
  }
  return {
    sensorId: header.sensorId,
    site: header.site,
    bootId,
    seq: header.seq,
    sentUs: header.sentUs,
  };
}

function headerFromWire(
  wire: pb.Header.$Properties | null | undefined,
): DecodedHeader {
  if (wire === null || wire === undefined) throw new WireError('no header');
  const bootId = wire.bootId ?? EMPTY_BYTES;
  if (bootId.length !== 16) {
    throw new WireError(`boot id of ${bootId.length} bytes, not 16`);
  }
  const sentUs = toNumber(wire.sentUs);
  return {
    sensorId: wire.sensorId ?? '',
    site: wire.site ?? '',
    bootId: formatUuid(bootId),
    seq: toNumber(wire.seq),
    sentUs,
    sentAt: isoFromMs(Math.floor(sentUs / 1000)),
  };
}

/** The three forms of a device id: MAC (+ VLAN), IP, or other text. */
function deviceKeyToWire(id: string): pb.DeviceKey.$Properties {
  const at = id.indexOf('@');
  const macText = at < 0 ? id : id.slice(0, at);
  const mac = parseMac(macText);
  if (mac !== null) {
    if (at < 0) return { mac };
    const vlan = Number(id.slice(at + 1));
    // Only the form Device builds: a VLAN of 1..4095 in plain digits.
    if (Number.isInteger(vlan) && vlan > 0 && vlan < 4096) {
      if (`${macText}@${vlan}` === id) return { mac, vlan };
    }
  }
  const ip = parseIp(id);
  if (ip !== null) return { ip };
  return { text: id };
}

function deviceKeyFromWire(
  wire: pb.DeviceKey.$Properties | null | undefined,
): string {
  if (wire === null || wire === undefined) throw new WireError('no device');
  const vlan = wire.vlan ?? 0;
  if (wire.mac != null && wire.mac.length > 0) {
    const mac = macFromWire(wire.mac);
    return vlan > 0 ? `${mac}@${vlan}` : mac;
  }
  if (wire.ip != null && wire.ip.length > 0) return ipFromWire(wire.ip);
  return wire.text ?? '';
}

function macFromWire(bytes: Uint8Array): string {
  if (bytes.length !== 6) throw new WireError(`MAC of ${bytes.length} bytes`);
  return formatMac(bytes);
}

function ipFromWire(bytes: Uint8Array): string {
  const text = formatIp(bytes);
  if (text === null) throw new WireError(`address of ${bytes.length} bytes`);
  return text;
}

/** Strings shared by the devices of one message, by first use. */
class StringTable {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  ref(value: string): number {
    let ref = this.index.get(value);
    if (ref === undefined) {
      ref = this.values.length;
      this.values.push(value);
      this.index.set(value, ref);
    }
    return ref;
  }
}

function deviceToWire(
  device: DeviceReport,
  strings: StringTable,
): pb.Device.$Properties {
  const text: pb.DeviceText.$Properties = {};
  const wire: pb.Device.$Properties = {
    vlan: device.vlan,
    randomizedMac: device.randomizedMac,
    routed: device.routed,
    router: device.router,
    hostnames: device.hostnames,
    httpUserAgents: device.http.userAgents,
    sipUserAgents: device.sip.userAgents,
    sipRoles: device.sip.roles,
    medicalHintRefs: device.medicalHints.map((hint) => strings.ref(hint)),
    serverPorts: device.serverPorts,
    findings: device.findings,
    categoryRef: strings.ref(device.category),
    confidence: device.confidence,
    evidenceRefs: device.evidence.map((line) => strings.ref(line)),
    catalogVersionRef: strings.ref(device.catalogVersion),
    packets: device.packets,
    bytes: device.bytes,
    evictedValues: device.evictedValues,
  };

  // The MAC and its VLAN are the key for every device but routed hosts.
  const mac = device.mac === null ? null : parseMac(device.mac);
  if (mac !== null) wire.mac = mac;
  else if (device.mac !== null) text.mac = device.mac;
  if (mac === null || macKey(device.mac ?? '', device.vlan) !== device.id) {
    wire.key = deviceKeyToWire(device.id);
  }
  const nullableRefs = [
    ['vendorRef', device.vendor],
    ['makeRef', device.make],
    ['modelRef', device.model],
  ] as const;
  for (const [field, value] of nullableRefs) {
    if (value !== null) wire[field] = strings.ref(value);
  }

  const ips = device.ips.map(parseIp);
  if (ips.every((ip) => ip !== null)) wire.ips = ips as Uint8Array[];
  else text.ips = { values: device.ips };

  addFingerprints(wire, text, device, strings);

  const firstMs = msFromIso(device.firstSeen);
  const lastMs = msFromIso(device.lastSeen);
  if (firstMs !== null && lastMs !== null) {
    wire.firstSeenMs = firstMs;
    wire.lastSeenOffsetMs = lastMs - firstMs;
  } else {
    text.firstSeen = device.firstSeen;
    text.lastSeen = device.lastSeen;
  }
  if (Object.keys(text).length > 0) wire.text = text;
  return wire;
}

/** What the device's traffic says about it, into `wire` (or `text`). */
function addFingerprints(
  wire: pb.Device.$Properties,
  text: pb.DeviceText.$Properties,
  device: DeviceReport,
  strings: StringTable,
): void {
  if (Object.values(device.dhcp).some((value) => value !== null)) {
    wire.dhcp = dropNulls(device.dhcp);
  }
  if (Object.values(device.dhcpv6).some((value) => value !== null)) {
    wire.dhcpv6 = dropNulls(device.dhcpv6);
  }
  const ja3 = device.tls.ja3.map((hex) =>
    /^[0-9a-f]{32}$/.test(hex) ? hexToBytes(hex) : null,
  );
  const hasJa3Bytes = ja3.every((digest) => digest !== null);
  if (!hasJa3Bytes) text.ja3 = { values: device.tls.ja3 };
  const tlsValues =
    device.tls.ja3.length + device.tls.ja4.length + device.tls.sni.length;
  if (tlsValues > 0) {
    wire.tls = {
      ja3Md5: hasJa3Bytes ? (ja3 as Uint8Array[]) : [],
      ja4: device.tls.ja4,
      sni: device.tls.sni,
    };
  }
  if (device.tcp.signatures.length > 0 || device.tcp.osGuess !== null) {
    wire.tcp = {
      signatureRefs: device.tcp.signatures.map((sig) => strings.ref(sig)),
    };
    if (device.tcp.osGuess !== null) {
      wire.tcp.osGuessRef = strings.ref(device.tcp.osGuess);
    }
  }
  if (device.lldp !== null) wire.lldp = lldpToWire(device.lldp);
  if (device.cdp !== null) wire.cdp = cdpToWire(device.cdp);
  if (device.mudUrl !== null) wire.mudUrl = device.mudUrl;
  if (device.dns !== null) wire.dnsQueries = device.dns.queries;
  if (device.mdns !== null) {
    const { services, models, instances } = device.mdns;
    wire.mdns = { services, models };
    wire.mdnsInstances = instances;
  }
  if (device.ssdp !== null) wire.ssdp = device.ssdp;
  if (device.nbns !== null) wire.nbns = device.nbns;
  if (device.wsDiscovery !== null) wire.wsDiscovery = device.wsDiscovery;
  wire.dicom = device.dicom;
  wire.hl7 = device.hl7;
}

function deviceFromWire(
  wire: pb.Device.$Properties,
  strings: string[],
): DeviceReport {
  const ref = (index: number): string => {
    if (!(index >= 0 && index < strings.length)) {
      throw new WireError(`string ref ${index} beyond ${strings.length}`);
    }
    return strings[index];
  };
  const nullableRef = (index: number | null | undefined): string | null =>
    index === null || index === undefined ? null : ref(index);
  const text = wire.text ?? null;

  const vlan = wire.vlan ?? 0;
  const mac =
    text?.mac != null
      ? text.mac
      : wire.mac != null && wire.mac.length > 0
        ? macFromWire(wire.mac)
        : null;
  const id = wire.key != null ? deviceKeyFromWire(wire.key) : macKey(mac, vlan);
  const firstSeenMs = toNumber(wire.firstSeenMs);
  const dhcp = wire.dhcp ?? null;
  const dhcpv6 = wire.dhcpv6 ?? null;
  const tls = wire.tls ?? null;
  const tcp = wire.tcp ?? null;
  const dnsQueries = list(wire.dnsQueries);
  const mdnsInstances = list(wire.mdnsInstances);
  return {
    id,
    mac,
    vlan,
    vendor: nullableRef(wire.vendorRef),
    randomizedMac: wire.randomizedMac ?? false,
    ips: text?.ips != null ? list(text.ips.values) : list(wire.ips, ipFromWire),
    routed: wire.routed ?? false,
    router: wire.router ?? false,
    hostnames: list(wire.hostnames),
    dhcp: {
      fingerprint: dhcp?.fingerprint ?? null,
      vendorClass: dhcp?.vendorClass ?? null,
      hostname: dhcp?.hostname ?? null,
    },
    dhcpv6: {
      duid: dhcpv6?.duid ?? null,
      vendorClass: dhcpv6?.vendorClass ?? null,
      optionRequests: dhcpv6?.optionRequests ?? null,
    },
    tls: {
      ja3:
        text?.ja3 != null
          ? list(text.ja3.values)
          : list(tls?.ja3Md5, ja3FromWire),
      ja4: list(tls?.ja4),
      sni: list(tls?.sni),
    },
    http: { userAgents: list(wire.httpUserAgents) },
    sip: { userAgents: list(wire.sipUserAgents), roles: list(wire.sipRoles) },
    tcp: {
      signatures: list(tcp?.signatureRefs, ref),
      osGuess: nullableRef(tcp?.osGuessRef),
    },
    lldp: wire.lldp != null ? lldpFromWire(wire.lldp) : null,
    cdp: wire.cdp != null ? cdpFromWire(wire.cdp) : null,
    mudUrl: wire.mudUrl ?? null,
    dns: dnsQueries.length > 0 ? { queries: dnsQueries } : null,
    mdns:
      wire.mdns != null || mdnsInstances.length > 0
        ? {
            services: list(wire.mdns?.services),
            models: list(wire.mdns?.models),
            instances: mdnsInstances,
          }
        : null,
    ssdp:
      wire.ssdp != null
        ? { servers: list(wire.ssdp.servers), types: list(wire.ssdp.types) }
        : null,
    nbns: wire.nbns != null ? { names: list(wire.nbns.names) } : null,
    wsDiscovery:
      wire.wsDiscovery != null
        ? {
            types: list(wire.wsDiscovery.types),
            scopes: list(wire.wsDiscovery.scopes),
          }
        : null,
    dicom: list(wire.dicom, (dicom) => ({
      callingAe: dicom.callingAe ?? '',
      calledAe: dicom.calledAe ?? '',
      implementationClassUid: dicom.implementationClassUid ?? '',
      implementationVersion: dicom.implementationVersion ?? '',
      role: dicom.role ?? '',
    })),
    hl7: list(wire.hl7, (hl7) => ({
      sendingApplication: hl7.sendingApplication ?? '',
      sendingFacility: hl7.sendingFacility ?? '',
      messageTypes: list(hl7.messageTypes),
    })),
    medicalHints: list(wire.medicalHintRefs, ref),
    serverPorts: list(wire.serverPorts),
    findings: list(wire.findings),
    category: ref(wire.categoryRef ?? 0),
    make: nullableRef(wire.makeRef),
    model: nullableRef(wire.modelRef),
    confidence: wire.confidence ?? 0,
    evidence: list(wire.evidenceRefs, ref),
    catalogVersion: ref(wire.catalogVersionRef ?? 0),
    firstSeen: text?.firstSeen ?? isoFromMs(firstSeenMs),
    lastSeen:
      text?.lastSeen ??
      isoFromMs(firstSeenMs + toNumber(wire.lastSeenOffsetMs)),
    packets: toNumber(wire.packets),
    bytes: toNumber(wire.bytes),
    evictedValues: toNumber(wire.evictedValues),
  };
}

/** The id Device builds from a MAC and VLAN. */
function macKey(mac: string | null, vlan: number): string {
  if (mac === null) throw new WireError('device without key or MAC');
  return vlan > 0 ? `${mac}@${vlan}` : mac;
}

/** The LLDP keys the inventory writes, in its order, with their types. */
const LLDP_FIELDS = [
  ['chassisId', 'string'],
  ['portId', 'string'],
  ['systemName', 'string'],
  ['systemDescription', 'string'],
  ['capabilitiesEnabled', 'int'],
  ['managementAddresses', 'list'],
  ['medManufacturer', 'string'],
  ['medModel', 'string'],
  ['medFirmware', 'string'],
] as const;

/** The CDP keys the inventory writes, in its order, with their types. */
const CDP_FIELDS = [
  ['deviceId', 'string'],
  ['platform', 'string'],
  ['softwareVersion', 'string'],
  ['portId', 'string'],
  ['addresses', 'list'],
] as const;

type FieldKind = 'string' | 'int' | 'list';

function lldpToWire(record: Record<string, unknown>): pb.Lldp.$Properties {
  return recordToWire(record, LLDP_FIELDS) as pb.Lldp.$Properties;
}

function cdpToWire(record: Record<string, unknown>): pb.Cdp.$Properties {
  return recordToWire(record, CDP_FIELDS) as pb.Cdp.$Properties;
}

/**
 * Known keys with their expected type go to typed fields; anything else
 * travels as JSON text in `extraJson`, so the record round-trips whatever
 * a later extractor adds.
 */
function recordToWire(
  record: Record<string, unknown>,
  fields: ReadonlyArray<readonly [string, FieldKind]>,
): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  const extraJson: Record<string, string> = {};
  const kinds = new Map<string, FieldKind>(fields);
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined) continue;
    const kind = kinds.get(key);
    if (kind !== undefined && hasKind(value, kind)) {
      wire[key] = kind === 'list' ? { values: value } : value;
    } else {
      extraJson[key] = JSON.stringify(value);
    }
  }
  wire.extraJson = extraJson;
  return wire;
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  if (kind === 'string') return typeof value === 'string';
  if (kind === 'int') {
    return Number.isInteger(value) && Math.abs(value as number) < 2 ** 31;
  }
  return (
    Array.isArray(value) && value.every((item) => typeof item === 'string')
  );
}

function lldpFromWire(wire: pb.Lldp.$Properties): Record<string, unknown> {
  return recordFromWire(wire as unknown as WireRecord, LLDP_FIELDS);
}

function cdpFromWire(wire: pb.Cdp.$Properties): Record<string, unknown> {
  return recordFromWire(wire as unknown as WireRecord, CDP_FIELDS);
}

type WireRecord = Record<string, unknown> & {
  extraJson?: Record<string, string> | null;
};

function recordFromWire(
  wire: WireRecord,
  fields: ReadonlyArray<readonly [string, FieldKind]>,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, kind] of fields) {
    const value = wire[key];
    if (value === null || value === undefined) continue;
    record[key] =
      kind === 'list'
        ? list((value as pb.StringList.$Properties).values)
        : value;
  }
  for (const [key, json] of Object.entries(wire.extraJson ?? {})) {
    try {
      record[key] = JSON.parse(json);
    } catch {
      throw new WireError(`extra field ${JSON.stringify(key)} is not JSON`);
    }
  }
  return record;
}

function peerToWire(
  peer: PeerSummary,
  intervalStartUs: number,
  deviceAddress: string | null,
): pb.PeerFlows.$Properties {
  const wire: pb.PeerFlows.$Properties = {
    protocol: peer.protocol,
    servicePort: peer.servicePort,
    isExternal: peer.isExternal,
    deviceIsClient: peer.deviceIsClient,
    flows: peer.flows,
    packetsSent: peer.packetsSent,
    packetsReceived: peer.packetsReceived,
    bytesSent: peer.bytesSent,
    bytesReceived: peer.bytesReceived,
    firstOffsetUs: peer.firstUs - intervalStartUs,
    lastOffsetUs: peer.lastUs - peer.firstUs,
  };
  const ip = parseIp(peer.peerAddress);
  if (ip !== null) wire.peerIp = ip;
  else wire.peerText = peer.peerAddress;

  const sample = peer.sampleFlow;
  if (sample !== null) {
    wire.sampleClientPort = sample.clientPort;
    if (sample.deviceAddress !== deviceAddress) {
      const sampleIp = parseIp(sample.deviceAddress);
      if (sampleIp !== null) wire.sampleDeviceIp = sampleIp;
      else wire.sampleDeviceText = sample.deviceAddress;
    }
  }

  // A Community ID the sample flow reproduces costs 2 bytes of port
  // instead of 22 of digest: the subscriber computes it.
  const isDerived =
    sample !== null &&
    peer.communityIds.length === 1 &&
    sampleCommunityId(peer, sample) === peer.communityIds[0];
  if (isDerived) return wire;
  const digests = peer.communityIds.map(parseCommunityId);
  if (digests.length > 0 && digests.every((digest) => digest !== null)) {
    wire.communityIdSha1 = digests as Uint8Array[];
  } else if (digests.length > 0 || sample !== null) {
    // Text, present even when empty: an empty list is then not derived.
    wire.communityIdsText = { values: peer.communityIds };
  }
  return wire;
}

/** The device address most of a device's sample flows share, if any. */
function commonSampleAddress(peers: PeerSummary[]): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  let bestCount = 0;
  for (const peer of peers) {
    if (peer.sampleFlow === null) continue;
    const address = peer.sampleFlow.deviceAddress;
    const count = (counts.get(address) ?? 0) + 1;
    counts.set(address, count);
    if (count > bestCount && parseIp(address) !== null) {
      best = address;
      bestCount = count;
    }
  }
  return best;
}

/**
 * The Community ID v1 (seed 0) of a peer row's sample flow, or null when
 * its addresses have no binary form.
 */
function sampleCommunityId(
  peer: PeerSummary,
  sample: SampleFlow,
): string | null {
  const device = parseIp(sample.deviceAddress);
  const other = parseIp(peer.peerAddress);
  if (device === null || other === null || device.length !== other.length) {
    return null;
  }
  return communityId({
    ipVersion: device.length === 4 ? 4 : 6,
    proto: peer.protocol,
    srcAddr: peer.deviceIsClient ? device : other,
    dstAddr: peer.deviceIsClient ? other : device,
    srcPort: sample.clientPort,
    dstPort: peer.servicePort,
  });
}

function decodeStatus(bytes: Uint8Array): DecodedMessage {
  const wire = pb.Status.decode(bytes);
  const decodeDroppedFrames: Record<string, number> = {};
  for (const [reason, frames] of Object.entries(wire.decodeDroppedFrames)) {
    decodeDroppedFrames[reason] = toNumber(frames);
  }
  return {
    topic: 'status',
    header: headerFromWire(wire.header),
    status: {
      sensorVersion: wire.sensorVersion,
      state: SENSOR_STATE.fromWire(wire.state),
      session: wire.session,
      uptimeMs: toNumber(wire.uptimeMs),
      startedUs: toNumber(wire.startedUs),
      captureSourceKind: CAPTURE_KIND.fromWire(wire.captureSourceKind),
      captureSource: wire.captureSource,
      frames: toNumber(wire.frames),
      wireBytes: toNumber(wire.wireBytes),
      framesPerSec: wire.framesPerSec,
      wireBytesPerSec: wire.wireBytesPerSec,
      rateIntervalMs: wire.rateIntervalMs,
      kernelDroppedFrames: toNumber(wire.kernelDroppedFrames),
      interfaceDroppedFrames: toNumber(wire.interfaceDroppedFrames),
      decodeDroppedFrames,
      decoderExceptions: toNumber(wire.decoderExceptions),
      flowsActive: toNumber(wire.flowsActive),
      flowsEvicted: toNumber(wire.flowsEvicted),
      devicesHeld: toNumber(wire.devicesHeld),
      devicesEvicted: toNumber(wire.devicesEvicted),
      outboxRecords: toNumber(wire.outboxRecords),
      outboxBytes: toNumber(wire.outboxBytes),
      outboxDroppedRecords: toNumber(wire.outboxDroppedRecords),
      outboxTornRecords: toNumber(wire.outboxTornRecords),
      memoryRssBytes: toNumber(wire.memoryRssBytes),
      heapUsedBytes: toNumber(wire.heapUsedBytes),
      publishedMessages: toNumber(wire.publishedMessages),
      publishedBytes: toNumber(wire.publishedBytes),
      publishErrors: toNumber(wire.publishErrors),
      reconnects: toNumber(wire.reconnects),
      feedState: FEED_STATE.fromWire(wire.feedState),
      lastFrameUs: toNumber(wire.lastFrameUs),
    },
  };
}

function decodeDevices(bytes: Uint8Array): DecodedMessage {
  const wire = decodeCompact(pb.Devices, bytes);
  const header = headerFromWire(wire.header);
  let kind: DevicesKind;
  if (wire.kind === pb.DevicesKind.DEVICES_KIND_SNAPSHOT) kind = 'snapshot';
  else if (wire.kind === pb.DevicesKind.DEVICES_KIND_CHANGES) kind = 'changes';
  else throw new WireError(`devices kind ${wire.kind}`);
  const isSinglePart = wire.snapshotPart === 0 && wire.snapshotParts === 0;
  return {
    topic: 'devices',
    header,
    kind,
    snapshot: isSinglePart
      ? { part: 1, parts: 1 }
      : { part: wire.snapshotPart, parts: wire.snapshotParts },
    devices: wire.devices.map((device) => deviceFromWire(device, wire.strings)),
    removedIds: wire.removed.map(deviceKeyFromWire),
  };
}

function decodeFlows(bytes: Uint8Array): DecodedMessage {
  const wire = decodeCompact(pb.Flows, bytes);
  const header = headerFromWire(wire.header);
  const baseStartUs = toNumber(wire.intervalStartUs);
  const baseDurationUs = toNumber(wire.intervalDurationUs);
  return {
    topic: 'flows',
    header,
    summaries: wire.devices.map((device) => {
      const intervalStartUs =
        baseStartUs + toNumber(device.intervalStartOffsetUs);
      const durationUs =
        device.intervalDurationUs == null
          ? baseDurationUs
          : toNumber(device.intervalDurationUs);
      const deviceAddress =
        device.deviceIp != null && device.deviceIp.length > 0
          ? ipFromWire(device.deviceIp)
          : null;
      return {
        deviceId: deviceKeyFromWire(device.device),
        intervalStartUs,
        intervalEndUs: intervalStartUs + durationUs,
        peers: list(device.peers, (peer) =>
          peerFromWire(peer, intervalStartUs, deviceAddress),
        ),
        peersOmitted: device.peersOmitted ?? 0,
        omittedPackets: toNumber(device.omittedPackets),
        omittedBytes: toNumber(device.omittedBytes),
      };
    }),
  };
}

function peerFromWire(
  wire: pb.PeerFlows.$Properties,
  intervalStartUs: number,
  deviceAddress: string | null,
): PeerSummary {
  const firstUs = intervalStartUs + toNumber(wire.firstOffsetUs);
  const peer: PeerSummary = {
    peerAddress: wire.peerText ?? ipFromWire(wire.peerIp ?? EMPTY_BYTES),
    protocol: wire.protocol ?? 0,
    servicePort: wire.servicePort ?? 0,
    isExternal: wire.isExternal ?? false,
    deviceIsClient: wire.deviceIsClient ?? false,
    flows: toNumber(wire.flows),
    packetsSent: toNumber(wire.packetsSent),
    packetsReceived: toNumber(wire.packetsReceived),
    bytesSent: toNumber(wire.bytesSent),
    bytesReceived: toNumber(wire.bytesReceived),
    firstUs,
    lastUs: firstUs + toNumber(wire.lastOffsetUs),
    communityIds: [],
    sampleFlow: sampleFlowFromWire(wire, deviceAddress),
  };
  if (wire.communityIdsText != null) {
    peer.communityIds = list(wire.communityIdsText.values);
  } else if (wire.communityIdSha1 != null && wire.communityIdSha1.length) {
    peer.communityIds = wire.communityIdSha1.map((digest) => {
      if (digest.length !== 20) {
        throw new WireError(`community id of ${digest.length} bytes`);
      }
      return formatCommunityId(digest);
    });
  } else if (peer.sampleFlow !== null) {
    const derived = sampleCommunityId(peer, peer.sampleFlow);
    if (derived === null) throw new WireError('sample flow without address');
    peer.communityIds = [derived];
  }
  return peer;
}

function sampleFlowFromWire(
  wire: pb.PeerFlows.$Properties,
  deviceAddress: string | null,
): SampleFlow | null {
  if (wire.sampleClientPort == null) return null;
  let address = deviceAddress;
  if (wire.sampleDeviceText != null) address = wire.sampleDeviceText;
  else if (wire.sampleDeviceIp != null && wire.sampleDeviceIp.length > 0) {
    address = ipFromWire(wire.sampleDeviceIp);
  }
  if (address === null) {
    throw new WireError('sample flow without the device address');
  }
  return { deviceAddress: address, clientPort: wire.sampleClientPort };
}

function decodeAlerts(bytes: Uint8Array): DecodedMessage {
  const wire = decodeCompact(pb.Alerts, bytes);
  const header = headerFromWire(wire.header);
  return {
    topic: 'alerts',
    header,
    alerts: wire.alerts.map((alert) => ({
      kind: alert.kind ?? '',
      severity: alert.severityText ?? SEVERITY.fromWire(alert.severity ?? 0),
      deviceId: deviceKeyFromWire(alert.device),
      timeUs: toNumber(alert.timeUs),
      summary: alert.summary ?? '',
    })),
  };
}

function decodeControl(bytes: Uint8Array): ControlRequest {
  const wire = pb.Control.decode(bytes);
  const signed = wire.signedCommand ?? null;
  return {
    requestId: wire.requestId,
    issuedUs: toNumber(wire.issuedUs),
    rebirth:
      wire.rebirth != null ? { topics: list(wire.rebirth.topics) } : null,
    signedCommand:
      signed === null
        ? null
        : {
            command: signed.command ?? EMPTY_BYTES,
            signature: signed.signature ?? EMPTY_BYTES,
            keyId: signed.keyId ?? '',
          },
  };
}

/**
 * A 64-bit field as a number. protobufjs hands out `Long` objects when the
 * `long` package is installed, whatever the generated types say; our values
 * stay below 2^53, where the conversion is exact.
 */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && 'low' in value) {
    const { low, high, unsigned } = value as {
      low: number;
      high: number;
      unsigned: boolean;
    };
    const highPart = unsigned ? high >>> 0 : high | 0;
    return highPart * 2 ** 32 + (low >>> 0);
  }
  return 0;
}

/** Milliseconds of a canonical `toISOString()` text, else null. */
function msFromIso(text: string): number | null {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || ms < 0) return null;
  return new Date(ms).toISOString() === text ? ms : null;
}

function isoFromMs(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new WireError(`time ${ms} ms`);
  return date.toISOString();
}

const EMPTY_BYTES = new Uint8Array(0);

/** A copy of a decoded repeated field, mapped; absent reads as empty. */
function list<T, R = T>(
  values: T[] | null | undefined,
  map?: (value: T) => R,
): R[] {
  if (values == null) return [];
  return map === undefined
    ? ([...values] as unknown as R[])
    : values.map((value) => map(value));
}

function ja3FromWire(digest: Uint8Array): string {
  if (digest.length !== 16)
    throw new WireError(`JA3 of ${digest.length} bytes`);
  return bytesToHex(digest);
}

function dropNulls<T extends Record<string, string | null>>(
  record: T,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value !== null) out[key] = value;
  }
  return out;
}
