/**
 * What the sensor publishes and when: the data path from frames to
 * inventory and interval summaries, and the messages each moment yields
 * (birth, closed interval, status, stop). Shared by the agent and benches.
 */
import type { Logger } from 'pino';

import type { Config } from '../control/config.js';
import { InternalNetworks } from '../flows/internal-networks.js';
import { loadCatalogFile } from '../inventory/catalog.js';
import { Inventory } from '../inventory/inventory.js';
import { PacketPipeline, type PacketClock } from '../pipeline.js';
import { DeviceChangeTracker } from './device-changes.js';
import { FlowSummarizer } from './flow-summarizer.js';
import type { SensorStatus } from './messages.js';
import type { Outbox } from './outbox.js';
import type { Publisher } from './publisher.js';
import type { AlertRecord, DeviceFlowSummary } from './records.js';

/** What a live capture adds to the status message. */
export interface CaptureHealth {
  kernelDroppedFrames: number;
  interfaceDroppedFrames: number;
  feedState: 'ok' | 'lost';
}

export interface SensorStreamOptions {
  config: Config;
  /** Software version, reported in status. */
  version: string;
  /** Receives `publish_failed` errors; pass the owner's child logger. */
  log: Logger;
  /** Wall clock at agent start, ms since the epoch (default: now). */
  startedAtMs?: number;
  /**
   * Told of each flow end (and active-timeout restart) after the
   * summarizer accounted it, while the flow's record is still readable.
   */
  onFlowEnd?: (flowId: number) => void;
}

/**
 * The sensor's data path and its publishing schedule. Without an attached
 * publisher it only builds the inventory and summaries; with one, each
 * closed interval publishes device changes, flows and alerts.
 */
export class SensorStream {
  readonly inventory: Inventory;
  readonly pipeline: PacketPipeline;
  readonly summarizer: FlowSummarizer;
  private readonly config: Config;
  private readonly version: string;
  private readonly log: Logger;
  private readonly startedAtMs: number;
  private readonly changes = new DeviceChangeTracker();
  private publisher: Publisher | null = null;
  private outbox: Outbox | null = null;
  /** Publications of closed intervals, in order; awaited between batches. */
  private queue: Promise<void> = Promise.resolve();
  private lastRate: { atMs: number; frames: number; wireBytes: number };
  private captureHealth: () => CaptureHealth = () => ({
    kernelDroppedFrames: 0,
    interfaceDroppedFrames: 0,
    feedState: 'ok',
  });

  constructor(options: SensorStreamOptions) {
    this.config = options.config;
    this.version = options.version;
    this.log = options.log;
    this.startedAtMs = options.startedAtMs ?? Date.now();
    this.lastRate = { atMs: this.startedAtMs, frames: 0, wireBytes: 0 };
    const onFlowEnd = options.onFlowEnd;

    const { inventory: inventoryConfig, flows: flowsConfig } = options.config;
    this.inventory = new Inventory({
      maxDevices: inventoryConfig.maxDevices,
      catalog:
        inventoryConfig.catalogFile === null
          ? undefined
          : loadCatalogFile(inventoryConfig.catalogFile),
    });
    const clock: PacketClock = {
      get nextBoundaryUs() {
        return summarizer.nextBoundaryUs;
      },
      reach: (timeUs) => summarizer.reach(timeUs),
    };
    this.pipeline = new PacketPipeline({
      inventory: this.inventory,
      flows: {
        maxFlows: flowsConfig.maxFlows,
        idleTimeoutMs: flowsConfig.idleTimeoutMs,
        activeTimeoutMs: flowsConfig.activeTimeoutMs,
      },
      clock,
      onFlowStart: (_table, flowId) => summarizer.onFlowStart(flowId),
      onFlowEnd:
        onFlowEnd === undefined
          ? (_table, flowId) => summarizer.onFlowEnd(flowId)
          : (_table, flowId) => {
              summarizer.onFlowEnd(flowId);
              onFlowEnd(flowId);
            },
    });
    const summarizer = new FlowSummarizer({
      flows: this.pipeline.flows,
      senderOf: (flowId, direction) =>
        this.inventory.flowSender(flowId, direction),
      onInterval: (summaries) => this.onInterval(summaries),
      internalNetworks: new InternalNetworks(inventoryConfig.internalNetworks),
      intervalMs: options.config.publish.intervalSec * 1000,
    });
    this.summarizer = summarizer;
  }

  /**
   * Every publication queued so far, settled: await it between capture
   * batches so input cannot run ahead of the outbox.
   */
  get publishing(): Promise<void> {
    return this.queue;
  }

  /** Publish through `publisher`; `outbox` feeds the status counters. */
  attach(publisher: Publisher, outbox: Outbox): void {
    this.publisher = publisher;
    this.outbox = outbox;
  }

  /** Queue the birth (and rebirth): status online, every device in full. */
  publishBirth(): void {
    this.chain(() => this.birth());
  }

  /** Where status reads capture drops and feed state (live capture). */
  reportCaptureHealth(health: () => CaptureHealth): void {
    this.captureHealth = health;
  }

  /** Queue alerts about the sensor itself (deviceId ''), e.g. feed loss. */
  publishAlerts(alerts: AlertRecord[]): void {
    this.chain(async () => {
      await this.publisher?.publishAlerts(alerts);
    });
  }

