/**
 * `spansight watch`: a subscriber. Decodes what sensors publish and prints
 * it live, as lines for people or one JSON object per message, and warns
 * when a sequence number shows a message went missing.
 */
import { parseArgs } from 'node:util';

import { CATEGORIES } from '../inventory/catalog.js';
import type { DeviceReport } from '../inventory/device.js';
import {
  decodeMessage,
  MessageError,
  type DecodedMessage,
  type TopicKind,
} from '../publish/messages.js';
import { MqttSession, MqttSessionError } from '../publish/mqtt-session.js';
import { SequenceTracker } from '../publish/sequence-tracker.js';
import { createLogger } from '../telemetry/log.js';
import { formatCount, tableAddresses } from './format.js';

/** The longest category id, so that the makes after it line up. */
const CATEGORY_CHARS = Math.max(...CATEGORIES.map((id) => id.length));

const HELP = `usage: spansight watch --broker URL [options]

Subscribe to what spansight sensors publish and print it as it arrives:
status, device records, flow summaries and alerts. Warns on stderr when a
sequence number shows a missed message.

options:
  --broker URL        mqtt://host:port or mqtts://host:port (required)
  --topic-prefix P    topic prefix of the sensors (default "spansight")
  --json              one JSON object per message on stdout
  --username NAME     --password-file FILE
  --ca-file FILE      CA that signs the broker's certificate (mqtts)
  --cert-file FILE    --key-file FILE   client certificate (mutual TLS)
  --protocol-version 4|5   (default 5, falls back to 4)
`;

const TOPIC_KINDS: readonly TopicKind[] = [
  'status',
  'devices',
  'flows',
  'alerts',
];

/** One message as the stream delivered it, after decoding. */
export interface ReceivedMessage {
  topic: string;
  /** `<site>/<sensor>`: the stream key together with the kind. */
  sensor: string;
  kind: TopicKind;
  message: DecodedMessage;
}

/**
 * Decodes messages of sensor topics and follows their sequence numbers;
 * the device table it keeps is what a dashboard would show.
 */
export class StreamCollector {
  readonly sequences = new SequenceTracker();
  readonly devices = new Map<string, DeviceReport>();
  readonly counts = new Map<TopicKind, number>();
  undecodable = 0;

  constructor(
    private readonly onMessage: (received: ReceivedMessage) => void,
    private readonly onWarning: (text: string) => void,
  ) {}

  /** Take one MQTT message; topics outside the layout are ignored. */
  accept(topic: string, payload: Uint8Array): void {
    const levels = topic.split('/');
    const kind = levels[levels.length - 1] as TopicKind;
    if (levels.length < 4 || !TOPIC_KINDS.includes(kind)) return;
    const sensor = levels.slice(-3, -1).join('/');

    let message: DecodedMessage;
    try {
      message = decodeMessage(kind, payload);
    } catch (err) {
      if (!(err instanceof MessageError)) throw err;
      this.undecodable++;
      this.onWarning(`${topic}: ${err.message}`);
      return;
    }
    if (message.topic === 'control') return;

    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const { bootId, seq } = message.header;
    const verdict = this.sequences.observe(`${sensor}/${kind}`, bootId, seq);
    if (verdict.kind === 'gap') {
      this.onWarning(
        `${sensor}/${kind}: ${verdict.missing} message(s) missing ` +
          `(seq ${verdict.fromSeq}..${verdict.toSeq}, boot ${bootId})`,
      );
    }
    if (verdict.kind === 'duplicate') return;
    if (message.topic === 'devices') {
      for (const device of message.devices) {
        this.devices.set(device.id, device);
      }
      for (const id of message.removedIds) this.devices.delete(id);
    }
    this.onMessage({ topic, sensor, kind, message });
  }
}

