/**
 * The on-disk outbox: every message is appended here before it is published
 * and leaves only after its PUBACK, so broker outages and crashes lose nothing.
 */

import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  rateLimited,
  type Logger,
  type RateLimitedWarn,
} from '../telemetry/log.js';
import {
  decodeRecord,
  encodeRecord,
  findNextRecord,
  readRecordHead,
  type StoredMessage,
  validRecordBytesAt,
} from './outbox-record.js';

/** Settings of one outbox directory. */
export interface OutboxOptions {
  /** Cap on the bytes of all segment files; the oldest segments go first. */
  maxBytes: number;
  /** A segment is closed once the next record would take it past this. */
  segmentBytes: number;
  /**
   * `always` (default): an append returns only after its record reached the
   * disk, so a power cut loses at most the record being written. `never`
   * leaves flushing to the kernel (tests, tmpfs).
   */
  fsync?: 'always' | 'never';
  /** Persist the ack state after this many acks (default 256)... */
  ackFlushEveryAcks?: number;
  /** ...or this long after the first unsaved ack (default 1000 ms). */
  ackFlushIntervalMs?: number;
  /** Wall clock, for message expiry and `enqueuedAtMs` (default Date.now). */
  nowMs?: () => number;
  /** Receives warnings (drops, damaged records, I/O failures). */
  logger?: Logger;
}

/** A message to append; the outbox assigns the id. */
export interface OutboxMessage {
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  /** Wall-clock time after which the message is stale (MQTT 5 expiry). */
  expiresAtMs?: number;
  /** Wall-clock time of the append (default: now). */
  enqueuedAtMs?: number;
}

/** A message read back from the outbox, ready to publish. */
export interface OutboxRecord extends StoredMessage {
  /**
   * Expiry left at the time of `peek`, in ms (> 0), when the message has an
   * expiry: MQTT 5 wants the remaining interval when a message is resent.
   */
  remainingExpiryMs?: number;
}

/** Outbox state for the status message; counts are since `open`. */
export interface OutboxCounters {
  /** Records held and not yet acked (pending and in flight). */
  records: number;
  /** Bytes of all segment files, what `maxBytes` caps. */
  bytes: number;
  segments: number;
  /** Unacked records dropped to stay under `maxBytes`, and their bytes. */
  droppedRecords: number;
  droppedBytes: number;
  /** Damaged records found at the end of a segment (a cut-off write). */
  tornRecords: number;
  /** Damaged records with valid ones after them, and ones failing re-read. */
  corruptRecords: number;
  /** Records whose expiry passed before they were published. */
  expiredRecords: number;
}

/** Stable codes of `OutboxError`. */
export type OutboxErrorCode =
  'E_OUTBOX_IO' | 'E_OUTBOX_CONFIG' | 'E_OUTBOX_RECORD_TOO_LARGE';

/** The outbox directory cannot be used, or a request cannot be stored. */
export class OutboxError extends Error {
  override readonly name = 'OutboxError';
  readonly code: OutboxErrorCode;
  /** The file or directory involved. */
  readonly path: string;

  constructor(
    code: OutboxErrorCode,
    path: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = path;
  }
}

const STATE_PENDING = 0;
const STATE_IN_FLIGHT = 1;
const STATE_DONE = 2;

const SEGMENT_NAME = /^(\d{20})\.seg$/;
const ACK_FILE = 'acks.json';
const ACK_TMP_FILE = 'acks.json.tmp';

/** Acked ids above the watermark kept in the ack file; more only replay. */
const MAX_ACKED_IDS_SAVED = 4096;

/** Longest stretch of a segment `peek` reads with one call. */
const READ_RUN_BYTES = 4 << 20;

/** Repeated warnings (drops, damage) are folded into one per window. */
const WARN_WINDOW_MS = 60_000;
const WARN_BURST = 3;

/** Where one record sits and how far it got. */
interface Entry {
  id: number;
  segment: Segment;
  offsetBytes: number;
  recordBytes: number;
  state: number;
  /** Wall clock, -1 when the message does not expire. */
  expiresAtMs: number;
}

/** One segment file and the records found in it. */
interface Segment {
  path: string;
  sizeBytes: number;
  entries: Entry[];
  /** Entries not yet done (pending or in flight). */
  liveRecords: number;
  handle: FileHandle | null;
  isHandleWritable: boolean;
}

