/**
 * TCP stack signatures from SYN and SYN-ACK segments, in our own p0f-style
 * format, and a converter to p0f 3.x `raw_sig` text for conformance checks.
 */
import { u16be, u32be } from '../decode/bytes.js';
import { Layer, TcpFlag, type DecodedPacket } from '../decode/packet.js';

/**
 * Quirk bits of a signature: header details that differ between TCP/IP
 * stacks. Names in `TCP_QUIRK_NAMES`; bit values are stable.
 */
export const TcpQuirk = {
  /** IPv4 don't-fragment set (path MTU discovery). */
  DontFragment: 1 << 0,
  /** IPv4 identification non-zero although DF is set. */
  IdNonZeroWithDf: 1 << 1,
  /** IPv4 identification zero although DF is clear. */
  IdZeroWithoutDf: 1 << 2,
  /** ECN: IP ECN bits, TCP ECE or CWR, or the AE bit (RFC 3168, 9768). */
  Ecn: 1 << 3,
  /** IPv4 reserved flag bit (must be zero, RFC 791) set. */
  IpReservedFlag: 1 << 4,
  /** IPv6 flow label non-zero. */
  FlowLabel: 1 << 5,
  /** Sequence number zero. */
  SeqZero: 1 << 6,
  /** Acknowledgment number non-zero on a SYN without ACK. */
  AckNonZero: 1 << 7,
  /** ACK flag set with an acknowledgment number of zero. */
  AckZero: 1 << 8,
  /** Urgent pointer non-zero without the URG flag. */
  UrgentPointer: 1 << 9,
  /** URG flag set. */
  Urgent: 1 << 10,
  /** PSH flag set. */
  Push: 1 << 11,
  /** Own timestamp (TSval, RFC 7323) zero. */
  TsValZero: 1 << 12,
  /** Peer timestamp (TSecr) non-zero on a SYN. */
  TsEcrNonZero: 1 << 13,
  /** Non-zero bytes after the end-of-options marker. */
  EolData: 1 << 14,
  /** Window scale shift above 14 (RFC 7323 section 2.3). */
  WindowScaleOver14: 1 << 15,
  /** An option too short, too long or cut by the header end. */
  OptionsMalformed: 1 << 16,
  /** TCP reserved bits (other than AE) non-zero. */
  TcpReserved: 1 << 17,
} as const;

/** Tokens of the quirk bits in signature text, in bit order. */
export const TCP_QUIRK_NAMES: readonly string[] = [
  'df',
  'idnz',
  'id0',
  'ecn',
  'ipmbz',
  'flow',
  'seq0',
  'acknz',
  'ack0',
  'urgptr',
  'urg',
  'psh',
  'ts0',
  'tsecr',
  'eoldata',
  'ws15',
  'optbad',
  'rsv',
];

/** How a window size relates to the segment size, when it does. */
export interface WindowMultiple {
  /** `mss`: window = factor x segment size; `mtu`: x (MSS + headers). */
  base: 'mss' | 'mtu';
  factor: number;
}

/** A SYN or SYN-ACK stack signature. Holds no payload bytes. */
export interface TcpSignature {
  /** True for SYN+ACK, false for a SYN. */
  isSynAck: boolean;
  ipVersion: 4 | 6;
  /** TTL or hop limit as received. */
  observedTtl: number;
  /** Guessed initial TTL: the next of 32, 64, 128, 255 at or above. */
  initialTtl: number;
  /** Hops travelled: initial minus observed TTL. */
  distanceHops: number;
  /** IPv4 option bytes, or IPv6 extension header bytes. */
  ipOptionBytes: number;
  /** IP plus TCP header bytes. */
  headerBytes: number;
  /** MSS option value in bytes, -1 when the option is absent. */
  mssBytes: number;
  /** Window field as sent (unscaled), in bytes. */
  windowBytes: number;
  /** Window as a multiple of this segment's MSS or MTU, else null. */
  windowMultiple: WindowMultiple | null;
  /** Window scale shift count, -1 when the option is absent. */
  windowScale: number;
  /**
   * Option kinds in wire order: mss, ws, sok, sack, ts, nop, `eol+N` (N
   * bytes after the end marker), `kN` for any other kind N.
   */
  optionLayout: string;
  /** Timestamp value (TSval), -1 when absent; only zero-ness is used. */
  tsVal: number;
  /** `TcpQuirk` bits. */
  quirks: number;
  /**
   * Non-zero bytes after the end marker other than in the last option byte;
   * p0f 3.09b looks no further, so its converter needs this apart.
   */
  hasEolDataBeforeLastByte: boolean;
  /** The segment carries data (declared by the IP length). */
  hasPayload: boolean;
  /**
   * The signature as one stable line:
   * `S|SA:ver:ittl:ipopt:mss:window[=mss*N|=mtu*N]:wscale:layout:quirks:0|+`
   * with `-` for an absent MSS or window scale.
   */
  text: string;
}

