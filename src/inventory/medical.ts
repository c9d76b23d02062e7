/**
 * Device facts from the TCP stack signature and the medical protocols:
 * DICOM association fields, the HL7 MSH header and vendor UDP hints.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { parseDicomPdu, type DicomAssociate } from '../fingerprint/dicom.js';
import { parseHl7Mllp } from '../fingerprint/hl7.js';
import type { MedicalHint } from '../fingerprint/medical-hints.js';
import { guessOs, type OsGuess } from '../fingerprint/os-signatures.js';
import {
  extractTcpSignature,
  readSignatureShape,
  SIGNATURE_SHAPE_MAX_WORDS,
  type TcpSignature,
} from '../fingerprint/tcp-signature.js';
import type { Device } from './device.js';

/** Signatures held by SYN shape, at most. */
const TCP_SIGNATURES_MAX = 1024;

/** A signature's text and the OS guess made from it. */
export interface HeldSignature {
  readonly text: string;
  readonly guess: OsGuess | null;
}

interface ShapeEntry {
  readonly shape: Int32Array;
  readonly held: HeldSignature;
}

/**
 * Signature texts and OS guesses by SYN shape (every value the text is made
 * of): a network runs a few stacks on many devices, so each text is built
 * and each guess made once, and a device showing a known shape costs a
 * lookup instead of a new string.
 */
export class TcpSignatureMemo {
  /** Shapes dropped, oldest first, to admit new ones. */
  evicted = 0;
  private readonly shape = new Int32Array(SIGNATURE_SHAPE_MAX_WORDS);
  /** Held shapes by digest; Map order is the order digests came in. */
  private readonly byDigest = new Map<number, ShapeEntry[]>();
  private heldShapes = 0;

  /** The signature of a SYN or SYN+ACK, or null when it has none. */
  lookup(buf: Uint8Array, packet: DecodedPacket): HeldSignature | null {
    const words = readSignatureShape(buf, packet, this.shape);
    if (words === 0) return null;
    const digest = digestWords(this.shape, words);
    const entries = this.byDigest.get(digest);
    if (entries !== undefined) {
      for (const entry of entries) {
        if (isSameShape(entry.shape, this.shape, words)) return entry.held;
      }
    }

    const signature = extractTcpSignature(buf, packet) as TcpSignature;
    const held = { text: signature.text, guess: guessOs(signature) };
    if (this.heldShapes >= TCP_SIGNATURES_MAX) this.evictOldest();
    const entry = { shape: this.shape.slice(0, words), held };
    if (entries === undefined) this.byDigest.set(digest, [entry]);
    else entries.push(entry);
    this.heldShapes++;
    return held;
  }

  private evictOldest(): void {
    for (const [digest, entries] of this.byDigest) {
      this.byDigest.delete(digest);
      this.heldShapes -= entries.length;
      this.evicted += entries.length;
      return;
    }
  }
}

/**
 * Record the stack signature of a SYN or SYN+ACK; true when one was read.
 * Callers skip a SYN whose `synShapeKey` the device has shown before.
 */
export function observeTcpSignature(
  device: Device,
  packet: DecodedPacket,
  buf: Uint8Array,
  signatures: TcpSignatureMemo,
): boolean {
  const signature = signatures.lookup(buf, packet);
  if (signature === null) return false;
  if (!device.tcpSignatures.add(signature.text)) return true;
  device.isDirty = true;

  const guess = signature.guess;
  if (guess !== null && guess.confidence >= device.osGuessConfidence) {
    device.osGuess = guess.label;
    device.osGuessConfidence = guess.confidence;
  }
  return true;
}

function digestWords(words: Int32Array, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < count; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h;
}

function isSameShape(held: Int32Array, shape: Int32Array, count: number) {
  if (held.length !== count) return false;
  for (let i = 0; i < count; i++) if (held[i] !== shape[i]) return false;
  return true;
}

/**
 * A 32-bit digest of what a SYN signature is made of: stacks repeat a few
 * SYN shapes, so only a shape new to a device costs a signature.
 */
export function synShapeKey(packet: DecodedPacket): number {
  let h = Math.imul(packet.ttl ^ (packet.tcpFlags << 8), 0x9e3779b1);
  h = Math.imul(h ^ packet.tcpWindow ^ (packet.tcpMss << 16), 0x85ebca6b);
  h = Math.imul(h ^ packet.tcpWindowScale ^ (packet.tcpOptionCount << 8), 31);
  for (let i = 0; i < packet.tcpOptionCount; i++) {
    h = Math.imul(h ^ packet.tcpOptionKinds[i], 0x01000193);
  }
  h ^= packet.tcpOptionQuirks ^ (packet.ipDontFragment ? 1 << 30 : 0);
  h ^= (packet.ipv4OptionBytes << 20) ^ ((packet.tos & 3) << 26);
  h ^=
    (packet.ipId === 0 ? 1 << 28 : 0) ^ (packet.tcpTsVal === 0 ? 1 << 29 : 0);
  h ^= packet.tcpUrgentPointer ^ (packet.payloadBytes > 0 ? 1 << 25 : 0);
  // What else the signature reads: IP version, header length, quirks.
  h ^= packet.ipVersion ^ (packet.tcpReservedBits << 4);
  h = Math.imul(h ^ (packet.ipHdrBytes << 8), 31);
  h ^= packet.ipv6FlowLabel !== 0 ? 1 << 24 : 0;
  h ^=
    (packet.tcpSeq === 0 ? 1 << 23 : 0) ^ (packet.tcpAck === 0 ? 1 << 22 : 0);
  return (h ^ (h >>> 15)) | 1;
}