/** The ack file: what a restart must not replay, and the id to go on from. */
interface AckState {
  /** Every id up to this one is acked, dropped or expired. */
  ackedThroughId: number;
  /** Acked ids above the watermark (out-of-order acks), capped. */
  ackedIds: number[];
  /** The highest id ever appended, so ids never repeat. */
  lastId: number;
}

// Limitation: no lock file; two processes opening one directory at once would
// reuse ids and overwrite each other's ack state.
/**
 * A bounded, append-only, checksummed message store in one directory.
 * Records are numbered from 1 up, in append order, across restarts. All disk
 * work runs one task at a time, in call order.
 */
export class Outbox {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #isFsync: boolean;
  readonly #ackFlushEveryAcks: number;
  readonly #ackFlushIntervalMs: number;
  readonly #nowMs: () => number;
  readonly #log: Logger;
  readonly #warn: RateLimitedWarn;

  readonly #segments: Segment[] = [];
  /** Entries not yet done, by id. */
  readonly #live = new Map<number, Entry>();
  readonly #inFlight = new Set<Entry>();
  /** The segment appends go to; null: the next append starts one. */
  #active: Segment | null = null;
  #lastId = 0;
  #totalBytes = 0;

  #droppedRecords = 0;
  #droppedBytes = 0;
  #tornRecords = 0;
  #corruptRecords = 0;
  #expiredRecords = 0;

  #isAckStateDirty = false;
  #acksSinceFlush = 0;
  #ackTimer: NodeJS.Timeout | null = null;

  #tail: Promise<unknown> = Promise.resolve();
  #isClosed = false;

