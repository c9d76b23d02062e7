/**
 * Capture files for tests and tools: every capture under a folder, and the
 * TCP payloads of one capture, copied out with their frame numbers.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import {
  CaptureFileError,
  CaptureFileReader,
} from '../../src/capture/capture-file.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodeStatus, DecodedPacket, Layer } from '../../src/decode/packet.js';

/** Every .pcap, .pcapng and .cap file under `dir`, sorted, recursively. */
export function listCaptureFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...listCaptureFiles(path));
    else if (/\.(pcap|pcapng|cap)$/.test(name)) found.push(path);
  }
  return found;
}

/** One TCP payload: 1-based frame number, direction by ports, the bytes. */
export interface TcpPayload {
  frame: number;
  stream: string;
  bytes: Uint8Array;
}

/**
 * Every non-empty TCP payload of the capture at `path`, copied. A capture
 * damaged part-way lends the payloads before the damage.
 */
export function tcpPayloads(path: string): TcpPayload[] {
  const out: TcpPayload[] = [];
  const packet = new DecodedPacket();
  let frame = 0;
  const sink = {
    onFrame(
      buf: Uint8Array,
      off: number,
      capturedBytes: number,
      wireBytes: number,
      _timeUs: number,
      linkType: number,
    ): void {
      frame++;
      decodeFrame(buf, off, capturedBytes, wireBytes, linkType, packet);
      if ((packet.layers & Layer.Tcp) === 0 || packet.payloadBytes === 0) {
        return;
      }
      const end = packet.payloadOff + packet.payloadBytes;
      out.push({
        frame,
        stream: `${packet.srcPort}>${packet.dstPort}`,
        bytes: buf.slice(packet.payloadOff, end),
      });
    },
  };
  const reader = CaptureFileReader.open(path);
  try {
    while (reader.readBatch(sink, 4096) > 0);
  } catch (error) {
    if (!(error instanceof CaptureFileError)) throw error;
  } finally {
    reader.close();
  }
  return out;
}

/**
 * The transport payload of frame `frameNumber` (1-based) of a capture,
 * copied (the reader reuses its buffer). Throws when the capture has no
 * such frame or the frame does not decode.
 */
export function framePayload(path: string, frameNumber: number): Uint8Array {
  const packet = new DecodedPacket();
  let seen = 0;
  let payload: Uint8Array | undefined;
  const sink = {
    onFrame(
      buf: Uint8Array,
      off: number,
      capturedBytes: number,
      wireBytes: number,
      _timeUs: number,
      linkType: number,
    ): void {
      if (++seen !== frameNumber) return;
      const status = decodeFrame(
        buf,
        off,
        capturedBytes,
        wireBytes,
        linkType,
        packet,
      );
      if (status !== DecodeStatus.Ok) return;
      const end = packet.payloadOff + packet.payloadBytes;
      payload = Uint8Array.from(buf.subarray(packet.payloadOff, end));
    },
  };
  const reader = CaptureFileReader.open(path);
  try {
    while (payload === undefined && reader.readBatch(sink, 64) > 0);
  } finally {
    reader.close();
  }
  if (payload === undefined) throw new Error(`no frame ${frameNumber}`);
  return payload;
}
