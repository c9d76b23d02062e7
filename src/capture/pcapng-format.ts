/**
 * Layout of the pcapng file format (draft-ietf-opsawg-pcapng): block types,
 * the section and interface headers, and timestamp scaling per interface.
 */

import { u16be, u16le, u32be, u32le } from '../decode/bytes.js';

/** Section Header Block type; the same bytes in either byte order. */
export const PCAPNG_SHB_TYPE = 0x0a0d0d0a;

/** Interface Description Block type. */
export const PCAPNG_IDB_TYPE = 0x00000001;

/** Obsolete Packet Block type, still written by some old tools. */
export const PCAPNG_OPB_TYPE = 0x00000002;

/** Simple Packet Block type. */
export const PCAPNG_SPB_TYPE = 0x00000003;

/** Enhanced Packet Block type. */
export const PCAPNG_EPB_TYPE = 0x00000006;

/** The byte-order magic at offset 8 of a Section Header Block. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Smallest block: type, total length, trailing total length. */
export const PCAPNG_MIN_BLOCK_BYTES = 12;

/** Smallest SHB: 12 framing bytes, magic, version, section length. */
export const PCAPNG_MIN_SHB_BYTES = 28;

/** Smallest IDB: 12 framing bytes, link type, reserved, snap length. */
export const PCAPNG_MIN_IDB_BYTES = 20;

/** Smallest EPB: 12 framing bytes and 20 bytes of fixed fields. */
export const PCAPNG_MIN_EPB_BYTES = 32;

/** Smallest OPB: 12 framing bytes and 20 bytes of fixed fields. */
export const PCAPNG_MIN_OPB_BYTES = 32;

/** Smallest SPB: 12 framing bytes and the original length. */
export const PCAPNG_MIN_SPB_BYTES = 16;

/**
 * Blocks longer than this are treated as corrupt: real packet blocks stay
 * far below it, and it bounds the read buffer.
 */
export const PCAPNG_MAX_BLOCK_BYTES = 64 * 1024 * 1024;

/** Option code ending an option list. */
export const PCAPNG_OPT_END = 0;

/** IDB option: timestamp resolution, one byte. */
export const PCAPNG_OPT_IF_TSRESOL = 9;

/** IDB option: signed 64-bit offset in seconds added to every timestamp. */
export const PCAPNG_OPT_IF_TSOFFSET = 14;

/** if_tsresol when the option is absent: 10^-6 s. */
export const PCAPNG_DEFAULT_TSRESOL = 6;

const TWO_POW_32 = 4294967296;

/** Largest divisor for which the split division below stays exact. */
const MAX_EXACT_DIVISOR = 1 << 21;

/** How `pcapngTimeUs` turns an interface's ticks into microseconds. */
export const TsScale = {
  /** Ticks are microseconds. */
  Micro: 0,
  /** Ticks are a whole number (`tsFactor`) of microseconds. */
  Multiply: 1,
  /** `tsFactor` ticks (at most 2^21) make a microsecond. */
  Divide: 2,
  /** Ticks are 2^-`tsShift` s, `tsShift` from 7 to 32. */
  Binary: 3,
  /** Anything finer: float64 arithmetic, can be off by one microsecond. */
  Approximate: 4,
} as const;

/** One Interface Description Block, reduced to what the reader needs. */
export interface PcapngInterface {
  /** LINKTYPE_* value as stored (16 bits). */
  linkType: number;
  /** Snap length in bytes; 0 means no limit. */
  snapBytes: number;
  /** The raw if_tsresol byte (RFC draft section 4.2). */
  tsResol: number;
  /** One of `TsScale`. */
  tsScale: number;
  /** Multiplier (Multiply), divisor (Divide, Binary) or factor (float). */
  tsFactor: number;
  /** For Divide: floor(2^32 / divisor); for Binary: 2^(32 - shift). */
  tsQuotient: number;
  /** For Divide: 2^32 mod divisor. */
  tsRemainder: number;
  /** if_tsoffset converted to microseconds. */
  tsOffsetUs: number;
}

/**
 * Byte order of the section whose SHB starts at `off` (12 bytes present):
 * true for little-endian, false for big-endian, null if the magic is wrong.
 */
export function readSectionByteOrder(
  buf: Uint8Array,
  off: number,
): boolean | null {
  if (u32le(buf, off + 8) === PCAPNG_BYTE_ORDER_MAGIC) return true;
  if (u32be(buf, off + 8) === PCAPNG_BYTE_ORDER_MAGIC) return false;
  return null;
}

/** Major version of the section whose SHB (28 bytes present) is at `off`. */
export function readSectionVersionMajor(
  buf: Uint8Array,
  off: number,
  isLittleEndian: boolean,
): number {
  return isLittleEndian ? u16le(buf, off + 12) : u16be(buf, off + 12);
}

/**
 * Parse the IDB of `blockBytes` bytes at `off` (all present, framing
 * checked). Returns the interface, or a description of what is wrong.
 */