/** Apply a vendor hint (IntelliVue, CARESCAPE, POCT1-A) to a device. */
export function applyMedicalHint(device: Device, hint: MedicalHint): void {
  if (!device.medicalHints.add(medicalHintLabel(hint))) return;
  device.hintVendors.add(hint.vendor);
  if (hint.product) device.hintProducts.add(hint.product);
  device.isDirty = true;
}

/**
 * Maker and product, with what else the hint tells an engineer: where a
 * CARESCAPE central station stands, which port an IntelliVue monitor
 * offers its data on, a POCT1-A device's own id.
 */
function medicalHintLabel(hint: MedicalHint): string {
  const name = hint.product ? `${hint.vendor} ${hint.product}` : hint.vendor;
  const details: string[] = [];
  if (hint.careUnit) details.push(`unit ${hint.careUnit}`);
  if (hint.room) details.push(`room ${hint.room}`);
  if (hint.dataExportPort) {
    details.push(`data export on UDP ${hint.dataExportPort}`);
  }
  if (hint.deviceId) details.push(`device ${hint.deviceId}`);
  return details.length === 0 ? name : `${name} (${details.join(', ')})`;
}

/**
 * DICOM association or HL7 MSH at the start of a TCP payload; true when
 * either was recognised. Only identifying fields are kept: DICOM P-DATA
 * and every HL7 segment after MSH stay unread. `flowId` is the payload's
 * flow and `peer` the device of its other direction (null: unknown), which
 * an association accept needs to name the abstract syntaxes it took.
 */
export function observeMedicalTcp(
  device: Device,
  packet: DecodedPacket,
  buf: Uint8Array,
  flowId: number,
  peer: Device | null,
): boolean {
  const off = packet.payloadOff;
  const end = off + packet.payloadBytes;
  const first = buf[off];
  if (first === MLLP_START_BLOCK) return observeHl7(device, buf, off, end);
  if (first >= 1 && first <= 3 && buf[off + 1] === 0) {
    return observeDicom(device, buf, off, end, flowId, peer);
  }
  return false;
}

const MLLP_START_BLOCK = 0x0b;

function observeDicom(
  device: Device,
  buf: Uint8Array,
  off: number,
  end: number,
  flowId: number,
  peer: Device | null,
): boolean {
  const pdu = parseDicomPdu(buf, off, end);
  if (pdu === null || pdu.kind === 'associate-rj') return pdu !== null;
  device.addDicom({
    callingAe: pdu.callingAe,
    calledAe: pdu.calledAe,
    implementationClassUid: pdu.implementationClassUid,
    implementationVersion: pdu.implementationVersion,
    // The requestor of an association acts as SCU, the acceptor as SCP.
    role: pdu.kind === 'associate-rq' ? 'scu' : 'scp',
  });
  if (pdu.kind === 'associate-rq') {
    for (const uid of pdu.abstractSyntaxes) {
      addAbstractSyntax(device, `scu:${uid}`);
    }
    device.dicomRequest = { flowId, contexts: pdu.requestedContexts };
  } else if (peer !== null) {
    addAcceptedSyntaxes(device, pdu, peer, flowId);
  }
  if (pdu.userIdentity !== null) {
    // Only that it happened: the identity itself is never kept.
    device.findings.add(
      `dicom_user_identity_in_clear:${pdu.userIdentity.typeName}`,
    );
  }
  return true;
}

/**
 * An accept names only context ids: the abstract syntaxes it took are those
 * of the requestor's contexts on the same flow (PS3.8 9.3.3.2).
 */
function addAcceptedSyntaxes(
  acceptor: Device,
  accept: DicomAssociate,
  requestor: Device,
  flowId: number,
): void {
  const request = requestor.dicomRequest;
  if (request === null || request.flowId !== flowId) return;
  requestor.dicomRequest = null;
  const syntaxById = new Map<number, string>();
  for (const context of request.contexts) {
    syntaxById.set(context.id, context.abstractSyntax);
  }
  for (const id of accept.acceptedContextIds) {
    const uid = syntaxById.get(id);
    if (uid === undefined || uid === '') continue;
    addAbstractSyntax(acceptor, `scp:${uid}`);
  }
}

function addAbstractSyntax(device: Device, value: string): void {
  if (device.dicomAbstractSyntaxes.add(value)) device.isDirty = true;
}

function observeHl7(
  device: Device,
  buf: Uint8Array,
  off: number,
  end: number,
): boolean {
  const header = parseHl7Mllp(buf, off, end);
  if (header === null) return false;
  const messageType =
    header.messageCode !== '' && header.triggerEvent !== ''
      ? `${header.messageCode}^${header.triggerEvent}`
      : header.messageType;
  device.addHl7(header.sendingApplication, header.sendingFacility, messageType);
  return true;
}
