/**
 * Live capture from a mirror port: libpcap in a worker thread, frames
 * through a shared ring, feed-loss detection and reopening by itself.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

import type { FrameSink } from './frame.js';
import { RingReader, allocateRing } from './live-ring.js';
import type { LiveWorkerData, LiveWorkerMessage } from './live-worker.js';

/** Options of `LiveCapture.open`; the `capture` section of the config. */
export interface LiveCaptureOptions {
  /** The capture (mirror) interface, e.g. `eth1`. */
  interface: string;
  /** Bytes kept per frame (default 2048: every extractor's prefix). */
  snapLengthBytes?: number;
  /** libpcap kernel buffer (default 64 MiB). */
  bufferBytes?: number;
  /** Put the interface in promiscuous mode (default true). */
  promiscuous?: boolean;
  /** BPF filter expression (default '': everything). */
  bpfFilter?: string;
  /** libpcap buffered-mode timeout (default 10 ms; 0 is immediate mode). */
  batchTimeoutMs?: number;
  /** Shared ring between worker and main thread (default 64 MiB). */
  ringBytes?: number;
  /** No frames for this long means the feed is lost (default 60 s). */
  feedLossTimeoutSec?: number;
  /** Period of the link and feed checks (default 1000 ms). */
  monitorIntervalMs?: number;
  /** First delay before reopening a failed capture (default 1000 ms). */
  reopenMinDelayMs?: number;
  /** Longest delay between reopen attempts (default 30000 ms). */
  reopenMaxDelayMs?: number;
  /** Where lifecycle events go; nothing is logged per frame. */
  logger?: Logger;
}

/** Why the feed is considered lost; stable ids for status and alerts. */
export type FeedLossReason =
  'no_frames' | 'link_down' | 'interface_missing' | 'capture_failed';

/** Counters and state of a live capture, for status messages. */
export interface LiveCaptureStats {
  /** Frames libpcap handed to the worker (kept in the ring or dropped). */
  framesReceived: number;
  /** Frames handed to the sink by `drain`. */
  framesDelivered: number;
  /** Frames the kernel dropped: libpcap ps_drop, over all sessions. */
  kernelDrops: number;
  /** Frames the interface dropped: libpcap ps_ifdrop, over all sessions. */
  interfaceDrops: number;
  /** Frames dropped because the main thread left the ring full. */
  ringDrops: number;
  /** Bytes currently waiting in the ring. */
  ringUsedBytes: number;
  feedState: 'ok' | 'lost';
  /** Set while `feedState` is 'lost'. */
  feedLossReason: FeedLossReason | null;
  /** Carrier present and operstate up, from /sys/class/net. */
  linkUp: boolean;
  /** Capture sessions opened, the first included. */
  sessionsOpened: number;
  /** LINKTYPE_* of the current session, -1 before the first open. */
  linkType: number;
}

/** Stable codes of `LiveCaptureError`. */
export const LiveCaptureErrorCode = {
  /** libpcap could not open the interface or compile the filter. */
  OpenFailed: 'E_CAPTURE_OPEN_FAILED',
  /** The options are out of range. */
  BadOptions: 'E_CONFIG_INVALID',
  /** The capture worker exited or crashed. */
  WorkerFailed: 'E_CAPTURE_WORKER_FAILED',
} as const;

/** A capture device problem, with a stable `code` and the interface. */
export class LiveCaptureError extends Error {
  readonly code: (typeof LiveCaptureErrorCode)[keyof typeof LiveCaptureErrorCode];
  readonly interfaceName: string;

  constructor(
    code: LiveCaptureError['code'],
    interfaceName: string,
    message: string,
  ) {
    super(`capture on ${interfaceName}: ${message}`);
    this.name = 'LiveCaptureError';
    this.code = code;
    this.interfaceName = interfaceName;
  }
}

/** Events of a `LiveCapture`. */
export interface LiveCaptureEvents {
  /** The feed was lost; an alert. */
  feed_lost: [reason: FeedLossReason];
  /** Frames flow again after a loss. */
  feed_restored: [lostForMs: number];
  /** A new capture session was opened after a failure. */
  reopened: [sessionsOpened: number];
}

