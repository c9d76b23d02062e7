/**
 * A subscriber's proof of completeness: per sensor and topic, sequence
 * numbers run 1, 2, 3... within a boot; a jump is a gap, a repeat a
 * duplicate (a replay after a reconnect), a new boot id starts again.
 */

/** What one received message means for the stream it belongs to. */
export type SequenceVerdict =
  | { kind: 'next' }
  | { kind: 'first' }
  | { kind: 'duplicate' }
  | { kind: 'gap'; missing: number; fromSeq: number; toSeq: number }
  | { kind: 'reboot'; previousBootId: string }
  | { kind: 'unsequenced' };

/** Streams followed before the least recently seen is forgotten. */
export const SEQUENCE_TRACKER_MAX_STREAMS = 65_536;

interface StreamState {
  bootId: string;
  /** Highest sequence number received in this boot. */
  highestSeq: number;
  /** Sequence numbers above `highestSeq - window` seen out of order. */
  seenAbove: Set<number>;
}

/** Out-of-order arrivals remembered per stream to spot duplicates. */
const DUPLICATE_WINDOW = 1024;

/** Tracks (boot id, seq) of every stream: sensor + topic. */
export class SequenceTracker {
  /** Totals across streams, for a subscriber's summary line. */
  received = 0;
  duplicates = 0;
  missing = 0;
  private readonly streams = new Map<string, StreamState>();

  constructor(readonly maxStreams = SEQUENCE_TRACKER_MAX_STREAMS) {}

  /**
   * Account one message of `stream` (e.g. "site/sensor/flows"). Sequence 0
   * marks messages outside the sequence (the broker's last will).
   */
  observe(stream: string, bootId: string, seq: number): SequenceVerdict {
    if (seq === 0) return { kind: 'unsequenced' };
    this.received++;
    const state = this.streams.get(stream);
    if (state === undefined || state.bootId !== bootId) {
      const previousBootId = state?.bootId;
      this.remember(stream, {
        bootId,
        highestSeq: seq,
        seenAbove: new Set([seq]),
      });
      if (previousBootId !== undefined) {
        return { kind: 'reboot', previousBootId };
      }
      return { kind: 'first' };
    }

    if (seq <= state.highestSeq) {
      // Limitation: a late message older than the window counts as a
      // duplicate; QoS 1 replays never arrive that late.
      if (
        state.seenAbove.has(seq) ||
        seq <= state.highestSeq - DUPLICATE_WINDOW
      ) {
        this.duplicates++;
        return { kind: 'duplicate' };
      }
      state.seenAbove.add(seq);
      this.missing--;
      return { kind: 'next' };
    }

    const fromSeq = state.highestSeq + 1;
    state.highestSeq = seq;
    state.seenAbove.add(seq);
    for (const old of state.seenAbove) {
      if (old <= seq - DUPLICATE_WINDOW) state.seenAbove.delete(old);
    }
    if (seq === fromSeq) return { kind: 'next' };
    const missing = seq - fromSeq;
    this.missing += missing;
    return { kind: 'gap', missing, fromSeq, toSeq: seq - 1 };
  }

  private remember(stream: string, state: StreamState): void {
    this.streams.delete(stream);
    this.streams.set(stream, state);
    if (this.streams.size > this.maxStreams) {
      const oldest = this.streams.keys().next().value as string;
      this.streams.delete(oldest);
    }
  }
}
