/**
 * Writers for capture files: classic pcap (microsecond or nanosecond
 * timestamps, either byte order) and pcapng, buffered through one large fd.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Classic pcap magic for microsecond timestamps (tcpdump.org pcap format). */
export const PCAP_MAGIC_US = 0xa1b2c3d4;

/** Classic pcap magic for nanosecond timestamps. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;

/** Snap length written when the caller names none; tcpdump's default. */
export const DEFAULT_SNAP_LEN_BYTES = 262144;

/** pcapng block types (draft-ietf-opsawg-pcapng section 11.1). */
export const PcapngBlockType = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 0x00000001,
  SimplePacket: 0x00000003,
  EnhancedPacket: 0x00000006,
} as const;

const PCAP_FILE_HDR_BYTES = 24;
const PCAP_RECORD_HDR_BYTES = 16;
const DEFAULT_BUFFER_BYTES = 8 * 1024 * 1024;
const OPT_END_OF_OPT = 0;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;

/** Byte order of every multi-byte header field the writer emits. */
export type ByteOrder = 'le' | 'be';

/**
 * An append-only file written in large chunks: callers reserve space in
 * `buf`, fill it, and the chunk goes to disk with one `writeSync` when full.
 */
export class BufferedFile {
  /** The chunk being filled; valid from 0 to `used`. */
  readonly buf: Buffer;
  /** Bytes of `buf` already filled. */
  used = 0;
  /** Bytes handed to the file so far, flushed or not. */
  totalBytes = 0;
  private fd: number;

  /**
   * @param path file to create or truncate
   * @param bufferBytes chunk size; a record larger than this is written alone
   */
  constructor(path: string, bufferBytes = DEFAULT_BUFFER_BYTES) {
    this.buf = Buffer.allocUnsafe(bufferBytes);
    this.fd = openSync(path, 'w');
  }

  /**
   * Make room for `bytes` and return the offset in `buf` where they go. The
   * caller must fill exactly that many bytes before the next call.
   */
  reserve(bytes: number): number {
    if (bytes > this.buf.length) {
      throw new RangeError(`record of ${bytes} bytes exceeds the buffer`);
    }
    if (this.used + bytes > this.buf.length) this.flush();
    const off = this.used;
    this.used += bytes;
    this.totalBytes += bytes;
    return off;
  }

  /** Append a copy of `src[srcOff, srcOff + bytes)`. */
  append(src: Uint8Array, srcOff = 0, bytes = src.length - srcOff): void {
    const off = this.reserve(bytes);
    this.buf.set(
      bytes === src.length ? src : src.subarray(srcOff, srcOff + bytes),
      off,
    );
  }

  /** Write the filled part of the chunk to the file. */
  flush(): void {
    let done = 0;
    while (done < this.used) {
      done += writeSync(this.fd, this.buf, done, this.used - done);
    }
    this.used = 0;
  }

  /** Flush and close; the object is unusable afterwards. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Options of a classic pcap file. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of every record (tcpdump.org link-layer header types). */
  linkType: number;
  /** Snap length recorded in the file header. */
  snapLenBytes?: number;
  /** Timestamp resolution of the records: `us` (default) or `ns`. */
  timeResolution?: 'us' | 'ns';
  /** Byte order of the file and record headers; `le` by default. */
  byteOrder?: ByteOrder;
  /** Chunk size of the write buffer. */
  bufferBytes?: number;
}

/**
 * Writes a classic pcap file (tcpdump.org "pcap savefile" format): a 24-byte
 * file header, then per frame a 16-byte record header and the captured bytes.
 * Header fields use the chosen byte order; frame bytes are copied as given.
 */
export class PcapWriter {
  /** Records written so far. */
  frameCount = 0;
  private readonly file: BufferedFile;
  private readonly isLittleEndian: boolean;
  private readonly isNanosecond: boolean;

  constructor(path: string, options: PcapWriterOptions) {
    this.file = new BufferedFile(path, options.bufferBytes);
    this.isLittleEndian = (options.byteOrder ?? 'le') === 'le';
    this.isNanosecond = options.timeResolution === 'ns';

    const b = this.file.buf;
    const off = this.file.reserve(PCAP_FILE_HDR_BYTES);
    const magic = this.isNanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US;
    this.put32(b, off, magic);
    this.put16(b, off + 4, 2);
    this.put16(b, off + 6, 4);
    this.put32(b, off + 8, 0);
    this.put32(b, off + 12, 0);
    this.put32(b, off + 16, options.snapLenBytes ?? DEFAULT_SNAP_LEN_BYTES);
    this.put32(b, off + 20, options.linkType);
  }

