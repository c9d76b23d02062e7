/**
 * Builds small pcap and pcapng files byte by byte for the capture-file
 * tests, in either byte order, with any timestamp resolution.
 */

/** One record of a classic pcap file. */
export interface PcapRecord {
  /** Seconds since the epoch. */
  tsSec: number;
  /** Microseconds or nanoseconds, as the file's magic says. */
  tsFrac: number;
  /** Captured bytes. */
  data: Uint8Array;
  /** Length on the wire; the captured length when absent. */
  wireBytes?: number;
  /** Stored captured length, to forge a bad record; data length if absent. */
  capturedBytes?: number;
}

/** Shape of a classic pcap file. */
export interface PcapSpec {
  isLittleEndian: boolean;
  isNanosecond: boolean;
  /** Stored link-type field, FCS bits included. */
  linkType: number;
  snapBytes?: number;
  records: PcapRecord[];
}

/** A pcap file and the file offset where each record starts. */
export interface BuiltCapture {
  bytes: Buffer;
  /** File offset of every record or block, in order. */
  offsets: number[];
}

/** Build a pcap file (draft-ietf-opsawg-pcap) from `spec`. */
export function makePcap(spec: PcapSpec): BuiltCapture {
  const le = spec.isLittleEndian;
  const header = Buffer.alloc(24);
  writeU32(header, 0, spec.isNanosecond ? 0xa1b23c4d : 0xa1b2c3d4, le);
  writeU16(header, 4, 2, le);
  writeU16(header, 6, 4, le);
  writeU32(header, 16, spec.snapBytes ?? 262144, le);
  writeU32(header, 20, spec.linkType, le);

  const parts: Buffer[] = [header];
  const offsets: number[] = [];
  let off = header.length;
  for (const record of spec.records) {
    const recordHeader = Buffer.alloc(16);
    writeU32(recordHeader, 0, record.tsSec, le);
    writeU32(recordHeader, 4, record.tsFrac, le);
    writeU32(recordHeader, 8, record.capturedBytes ?? record.data.length, le);
    writeU32(recordHeader, 12, record.wireBytes ?? record.data.length, le);
    parts.push(recordHeader, Buffer.from(record.data));
    offsets.push(off);
    off += 16 + record.data.length;
  }
  return { bytes: Buffer.concat(parts), offsets };
}

/** Any pcapng block: type, length, body padded to 32 bits, length. */
export function makeBlock(
  isLittleEndian: boolean,
  blockType: number,
  body: Uint8Array,
): Buffer {
  const paddedBytes = (body.length + 3) & ~3;
  const block = Buffer.alloc(12 + paddedBytes);
  writeU32(block, 0, blockType, isLittleEndian);
  writeU32(block, 4, block.length, isLittleEndian);
  block.set(body, 8);
  writeU32(block, block.length - 4, block.length, isLittleEndian);
  return block;
}

