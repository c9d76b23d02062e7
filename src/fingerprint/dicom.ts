/**
 * DICOM upper layer (PS3.8 section 9.3): association request, accept and
 * reject PDUs recognised by structure on any TCP port. P-DATA is never read.
 */
import { u16be, u32be } from '../decode/bytes.js';

/** PDU types (PS3.8 table 9-1). */
export const DicomPduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PData: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

/** Item and sub-item types of A-ASSOCIATE PDUs (PS3.8 9.3.2, annex D). */
const Item = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaxLength: 0x51,
  ImplementationClassUid: 0x52,
  RoleSelection: 0x54,
  ImplementationVersion: 0x55,
  UserIdentityRq: 0x58,
} as const;

/** User identity types of sub-item 0x58 (PS3.7 table D.3-14). */
export const DICOM_USER_IDENTITY_TYPES: Readonly<Record<number, string>> = {
  1: 'username',
  2: 'username-passcode',
  3: 'kerberos',
  4: 'saml',
  5: 'jwt',
};

/** One SCP/SCU role selection sub-item (PS3.7 D.3.3.4). */
export interface DicomRoleSelection {
  sopClassUid: string;
  isScu: boolean;
  isScp: boolean;
}

/** One presentation context of a request (PS3.8 9.3.2.2). */
export interface DicomRequestedContext {
  /** Presentation context id: odd, 1-255. */
  id: number;
  /** The context's abstract syntax UID, '' when it had none. */
  abstractSyntax: string;
}

/**
 * A user identity sub-item seen in clear text. Only its type is kept: the
 * user name, passcode or token is never read into memory.
 */
export interface DicomUserIdentity {
  /** PS3.7 table D.3-14 type number. */
  type: number;
  /** `username`, `username-passcode`, `kerberos`, `saml`, `jwt`, `unknown`. */
  typeName: string;
  /** Always true here: we could read it, so it crossed the wire unencrypted. */
  isInClear: true;
}

/** The identifying fields of an A-ASSOCIATE-RQ or -AC PDU. */
export interface DicomAssociate {
  kind: 'associate-rq' | 'associate-ac';
  /** The sender's part: the requestor sends RQ, the acceptor AC. */
  senderRole: 'requestor' | 'acceptor';
  /** PDU length field: bytes after the 6-byte PDU header. */
  pduLengthBytes: number;
  /** The whole PDU was within the bytes given. */
  isComplete: boolean;
  /** Protocol version bit field (bit 0 = version 1). */
  protocolVersion: number;
  /** Called and calling AE titles, leading and trailing spaces removed. */
  calledAe: string;
  callingAe: string;
  /** Application context name (UID). */
  applicationContext: string;
  /** Presentation context items seen. */
  presentationContextCount: number;
  /** AC only: presentation contexts with result 0 (acceptance). */
  acceptedContextCount: number;
  /** RQ: abstract syntax UIDs proposed, distinct, in first-seen order. */
  abstractSyntaxes: string[];
  /**
   * RQ: each presentation context proposed, in order; an AC names only
   * context ids, so its abstract syntaxes come from these.
   */
  requestedContexts: DicomRequestedContext[];
  /** AC: ids of the presentation contexts accepted (result 0), in order. */
  acceptedContextIds: number[];
  /** Transfer syntax UIDs proposed (RQ) or chosen (AC), distinct. */
  transferSyntaxes: string[];
  implementationClassUid: string;
  implementationVersion: string;
  /** Maximum PDU length the sender receives, in bytes; -1 when absent. */
  maxPduLengthBytes: number;
  roleSelections: DicomRoleSelection[];
  /** A user identity sub-item in clear, or null. */
  userIdentity: DicomUserIdentity | null;
  /** Stable snake_case ids of structure problems met while parsing. */
  anomalies: string[];
}

/** A-ASSOCIATE-RJ fields (PS3.8 9.3.4, table 9-21). */
export interface DicomReject {
  kind: 'associate-rj';
  /** 1 rejected-permanent, 2 rejected-transient. */
  result: number;
  /** 1 service user, 2 service provider (ACSE), 3 provider (presentation). */
  source: number;
  reason: number;
  /** Readable reason, from the source and reason codes. */
  reasonText: string;
}

