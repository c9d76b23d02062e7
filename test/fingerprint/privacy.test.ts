/**
 * Patient data never leaves an extractor: HL7 PID/OBX segments, DICOM
 * P-DATA, user identities and other payload bytes carry canary strings, and
 * no canary may appear in any result of any extractor.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  CaptureFileError,
  CaptureFileReader,
} from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import { parseDicomPdu } from '../../src/fingerprint/dicom.js';
import { parseHl7Mllp } from '../../src/fingerprint/hl7.js';
import {
  detectMedicalHint,
  parsePoct1aHello,
} from '../../src/fingerprint/medical-hints.js';
import { guessOs } from '../../src/fingerprint/os-signatures.js';
import { parseSip, SIP_PORT } from '../../src/fingerprint/sip.js';
import {
  extractTcpSignature,
  toP0fRawSig,
} from '../../src/fingerprint/tcp-signature.js';
import {
  concatBytes,
  EtherType,
  ethernetFrame,
  IpProto,
  ipv4Packet,
  tcpSegment,
  textBytes,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DCMTK_CANARIES = join(
  REPO,
  'test',
  'fixtures',
  'public',
  'generated-dicom',
  'dicom-dcmtk-extra.pcap',
);

const CANARY = 'CANARY-PATIENT-7731';
const CANARY_PATTERN = /CANARY/;

/** Results of every extractor on one decoded frame. */
function extractAll(buf: Uint8Array, pkt: DecodedPacket): unknown[] {
  const results: unknown[] = [];
  const sig = extractTcpSignature(buf, pkt);
  if (sig !== null) {
    results.push(sig, toP0fRawSig(sig, 1460), guessOs(sig));
  }
  results.push(detectMedicalHint(buf, pkt));
  if (pkt.payloadOff >= 0 && pkt.payloadBytes > 0) {
    const off = pkt.payloadOff;
    const end = off + pkt.payloadBytes;
    results.push(
      parseDicomPdu(buf, off, end),
      parseHl7Mllp(buf, off, end),
      parsePoct1aHello(buf, off, end),
    );
    if (pkt.srcPort === SIP_PORT || pkt.dstPort === SIP_PORT) {
      results.push(parseSip(buf, off, end));
    }
  }
  return results.filter((r) => r !== null);
}

function tcpFrame(payload: Uint8Array, flags = TcpFlag.Ack | TcpFlag.Psh) {
  return ethernetFrame(
    {
      dst: '00:00:5e:00:53:20',
      src: '00:00:5e:00:53:10',
      etherType: EtherType.Ipv4,
    },
    ipv4Packet(
      { src: '10.30.0.5', dst: '10.30.0.9', protocol: IpProto.Tcp },
      tcpSegment(
        {
          srcPort: 40123,
          dstPort: 2575,
          flags,
          seq: 1,
          ack: flags & TcpFlag.Ack ? 1 : 0,
          options: [{ kind: 'mss', mssBytes: 1460 }],
        },
        payload,
      ),
    ),
  );
}

function udpFrame(dstPort: number, payload: Uint8Array) {
  return ethernetFrame(
    {
      dst: 'ff:ff:ff:ff:ff:ff',
      src: '00:00:5e:00:53:10',
      etherType: EtherType.Ipv4,
    },
    ipv4Packet(
      { src: '10.30.0.5', dst: '10.30.0.255', protocol: IpProto.Udp },
      udpDatagram({ srcPort: dstPort, dstPort }, payload),
    ),
  );
}

function resultsOf(frame: Uint8Array): unknown[] {
  const pkt = new DecodedPacket();
  decodeFrame(frame, 0, frame.length, frame.length, LinkType.Ethernet, pkt);
  return extractAll(frame, pkt);
}

function mllp(segments: string[], finalCr = true): Uint8Array {
  return concatBytes(
    Uint8Array.of(0x0b),
    textBytes(segments.join('\r') + (finalCr ? '\r' : '')),
    Uint8Array.of(0x1c, 0x0d),
  );
}

const PID = `PID|1||CANARY-MRN-7731^^^HOSP^MR||${CANARY}^TEST||19700101|U`;
const OBX = 'OBX|1|ST|CANARY-OBS^Note||CANARY-RESULT-7731||||||F';