  /**
   * Append one frame.
   * @param frame the captured bytes (all of them are written)
   * @param timeSec whole seconds since the Unix epoch
   * @param subSecNs nanoseconds within the second (0 to 999,999,999);
   *   truncated to microseconds in a microsecond file
   * @param wireBytes length on the wire; defaults to the captured length and
   *   is larger when the frame was cut by a snap length
   */
  writeFrame(
    frame: Uint8Array,
    timeSec: number,
    subSecNs: number,
    wireBytes = frame.length,
  ): void {
    this.writeFrameFrom(frame, 0, frame.length, timeSec, subSecNs, wireBytes);
  }

  /**
   * Append `capturedBytes` of `src` starting at `srcOff`, without slicing.
   * Same timestamp and length rules as `writeFrame`.
   */
  writeFrameFrom(
    src: Uint8Array,
    srcOff: number,
    capturedBytes: number,
    timeSec: number,
    subSecNs: number,
    wireBytes = capturedBytes,
  ): void {
    const off = this.reserveFrame(capturedBytes, timeSec, subSecNs, wireBytes);
    const b = this.file.buf;
    if (Buffer.isBuffer(src)) src.copy(b, off, srcOff, srcOff + capturedBytes);
    else b.set(src.subarray(srcOff, srcOff + capturedBytes), off);
  }

  /**
   * Write a record header and return the offset in `buffer` where the caller
   * writes exactly `capturedBytes` frame bytes; this avoids a copy when the
   * frame is assembled in place.
   */
  reserveFrame(
    capturedBytes: number,
    timeSec: number,
    subSecNs: number,
    wireBytes = capturedBytes,
  ): number {
    const b = this.file.buf;
    const off = this.file.reserve(PCAP_RECORD_HDR_BYTES + capturedBytes);
    const frac = this.isNanosecond ? subSecNs : Math.floor(subSecNs / 1000);
    this.put32(b, off, timeSec);
    this.put32(b, off + 4, frac);
    this.put32(b, off + 8, capturedBytes);
    this.put32(b, off + 12, wireBytes);
    this.frameCount++;
    return off + PCAP_RECORD_HDR_BYTES;
  }

  /** The buffer that `reserveFrame` offsets point into. */
  get buffer(): Buffer {
    return this.file.buf;
  }

  /** Bytes written to the file so far, header included. */
  get fileBytes(): number {
    return this.file.totalBytes;
  }

  /** Flush and close the file. */
  close(): void {
    this.file.close();
  }

  private put16(b: Buffer, off: number, value: number): void {
    if (this.isLittleEndian) b.writeUInt16LE(value, off);
    else b.writeUInt16BE(value, off);
  }

  private put32(b: Buffer, off: number, value: number): void {
    if (this.isLittleEndian) b.writeUInt32LE(value >>> 0, off);
    else b.writeUInt32BE(value >>> 0, off);
  }
}

/** One interface of a pcapng section. */
export interface PcapngInterface {
  /** LINKTYPE_* of the packets captured on this interface. */
  linkType: number;
  snapLenBytes?: number;
  /** Written as the `if_name` option when given. */
  name?: string;
  /**
   * Decimal exponent of the timestamp unit: 6 means microseconds (the
   * pcapng default, written as no option), 9 nanoseconds. Written as the
   * `if_tsresol` option with the high bit clear (powers of ten).
   */
  timeResolutionExp10?: number;
}

/** Options of a pcapng file. */
export interface PcapngWriterOptions {
  /** Byte order of every block; `le` by default. */
  byteOrder?: ByteOrder;
  /** Written as the `shb_userappl` option of the section header. */
  application?: string;
  bufferBytes?: number;
}

/**
 * Writes a pcapng file (draft-ietf-opsawg-pcapng): one section header block,
 * then interface description, enhanced packet, simple packet and any other
 * blocks in call order. All block fields use the chosen byte order.
 */
export class PcapngWriter {
  /** Packet blocks (EPB and SPB) written so far. */
  frameCount = 0;
  private readonly file: BufferedFile;
  private readonly isLittleEndian: boolean;
  private readonly interfaceExp10: number[] = [];
  private readonly interfaceSnapLenBytes: number[] = [];

  constructor(path: string, options: PcapngWriterOptions = {}) {
    this.file = new BufferedFile(path, options.bufferBytes);
    this.isLittleEndian = (options.byteOrder ?? 'le') === 'le';

    const body: number[] = [];
    const fixed = Buffer.alloc(16);
    this.put32(fixed, 0, 0x1a2b3c4d);
    this.put16(fixed, 4, 1);
    this.put16(fixed, 6, 0);
    // Section length -1: not known up front, readers then scan the blocks.
    fixed.writeInt32LE(-1, 8);
    fixed.writeInt32LE(-1, 12);
    body.push(...fixed);
    if (options.application !== undefined) {
      body.push(
        ...this.option(OPT_SHB_USERAPPL, Buffer.from(options.application)),
      );
      body.push(...this.option(OPT_END_OF_OPT, new Uint8Array(0)));
    }
    this.writeBlock(PcapngBlockType.SectionHeader, Uint8Array.from(body));
  }