/** Longest A-ASSOCIATE PDU we accept; 128 contexts fit in far less. */
export const MAX_ASSOCIATE_PDU_BYTES = 262_144;
/** Items walked per PDU: 128 presentation contexts plus a few others. */
export const MAX_ASSOCIATE_ITEMS = 160;
/** Sub-items walked per presentation context or user information item. */
export const MAX_SUB_ITEMS = 64;
/** Distinct abstract syntaxes kept (PS3.8 allows 128 contexts). */
export const MAX_ABSTRACT_SYNTAXES = 128;
/** Requested contexts and accepted context ids kept, each. */
export const MAX_PRESENTATION_CONTEXTS = 128;
export const MAX_TRANSFER_SYNTAXES = 64;
export const MAX_ROLE_SELECTIONS = 32;
/** UIDs are at most 64 characters (PS3.5 section 9.1). */
const MAX_UID_CHARS = 64;
/** Implementation version names are 1-16 characters (PS3.7 D.3.3.2). */
const MAX_VERSION_CHARS = 16;

const PDU_HDR_BYTES = 6;
/** Version, reserved, two AE titles and 32 reserved bytes. */
const ASSOCIATE_FIXED_BYTES = 68;
const AE_TITLE_BYTES = 16;
const ITEM_HDR_BYTES = 4;
const REJECT_PDU_LENGTH_BYTES = 4;

// Limitation: a PDU spread over segments is read up to the end of the bytes
// given; the implementation UID at its end is missed without reassembly.
/**
 * Parse the DICOM PDU at the start of a TCP payload `buf[off..end)`.
 * Returns the association fields of an A-ASSOCIATE-RQ or -AC, the codes of
 * an A-ASSOCIATE-RJ, or null for anything else, P-DATA included (never
 * parsed: it carries patient data). Recognition is by structure, not port:
 * PDU length in range, protocol version 1, zero reserved header bytes,
 * printable AE titles and an application context item first. A PDU cut
 * by the segment end is parsed as far as it goes (`isComplete` false).
 * Never throws; work is bounded by the item limits above.
 */
export function parseDicomPdu(
  buf: Uint8Array,
  off: number,
  end: number,
): DicomAssociate | DicomReject | null {
  end = Math.min(end, buf.length);
  if (off < 0 || end - off < PDU_HDR_BYTES) return null;
  const pduType = buf[off];
  if (pduType > DicomPduType.AssociateRj || pduType === 0) return null;
  if (buf[off + 1] !== 0) return null;
  const pduLengthBytes = u32be(buf, off + 2);
  if (pduType === DicomPduType.AssociateRj) {
    return parseReject(buf, off, end, pduLengthBytes);
  }
  if (
    pduLengthBytes < ASSOCIATE_FIXED_BYTES + ITEM_HDR_BYTES ||
    pduLengthBytes > MAX_ASSOCIATE_PDU_BYTES
  ) {
    return null;
  }
  return parseAssociate(buf, off, end, pduType, pduLengthBytes);
}

function parseReject(
  buf: Uint8Array,
  off: number,
  end: number,
  pduLengthBytes: number,
): DicomReject | null {
  if (pduLengthBytes !== REJECT_PDU_LENGTH_BYTES) return null;
  if (end - off < PDU_HDR_BYTES + REJECT_PDU_LENGTH_BYTES) return null;
  const result = buf[off + 7];
  const source = buf[off + 8];
  const reason = buf[off + 9];
  if (buf[off + 6] !== 0 || (result !== 1 && result !== 2)) return null;
  const reasonText = rejectReasonText(source, reason);
  if (reasonText === '') return null;
  return { kind: 'associate-rj', result, source, reason, reasonText };
}

/** PS3.8 table 9-21: reasons by source; '' for an undefined pair. */
function rejectReasonText(source: number, reason: number): string {
  if (source === 1) {
    if (reason === 1) return 'no-reason-given';
    if (reason === 2) return 'application-context-name-not-supported';
    if (reason === 3) return 'calling-ae-title-not-recognized';
    if (reason === 7) return 'called-ae-title-not-recognized';
    return reason >= 4 && reason <= 10 ? 'reserved' : '';
  }
  if (source === 2) {
    if (reason === 1) return 'no-reason-given';
    if (reason === 2) return 'protocol-version-not-supported';
    return '';
  }
  if (source === 3) {
    if (reason === 1) return 'temporary-congestion';
    if (reason === 2) return 'local-limit-exceeded';
    return reason >= 3 && reason <= 7 ? 'reserved' : '';
  }
  return '';
}