/** A pcapng option list ending with opt_endofopt. */
export function makeOptions(
  isLittleEndian: boolean,
  options: Array<[code: number, value: Uint8Array]>,
): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of options) {
    const option = Buffer.alloc(4 + ((value.length + 3) & ~3));
    writeU16(option, 0, code, isLittleEndian);
    writeU16(option, 2, value.length, isLittleEndian);
    option.set(value, 4);
    parts.push(option);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** A Section Header Block, version 1.0, section length unknown. */
export function makeShb(isLittleEndian: boolean, versionMajor = 1): Buffer {
  const body = Buffer.alloc(16);
  writeU32(body, 0, 0x1a2b3c4d, isLittleEndian);
  writeU16(body, 4, versionMajor, isLittleEndian);
  body.fill(0xff, 8, 16);
  return makeBlock(isLittleEndian, 0x0a0d0d0a, body);
}

/** Options of an Interface Description Block. */
export interface IdbOptions {
  /** The raw if_tsresol byte; absent means the default, 10^-6 s. */
  tsResol?: number;
  /** if_tsoffset in seconds (signed). */
  tsOffsetSec?: bigint;
}

/** An Interface Description Block. */
export function makeIdb(
  isLittleEndian: boolean,
  linkType: number,
  snapBytes: number,
  options: IdbOptions = {},
): Buffer {
  const fixed = Buffer.alloc(8);
  writeU16(fixed, 0, linkType, isLittleEndian);
  writeU32(fixed, 4, snapBytes, isLittleEndian);

  const list: Array<[number, Uint8Array]> = [];
  // An if_name first, so that the parser must step over other options.
  list.push([2, Buffer.from('eth0')]);
  if (options.tsResol !== undefined) {
    list.push([9, Uint8Array.of(options.tsResol)]);
  }
  if (options.tsOffsetSec !== undefined) {
    const value = Buffer.alloc(8);
    if (isLittleEndian) value.writeBigInt64LE(options.tsOffsetSec);
    else value.writeBigInt64BE(options.tsOffsetSec);
    list.push([14, value]);
  }
  const body = Buffer.concat([fixed, makeOptions(isLittleEndian, list)]);
  return makeBlock(isLittleEndian, 1, body);
}

/** An Enhanced Packet Block; `ticks` counts the interface's time units. */
export function makeEpb(
  isLittleEndian: boolean,
  interfaceId: number,
  ticks: bigint,
  data: Uint8Array,
  wireBytes = data.length,
): Buffer {
  const fixed = Buffer.alloc(20);
  writeU32(fixed, 0, interfaceId, isLittleEndian);
  writeU32(fixed, 4, Number(ticks >> 32n), isLittleEndian);
  writeU32(fixed, 8, Number(ticks & 0xffffffffn), isLittleEndian);
  writeU32(fixed, 12, data.length, isLittleEndian);
  writeU32(fixed, 16, wireBytes, isLittleEndian);
  const padded = Buffer.alloc((data.length + 3) & ~3);
  padded.set(data);
  // An epb_flags option after the data, which the reader must ignore.
  const flags = Buffer.alloc(4);
  const options = makeOptions(isLittleEndian, [[2, flags]]);
  return makeBlock(isLittleEndian, 6, Buffer.concat([fixed, padded, options]));
}

/** A Simple Packet Block holding `data` of a `wireBytes`-byte frame. */
export function makeSpb(
  isLittleEndian: boolean,
  wireBytes: number,
  data: Uint8Array,
): Buffer {
  const fixed = Buffer.alloc(4);
  writeU32(fixed, 0, wireBytes, isLittleEndian);
  return makeBlock(isLittleEndian, 3, Buffer.concat([fixed, data]));
}

/** Concatenate blocks and note where each starts. */
export function joinBlocks(blocks: Buffer[]): BuiltCapture {
  const offsets: number[] = [];
  let off = 0;
  for (const block of blocks) {
    offsets.push(off);
    off += block.length;
  }
  return { bytes: Buffer.concat(blocks), offsets };
}

/**
 * Microseconds since the epoch (floored) of `ticks` at if_tsresol
 * `tsResol` plus `tsOffsetSec`, in exact integer arithmetic.
 */
export function ticksToUs(
  ticks: bigint,
  tsResol: number,
  tsOffsetSec = 0n,
): number {
  const exponent = BigInt(tsResol & 0x7f);
  const ticksPerSec = (tsResol & 0x80) !== 0 ? 1n << exponent : 10n ** exponent;
  // BigInt division truncates; the tick counts here are never negative.
  return Number((ticks * 1000000n) / ticksPerSec + tsOffsetSec * 1000000n);
}

/** Frame bytes whose content tells frames apart: `seed`, `seed + 1`, ... */
export function patternBytes(lengthBytes: number, seed: number): Uint8Array {
  const data = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) data[i] = (seed + i) & 0xff;
  return data;
}

function writeU16(buf: Buffer, off: number, value: number, le: boolean) {
  if (le) buf.writeUInt16LE(value, off);
  else buf.writeUInt16BE(value, off);
}

function writeU32(buf: Buffer, off: number, value: number, le: boolean) {
  if (le) buf.writeUInt32LE(value >>> 0, off);
  else buf.writeUInt32BE(value >>> 0, off);
}