/** Option kinds (IANA TCP option kind numbers) the layout names. */
const OptionKind = {
  End: 0,
  Nop: 1,
  Mss: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
} as const;

/** Options recorded per segment; p0f keeps as many, then flags the rest. */
export const MAX_SIGNATURE_OPTIONS = 24;

/** A window scale above this is invalid (RFC 7323 section 2.3). */
const MAX_WINDOW_SCALE = 14;
const TCP_MIN_HDR_BYTES = 20;
const IPV4_MIN_HDR_BYTES = 20;
const IPV6_HDR_BYTES = 40;
/** A segment size under this makes window multiples meaningless. */
const MIN_MSS_FOR_MULTIPLE_BYTES = 100;
/** Timestamps take 12 bytes of every segment when negotiated. */
const TIMESTAMP_OPTION_SPACE_BYTES = 12;
const ETHERNET_MTU_BYTES = 1500;

// Reused scratch for the option walk, so rejecting packets allocates nothing.
const layoutKinds = new Uint8Array(MAX_SIGNATURE_OPTIONS);

/** What `readSegment` found in the last SYN or SYN+ACK it read. */
interface SegmentRead {
  isSynAck: boolean;
  walk: OptionWalk;
  /** Option kinds recorded in `layoutKinds`, and bytes after an end marker. */
  optionCount: number;
  eolPadBytes: number;
  quirks: number;
  initialTtl: number;
  ipOptionBytes: number;
  headerBytes: number;
  hasPayload: boolean;
}

const segment: SegmentRead = {
  isSynAck: false,
  walk: {
    mssBytes: -1,
    windowScale: -1,
    tsVal: -1,
    quirks: 0,
    hasEolDataBeforeLastByte: false,
  },
  optionCount: 0,
  eolPadBytes: -1,
  quirks: 0,
  initialTtl: 0,
  ipOptionBytes: 0,
  headerBytes: 0,
  hasPayload: false,
};

/**
 * Build the stack signature of a TCP SYN or SYN+ACK in `pkt` (decoded from
 * `buf`). Returns null for any other segment, for SYNs with FIN or RST and
 * for IP fragments; never throws. Options are re-read from `buf` (bounded by
 * the TCP header) because a signature keeps what a malformed option claims.
 */
export function extractTcpSignature(
  buf: Uint8Array,
  pkt: DecodedPacket,
): TcpSignature | null {
  if (!readSegment(buf, pkt)) return null;
  const { walk, initialTtl } = segment;
  const sig: TcpSignature = {
    isSynAck: segment.isSynAck,
    ipVersion: pkt.ipVersion as 4 | 6,
    observedTtl: pkt.ttl,
    initialTtl,
    distanceHops: initialTtl - pkt.ttl,
    ipOptionBytes: segment.ipOptionBytes,
    headerBytes: segment.headerBytes,
    mssBytes: walk.mssBytes,
    windowBytes: pkt.tcpWindow,
    windowMultiple: windowMultipleOf(
      pkt.tcpWindow,
      walk.mssBytes,
      pkt.ipVersion,
    ),
    windowScale: walk.windowScale,
    optionLayout: layoutText(segment.optionCount, segment.eolPadBytes),
    tsVal: walk.tsVal,
    quirks: segment.quirks,
    hasEolDataBeforeLastByte: walk.hasEolDataBeforeLastByte,
    hasPayload: segment.hasPayload,
    text: '',
  };
  sig.text = formatSignature(sig);
  return sig;
}