  /** Describe an interface; returns its id for `writeFrame`. */
  addInterface(intf: PcapngInterface): number {
    const snapLenBytes = intf.snapLenBytes ?? DEFAULT_SNAP_LEN_BYTES;
    const exp10 = intf.timeResolutionExp10 ?? 6;
    const fixed = Buffer.alloc(8);
    this.put16(fixed, 0, intf.linkType);
    this.put16(fixed, 2, 0);
    this.put32(fixed, 4, snapLenBytes);

    const body: number[] = [...fixed];
    if (intf.name !== undefined) {
      body.push(...this.option(OPT_IF_NAME, Buffer.from(intf.name)));
    }
    if (exp10 !== 6) {
      body.push(...this.option(OPT_IF_TSRESOL, Uint8Array.of(exp10)));
    }
    if (body.length > 8) {
      body.push(...this.option(OPT_END_OF_OPT, new Uint8Array(0)));
    }
    this.writeBlock(
      PcapngBlockType.InterfaceDescription,
      Uint8Array.from(body),
    );
    this.interfaceExp10.push(exp10);
    this.interfaceSnapLenBytes.push(snapLenBytes);
    return this.interfaceExp10.length - 1;
  }

  /**
   * Append an enhanced packet block.
   * @param interfaceId id returned by `addInterface`
   * @param timeSec whole seconds since the Unix epoch
   * @param subSecNs nanoseconds within the second, rounded down to the
   *   interface's timestamp unit
   * @param wireBytes original length; defaults to the captured length
   */
  writeFrame(
    interfaceId: number,
    frame: Uint8Array,
    timeSec: number,
    subSecNs: number,
    wireBytes = frame.length,
  ): void {
    const exp10 = this.interfaceExp10[interfaceId];
    if (exp10 === undefined) {
      throw new RangeError(`interface ${interfaceId} was not added`);
    }
    // Units since the epoch exceed 2^53 at nanosecond resolution.
    const units =
      BigInt(timeSec) * 10n ** BigInt(exp10) +
      BigInt(Math.floor(subSecNs / 10 ** (9 - exp10)));
    const body = Buffer.alloc(20 + pad4(frame.length));
    this.put32(body, 0, interfaceId);
    this.put32(body, 4, Number(units >> 32n));
    this.put32(body, 8, Number(units & 0xffffffffn));
    this.put32(body, 12, frame.length);
    this.put32(body, 16, wireBytes);
    body.set(frame, 20);
    this.writeBlock(PcapngBlockType.EnhancedPacket, body);
    this.frameCount++;
  }

  /**
   * Append a simple packet block: no timestamp, always interface 0, and the
   * captured length is implied as min(wire length, interface 0 snap length),
   * so `frame` must already be cut to that.
   */
  writeSimpleFrame(frame: Uint8Array, wireBytes = frame.length): void {
    const snapLenBytes = this.interfaceSnapLenBytes[0];
    if (snapLenBytes === undefined) {
      throw new RangeError('a simple packet block needs interface 0');
    }
    if (frame.length !== Math.min(wireBytes, snapLenBytes)) {
      throw new RangeError('simple packet length does not match snap length');
    }
    const body = Buffer.alloc(4 + pad4(frame.length));
    this.put32(body, 0, wireBytes);
    body.set(frame, 4);
    this.writeBlock(PcapngBlockType.SimplePacket, body);
    this.frameCount++;
  }

  /**
   * Append a block of any type with `body` as its content (padded to 4
   * bytes); used for block types that readers must skip.
   */
  writeBlock(blockType: number, body: Uint8Array): void {
    const bodyBytes = pad4(body.length);
    const totalBytes = 12 + bodyBytes;
    const b = this.file.buf;
    const off = this.file.reserve(totalBytes);
    this.put32(b, off, blockType);
    this.put32(b, off + 4, totalBytes);
    b.set(body, off + 8);
    b.fill(0, off + 8 + body.length, off + 8 + bodyBytes);
    this.put32(b, off + 8 + bodyBytes, totalBytes);
  }

  /** Bytes written so far. */
  get fileBytes(): number {
    return this.file.totalBytes;
  }

  /** Flush and close the file. */
  close(): void {
    this.file.close();
  }

  private option(code: number, value: Uint8Array): number[] {
    const out = Buffer.alloc(4 + pad4(value.length));
    this.put16(out, 0, code);
    this.put16(out, 2, value.length);
    out.set(value, 4);
    return [...out];
  }

  private put16(b: Buffer, off: number, value: number): void {
    if (this.isLittleEndian) b.writeUInt16LE(value, off);
    else b.writeUInt16BE(value, off);
  }

  private put32(b: Buffer, off: number, value: number): void {
    if (this.isLittleEndian) b.writeUInt32LE(value >>> 0, off);
    else b.writeUInt32BE(value >>> 0, off);
  }
}

function pad4(bytes: number): number {
  return (bytes + 3) & ~3;
}
