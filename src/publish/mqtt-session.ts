/**
 * The sensor's MQTT session on mqtt.js: MQTT 5 with 3.1.1 fallback, (mutual)
 * TLS, our own jittered reconnects, QoS 1 publishes that settle on PUBACK.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  connect,
  type IClientOptions,
  type IClientPublishOptions,
  type IConnackPacket,
  type IDisconnectPacket,
  type IPublishPacket,
  type ISubscriptionGrant,
  type MqttClient,
} from 'mqtt';
import { pino, type Logger } from 'pino';
import {
  backoffDelayMs,
  type BackoffOptions,
  type RandomSource,
} from './mqtt-backoff.js';
import {
  classifyConnectError,
  connectTimeoutError,
  isProtocolVersionRefusal,
  tlsHandshakeClosedError,
  MqttErrorCode,
  MqttSessionError,
  type ConnectContext,
} from './mqtt-errors.js';
import { topicMatchesFilter } from './mqtt-topic.js';

export { MqttErrorCode, MqttSessionError } from './mqtt-errors.js';
export type { MqttErrorCodeId } from './mqtt-errors.js';

/** The last will: published by the broker when the connection dies. */
export interface MqttWill {
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  qos: 0 | 1;
}

/** Options of `MqttSession`. */
export interface MqttSessionOptions {
  /** `mqtt://host[:port]` or `mqtts://host[:port]`; no credentials in it. */
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /**
   * File holding the password (one line), read at every connection attempt
   * like the TLS files, so a rotated password needs no restart.
   */
  passwordFile?: string;
  /** PEM CA that must sign the broker's certificate (pinned trust). */
  caFile?: string;
  /** PEM client certificate and key for mutual TLS; both or neither. */
  certFile?: string;
  keyFile?: string;
  /** 5 (default, falls back to 4 when the broker refuses 5) or 4 (3.1.1). */
  protocolVersion?: 5 | 4;
  /** MQTT keep-alive, seconds; default 30. */
  keepaliveSec?: number;
  /** Time allowed for TCP, TLS and CONNACK together; default 10000. */
  connectTimeoutMs?: number;
  /**
   * The last will, or a function giving it for each connection attempt (a
   * will that names its connection, so a stale one can be recognised).
   */
  will?: MqttWill | (() => MqttWill);
  /** Reconnect back-off; default 500 ms initial cap, 60 s max cap. */
  backoff?: BackoffOptions;
  /**
   * Slowest pace for retries after a refusal that needs a person (bad
   * credentials, certificate): the delay is at least half of this; default
   * 60000.
   */
  configRetryMs?: number;
  /** Most unacknowledged QoS 1 publishes at once; default 32. */
  maxInFlight?: number;
  /** Pino-compatible logger; a child with `component: 'mqtt'` is used. */
  logger?: Logger;
  /** Random source for jitter; tests pass a seeded one. */
  random?: RandomSource;
}

/** Options of one `publish`. */
export interface MqttPublishOptions {
  /** 1 (default): settles on PUBACK. 0: settles once written. */
  qos?: 0 | 1;
  retain?: boolean;
  /** MQTT 5 message expiry; dropped on 3.1.1. */
  messageExpirySec?: number;
  /** MQTT 5 user properties (e.g. schema version); dropped on 3.1.1. */
  userProperties?: Record<string, string>;
  /** MQTT 5 response topic and correlation data; dropped on 3.1.1. */
  responseTopic?: string;
  correlationData?: Uint8Array;
}

/** What a control-topic handler gets besides topic and payload. */
export interface MqttMessageMeta {
  retain: boolean;
  /** MQTT 5 properties; undefined on 3.1.1. */
  responseTopic: string | undefined;
  correlationData: Uint8Array | undefined;
  userProperties: Record<string, string | string[]> | undefined;
}

/** Handler of messages on a subscribed control topic. */
export type MqttMessageHandler = (
  topic: string,
  payload: Uint8Array,
  meta: MqttMessageMeta,
) => void;

/** Payload of the `connected` event. */
export interface MqttConnectedInfo {
  /** Negotiated protocol level: 5, or 4 after a fallback. */
  protocolVersion: 5 | 4;
  sessionPresent: boolean;
  /** Failed attempts before this connection since the last one. */
  failedAttempts: number;
  /** In-flight window: `maxInFlight`, lowered to the broker's maximum. */
  inFlightLimit: number;
}