export function parseInterfaceBlock(
  buf: Uint8Array,
  off: number,
  blockBytes: number,
  isLittleEndian: boolean,
): PcapngInterface | string {
  if (blockBytes < PCAPNG_MIN_IDB_BYTES) {
    return `interface block of ${blockBytes} bytes is too short`;
  }
  const u16 = isLittleEndian ? u16le : u16be;
  const u32 = isLittleEndian ? u32le : u32be;
  let tsResol = PCAPNG_DEFAULT_TSRESOL;
  let tsOffsetSec = 0;

  const optionsEnd = off + blockBytes - 4;
  let opt = off + 16;
  while (opt + 4 <= optionsEnd) {
    const code = u16(buf, opt);
    const valueBytes = u16(buf, opt + 2);
    if (code === PCAPNG_OPT_END) break;
    if (opt + 4 + valueBytes > optionsEnd) {
      return `option ${code} overruns its interface block`;
    }

    if (code === PCAPNG_OPT_IF_TSRESOL) {
      if (valueBytes !== 1) return `if_tsresol of ${valueBytes} bytes`;
      tsResol = buf[opt + 4];
    } else if (code === PCAPNG_OPT_IF_TSOFFSET) {
      if (valueBytes !== 8) return `if_tsoffset of ${valueBytes} bytes`;
      tsOffsetSec = readI64(buf, opt + 4, isLittleEndian);
    }

    // Values are padded to 32 bits; the padding is not counted in the length.
    opt += 4 + ((valueBytes + 3) & ~3);
  }

  const iface: PcapngInterface = {
    linkType: u16(buf, off + 8),
    snapBytes: u32(buf, off + 12),
    tsResol,
    tsScale: TsScale.Micro,
    tsFactor: 1,
    tsQuotient: 0,
    tsRemainder: 0,
    tsOffsetUs: tsOffsetSec * 1e6,
  };
  setTimestampScale(iface, tsResol);
  return iface;
}

/**
 * Capture time in microseconds since the epoch (floored) of a packet whose
 * 64-bit timestamp is `tsHigh`:`tsLow` ticks of `iface`.
 */
export function pcapngTimeUs(
  iface: PcapngInterface,
  tsHigh: number,
  tsLow: number,
): number {
  switch (iface.tsScale) {
    case TsScale.Micro:
      return tsHigh * TWO_POW_32 + tsLow + iface.tsOffsetUs;
    case TsScale.Divide:
      // 2^32 = q * d + r, so the 64-bit dividend splits into parts that
      // each stay below 2^53: exact where a plain division would round.
      return (
        tsHigh * iface.tsQuotient +
        Math.floor((tsHigh * iface.tsRemainder + tsLow) / iface.tsFactor) +
        iface.tsOffsetUs
      );
    case TsScale.Multiply:
      return (tsHigh * TWO_POW_32 + tsLow) * iface.tsFactor + iface.tsOffsetUs;
    case TsScale.Binary:
      return binaryTimeUs(iface, tsHigh, tsLow) + iface.tsOffsetUs;
    default:
      return (
        Math.floor((tsHigh * TWO_POW_32 + tsLow) * iface.tsFactor) +
        iface.tsOffsetUs
      );
  }
}

function binaryTimeUs(
  iface: PcapngInterface,
  tsHigh: number,
  tsLow: number,
): number {
  const ticksPerSec = iface.tsFactor;
  const lowSec = Math.floor(tsLow / ticksPerSec);
  const fracTicks = tsLow - lowSec * ticksPerSec;
  const sec = tsHigh * iface.tsQuotient + lowSec;
  return sec * 1e6 + Math.floor((fracTicks * 1e6) / ticksPerSec);
}

function setTimestampScale(iface: PcapngInterface, tsResol: number): void {
  const isBinary = (tsResol & 0x80) !== 0;
  const exponent = tsResol & 0x7f;

  if (!isBinary) {
    if (exponent === 6) return;
    if (exponent < 6) {
      iface.tsScale = TsScale.Multiply;
      iface.tsFactor = 10 ** (6 - exponent);
      return;
    }
    const divisor = 10 ** (exponent - 6);
    if (divisor <= MAX_EXACT_DIVISOR) {
      iface.tsScale = TsScale.Divide;
      iface.tsFactor = divisor;
      iface.tsQuotient = Math.floor(TWO_POW_32 / divisor);
      iface.tsRemainder = TWO_POW_32 % divisor;
      return;
    }
    iface.tsScale = TsScale.Approximate;
    iface.tsFactor = 1 / divisor;
    return;
  }

  // 10^6 = 2^6 * 15625, so up to 2^-6 s a tick is a whole number of µs.
  if (exponent <= 6) {
    iface.tsScale = TsScale.Multiply;
    iface.tsFactor = 1e6 / 2 ** exponent;
    return;
  }
  if (exponent <= 32) {
    iface.tsScale = TsScale.Binary;
    iface.tsFactor = 2 ** exponent;
    iface.tsQuotient = 2 ** (32 - exponent);
    return;
  }
  iface.tsScale = TsScale.Approximate;
  iface.tsFactor = 1e6 / 2 ** exponent;
}

/** Signed 64-bit integer as a float64 (exact up to 2^53). */
function readI64(
  buf: Uint8Array,
  off: number,
  isLittleEndian: boolean,
): number {
  const low = isLittleEndian ? u32le(buf, off) : u32be(buf, off + 4);
  const high = isLittleEndian ? u32le(buf, off + 4) : u32be(buf, off);
  return (high | 0) * TWO_POW_32 + low;
}
