/**
 * Streaming reader of pcap and pcapng capture files: parses records in place
 * in one reusable buffer and hands every frame to a FrameSink, zero copy.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { u16be, u16le, u32be, u32le } from '../decode/bytes.js';
import type { FrameSink } from './frame.js';
import { normalizeLinkType } from './link-type.js';
import {
  PCAP_FILE_HDR_BYTES,
  PCAP_MAX_RECORD_BYTES,
  PCAP_RECORD_HDR_BYTES,
  isPcapMagic,
  parsePcapFileHeader,
} from './pcap-format.js';
import {
  PCAPNG_EPB_TYPE,
  PCAPNG_IDB_TYPE,
  PCAPNG_MAX_BLOCK_BYTES,
  PCAPNG_MIN_BLOCK_BYTES,
  PCAPNG_MIN_EPB_BYTES,
  PCAPNG_MIN_SHB_BYTES,
  PCAPNG_MIN_SPB_BYTES,
  PCAPNG_OPB_TYPE,
  PCAPNG_SHB_TYPE,
  PCAPNG_SPB_TYPE,
  type PcapngInterface,
  parseInterfaceBlock,
  pcapngTimeUs,
  readSectionByteOrder,
  readSectionVersionMajor,
} from './pcapng-format.js';

/** Size of the read buffer unless the caller asks otherwise: 4 MiB. */
export const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024;

/** Frames per `readBatch` call in `readCaptureFile`. */
export const READ_ALL_BATCH_FRAMES = 65536;

/**
 * Interface Description Blocks accepted per file, over all sections; more
 * is taken as corruption, so that the interface tables stay bounded.
 */
export const MAX_INTERFACES_PER_FILE = 65536;

/** Small files get a buffer their own size; this is the floor. */
const MIN_BUFFER_BYTES = 4096;

/** The largest buffer a valid file can need: one pcapng block. */
const MAX_BUFFER_BYTES = PCAPNG_MAX_BLOCK_BYTES;

/** Stable codes of `CaptureFileError`; tests and callers key on them. */
export const CaptureFileErrorCode = {
  /** The file has no bytes at all. */
  Empty: 'E_CAPTURE_EMPTY',
  /** The file starts with neither a pcap magic nor a pcapng section. */
  BadMagic: 'E_CAPTURE_BAD_MAGIC',
  /** The file ends inside a header, record or block. */
  Truncated: 'E_CAPTURE_TRUNCATED',
  /** A pcap record header claims an impossible captured length. */
  BadRecord: 'E_CAPTURE_BAD_RECORD',
  /** A pcapng block is malformed or names an undefined interface. */
  BadBlock: 'E_CAPTURE_BAD_BLOCK',
} as const;

/** One of the `CaptureFileErrorCode` values. */
export type CaptureFileErrorCodeId =
  (typeof CaptureFileErrorCode)[keyof typeof CaptureFileErrorCode];

/** Container format of a capture file. */
export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * A capture file that cannot be read further. Thrown only once every
 * complete frame before the bad spot has been delivered.
 */
export class CaptureFileError extends Error {
  /** Stable id of the fault, one of `CaptureFileErrorCode`. */
  readonly code: CaptureFileErrorCodeId;
  /** The path the file was opened with. */
  readonly path: string;
  /** File offset of the bad header, record or block. */
  readonly byteOffset: number;
  /** Frames delivered from the file before the fault. */
  readonly framesDelivered: number;

  constructor(
    code: CaptureFileErrorCodeId,
    path: string,
    byteOffset: number,
    framesDelivered: number,
    message: string,
  ) {
    super(message);
    this.name = 'CaptureFileError';
    this.code = code;
    this.path = path;
    this.byteOffset = byteOffset;
    this.framesDelivered = framesDelivered;
  }
}

/** Options of `CaptureFileReader.open`. */
export interface CaptureFileOptions {
  /**
   * Initial read buffer in bytes (default 4 MiB). A record that does not
   * fit grows the buffer, up to one 64 MiB pcapng block.
   */
  bufferBytes?: number;
}

/** What `readCaptureFile` saw. */
export interface CaptureFileSummary {
  format: CaptureFormat;
  /** Frames delivered to the sink. */
  frames: number;
  /** Link type of each interface, in file order (see `linkTypes`). */
  linkTypes: readonly number[];
  /** File size when it was opened. */
  fileBytes: number;
  /** Bytes parsed, which is the file size once the end was reached. */
  bytesRead: number;
}

