/**
 * QUIC client Initial packets (RFC 9000 section 17.2.2, RFC 9001 section 5):
 * removing their protection and gathering the ClientHello from CRYPTO frames.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  type BinaryLike,
} from 'node:crypto';

import { u16be, u32be } from '../decode/bytes.js';
import { Layer, type DecodedPacket } from '../decode/packet.js';
import { TLS_HANDSHAKE_CLIENT_HELLO } from './tls-client-hello.js';

/** QUIC version 1 (RFC 9000) and version 2 (RFC 9369). */
export const QuicVersion = { V1: 0x00000001, V2: 0x6b3343cf } as const;

/**
 * A client must pad datagrams carrying its Initial packets to at least
 * 1200 bytes (RFC 9000 section 14.1); shorter ones are not looked at.
 */
export const QUIC_MIN_INITIAL_DATAGRAM_BYTES = 1200;
/** Connection ids are at most 20 bytes in QUIC v1 and v2. */
const MAX_CID_BYTES = 20;
/** AES-GCM authentication tag at the end of every packet. */
const AEAD_TAG_BYTES = 16;
/** Header protection samples 16 bytes, 4 bytes after the packet number. */
const HP_SAMPLE_BYTES = 16;
const HP_SAMPLE_SKIP_BYTES = 4;
/** Packets coalesced in one datagram that are looked at (RFC 9000 12.2). */
const MAX_COALESCED_PACKETS = 4;

/** Frame types allowed in Initial packets (RFC 9000 section 12.4). */
const Frame = {
  Padding: 0x00,
  Ping: 0x01,
  Ack: 0x02,
  AckEcn: 0x03,
  Crypto: 0x06,
  ConnectionClose: 0x1c,
} as const;

interface VersionParams {
  salt: Buffer;
  initialType: number;
  keyLabel: string;
  ivLabel: string;
  hpLabel: string;
}

const V1_PARAMS: VersionParams = {
  // RFC 9001 section 5.2.
  salt: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'),
  initialType: 0,
  keyLabel: 'quic key',
  ivLabel: 'quic iv',
  hpLabel: 'quic hp',
};

const V2_PARAMS: VersionParams = {
  // RFC 9369 sections 3.2 and 3.3.
  salt: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'),
  initialType: 1,
  keyLabel: 'quicv2 key',
  ivLabel: 'quicv2 iv',
  hpLabel: 'quicv2 hp',
};

/** Keys protecting a client's Initial packets (RFC 9001 section 5.2). */
export interface QuicInitialKeys {
  /** AEAD_AES_128_GCM key, 16 bytes. */
  key: Buffer;
  /** AEAD nonce base, 12 bytes. */
  iv: Buffer;
  /** Header protection key (AES-128-ECB), 16 bytes. */
  hp: Buffer;
}

/**
 * Derive the client Initial keys from the Destination Connection ID of the
 * client's first Initial packet: HKDF-Extract with the version's salt,
 * then HKDF-Expand-Label "client in", "quic key", "quic iv", "quic hp".
 * Returns null for a version other than 1 or 2.
 */
export function deriveClientInitialKeys(
  version: number,
  dcid: Uint8Array,
): QuicInitialKeys | null {
  const params = versionParams(version);
  if (params === null) return null;
  const initialSecret = hmacSha256(params.salt, dcid);
  const clientSecret = expandLabel(initialSecret, 'client in', 32);
  return {
    key: expandLabel(clientSecret, params.keyLabel, 16),
    iv: expandLabel(clientSecret, params.ivLabel, 12),
    hp: expandLabel(clientSecret, params.hpLabel, 16),
  };
}

/**
 * Whether a UDP payload can be a client's datagram with an Initial packet
 * first: long header with the fixed bit, Initial type, version 1 or 2,
 * padded to 1200 bytes. A handful of byte checks, no allocation.
 */
export function looksLikeQuicInitial(
  buf: Uint8Array,
  off: number,
  end: number,
): boolean {
  if (end - off < QUIC_MIN_INITIAL_DATAGRAM_BYTES) return false;
  const first = buf[off];
  if ((first & 0xc0) !== 0xc0) return false;
  const params = versionParams(u32be(buf, off + 1));
  return params !== null && ((first >> 4) & 3) === params.initialType;
}

