/**
 * The sensor's side of the stream: numbers each message per topic, writes
 * it to the on-disk outbox first, and moves the outbox to the broker in
 * order, a record leaving only after its PUBACK.
 */
import type { Logger } from 'pino';

import type { DeviceReport } from '../inventory/device.js';
import {
  decodeMessage,
  encodeAlerts,
  encodeDevices,
  encodeFlows,
  encodeStatus,
  type DevicesKind,
  type MessageHeader,
  type SensorStatus,
  type TopicKind,
} from './messages.js';
import type { MqttSession, MqttWill } from './mqtt-session.js';
import type { Outbox, OutboxRecord } from './outbox.js';
import type { AlertRecord, DeviceFlowSummary } from './records.js';

/** Schema of the payloads, sent as an MQTT 5 user property. */
export const SCHEMA_VERSION = 'spansight.v1';
/** Devices per `devices` message: a snapshot of many devices is split. */
export const DEVICES_PER_MESSAGE = 200;
/** Device summaries per `flows` message. */
export const FLOW_SUMMARIES_PER_MESSAGE = 500;
/** Outbox records read per step of the pump. */
const PUMP_BATCH_RECORDS = 16;

/** Topic names of one sensor: `<prefix>/<site>/<sensor>/<kind>`. */
export type SensorTopics = Record<TopicKind, string>;

export function sensorTopics(
  prefix: string,
  site: string,
  sensorId: string,
): SensorTopics {
  const base = `${prefix}/${site}/${sensorId}`;
  return {
    status: `${base}/status`,
    devices: `${base}/devices`,
    flows: `${base}/flows`,
    alerts: `${base}/alerts`,
    control: `${base}/control`,
  };
}

/** Who the messages come from. */
export interface SensorIdentity {
  sensorId: string;
  site: string;
  /** Random UUID drawn at agent start. */
  bootId: string;
}

/**
 * The retained status the broker publishes when the connection dies:
 * `offline`, sequence 0 (outside the sequence, which a will cannot follow).
 */
export function willFor(
  topics: SensorTopics,
  identity: SensorIdentity,
  status: SensorStatus,
): MqttWill {
  const header: MessageHeader = { ...identity, seq: 0, sentUs: nowUs() };
  return {
    topic: topics.status,
    payload: encodeStatus(header, { ...status, state: 'offline' }),
    retain: true,
    qos: 1,
  };
}

export interface PublisherOptions {
  identity: SensorIdentity;
  topics: SensorTopics;
  outbox: Outbox;
  /** The broker connection; null keeps everything in the outbox. */
  session: MqttSession | null;
  /** MQTT 5 message expiry of data messages. */
  messageExpirySec: number;
  logger: Logger;
  /** Called when a subscriber asks for a rebirth on the control topic. */
  onRebirth?: () => void;
  /** Called after each connect, once `counters.sessions` counts it. */
  onConnected?: () => void;
}

/** Counters for the status message. */
export interface PublisherCounters {
  publishedMessages: number;
  publishedBytes: number;
  publishErrors: number;
  /** Connections made this boot: the session number of the status. */
  sessions: number;
}