const NO_FRAMES_SINK: FrameSink = {
  onFrame(): void {},
};

const EMPTY_BUFFER = Buffer.alloc(0);

/**
 * Reads a pcap (micro- or nanosecond, either byte order) or pcapng file
 * (draft-ietf-opsawg-pcap, -pcapng) in batches, in constant memory. Frames
 * are handed out as offsets into the reader's buffer, valid only during the
 * `onFrame` call. Timestamps become microseconds since the epoch (floored).
 */
export class CaptureFileReader {
  /** The path the file was opened with. */
  readonly path: string;
  /** File size in bytes when it was opened. */
  readonly fileBytes: number;
  private fd: number;
  private buf: Buffer;
  private pos = 0;
  private end = 0;
  private fileReadBytes = 0;
  private isEof = false;
  private isClosed = false;
  private fileFormat: CaptureFormat = 'pcap';
  private isLittleEndian = false;
  private isNanosecond = false;
  private pcapLinkType = -1;
  private interfaces: PcapngInterface[] = [];
  private allLinkTypes: number[] = [];
  private lastTimeUs = 0;
  private pendingError: CaptureFileError | null = null;
  private frameCount = 0;

  private constructor(
    path: string,
    fd: number,
    fileBytes: number,
    bufferBytes: number,
  ) {
    this.path = path;
    this.fd = fd;
    this.fileBytes = fileBytes;
    const initialBytes = Math.min(
      bufferBytes,
      Math.max(fileBytes, MIN_BUFFER_BYTES),
    );
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /**
   * Open `path` and read its file header (pcap) or its section header and
   * the blocks up to the first packet (pcapng). Throws `CaptureFileError`
   * when these are bad, and the `fs` error when the file cannot be opened.
   */
  static open(
    path: string,
    options: CaptureFileOptions = {},
  ): CaptureFileReader {
    const bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    if (!(bufferBytes >= 1)) {
      throw new RangeError(`bufferBytes must be positive, got ${bufferBytes}`);
    }
    const fd = openSync(path, 'r');
    try {
      const reader = new CaptureFileReader(
        path,
        fd,
        fstatSync(fd).size,
        bufferBytes,
      );
      reader.readFileHeader();
      return reader;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Container format, from the file's magic. */
  get format(): CaptureFormat {
    return this.fileFormat;
  }

  /** Link type of the first interface (normalised), -1 if none yet. */
  get linkType(): number {
    return this.allLinkTypes.length > 0 ? this.allLinkTypes[0] : -1;
  }

  /**
   * Link type (normalised) of every interface defined so far, in file
   * order over all sections; a pcap file has exactly one.
   */
  get linkTypes(): readonly number[] {
    return this.allLinkTypes;
  }

  /** Frames delivered so far. */
  get framesDelivered(): number {
    return this.frameCount;
  }

  /** File offset of the next unparsed byte. */
  get bytesRead(): number {
    return this.offsetOf(this.pos);
  }

  /**
   * Deliver up to `maxFrames` frames to `sink`. Returns how many were
   * delivered, 0 only at the end of the file. A fault after some frames
   * returns those frames; the next call throws the `CaptureFileError`.
   */
  readBatch(sink: FrameSink, maxFrames: number): number {
    if (this.pendingError !== null) throw this.pendingError;
    if (this.isClosed) throw new Error(`${this.path}: reader is closed`);
    if (!(maxFrames >= 1)) {
      throw new RangeError(`maxFrames must be at least 1, got ${maxFrames}`);
    }

    const framesBefore = this.framesDelivered;
    try {
      if (this.fileFormat === 'pcap') this.readPcap(sink, maxFrames);
      else this.readPcapng(sink, maxFrames);
    } catch (error) {
      // Errors thrown by the sink are the caller's and pass through.
      if (!(error instanceof CaptureFileError)) throw error;
      this.pendingError = error;
      if (this.framesDelivered === framesBefore) throw error;
    }
    return this.framesDelivered - framesBefore;
  }

  /** Close the file and release the buffer; safe to call twice. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.buf = EMPTY_BUFFER;
    closeSync(this.fd);
  }

  private readFileHeader(): void {
    if (!this.ensure(4)) {
      if (this.end === 0) {
        throw this.fail(
          CaptureFileErrorCode.Empty,
          0,
          'empty file (0 bytes), not a pcap or pcapng capture',
        );
      }
      throw this.truncated(0, 'file header', 4);
    }
    const magicBe = u32be(this.buf, 0);

    if (magicBe === PCAPNG_SHB_TYPE) {
      this.fileFormat = 'pcapng';
      this.readSectionHeader(true);
      // Read the interfaces ahead of the first packet so that `linkType`
      // is known right after open.
      this.readPcapng(NO_FRAMES_SINK, 0);
      return;
    }

    // Limitation: gzip-compressed captures (tshark opens them) are bad magic.
    if (!isPcapMagic(magicBe)) {
      const hex = magicBe.toString(16).padStart(8, '0');
      throw this.fail(
        CaptureFileErrorCode.BadMagic,
        0,
        `not a pcap or pcapng file at byte 0 (magic 0x${hex})`,
      );
    }
    if (!this.ensure(PCAP_FILE_HDR_BYTES)) {
      throw this.truncated(0, 'pcap file header', PCAP_FILE_HDR_BYTES);
    }
    const header = parsePcapFileHeader(this.buf, 0);
    this.fileFormat = 'pcap';
    this.isLittleEndian = header.isLittleEndian;
    this.isNanosecond = header.isNanosecond;
    this.pcapLinkType = normalizeLinkType(header.linkType);
    this.allLinkTypes.push(this.pcapLinkType);
    this.pos = PCAP_FILE_HDR_BYTES;
  }

  private readPcap(sink: FrameSink, maxFrames: number): void {
    const isLittleEndian = this.isLittleEndian;
    const isNanosecond = this.isNanosecond;
    const linkType = this.pcapLinkType;
    let buf = this.buf;
    let pos = this.pos;
    let end = this.end;

    for (let frames = 0; frames < maxFrames; frames++) {
      if (end - pos < PCAP_RECORD_HDR_BYTES) {
        this.pos = pos;
        if (!this.ensure(PCAP_RECORD_HDR_BYTES)) {
          if (this.end === this.pos) return;
          throw this.truncated(
            this.pos,
            'packet record header',
            PCAP_RECORD_HDR_BYTES,
          );
        }
        buf = this.buf;
        pos = this.pos;
        end = this.end;
      }

      let tsSec: number;
      let tsFrac: number;
      let capturedBytes: number;
      let wireBytes: number;
      if (isLittleEndian) {
        tsSec = u32le(buf, pos);
        tsFrac = u32le(buf, pos + 4);
        capturedBytes = u32le(buf, pos + 8);
        wireBytes = u32le(buf, pos + 12);
      } else {
        tsSec = u32be(buf, pos);
        tsFrac = u32be(buf, pos + 4);
        capturedBytes = u32be(buf, pos + 8);
        wireBytes = u32be(buf, pos + 12);
      }

      if (capturedBytes > PCAP_MAX_RECORD_BYTES) {
        this.pos = pos;
        throw this.fail(
          CaptureFileErrorCode.BadRecord,
          pos,
          `bad packet record at byte ${this.offsetOf(pos)} (captured ` +
            `length ${capturedBytes} exceeds ${PCAP_MAX_RECORD_BYTES})`,
        );
      }

      const recordBytes = PCAP_RECORD_HDR_BYTES + capturedBytes;
      if (end - pos < recordBytes) {
        this.pos = pos;
        if (!this.ensure(recordBytes)) {
          throw this.truncated(this.pos, 'packet record', recordBytes);
        }
        buf = this.buf;
        pos = this.pos;
        end = this.end;
      }

      // Any 32-bit second count times 10^6 stays below 2^53: exact.
      const timeUs = isNanosecond
        ? tsSec * 1e6 + Math.floor(tsFrac / 1000)
        : tsSec * 1e6 + tsFrac;

      // Commit the position first: a sink that throws does not see the
      // same frame again.
      pos += recordBytes;
      this.pos = pos;
      this.frameCount++;
      sink.onFrame(
        buf,
        pos - capturedBytes,
        capturedBytes,
        wireBytes,
        timeUs,
        linkType,
      );
    }
    this.pos = pos;
  }

  private readPcapng(sink: FrameSink, maxFrames: number): void {
    let isLittleEndian = this.isLittleEndian;
    let buf = this.buf;
    let pos = this.pos;
    let end = this.end;
    let frames = 0;

    for (;;) {
      if (end - pos < PCAPNG_MIN_BLOCK_BYTES) {
        this.pos = pos;
        if (!this.ensure(PCAPNG_MIN_BLOCK_BYTES)) {
          if (this.end === this.pos) return;
          throw this.truncated(
            this.pos,
            'block header',
            PCAPNG_MIN_BLOCK_BYTES,
          );
        }
        buf = this.buf;
        pos = this.pos;
        end = this.end;
      }

      const blockType = isLittleEndian ? u32le(buf, pos) : u32be(buf, pos);
      if (blockType === PCAPNG_SHB_TYPE) {
        this.pos = pos;
        this.readSectionHeader(false);
        isLittleEndian = this.isLittleEndian;
        buf = this.buf;
        pos = this.pos;
        end = this.end;
        continue;
      }

      const isPacket =
        blockType === PCAPNG_EPB_TYPE ||
        blockType === PCAPNG_SPB_TYPE ||
        blockType === PCAPNG_OPB_TYPE;
      if (isPacket && frames >= maxFrames) break;

      const blockBytes = isLittleEndian
        ? u32le(buf, pos + 4)
        : u32be(buf, pos + 4);
      if (
        blockBytes < PCAPNG_MIN_BLOCK_BYTES ||
        (blockBytes & 3) !== 0 ||
        blockBytes > PCAPNG_MAX_BLOCK_BYTES
      ) {
        this.pos = pos;
        throw this.badBlockLength(pos, blockType, blockBytes);
      }
      if (end - pos < blockBytes) {
        this.pos = pos;
        if (!this.ensure(blockBytes)) {
          throw this.truncated(this.pos, blockName(blockType), blockBytes);
        }
        buf = this.buf;
        pos = this.pos;
        end = this.end;
      }
      const trailerBytes = isLittleEndian
        ? u32le(buf, pos + blockBytes - 4)
        : u32be(buf, pos + blockBytes - 4);
      if (trailerBytes !== blockBytes) {
        this.pos = pos;
        throw this.badBlock(
          pos,
          `${blockName(blockType)} at byte ${this.offsetOf(pos)} has ` +
            `trailing length ${trailerBytes}, leading length ${blockBytes}`,
        );
      }

      if (blockType === PCAPNG_EPB_TYPE || blockType === PCAPNG_OPB_TYPE) {
        this.deliverPacketBlock(sink, pos, blockType, blockBytes);
        frames++;
      } else if (blockType === PCAPNG_SPB_TYPE) {
        this.deliverSimplePacketBlock(sink, pos, blockBytes);
        frames++;
      } else if (blockType === PCAPNG_IDB_TYPE) {
        this.pos = pos;
        this.addInterface(pos, blockBytes);
      }
      pos += blockBytes;
    }
    this.pos = pos;
  }

  /**
   * Deliver the EPB or OPB of `blockBytes` bytes (all present, framing
   * checked) at `pos`, leaving `this.pos` after it.
   */
  private deliverPacketBlock(
    sink: FrameSink,
    pos: number,
    blockType: number,
    blockBytes: number,
  ): void {
    const buf = this.buf;
    this.pos = pos;
    if (blockBytes < PCAPNG_MIN_EPB_BYTES) {
      throw this.badBlockLength(pos, blockType, blockBytes);
    }

    // The obsolete block has a 16-bit interface id then a drop count.
    let interfaceId: number;
    let tsHigh: number;
    let tsLow: number;
    let capturedBytes: number;
    let wireBytes: number;
    if (this.isLittleEndian) {
      interfaceId =
        blockType === PCAPNG_EPB_TYPE
          ? u32le(buf, pos + 8)
          : u16le(buf, pos + 8);
      tsHigh = u32le(buf, pos + 12);
      tsLow = u32le(buf, pos + 16);
      capturedBytes = u32le(buf, pos + 20);
      wireBytes = u32le(buf, pos + 24);
    } else {
      interfaceId =
        blockType === PCAPNG_EPB_TYPE
          ? u32be(buf, pos + 8)
          : u16be(buf, pos + 8);
      tsHigh = u32be(buf, pos + 12);
      tsLow = u32be(buf, pos + 16);
      capturedBytes = u32be(buf, pos + 20);
      wireBytes = u32be(buf, pos + 24);
    }

    if (interfaceId >= this.interfaces.length) {
      throw this.undefinedInterface(pos, blockType, interfaceId);
    }
    if (capturedBytes > blockBytes - PCAPNG_MIN_EPB_BYTES) {
      throw this.badBlock(
        pos,
        `${blockName(blockType)} at byte ${this.offsetOf(pos)} has ` +
          `captured length ${capturedBytes}, more than its ` +
          `${blockBytes}-byte block holds`,
      );
    }

    const iface = this.interfaces[interfaceId];
    const timeUs = pcapngTimeUs(iface, tsHigh, tsLow);
    this.lastTimeUs = timeUs;
    this.pos = pos + blockBytes;
    this.frameCount++;
    sink.onFrame(
      buf,
      pos + 28,
      capturedBytes,
      wireBytes,
      timeUs,
      iface.linkType,
    );
  }

  /** Like `deliverPacketBlock`, for a Simple Packet Block. */
  private deliverSimplePacketBlock(
    sink: FrameSink,
    pos: number,
    blockBytes: number,
  ): void {
    const buf = this.buf;
    this.pos = pos;
    if (blockBytes < PCAPNG_MIN_SPB_BYTES) {
      throw this.badBlockLength(pos, PCAPNG_SPB_TYPE, blockBytes);
    }
    if (this.interfaces.length === 0) {
      throw this.undefinedInterface(pos, PCAPNG_SPB_TYPE, 0);
    }

    // The block stores only the original length: the captured part is
    // what the snap length and the block leave of it.
    const iface = this.interfaces[0];
    const wireBytes = this.isLittleEndian
      ? u32le(buf, pos + 8)
      : u32be(buf, pos + 8);
    let capturedBytes = blockBytes - PCAPNG_MIN_SPB_BYTES;
    if (wireBytes < capturedBytes) capturedBytes = wireBytes;
    if (iface.snapBytes !== 0 && iface.snapBytes < capturedBytes) {
      capturedBytes = iface.snapBytes;
    }

    // Reusing the previous packet's time keeps packet-driven timeouts
    // from jumping back to 1970.
    // Limitation: an SPB has no timestamp; its frame gets the last one.
    this.pos = pos + blockBytes;
    this.frameCount++;
    sink.onFrame(
      buf,
      pos + 12,
      capturedBytes,
      wireBytes,
      this.lastTimeUs,
      iface.linkType,
    );
  }

  /** Enter the section whose SHB starts at `this.pos`. */
  private readSectionHeader(isFirst: boolean): void {
    if (!this.ensure(PCAPNG_MIN_BLOCK_BYTES)) {
      throw this.truncated(
        this.pos,
        'section header block',
        PCAPNG_MIN_BLOCK_BYTES,
      );
    }
    const start = this.pos;
    const isLittleEndian = readSectionByteOrder(this.buf, start);
    if (isLittleEndian === null) {
      throw this.fail(
        isFirst ? CaptureFileErrorCode.BadMagic : CaptureFileErrorCode.BadBlock,
        start,
        `section header block at byte ${this.offsetOf(start)} has no ` +
          'valid byte-order magic',
      );
    }

    const blockBytes = isLittleEndian
      ? u32le(this.buf, start + 4)
      : u32be(this.buf, start + 4);
    if (
      blockBytes < PCAPNG_MIN_SHB_BYTES ||
      (blockBytes & 3) !== 0 ||
      blockBytes > PCAPNG_MAX_BLOCK_BYTES
    ) {
      throw this.badBlockLength(start, PCAPNG_SHB_TYPE, blockBytes);
    }
    if (!this.ensure(blockBytes)) {
      throw this.truncated(this.pos, 'section header block', blockBytes);
    }

    const shb = this.pos;
    const trailerBytes = isLittleEndian
      ? u32le(this.buf, shb + blockBytes - 4)
      : u32be(this.buf, shb + blockBytes - 4);
    if (trailerBytes !== blockBytes) {
      throw this.badBlock(
        shb,
        `section header block at byte ${this.offsetOf(shb)} has ` +
          `trailing length ${trailerBytes}, leading length ${blockBytes}`,
      );
    }
    const versionMajor = readSectionVersionMajor(this.buf, shb, isLittleEndian);
    if (versionMajor !== 1) {
      throw this.badBlock(
        shb,
        `section header block at byte ${this.offsetOf(shb)} has ` +
          `unsupported pcapng major version ${versionMajor}`,
      );
    }

    // Interface ids are numbered afresh in every section.
    this.isLittleEndian = isLittleEndian;
    this.interfaces = [];
    this.pos = shb + blockBytes;
  }

  private addInterface(pos: number, blockBytes: number): void {
    const parsed = parseInterfaceBlock(
      this.buf,
      pos,
      blockBytes,
      this.isLittleEndian,
    );
    if (typeof parsed === 'string') {
      throw this.badBlock(
        pos,
        `bad interface description block at byte ${this.offsetOf(pos)} ` +
          `(${parsed})`,
      );
    }
    if (this.allLinkTypes.length >= MAX_INTERFACES_PER_FILE) {
      throw this.badBlock(
        pos,
        `interface description block at byte ${this.offsetOf(pos)} ` +
          `exceeds ${MAX_INTERFACES_PER_FILE} interfaces per file`,
      );
    }
    parsed.linkType = normalizeLinkType(parsed.linkType);
    this.interfaces.push(parsed);
    this.allLinkTypes.push(parsed.linkType);
  }

  /**
   * Make `needBytes` bytes available from `this.pos`, moving the unparsed
   * tail to the front and reading more. False if the file ends first.
   */
  private ensure(needBytes: number): boolean {
    if (this.end - this.pos >= needBytes) return true;
    if (needBytes > this.buf.length) {
      this.grow(needBytes);
    } else if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.end -= this.pos;
      this.pos = 0;
    }

    while (this.end - this.pos < needBytes && !this.isEof) {
      const readBytes = readSync(
        this.fd,
        this.buf,
        this.end,
        this.buf.length - this.end,
        this.fileReadBytes,
      );
      if (readBytes === 0) this.isEof = true;
      this.end += readBytes;
      this.fileReadBytes += readBytes;
    }
    return this.end - this.pos >= needBytes;
  }

  private grow(needBytes: number): void {
    const grownBytes = Math.max(
      needBytes,
      Math.min(this.buf.length * 2, MAX_BUFFER_BYTES),
    );
    const grown = Buffer.allocUnsafe(grownBytes);
    this.buf.copy(grown, 0, this.pos, this.end);
    this.end -= this.pos;
    this.pos = 0;
    this.buf = grown;
  }

  /** File offset of buffer position `pos`. */
  private offsetOf(pos: number): number {
    return this.fileReadBytes - (this.end - pos);
  }

  private fail(
    code: CaptureFileErrorCodeId,
    pos: number,
    text: string,
  ): CaptureFileError {
    return new CaptureFileError(
      code,
      this.path,
      this.offsetOf(pos),
      this.framesDelivered,
      `${this.path}: ${text}`,
    );
  }

  private truncated(
    pos: number,
    what: string,
    needBytes: number,
  ): CaptureFileError {
    return this.fail(
      CaptureFileErrorCode.Truncated,
      pos,
      `truncated ${what} at byte ${this.offsetOf(pos)} (needs ` +
        `${needBytes} bytes, ${this.end - pos} left)`,
    );
  }

  private badBlock(pos: number, text: string): CaptureFileError {
    return this.fail(CaptureFileErrorCode.BadBlock, pos, text);
  }

  private badBlockLength(
    pos: number,
    blockType: number,
    blockBytes: number,
  ): CaptureFileError {
    return this.badBlock(
      pos,
      `${blockName(blockType)} at byte ${this.offsetOf(pos)} has bad ` +
        `length ${blockBytes}`,
    );
  }

  private undefinedInterface(
    pos: number,
    blockType: number,
    interfaceId: number,
  ): CaptureFileError {
    return this.badBlock(
      pos,
      `${blockName(blockType)} at byte ${this.offsetOf(pos)} refers to ` +
        `undefined interface ${interfaceId} (section has ` +
        `${this.interfaces.length})`,
    );
  }
}

/**
 * Read the whole file at `path` into `sink`. Throws `CaptureFileError` for
 * a bad file, after delivering every complete frame before the fault.
 */
export function readCaptureFile(
  path: string,
  sink: FrameSink,
  options: CaptureFileOptions = {},
): CaptureFileSummary {
  const reader = CaptureFileReader.open(path, options);
  try {
    let batchFrames: number;
    do {
      batchFrames = reader.readBatch(sink, READ_ALL_BATCH_FRAMES);
    } while (batchFrames > 0);
    return {
      format: reader.format,
      frames: reader.framesDelivered,
      linkTypes: reader.linkTypes,
      fileBytes: reader.fileBytes,
      bytesRead: reader.bytesRead,
    };
  } finally {
    reader.close();
  }
}

function blockName(blockType: number): string {
  switch (blockType) {
    case PCAPNG_SHB_TYPE:
      return 'section header block';
    case PCAPNG_IDB_TYPE:
      return 'interface description block';
    case PCAPNG_EPB_TYPE:
      return 'enhanced packet block';
    case PCAPNG_SPB_TYPE:
      return 'simple packet block';
    case PCAPNG_OPB_TYPE:
      return 'packet block';
    default:
      return `block of type 0x${blockType.toString(16).padStart(8, '0')}`;
  }
}
