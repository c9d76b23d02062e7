/**
 * Single-producer single-consumer frame ring in a SharedArrayBuffer: the
 * capture worker writes frames, the main thread reads them in place.
 */
import type { FrameSink } from './frame.js';

/** Bytes of the record header: capturedBytes, wireBytes, sec, usec (u32). */
export const RING_RECORD_HDR_BYTES = 16;

/** Smallest ring accepted: room for a few full-size frames. */
export const RING_MIN_BYTES = 1 << 20;

/** Largest ring accepted; byte offsets must stay below 2^31 for Int32. */
export const RING_MAX_BYTES = 1 << 30;

/** Bytes before the data area: the control words below. */
const CONTROL_BYTES = 64;

/** Next data offset the producer writes (published after the record). */
const CTL_HEAD = 0;
/** Next data offset the consumer reads (published after the batch). */
const CTL_TAIL = 1;
/** Records written, wrapping at 2^32. */
const CTL_WRITTEN = 2;
/** Frames dropped because the ring was full, wrapping at 2^32. */
const CTL_DROPPED = 3;
/** libpcap ps_recv / ps_drop / ps_ifdrop of the current session. */
const CTL_PCAP_RECV = 4;
const CTL_PCAP_DROP = 5;
const CTL_PCAP_IFDROP = 6;
/** Nonzero when the main thread asks the worker to stop. */
const CTL_STOP = 7;

/** Marks the unused end of the data area; the next record is at 0. */
const WRAP_MARK = 0xffffffff;

/** How often the consumer publishes its tail inside one drain. */
const RELEASE_EVERY_FRAMES = 256;

/** How often a drain with a deadline reads the clock. */
const CLOCK_EVERY_FRAMES = 128;

/** Counter values as the worker last published them (each mod 2^32). */
export interface RingCounters {
  written: number;
  dropped: number;
  pcapRecv: number;
  pcapDrop: number;
  pcapIfDrop: number;
}

/**
 * Round a requested ring size to what the ring uses: a multiple of 8 within
 * [RING_MIN_BYTES, RING_MAX_BYTES].
 */
export function ringDataBytes(requestedBytes: number): number {
  const clamped = Math.min(
    RING_MAX_BYTES,
    Math.max(RING_MIN_BYTES, Math.floor(requestedBytes)),
  );
  return clamped - (clamped % 8);
}

/** Allocate the shared memory of a ring with `dataBytes` of frame space. */
export function allocateRing(dataBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + ringDataBytes(dataBytes));
}

/**
 * Consumer side, on the main thread. Frames are handed to the sink as
 * offsets into the shared data area and are valid only during `onFrame`;
 * their space is given back to the producer after the call.
 */
export class RingReader {
  readonly dataBytes: number;
  private readonly ctl: Int32Array;
  private readonly hdr: Uint32Array;
  private readonly data: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.dataBytes = sab.byteLength - CONTROL_BYTES;
    this.ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.hdr = new Uint32Array(sab, CONTROL_BYTES, this.dataBytes / 4);
    this.data = new Uint8Array(sab, CONTROL_BYTES, this.dataBytes);
  }

  /** True when the producer has published frames not yet drained. */
  hasPending(): boolean {
    return (
      Atomics.load(this.ctl, CTL_HEAD) !== Atomics.load(this.ctl, CTL_TAIL)
    );
  }

  /** Bytes of the data area currently holding undrained records. */
  usedBytes(): number {
    const head = Atomics.load(this.ctl, CTL_HEAD);
    const tail = Atomics.load(this.ctl, CTL_TAIL);
    return head >= tail ? head - tail : this.dataBytes - tail + head;
  }

  /**
   * Hand up to `maxFrames` frames to `sink`, stopping early once
   * `performance.now()` passes `deadlineMs`. Returns the frames handed over.
   */
  drain(
    sink: FrameSink,
    linkType: number,
    maxFrames: number,
    deadlineMs: number,
  ): number {
    const ctl = this.ctl;
    const hdr = this.hdr;
    const data = this.data;
    const dataBytes = this.dataBytes;
    const hasDeadline = deadlineMs !== Infinity;
    let tail = Atomics.load(ctl, CTL_TAIL);
    let head = Atomics.load(ctl, CTL_HEAD);
    let frames = 0;
    while (frames < maxFrames) {
      if (tail === head) {
        // Publish what we consumed, then look once more for new frames.
        Atomics.store(ctl, CTL_TAIL, tail);
        head = Atomics.load(ctl, CTL_HEAD);
        if (tail === head) break;
      }
      const word = tail >>> 2;
      const capturedBytes = hdr[word];
      if (capturedBytes === WRAP_MARK) {
        tail = 0;
        continue;
      }
      const wireBytes = hdr[word + 1];
      const timeUs = hdr[word + 2] * 1e6 + hdr[word + 3];
      sink.onFrame(
        data,
        tail + RING_RECORD_HDR_BYTES,
        capturedBytes,
        wireBytes,
        timeUs,
        linkType,
      );
      tail += RING_RECORD_HDR_BYTES + ((capturedBytes + 3) & ~3);
      if (tail === dataBytes) tail = 0;
      frames++;
      if ((frames & (RELEASE_EVERY_FRAMES - 1)) === 0) {
        Atomics.store(ctl, CTL_TAIL, tail);
      }
      if (
        hasDeadline &&
        (frames & (CLOCK_EVERY_FRAMES - 1)) === 0 &&
        performance.now() >= deadlineMs
      ) {
        break;
      }
    }
    Atomics.store(ctl, CTL_TAIL, tail);
    return frames;
  }

  /** The counters as last published by the producer. */
  counters(): RingCounters {
    const ctl = this.ctl;
    return {
      written: Atomics.load(ctl, CTL_WRITTEN) >>> 0,
      dropped: Atomics.load(ctl, CTL_DROPPED) >>> 0,
      pcapRecv: Atomics.load(ctl, CTL_PCAP_RECV) >>> 0,
      pcapDrop: Atomics.load(ctl, CTL_PCAP_DROP) >>> 0,
      pcapIfDrop: Atomics.load(ctl, CTL_PCAP_IFDROP) >>> 0,
    };
  }

  /** Zero the libpcap counters and the stop flag before a new session. */
  resetSession(): void {
    Atomics.store(this.ctl, CTL_PCAP_RECV, 0);
    Atomics.store(this.ctl, CTL_PCAP_DROP, 0);
    Atomics.store(this.ctl, CTL_PCAP_IFDROP, 0);
    Atomics.store(this.ctl, CTL_STOP, 0);
  }

  /** Ask the worker to stop, waking it if it waits for frames. */
  requestStop(): void {
    Atomics.store(this.ctl, CTL_STOP, 1);
    Atomics.notify(this.ctl, CTL_STOP);
  }
}