/** Words `readSignatureShape` may write. */
export const SIGNATURE_SHAPE_MAX_WORDS = 11 + MAX_SIGNATURE_OPTIONS;

/**
 * Write into `shape` every value a SYN or SYN+ACK's signature text is made
 * of, without building the text; returns the words written, 0 when the
 * segment has no signature. Two segments with equal shapes have equal
 * texts, so the text can be looked up by shape instead of rebuilt.
 */
export function readSignatureShape(
  buf: Uint8Array,
  pkt: DecodedPacket,
  shape: Int32Array,
): number {
  if (!readSegment(buf, pkt)) return 0;
  const { walk } = segment;
  shape[0] = segment.isSynAck ? 1 : 0;
  shape[1] = pkt.ipVersion;
  shape[2] = segment.initialTtl;
  shape[3] = segment.ipOptionBytes;
  shape[4] = walk.mssBytes;
  shape[5] = pkt.tcpWindow;
  shape[6] = walk.windowScale;
  shape[7] = segment.quirks;
  shape[8] = segment.hasPayload ? 1 : 0;
  shape[9] = segment.eolPadBytes;
  shape[10] = segment.optionCount;
  for (let i = 0; i < segment.optionCount; i++) shape[11 + i] = layoutKinds[i];
  return 11 + segment.optionCount;
}

/** Read a SYN or SYN+ACK into `segment`; false when it has no signature. */
function readSegment(buf: Uint8Array, pkt: DecodedPacket): boolean {
  if ((pkt.layers & Layer.Tcp) === 0 || pkt.isFragment) return false;
  const control =
    pkt.tcpFlags & (TcpFlag.Syn | TcpFlag.Ack | TcpFlag.Fin | TcpFlag.Rst);
  if (control !== TcpFlag.Syn && control !== (TcpFlag.Syn | TcpFlag.Ack)) {
    return false;
  }
  if (pkt.ipVersion !== 4 && pkt.ipVersion !== 6) return false;
  const tcpOff = pkt.l4Off;
  const optionsEnd = tcpOff + pkt.tcpHdrBytes;
  if (tcpOff < 0 || optionsEnd > buf.length) return false;

  const isSynAck = control !== TcpFlag.Syn;
  const walk = segment.walk;
  walkOptions(buf, tcpOff + TCP_MIN_HDR_BYTES, optionsEnd, isSynAck);
  let quirks = walk.quirks | headerQuirks(buf, pkt, isSynAck);
  if (walk.windowScale > MAX_WINDOW_SCALE) {
    quirks |= TcpQuirk.WindowScaleOver14;
  }

  const headerBytes = pkt.ipHdrBytes + pkt.tcpHdrBytes;
  segment.isSynAck = isSynAck;
  segment.quirks = quirks;
  segment.initialTtl = guessInitialTtl(pkt.ttl);
  segment.ipOptionBytes =
    pkt.ipVersion === 4
      ? pkt.ipHdrBytes - IPV4_MIN_HDR_BYTES
      : pkt.ipHdrBytes - IPV6_HDR_BYTES;
  segment.headerBytes = headerBytes;
  segment.hasPayload = pkt.ipTotalBytes - headerBytes > 0;
  return true;
}

/**
 * Guess the TTL a sender started with: stacks use 32, 64, 128 or 255, so
 * the next of these at or above the observed value.
 */
export function guessInitialTtl(observedTtl: number): number {
  if (observedTtl <= 32) return 32;
  if (observedTtl <= 64) return 64;
  if (observedTtl <= 128) return 128;
  return 255;
}