function parseAssociate(
  buf: Uint8Array,
  off: number,
  end: number,
  pduType: number,
  pduLengthBytes: number,
): DicomAssociate | null {
  const itemsOff = off + PDU_HDR_BYTES + ASSOCIATE_FIXED_BYTES;
  if (end - itemsOff < ITEM_HDR_BYTES) return null;
  const protocolVersion = u16be(buf, off + 6);
  if ((protocolVersion & 1) === 0) return null;
  if (buf[off + 8] !== 0 || buf[off + 9] !== 0) return null;

  // An accept echoes the titles but receivers must not test them, so some
  // acceptors leave them zero; a request must carry printable ones.
  const isRequest = pduType === DicomPduType.AssociateRq;
  const calledOff = off + 10;
  const callingOff = calledOff + AE_TITLE_BYTES;
  if (!isAeTitle(buf, calledOff, isRequest)) return null;
  if (!isAeTitle(buf, callingOff, isRequest)) return null;

  // The application context item always comes first (PS3.8 9.3.2).
  if (buf[itemsOff] !== Item.ApplicationContext || buf[itemsOff + 1] !== 0) {
    return null;
  }
  const contextBytes = u16be(buf, itemsOff + 2);
  const contextOff = itemsOff + ITEM_HDR_BYTES;
  if (contextBytes === 0 || contextBytes > MAX_UID_CHARS) return null;
  if (end - contextOff < contextBytes) return null;
  if (!isUidText(buf, contextOff, contextOff + contextBytes)) return null;

  const pduEnd = off + PDU_HDR_BYTES + pduLengthBytes;
  const assoc: DicomAssociate = {
    kind: isRequest ? 'associate-rq' : 'associate-ac',
    senderRole: isRequest ? 'requestor' : 'acceptor',
    pduLengthBytes,
    isComplete: end >= pduEnd,
    protocolVersion,
    calledAe: aeTitleText(buf, calledOff),
    callingAe: aeTitleText(buf, callingOff),
    applicationContext: uidText(buf, contextOff, contextOff + contextBytes),
    presentationContextCount: 0,
    acceptedContextCount: 0,
    abstractSyntaxes: [],
    requestedContexts: [],
    acceptedContextIds: [],
    transferSyntaxes: [],
    implementationClassUid: '',
    implementationVersion: '',
    maxPduLengthBytes: -1,
    roleSelections: [],
    userIdentity: null,
    anomalies: [],
  };
  walkItems(
    buf,
    contextOff + contextBytes,
    Math.min(end, pduEnd),
    pduEnd,
    assoc,
  );
  return assoc;
}

/**
 * Walk the items after the application context up to `stopOff` (the PDU
 * end or the end of the bytes given, whichever is first).
 */
function walkItems(
  buf: Uint8Array,
  off: number,
  stopOff: number,
  pduEnd: number,
  assoc: DicomAssociate,
): void {
  let cursor = off;
  for (let items = 0; cursor < stopOff; items++) {
    if (items === MAX_ASSOCIATE_ITEMS) {
      addAnomaly(assoc, 'too_many_items');
      return;
    }
    if (stopOff - cursor < ITEM_HDR_BYTES) {
      if (stopOff === pduEnd) addAnomaly(assoc, 'trailing_bytes');
      return;
    }
    const type = buf[cursor];
    const itemBytes = u16be(buf, cursor + 2);
    const bodyOff = cursor + ITEM_HDR_BYTES;
    if (bodyOff + itemBytes > pduEnd) {
      addAnomaly(assoc, 'item_length_invalid');
      return;
    }
    // A cut item is left for the next segment: we never see it here.
    if (bodyOff + itemBytes > stopOff) return;

    const bodyEnd = bodyOff + itemBytes;
    if (type === Item.PresentationContextRq && assoc.kind === 'associate-rq') {
      readRequestContext(buf, bodyOff, bodyEnd, assoc);
    } else if (
      type === Item.PresentationContextAc &&
      assoc.kind === 'associate-ac'
    ) {
      readAcceptContext(buf, bodyOff, bodyEnd, assoc);
    } else if (type === Item.UserInformation) {
      readUserInformation(buf, bodyOff, bodyEnd, assoc);
    } else {
      addAnomaly(assoc, 'unexpected_item');
    }
    cursor = bodyEnd;
  }
}

