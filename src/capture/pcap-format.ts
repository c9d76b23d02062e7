/**
 * Layout of the classic pcap file format (draft-ietf-opsawg-pcap): the
 * 24-byte file header and the 16-byte per-packet record header.
 */

import { u16be, u16le, u32be, u32le } from '../decode/bytes.js';

/** Bytes in the file header that opens every pcap file. */
export const PCAP_FILE_HDR_BYTES = 24;

/** Bytes in the header before each packet record's data. */
export const PCAP_RECORD_HDR_BYTES = 16;

/**
 * The largest captured length we accept in a record when the file's snap
 * length is not larger; libpcap uses the same ceiling (256 KiB).
 */
export const PCAP_MAX_RECORD_BYTES = 262144;

/** Magic of a microsecond file, as a big-endian read of its first 4 bytes. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;

/** Magic of a nanosecond file, as a big-endian read of its first 4 bytes. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;

/** Magic of a microsecond file written on a little-endian host. */
export const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;

/** Magic of a nanosecond file written on a little-endian host. */
export const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;

/**
 * The link-type field carries FCS information in its upper 16 bits; only
 * the low 16 bits name the LINKTYPE_* value.
 */
export const PCAP_LINK_TYPE_MASK = 0xffff;

/** The fields of a pcap file header. */
export interface PcapFileHeader {
  /** Byte order of every multi-byte field in the file. */
  isLittleEndian: boolean;
  /** Record timestamps count nanoseconds, not microseconds. */
  isNanosecond: boolean;
  /** Format version, 2.4 for every current writer; not checked. */
  versionMajor: number;
  /** Minor format version. */
  versionMinor: number;
  /** Snap length: the most bytes the writer kept of each frame. */
  snapBytes: number;
  /** LINKTYPE_* value, FCS bits removed, not normalised. */
  linkType: number;
}

/**
 * Whether the 32-bit value at the start of a file (read big-endian) is one
 * of the four classic pcap magics.
 */
export function isPcapMagic(magicBe: number): boolean {
  return (
    magicBe === PCAP_MAGIC_US ||
    magicBe === PCAP_MAGIC_NS ||
    magicBe === PCAP_MAGIC_US_SWAPPED ||
    magicBe === PCAP_MAGIC_NS_SWAPPED
  );
}

/**
 * Parse the file header at `off`; the caller checked that
 * `PCAP_FILE_HDR_BYTES` are present and that the magic is a pcap one.
 */
export function parsePcapFileHeader(
  buf: Uint8Array,
  off: number,
): PcapFileHeader {
  const magicBe = u32be(buf, off);
  const isLittleEndian =
    magicBe === PCAP_MAGIC_US_SWAPPED || magicBe === PCAP_MAGIC_NS_SWAPPED;
  const isNanosecond =
    magicBe === PCAP_MAGIC_NS || magicBe === PCAP_MAGIC_NS_SWAPPED;
  const u16 = isLittleEndian ? u16le : u16be;
  const u32 = isLittleEndian ? u32le : u32be;

  // Bytes 8-15 (time zone and accuracy) have always been written as zero.
  return {
    isLittleEndian,
    isNanosecond,
    versionMajor: u16(buf, off + 4),
    versionMinor: u16(buf, off + 6),
    snapBytes: u32(buf, off + 16),
    linkType: u32(buf, off + 20) & PCAP_LINK_TYPE_MASK,
  };
}