export class Publisher {
  readonly counters: PublisherCounters = {
    publishedMessages: 0,
    publishedBytes: 0,
    publishErrors: 0,
    sessions: 0,
  };
  private readonly options: PublisherOptions;
  private readonly log: Logger;
  private readonly seqByTopic = new Map<TopicKind, number>();
  private isPumping = false;
  private isPumpRequested = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: PublisherOptions) {
    this.options = options;
    this.log = options.logger.child({ component: 'publisher' });
    const session = options.session;
    if (session === null) return;

    session.on('connected', () => {
      this.counters.sessions++;
      options.onConnected?.();
      this.pump();
    });
    session.on('drain', () => this.pump());
    session.on('disconnected', () => {
      // What was in flight goes out again, in order, after the reconnect.
      options.outbox.releaseInFlight();
    });
    void session
      .subscribe(options.topics.control, (_topic, payload) =>
        this.onControl(payload),
      )
      .catch((err: Error) => {
        this.log.warn(
          { event: 'control_subscribe_failed', err: err.message },
          'control topic not subscribed; rebirth requests are not heard',
        );
      });
  }

  /** Publish the sensor status; retained, so a new subscriber sees it. */
  publishStatus(status: SensorStatus): Promise<void> {
    const header = this.nextHeader('status');
    return this.enqueue('status', encodeStatus(header, status), true);
  }

  /**
   * Publish devices: a full `snapshot` (birth, rebirth) split over as many
   * messages as needed, or the `changes` since the last one.
   */
  async publishDevices(
    kind: DevicesKind,
    devices: DeviceReport[],
    removedIds: string[] = [],
  ): Promise<void> {
    if (kind === 'changes' && devices.length + removedIds.length === 0) return;
    const parts = Math.max(1, Math.ceil(devices.length / DEVICES_PER_MESSAGE));
    for (let part = 1; part <= parts; part++) {
      const slice = devices.slice(
        (part - 1) * DEVICES_PER_MESSAGE,
        part * DEVICES_PER_MESSAGE,
      );
      const header = this.nextHeader('devices');
      const payload = encodeDevices(
        header,
        kind,
        slice,
        part === 1 ? removedIds : [],
        { part, parts },
      );
      await this.enqueue('devices', payload, false);
    }
  }

  /** Publish one interval's flow summaries. */
  async publishFlows(summaries: DeviceFlowSummary[]): Promise<void> {
    for (let at = 0; at < summaries.length; at += FLOW_SUMMARIES_PER_MESSAGE) {
      const slice = summaries.slice(at, at + FLOW_SUMMARIES_PER_MESSAGE);
      const header = this.nextHeader('flows');
      await this.enqueue('flows', encodeFlows(header, slice), false);
    }
  }

  async publishAlerts(alerts: AlertRecord[]): Promise<void> {
    if (alerts.length === 0) return;
    const header = this.nextHeader('alerts');
    await this.enqueue('alerts', encodeAlerts(header, alerts), false);
  }

  /**
   * Resolve once the outbox holds nothing unacknowledged, or with false
   * after `timeoutMs` (the broker is away: the outbox keeps the rest).
   */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.options.outbox.counters().records === 0) return true;
    this.pump();
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(false);
      }, timeoutMs);
      const onIdle = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  private nextHeader(kind: TopicKind): MessageHeader {
    const seq = (this.seqByTopic.get(kind) ?? 0) + 1;
    this.seqByTopic.set(kind, seq);
    return { ...this.options.identity, seq, sentUs: nowUs() };
  }

  private async enqueue(
    kind: TopicKind,
    payload: Uint8Array,
    retain: boolean,
  ): Promise<void> {
    const expirySec = this.options.messageExpirySec;
    await this.options.outbox.append({
      topic: this.options.topics[kind],
      payload,
      retain,
      expiresAtMs: expirySec > 0 ? Date.now() + expirySec * 1000 : undefined,
    });
    this.pump();
  }

  /**
   * Hand pending outbox records to the session while it has room. One pump
   * runs at a time; a request during a run makes it go round again.
   */
  private pump(): void {
    if (this.isPumping) {
      this.isPumpRequested = true;
      return;
    }
    this.isPumping = true;
    void this.pumpRecords()
      .catch((err: Error) => {
        this.log.error(
          { event: 'outbox_read_failed', err: err.message },
          'outbox could not be read; messages wait on disk',
        );
      })
      .finally(() => {
        this.isPumping = false;
        if (this.isPumpRequested) {
          this.isPumpRequested = false;
          this.pump();
        }
      });
  }

  private async pumpRecords(): Promise<void> {
    const { outbox, session } = this.options;
    for (;;) {
      this.isPumpRequested = false;
      if (outbox.counters().records === 0) {
        this.notifyIdle();
        return;
      }
      if (session === null || !session.canPublish()) return;
      const records = await outbox.peek(PUMP_BATCH_RECORDS);
      if (records.length === 0) return;
      for (const record of records) {
        if (!session.canPublish()) return;
        if (!outbox.markInFlight(record.id)) continue;
        this.send(session, record);
      }
    }
  }

  private send(session: MqttSession, record: OutboxRecord): void {
    const expiryMs = record.remainingExpiryMs;
    session
      .publish(record.topic, record.payload, {
        qos: 1,
        retain: record.retain,
        messageExpirySec:
          expiryMs === undefined ? undefined : Math.ceil(expiryMs / 1000),
        userProperties: { schema: SCHEMA_VERSION },
      })
      .then(
        () => {
          this.options.outbox.ack(record.id);
          this.counters.publishedMessages++;
          this.counters.publishedBytes += record.payload.length;
          this.pump();
        },
        () => {
          // The record stays in flight until the disconnect releases it, so
          // a broker that refuses it is not asked again in a tight loop.
          this.counters.publishErrors++;
        },
      );
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private onControl(payload: Uint8Array): void {
    let message;
    try {
      message = decodeMessage('control', payload);
    } catch (err) {
      this.log.warn(
        { event: 'control_message_invalid', err: (err as Error).message },
        'ignored a control message that does not decode',
      );
      return;
    }
    if (message.topic === 'control' && message.control.rebirth !== null) {
      this.log.info({ event: 'rebirth_requested' }, 'rebirth requested');
      this.options.onRebirth?.();
    }
  }
}

function nowUs(): number {
  return Date.now() * 1000;
}