t.test('HL7: PID, OBX and MSH-7/8/10 canaries never come out', async (t) => {
  const messages = [
    mllp([
      'MSH|^~\\&|LAB|HOSP|EMR|HOSP|CANARY-TIME|CANARY-SECURITY|ORU^R01|' +
        'CANARY-CONTROL-ID|P|2.5.1',
      PID,
      OBX,
    ]),
    mllp(['MSH|^~\\&|ADT|HOSP|RIS|HOSP|||ADT^A04|1|P|2.3', PID], false),
    textBytes(`\x0bMSH|^~\\&|ADT|HOSP|RIS|HOSP|||ADT^A08|1|P|2.4\n${PID}\n`),
    mllp([`MSH|^~\\&|ADT|HOSP|RIS|HOSP|||ADT^A01|1|P|2.5|${CANARY}`, PID]),
    mllp([PID, OBX]),
  ];
  let headers = 0;
  for (const message of messages) {
    const results = resultsOf(tcpFrame(message));
    headers += results.length;
    t.notMatch(JSON.stringify(results), CANARY_PATTERN);
  }
  t.equal(headers, 4, 'the four messages starting with MSH were parsed');
});

t.test('SIP: names, numbers and credentials never come out', async (t) => {
  // Who calls whom names people and wards: the request URI, From, To,
  // Contact, P-Asserted-Identity, digest credentials and the SDP body
  // hold canaries; only the agent's software may come out.
  const messages = [
    [
      'INVITE sip:CANARY-CALLEE-7731@10.30.0.9 SIP/2.0',
      'Via: SIP/2.0/UDP 10.30.0.5:5060;branch=z9hG4bK-CANARY',
      'From: "CANARY-NURSE-7731" <sip:CANARY-EXT-7731@ward>;tag=1',
      'To: <sip:CANARY-CALLEE-7731@ward>',
      'Call-ID: CANARY-CALL-7731',
      'CSeq: 1 INVITE',
      'Contact: <sip:CANARY-EXT-7731@10.30.0.5>',
      'P-Asserted-Identity: "CANARY-BED-12" <sip:CANARY-EXT-7731@ward>',
      'Authorization: Digest username="CANARY-USER-7731", response="CANARY"',
      'User-Agent: Phone/1.0',
      'Content-Type: application/sdp',
      '',
      'v=0',
      'o=CANARY-EXT-7731 1 1 IN IP4 10.30.0.5',
      's=CANARY-SESSION',
    ],
    [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 10.30.0.5:5060;branch=z9hG4bK-CANARY',
      'From: "CANARY-NURSE-7731" <sip:CANARY-EXT-7731@ward>;tag=1',
      'To: <sip:CANARY-EXT-7731@ward>;tag=2',
      'CSeq: 2 REGISTER',
      'Contact: <sip:CANARY-EXT-7731@10.30.0.5>;expires=600',
      'Server: Registrar/2.0',
    ],
  ];
  let parsed = 0;
  for (const lines of messages) {
    const payload = textBytes(`${lines.join('\r\n')}\r\n`);
    const results = resultsOf(udpFrame(SIP_PORT, payload));
    parsed += results.filter(
      (r) => (r as { viaCount?: number }).viaCount === 1,
    ).length;
    t.notMatch(JSON.stringify(results), CANARY_PATTERN);
  }
  t.equal(parsed, 2, 'both messages were parsed');
});

/** DICOM PDU: type, reserved, 32-bit length, body. */
function pdu(type: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  return concatBytes(
    Uint8Array.of(
      type,
      0,
      n >>> 24,
      (n >>> 16) & 255,
      (n >>> 8) & 255,
      n & 255,
    ),
    body,
  );
}

/** P-DATA-TF with one PDV holding a patient name element, as dcmtk sends. */
function pData(): Uint8Array {
  const name = textBytes(`${CANARY} `);
  const element = concatBytes(
    Uint8Array.of(0x10, 0x00, 0x10, 0x00, name.length, 0, 0, 0),
    name,
  );
  const pdv = concatBytes(Uint8Array.of(1, 0x02), element);
  const n = pdv.length;
  return pdu(
    4,
    concatBytes(
      Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255),
      pdv,
    ),
  );
}

function associateRq(userIdentity: Uint8Array): Uint8Array {
  const item = (type: number, body: Uint8Array) =>
    concatBytes(
      Uint8Array.of(type, 0, body.length >> 8, body.length & 255),
      body,
    );
  const fixed = concatBytes(
    Uint8Array.of(0, 1, 0, 0),
    textBytes('PACS_ARCHIVE    '),
    textBytes('CT_SCANNER_01   '),
    new Uint8Array(32),
  );
  return pdu(
    1,
    concatBytes(
      fixed,
      item(0x10, textBytes('1.2.840.10008.3.1.1.1')),
      item(
        0x20,
        concatBytes(
          Uint8Array.of(1, 0, 0, 0),
          item(0x30, textBytes('1.2.840.10008.1.1')),
          item(0x40, textBytes('1.2.840.10008.1.2')),
        ),
      ),
      item(
        0x50,
        concatBytes(item(0x51, Uint8Array.of(0, 0, 0x40, 0)), userIdentity),
      ),
    ),
  );
}

