/**
 * The outbox's on-disk record: a framed, checksummed encoding of one message
 * to publish, and a scanner that finds the next valid record after damage.
 */

import { crc32c } from './outbox-crc32c.js';

/**
 * Record layout, all integers little-endian:
 *
 *   0  u32  magic 0x5842_4f53 ("SOBX" on disk), to resynchronise after damage
 *   4  u32  bodyBytes, the length of everything after the 12-byte header
 *   8  u32  CRC-32C over bytes 4..8 (bodyBytes) and then the body
 *  12  u8   format version (1)
 *  13  u8   flags: bit 0 retain, bit 1 has expiry
 *  14  u16  topicBytes (UTF-8)
 *  16  f64  id (an integer, exact below 2^53)
 *  24  f64  enqueuedAtMs, wall clock
 *  32  f64  expiresAtMs, wall clock (0 when the flag is clear)
 *  40  ...  topic, then payload up to the end of the body
 */
export const RECORD_MAGIC = 0x58424f53;
export const RECORD_HEADER_BYTES = 12;
export const RECORD_FIXED_BODY_BYTES = 28;
export const RECORD_VERSION = 1;

const FLAG_RETAIN = 1;
const FLAG_HAS_EXPIRY = 2;

/** MQTT topics are at most 65535 bytes of UTF-8 (MQTT 5 section 1.5.4). */
export const MAX_TOPIC_BYTES = 0xffff;

/** The magic as it appears on disk, for `Buffer.indexOf`. */
const MAGIC_BYTES = Buffer.from([0x53, 0x4f, 0x42, 0x58]);

/** One message as stored: what the publisher needs to send it again. */
export interface StoredMessage {
  /** Outbox id: increases by one per append, across restarts. */
  id: number;
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  /** Wall-clock time after which the message is stale (MQTT 5 expiry). */
  expiresAtMs?: number;
  /** Wall-clock time of the append. */
  enqueuedAtMs: number;
}

/** Encode one message as a complete record (header, checksum, body). */
export function encodeRecord(message: StoredMessage): Buffer {
  const topic = Buffer.from(message.topic, 'utf8');
  if (topic.length > MAX_TOPIC_BYTES) {
    throw new RangeError(`outbox: topic is ${topic.length} bytes, max 65535`);
  }
  const bodyBytes =
    RECORD_FIXED_BODY_BYTES + topic.length + message.payload.length;
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyBytes);
  const hasExpiry = message.expiresAtMs !== undefined;

  out.writeUInt32LE(RECORD_MAGIC, 0);
  out.writeUInt32LE(bodyBytes, 4);
  out[12] = RECORD_VERSION;
  out[13] =
    (message.retain ? FLAG_RETAIN : 0) | (hasExpiry ? FLAG_HAS_EXPIRY : 0);
  out.writeUInt16LE(topic.length, 14);
  out.writeDoubleLE(message.id, 16);
  out.writeDoubleLE(message.enqueuedAtMs, 24);
  out.writeDoubleLE(hasExpiry ? (message.expiresAtMs as number) : 0, 32);
  topic.copy(out, 40);
  out.set(message.payload, 40 + topic.length);

  out.writeUInt32LE(recordCrc(out, 0, out.length), 8);
  return out;
}

/**
 * Total length of the valid record at `off` in `buf[0, end)`, or 0 when
 * there is none there (short, bad magic, bad length, checksum mismatch).
 */
export function validRecordBytesAt(
  buf: Buffer,
  off: number,
  end: number,
): number {
  if (end - off < RECORD_HEADER_BYTES) return 0;
  if (buf.readUInt32LE(off) !== RECORD_MAGIC) return 0;

  // A damaged length makes the checksum read the wrong bytes, so it fails
  // too; the range check only keeps the read inside the buffer.
  const bodyBytes = buf.readUInt32LE(off + 4);
  if (bodyBytes < RECORD_FIXED_BODY_BYTES) return 0;
  const recordBytes = RECORD_HEADER_BYTES + bodyBytes;
  if (recordBytes > end - off) return 0;

  const crc = recordCrc(buf, off, off + recordBytes);
  if (crc !== buf.readUInt32LE(off + 8)) return 0;

  if (buf[off + 12] !== RECORD_VERSION) return 0;
  if (buf.readUInt16LE(off + 14) > bodyBytes - RECORD_FIXED_BODY_BYTES) {
    return 0;
  }
  return recordBytes;
}

/**
 * Offset of the next valid record at or after `from`, or -1. Used after a
 * damaged record: a valid one further on means the damage is in the middle.
 */
export function findNextRecord(buf: Buffer, from: number, end: number): number {
  let at = buf.indexOf(MAGIC_BYTES, from);
  while (at >= 0 && at < end) {
    if (validRecordBytesAt(buf, at, end) > 0) return at;
    at = buf.indexOf(MAGIC_BYTES, at + 1);
  }
  return -1;
}

/** The id and expiry of a record `validRecordBytesAt` accepted. */
export function readRecordHead(
  buf: Buffer,
  off: number,
): { id: number; expiresAtMs: number | undefined } {
  const flags = buf[off + 13];
  return {
    id: buf.readDoubleLE(off + 16),
    expiresAtMs:
      flags & FLAG_HAS_EXPIRY ? buf.readDoubleLE(off + 32) : undefined,
  };
}

/** Decode a record `validRecordBytesAt` accepted; copies the payload. */
export function decodeRecord(
  buf: Buffer,
  off: number,
  recordBytes: number,
): StoredMessage {
  const flags = buf[off + 13];
  const topicBytes = buf.readUInt16LE(off + 14);
  const topicStart = off + 40;
  const payloadStart = topicStart + topicBytes;
  const message: StoredMessage = {
    id: buf.readDoubleLE(off + 16),
    topic: buf.toString('utf8', topicStart, payloadStart),
    // A plain Uint8Array copy: the caller may keep it after `buf` is reused.
    payload: new Uint8Array(buf.subarray(payloadStart, off + recordBytes)),
    retain: (flags & FLAG_RETAIN) !== 0,
    enqueuedAtMs: buf.readDoubleLE(off + 24),
  };
  if (flags & FLAG_HAS_EXPIRY) message.expiresAtMs = buf.readDoubleLE(off + 32);
  return message;
}

/** The checksum covers the length field and the body, not itself. */
function recordCrc(buf: Uint8Array, off: number, end: number): number {
  return crc32c(
    buf,
    off + RECORD_HEADER_BYTES,
    end,
    crc32c(buf, off + 4, off + 8),
  );
}