/**
 * Remove header and packet protection from the client Initial packet at
 * `buf[off .. end)` (RFC 9001 sections 5.3 and 5.4). Returns the frames
 * (plaintext payload) and where the packet ends, or null when it is not a
 * client Initial packet this can open. Never throws; allocates the keys
 * (unless `cache` has them) and the plaintext.
 */
export function openQuicClientInitial(
  buf: Uint8Array,
  off: number,
  end: number,
  cache?: QuicKeyCache,
): { payload: Uint8Array; packetEnd: number } | null {
  end = Math.min(end, buf.length);
  if (end - off < 7) return null;
  const first = buf[off];
  if ((first & 0xc0) !== 0xc0) return null;
  const version = u32be(buf, off + 1);
  const params = versionParams(version);
  if (params === null || ((first >> 4) & 3) !== params.initialType) {
    return null;
  }

  let pos = off + 5;
  const dcidBytes = buf[pos];
  if (dcidBytes > MAX_CID_BYTES || end - pos < 2 + dcidBytes) return null;
  const dcid = buf.subarray(pos + 1, pos + 1 + dcidBytes);
  pos += 1 + dcidBytes;
  const scidBytes = buf[pos];
  if (scidBytes > MAX_CID_BYTES) return null;
  pos += 1 + scidBytes;

  const tokenBytes = readVarint(buf, pos, end);
  if (tokenBytes < 0) return null;
  pos += varintBytes(buf[pos]) + tokenBytes;
  const lengthBytes = readVarint(buf, pos, end);
  if (lengthBytes < 0) return null;
  const pnOff = pos + varintBytes(buf[pos]);
  const packetEnd = pnOff + lengthBytes;
  if (packetEnd > end) return null;
  const sampleOff = pnOff + HP_SAMPLE_SKIP_BYTES;
  if (sampleOff + HP_SAMPLE_BYTES > packetEnd) return null;

  // Limitation: keys come from this packet's own connection id, so a
  // ClientHello continued after the server's first reply (which changes the
  // id but not the keys) is missed; clients send it whole before that.
  if (cache === undefined) {
    const keys = deriveClientInitialKeys(version, dcid);
    return keys === null ? null : unprotect(buf, off, pnOff, packetEnd, keys);
  }
  const slot = cache.find(version, dcid);
  if (slot >= 0 && cache.isFailed(slot)) return null;
  const keys = slot >= 0 ? cache.keysAt(slot) : cache.add(version, dcid);
  const opened = unprotect(buf, off, pnOff, packetEnd, keys);
  if (opened === null) cache.markFailed(version, dcid);
  return opened;
}

/** Connection ids remembered by a `QuicKeyCache`. */
const KEY_CACHE_ENTRIES = 16;

/**
 * The Initial keys of the last few Destination Connection IDs, and which
 * of them did not open a packet. A client's first flight and its
 * retransmissions share one id; a server's Initials carry another that
 * never opens with client keys, so after one try they cost a lookup.
 */
export class QuicKeyCache {
  private readonly versions = new Float64Array(KEY_CACHE_ENTRIES);
  private readonly cidBytes = new Int8Array(KEY_CACHE_ENTRIES).fill(-1);
  private readonly cids = new Uint8Array(KEY_CACHE_ENTRIES * MAX_CID_BYTES);
  private readonly failed = new Uint8Array(KEY_CACHE_ENTRIES);
  private readonly keys: Array<QuicInitialKeys | null> = new Array(
    KEY_CACHE_ENTRIES,
  ).fill(null);
  private nextEntry = 0;

  /** Entry holding this version and connection id, or -1. */
  find(version: number, dcid: Uint8Array): number {
    for (let i = 0; i < KEY_CACHE_ENTRIES; i++) {
      if (this.cidBytes[i] !== dcid.length || this.versions[i] !== version) {
        continue;
      }
      let same = true;
      const base = i * MAX_CID_BYTES;
      for (let j = 0; j < dcid.length && same; j++) {
        same = this.cids[base + j] === dcid[j];
      }
      if (same) return i;
    }
    return -1;
  }

  /** Whether packets with this entry's connection id failed to open. */
  isFailed(entry: number): boolean {
    return this.failed[entry] === 1;
  }

  /** The keys of an entry that `find` returned. */
  keysAt(entry: number): QuicInitialKeys {
    return this.keys[entry] as QuicInitialKeys;
  }