  /** Queue a status message. */
  publishStatus(state: 'online' | 'offline'): void {
    this.chain(() => this.sendStatus(state));
  }

  /**
   * End of input or stop: end every flow, close the last interval, then
   * queue the final snapshot, its alerts and the offline status.
   */
  finish(): void {
    this.pipeline.flows.flush();
    this.summarizer.flush(this.pipeline.lastTimeUs + 1);
    this.chain(() => this.publishFinal(this.pipeline.lastTimeUs));
    this.chain(() => this.sendStatus('offline'));
  }

  /**
   * The status message's content now, its rates since the last status sent
   * (building one, e.g. for the will, does not restart the rate window).
   */
  status(state: 'online' | 'offline'): SensorStatus {
    const pipeline = this.pipeline;
    const nowMs = Date.now();
    const elapsedMs = Math.max(1, nowMs - this.lastRate.atMs);
    const framesPerSec =
      ((pipeline.frames - this.lastRate.frames) * 1000) / elapsedMs;
    const wireBytesPerSec =
      ((pipeline.wireBytes - this.lastRate.wireBytes) * 1000) / elapsedMs;
    const outbox = this.outbox?.counters();
    const publisher = this.publisher?.counters;
    const memory = process.memoryUsage();
    const capture = this.config.capture;
    const health = this.captureHealth();
    return {
      sensorVersion: this.version,
      state,
      session: publisher?.sessions ?? 0,
      uptimeMs: nowMs - this.startedAtMs,
      startedUs: this.startedAtMs * 1000,
      captureSourceKind: capture.interface !== null ? 'interface' : 'file',
      captureSource: capture.interface ?? capture.pcapFile ?? '',
      frames: pipeline.frames,
      wireBytes: pipeline.wireBytes,
      framesPerSec: Math.round(framesPerSec),
      wireBytesPerSec: Math.round(wireBytesPerSec),
      rateIntervalMs: elapsedMs,
      kernelDroppedFrames: health.kernelDroppedFrames,
      interfaceDroppedFrames: health.interfaceDroppedFrames,
      decodeDroppedFrames: pipeline.counts.malformedReasons(),
      decoderExceptions: pipeline.decoderExceptions,
      flowsActive: pipeline.flows.size,
      flowsEvicted: pipeline.flows.evictedFlows,
      devicesHeld: this.inventory.devices.size,
      devicesEvicted: this.inventory.devices.evicted,
      outboxRecords: outbox?.records ?? 0,
      outboxBytes: outbox?.bytes ?? 0,
      outboxDroppedRecords: outbox?.droppedRecords ?? 0,
      outboxTornRecords: outbox?.tornRecords ?? 0,
      memoryRssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      publishedMessages: publisher?.publishedMessages ?? 0,
      publishedBytes: publisher?.publishedBytes ?? 0,
      publishErrors: publisher?.publishErrors ?? 0,
      reconnects: Math.max(0, (publisher?.sessions ?? 0) - 1),
      feedState: health.feedState,
      lastFrameUs: Math.max(0, pipeline.lastTimeUs),
    };
  }

  /** Summaries of a closed interval: devices first, then flows, alerts. */
  private onInterval(summaries: DeviceFlowSummary[]): void {
    const endUs = summaries[0].intervalEndUs;
    this.chain(async () => {
      await this.publishChanges(endUs);
      await this.publisher?.publishFlows(summaries);
    });
  }

  private async publishChanges(timeUs: number): Promise<void> {
    const publisher = this.publisher;
    if (publisher === null) return;
    const { changed, removedIds, alerts } = this.changes.update(
      this.inventory.report(),
      timeUs,
    );
    await publisher.publishDevices('changes', changed, removedIds);
    await publisher.publishAlerts(alerts);
  }

  /**
   * At a stop, every device in full with its final counters (changes leave
   * counters out), and the alerts not raised yet.
   */
  private async publishFinal(timeUs: number): Promise<void> {
    const publisher = this.publisher;
    if (publisher === null) return;
    const devices = this.inventory.report();
    const { alerts } = this.changes.update(devices, timeUs);
    await publisher.publishDevices('snapshot', devices);
    await publisher.publishAlerts(alerts);
  }

  private async birth(): Promise<void> {
    const publisher = this.publisher;
    if (publisher === null) return;
    await this.sendStatus('online');
    const devices = this.inventory.report();
    this.changes.markPublished(devices, this.pipeline.lastTimeUs);
    await publisher.publishDevices('snapshot', devices);
  }

  private async sendStatus(state: 'online' | 'offline'): Promise<void> {
    const status = this.status(state);
    const pipeline = this.pipeline;
    this.lastRate = {
      atMs: Date.now(),
      frames: pipeline.frames,
      wireBytes: pipeline.wireBytes,
    };
    await this.publisher?.publishStatus(status);
  }

  /** Run `step` after every publication queued before it. */
  private chain(step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch((err: Error) => {
      this.log.error(
        { event: 'publish_failed', err: err.message, code: errorCode(err) },
        'a message could not be stored for publishing',
      );
    });
  }
}

function errorCode(err: Error): string | undefined {
  return (err as { code?: string }).code;
}