const DEFAULTS = {
  snapLengthBytes: 2048,
  bufferBytes: 64 * 1024 * 1024,
  promiscuous: true,
  bpfFilter: '',
  batchTimeoutMs: 10,
  ringBytes: 64 * 1024 * 1024,
  feedLossTimeoutSec: 60,
  monitorIntervalMs: 1000,
  reopenMinDelayMs: 1000,
  reopenMaxDelayMs: 30_000,
};

/** Frames between two libpcap counter reads while the worker is busy. */
const STATS_EVERY_FRAMES = 65_536;

/** The worker's counter reads while idle. */
const STATS_INTERVAL_MS = 250;

/**
 * The worker's sleep after an empty read. libpcap hands over a block only
 * when it is full or `batchTimeoutMs` old, so this adds little latency.
 */
const IDLE_WAIT_MS = 2;

/** How long a stopping worker may take before it is terminated. */
const STOP_TIMEOUT_MS = 3000;

type ResolvedOptions = Required<Omit<LiveCaptureOptions, 'logger'>>;

/**
 * A live capture on one interface. Frames are read by a worker thread and
 * wait in a shared ring until `drain` hands them to a sink on the caller's
 * thread. The capture never transmits: libpcap's inject is never called.
 */
export class LiveCapture extends EventEmitter<LiveCaptureEvents> {
  readonly options: ResolvedOptions;
  private readonly log: Logger | undefined;
  private readonly ringSab: SharedArrayBuffer;
  private readonly ring: RingReader;
  private worker: Worker | null = null;
  private linkType = -1;
  private openedIfIndex = -1;
  private isWorkerFailed = false;
  private isClosed = false;
  private isReopening = false;
  private reopenDelayMs: number;
  private nextReopenAtMs = 0;
  private sessionsOpened = 0;
  private monitorTimer: NodeJS.Timeout | null = null;

  // Counters accumulated over wrapping u32 values published by the worker.
  private readonly totals = new Float64Array(5);
  private readonly lastSeen = new Float64Array(5);
  private framesDelivered = 0;

  private feedState: 'ok' | 'lost' = 'ok';
  private feedLossReason: FeedLossReason | null = null;
  private lostAtMs = 0;
  private lastFrameAtMs: number;
  private framesAtLastCheck = 0;
  private linkUp = false;

  private constructor(options: ResolvedOptions, log: Logger | undefined) {
    super();
    this.options = options;
    this.log = log;
    this.ringSab = allocateRing(options.ringBytes);
    this.ring = new RingReader(this.ringSab);
    this.reopenDelayMs = options.reopenMinDelayMs;
    this.lastFrameAtMs = Date.now();
  }

  /**
   * Open a capture on `options.interface`. Rejects with a LiveCaptureError
   * (`E_CAPTURE_OPEN_FAILED`) if libpcap cannot open it now; once open, a
   * lost interface is reopened by itself.
   */
  static async open(options: LiveCaptureOptions): Promise<LiveCapture> {
    const resolved = resolveOptions(options);
    const capture = new LiveCapture(resolved, options.logger);
    await capture.startWorker();
    capture.linkUp = readLinkState(resolved.interface).isUp;
    capture.monitorTimer = setInterval(
      () => capture.checkFeed(),
      resolved.monitorIntervalMs,
    );
    capture.monitorTimer.unref();
    capture.log?.info(
      {
        event: 'capture_opened',
        interface: resolved.interface,
        snapLengthBytes: resolved.snapLengthBytes,
        bufferBytes: resolved.bufferBytes,
        ringBytes: capture.ring.dataBytes,
        batchTimeoutMs: resolved.batchTimeoutMs,
        promiscuous: resolved.promiscuous,
        hasBpfFilter: resolved.bpfFilter !== '',
      },
      'live capture opened',
    );
    return capture;
  }

  /**
   * Hand waiting frames to `sink`: at most `maxFrames`, and stop once
   * `performance.now()` reaches `deadlineMs`. Frame bytes are valid only
   * during `onFrame`. Returns the frames handed over.
   */
  drain(sink: FrameSink, maxFrames: number, deadlineMs = Infinity): number {
    const frames = this.ring.drain(sink, this.linkType, maxFrames, deadlineMs);
    this.framesDelivered += frames;
    return frames;
  }

  /** True when frames are waiting in the ring. */
  hasPending(): boolean {
    return this.ring.hasPending();
  }

