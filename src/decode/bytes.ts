/** Byte-math readers for the decoders: callers check bounds once per header. */

/** Big-endian (network order) unsigned 16-bit value at `off`. */
export const u16be = (b: Uint8Array, off: number): number =>
  (b[off] << 8) | b[off + 1];

/** Big-endian (network order) unsigned 32-bit value at `off`. */
export const u32be = (b: Uint8Array, off: number): number =>
  ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;

/** Little-endian unsigned 16-bit value at `off`. */
export const u16le = (b: Uint8Array, off: number): number =>
  b[off] | (b[off + 1] << 8);

/** Little-endian unsigned 32-bit value at `off`. */
export const u32le = (b: Uint8Array, off: number): number =>
  (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