/** Render the quirk bits as comma-separated tokens in bit order. */
export function formatQuirks(quirks: number): string {
  let text = '';
  for (let bit = 0; bit < TCP_QUIRK_NAMES.length; bit++) {
    if ((quirks & (1 << bit)) === 0) continue;
    text += text === '' ? TCP_QUIRK_NAMES[bit] : `,${TCP_QUIRK_NAMES[bit]}`;
  }
  return text;
}

function formatSignature(sig: TcpSignature): string {
  const multiple = sig.windowMultiple;
  const window =
    multiple === null
      ? `${sig.windowBytes}`
      : `${sig.windowBytes}=${multiple.base}*${multiple.factor}`;
  return [
    sig.isSynAck ? 'SA' : 'S',
    sig.ipVersion,
    sig.initialTtl,
    sig.ipOptionBytes,
    sig.mssBytes < 0 ? '-' : sig.mssBytes,
    window,
    sig.windowScale < 0 ? '-' : sig.windowScale,
    sig.optionLayout,
    formatQuirks(sig.quirks),
    sig.hasPayload ? '+' : '0',
  ].join(':');
}

/**
 * The window as a multiple of this segment's own MSS, else of MSS plus the
 * minimal IP and TCP headers (an MTU), else null.
 */
function windowMultipleOf(
  windowBytes: number,
  mssBytes: number,
  ipVersion: number,
): WindowMultiple | null {
  if (windowBytes === 0 || mssBytes < MIN_MSS_FOR_MULTIPLE_BYTES) return null;
  if (windowBytes % mssBytes === 0) {
    return { base: 'mss', factor: windowBytes / mssBytes };
  }
  const mtuBytes = mssBytes + minHeaderBytes(ipVersion);
  if (windowBytes % mtuBytes === 0) {
    return { base: 'mtu', factor: windowBytes / mtuBytes };
  }
  return null;
}

/** IP plus TCP header bytes without options. */
function minHeaderBytes(ipVersion: number): number {
  return (
    (ipVersion === 6 ? IPV6_HDR_BYTES : IPV4_MIN_HDR_BYTES) + TCP_MIN_HDR_BYTES
  );
}

/** Quirks of the IP and TCP fixed headers. */
function headerQuirks(
  buf: Uint8Array,
  pkt: DecodedPacket,
  isSynAck: boolean,
): number {
  let quirks = 0;
  if ((pkt.tos & 0x03) !== 0) quirks |= TcpQuirk.Ecn;
  if (pkt.ipVersion === 4) {
    if (ipv4ReservedFlagSet(buf, pkt)) quirks |= TcpQuirk.IpReservedFlag;
    if (pkt.ipDontFragment) {
      quirks |= TcpQuirk.DontFragment;
      if (pkt.ipId !== 0) quirks |= TcpQuirk.IdNonZeroWithDf;
    } else if (pkt.ipId === 0) {
      quirks |= TcpQuirk.IdZeroWithoutDf;
    }
  } else if (pkt.ipv6FlowLabel !== 0) {
    quirks |= TcpQuirk.FlowLabel;
  }

  if ((pkt.tcpFlags & (TcpFlag.Ece | TcpFlag.Cwr)) !== 0)
    quirks |= TcpQuirk.Ecn;
  // The lowest reserved bit is AE (accurate ECN, formerly the ECN nonce).
  if ((pkt.tcpReservedBits & 0x01) !== 0) quirks |= TcpQuirk.Ecn;
  if ((pkt.tcpReservedBits & 0x0e) !== 0) quirks |= TcpQuirk.TcpReserved;
  if (pkt.tcpSeq === 0) quirks |= TcpQuirk.SeqZero;
  if (isSynAck) {
    if (pkt.tcpAck === 0) quirks |= TcpQuirk.AckZero;
  } else if (pkt.tcpAck !== 0) {
    quirks |= TcpQuirk.AckNonZero;
  }
  if ((pkt.tcpFlags & TcpFlag.Urg) !== 0) quirks |= TcpQuirk.Urgent;
  else if (pkt.tcpUrgentPointer !== 0) quirks |= TcpQuirk.UrgentPointer;
  if ((pkt.tcpFlags & TcpFlag.Psh) !== 0) quirks |= TcpQuirk.Push;
  return quirks;
}