/** Payload of the `disconnected` event. */
export interface MqttDisconnectedInfo {
  /** Why, in words fit for a log line. */
  reason: string;
  /** MQTT 5 DISCONNECT reason code from the broker, when it sent one. */
  reasonCode: number | undefined;
  /** Publishes that were waiting for PUBACK and were rejected. */
  rejectedInFlight: number;
}

/** Payload of the `connectFailed` event. */
export interface MqttConnectFailedInfo {
  error: MqttSessionError;
  /** Consecutive failures, this one included. */
  attempt: number;
  retryInMs: number;
}

/** Events of `MqttSession`. */
export interface MqttSessionEvents {
  connected: [MqttConnectedInfo];
  disconnected: [MqttDisconnectedInfo];
  connectFailed: [MqttConnectFailedInfo];
  /** The in-flight window has room again (also after each connect). */
  drain: [];
  closed: [];
}

/** Options of `close`. */
export interface MqttCloseOptions {
  /** Time to wait for PUBACKs and the DISCONNECT; default 2000. */
  flushMs?: number;
}

type SessionState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

interface InFlight {
  resolve: () => void;
  reject: (err: MqttSessionError) => void;
}

/** A checked MQTT broker address. */
export interface ParsedUrl {
  isTls: boolean;
  /** Host name or IP (IPv6 without brackets). */
  host: string;
  port: number;
}

const DEFAULT_KEEPALIVE_SEC = 30;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 60_000 };
const DEFAULT_CONFIG_RETRY_MS = 60_000;
const DEFAULT_MAX_IN_FLIGHT = 32;
const DEFAULT_FLUSH_MS = 2_000;
const MQTT_DEFAULT_PORT = 1883;
const MQTTS_DEFAULT_PORT = 8883;
// Let our own connect timer fire first; mqtt.js's would end silently.
const MQTTJS_TIMEOUT_SLACK_MS = 5_000;

/**
 * One logical MQTT connection that keeps itself up. Construct (validates the
 * options, throws `MqttSessionError`), attach listeners, then `start()`.
 * Nothing is queued here beyond the in-flight window: a rejected publish
 * stays in the caller's outbox.
 */
export class MqttSession extends EventEmitter<MqttSessionEvents> {
  private readonly options: MqttSessionOptions;
  private readonly url: ParsedUrl;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly backoff: BackoffOptions;
  private readonly maxInFlight: number;
  private readonly connectTimeoutMs: number;

  private state: SessionState = 'idle';
  private protocolVersion: 5 | 4;
  private client: MqttClient | null = null;
  // Bumped per attempt so late events of an abandoned client are ignored.
  private generation = 0;
  private attemptError: MqttSessionError | null = null;
  private lastConnectError: MqttSessionError | null = null;
  private disconnectReasonCode: number | undefined = undefined;
  private failures = 0;
  private connectedAtMs = 0;
  private connectTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private loggedState = '';
  private isTlsHandshakeDone = false;

  private inFlightLimit: number;
  private nextInFlightId = 0;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly handlers = new Map<string, MqttMessageHandler>();

  constructor(options: MqttSessionOptions) {
    super();
    this.options = options;
    this.url = parseMqttUrl(options.url);
    validateOptions(options, this.url);
    // Fail at startup, not at the first connect, when a file is missing.
    readTlsFiles(options);
    if (options.passwordFile !== undefined) {
      readPasswordFile(options.passwordFile);
    }
    this.log = (options.logger ?? pino({ level: 'silent' })).child({
      component: 'mqtt',
    });
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.inFlightLimit = this.maxInFlight;
    this.connectTimeoutMs =
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.protocolVersion = options.protocolVersion ?? 5;
  }

  /** Begin connecting; reconnects follow by themselves until `close()`. */
  start(): void {
    if (this.state !== 'idle') return;
    this.log.info(
      {
        event: 'mqtt_start',
        host: this.url.host,
        port: this.url.port,
        isTls: this.url.isTls,
        isMutualTls: this.options.certFile !== undefined,
        protocolVersion: this.protocolVersion,
      },
      'MQTT session starting',
    );
    this.connectAttempt();
  }

  /** True while connected. */
  isConnected(): boolean {
    return this.state === 'connected';
  }

