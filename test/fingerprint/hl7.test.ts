/**
 * HL7 v2 MSH over MLLP: golden cases, conformance with tshark's HL7
 * dissector on python-hl7 traffic, false positives, truncation, mutation.
 */
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  MAX_MSH_BYTES,
  parseHl7Mllp,
  type Hl7Header,
} from '../../src/fingerprint/hl7.js';
import { SeededRng } from '../../scripts/lib/frame-builder.js';
import {
  listCaptureFiles,
  tcpPayloads,
} from '../../scripts/lib/capture-files.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(REPO, 'test', 'fixtures');
const HL7_CAPTURE = join(
  FIXTURES,
  'public',
  'generated-hl7',
  'hl7-mllp-python-hl7.pcap',
);
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

const ADT_MSH =
  'MSH|^~\\&|SYNTH_ADT|SYNTH_HOSP^1.2.3^ISO|RIS|RADIOLOGY|20240304080000||' +
  'ADT^A04^ADT_A01|CTRL-0001|P|2.5.1';

/** MLLP frame: start byte, segments joined by CR, end byte, CR. */
function mllp(segments: string[], finalCr = true): Uint8Array {
  const body = segments.join('\r') + (finalCr ? '\r' : '');
  return Uint8Array.from([0x0b, ...new TextEncoder().encode(body), 0x1c, 0x0d]);
}

const parse = (bytes: Uint8Array) => parseHl7Mllp(bytes, 0, bytes.length);

function mustParse(bytes: Uint8Array): Hl7Header {
  const header = parse(bytes);
  if (header === null) throw new Error('expected an HL7 header');
  return header;
}

t.test('golden: ADT^A04', async (t) => {
  const header = mustParse(mllp([ADT_MSH, 'EVN|A04|20240304080000']));
  t.same(header, {
    fieldSeparator: '|',
    encodingCharacters: '^~\\&',
    sendingApplication: 'SYNTH_ADT',
    sendingFacility: 'SYNTH_HOSP^1.2.3^ISO',
    receivingApplication: 'RIS',
    receivingFacility: 'RADIOLOGY',
    messageType: 'ADT^A04',
    messageCode: 'ADT',
    triggerEvent: 'A04',
    messageStructure: 'ADT_A01',
    versionId: '2.5.1',
    isComplete: true,
  });
  t.notMatch(JSON.stringify(header), /CTRL-0001/, 'MSH-10 not kept');
});

t.test('segment end: CR, LF, end block, or none at all', async (t) => {
  const onlyMsh = mustParse(mllp([ADT_MSH], false));
  t.equal(onlyMsh.versionId, '2.5.1', 'no final CR before the end block');
  t.ok(onlyMsh.isComplete);
  const lf = new TextEncoder().encode(`\x0b${ADT_MSH}\nPID|1`);
  t.equal(mustParse(lf).versionId, '2.5.1');
  const short = mustParse(mllp(['MSH|^~\\&|APP|FAC|||||ACK']));
  t.equal(short.messageType, 'ACK');
  t.equal(short.triggerEvent, '');
  t.equal(short.versionId, '');
  t.ok(short.isComplete);
  const cut = new TextEncoder().encode(`\x0b${ADT_MSH}`.slice(0, 40));
  const partial = mustParse(cut);
  t.equal(partial.isComplete, false);
  t.equal(partial.sendingApplication, 'SYNTH_ADT');
  t.equal(partial.messageType, '', 'a field cut short is not kept');
});

t.test('other delimiters and v2.7 truncation character', async (t) => {
  const header = mustParse(
    mllp(['MSH#*~\\&%#LAB#FAC#EMR#WARD#20240304##ORU*R01*ORU_R01#1#P#2.7']),
  );
  t.equal(header.fieldSeparator, '#');
  t.equal(header.encodingCharacters, '*~\\&%');
  t.equal(header.messageType, 'ORU^R01');
  t.equal(header.messageStructure, 'ORU_R01');
  t.equal(header.versionId, '2.7');
});

t.test('never past MSH: PID and OBX stay unread', async (t) => {
  const header = mustParse(
    mllp([
      ADT_MSH,
      'PID|1||SYNTH-MRN-0001^^^SYNTH_HOSP^MR||SYNTH^PATIENT',
      'OBX|1|NM|8867-4^Heart rate^LN||72|/min',
    ]),
  );
  t.notMatch(JSON.stringify(header), /SYNTH-MRN|PATIENT|Heart/);
  // A header without a segment end stops at MAX_MSH_BYTES.
  const long = new TextEncoder().encode(
    `\x0bMSH|^~\\&|${'A'.repeat(MAX_MSH_BYTES * 2)}|FAC`,
  );
  const cut = mustParse(long);
  t.equal(cut.isComplete, false);
  t.equal(cut.sendingApplication, '');
});

t.test('not HL7 over MLLP', async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['no start block', new TextEncoder().encode(ADT_MSH)],
    ['other segment first', mllp(['PID|1||X'])],
    ['letter as separator', mllp(['MSHA^~\\&AAPP'])],
    ['no encoding characters', mllp(['MSH||APP'])],
    ['too many encoding characters', mllp(['MSH|^~\\&%$#|APP'])],
    ['control char in MSH-2', mllp(['MSH|^\x01\\&|APP'])],
    ['empty', new Uint8Array(0)],
    ['HTTP', new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')],
  ];
  for (const [name, bytes] of cases) t.equal(parse(bytes), null, name);
});

