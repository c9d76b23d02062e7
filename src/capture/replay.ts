/**
 * Replay of a capture file as a frame source: at the pace its timestamps
 * give, or as fast as the data path takes it, yielding to the event loop
 * between batches so timers and the broker connection keep running.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { CaptureFileReader } from './capture-file.js';
import type { FrameSink } from './frame.js';

/** Frames per batch when replaying as fast as possible. */
export const REPLAY_FAST_BATCH_FRAMES = 4096;
/** Capture-pace replay sleeps only when this far ahead of the clock. */
const PACE_SLACK_MS = 2;

export interface ReplayOptions {
  /** `realtime`: follow the file's timestamps; `fast`: no waiting. */
  pace: 'realtime' | 'fast';
  /**
   * Called after each batch with the frames it held; the replay waits for
   * the returned promise (back-pressure from the stages after the sink).
   */
  afterBatch?: (frames: number) => Promise<void> | void;
  /** Stops the replay early (SIGTERM). */
  signal?: AbortSignal;
}

export interface ReplaySummary {
  frames: number;
  /** True when the whole file was read, false when stopped early. */
  isComplete: boolean;
}

/**
 * Feed every frame of the capture file at `path` to `sink`. Throws
 * `CaptureFileError` for a file that cannot be read, or damage part way
 * (after delivering every frame before it).
 */
export async function replayCaptureFile(
  path: string,
  sink: FrameSink,
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const reader = CaptureFileReader.open(path);
  const isPaced = options.pace === 'realtime';
  const pacer = new Pacer(sink);
  // At capture pace each frame is held until its time comes; the reader
  // reuses its buffer, so the held frame is a copy.
  const source: FrameSink = isPaced ? pacer : sink;
  const batchFrames = isPaced ? 1 : REPLAY_FAST_BATCH_FRAMES;
  let frames = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) return { frames, isComplete: false };
      const batch = reader.readBatch(source, batchFrames);
      if (batch === 0) return { frames, isComplete: true };
      if (isPaced) {
        const waitMs = pacer.waitMs();
        if (waitMs > PACE_SLACK_MS) await sleepUnlessAborted(waitMs, options);
        if (options.signal?.aborted) return { frames, isComplete: false };
        pacer.release();
      }
      frames += batch;
      if (options.afterBatch !== undefined) await options.afterBatch(batch);
      if (!isPaced) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    reader.close();
  }
}

function sleepUnlessAborted(ms: number, options: ReplayOptions) {
  return sleep(ms, undefined, { signal: options.signal }).catch(
    () => undefined,
  );
}

/** Holds one frame until the replay clock reaches its capture time. */
class Pacer implements FrameSink {
  private firstFrameUs = -1;
  private startedAtMs = 0;
  private held = new Uint8Array(2048);
  private heldBytes = 0;
  private heldWireBytes = 0;
  private heldTimeUs = 0;
  private heldLinkType = 0;

  constructor(private readonly sink: FrameSink) {}

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    if (this.firstFrameUs < 0) {
      this.firstFrameUs = timeUs;
      this.startedAtMs = performance.now();
    }
    if (this.held.length < capturedBytes) {
      this.held = new Uint8Array(capturedBytes);
    }
    this.held.set(buf.subarray(off, off + capturedBytes));
    this.heldBytes = capturedBytes;
    this.heldWireBytes = wireBytes;
    this.heldTimeUs = timeUs;
    this.heldLinkType = linkType;
  }

  /** Time until the held frame is due. */
  waitMs(): number {
    const dueMs = (this.heldTimeUs - this.firstFrameUs) / 1000;
    return dueMs - (performance.now() - this.startedAtMs);
  }

  /** Hand the held frame on. */
  release(): void {
    this.sink.onFrame(
      this.held,
      0,
      this.heldBytes,
      this.heldWireBytes,
      this.heldTimeUs,
      this.heldLinkType,
    );
  }
}