  /** Current counters and feed state. */
  stats(): LiveCaptureStats {
    this.updateTotals();
    const totals = this.totals;
    return {
      framesReceived: totals[0] + totals[1],
      framesDelivered: this.framesDelivered,
      kernelDrops: totals[3],
      interfaceDrops: totals[4],
      ringDrops: totals[1],
      ringUsedBytes: this.ring.usedBytes(),
      feedState: this.feedState,
      feedLossReason: this.feedLossReason,
      linkUp: this.linkUp,
      sessionsOpened: this.sessionsOpened,
      linkType: this.linkType,
    };
  }

  // Limitation: node exits by terminating workers; one caught inside
  // node-pcap's per-frame callback aborts the process (seen under load).
  /**
   * Stop capturing. Frames still in the ring can be drained after. Call it
   * before the process exits: see the limitation above.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.monitorTimer !== null) clearInterval(this.monitorTimer);
    this.monitorTimer = null;
    await this.stopWorker();
    this.log?.info(
      { event: 'capture_closed', interface: this.options.interface },
      'live capture closed',
    );
  }

  /** Start a worker on the interface; resolves once libpcap is open. */
  private async startWorker(): Promise<void> {
    const options = this.options;
    this.ring.resetSession();
    this.lastSeen.fill(0, 2);
    const data: LiveWorkerData = {
      ring: this.ringSab,
      interfaceName: options.interface,
      snapLengthBytes: options.snapLengthBytes,
      bufferBytes: options.bufferBytes,
      promiscuous: options.promiscuous,
      bpfFilter: options.bpfFilter,
      batchTimeoutMs: options.batchTimeoutMs,
      statsEveryFrames: STATS_EVERY_FRAMES,
      statsIntervalMs: STATS_INTERVAL_MS,
      idleWaitMs: IDLE_WAIT_MS,
    };
    const ifIndex = readIfIndex(options.interface);
    const worker = new Worker(workerUrl(), { workerData: data });
    this.worker = worker;
    this.isWorkerFailed = false;
    const first = await new Promise<LiveWorkerMessage | Error>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', resolve);
      worker.once('exit', (code) =>
        resolve(new Error(`worker exited with code ${code}`)),
      );
    });
    if (first instanceof Error || first.type !== 'opened') {
      await this.stopWorker();
      const message =
        first instanceof Error ? first.message : String(first.message);
      throw new LiveCaptureError(
        LiveCaptureErrorCode.OpenFailed,
        options.interface,
        message,
      );
    }
    this.linkType = first.linkType;
    this.openedIfIndex = ifIndex;
    this.sessionsOpened++;
    worker.on('message', (message: LiveWorkerMessage) => {
      if (message.type === 'read_failed') this.onWorkerFailed(message.message);
    });
    worker.on('error', (error) => this.onWorkerFailed(error.message));
    worker.on('exit', (code) => {
      if (this.worker === worker) {
        this.onWorkerFailed(`worker exited with code ${code}`);
      }
    });
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    this.worker = null;
    // The worker sees the flag between reads, or every 64 frames inside a
    // dispatch that never returns under load, and closes libpcap itself.
    const exited = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    this.ring.requestStop();
    if (!(await exited)) await worker.terminate();
    this.updateTotals();
  }

  private onWorkerFailed(message: string): void {
    if (this.isWorkerFailed || this.isClosed) return;
    this.isWorkerFailed = true;
    this.log?.warn(
      {
        event: 'capture_read_failed',
        interface: this.options.interface,
        error: message,
      },
      'capture session failed',
    );
    this.markLost('capture_failed');
    this.nextReopenAtMs = Date.now() + this.reopenDelayMs;
  }

  /** Periodic check of link, feed and the worker; reopens when due. */
  private checkFeed(): void {
    if (this.isClosed) return;
    const nowMs = Date.now();
    const link = readLinkState(this.options.interface);
    this.linkUp = link.isUp;
    this.updateTotals();
    const framesReceived = this.totals[0] + this.totals[1];
    if (framesReceived !== this.framesAtLastCheck) {
      this.framesAtLastCheck = framesReceived;
      this.lastFrameAtMs = nowMs;
    }

    if (link.ifIndex < 0) {
      this.markLost('interface_missing');
      return;
    }
    if (!link.isUp) {
      this.markLost('link_down');
      return;
    }
    // An interface deleted and created again has a new index; the old
    // socket is bound to the old one and would never see a frame.
    if (this.isWorkerFailed || link.ifIndex !== this.openedIfIndex) {
      this.reopenWhenDue(nowMs);
      return;
    }
    if (this.feedState === 'lost') {
      const isBackFromNoFrames =
        this.feedLossReason === 'no_frames' &&
        this.lastFrameAtMs > this.lostAtMs;
      if (this.feedLossReason !== 'no_frames' || isBackFromNoFrames) {
        this.markRestored(nowMs);
      }
      return;
    }
    if (nowMs - this.lastFrameAtMs > this.options.feedLossTimeoutSec * 1000) {
      this.markLost('no_frames');
    }
  }

  private reopenWhenDue(nowMs: number): void {
    if (this.isReopening) return;
    if (!this.isWorkerFailed) {
      // Index changed under a live worker: it cannot see frames any more.
      this.isWorkerFailed = true;
      this.markLost('capture_failed');
      this.nextReopenAtMs = nowMs;
    }
    if (nowMs < this.nextReopenAtMs) return;
    this.isReopening = true;
    void this.reopen().finally(() => {
      this.isReopening = false;
    });
  }

  private async reopen(): Promise<void> {
    await this.stopWorker();
    if (this.isClosed) return;
    try {
      await this.startWorker();
    } catch (error) {
      this.isWorkerFailed = true;
      this.nextReopenAtMs = Date.now() + this.reopenDelayMs;
      this.log?.warn(
        {
          event: 'capture_reopen_failed',
          interface: this.options.interface,
          retryInMs: this.reopenDelayMs,
          error: (error as Error).message,
        },
        'capture reopen failed',
      );
      this.reopenDelayMs = Math.min(
        this.reopenDelayMs * 2,
        this.options.reopenMaxDelayMs,
      );
      return;
    }
    if (this.isClosed) {
      await this.stopWorker();
      return;
    }
    this.reopenDelayMs = this.options.reopenMinDelayMs;
    this.log?.info(
      {
        event: 'capture_reopened',
        interface: this.options.interface,
        sessionsOpened: this.sessionsOpened,
      },
      'live capture reopened',
    );
    this.emit('reopened', this.sessionsOpened);
    this.markRestored(Date.now());
  }

  private markLost(reason: FeedLossReason): void {
    if (this.feedState === 'lost' && this.feedLossReason === reason) return;
    const wasOk = this.feedState === 'ok';
    this.feedState = 'lost';
    this.feedLossReason = reason;
    if (wasOk) this.lostAtMs = Date.now();
    this.log?.warn(
      { event: 'capture_feed_lost', interface: this.options.interface, reason },
      'mirror feed lost',
    );
    if (wasOk) this.emit('feed_lost', reason);
  }

  private markRestored(nowMs: number): void {
    if (this.feedState === 'ok') return;
    const lostForMs = nowMs - this.lostAtMs;
    this.feedState = 'ok';
    this.feedLossReason = null;
    // The silence timer starts again now, not at the last frame before.
    this.lastFrameAtMs = nowMs;
    this.log?.info(
      {
        event: 'capture_feed_restored',
        interface: this.options.interface,
        lostForMs,
      },
      'mirror feed restored',
    );
    this.emit('feed_restored', lostForMs);
  }

  /** Fold the worker's wrapping u32 counters into running totals. */
  private updateTotals(): void {
    const c = this.ring.counters();
    const last = this.lastSeen;
    const totals = this.totals;
    const values = [c.written, c.dropped, c.pcapRecv, c.pcapDrop, c.pcapIfDrop];
    for (let i = 0; i < 5; i++) {
      totals[i] += (values[i] - last[i] + 0x100000000) % 0x100000000;
      last[i] = values[i];
    }
  }
}

