/**
 * Bytes the sensor publishes per device-hour for a capture, offline: the
 * agent's own SensorStream and Publisher write into a real outbox (no MQTT),
 * and each stored message is sized as protobuf, MQTT PUBLISH, JSON and IPFIX.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';

import { CaptureFileReader } from '../../src/capture/capture-file.js';
import { loadConfig, type Config } from '../../src/control/config.js';
import { decodeMessage, type TopicKind } from '../../src/publish/messages.js';
import { Outbox } from '../../src/publish/outbox.js';
import {
  Publisher,
  SCHEMA_VERSION,
  sensorTopics,
} from '../../src/publish/publisher.js';
import { SensorStream } from '../../src/publish/sensor-stream.js';

/** Status messages: one per this much packet time, like the agent's timer. */
export const BENCH_STATUS_INTERVAL_SEC = 30;
/** Sensor id and site of the bench: typical lengths for topic names. */
const BENCH_SENSOR_ID = 'sensor-01';
const BENCH_SITE = 'site-01';
/** Frames read between two waits for the publications they caused. */
const BENCH_BATCH_FRAMES = 64;

/**
 * IPFIX-sized flow records, the baseline a flow exporter would send: one
 * RFC 5103 biflow data record per flow export, with sourceIPv4Address and
 * destinationIPv4Address (4 + 4, or 16 + 16 for IPv6), source and
 * destination ports (2 + 2), protocolIdentifier (1), tcpControlBits and its
 * reverse (1 + 1), packetDeltaCount, octetDeltaCount and their reverse
 * (4 x 8), flowStartMilliseconds and flowEndMilliseconds (2 x 8): 63 B for
 * IPv4, 87 B for IPv6. One record per flow end, active-timeout restarts
 * included. Records are packed into IPFIX messages of at most
 * `IPFIX_MESSAGE_MAX_BYTES`, each with a 16 B message header and one 4 B set
 * header (RFC 7011 sections 3.1, 3.3.2).
 * Limitation: template records and the UDP/IP headers are not counted, so
 * the IPFIX figure is a lower bound.
 */
export const IPFIX_RECORD_IPV4_BYTES = 63;
export const IPFIX_RECORD_IPV6_BYTES = 87;
export const IPFIX_MESSAGE_HEADER_BYTES = 16;
export const IPFIX_SET_HEADER_BYTES = 4;
/** An IPFIX message that fits an Ethernet MTU after IPv4 and UDP headers. */
export const IPFIX_MESSAGE_MAX_BYTES = 1472;

/** Sizes of the messages of one topic. */
export interface TopicSize {
  messages: number;
  /** Protobuf payloads as published. */
  payloadBytes: number;
  /** MQTT PUBLISH bytes around the payloads (see `mqttPublishOverhead`). */
  mqttOverheadBytes: number;
  /** JSON.stringify of each decoded message, UTF-8. */
  jsonBytes: number;
}

/** What one capture made the sensor publish. */
export interface PublishSizeReport {
  capture: string;
  /** Devices in the inventory at the end. */
  devices: number;
  frames: number;
  /** First to last packet time. */
  durationSec: number;
  /** Bytes of the frames as seen on the wire (pcap orig_len). */
  observedWireBytes: number;
  deviceHours: number;
  intervalSec: number;
  statusIntervalSec: number;
  mqttProtocolVersion: 4 | 5;
  byTopic: Partial<Record<TopicKind, TopicSize>>;
  total: TopicSize;
  /** Protobuf payload plus MQTT overhead: what goes upstream. */
  upstreamBytes: number;
  ipfix: {
    /** Flow exports: flow ends and active-timeout restarts. */
    records: number;
    ipv6Records: number;
    messages: number;
    bytes: number;
  };
  perDeviceHour: {
    protobufBytes: number;
    upstreamBytes: number;
    jsonBytes: number;
    ipfixBytes: number;
  };
  /** Protobuf payload / JSON, all topics and flows alone. */
  protobufToJson: number;
  flowsProtobufToJson: number;
  /** Protobuf payload / IPFIX bytes. */
  protobufToIpfix: number;
  /** Upstream bytes / observed wire bytes. */
  upstreamToObserved: number;
  /**
   * The one-time part of the totals above: the birth (status online and
   * a snapshot of every device, sent at each start and rebirth) and the
   * stop (snapshot, offline status). The replay's birth precedes the first
   * frame and is empty, so the stop's snapshot stands for what a birth
   * with this inventory sends: every device in full.
   */
  oneTime: PublishPart;
  /** Everything else: what a long-running sensor sends between births. */
  steady: PublishPart & {
    upstreamBytesPerDeviceHour: number;
    /** Steady upstream bytes / observed wire bytes. */
    upstreamToObserved: number;
  };
}