  private constructor(dir: string, options: OutboxOptions) {
    this.dir = dir;
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes = options.segmentBytes;
    this.#isFsync = (options.fsync ?? 'always') === 'always';
    this.#ackFlushEveryAcks = options.ackFlushEveryAcks ?? 256;
    this.#ackFlushIntervalMs = options.ackFlushIntervalMs ?? 1000;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#log = (options.logger ?? pino({ enabled: false })).child({
      component: 'outbox',
    });
    this.#warn = rateLimited(this.#log, {
      windowMs: WARN_WINDOW_MS,
      burst: WARN_BURST,
      nowMs: this.#nowMs,
    });
  }

  /**
   * Open (creating it if needed) the outbox in `dir` and recover what an
   * earlier process left: every record is checked; a damaged last record is
   * cut off, damaged ones in the middle are skipped; both are counted.
   * Throws `OutboxError` `E_OUTBOX_IO` naming the path when the directory
   * cannot be created, read or written, `E_OUTBOX_CONFIG` on bad options.
   */
  static async open(dir: string, options: OutboxOptions): Promise<Outbox> {
    checkOptions(dir, options);
    const outbox = new Outbox(dir, options);
    await outbox.#recover();
    return outbox;
  }

  /**
   * Store a message; resolves with its id once it is on disk (and, with
   * fsync `always`, synced). Makes room first by dropping the oldest
   * segments when the cap would be passed. Rejects with `OutboxError`.
   */
  append(message: OutboxMessage): Promise<number> {
    this.#assertOpen();
    return this.#run(() => this.#append(message));
  }

  /**
   * Up to `maxRecords` pending records (neither acked nor in flight), oldest
   * first, read back from disk. Expired records met on the way are dropped.
   */
  peek(maxRecords: number): Promise<OutboxRecord[]> {
    this.#assertOpen();
    return this.#run(() => this.#peek(maxRecords));
  }

  /**
   * Mark a pending record as handed to the broker. False when it is not
   * pending (in flight, acked, or dropped since `peek`): do not send it.
   */
  markInFlight(id: number): boolean {
    if (this.#isClosed) return false;
    const entry = this.#live.get(id);
    if (entry === undefined || entry.state !== STATE_PENDING) return false;
    entry.state = STATE_IN_FLIGHT;
    this.#inFlight.add(entry);
    return true;
  }

  /**
   * The broker has the record (PUBACK): it leaves the outbox. Acks may come
   * in any order. False when the id is not held (already acked, dropped)
   * or the outbox is closed: a PUBACK may still arrive during shutdown.
   */
  ack(id: number): boolean {
    if (this.#isClosed) return false;
    const entry = this.#live.get(id);
    if (entry === undefined) return false;
    this.#finish(entry);
    this.#acksSinceFlush++;
    this.#scheduleAckFlush();
    if (entry.segment.liveRecords === 0) {
      this.#runInBackground(() => this.#deleteDoneSegments());
    }
    return true;
  }

  /** After a disconnect: every in-flight record is pending again. */
  releaseInFlight(): number {
    if (this.#isClosed) return 0;
    const released = this.#inFlight.size;
    for (const entry of this.#inFlight) entry.state = STATE_PENDING;
    this.#inFlight.clear();
    return released;
  }

  /** Counters for the status message. */
  counters(): OutboxCounters {
    return {
      records: this.#live.size,
      bytes: this.#totalBytes,
      segments: this.#segments.length,
      droppedRecords: this.#droppedRecords,
      droppedBytes: this.#droppedBytes,
      tornRecords: this.#tornRecords,
      corruptRecords: this.#corruptRecords,
      expiredRecords: this.#expiredRecords,
    };
  }

  /** Wait for queued disk work, then save acks not saved yet. */
  flush(): Promise<void> {
    this.#assertOpen();
    return this.#run(() => this.#saveAckState());
  }

  /** Save the ack state and close all files; the outbox is unusable after. */
  async close(): Promise<void> {
    this.#assertOpen();
    this.#isClosed = true;
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    await this.#run(async () => {
      try {
        // Forced: the saved last id keeps ids unique even if the newest
        // record is damaged before the next start.
        await this.#saveAckState(true);
      } finally {
        for (const segment of this.#segments) await closeHandle(segment);
        this.#warn.flush({ all: true });
      }
    });
  }

  // Recovery

  async #recover(): Promise<void> {
    await io(this.dir, 'create directory', () =>
      mkdir(this.dir, { recursive: true }),
    );
    const names = await io(this.dir, 'list directory', () => readdir(this.dir));
    await removeIfPresent(join(this.dir, ACK_TMP_FILE));
    const ackState = await this.#readAckState();
    const acked = new Set(ackState.ackedIds);

    const segmentNames = names.filter((n) => SEGMENT_NAME.test(n)).sort();
    for (const name of segmentNames) {
      await this.#recoverSegment(join(this.dir, name));
    }

    this.#lastId = Math.max(
      this.#lastId,
      ackState.lastId,
      ackState.ackedThroughId,
      ...ackState.ackedIds,
    );
    const nowMs = this.#nowMs();
    for (const entry of [...this.#live.values()]) {
      if (entry.id <= ackState.ackedThroughId || acked.has(entry.id)) {
        this.#finish(entry);
      } else if (entry.expiresAtMs >= 0 && entry.expiresAtMs <= nowMs) {
        this.#finish(entry);
        this.#expiredRecords++;
      }
    }

    // Appends continue in the last segment; rotation handles a full one.
    this.#active = this.#segments.at(-1) ?? null;

    // Always rewrite the ack file: it proves the directory is writable now,
    // not at the first PUBACK, and records the id to continue from.
    this.#isAckStateDirty = true;
    await this.#deleteDoneSegments();
    await this.#saveAckState();
    this.#logRecovery(segmentNames.length);
  }

  /** Index one segment file; cut off a damaged tail. */
  async #recoverSegment(path: string): Promise<void> {
    const buf = await io(path, 'read segment', () => readFile(path));
    const segment: Segment = {
      path,
      sizeBytes: buf.length,
      entries: [],
      liveRecords: 0,
      handle: null,
      isHandleWritable: false,
    };
    let off = 0;
    while (off < buf.length) {
      const recordBytes = validRecordBytesAt(buf, off, buf.length);
      if (recordBytes > 0) {
        this.#indexRecovered(segment, buf, off, recordBytes);
        off += recordBytes;
        continue;
      }

      // Damage with a valid record after it is in the middle; skip it.
      // Damage running to the end of the file is a write cut off.
      const next = findNextRecord(buf, off + 1, buf.length);
      if (next >= 0) {
        this.#corruptRecords++;
        this.#warn(
          'outbox_record_corrupt',
          { path, byteOffset: off },
          'damaged outbox record skipped',
        );
        off = next;
        continue;
      }
      this.#tornRecords++;
      this.#warn(
        'outbox_record_torn',
        { path, byteOffset: off },
        'cut-off outbox record removed',
      );
      await this.#truncateSegment(segment, off);
      break;
    }

    if (segment.sizeBytes === 0) {
      await io(path, 'delete empty segment', () => unlink(path));
      return;
    }
    this.#segments.push(segment);
    this.#totalBytes += segment.sizeBytes;
  }

  #indexRecovered(
    segment: Segment,
    buf: Buffer,
    off: number,
    recordBytes: number,
  ): void {
    const head = readRecordHead(buf, off);

    // Ids only grow; a valid record breaking that is not ours to publish.
    if (!Number.isSafeInteger(head.id) || head.id <= this.#lastId) {
      this.#corruptRecords++;
      return;
    }
    this.#lastId = head.id;
    this.#addEntry(segment, head.id, off, recordBytes, head.expiresAtMs ?? -1);
  }

  async #truncateSegment(segment: Segment, sizeBytes: number): Promise<void> {
    await io(segment.path, 'truncate torn record', async () => {
      const handle = await open(segment.path, 'r+');
      try {
        await handle.truncate(sizeBytes);
        if (this.#isFsync) await handle.sync();
      } finally {
        await handle.close();
      }
    });
    segment.sizeBytes = sizeBytes;
  }

  async #readAckState(): Promise<AckState> {
    const path = join(this.dir, ACK_FILE);
    const empty: AckState = { ackedThroughId: 0, ackedIds: [], lastId: 0 };
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty;
      throw ioError(path, 'read ack state', error);
    }

    // The file is replaced by rename, so damage is unexpected; losing it
    // only replays acked records, which subscribers de-duplicate.
    const state = parseAckState(text);
    if (state === null) {
      this.#log.warn(
        { event: 'outbox_ack_state_invalid', path },
        'outbox ack state unreadable; acked records may be sent again',
      );
      return empty;
    }
    return state;
  }

  #logRecovery(segmentFiles: number): void {
    if (segmentFiles === 0) return;
    this.#log.info(
      {
        event: 'outbox_recovered',
        records: this.#live.size,
        bytes: this.#totalBytes,
        segments: this.#segments.length,
        tornRecords: this.#tornRecords,
        corruptRecords: this.#corruptRecords,
        expiredRecords: this.#expiredRecords,
      },
      'outbox recovered',
    );
  }

  // Appending

  async #append(message: OutboxMessage): Promise<number> {
    const id = this.#lastId + 1;
    const record = encodeRecord({
      id,
      topic: message.topic,
      payload: message.payload,
      retain: message.retain,
      expiresAtMs: message.expiresAtMs,
      enqueuedAtMs: message.enqueuedAtMs ?? this.#nowMs(),
    });
    if (record.length > this.#maxBytes) {
      throw new OutboxError(
        'E_OUTBOX_RECORD_TOO_LARGE',
        this.dir,
        `${this.dir}: record of ${record.length} bytes exceeds maxBytes ` +
          `${this.#maxBytes}`,
      );
    }

    await this.#makeRoom(record.length);
    const segment = await this.#activeSegment(id);
    const offsetBytes = segment.sizeBytes;
    await io(segment.path, 'append record', async () => {
      const handle = await this.#writableHandle(segment);
      try {
        await writeAll(handle, record);
        if (this.#isFsync) await handle.datasync();
      } catch (error) {
        // Leave no half record behind for the next append to follow.
        await handle.truncate(offsetBytes).catch(() => undefined);
        throw error;
      }
    });

    segment.sizeBytes += record.length;
    this.#totalBytes += record.length;
    this.#lastId = id;
    const expiresAtMs = message.expiresAtMs ?? -1;
    this.#addEntry(segment, id, offsetBytes, record.length, expiresAtMs);
    return id;
  }

  /** Rotate a full segment; drop the oldest segments to fit `needBytes`. */
  async #makeRoom(needBytes: number): Promise<void> {
    const active = this.#active;
    if (
      active !== null &&
      active.sizeBytes > 0 &&
      active.sizeBytes + needBytes > this.#segmentBytes
    ) {
      this.#active = null;
    }
    if (this.#totalBytes + needBytes <= this.#maxBytes) return;

    // The ack file keeps the last id, which may be in a dropped segment.
    await this.#saveAckState(true);
    while (
      this.#totalBytes + needBytes > this.#maxBytes &&
      this.#segments.length > 0
    ) {
      await this.#dropSegment(this.#segments[0]);
    }
  }

  async #activeSegment(firstId: number): Promise<Segment> {
    if (this.#active !== null) return this.#active;
    const name = `${String(firstId).padStart(20, '0')}.seg`;
    const segment: Segment = {
      path: join(this.dir, name),
      sizeBytes: 0,
      entries: [],
      liveRecords: 0,
      handle: null,
      isHandleWritable: false,
    };
    await io(segment.path, 'create segment', async () => {
      // O_EXCL: names come from ids, which never repeat.
      segment.handle = await open(segment.path, 'ax+');
      segment.isHandleWritable = true;
      if (this.#isFsync) await syncDir(this.dir);
    });
    this.#segments.push(segment);
    this.#active = segment;
    return segment;
  }

  async #writableHandle(segment: Segment): Promise<FileHandle> {
    if (segment.handle !== null && segment.isHandleWritable) {
      return segment.handle;
    }
    await closeHandle(segment);
    segment.handle = await open(segment.path, 'a+');
    segment.isHandleWritable = true;
    return segment.handle;
  }

  async #dropSegment(segment: Segment): Promise<void> {
    let records = 0;
    let bytes = 0;
    for (const entry of segment.entries) {
      if (entry.state === STATE_DONE) continue;
      records++;
      bytes += entry.recordBytes;
      this.#finish(entry);
    }
    await this.#deleteSegment(segment);
    this.#droppedRecords += records;
    this.#droppedBytes += bytes;
    if (records > 0) this.#logDrop(records, bytes);
  }

  #logDrop(records: number, bytes: number): void {
    this.#warn(
      'outbox_full_dropped',
      {
        records,
        bytes,
        droppedRecords: this.#droppedRecords,
        droppedBytes: this.#droppedBytes,
      },
      'outbox full; oldest messages dropped',
    );
  }

  // Reading back

  async #peek(maxRecords: number): Promise<OutboxRecord[]> {
    const nowMs = this.#nowMs();
    const picked: Entry[] = [];
    let isAnyFinished = false;
    for (const segment of this.#segments) {
      if (picked.length >= maxRecords) break;
      if (segment.liveRecords === 0) continue;
      for (const entry of segment.entries) {
        if (picked.length >= maxRecords) break;
        if (entry.state !== STATE_PENDING) continue;
        if (entry.expiresAtMs >= 0 && entry.expiresAtMs <= nowMs) {
          this.#finish(entry);
          this.#expiredRecords++;
          isAnyFinished = true;
          continue;
        }
        picked.push(entry);
      }
    }

    // Records next to each other on disk are read with one call: replay
    // after a long outage reads thousands of them.
    const out: OutboxRecord[] = [];
    for (let first = 0; first < picked.length;) {
      let end = first + 1;
      while (
        end < picked.length &&
        isNextOnDisk(picked[end - 1], picked[end])
      ) {
        if (
          picked[end].offsetBytes - picked[first].offsetBytes >
          READ_RUN_BYTES
        ) {
          break;
        }
        end++;
      }
      const corrupt = await this.#readRun(picked.slice(first, end), nowMs, out);
      if (corrupt > 0) isAnyFinished = true;
      first = end;
    }

    if (isAnyFinished) {
      this.#scheduleAckFlush();
      await this.#deleteDoneSegments();
    }
    return out;
  }

  /**
   * Read records lying back to back in one segment into `out`; ones failing
   * their check are dropped and counted. Returns how many failed.
   */
  async #readRun(
    run: Entry[],
    nowMs: number,
    out: OutboxRecord[],
  ): Promise<number> {
    const segment = run[0].segment;
    const startBytes = run[0].offsetBytes;
    const last = run[run.length - 1];
    const buf = Buffer.allocUnsafe(
      last.offsetBytes + last.recordBytes - startBytes,
    );
    await io(segment.path, 'read records', async () => {
      if (segment.handle === null) {
        segment.handle = await open(segment.path, 'r');
        segment.isHandleWritable = false;
      }
      await readAll(segment.handle, buf, startBytes);
    });

    let corrupt = 0;
    for (const entry of run) {
      const off = entry.offsetBytes - startBytes;
      const end = off + entry.recordBytes;
      if (validRecordBytesAt(buf, off, end) !== entry.recordBytes) {
        this.#finish(entry);
        this.#corruptRecords++;
        corrupt++;
        this.#warn(
          'outbox_record_corrupt',
          { path: segment.path, byteOffset: entry.offsetBytes },
          'outbox record failed its check on re-read; dropped',
        );
        continue;
      }
      const record: OutboxRecord = decodeRecord(buf, off, entry.recordBytes);
      if (record.expiresAtMs !== undefined) {
        record.remainingExpiryMs = record.expiresAtMs - nowMs;
      }
      out.push(record);
    }
    return corrupt;
  }

  // Ack state and segment removal

  #addEntry(
    segment: Segment,
    id: number,
    offsetBytes: number,
    recordBytes: number,
    expiresAtMs: number,
  ): void {
    const entry: Entry = {
      id,
      segment,
      offsetBytes,
      recordBytes,
      state: STATE_PENDING,
      expiresAtMs,
    };
    segment.entries.push(entry);
    segment.liveRecords++;
    this.#live.set(id, entry);
  }

  /** The record needs no sending any more (acked, expired, dropped...). */
  #finish(entry: Entry): void {
    if (entry.state === STATE_DONE) return;
    if (entry.state === STATE_IN_FLIGHT) this.#inFlight.delete(entry);
    entry.state = STATE_DONE;
    entry.segment.liveRecords--;
    this.#live.delete(entry.id);
    this.#isAckStateDirty = true;
  }

  async #deleteDoneSegments(): Promise<void> {
    const done = this.#segments.filter((s) => s.liveRecords === 0);
    if (done.length === 0) return;

    // Save first: the last id may be in a segment about to go.
    await this.#saveAckState(true);
    for (const segment of done) await this.#deleteSegment(segment);
  }

  async #deleteSegment(segment: Segment): Promise<void> {
    await closeHandle(segment);
    await io(segment.path, 'delete segment', async () => {
      try {
        await unlink(segment.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    });
    for (const entry of segment.entries) this.#live.delete(entry.id);
    this.#segments.splice(this.#segments.indexOf(segment), 1);
    this.#totalBytes -= segment.sizeBytes;
    if (this.#active === segment) this.#active = null;
  }

  #scheduleAckFlush(): void {
    if (this.#isClosed) return;
    if (this.#acksSinceFlush >= this.#ackFlushEveryAcks) {
      this.#acksSinceFlush = 0;
      this.#runInBackground(() => this.#saveAckState());
      return;
    }
    if (this.#ackTimer !== null) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = null;
      if (!this.#isClosed) this.#runInBackground(() => this.#saveAckState());
    }, this.#ackFlushIntervalMs);
    this.#ackTimer.unref();
  }

  /** Write the ack file atomically (temporary file, sync, rename). */
  async #saveAckState(isForced = false): Promise<void> {
    if (!this.#isAckStateDirty && !isForced) return;
    const state = this.#ackState();
    const path = join(this.dir, ACK_FILE);
    const tmpPath = join(this.dir, ACK_TMP_FILE);
    await io(path, 'save ack state', async () => {
      const handle = await open(tmpPath, 'w');
      try {
        await handle.writeFile(JSON.stringify({ version: 1, ...state }));
        if (this.#isFsync) await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(tmpPath, path);
      if (this.#isFsync) await syncDir(this.dir);
    });
    this.#isAckStateDirty = false;
    this.#acksSinceFlush = 0;
  }

  /** The watermark is just below the oldest record still held. */
  #ackState(): AckState {
    let ackedThroughId = this.#lastId;
    const ackedIds: number[] = [];
    let isWatermarkFound = false;
    for (const segment of this.#segments) {
      // Past the watermark only done entries matter; most segments have none.
      if (isWatermarkFound && segment.liveRecords === segment.entries.length) {
        continue;
      }
      for (const entry of segment.entries) {
        if (!isWatermarkFound) {
          if (entry.state === STATE_DONE) continue;
          ackedThroughId = entry.id - 1;
          isWatermarkFound = true;
        } else if (entry.state === STATE_DONE) {
          ackedIds.push(entry.id);
          if (ackedIds.length >= MAX_ACKED_IDS_SAVED) {
            return { ackedThroughId, ackedIds, lastId: this.#lastId };
          }
        }
      }
    }
    return { ackedThroughId, ackedIds, lastId: this.#lastId };
  }

  // Plumbing

  /** Queue disk work behind earlier work; a failure does not stop the queue. */
  #run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #runInBackground(task: () => Promise<void>): void {
    this.#run(task).catch((error: unknown) => {
      // Nothing is lost: the ack state is saved again later and a segment
      // left behind is deleted at the next chance or replayed after restart.
      this.#warn(
        'outbox_io_failed',
        {
          path: error instanceof OutboxError ? error.path : this.dir,
          err: error,
        },
        'outbox background write failed',
      );
    });
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new Error(`outbox ${this.dir} is closed`);
  }
}

function isNextOnDisk(a: Entry, b: Entry): boolean {
  return (
    a.segment === b.segment && a.offsetBytes + a.recordBytes === b.offsetBytes
  );
}

function checkOptions(dir: string, options: OutboxOptions): void {
  const fail = (what: string): never => {
    throw new OutboxError('E_OUTBOX_CONFIG', dir, `outbox ${dir}: ${what}`);
  };
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) {
    fail('maxBytes must be a positive integer');
  }
  if (
    !Number.isSafeInteger(options.segmentBytes) ||
    options.segmentBytes < 1 ||
    options.segmentBytes > options.maxBytes
  ) {
    fail('segmentBytes must be a positive integer, at most maxBytes');
  }
  if (
    options.fsync !== undefined &&
    !['always', 'never'].includes(options.fsync)
  ) {
    fail("fsync must be 'always' or 'never'");
  }
  const everyAcks = options.ackFlushEveryAcks;
  if (
    everyAcks !== undefined &&
    !(Number.isSafeInteger(everyAcks) && everyAcks >= 1)
  ) {
    fail('ackFlushEveryAcks must be a positive integer');
  }
  const intervalMs = options.ackFlushIntervalMs;
  if (intervalMs !== undefined && !(intervalMs >= 0 && intervalMs < 2 ** 31)) {
    fail('ackFlushIntervalMs must be 0 to 2^31-1');
  }
}

function parseAckState(text: string): AckState | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const isId = (x: unknown): x is number =>
    Number.isSafeInteger(x) && (x as number) >= 0;
  if (v.version !== 1 || !isId(v.ackedThroughId) || !isId(v.lastId)) {
    return null;
  }
  if (!Array.isArray(v.ackedIds) || !v.ackedIds.every(isId)) return null;
  return {
    ackedThroughId: v.ackedThroughId,
    ackedIds: v.ackedIds,
    lastId: v.lastId,
  };
}