/** What the scheduler calls after each drain slice. */
export interface CaptureLoopOptions {
  /** Longest time one drain may hold the event loop (default 5 ms). */
  sliceMs?: number;
  /** Pause when the ring is empty before looking again (default 2 ms). */
  idleMs?: number;
  /** Called after each slice with the frames it delivered. */
  onTick?: (frames: number) => void;
}

/** A running capture loop. */
export interface CaptureLoop {
  /** Stop after the current slice; resolves once stopped. */
  stop(): Promise<void>;
}

/**
 * Drain `capture` into `sink` in time slices, yielding to the event loop
 * between slices so timers, MQTT and the watchdog keep running under load.
 */
export function runCaptureLoop(
  capture: Pick<LiveCapture, 'drain' | 'hasPending'>,
  sink: FrameSink,
  options: CaptureLoopOptions = {},
): CaptureLoop {
  const sliceMs = options.sliceMs ?? 5;
  const idleMs = options.idleMs ?? 2;
  const onTick = options.onTick;
  let isStopped = false;
  let timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });

  const turn = (): void => {
    timer = null;
    if (isStopped) {
      resolveStopped();
      return;
    }
    const frames = capture.drain(sink, Infinity, performance.now() + sliceMs);
    if (onTick !== undefined) onTick(frames);
    timer = capture.hasPending()
      ? setImmediate(turn)
      : setTimeout(turn, idleMs);
  };
  timer = setImmediate(turn);

  return {
    stop(): Promise<void> {
      if (!isStopped) {
        isStopped = true;
        if (timer !== null) {
          clearTimeout(timer as NodeJS.Timeout);
          clearImmediate(timer as NodeJS.Immediate);
          timer = null;
          resolveStopped();
        }
      }
      return stopped;
    },
  };
}