  /** True when `publish` would be accepted now (connected, window open). */
  canPublish(): boolean {
    return this.isConnected() && this.inFlight.size < this.inFlightLimit;
  }

  /** Publishes waiting for PUBACK. */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The protocol level used by the current or next attempt. */
  currentProtocolVersion(): 5 | 4 {
    return this.protocolVersion;
  }

  /**
   * Resolve once connected; reject after `timeoutMs` with the last connect
   * error (or `E_MQTT_UNREACHABLE` when no attempt finished yet).
   */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.isConnected()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let lastError = this.lastConnectError;
      const onFailed = (info: MqttConnectFailedInfo): void => {
        lastError = info.error;
      };
      const onConnected = (): void => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          lastError ??
            new MqttSessionError(
              MqttErrorCode.Unreachable,
              `not connected to ${this.url.host}:${this.url.port} ` +
                `within ${timeoutMs} ms`,
            ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('connected', onConnected);
        this.off('connectFailed', onFailed);
      };
      this.on('connected', onConnected);
      this.on('connectFailed', onFailed);
    });
  }

  /**
   * Publish `payload` (not copied: do not modify it until settled). QoS 1
   * resolves on PUBACK and rejects with `E_MQTT_DISCONNECTED` when the
   * connection drops first, `E_MQTT_OFFLINE` when not connected, `E_MQTT_BUSY`
   * when the in-flight window is full. MQTT 5 properties are dropped on 3.1.1.
   * Throws `RangeError` for an empty topic or one with wildcards (a bug).
   */
  publish(
    topic: string,
    payload: Uint8Array,
    options: MqttPublishOptions = {},
  ): Promise<void> {
    // A wildcard or empty topic is a bug in the caller, not an outage.
    if (!isValidPublishTopic(topic)) {
      throw new RangeError(`invalid MQTT publish topic "${topic}"`);
    }
    const client = this.client;
    if (this.state === 'closed') {
      return Promise.reject(closedError());
    }
    if (this.state !== 'connected' || client === null) {
      return Promise.reject(
        new MqttSessionError(
          MqttErrorCode.Offline,
          'MQTT session not connected; keep the message and retry later',
        ),
      );
    }
    if (this.inFlight.size >= this.inFlightLimit) {
      return Promise.reject(
        new MqttSessionError(
          MqttErrorCode.Busy,
          `MQTT in-flight window full (${this.inFlightLimit}); wait for drain`,
        ),
      );
    }
    const publishOptions: IClientPublishOptions = {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
    };
    if (this.protocolVersion === 5) {
      publishOptions.properties = publishProperties(options);
    }
    const id = this.nextInFlightId++;
    return new Promise<void>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      client.publish(topic, toBuffer(payload), publishOptions, (err) => {
        const entry = this.inFlight.get(id);
        if (entry === undefined) return;
        this.settleInFlight(id);
        if (err) {
          entry.reject(publishError(err));
        } else {
          entry.resolve();
        }
      });
    });
  }

  /**
   * Subscribe `handler` to `filter` (QoS 1), now when connected and again
   * after every reconnect. Resolves on SUBACK (or at once while offline);
   * rejects with `E_MQTT_BROKER_REFUSED` when the broker refuses the filter.
   */
  subscribe(filter: string, handler: MqttMessageHandler): Promise<void> {
    if (this.state === 'closed') return Promise.reject(closedError());
    this.handlers.set(filter, handler);
    const client = this.client;
    if (this.state !== 'connected' || client === null) {
      return Promise.resolve();
    }
    return subscribeOnce(client, filter);
  }

  /** Stop delivering `filter` to its handler and unsubscribe when online. */
  unsubscribe(filter: string): void {
    if (!this.handlers.delete(filter)) return;
    if (this.state === 'connected' && this.client !== null) {
      this.client.unsubscribe(filter);
    }
  }

  /**
   * Connect now if a retry is waiting out its back-off: a sensor that is
   * stopping with records to deliver has seconds left, not a whole delay.
   */
  retryNow(): void {
    if (this.state !== 'waiting') return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.connectAttempt();
  }

  /**
   * Wait up to `flushMs` for in-flight PUBACKs, send DISCONNECT (normal: the
   * broker discards the will), and stop reconnecting. Publishes still in
   * flight afterwards reject with `E_MQTT_CLOSED`.
   */
  async close(options: MqttCloseOptions = {}): Promise<void> {
    if (this.state === 'closed') return;
    const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    const deadlineMs = Date.now() + flushMs;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.clearTimers();
    const client = this.client;
    this.client = null;
    this.generation++;
    if (client !== null && wasConnected) {
      await this.waitInFlightEmpty(deadlineMs);
      await endGracefully(client, Math.max(deadlineMs - Date.now(), 0));
    } else if (client !== null) {
      abandonClient(client);
    }
    this.rejectAllInFlight(closedError());
    this.log.info(
      { event: 'mqtt_closed', wasConnected },
      'MQTT session closed',
    );
    this.emit('closed');
  }

  private connectAttempt(): void {
    this.retryTimer = null;
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.attemptError = null;
    this.disconnectReasonCode = undefined;
    const generation = ++this.generation;
    let clientOptions: IClientOptions;
    try {
      clientOptions = this.clientOptions();
    } catch (err) {
      this.attemptError = classifyConnectError(err, this.context());
      this.attemptEnded(generation);
      return;
    }
    this.isTlsHandshakeDone = false;
    const client = connect(clientOptions);
    this.client = client;
    // mqtt.js builds the socket synchronously; a reset before this event is
    // a TLS refusal, not an unreachable broker.
    client.stream?.once('secureConnect', () => {
      if (generation === this.generation) this.isTlsHandshakeDone = true;
    });
    this.connectTimer = setTimeout(() => {
      if (generation !== this.generation) return;
      this.attemptError = connectTimeoutError(
        this.context(),
        this.connectTimeoutMs,
      );
      this.attemptEnded(generation);
    }, this.connectTimeoutMs);

    client.on('connect', (connack: IConnackPacket) => {
      if (generation === this.generation) this.onConnected(connack);
    });
    client.on('error', (err: Error) => {
      if (generation !== this.generation) return;
      // TLS failures arrive twice from mqtt.js; the first is the precise one.
      if (this.state === 'connecting' && this.attemptError === null) {
        this.attemptError = classifyConnectError(err, this.context());
      } else if (this.state === 'connected') {
        this.log.debug({ event: 'mqtt_client_error', err }, 'client error');
      }
    });
    client.on('disconnect', (packet: IDisconnectPacket) => {
      if (generation === this.generation) {
        this.disconnectReasonCode = packet.reasonCode;
      }
    });
    client.on('close', () => {
      if (generation === this.generation) this.attemptEnded(generation);
    });
    client.on('message', (topic, payload, packet) => {
      if (generation === this.generation) {
        this.dispatch(topic, payload, packet);
      }
    });
  }

  private onConnected(connack: IConnackPacket): void {
    this.clearTimers();
    this.lastConnectError = null;
    this.state = 'connected';
    this.connectedAtMs = Date.now();
    const receiveMaximum = connack.properties?.receiveMaximum;
    this.inFlightLimit =
      receiveMaximum !== undefined && receiveMaximum > 0
        ? Math.min(this.maxInFlight, receiveMaximum)
        : this.maxInFlight;
    const info: MqttConnectedInfo = {
      protocolVersion: this.protocolVersion,
      sessionPresent: connack.sessionPresent,
      failedAttempts: this.failures,
      inFlightLimit: this.inFlightLimit,
    };
    this.failures = 0;
    this.loggedState = 'connected';
    this.log.info(
      { event: 'mqtt_connected', ...info },
      'MQTT session connected',
    );
    const client = this.client;
    if (client !== null) {
      for (const filter of this.handlers.keys()) {
        subscribeOnce(client, filter).catch((err: MqttSessionError) => {
          this.log.warn(
            { event: 'mqtt_resubscribe_failed', code: err.code, filter },
            err.message,
          );
        });
      }
    }
    this.emit('connected', info);
    this.emit('drain');
  }

  // One connection attempt or connection is over: report and schedule.
  private attemptEnded(generation: number): void {
    if (generation !== this.generation || this.state === 'closed') return;
    this.generation++;
    this.clearTimers();
    const client = this.client;
    this.client = null;
    // Reject in-flight publishes with our reason before mqtt.js flushes them.
    if (this.state === 'connected') this.onDisconnected();
    if (client !== null) abandonClient(client);
    if (this.state !== 'connecting') return;
    const error = this.attemptError ?? connectionClosedError(this.context());
    const reasonCode = error.causeCode;
    // Limitation: the fallback is sticky for the session's life, and a broker
    // that drops a 5.0 CONNECT without a CONNACK code gets no fallback.
    if (
      this.protocolVersion === 5 &&
      this.options.protocolVersion !== 4 &&
      typeof reasonCode === 'number' &&
      isProtocolVersionRefusal(reasonCode)
    ) {
      this.protocolVersion = 4;
      this.log.info(
        { event: 'mqtt_protocol_fallback', protocolVersion: 4, reasonCode },
        'broker refused MQTT 5; using MQTT 3.1.1',
      );
      this.scheduleRetry(0);
      return;
    }
    this.failures++;
    this.lastConnectError = error;
    const retryInMs = this.retryDelayMs(error);
    this.reportFailure(error, retryInMs);
    this.emit('connectFailed', { error, attempt: this.failures, retryInMs });
    this.scheduleRetry(retryInMs);
  }

  private onDisconnected(): void {
    const error = this.attemptError;
    const reasonCode = this.disconnectReasonCode;
    const reason =
      reasonCode !== undefined
        ? `broker sent DISCONNECT (reason code ${reasonCode})`
        : (error?.message ??
          `connection to ${this.url.host}:${this.url.port} closed`);
    // A connection that held for a whole max back-off resets the back-off;
    // one that flaps keeps growing it.
    if (Date.now() - this.connectedAtMs < this.backoff.maxMs) {
      this.failures++;
    }
    const rejectedInFlight = this.inFlight.size;
    this.rejectAllInFlight(
      new MqttSessionError(
        MqttErrorCode.Disconnected,
        `MQTT connection lost before PUBACK (${reason})`,
      ),
    );
    const retryInMs = backoffDelayMs(
      Math.max(this.failures - 1, 0),
      this.backoff,
      this.random,
    );
    this.loggedState = 'disconnected';
    this.log.warn(
      { event: 'mqtt_disconnected', reasonCode, rejectedInFlight, retryInMs },
      `MQTT connection lost: ${reason}`,
    );
    this.emit('disconnected', { reason, reasonCode, rejectedInFlight });
    this.scheduleRetry(retryInMs);
  }

  private retryDelayMs(error: MqttSessionError): number {
    const delayMs = backoffDelayMs(
      this.failures - 1,
      this.backoff,
      this.random,
    );
    const needsPerson =
      error.code === MqttErrorCode.Auth ||
      error.code === MqttErrorCode.Tls ||
      error.code === MqttErrorCode.ConfigInvalid;
    if (!needsPerson) return delayMs;
    // Hammering a broker with refused credentials helps nobody and may get
    // the sensor banned; retry slowly until someone fixes the config.
    const slowMs = this.options.configRetryMs ?? DEFAULT_CONFIG_RETRY_MS;
    return Math.max(delayMs, Math.floor(slowMs * (0.5 + 0.5 * this.random())));
  }

  // Warn once per change of failure kind, not once per retry.
  private reportFailure(error: MqttSessionError, retryInMs: number): void {
    const fields = {
      event: 'mqtt_connect_failed',
      code: error.code,
      causeCode: error.causeCode,
      attempt: this.failures,
      retryInMs,
    };
    if (this.loggedState === error.code) {
      this.log.debug(fields, error.message);
      return;
    }
    this.loggedState = error.code;
    this.log.warn(fields, error.message);
  }

  private scheduleRetry(delayMs: number): void {
    if (this.state === 'closed') return;
    this.state = 'waiting';
    this.retryTimer = setTimeout(() => this.connectAttempt(), delayMs);
  }

  private dispatch(topic: string, payload: Buffer, packet: IPublishPacket) {
    const properties = packet.properties;
    const meta: MqttMessageMeta = {
      retain: packet.retain,
      responseTopic: properties?.responseTopic,
      correlationData: properties?.correlationData,
      userProperties: properties?.userProperties,
    };
    for (const [filter, handler] of this.handlers) {
      if (!topicMatchesFilter(filter, topic)) continue;
      try {
        handler(topic, payload, meta);
      } catch (err) {
        // A throwing handler is a bug; log it without the payload.
        this.log.error(
          { event: 'mqtt_handler_failed', filter, err },
          'control topic handler threw',
        );
      }
    }
  }

  private settleInFlight(id: number): void {
    const wasFull = this.inFlight.size >= this.inFlightLimit;
    this.inFlight.delete(id);
    if (wasFull && this.canPublish()) this.emit('drain');
  }

  private rejectAllInFlight(error: MqttSessionError): void {
    const entries = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const entry of entries) entry.reject(error);
  }

  private async waitInFlightEmpty(deadlineMs: number): Promise<void> {
    while (this.inFlight.size > 0 && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private clearTimers(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.connectTimer = null;
    this.retryTimer = null;
  }

  private context(): ConnectContext {
    return {
      host: this.url.host,
      port: this.url.port,
      isTls: this.url.isTls,
      isTlsHandshakeDone: this.isTlsHandshakeDone,
      caFile: this.options.caFile,
      certFile: this.options.certFile,
      hasUsername: this.options.username !== undefined,
      protocolVersion: this.protocolVersion,
    };
  }

  private clientOptions(): IClientOptions {
    const options = this.options;
    const clientOptions: IClientOptions = {
      protocol: this.url.isTls ? 'mqtts' : 'mqtt',
      host: this.url.host,
      hostname: this.url.host,
      port: this.url.port,
      clientId: options.clientId,
      protocolVersion: this.protocolVersion,
      keepalive: options.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC,
      connectTimeout: this.connectTimeoutMs + MQTTJS_TIMEOUT_SLACK_MS,
      // We drive reconnects (jittered back-off) and resubscribe ourselves.
      reconnectPeriod: 0,
      resubscribe: false,
      clean: true,
      queueQoSZero: false,
    };
    if (options.username !== undefined) {
      clientOptions.username = options.username;
    }
    if (options.password !== undefined) {
      clientOptions.password = options.password;
    }
    if (options.passwordFile !== undefined) {
      clientOptions.password = readPasswordFile(options.passwordFile);
    }
    if (options.will) {
      const will =
        typeof options.will === 'function' ? options.will() : options.will;
      clientOptions.will = {
        topic: will.topic,
        payload: toBuffer(will.payload),
        qos: will.qos,
        retain: will.retain,
      };
    }
    if (this.url.isTls) {
      // Re-read per attempt so a renewed certificate is used on reconnect.
      const files = readTlsFiles(options);
      clientOptions.rejectUnauthorized = true;
      if (files.ca) clientOptions.ca = files.ca;
      if (files.cert) clientOptions.cert = files.cert;
      if (files.key) clientOptions.key = files.key;
    }
    return clientOptions;
  }
}

/**
 * Parse and check an MQTT URL: scheme `mqtt:` or `mqtts:`, a host, a port in
 * 1-65535 (default 1883 / 8883), no credentials, path, query or fragment.
 * Throws `MqttSessionError` `E_MQTT_BAD_URL` naming the value.
 */
export function parseMqttUrl(value: string): ParsedUrl {
  const bad = (why: string): MqttSessionError =>
    new MqttSessionError(
      MqttErrorCode.BadUrl,
      `bad MQTT url "${redactUrl(value)}": ${why}`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('not a URL (expected mqtt://host:port or mqtts://host:port)');
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    throw bad(`scheme "${url.protocol}" is not mqtt: or mqtts:`);
  }
  if (url.username !== '' || url.password !== '') {
    throw bad('credentials in the URL; use the username/password options');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw bad('no host');
  const isTls = url.protocol === 'mqtts:';
  const port =
    url.port === ''
      ? isTls
        ? MQTTS_DEFAULT_PORT
        : MQTT_DEFAULT_PORT
      : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad(`port ${url.port} outside 1-65535`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) {
    throw bad('path, query or fragment are not supported');
  }
  return { isTls, host, port };
}

function validateOptions(options: MqttSessionOptions, url: ParsedUrl): void {
  const invalid = (why: string): MqttSessionError =>
    new MqttSessionError(MqttErrorCode.ConfigInvalid, `MQTT options: ${why}`);
  if (!url.isTls && (options.caFile || options.certFile || options.keyFile)) {
    // Never let TLS settings beside a plaintext URL look like protection.
    throw invalid('caFile/certFile/keyFile need an mqtts:// url');
  }
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw invalid('certFile and keyFile go together');
  }
  if (options.clientId === '' || options.clientId.length > 65535) {
    throw invalid('clientId must be 1-65535 characters');
  }
  if (options.password !== undefined && options.username === undefined) {
    throw invalid('password without username');
  }
  const backoff = options.backoff;
  if (
    backoff &&
    !(backoff.initialMs > 0 && backoff.maxMs >= backoff.initialMs)
  ) {
    throw invalid('backoff needs 0 < initialMs <= maxMs');
  }
  if (options.maxInFlight !== undefined && !(options.maxInFlight >= 1)) {
    throw invalid('maxInFlight must be at least 1');
  }
}

interface TlsMaterial {
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
}

function readTlsFiles(options: MqttSessionOptions): TlsMaterial {
  const read = (name: string, path: string | undefined) =>
    path === undefined ? undefined : readOptionFile(name, path);
  return {
    ca: read('caFile', options.caFile),
    cert: read('certFile', options.certFile),
    key: read('keyFile', options.keyFile),
  };
}

/** The password file's first line (a trailing newline is not part of it). */
function readPasswordFile(path: string): string {
  return readOptionFile('passwordFile', path)
    .toString('utf8')
    .split(/\r?\n/)[0];
}

function readOptionFile(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new MqttSessionError(
      MqttErrorCode.ConfigInvalid,
      `MQTT options: cannot read ${name} ${path} (${code})`,
      code,
    );
  }
}