/** Presentation context of a request: id, 3 reserved, sub-items. */
function readRequestContext(
  buf: Uint8Array,
  off: number,
  end: number,
  assoc: DicomAssociate,
): void {
  assoc.presentationContextCount++;
  // Id, three reserved bytes, then sub-items: a shorter item holds none.
  if (end - off < 4) return;
  const context: DicomRequestedContext = { id: buf[off], abstractSyntax: '' };
  if (assoc.requestedContexts.length < MAX_PRESENTATION_CONTEXTS) {
    assoc.requestedContexts.push(context);
  }
  let cursor = off + 4;
  for (let n = 0; n < MAX_SUB_ITEMS && end - cursor >= ITEM_HDR_BYTES; n++) {
    const type = buf[cursor];
    const valueOff = cursor + ITEM_HDR_BYTES;
    const valueEnd = valueOff + u16be(buf, cursor + 2);
    if (valueEnd > end) {
      addAnomaly(assoc, 'sub_item_length_invalid');
      return;
    }
    if (type === Item.AbstractSyntax) {
      const uid = addUid(
        buf,
        valueOff,
        valueEnd,
        assoc.abstractSyntaxes,
        MAX_ABSTRACT_SYNTAXES,
        assoc,
      );
      // One abstract syntax per context (PS3.8 9.3.2.2.1): the first counts.
      if (context.abstractSyntax === '') context.abstractSyntax = uid;
    } else if (type === Item.TransferSyntax) {
      addUid(
        buf,
        valueOff,
        valueEnd,
        assoc.transferSyntaxes,
        MAX_TRANSFER_SYNTAXES,
        assoc,
      );
    }
    cursor = valueEnd;
  }
}

/** Presentation context of an accept: id, reserved, result, reserved, TS. */
function readAcceptContext(
  buf: Uint8Array,
  off: number,
  end: number,
  assoc: DicomAssociate,
): void {
  assoc.presentationContextCount++;
  if (end - off < 4) {
    addAnomaly(assoc, 'sub_item_length_invalid');
    return;
  }
  const isAccepted = buf[off + 2] === 0;
  if (isAccepted) {
    assoc.acceptedContextCount++;
    if (assoc.acceptedContextIds.length < MAX_PRESENTATION_CONTEXTS) {
      assoc.acceptedContextIds.push(buf[off]);
    }
  }
  const cursor = off + 4;
  if (end - cursor < ITEM_HDR_BYTES) return;
  const valueOff = cursor + ITEM_HDR_BYTES;
  const valueEnd = valueOff + u16be(buf, cursor + 2);
  if (valueEnd > end) {
    addAnomaly(assoc, 'sub_item_length_invalid');
    return;
  }
  // A refused context may carry a meaningless transfer syntax.
  if (buf[cursor] === Item.TransferSyntax && isAccepted) {
    addUid(
      buf,
      valueOff,
      valueEnd,
      assoc.transferSyntaxes,
      MAX_TRANSFER_SYNTAXES,
      assoc,
    );
  }
}

/** User information sub-items (PS3.7 annex D.3.3). */
function readUserInformation(
  buf: Uint8Array,
  off: number,
  end: number,
  assoc: DicomAssociate,
): void {
  let cursor = off;
  for (let n = 0; n < MAX_SUB_ITEMS && end - cursor >= ITEM_HDR_BYTES; n++) {
    const type = buf[cursor];
    const valueOff = cursor + ITEM_HDR_BYTES;
    const valueBytes = u16be(buf, cursor + 2);
    const valueEnd = valueOff + valueBytes;
    if (valueEnd > end) {
      addAnomaly(assoc, 'sub_item_length_invalid');
      return;
    }
    switch (type) {
      case Item.MaxLength:
        if (valueBytes === 4) assoc.maxPduLengthBytes = u32be(buf, valueOff);
        else addAnomaly(assoc, 'max_length_invalid');
        break;
      case Item.ImplementationClassUid:
        assoc.implementationClassUid = boundedUid(
          buf,
          valueOff,
          valueEnd,
          assoc,
        );
        break;
      case Item.ImplementationVersion:
        if (valueBytes > MAX_VERSION_CHARS)
          addAnomaly(assoc, 'version_too_long');
        assoc.implementationVersion = asciiText(
          buf,
          valueOff,
          Math.min(valueEnd, valueOff + MAX_VERSION_CHARS),
        ).trim();
        break;
      case Item.RoleSelection:
        readRoleSelection(buf, valueOff, valueEnd, assoc);
        break;
      case Item.UserIdentityRq:
        // Only the type byte: the fields after it are credentials.
        if (valueBytes >= 1) assoc.userIdentity = userIdentityOf(buf[valueOff]);
        break;
      default:
        break;
    }
    cursor = valueEnd;
  }
}