  /** Derive and remember the keys of a connection id, oldest out. */
  add(version: number, dcid: Uint8Array): QuicInitialKeys {
    const keys = deriveClientInitialKeys(version, dcid) as QuicInitialKeys;
    const entry = this.nextEntry;
    this.nextEntry = (entry + 1) % KEY_CACHE_ENTRIES;
    this.versions[entry] = version;
    this.cidBytes[entry] = dcid.length;
    this.cids.set(dcid, entry * MAX_CID_BYTES);
    this.failed[entry] = 0;
    this.keys[entry] = keys;
    return keys;
  }

  /** Remember that packets with this connection id do not open. */
  markFailed(version: number, dcid: Uint8Array): void {
    const entry = this.find(version, dcid);
    if (entry >= 0) this.failed[entry] = 1;
  }
}

/** Header protection off, then AEAD open; null when the tag is wrong. */
function unprotect(
  buf: Uint8Array,
  off: number,
  pnOff: number,
  packetEnd: number,
  keys: QuicInitialKeys,
): { payload: Uint8Array; packetEnd: number } | null {
  const sampleOff = pnOff + HP_SAMPLE_SKIP_BYTES;
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(buf.subarray(sampleOff, sampleOff + HP_SAMPLE_BYTES));

  // Long headers protect the low 4 bits of the first byte.
  const first = buf[off] ^ (mask[0] & 0x0f);
  const pnBytes = (first & 0x03) + 1;
  const header = Buffer.from(buf.subarray(off, pnOff + pnBytes));
  header[0] = first;
  let packetNumber = 0;
  for (let i = 0; i < pnBytes; i++) {
    const byte = buf[pnOff + i] ^ mask[1 + i];
    header[pnOff - off + i] = byte;
    packetNumber = packetNumber * 256 + byte;
  }

  const cipherOff = pnOff + pnBytes;
  const tagOff = packetEnd - AEAD_TAG_BYTES;
  if (tagOff < cipherOff) return null;
  // The nonce is the IV with the packet number XORed into its low bytes.
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) {
    nonce[nonce.length - 1 - i] ^= (packetNumber >>> (8 * i)) & 0xff;
  }

  try {
    const gcm = createDecipheriv('aes-128-gcm', keys.key, nonce);
    gcm.setAAD(header);
    gcm.setAuthTag(buf.subarray(tagOff, packetEnd));
    const head = gcm.update(buf.subarray(cipherOff, tagOff));
    // Wrong keys give random bytes, which almost never walk as Initial
    // frames; skipping `final` then spares the cost of its exception.
    if (!forEachCryptoFrame(head, 0, head.length, ignoreCrypto)) return null;
    const tail = gcm.final();
    const payload = tail.length === 0 ? head : Buffer.concat([head, tail]);
    return { payload, packetEnd };
  } catch {
    // Wrong keys: a server's Initial, or bytes that only look like one.
    return null;
  }
}

function ignoreCrypto(): void {}

/**
 * Call `onCrypto(offset, buf, off, end)` for every CRYPTO frame in an
 * Initial packet's frames (RFC 9000 section 19.6). Returns false when the
 * frames are malformed or of a type Initial packets may not carry.
 */
export function forEachCryptoFrame(
  buf: Uint8Array,
  off: number,
  end: number,
  onCrypto: (offset: number, buf: Uint8Array, off: number, end: number) => void,
): boolean {
  let pos = off;
  // Every frame takes at least one byte, so this bounds the walk.
  while (pos < end) {
    const type = buf[pos];
    if (type === Frame.Padding || type === Frame.Ping) {
      pos++;
    } else if (type === Frame.Crypto) {
      pos++;
      const offset = readVarint(buf, pos, end);
      if (offset < 0) return false;
      pos += varintBytes(buf[pos]);
      const length = readVarint(buf, pos, end);
      if (length < 0) return false;
      pos += varintBytes(buf[pos]);
      if (end - pos < length) return false;
      onCrypto(offset, buf, pos, pos + length);
      pos += length;
    } else if (type === Frame.Ack || type === Frame.AckEcn) {
      pos = skipAck(buf, pos + 1, end, type === Frame.AckEcn);
      if (pos < 0) return false;
    } else if (type === Frame.ConnectionClose) {
      pos = skipVarints(buf, pos + 1, end, 2);
      if (pos < 0) return false;
      const reasonBytes = readVarint(buf, pos, end);
      if (reasonBytes < 0) return false;
      pos += varintBytes(buf[pos]) + reasonBytes;
      if (pos > end) return false;
    } else {
      return false;
    }
  }
  return true;
}

