/**
 * The sensor agent: wires a frame source (mirror port or capture file)
 * through decode, flows and inventory to the publisher, and keeps it
 * healthy: status, birth and rebirth, SIGHUP reload, clean stop.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';

import type { Logger } from 'pino';

import {
  LiveCapture,
  runCaptureLoop,
  type FeedLossReason,
} from './capture/live-capture.js';
import { replayCaptureFile } from './capture/replay.js';
import type { Config } from './control/config.js';
import type { Inventory } from './inventory/inventory.js';
import type { PacketPipeline } from './pipeline.js';
import {
  startEmbeddedBroker,
  type EmbeddedBroker,
} from './publish/embedded-broker.js';
import { MqttSession } from './publish/mqtt-session.js';
import { Outbox } from './publish/outbox.js';
import {
  Publisher,
  sensorTopics,
  willFor,
  type SensorIdentity,
} from './publish/publisher.js';
import { SensorStream } from './publish/sensor-stream.js';

/** SIGTERM to exit: the outbox gets what is left of it. */
export const STOP_FLUSH_MS = 3_500;
/** An outbox segment: small enough that acked data leaves the disk soon. */
const OUTBOX_SEGMENT_BYTES = 4 * 1024 * 1024;

export interface AgentOptions {
  config: Config;
  logger: Logger;
  /** Software version, reported in status. */
  version: string;
  /**
   * Called from the frame loop after each batch with the running total of
   * frames (a watchdog's proof of progress), or with the same total when
   * the loop checked a quiet source.
   */
  onProgress?: (frames: number) => void;
  /** Called when a live capture checked its source and found it quiet. */
  onIdle?: () => void;
}

/** What a finished run did, for the command line's last words. */
export interface AgentSummary {
  frames: number;
  /** Devices that sent something: those the inventory reports. */
  devices: number;
  /** Devices in the table, receivers seen only as destinations included. */
  devicesHeld: number;
  intervals: number;
  publishedMessages: number;
  /** Messages still in the outbox (the broker did not take them in time). */
  outboxRecords: number;
  brokerUrl: string | null;
}

export class Agent {
  readonly identity: SensorIdentity;
  readonly inventory: Inventory;
  readonly pipeline: PacketPipeline;
  private readonly config: Config;
  private readonly logger: Logger;
  private readonly log: Logger;
  private readonly onProgress: (frames: number) => void;
  private readonly onIdle: () => void;
  private readonly stream: SensorStream;
  private readonly stopController = new AbortController();
  private embeddedBroker: EmbeddedBroker | null = null;
  private session: MqttSession | null = null;
  private outbox: Outbox | null = null;
  private publisher: Publisher | null = null;
  private statusTimer: NodeJS.Timeout | null = null;

  constructor(options: AgentOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.log = options.logger.child({ component: 'agent' });
    this.onProgress = options.onProgress ?? (() => undefined);
    this.onIdle = options.onIdle ?? (() => undefined);
    this.identity = {
      sensorId: options.config.sensor.id,
      site: options.config.sensor.site,
      bootId: randomUUID(),
    };
    this.stream = new SensorStream({
      config: options.config,
      version: options.version,
      log: this.log,
    });
    this.inventory = this.stream.inventory;
    this.pipeline = this.stream.pipeline;
  }

  /**
   * Connect the publishing side: the outbox in the state directory and the
   * broker session (or the embedded broker). Then publish the birth.
   */
  async start(): Promise<void> {
    const publish = this.config.publish;
    if (publish.broker === null) {
      this.log.info({ event: 'publish_off' }, 'no broker configured');
      return;
    }

    let url = publish.broker;
    if (url === 'embedded') {
      this.embeddedBroker = await startEmbeddedBroker();
      url = this.embeddedBroker.url;
      this.log.info(
        { event: 'embedded_broker_started', port: this.embeddedBroker.port },
        'embedded MQTT broker listening on loopback',
      );
    }

    this.outbox = await Outbox.open(
      join(this.config.sensor.stateDir, 'outbox'),
      {
        maxBytes: publish.outboxMaxBytes,
        segmentBytes: Math.min(OUTBOX_SEGMENT_BYTES, publish.outboxMaxBytes),
        logger: this.logger,
      },
    );
    const topics = sensorTopics(
      publish.topicPrefix,
      this.identity.site,
      this.identity.sensorId,
    );
    this.session = new MqttSession({
      url,
      clientId: `spansight-${this.identity.sensorId}`,
      username: publish.username ?? undefined,
      passwordFile: publish.passwordFile ?? undefined,
      caFile: publish.caFile ?? undefined,
      certFile: publish.certFile ?? undefined,
      keyFile: publish.keyFile ?? undefined,
      protocolVersion: publish.protocolVersion,
      keepaliveSec: publish.keepaliveSec,
      // The will names the connection it belongs to (the next session), so
      // a subscriber can tell a stale will from a current one.
      will: () =>
        willFor(topics, this.identity, {
          ...this.stream.status('offline'),
          session: (this.publisher?.counters.sessions ?? 0) + 1,
        }),
      logger: this.logger,
    });
    this.publisher = new Publisher({
      identity: this.identity,
      topics,
      outbox: this.outbox,
      session: this.session,
      messageExpirySec: publish.messageExpirySec,
      logger: this.logger,
      onRebirth: () => this.stream.publishBirth(),
      // The birth announces the first connection; later ones say online
      // again, replacing the retained will of the lost connection.
      onConnected: () => {
        if ((this.publisher?.counters.sessions ?? 0) > 1) {
          this.stream.publishStatus('online');
        }
      },
    });
    this.stream.attach(this.publisher, this.outbox);
    this.session.start();
    this.stream.publishBirth();
    this.statusTimer = setInterval(
      () => this.stream.publishStatus('online'),
      publish.statusIntervalSec * 1000,
    );
    this.statusTimer.unref();
  }