/**
 * Producer side, in the capture worker. `write` never blocks: when the
 * frame does not fit, it is counted as dropped and the capture goes on.
 */
export class RingWriter {
  readonly dataBytes: number;
  private readonly ctl: Int32Array;
  private readonly hdr: Uint32Array;
  private readonly data: Uint8Array;
  private head: number;
  /** Last tail seen; reloaded only when the ring looks full. */
  private tail: number;
  private written: number;
  private dropped: number;

  constructor(sab: SharedArrayBuffer) {
    this.dataBytes = sab.byteLength - CONTROL_BYTES;
    this.ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.hdr = new Uint32Array(sab, CONTROL_BYTES, this.dataBytes / 4);
    this.data = new Uint8Array(sab, CONTROL_BYTES, this.dataBytes);
    // A restarted worker continues where the previous one published.
    this.head = Atomics.load(this.ctl, CTL_HEAD);
    this.tail = Atomics.load(this.ctl, CTL_TAIL);
    this.written = Atomics.load(this.ctl, CTL_WRITTEN);
    this.dropped = Atomics.load(this.ctl, CTL_DROPPED);
  }

  /**
   * Copy one frame and its header into the ring. `frame` holds
   * `capturedBytes` bytes from offset 0. Returns false if it was dropped.
   */
  write(
    frame: Uint8Array,
    capturedBytes: number,
    wireBytes: number,
    timeSec: number,
    timeUsec: number,
  ): boolean {
    const needBytes = RING_RECORD_HDR_BYTES + ((capturedBytes + 3) & ~3);
    let at = this.reserve(needBytes);
    if (at < 0) {
      this.tail = Atomics.load(this.ctl, CTL_TAIL);
      at = this.reserve(needBytes);
      if (at < 0) {
        this.dropped = (this.dropped + 1) | 0;
        Atomics.store(this.ctl, CTL_DROPPED, this.dropped);
        return false;
      }
    }
    const word = at >>> 2;
    const hdr = this.hdr;
    hdr[word] = capturedBytes;
    hdr[word + 1] = wireBytes;
    hdr[word + 2] = timeSec;
    hdr[word + 3] = timeUsec;
    const dst = at + RING_RECORD_HDR_BYTES;
    const data = this.data;
    // Short frames copy faster by hand than through a native call.
    if (capturedBytes <= 96) {
      for (let i = 0; i < capturedBytes; i++) data[dst + i] = frame[i];
    } else {
      data.set(frame.subarray(0, capturedBytes), dst);
    }
    let head = at + needBytes;
    if (head === this.dataBytes) head = 0;
    this.head = head;
    this.written = (this.written + 1) | 0;
    Atomics.store(this.ctl, CTL_WRITTEN, this.written);
    Atomics.store(this.ctl, CTL_HEAD, head);
    return true;
  }

  /** True once the main thread asked the worker to stop. */
  isStopRequested(): boolean {
    return Atomics.load(this.ctl, CTL_STOP) !== 0;
  }

  /**
   * Sleep up to `timeoutMs`, or less if a stop is requested. Blocking is
   * right here: the worker thread has nothing else to do.
   */
  idle(timeoutMs: number): void {
    Atomics.wait(this.ctl, CTL_STOP, 0, timeoutMs);
  }

  /** Publish libpcap's counters of the current session. */
  publishPcapStats(recv: number, drop: number, ifDrop: number): void {
    Atomics.store(this.ctl, CTL_PCAP_RECV, recv | 0);
    Atomics.store(this.ctl, CTL_PCAP_DROP, drop | 0);
    Atomics.store(this.ctl, CTL_PCAP_IFDROP, ifDrop | 0);
  }

  /**
   * Where a record of `needBytes` can start, writing a wrap mark if it goes
   * at 0, or -1 if it does not fit. Head never catches up with tail: equal
   * offsets mean empty.
   */
  private reserve(needBytes: number): number {
    const head = this.head;
    const tail = this.tail;
    const dataBytes = this.dataBytes;
    if (head >= tail) {
      const end = head + needBytes;
      if (end < dataBytes || (end === dataBytes && tail > 0)) return head;
      if (needBytes < tail) {
        this.hdr[head >>> 2] = WRAP_MARK;
        return 0;
      }
      return -1;
    }
    return head + needBytes < tail ? head : -1;
  }
}