function userIdentity(type: number, primary: string, secondary: string) {
  const p = textBytes(primary);
  const s = textBytes(secondary);
  const body = concatBytes(
    Uint8Array.of(type, 1, p.length >> 8, p.length & 255),
    p,
    Uint8Array.of(s.length >> 8, s.length & 255),
    s,
  );
  return concatBytes(
    Uint8Array.of(0x58, 0, body.length >> 8, body.length & 255),
    body,
  );
}

t.test('DICOM: P-DATA and user identity canaries never come out', async (t) => {
  const frames = [
    tcpFrame(pData()),
    tcpFrame(associateRq(userIdentity(1, 'CANARY-USER-7731', ''))),
    tcpFrame(
      associateRq(userIdentity(2, 'CANARY-USER-7731', 'CANARY-PASS-7731')),
    ),
    tcpFrame(associateRq(userIdentity(5, 'CANARY-JWT-eyJhbGciOi', ''))),
    // An association PDU followed in the same segment by P-DATA.
    tcpFrame(concatBytes(associateRq(new Uint8Array(0)), pData())),
  ];
  let identities = 0;
  for (const frame of frames) {
    const results = resultsOf(frame);
    const text = JSON.stringify(results);
    if (text.includes('"isInClear":true')) identities++;
    t.notMatch(text, CANARY_PATTERN);
  }
  t.equal(identities, 3, 'the three user identities were flagged');
});

t.test(
  'dcmtk capture: patient canaries and credentials stay inside',
  async (t) => {
    const reader = CaptureFileReader.open(DCMTK_CANARIES);
    const pkt = new DecodedPacket();
    const all: unknown[] = [];
    let canaryFrames = 0;
    const sink = {
      onFrame(
        buf: Uint8Array,
        off: number,
        capturedBytes: number,
        wireBytes: number,
        _timeUs: number,
        linkType: number,
      ): void {
        const text = Buffer.from(
          buf.subarray(off, off + capturedBytes),
        ).toString('latin1');
        if (text.includes('CANARY')) canaryFrames++;
        decodeFrame(buf, off, capturedBytes, wireBytes, linkType, pkt);
        all.push(...extractAll(buf, pkt));
      },
    };
    try {
      while (reader.readBatch(sink, 1024) > 0);
    } catch (error) {
      if (!(error instanceof CaptureFileError)) throw error;
    } finally {
      reader.close();
    }
    t.ok(canaryFrames >= 3, `${canaryFrames} frames carry canaries`);
    t.ok(all.length > 20, `${all.length} results`);
    const text = JSON.stringify(all);
    t.notMatch(text, CANARY_PATTERN);
    t.match(text, /"typeName":"username-passcode"/, 'identity flagged');
  },
);

t.test(
  'TCP, POCT1-A and UDP hints: payload canaries never come out',
  async (t) => {
    const frames = [
      // A SYN carrying data (TCP fast open).
      tcpFrame(textBytes(CANARY), TcpFlag.Syn),
      tcpFrame(
        textBytes(
          '<HEL.R01><DEV><DEV.device_id V="SN-1"/><DEV.vendor_id V="V"/>' +
            '<DEV.model_id V="M"/></DEV></HEL.R01>' +
            `<OBS.R01><PT.patient_id V="${CANARY}"/>` +
            '<DEV.model_id V="CANARY-AFTER-HELLO"/></OBS.R01>',
        ),
      ),
      tcpFrame(textBytes(`<OBS.R01><PT.patient_id V="${CANARY}"/></OBS.R01>`)),
      udpFrame(
        2000,
        concatBytes(new Uint8Array(24), textBytes(`ICU|1\0${CANARY}`)),
      ),
      udpFrame(
        24105,
        concatBytes(
          Uint8Array.of(0xe1, 0, 0, 2, 0, 1, 0, 19),
          textBytes(CANARY),
        ),
      ),
      udpFrame(7000, textBytes(CANARY)),
    ];
    let results = 0;
    for (const frame of frames) {
      const out = resultsOf(frame);
      results += out.length;
      t.notMatch(JSON.stringify(out), CANARY_PATTERN);
    }
    t.ok(results >= 4, `${results} results from canary frames`);
  },
);