/** ACK frame body: largest, delay, range count, first range, ranges. */
function skipAck(
  buf: Uint8Array,
  pos: number,
  end: number,
  hasEcn: boolean,
): number {
  pos = skipVarints(buf, pos, end, 2);
  if (pos < 0) return -1;
  const rangeCount = readVarint(buf, pos, end);
  if (rangeCount < 0 || rangeCount > end - pos) return -1;
  pos += varintBytes(buf[pos]);
  // First range, then a gap and a length per further range.
  pos = skipVarints(buf, pos, end, 1 + 2 * rangeCount);
  if (pos < 0 || !hasEcn) return pos;
  return skipVarints(buf, pos, end, 3);
}

function skipVarints(
  buf: Uint8Array,
  pos: number,
  end: number,
  count: number,
): number {
  for (let i = 0; i < count; i++) {
    if (pos >= end) return -1;
    const bytes = varintBytes(buf[pos]);
    if (end - pos < bytes) return -1;
    pos += bytes;
  }
  return pos;
}

/** Bytes of the variable-length integer whose first byte is `first`. */
function varintBytes(first: number): number {
  return 1 << (first >> 6);
}

/**
 * Variable-length integer (RFC 9000 section 16) at `pos`, or -1 when it
 * runs past `end`. Values above 2^53 lose precision, which only matters
 * for offsets far beyond anything buffered.
 */
function readVarint(buf: Uint8Array, pos: number, end: number): number {
  if (pos >= end) return -1;
  const bytes = varintBytes(buf[pos]);
  if (end - pos < bytes) return -1;
  let value = buf[pos] & 0x3f;
  for (let i = 1; i < bytes; i++) value = value * 256 + buf[pos + i];
  return value;
}

/** Limitation: draft versions and Google QUIC (Q0xx) are not opened. */
function versionParams(version: number): VersionParams | null {
  if (version === QuicVersion.V1) return V1_PARAMS;
  if (version === QuicVersion.V2) return V2_PARAMS;
  return null;
}

function hmacSha256(key: BinaryLike, data: BinaryLike): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for
 * outputs of at most one SHA-256 block (32 bytes).
 */