/** Run a file operation; turn its failure into `E_OUTBOX_IO` naming `path`. */
async function io<T>(
  path: string,
  action: string,
  task: () => Promise<T>,
): Promise<T> {
  try {
    return await task();
  } catch (error) {
    throw ioError(path, action, error);
  }
}

function ioError(path: string, action: string, error: unknown): OutboxError {
  if (error instanceof OutboxError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new OutboxError(
    'E_OUTBOX_IO',
    path,
    `${path}: ${action} failed: ${reason}`,
    error,
  );
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let doneBytes = 0;
  while (doneBytes < data.length) {
    const { bytesWritten } = await handle.write(
      data,
      doneBytes,
      data.length - doneBytes,
      null,
    );
    doneBytes += bytesWritten;
  }
}

async function readAll(
  handle: FileHandle,
  buf: Buffer,
  positionBytes: number,
): Promise<void> {
  let doneBytes = 0;
  while (doneBytes < buf.length) {
    const { bytesRead } = await handle.read(
      buf,
      doneBytes,
      buf.length - doneBytes,
      positionBytes + doneBytes,
    );
    if (bytesRead === 0) throw new Error('file shorter than its index');
    doneBytes += bytesRead;
  }
}

async function closeHandle(segment: Segment): Promise<void> {
  const handle = segment.handle;
  segment.handle = null;
  segment.isHandleWritable = false;
  if (handle !== null) await handle.close().catch(() => undefined);
}

/** Make a created or renamed directory entry survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeIfPresent(path: string): Promise<void> {
  await io(path, 'remove stale file', async () => {
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  });
}