/**
 * IPv4 reserved flag, the top bit of header bytes 6-7 (RFC 791): the
 * decoder keeps only DF and MF, so it is re-read from the header.
 */
function ipv4ReservedFlagSet(buf: Uint8Array, pkt: DecodedPacket): boolean {
  const off = pkt.ipHdrOff;
  return off >= 0 && off + 6 < buf.length && (buf[off + 6] & 0x80) !== 0;
}

interface OptionWalk {
  mssBytes: number;
  windowScale: number;
  tsVal: number;
  quirks: number;
  hasEolDataBeforeLastByte: boolean;
}

/**
 * Walk the option block as a receiver that trusts each known kind's fixed
 * size: MSS 4, window scale 3, SACK-permitted 2, timestamps 10 bytes. A
 * length byte that disagrees is a quirk, not a stop, and the value is read
 * anyway, because that is what identifies the stack that got it wrong.
 * At most MAX_SIGNATURE_OPTIONS kinds are recorded; one more is malformed.
 * Results go to `segment` (kinds to `layoutKinds`).
 */
function walkOptions(
  buf: Uint8Array,
  off: number,
  end: number,
  isSynAck: boolean,
): void {
  const walk = segment.walk;
  walk.mssBytes = -1;
  walk.windowScale = -1;
  walk.tsVal = -1;
  walk.quirks = 0;
  walk.hasEolDataBeforeLastByte = false;
  let count = 0;
  let eolPadBytes = -1;
  let cursor = off;
  let isBad = false;

  while (cursor < end) {
    const kind = buf[cursor++];
    if (count === MAX_SIGNATURE_OPTIONS) {
      isBad = true;
      break;
    }
    layoutKinds[count++] = kind;

    if (kind === OptionKind.End) {
      eolPadBytes = end - cursor;
      scanAfterEnd(buf, cursor, end, walk);
      cursor = end;
      break;
    }
    if (kind === OptionKind.Nop) continue;

    const skipBytes = readOptionBody(buf, cursor, end, kind, isSynAck, walk);
    if (skipBytes < 0) {
      isBad = true;
      break;
    }
    cursor += skipBytes;
  }
  if (isBad) walk.quirks |= TcpQuirk.OptionsMalformed;
  segment.optionCount = count;
  segment.eolPadBytes = eolPadBytes;
}

/** Record non-zero padding after an end-of-options marker at `off`. */
function scanAfterEnd(
  buf: Uint8Array,
  off: number,
  end: number,
  walk: OptionWalk,
): void {
  for (let i = off; i < end; i++) {
    if (buf[i] === 0) continue;
    walk.quirks |= TcpQuirk.EolData;
    if (i < end - 1) walk.hasEolDataBeforeLastByte = true;
    return;
  }
}

/**
 * Read the body of one option whose kind byte preceded `off`. Returns the
 * bytes to skip (length byte included), or -1 when the option cannot be
 * read within the header, which ends the walk.
 */