function userIdentityOf(type: number): DicomUserIdentity {
  return {
    type,
    typeName: DICOM_USER_IDENTITY_TYPES[type] ?? 'unknown',
    isInClear: true,
  };
}

/** UID length (2), SOP class UID, SCU role (1), SCP role (1). */
function readRoleSelection(
  buf: Uint8Array,
  off: number,
  end: number,
  assoc: DicomAssociate,
): void {
  if (end - off < 2) return;
  const uidEnd = off + 2 + u16be(buf, off);
  if (uidEnd + 2 > end) {
    addAnomaly(assoc, 'role_selection_invalid');
    return;
  }
  if (assoc.roleSelections.length === MAX_ROLE_SELECTIONS) return;
  assoc.roleSelections.push({
    sopClassUid: boundedUid(buf, off + 2, uidEnd, assoc),
    isScu: buf[uidEnd] === 1,
    isScp: buf[uidEnd + 1] === 1,
  });
}

/** Add the UID at `buf[off .. end)` to `list` if new; returns the UID. */
function addUid(
  buf: Uint8Array,
  off: number,
  end: number,
  list: string[],
  maxEntries: number,
  assoc: DicomAssociate,
): string {
  const uid = boundedUid(buf, off, end, assoc);
  if (uid === '' || list.includes(uid)) return uid;
  if (list.length < maxEntries) list.push(uid);
  return uid;
}

/** A UID value, '' (with an anomaly) when longer than PS3.5 allows. */
function boundedUid(
  buf: Uint8Array,
  off: number,
  end: number,
  assoc: DicomAssociate,
): string {
  if (end - off > MAX_UID_CHARS) {
    addAnomaly(assoc, 'uid_too_long');
    return '';
  }
  return uidText(buf, off, end);
}

function addAnomaly(assoc: DicomAssociate, id: string): void {
  if (!assoc.anomalies.includes(id)) assoc.anomalies.push(id);
}

/**
 * An AE title field: 16 bytes of printable ASCII padded with spaces, not
 * all spaces (PS3.5 table 6.2-1); an accept may also leave it all zero.
 */
function isAeTitle(buf: Uint8Array, off: number, isRequest: boolean): boolean {
  let isBlank = true;
  let isZero = true;
  for (let i = off; i < off + AE_TITLE_BYTES; i++) {
    const c = buf[i];
    if (c !== 0) isZero = false;
    if (c !== 0x20 && c !== 0) isBlank = false;
    if ((c < 0x20 || c > 0x7e) && c !== 0) return false;
  }
  if (isZero) return !isRequest;
  return !isBlank;
}

function aeTitleText(buf: Uint8Array, off: number): string {
  return asciiText(buf, off, off + AE_TITLE_BYTES).trim();
}

/** Digits and dots, optionally padded with one NUL or space (PS3.5 9.1). */
function isUidText(buf: Uint8Array, off: number, end: number): boolean {
  for (let i = off; i < end; i++) {
    const c = buf[i];
    const isUidChar = (c >= 0x30 && c <= 0x39) || c === 0x2e;
    const isPad = (c === 0 || c === 0x20) && i === end - 1;
    if (!isUidChar && !isPad) return false;
  }
  return true;
}

function uidText(buf: Uint8Array, off: number, end: number): string {
  return asciiText(buf, off, end).trim();
}

/**
 * Bytes as text: printable ASCII kept, NUL dropped, anything else '?', so
 * no control character from the wire reaches a log or a terminal.
 */
function asciiText(buf: Uint8Array, off: number, end: number): string {
  let text = '';
  for (let i = off; i < end; i++) {
    const c = buf[i];
    if (c === 0) continue;
    text += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '?';
  }
  return text;
}