  /** Replay the configured capture file; resolves when it has been read. */
  async replayFile(path: string): Promise<number> {
    const summary = await replayCaptureFile(path, this.pipeline, {
      pace: this.config.capture.replaySpeed,
      signal: this.stopController.signal,
      // Closed intervals are published before more frames are read, so a
      // fast replay cannot run ahead of the outbox.
      afterBatch: () => {
        this.onProgress(this.pipeline.frames);
        return this.stream.publishing;
      },
    });
    return summary.frames;
  }

  /**
   * Capture live on the mirror port until `stop`. Frames are read by a
   * worker thread and drained here in short slices, so the event loop stays
   * free for the broker connection and the watchdog.
   */
  async captureLive(
    interfaceName: string,
    onOpen: () => void = () => undefined,
  ): Promise<void> {
    const capture = this.config.capture;
    const live = await LiveCapture.open({
      interface: interfaceName,
      snapLengthBytes: capture.snapLengthBytes,
      bufferBytes: capture.bufferBytes,
      promiscuous: capture.promiscuous,
      bpfFilter: capture.bpfFilter,
      batchTimeoutMs: capture.batchTimeoutMs,
      feedLossTimeoutSec: capture.feedLossTimeoutSec,
      logger: this.logger,
    });
    this.stream.reportCaptureHealth(() => {
      const stats = live.stats();
      return {
        kernelDroppedFrames: stats.kernelDrops,
        interfaceDroppedFrames: stats.interfaceDrops,
        feedState: stats.feedState,
      };
    });
    live.on('feed_lost', (reason) => this.onFeedLost(interfaceName, reason));
    live.on('feed_restored', (lostForMs) => {
      this.log.info(
        { event: 'feed_restored', interface: interfaceName, lostForMs },
        'mirror feed restored',
      );
      this.stream.publishStatus('online');
    });

    // Frames reach the pipeline from here on: the birth came before.
    this.log.info(
      { event: 'capture_opened', interface: interfaceName },
      'capture opened',
    );
    onOpen();
    const loop = runCaptureLoop(live, this.pipeline, {
      onTick: (frames) => {
        if (frames > 0) this.onProgress(this.pipeline.frames);
        else this.onIdle();
      },
    });
    if (!this.stopController.signal.aborted) {
      await once(this.stopController.signal, 'abort');
    }
    await loop.stop();
    // The worker must be closed before the process exits (see LiveCapture).
    await live.close();
  }

  /** Ask a running `captureLive` to end; `stop` then flushes. */
  requestStop(): void {
    this.stopController.abort();
  }

  private onFeedLost(interfaceName: string, reason: FeedLossReason): void {
    this.log.warn(
      { event: 'feed_lost', interface: interfaceName, reason },
      'mirror feed lost',
    );
    this.stream.publishAlerts([
      {
        kind: 'feed_lost',
        severity: 'critical',
        deviceId: '',
        timeUs: Date.now() * 1000,
        summary: `no frames from the mirror port ${interfaceName} (${reason})`,
      },
    ]);
    this.stream.publishStatus('online');
  }

  /** Apply reloaded settings that need no restart; returns their keys. */
  applyReload(statusIntervalSec: number): void {
    if (this.statusTimer === null) return;
    clearInterval(this.statusTimer);
    this.statusTimer = setInterval(
      () => this.stream.publishStatus('online'),
      statusIntervalSec * 1000,
    );
    this.statusTimer.unref();
  }

  /**
   * End of input or SIGTERM: end every flow, publish the last interval and
   * the final status, give the broker until `flushMs` to take the outbox.
   */
  async stop(flushMs = STOP_FLUSH_MS): Promise<AgentSummary> {
    const deadlineMs = Date.now() + flushMs;
    this.stopController.abort();
    if (this.statusTimer !== null) clearInterval(this.statusTimer);

    this.stream.finish();
    await this.stream.publishing;

    const publisher = this.publisher;
    // The stop's own records are queued: a broker back after an outage
    // may otherwise not be retried for seconds yet.
    this.session?.retryNow();
    const isDrained =
      publisher === null
        ? true
        : await publisher.waitIdle(Math.max(0, deadlineMs - Date.now()));
    if (!isDrained) {
      this.log.warn(
        { event: 'outbox_kept', records: this.outbox?.counters().records },
        'broker did not take everything before the stop; kept in the outbox',
      );
    }
    const outboxRecords = this.outbox?.counters().records ?? 0;
    await this.session?.close({
      flushMs: Math.max(100, deadlineMs - Date.now()),
    });
    await this.outbox?.close();
    return {
      frames: this.pipeline.frames,
      devices: this.inventory.reportedDevices(),
      devicesHeld: this.inventory.devices.size,
      intervals: this.stream.summarizer.intervalsClosed,
      publishedMessages: publisher?.counters.publishedMessages ?? 0,
      outboxRecords,
      brokerUrl: this.embeddedBroker?.url ?? this.config.publish.broker,
    };
  }

  /** Close the embedded broker, if one runs; after `stop`. */
  async closeBroker(): Promise<void> {
    await this.embeddedBroker?.close();
  }

  /** The URL subscribers reach the broker at (the embedded one's, if so). */
  get brokerUrl(): string | null {
    return this.embeddedBroker?.url ?? this.config.publish.broker;
  }
}