function expandLabel(secret: Buffer, label: string, bytes: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(4 + fullLabel.length);
  info.writeUInt16BE(bytes, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = 0;
  // HKDF-Expand's first block: HMAC(PRK, info || 0x01).
  const block = hmacSha256(secret, Buffer.concat([info, Buffer.of(1)]));
  return block.subarray(0, bytes);
}

/** Default cap on flows a `QuicInitialTable` gathers at once. */
export const QUIC_INITIAL_MAX_STREAMS = 256;
/** Default cap on CRYPTO bytes kept per flow. */
export const QUIC_INITIAL_MAX_BYTES = 16 * 1024;

/** What `QuicInitialTable.append` did with a datagram. */
export const QuicInitialStatus = {
  /** Not a client Initial packet with CRYPTO data. */
  Ignored: 0,
  /** CRYPTO data kept; the ClientHello is not whole yet. */
  Buffering: 1,
  /** A whole ClientHello message is in `helloBuf[helloOff .. helloEnd)`. */
  Complete: 2,
  /** The flow's data was dropped; the reason is in `endedByReason`. */
  GaveUp: 3,
} as const;

/** One of the `QuicInitialStatus` values. */
export type QuicInitialStatusId =
  (typeof QuicInitialStatus)[keyof typeof QuicInitialStatus];

/** Why a flow's CRYPTO data left the table; ids index `endedByReason`. */
export const QuicEndReason = {
  /** Its ClientHello became whole. */
  Complete: 0,
  /** The data does not start with a ClientHello handshake header. */
  NotClientHello: 1,
  /** The ClientHello is longer than the per-flow cap. */
  Overflow: 2,
  /** The table was full and this was the least recently fed flow. */
  Evicted: 3,
  /** Its flow ended. */
  Released: 4,
} as const;

/** Stable snake-case names of `QuicEndReason`, indexed by id. */
export const QUIC_END_REASON_NAMES: readonly string[] = [
  'complete',
  'not_client_hello',
  'overflow',
  'evicted',
  'released',
];

/** Caps of a `QuicInitialTable`. */
export interface QuicInitialTableOptions {
  /** Flows gathering CRYPTO data at once; the least recently fed goes. */
  maxStreams?: number;
  /** CRYPTO bytes kept per flow, a multiple of 8; longer hellos are lost. */
  maxBytesPerStream?: number;
}

const NO_SLOT = -1;

/**
 * Gathers the CRYPTO stream of client Initial packets per UDP flow, in any
 * frame order (clients shuffle and split CRYPTO frames), until the
 * ClientHello message is whole. Fixed slab and coverage bitmap per slot;
 * a full table evicts the least recently fed flow; ends are counted.
 */
export class QuicInitialTable {
  readonly maxStreams: number;
  readonly maxBytesPerStream: number;
  /** Flows whose CRYPTO data ended, by `QuicEndReason`. */
  readonly endedByReason = new Float64Array(QUIC_END_REASON_NAMES.length);
  /** Datagrams that looked like a client Initial but did not open. */
  unopenedPackets = 0;

  /**
   * After Complete: the ClientHello handshake message (type byte first)
   * is `helloBuf[helloOff .. helloEnd)`, valid until the next `append`.
   */
  helloBuf: Uint8Array = new Uint8Array(0);
  helloOff = 0;
  helloEnd = 0;

  private readonly keyCache = new QuicKeyCache();
  private readonly slab: Uint8Array;
  private readonly covered: Uint8Array;
  private readonly slotOfFlow = new Map<number, number>();
  private readonly flowOfSlot: Int32Array;
  private readonly fedOrder: Float64Array;
  private fedCount = 0;
  private readonly freeSlots: number[] = [];
  private readonly onCrypto: (
    offset: number,
    buf: Uint8Array,
    off: number,
    end: number,
  ) => void;
  // State of the packet being walked, read by the CRYPTO frame callback.
  private currentFlowId = -1;
  private currentSlot = NO_SLOT;
  private currentOverflow = false;

  constructor(options: QuicInitialTableOptions = {}) {
    this.maxStreams = options.maxStreams ?? QUIC_INITIAL_MAX_STREAMS;
    this.maxBytesPerStream =
      options.maxBytesPerStream ?? QUIC_INITIAL_MAX_BYTES;
    if (!Number.isInteger(this.maxStreams) || this.maxStreams < 1) {
      throw new RangeError('maxStreams must be a positive integer');
    }
    if (
      !Number.isInteger(this.maxBytesPerStream) ||
      this.maxBytesPerStream < 8 ||
      this.maxBytesPerStream % 8 !== 0
    ) {
      throw new RangeError('maxBytesPerStream must be a multiple of 8');
    }
    this.slab = new Uint8Array(this.maxStreams * this.maxBytesPerStream);
    this.covered = new Uint8Array(
      (this.maxStreams * this.maxBytesPerStream) / 8,
    );
    this.flowOfSlot = new Int32Array(this.maxStreams).fill(NO_SLOT);
    this.fedOrder = new Float64Array(this.maxStreams);
    for (let slot = this.maxStreams - 1; slot >= 0; slot--) {
      this.freeSlots.push(slot);
    }
    // Built once: the frame walk calls back into the slot being filled.
    this.onCrypto = (offset, buf, off, end) =>
      this.store(offset, buf, off, end);
  }

  /** Flows with CRYPTO data held now. */
  get size(): number {
    return this.slotOfFlow.size;
  }

  /**
   * Feed one decoded UDP datagram of flow `flowId`. Datagrams that are not
   * client Initials are rejected after a few byte checks. Never throws.
   */
  append(
    flowId: number,
    packet: DecodedPacket,
    buf: Uint8Array,
  ): QuicInitialStatusId {
    if (flowId < 0 || (packet.layers & Layer.Udp) === 0) {
      return QuicInitialStatus.Ignored;
    }
    let off = packet.payloadOff;
    const end = off + packet.payloadBytes;
    if (!looksLikeQuicInitial(buf, off, end)) return QuicInitialStatus.Ignored;

    let status: QuicInitialStatusId = QuicInitialStatus.Ignored;
    for (let i = 0; i < MAX_COALESCED_PACKETS && end - off > 0; i++) {
      const opened = openQuicClientInitial(buf, off, end, this.keyCache);
      if (opened === null) {
        if (i === 0) this.unopenedPackets++;
        break;
      }
      status = this.takeFrames(flowId, opened.payload);
      if (status !== QuicInitialStatus.Buffering) break;
      off = opened.packetEnd;
    }
    return status;
  }

  /** Forget a flow's CRYPTO data; call when the flow ends. */
  release(flowId: number): void {
    const slot = this.slotOfFlow.get(flowId);
    if (slot !== undefined) this.endSlot(slot, QuicEndReason.Released);
  }

  /** Store the CRYPTO frames of one opened packet and check for a hello. */
  private takeFrames(flowId: number, frames: Uint8Array): QuicInitialStatusId {
    const held = this.slotOfFlow.get(flowId);
    this.currentFlowId = flowId;
    this.currentSlot = held === undefined ? NO_SLOT : held;
    this.currentOverflow = false;
    const isWellFormed = forEachCryptoFrame(
      frames,
      0,
      frames.length,
      this.onCrypto,
    );
    const slot = this.currentSlot;
    this.currentSlot = NO_SLOT;
    if (slot === NO_SLOT) return QuicInitialStatus.Ignored;
    this.fedOrder[slot] = ++this.fedCount;
    if (this.currentOverflow) {
      this.endSlot(slot, QuicEndReason.Overflow);
      return QuicInitialStatus.GaveUp;
    }
    if (!isWellFormed) return QuicInitialStatus.Buffering;
    return this.checkComplete(slot);
  }

  private checkComplete(slot: number): QuicInitialStatusId {
    const base = slot * this.maxBytesPerStream;
    if (!this.isCovered(slot, 0, 4)) return QuicInitialStatus.Buffering;
    if (this.slab[base] !== TLS_HANDSHAKE_CLIENT_HELLO) {
      this.endSlot(slot, QuicEndReason.NotClientHello);
      return QuicInitialStatus.GaveUp;
    }
    const total =
      4 + ((this.slab[base + 1] << 16) | u16be(this.slab, base + 2));
    if (total > this.maxBytesPerStream) {
      this.endSlot(slot, QuicEndReason.Overflow);
      return QuicInitialStatus.GaveUp;
    }
    if (!this.isCovered(slot, 0, total)) return QuicInitialStatus.Buffering;
    this.helloBuf = this.slab;
    this.helloOff = base;
    this.helloEnd = base + total;
    this.endSlot(slot, QuicEndReason.Complete);
    return QuicInitialStatus.Complete;
  }

  /** Copy one CRYPTO frame's data into the current slot at its offset. */
  private store(offset: number, buf: Uint8Array, off: number, end: number) {
    if (offset + (end - off) > this.maxBytesPerStream) {
      this.currentOverflow = true;
      return;
    }
    // The first CRYPTO frame of a flow takes its slot.
    if (this.currentSlot === NO_SLOT) {
      this.currentSlot = this.takeSlot();
      this.slotOfFlow.set(this.currentFlowId, this.currentSlot);
      this.flowOfSlot[this.currentSlot] = this.currentFlowId;
    }
    const slot = this.currentSlot;
    const base = slot * this.maxBytesPerStream;
    this.slab.set(buf.subarray(off, end), base + offset);
    const bitBase = base;
    for (let i = offset; i < offset + (end - off); i++) {
      const bit = bitBase + i;
      this.covered[bit >> 3] |= 1 << (bit & 7);
    }
  }

  private isCovered(slot: number, from: number, to: number): boolean {
    const base = slot * this.maxBytesPerStream;
    for (let i = from; i < to; i++) {
      const bit = base + i;
      if ((this.covered[bit >> 3] & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }

  private takeSlot(): number {
    if (this.freeSlots.length === 0) {
      // Least recently fed: a linear scan, fine for a few hundred slots
      // and only when the table is full.
      let oldest = 0;
      for (let s = 1; s < this.maxStreams; s++) {
        if (this.fedOrder[s] < this.fedOrder[oldest]) oldest = s;
      }
      this.endSlot(oldest, QuicEndReason.Evicted);
    }
    return this.freeSlots.pop() as number;
  }

  private endSlot(slot: number, reason: number): void {
    this.endedByReason[reason]++;
    this.slotOfFlow.delete(this.flowOfSlot[slot]);
    this.flowOfSlot[slot] = NO_SLOT;
    const bytes = this.maxBytesPerStream / 8;
    this.covered.fill(0, slot * bytes, (slot + 1) * bytes);
    this.freeSlots.push(slot);
  }
}
