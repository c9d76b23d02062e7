/** Recording why a decoder stopped, in one place so every decoder agrees. */
import { DecodeStatus, type DecodedPacket } from './packet.js';

/** Record `reason` as truncated and return the status the decoder hands up. */
export function truncated(out: DecodedPacket, reason: number): number {
  out.reason = reason;
  return DecodeStatus.Truncated;
}

/** Record `reason` as malformed and return the status the decoder hands up. */
export function malformed(out: DecodedPacket, reason: number): number {
  out.reason = reason;
  return DecodeStatus.Malformed;
}

/** Record `reason` as unsupported and return the status. */
export function unsupported(out: DecodedPacket, reason: number): number {
  out.reason = reason;
  return DecodeStatus.Unsupported;
}