function readOptionBody(
  buf: Uint8Array,
  off: number,
  end: number,
  kind: number,
  isSynAck: boolean,
  walk: OptionWalk,
): number {
  const left = end - off;
  switch (kind) {
    case OptionKind.Mss:
      if (left < 3) return -1;
      if (buf[off] !== 4) walk.quirks |= TcpQuirk.OptionsMalformed;
      walk.mssBytes = u16be(buf, off + 1);
      return 3;
    case OptionKind.WindowScale:
      if (left < 2) return -1;
      if (buf[off] !== 3) walk.quirks |= TcpQuirk.OptionsMalformed;
      walk.windowScale = buf[off + 1];
      return 2;
    case OptionKind.SackPermitted:
      if (left < 1) return -1;
      if (buf[off] !== 2) walk.quirks |= TcpQuirk.OptionsMalformed;
      return 1;
    case OptionKind.Sack: {
      // 10 to 34 bytes: one to four blocks (RFC 2018 section 3).
      if (left < 1) return -1;
      const optionBytes = buf[off];
      if (optionBytes < 10 || optionBytes > 34) return -1;
      return optionBytes - 1 <= left ? optionBytes - 1 : -1;
    }
    case OptionKind.Timestamps:
      if (left < 9) return -1;
      if (buf[off] !== 10) walk.quirks |= TcpQuirk.OptionsMalformed;
      walk.tsVal = u32be(buf, off + 1);
      if (walk.tsVal === 0) walk.quirks |= TcpQuirk.TsValZero;
      if (!isSynAck && u32be(buf, off + 5) !== 0) {
        walk.quirks |= TcpQuirk.TsEcrNonZero;
      }
      return 9;
    default: {
      if (left < 1) return -1;
      const optionBytes = buf[off];
      if (optionBytes < 2 || optionBytes - 1 > left) return -1;
      return optionBytes - 1;
    }
  }
}

function layoutText(count: number, eolPadBytes: number): string {
  let text = '';
  for (let i = 0; i < count; i++) {
    const name = optionName(layoutKinds[i], eolPadBytes);
    text += i === 0 ? name : `,${name}`;
  }
  return text;
}

function optionName(kind: number, eolPadBytes: number): string {
  switch (kind) {
    case OptionKind.End:
      return `eol+${eolPadBytes}`;
    case OptionKind.Nop:
      return 'nop';
    case OptionKind.Mss:
      return 'mss';
    case OptionKind.WindowScale:
      return 'ws';
    case OptionKind.SackPermitted:
      return 'sok';
    case OptionKind.Sack:
      return 'sack';
    case OptionKind.Timestamps:
      return 'ts';
    default:
      return `k${kind}`;
  }
}

// ---------------------------------------------------------------------------
// p0f 3.x raw_sig layout

/** p0f's distance limit: beyond it the initial TTL is shown as unknown. */
const P0F_MAX_DISTANCE_HOPS = 35;
/** MSS that p0f's own probe tool sends; a SYN+ACK echoing it is wildcarded. */
const P0F_PROBE_MSS_BYTES = 1331;

/** p0f quirk tokens for our bits, in p0f's output order; '' = not shown. */
const P0F_QUIRKS: ReadonlyArray<readonly [number, string]> = [
  [TcpQuirk.DontFragment, 'df'],
  [TcpQuirk.IdNonZeroWithDf, 'id+'],
  [TcpQuirk.IdZeroWithoutDf, 'id-'],
  [TcpQuirk.Ecn, 'ecn'],
  [TcpQuirk.IpReservedFlag, '0+'],
  [TcpQuirk.FlowLabel, 'flow'],
  [TcpQuirk.SeqZero, 'seq-'],
  [TcpQuirk.AckZero, 'ack-'],
  [TcpQuirk.UrgentPointer, 'uptr+'],
  [TcpQuirk.Urgent, 'urgf+'],
  [TcpQuirk.Push, 'pushf+'],
  [TcpQuirk.TsValZero, 'ts1-'],
  [TcpQuirk.TsEcrNonZero, 'ts2+'],
  [TcpQuirk.EolData, 'opt+'],
  [TcpQuirk.WindowScaleOver14, 'exws'],
  [TcpQuirk.OptionsMalformed, 'bad'],
];

/**
 * Render a signature in p0f 3.x `raw_sig` layout
 * (`ver:ttl+dist:olen:mss:wsize,scale:olayout:quirks:pclass`), as p0f
 * 3.09b prints it, to compare with p0f's output on the same capture.
 * @param peerSynMssBytes MSS of the SYN this SYN+ACK answers (p0f also
 *   tries the peer's MSS as a window divisor); 0 when unknown or for a SYN
 */
