/**
 * HL7 v2 message headers over MLLP: the MSH segment only. Scanning stops at
 * the first segment terminator, so no other segment is ever read.
 */

/** The identifying MSH fields (HL7 v2.5.1 chapter 2, section 2.14.9). */
export interface Hl7Header {
  /** MSH-1, usually `|`. */
  fieldSeparator: string;
  /** MSH-2, usually `^~\&`. */
  encodingCharacters: string;
  /** MSH-3 to MSH-6, whole fields with their components. */
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-9 as `code^event`, components joined with `^` whatever MSH-2 says. */
  messageType: string;
  /** MSH-9 components: message code, trigger event, message structure. */
  messageCode: string;
  triggerEvent: string;
  messageStructure: string;
  /** MSH-12 version id, e.g. `2.5.1`. */
  versionId: string;
  /** The MSH segment ended within the bytes given (else fields may lack). */
  isComplete: boolean;
}

/** MLLP start of block (HL7 v2 appendix C, minimal lower layer protocol). */
const MLLP_START_BLOCK = 0x0b;
/** MLLP end of block; a carriage return follows it. */
const MLLP_END_BLOCK = 0x1c;
const CR = 0x0d;
const LF = 0x0a;

/** MSH bytes scanned at most; a longer header is treated as cut there. */
export const MAX_MSH_BYTES = 1024;
/** Characters kept per field. */
export const MAX_HL7_FIELD_CHARS = 128;

/** Field numbers of MSH we keep; MSH-10 (control id) and others are not. */
const MSH = {
  SendingApplication: 3,
  SendingFacility: 4,
  ReceivingApplication: 5,
  ReceivingFacility: 6,
  MessageType: 9,
  VersionId: 12,
} as const;

// Start and end offsets of the kept fields, indexed by field number;
// reused so a rejected payload allocates nothing.
const fieldStart = new Int32Array(MSH.VersionId + 1);
const fieldEnd = new Int32Array(MSH.VersionId + 1);

// Limitation: an MSH segment split across TCP segments gives only the fields
// in the first one (`isComplete` false).
/**
 * Parse the MSH segment of an MLLP-framed HL7 v2 message at the start of
 * a TCP payload `buf[off..end)`. Returns null unless the payload starts
 * with the MLLP start byte and `MSH`. The segment ends at CR, LF or the
 * MLLP end byte, whichever comes first (a sender may omit the last CR);
 * nothing after it is read. Never throws; at most MAX_MSH_BYTES are read.
 */
export function parseHl7Mllp(
  buf: Uint8Array,
  off: number,
  end: number,
): Hl7Header | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < 9) return null;
  if (buf[off] !== MLLP_START_BLOCK) return null;
  if (buf[off + 1] !== 0x4d || buf[off + 2] !== 0x53 || buf[off + 3] !== 0x48) {
    return null;
  }
  const separator = buf[off + 4];
  if (!isDelimiter(separator)) return null;

  // MSH-2: the component, repetition, escape, subcomponent (and, from
  // v2.7, truncation) characters, all distinct delimiters.
  const encodingOff = off + 5;
  let cursor = encodingOff;
  while (
    cursor < end &&
    buf[cursor] !== separator &&
    cursor - encodingOff < 5
  ) {
    if (!isDelimiter(buf[cursor])) return null;
    cursor++;
  }
  if (cursor === encodingOff || cursor >= end || buf[cursor] !== separator) {
    return null;
  }
  const componentSeparator = buf[encodingOff];
  const encodingEnd = cursor;

  fieldStart.fill(-1);
  fieldEnd.fill(-1);
  const limit = Math.min(end, off + MAX_MSH_BYTES);
  let field = 3;
  let start = cursor + 1;
  let isComplete = false;
  for (cursor = start; cursor < limit; cursor++) {
    const c = buf[cursor];
    const isSegmentEnd = c === CR || c === LF || c === MLLP_END_BLOCK;
    if (c !== separator && !isSegmentEnd) continue;
    if (field <= MSH.VersionId) {
      fieldStart[field] = start;
      fieldEnd[field] = cursor;
    }
    if (isSegmentEnd || field === MSH.VersionId) {
      isComplete = true;
      break;
    }
    field++;
    start = cursor + 1;
  }

  const messageTypeText = fieldText(buf, MSH.MessageType);
  const [messageCode = '', triggerEvent = '', messageStructure = ''] =
    messageTypeText.split(String.fromCharCode(componentSeparator));
  return {
    fieldSeparator: String.fromCharCode(separator),
    encodingCharacters: asciiText(buf, encodingOff, encodingEnd),
    sendingApplication: fieldText(buf, MSH.SendingApplication),
    sendingFacility: fieldText(buf, MSH.SendingFacility),
    receivingApplication: fieldText(buf, MSH.ReceivingApplication),
    receivingFacility: fieldText(buf, MSH.ReceivingFacility),
    messageType:
      triggerEvent === '' ? messageCode : `${messageCode}^${triggerEvent}`,
    messageCode,
    triggerEvent,
    messageStructure,
    versionId: fieldText(buf, MSH.VersionId),
    isComplete,
  };
}

/** A delimiter: printable, not a letter, digit or space. */
function isDelimiter(c: number): boolean {
  if (c <= 0x20 || c > 0x7e) return false;
  const isDigit = c >= 0x30 && c <= 0x39;
  const isLetter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
  return !isDigit && !isLetter;
}

function fieldText(buf: Uint8Array, field: number): string {
  const start = fieldStart[field];
  if (start < 0) return '';
  const end = Math.min(fieldEnd[field], start + MAX_HL7_FIELD_CHARS);
  return asciiText(buf, start, end).trim();
}

/**
 * Bytes as text: printable ASCII kept, anything else '?', so no control
 * character from the wire reaches a log or a terminal.
 */
function asciiText(buf: Uint8Array, off: number, end: number): string {
  let text = '';
  for (let i = off; i < end; i++) {
    const c = buf[i];
    text += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '?';
  }
  return text;
}