function publishProperties(
  options: MqttPublishOptions,
): IClientPublishOptions['properties'] {
  const properties: NonNullable<IClientPublishOptions['properties']> = {};
  if (options.messageExpirySec !== undefined) {
    properties.messageExpiryInterval = options.messageExpirySec;
  }
  if (options.userProperties !== undefined) {
    properties.userProperties = options.userProperties;
  }
  if (options.responseTopic !== undefined) {
    properties.responseTopic = options.responseTopic;
  }
  if (options.correlationData !== undefined) {
    properties.correlationData = toBuffer(options.correlationData);
  }
  return properties;
}

/** MQTT 5.0 section 4.7: no wildcards or NUL, 1 to 65535 UTF-8 bytes. */
function isValidPublishTopic(topic: string): boolean {
  if (topic === '' || Buffer.byteLength(topic) > 65535) return false;
  return !/[+#\u0000]/.test(topic);
}

function subscribeOnce(client: MqttClient, filter: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      if (err) {
        reject(publishError(err));
        return;
      }
      const refused = (granted ?? []).find(
        (grant: ISubscriptionGrant) => grant.qos >= 0x80,
      );
      if (refused) {
        reject(
          new MqttSessionError(
            MqttErrorCode.RefusedByBroker,
            `broker refused subscription to "${filter}" ` +
              `(reason code ${refused.qos}); check the broker's ACL`,
            refused.qos,
          ),
        );
        return;
      }
      resolve();
    });
  });
}

