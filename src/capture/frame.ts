/** The contract between a frame source (file or live) and the data path. */

/**
 * Receives each captured frame. The bytes are only valid during the call:
 * the source reuses its buffer, so a consumer copies what it keeps.
 */
export interface FrameSink {
  /**
   * @param buf buffer holding the frame
   * @param off offset of the frame's first byte in `buf`
   * @param capturedBytes bytes present in `buf` (at most the snap length)
   * @param wireBytes length of the frame on the wire
   * @param timeUs capture time, microseconds since the Unix epoch
   * @param linkType LINKTYPE_* of the interface the frame came from
   */
  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void;
}