t.test('control characters in fields are masked', async (t) => {
  const header = mustParse(
    mllp(['MSH|^~\\&|AP\x07P|F\x1bAC|||||ADT^A01||P|2.3']),
  );
  t.equal(header.sendingApplication, 'AP?P');
  t.equal(header.sendingFacility, 'F?AC');
});

// ---------------------------------------------------------------------------
// Conformance with tshark

/** tshark's view: message and event type, and MSH fields from its text. */
function tsharkHeaders(path: string): Map<number, Record<string, string>> {
  const run = spawnSync(
    'tshark',
    [
      '-r',
      path,
      '-Y',
      'hl7',
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      '-e',
      'frame.number',
      '-e',
      'hl7.message.type',
      '-e',
      'hl7.event.type',
      '-e',
      'hl7.segment',
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`tshark failed: ${run.stderr}`);
  const rows = new Map<number, Record<string, string>>();
  for (const line of run.stdout.split('\n')) {
    if (line === '') continue;
    const [frame, code, event, segment] = line.split('\t');
    // tshark shows the segment text with its CR written as `\r`.
    const msh = segment.replace(/\\r$/, '').split('|');
    rows.set(Number(frame), {
      messageCode: code,
      triggerEvent: event,
      sendingApplication: msh[2],
      sendingFacility: msh[3],
      receivingApplication: msh[4],
      receivingFacility: msh[5],
      messageType: msh[8].split('^').slice(0, 2).join('^'),
      versionId: msh[11],
    });
  }
  return rows;
}

t.test(
  'conformance: MSH fields equal to tshark on python-hl7 traffic',
  { skip: hasTshark ? false : 'tshark not installed' },
  async (t) => {
    const theirs = tsharkHeaders(HL7_CAPTURE);
    const ours = new Map<number, Hl7Header>();
    for (const { frame, bytes } of tcpPayloads(HL7_CAPTURE)) {
      const header = parseHl7Mllp(bytes, 0, bytes.length);
      if (header !== null) ours.set(frame, header);
    }
    t.same([...ours.keys()], [...theirs.keys()], 'same frames are HL7');
    let equal = 0;
    for (const [frame, expected] of theirs) {
      const header = ours.get(frame) as unknown as Record<string, unknown>;
      const view = Object.fromEntries(
        Object.keys(expected).map((key) => [key, header?.[key]]),
      );
      if (t.same(view, expected, `frame ${frame}`)) equal++;
    }
    t.comment(`HL7 headers equal to tshark on ${equal}/${theirs.size}`);
    t.equal(theirs.size, 4);
    t.equal(equal, theirs.size);
  },
);

t.test('python-hl7 traffic: nothing past MSH', async (t) => {
  const headers = tcpPayloads(HL7_CAPTURE)
    .map(({ bytes }) => parseHl7Mllp(bytes, 0, bytes.length))
    .filter((h) => h !== null);
  t.equal(headers.length, 4);
  // PID-3 and PID-5 of the synthetic messages, and MSH-10 control ids.
  t.notMatch(JSON.stringify(headers), /SYN0001|TEST\^SYNTHETIC|MSG0000/);
});

t.test('no false positive on any other fixture capture', async (t) => {
  let payloads = 0;
  const hits: string[] = [];
  for (const path of listCaptureFiles(FIXTURES)) {
    if (path === HL7_CAPTURE) continue;
    for (const { frame, bytes } of tcpPayloads(path)) {
      payloads++;
      if (parseHl7Mllp(bytes, 0, bytes.length) !== null) {
        hits.push(`${relative(FIXTURES, path)} #${frame}`);
      }
    }
  }
  t.ok(payloads > 1000, `${payloads} TCP payloads checked`);
  // The generated hospital sample carries synthetic HL7 on port 2575.
  t.same(
    hits.filter((hit) => !hit.startsWith('generated/hospital-sample')),
    [],
  );
});

// ---------------------------------------------------------------------------
// Robustness

t.test('every prefix: never throws', async (t) => {
  const bytes = mllp([ADT_MSH, 'PID|1||X']);
  let parsed = 0;
  for (let cut = 0; cut <= bytes.length; cut++) {
    if (parseHl7Mllp(bytes, 0, cut) !== null) parsed++;
  }
  t.ok(parsed > ADT_MSH.length - 10, `${parsed} prefixes parsed`);
});

t.test('seeded random mutations: never throws, bounded fields', async (t) => {
  const rng = new SeededRng(0x4c7);
  const seeds = [
    mllp([ADT_MSH, 'PID|1||X']),
    mllp(['MSH|^~\\&|A|B|C|D|E||ORU^R01|1|P|2.3'], false),
  ];
  let parsed = 0;
  let tooLong = 0;
  for (let round = 0; round < 30000; round++) {
    const bytes = Uint8Array.from(rng.pick(seeds));
    const flips = rng.nextRange(1, 5);
    for (let i = 0; i < flips; i++) {
      bytes[rng.nextInt(bytes.length)] = rng.nextInt(256);
    }
    const header = parseHl7Mllp(bytes, 0, rng.nextInt(bytes.length + 1));
    if (header === null) continue;
    parsed++;
    for (const value of Object.values(header)) {
      if (typeof value === 'string' && value.length > 128) tooLong++;
    }
  }
  for (let round = 0; round < 5000; round++) {
    parseHl7Mllp(rng.bytes(rng.nextRange(0, 200)), 0, 200);
  }
  t.ok(parsed > 1000, `${parsed} mutants parsed`);
  t.equal(tooLong, 0);
});