function publishError(err: Error): MqttSessionError {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') {
    return new MqttSessionError(
      MqttErrorCode.RefusedByBroker,
      `broker refused the message (reason code ${code}); check the ACL`,
      code,
    );
  }
  return new MqttSessionError(
    MqttErrorCode.Disconnected,
    `MQTT connection lost before PUBACK (${err.message})`,
  );
}

function closedError(): MqttSessionError {
  return new MqttSessionError(MqttErrorCode.Closed, 'MQTT session closed');
}

function connectionClosedError(ctx: ConnectContext): MqttSessionError {
  if (ctx.isTls && !ctx.isTlsHandshakeDone) return tlsHandshakeClosedError(ctx);
  return new MqttSessionError(
    MqttErrorCode.Unreachable,
    `MQTT broker ${ctx.host}:${ctx.port} closed the connection before ` +
      'CONNACK' +
      (ctx.isTls ? '; check the client certificate and TLS settings' : ''),
  );
}

// Stop an mqtt.js client without DISCONNECT; later errors are swallowed
// because an 'error' event without a listener would throw.
function abandonClient(client: MqttClient): void {
  client.removeAllListeners();
  client.on('error', () => undefined);
  client.end(true);
}

function endGracefully(client: MqttClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    client.removeAllListeners();
    client.on('error', () => undefined);
    const timer = setTimeout(() => {
      client.end(true);
      resolve();
    }, timeoutMs);
    client.end(false, { reasonCode: 0 }, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function redactUrl(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@');
}