export function toP0fRawSig(sig: TcpSignature, peerSynMssBytes = 0): string {
  const distance = sig.initialTtl - sig.observedTtl;
  const ttl =
    distance > P0F_MAX_DISTANCE_HOPS
      ? `${sig.observedTtl}+?`
      : `${sig.observedTtl}+${distance}`;
  const mssBytes = Math.max(0, sig.mssBytes);
  const mss =
    sig.isSynAck && mssBytes === P0F_PROBE_MSS_BYTES ? '*' : `${mssBytes}`;
  const ipOptionBytes = sig.ipVersion === 4 ? sig.ipOptionBytes : 0;
  const window = p0fWindowText(sig, isSynAckPeerMss(sig, peerSynMssBytes));
  const layout = sig.optionLayout.replace(/(^|,)k(\d+)/g, '$1?$2');
  return [
    sig.ipVersion,
    ttl,
    ipOptionBytes,
    mss,
    `${window},${Math.max(0, sig.windowScale)}`,
    layout,
    p0fQuirks(sig),
    sig.hasPayload ? '+' : '0',
  ].join(':');
}

function isSynAckPeerMss(sig: TcpSignature, peerSynMssBytes: number): number {
  return sig.isSynAck ? peerSynMssBytes : 0;
}

function p0fQuirks(sig: TcpSignature): string {
  let text = '';
  for (const [bit, token] of P0F_QUIRKS) {
    if ((sig.quirks & bit) === 0) continue;
    // p0f 3.09b never examines the last option byte after an end marker.
    if (bit === TcpQuirk.EolData && !sig.hasEolDataBeforeLastByte) continue;
    text += text === '' ? token : `,${token}`;
  }
  return text;
}

/**
 * p0f's window text: `mss*N` when the window divides by this MSS, by MSS
 * minus the timestamp space, by the MSS of a 1500-byte Ethernet MTU (with
 * or without timestamps, IPv4 then IPv6) or by the peer's SYN MSS; `mtu*N`
 * when it divides by MSS plus the minimal or actual headers or by 1500;
 * else the plain number. The order of the tries is p0f's.
 */
function p0fWindowText(sig: TcpSignature, peerSynMssBytes: number): string {
  const windowBytes = sig.windowBytes;
  const mssBytes = Math.max(0, sig.mssBytes);
  if (windowBytes === 0 || mssBytes < MIN_MSS_FOR_MULTIPLE_BYTES) {
    return `${windowBytes}`;
  }
  const tries: Array<readonly [number, string]> = [[mssBytes, 'mss']];
  if (sig.tsVal > 0) {
    tries.push([mssBytes - TIMESTAMP_OPTION_SPACE_BYTES, 'mss']);
  }
  const v4Mss = ETHERNET_MTU_BYTES - minHeaderBytes(4);
  tries.push([v4Mss, 'mss'], [v4Mss - TIMESTAMP_OPTION_SPACE_BYTES, 'mss']);
  if (sig.ipVersion === 6) {
    const v6Mss = ETHERNET_MTU_BYTES - minHeaderBytes(6);
    tries.push([v6Mss, 'mss'], [v6Mss - TIMESTAMP_OPTION_SPACE_BYTES, 'mss']);
  }
  tries.push(
    [mssBytes + minHeaderBytes(4), 'mtu'],
    [mssBytes + sig.headerBytes, 'mtu'],
  );
  if (sig.ipVersion === 6) tries.push([mssBytes + minHeaderBytes(6), 'mtu']);
  tries.push([ETHERNET_MTU_BYTES, 'mtu']);
  if (peerSynMssBytes > 0) {
    tries.push(
      [peerSynMssBytes, 'mss'],
      [peerSynMssBytes - TIMESTAMP_OPTION_SPACE_BYTES, 'mss'],
    );
  }
  for (const [divisor, base] of tries) {
    if (divisor > 0 && windowBytes % divisor === 0) {
      return `${base}*${windowBytes / divisor}`;
    }
  }
  return `${windowBytes}`;
}