/** Messages and bytes of a part of what was published. */
export interface PublishPart {
  messages: number;
  payloadBytes: number;
  /** Payload plus MQTT overhead. */
  upstreamBytes: number;
}

export interface PublishSizeOptions {
  /** Summary interval (default: the configured default, 60 s). */
  intervalSec?: number;
  statusIntervalSec?: number;
  /** MQTT protocol level whose PUBLISH overhead is counted (default 5). */
  protocolVersion?: 4 | 5;
}

/**
 * Replay `capturePath` through the agent's data path and publishing
 * schedule into a temporary outbox, then size every stored message.
 */
export async function measurePublishSize(
  capturePath: string,
  options: PublishSizeOptions = {},
): Promise<PublishSizeReport> {
  const stateDir = mkdtempSync(join(tmpdir(), 'spansight-publish-size-'));
  try {
    return await measureIn(stateDir, capturePath, options);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function measureIn(
  stateDir: string,
  capturePath: string,
  options: PublishSizeOptions,
): Promise<PublishSizeReport> {
  const config = benchConfig(stateDir, capturePath, options);
  const logger = pino({ level: 'warn' });
  const statusIntervalUs =
    (options.statusIntervalSec ?? BENCH_STATUS_INTERVAL_SEC) * 1e6;

  const ipfix = { records: 0, ipv6Records: 0 };
  const stream: SensorStream = new SensorStream({
    config,
    version: 'bench',
    log: logger,
    onFlowEnd: (flowId) => {
      ipfix.records++;
      if (stream.pipeline.flows.describe(flowId).ipVersion === 6) {
        ipfix.ipv6Records++;
      }
    },
  });
  const outbox = await Outbox.open(join(stateDir, 'outbox'), {
    maxBytes: 2 ** 40,
    segmentBytes: 16 * 1024 * 1024,
    fsync: 'never',
    logger,
  });
  try {
    const publish = config.publish;
    const publisher = new Publisher({
      identity: {
        sensorId: config.sensor.id,
        site: config.sensor.site,
        bootId: '00000000-0000-4000-8000-000000000000',
      },
      topics: sensorTopics(
        publish.topicPrefix,
        config.sensor.site,
        config.sensor.id,
      ),
      outbox,
      session: null,
      messageExpirySec: publish.messageExpirySec,
      logger,
    });
    stream.attach(publisher, outbox);
    // A live sensor's birth goes out before the first frame: empty.
    stream.publishBirth();
    await stream.publishing;
    const birthRecords = outbox.counters().records;

    const pipeline = stream.pipeline;
    let nextStatusUs = Number.POSITIVE_INFINITY;
    const reader = CaptureFileReader.open(capturePath);
    try {
      // Small batches, each followed by the publications it queued, so a
      // closed interval is published with the inventory of its time, as a
      // live sensor does (a fast replay's 4096-frame batch may span many
      // intervals of a sparse capture).
      while (reader.readBatch(pipeline, BENCH_BATCH_FRAMES) > 0) {
        if (nextStatusUs === Number.POSITIVE_INFINITY) {
          nextStatusUs = pipeline.firstTimeUs + statusIntervalUs;
        }
        // The agent's status timer runs on the wall clock, which a live
        // sensor shares with packet time; a replay has only packet time.
        while (pipeline.lastTimeUs >= nextStatusUs) {
          stream.publishStatus('online');
          nextStatusUs += statusIntervalUs;
        }
        await stream.publishing;
      }
    } finally {
      reader.close();
    }
    stream.finish();
    await stream.publishing;

    const records = await outbox.peek(outbox.counters().records);
    const byTopic: Partial<Record<TopicKind, TopicSize>> = {};
    const total = emptySize();
    const oneTime = emptyPart();
    const steadyPart = emptyPart();
    const version = publish.protocolVersion;
    for (const [index, record] of records.entries()) {
      const kind = record.topic.slice(record.topic.lastIndexOf('/') + 1);
      const topic = kind as TopicKind;
      const decoded = decodeMessage(topic, record.payload);
      const json = JSON.stringify(decoded);
      const size: TopicSize = {
        messages: 1,
        payloadBytes: record.payload.length,
        mqttOverheadBytes: mqttPublishOverhead(
          record.topic,
          record.payload.length,
          version,
          record.remainingExpiryMs !== undefined,
        ),
        jsonBytes: Buffer.byteLength(json, 'utf8'),
      };
      addSize((byTopic[topic] ??= emptySize()), size);
      addSize(total, size);
      const isOneTime =
        index < birthRecords ||
        (decoded.topic === 'devices' && decoded.kind === 'snapshot') ||
        (decoded.topic === 'status' && decoded.status.state === 'offline');
      addPart(isOneTime ? oneTime : steadyPart, size);
    }

    const durationSec =
      pipeline.frames === 0
        ? 0
        : (pipeline.lastTimeUs - pipeline.firstTimeUs) / 1e6;
    // Devices as published (the final snapshot), not table entries.
    const devices = stream.inventory.report().length;
    const deviceHours = (devices * durationSec) / 3600;
    const ipfixSize = ipfixBytes(ipfix.records, ipfix.ipv6Records);
    const upstreamBytes = total.payloadBytes + total.mqttOverheadBytes;
    const flows = byTopic.flows ?? emptySize();
    const perHour = (bytes: number) =>
      deviceHours > 0 ? bytes / deviceHours : 0;
    return {
      capture: capturePath,
      devices,
      frames: pipeline.frames,
      durationSec,
      observedWireBytes: pipeline.wireBytes,
      deviceHours,
      intervalSec: publish.intervalSec,
      statusIntervalSec: statusIntervalUs / 1e6,
      mqttProtocolVersion: version,
      byTopic,
      total,
      upstreamBytes,
      ipfix: { ...ipfix, ...ipfixSize },
      perDeviceHour: {
        protobufBytes: perHour(total.payloadBytes),
        upstreamBytes: perHour(upstreamBytes),
        jsonBytes: perHour(total.jsonBytes),
        ipfixBytes: perHour(ipfixSize.bytes),
      },
      protobufToJson: ratio(total.payloadBytes, total.jsonBytes),
      flowsProtobufToJson: ratio(flows.payloadBytes, flows.jsonBytes),
      protobufToIpfix: ratio(total.payloadBytes, ipfixSize.bytes),
      upstreamToObserved: ratio(upstreamBytes, pipeline.wireBytes),
      oneTime,
      steady: {
        ...steadyPart,
        upstreamBytesPerDeviceHour: perHour(steadyPart.upstreamBytes),
        upstreamToObserved: ratio(steadyPart.upstreamBytes, pipeline.wireBytes),
      },
    };
  } finally {
    await outbox.close();
  }
}

/**
 * Bytes of an MQTT PUBLISH at QoS 1 around a payload of `payloadBytes`:
 * fixed header (1 byte + Remaining Length varint), topic name (2 + UTF-8
 * length), packet identifier (2). MQTT 5 adds the property length varint and
 * the properties the publisher sends: message expiry interval (1 + 4) when
 * set, and the user property schema=SCHEMA_VERSION (1 + 2 + key + 2 +
 * value). MQTT 3.1.1 section 3.3, MQTT 5.0 sections 3.3.2, 2.2.2.
 */
export function mqttPublishOverhead(
  topic: string,
  payloadBytes: number,
  protocolVersion: 4 | 5,
  hasExpiry: boolean,
): number {
  let variableHeaderBytes = 2 + Buffer.byteLength(topic, 'utf8') + 2;
  if (protocolVersion === 5) {
    const propertyBytes =
      (hasExpiry ? 1 + 4 : 0) +
      1 +
      2 +
      Buffer.byteLength('schema', 'utf8') +
      2 +
      Buffer.byteLength(SCHEMA_VERSION, 'utf8');
    variableHeaderBytes += varintBytes(propertyBytes) + propertyBytes;
  }
  const remainingBytes = variableHeaderBytes + payloadBytes;
  return 1 + varintBytes(remainingBytes) + variableHeaderBytes;
}

/** IPFIX messages and bytes for `records` flow records (see above). */
export function ipfixBytes(
  records: number,
  ipv6Records: number,
): { messages: number; bytes: number } {
  const roomBytes =
    IPFIX_MESSAGE_MAX_BYTES -
    IPFIX_MESSAGE_HEADER_BYTES -
    IPFIX_SET_HEADER_BYTES;
  // IPv4 and IPv6 records use different templates, so separate sets; each
  // family is packed into its own messages.
  let messages = 0;
  let bytes = 0;
  const families: Array<[number, number]> = [
    [records - ipv6Records, IPFIX_RECORD_IPV4_BYTES],
    [ipv6Records, IPFIX_RECORD_IPV6_BYTES],
  ];
  for (const [count, recordBytes] of families) {
    if (count === 0) continue;
    const familyMessages = Math.ceil(
      count / Math.floor(roomBytes / recordBytes),
    );
    messages += familyMessages;
    bytes +=
      count * recordBytes +
      familyMessages * (IPFIX_MESSAGE_HEADER_BYTES + IPFIX_SET_HEADER_BYTES);
  }
  return { messages, bytes };
}

/** The report as text: one block per capture, for the bench output. */
export function formatPublishSize(report: PublishSizeReport): string {
  const n = (value: number) => Math.round(value).toLocaleString('en-US');
  const lines = [
    `capture: ${report.capture}`,
    `  devices ${report.devices}, ${n(report.frames)} frames over ` +
      `${(report.durationSec / 60).toFixed(1)} min, ` +
      `${n(report.observedWireBytes)} wire bytes observed, ` +
      `${report.deviceHours.toFixed(2)} device-hours`,
    `  interval ${report.intervalSec} s, status every ` +
      `${report.statusIntervalSec} s of packet time, MQTT ` +
      `${report.mqttProtocolVersion === 5 ? '5' : '3.1.1'} QoS 1`,
    '  topic      messages   protobuf B   MQTT hdr B       JSON B  pb/JSON',
  ];
  const row = (name: string, size: TopicSize) =>
    `  ${name.padEnd(9)} ${n(size.messages).padStart(9)} ` +
    `${n(size.payloadBytes).padStart(12)} ` +
    `${n(size.mqttOverheadBytes).padStart(12)} ` +
    `${n(size.jsonBytes).padStart(12)} ` +
    `${ratio(size.payloadBytes, size.jsonBytes).toFixed(3).padStart(8)}`;
  for (const [topic, size] of Object.entries(report.byTopic)) {
    lines.push(row(topic, size));
  }
  lines.push(row('total', report.total));
  const perHour = report.perDeviceHour;
  lines.push(
    `  IPFIX-sized: ${n(report.ipfix.records)} biflow records ` +
      `(${n(report.ipfix.ipv6Records)} IPv6) in ${n(report.ipfix.messages)} ` +
      `messages, ${n(report.ipfix.bytes)} B`,
    `  per device-hour: protobuf ${n(perHour.protobufBytes)} B, upstream ` +
      `(with MQTT) ${n(perHour.upstreamBytes)} B, JSON ` +
      `${n(perHour.jsonBytes)} B, IPFIX ${n(perHour.ipfixBytes)} B`,
    `  protobuf/JSON ${report.protobufToJson.toFixed(3)} (flows ` +
      `${report.flowsProtobufToJson.toFixed(3)}), protobuf/IPFIX ` +
      `${report.protobufToIpfix.toFixed(3)}, upstream/observed ` +
      `${(report.upstreamToObserved * 100).toFixed(4)}%`,
    `  one-time (birth/stop snapshots, birth and offline status): ` +
      `${n(report.oneTime.messages)} messages, ` +
      `${n(report.oneTime.upstreamBytes)} B upstream`,
    `  steady (everything else): ${n(report.steady.messages)} messages, ` +
      `${n(report.steady.upstreamBytes)} B upstream, ` +
      `${n(report.steady.upstreamBytesPerDeviceHour)} B per device-hour, ` +
      `upstream/observed ` +
      `${(report.steady.upstreamToObserved * 100).toFixed(4)}%`,
  );
  return lines.join('\n') + '\n';
}

function benchConfig(
  stateDir: string,
  capturePath: string,
  options: PublishSizeOptions,
): Config {
  const publish: Partial<Config['publish']> = {};
  if (options.intervalSec !== undefined) {
    publish.intervalSec = options.intervalSec;
  }
  if (options.protocolVersion !== undefined) {
    publish.protocolVersion = options.protocolVersion;
  }
  return loadConfig({
    path: null,
    env: {},
    hostname: BENCH_SENSOR_ID,
    overrides: {
      sensor: { id: BENCH_SENSOR_ID, site: BENCH_SITE, stateDir },
      capture: { pcapFile: capturePath, replaySpeed: 'fast' },
      publish,
    },
  });
}

function varintBytes(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

function emptySize(): TopicSize {
  return { messages: 0, payloadBytes: 0, mqttOverheadBytes: 0, jsonBytes: 0 };
}

function emptyPart(): PublishPart {
  return { messages: 0, payloadBytes: 0, upstreamBytes: 0 };
}

function addPart(into: PublishPart, size: TopicSize): void {
  into.messages += size.messages;
  into.payloadBytes += size.payloadBytes;
  into.upstreamBytes += size.payloadBytes + size.mqttOverheadBytes;
}

function addSize(into: TopicSize, size: TopicSize): void {
  into.messages += size.messages;
  into.payloadBytes += size.payloadBytes;
  into.mqttOverheadBytes += size.mqttOverheadBytes;
  into.jsonBytes += size.jsonBytes;
}

function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : 0;
}