/** Carrier and operstate of an interface; ifIndex -1 if it is missing. */
export interface LinkState {
  ifIndex: number;
  isUp: boolean;
}

/** Read the link state from /sys/class/net/IF (Linux). */
export function readLinkState(interfaceName: string): LinkState {
  const ifIndex = readIfIndex(interfaceName);
  if (ifIndex < 0) return { ifIndex, isUp: false };
  const dir = `/sys/class/net/${interfaceName}`;
  const operstate = readSysfs(`${dir}/operstate`);
  // Reading carrier of an interface that is administratively down fails.
  const carrier = readSysfs(`${dir}/carrier`);
  const isOperUp = operstate === 'up' || operstate === 'unknown';
  return { ifIndex, isUp: isOperUp && carrier === '1' };
}

function readIfIndex(interfaceName: string): number {
  const text = readSysfs(`/sys/class/net/${interfaceName}/ifindex`);
  return text === null ? -1 : Number.parseInt(text, 10);
}

function readSysfs(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The worker's module next to this one, .ts under the test loader. */
function workerUrl(): URL {
  const isTs = import.meta.url.endsWith('.ts');
  return new URL(
    isTs ? './live-worker.ts' : './live-worker.js',
    import.meta.url,
  );
}

function resolveOptions(options: LiveCaptureOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    interface: options.interface,
    snapLengthBytes: options.snapLengthBytes ?? DEFAULTS.snapLengthBytes,
    bufferBytes: options.bufferBytes ?? DEFAULTS.bufferBytes,
    promiscuous: options.promiscuous ?? DEFAULTS.promiscuous,
    bpfFilter: options.bpfFilter ?? DEFAULTS.bpfFilter,
    batchTimeoutMs: options.batchTimeoutMs ?? DEFAULTS.batchTimeoutMs,
    ringBytes: options.ringBytes ?? DEFAULTS.ringBytes,
    feedLossTimeoutSec:
      options.feedLossTimeoutSec ?? DEFAULTS.feedLossTimeoutSec,
    monitorIntervalMs: options.monitorIntervalMs ?? DEFAULTS.monitorIntervalMs,
    reopenMinDelayMs: options.reopenMinDelayMs ?? DEFAULTS.reopenMinDelayMs,
    reopenMaxDelayMs: options.reopenMaxDelayMs ?? DEFAULTS.reopenMaxDelayMs,
  };
  const name = resolved.interface;
  // Interface names are at most 15 bytes (IFNAMSIZ) and never hold a slash;
  // the name is also used to build /sys paths.
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,15}$/.test(name)) {
    throw new LiveCaptureError(
      LiveCaptureErrorCode.BadOptions,
      String(name),
      'capture.interface must be an interface name',
    );
  }
  const snap = resolved.snapLengthBytes;
  if (!Number.isInteger(snap) || snap < 64 || snap > 262_144) {
    throw new LiveCaptureError(
      LiveCaptureErrorCode.BadOptions,
      name,
      'capture.snapLengthBytes must be an integer in 64..262144',
    );
  }
  return resolved;
}