/** Run the watch command; resolves to the exit code when interrupted. */
export async function runWatch(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        broker: { type: 'string' },
        'topic-prefix': { type: 'string', default: 'spansight' },
        json: { type: 'boolean', default: false },
        username: { type: 'string' },
        'password-file': { type: 'string' },
        'ca-file': { type: 'string' },
        'cert-file': { type: 'string' },
        'key-file': { type: 'string' },
        'protocol-version': { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`spansight watch: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.broker === undefined) {
    process.stderr.write('spansight watch: --broker URL is required\n');
    return 2;
  }

  const isJson = values.json;
  const collector = new StreamCollector(
    (received) => {
      process.stdout.write(
        isJson
          ? `${JSON.stringify({ mqttTopic: received.topic, ...received.message })}\n`
          : `${describeMessage(received)}\n`,
      );
    },
    (text) => process.stderr.write(`spansight watch: warning: ${text}\n`),
  );

  let session: MqttSession;
  try {
    session = new MqttSession({
      url: values.broker,
      clientId: `spansight-watch-${process.pid}`,
      username: values.username,
      passwordFile: values['password-file'],
      caFile: values['ca-file'],
      certFile: values['cert-file'],
      keyFile: values['key-file'],
      protocolVersion: values['protocol-version'] === '4' ? 4 : 5,
      logger: createLogger({
        level: 'warn',
        destination: process.stderr,
      }),
    });
  } catch (err) {
    if (!(err instanceof MqttSessionError)) throw err;
    process.stderr.write(`spansight watch: ${(err as Error).message}\n`);
    return 2;
  }

  const filter = `${values['topic-prefix']}/+/+/+`;
  await session.subscribe(filter, (topic, payload) =>
    collector.accept(topic, payload),
  );
  session.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await session.close({ flushMs: 1000 });
  const { sequences } = collector;
  process.stderr.write(
    `spansight watch: ${formatCount(sequences.received)} messages, ` +
      `${formatCount(sequences.missing)} missing, ` +
      `${formatCount(sequences.duplicates)} duplicates\n`,
  );
  return 0;
}

/** One line (or a few) per message, for people. */
export function describeMessage(received: ReceivedMessage): string {
  const { message, sensor } = received;
  const head = `${message.topic.padEnd(7)} ${sensor}`;
  switch (message.topic) {
    case 'status': {
      const s = message.status;
      // Held, not listed: the table also holds devices seen only as
      // destinations, which device records leave out.
      return (
        `${head} ${s.state} frames=${formatCount(s.frames)} ` +
        `devicesHeld=${formatCount(s.devicesHeld)} ` +
        `drops=${formatCount(s.kernelDroppedFrames)} ` +
        `outbox=${formatCount(s.outboxRecords)} feed=${s.feedState}`
      );
    }
    case 'devices': {
      const part =
        message.snapshot.parts > 1
          ? ` part ${message.snapshot.part}/${message.snapshot.parts}`
          : '';
      const lines = message.devices.map(
        (d) =>
          `  ${d.id.padEnd(24)} ${d.category.padEnd(CATEGORY_CHARS)} ` +
          `${[d.make, d.model].filter(Boolean).join(' ') || '-'} ` +
          `(${d.confidence.toFixed(2)}) ${tableAddresses(d.ips)}`,
      );
      return [
        `${head} ${message.kind}${part}: ${message.devices.length} devices`,
        ...lines,
      ].join('\n');
    }
    case 'flows': {
      const peers = message.summaries.flatMap((summary) =>
        summary.peers.map((peer) => ({ device: summary.deviceId, peer })),
      );
      const external = peers.filter(({ peer }) => peer.isExternal);
      const start = message.summaries[0]?.intervalStartUs ?? 0;
      const lines = external.map(
        ({ device, peer }) =>
          `  ${device.padEnd(24)} -> ${peer.peerAddress} ` +
          `${protocolName(peer.protocol)}/${peer.servicePort} external ` +
          `${formatCount(peer.packetsSent + peer.packetsReceived)} pkts`,
      );
      return [
        `${head} interval ${new Date(start / 1000).toISOString()}: ` +
          `${message.summaries.length} devices, ${peers.length} peer rows, ` +
          `${external.length} external`,
        ...lines,
      ].join('\n');
    }
    case 'alerts':
      return [
        `${head} ${message.alerts.length} alert(s)`,
        ...message.alerts.map(
          (a) =>
            `  ${a.severity.padEnd(8)} ${a.kind} ${a.deviceId}: ${a.summary}`,
        ),
      ].join('\n');
    default:
      return head;
  }
}

function protocolName(protocol: number): string {
  if (protocol === 6) return 'tcp';
  if (protocol === 17) return 'udp';
  if (protocol === 1) return 'icmp';
  if (protocol === 58) return 'icmpv6';
  return String(protocol);
}
