/**
 * DICOM association PDUs: golden cases, conformance with tshark's DICOM
 * dissector on dcmtk traffic, false positives on every other fixture,
 * truncation and random mutation.
 */
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  parseDicomPdu,
  type DicomAssociate,
  type DicomReject,
} from '../../src/fingerprint/dicom.js';
import { SeededRng } from '../../scripts/lib/frame-builder.js';
import {
  listCaptureFiles,
  tcpPayloads,
} from '../../scripts/lib/capture-files.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(REPO, 'test', 'fixtures');
const DICOM_DIR = join(FIXTURES, 'public', 'generated-dicom');
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

/** dcmtk captures and the ports tshark must be told are DICOM. */
const DICOM_CAPTURES: Array<{ file: string; ports: number[] }> = [
  { file: 'dicom-dcmtk.pcap', ports: [104, 105, 106] },
  { file: 'dicom-dcmtk-extra.pcap', ports: [4242, 11113] },
];

// ---------------------------------------------------------------------------
// A small PDU builder (PS3.8 section 9.3)

const ascii = (text: string): number[] =>
  Array.from(text, (c) => c.charCodeAt(0));

function item(type: number, body: number[]): number[] {
  return [type, 0, body.length >> 8, body.length & 255, ...body];
}

function aeTitle(text: string): number[] {
  return ascii(text.padEnd(16, ' ').slice(0, 16));
}

function pdu(type: number, body: number[]): Uint8Array {
  const n = body.length;
  return Uint8Array.from([
    type,
    0,
    (n >>> 24) & 255,
    (n >>> 16) & 255,
    (n >>> 8) & 255,
    n & 255,
    ...body,
  ]);
}

const VERIFICATION = '1.2.840.10008.1.1';
const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const APP_CONTEXT = '1.2.840.10008.3.1.1.1';

interface AssociateSpec {
  type?: number;
  called?: string;
  calling?: string;
  contexts?: Array<[string, string[]]>;
  userInfo?: number[][];
  extraItems?: number[][];
  version?: number;
}

function associate(spec: AssociateSpec = {}): Uint8Array {
  const type = spec.type ?? 1;
  const contexts = (spec.contexts ?? [[VERIFICATION, [IMPLICIT_LE]]]).map(
    ([abstract, transfers], i) =>
      type === 1
        ? item(0x20, [
            i * 2 + 1,
            0,
            0xff,
            0,
            ...item(0x30, ascii(abstract)),
            ...transfers.flatMap((ts) => item(0x40, ascii(ts))),
          ])
        : item(0x21, [i * 2 + 1, 0, 0, 0, ...item(0x40, ascii(transfers[0]))]),
  );
  const userInfo = spec.userInfo ?? [
    item(0x51, [0, 0, 0x40, 0]),
    item(0x52, ascii('1.2.3.4.5.6.7')),
    item(0x55, ascii('SYNTH_IMPL_1')),
  ];
  return pdu(type, [
    0,
    spec.version ?? 1,
    0,
    0,
    ...aeTitle(spec.called ?? 'PACS_ARCHIVE'),
    ...aeTitle(spec.calling ?? 'CT_SCANNER_01'),
    ...new Array<number>(32).fill(0),
    ...item(0x10, ascii(APP_CONTEXT)),
    ...contexts.flat(),
    ...(spec.extraItems ?? []).flat(),
    ...item(0x50, userInfo.flat()),
  ]);
}

const parse = (bytes: Uint8Array) => parseDicomPdu(bytes, 0, bytes.length);

function mustAssociate(bytes: Uint8Array): DicomAssociate {
  const result = parse(bytes);
  if (result === null || result.kind === 'associate-rj') {
    throw new Error('expected an association PDU');
  }
  return result;
}

t.test('golden: A-ASSOCIATE-RQ', async (t) => {
  const rq = mustAssociate(
    associate({
      contexts: [
        [CT_STORAGE, [EXPLICIT_LE, IMPLICIT_LE]],
        [VERIFICATION, [IMPLICIT_LE]],
        [CT_STORAGE, [IMPLICIT_LE]],
      ],
      userInfo: [
        item(0x51, [0, 0, 0x40, 0]),
        item(0x52, ascii('1.2.3.4.5.6.7')),
        item(0x54, [0, CT_STORAGE.length, ...ascii(CT_STORAGE), 1, 0]),
        item(0x55, ascii('SYNTH_IMPL_1')),
      ],
    }),
  );
  t.equal(rq.kind, 'associate-rq');
  t.equal(rq.senderRole, 'requestor');
  t.equal(rq.calledAe, 'PACS_ARCHIVE');
  t.equal(rq.callingAe, 'CT_SCANNER_01');
  t.equal(rq.applicationContext, APP_CONTEXT);
  t.equal(rq.presentationContextCount, 3);
  t.same(rq.abstractSyntaxes, [CT_STORAGE, VERIFICATION], 'distinct, ordered');
  t.same(rq.transferSyntaxes, [EXPLICIT_LE, IMPLICIT_LE]);
  t.equal(rq.maxPduLengthBytes, 16384);
  t.equal(rq.implementationClassUid, '1.2.3.4.5.6.7');
  t.equal(rq.implementationVersion, 'SYNTH_IMPL_1');
  t.same(rq.roleSelections, [
    { sopClassUid: CT_STORAGE, isScu: true, isScp: false },
  ]);
  t.equal(rq.userIdentity, null);
  t.same(rq.anomalies, []);
  t.ok(rq.isComplete);
});

t.test('golden: A-ASSOCIATE-AC and -RJ', async (t) => {
  const ac = mustAssociate(
    associate({ type: 2, contexts: [[VERIFICATION, [IMPLICIT_LE]]] }),
  );
  t.equal(ac.kind, 'associate-ac');
  t.equal(ac.senderRole, 'acceptor');
  t.equal(ac.acceptedContextCount, 1);
  t.same(ac.transferSyntaxes, [IMPLICIT_LE]);
  t.same(ac.abstractSyntaxes, []);

  const zeroTitles = associate({ type: 2 });
  zeroTitles.fill(0, 10, 42);
  t.equal(mustAssociate(zeroTitles).calledAe, '', 'accept with zero titles');

  const rj = parse(pdu(3, [0, 1, 1, 7])) as DicomReject;
  t.same(rj, {
    kind: 'associate-rj',
    result: 1,
    source: 1,
    reason: 7,
    reasonText: 'called-ae-title-not-recognized',
  });
  t.equal(parse(pdu(3, [0, 3, 1, 1])), null, 'result 3 is undefined');
  t.equal(parse(pdu(3, [0, 1, 2, 9])), null, 'reason 9 from ACSE undefined');
  t.equal(parse(pdu(3, [0, 1, 1, 1, 0])), null, 'RJ length must be 4');
});

t.test('golden: requested contexts, accepted context ids', async (t) => {
  const rq = mustAssociate(
    associate({
      contexts: [
        [CT_STORAGE, [EXPLICIT_LE]],
        [VERIFICATION, [IMPLICIT_LE]],
        [CT_STORAGE, [IMPLICIT_LE]],
      ],
    }),
  );
  t.same(rq.requestedContexts, [
    { id: 1, abstractSyntax: CT_STORAGE },
    { id: 3, abstractSyntax: VERIFICATION },
    { id: 5, abstractSyntax: CT_STORAGE },
  ]);
  t.same(rq.acceptedContextIds, [], 'a request accepts nothing');

  // Context 3 refused: result 3, abstract syntax not supported (9.3.3.2).
  const acceptItem = (id: number, result: number) =>
    item(0x21, [id, 0, result, 0, ...item(0x40, ascii(IMPLICIT_LE))]);
  const ac = mustAssociate(
    associate({
      type: 2,
      contexts: [],
      extraItems: [acceptItem(1, 0), acceptItem(3, 3), acceptItem(5, 0)],
    }),
  );
  t.equal(ac.presentationContextCount, 3);
  t.equal(ac.acceptedContextCount, 2);
  t.same(ac.acceptedContextIds, [1, 5]);
  t.same(ac.requestedContexts, [], 'an accept names no abstract syntax');

  const empty = mustAssociate(
    associate({ contexts: [], extraItems: [item(0x20, [7, 0, 0xff])] }),
  );
  t.equal(empty.presentationContextCount, 1);
  t.same(empty.requestedContexts, [], 'a context under 4 bytes holds none');
});

t.test('user identity: type kept, content never', async (t) => {
  const secret = 'SYNTH-SECRET-USER';
  for (const [type, name] of [
    [1, 'username'],
    [2, 'username-passcode'],
    [5, 'jwt'],
    [9, 'unknown'],
  ] as const) {
    const rq = mustAssociate(
      associate({
        userInfo: [
          item(0x51, [0, 0, 0x40, 0]),
          item(0x58, [
            type,
            0,
            0,
            secret.length,
            ...ascii(secret),
            0,
            4,
            ...ascii('PASS'),
          ]),
        ],
      }),
    );
    t.same(rq.userIdentity, { type, typeName: name, isInClear: true });
    t.notMatch(JSON.stringify(rq), /SECRET|PASS/);
  }
});

t.test('not DICOM: rejected by structure', async (t) => {
  const good = associate();
  const cases: Array<[string, (b: Uint8Array) => void]> = [
    ['P-DATA', (b) => (b[0] = 4)],
    ['release', (b) => (b[0] = 5)],
    ['type 0', (b) => (b[0] = 0)],
    ['reserved header byte', (b) => (b[1] = 1)],
    ['version 2 only', (b) => (b[7] = 2)],
    ['reserved after version', (b) => (b[9] = 1)],
    ['control char in called AE', (b) => (b[12] = 0x07)],
    ['blank calling AE', (b) => b.fill(0x20, 26, 42)],
    ['zero AE in a request', (b) => b.fill(0, 10, 26)],
    ['first item not app context', (b) => (b[74] = 0x20)],
    ['app context not a UID', (b) => (b[80] = 0x41)],
    ['PDU length 0', (b) => b.fill(0, 2, 6)],
    ['PDU length huge', (b) => (b[2] = 0x7f)],
  ];
  for (const [name, mutate] of cases) {
    const bytes = Uint8Array.from(good);
    mutate(bytes);
    t.equal(parse(bytes), null, name);
  }
  t.equal(parse(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')), null);
  t.equal(parse(new Uint8Array(0)), null);
});

t.test('cut PDU: parsed as far as it goes, never past', async (t) => {
  const whole = associate({
    contexts: [
      [CT_STORAGE, [EXPLICIT_LE]],
      [VERIFICATION, [IMPLICIT_LE]],
    ],
  });
  const secondContext = whole.indexOf(0x20, 74 + 4 + APP_CONTEXT.length + 1);
  const cut = parseDicomPdu(whole, 0, secondContext + 3) as DicomAssociate;
  t.equal(cut.isComplete, false);
  t.equal(cut.callingAe, 'CT_SCANNER_01');
  t.same(cut.abstractSyntaxes, [CT_STORAGE]);
  t.equal(cut.implementationClassUid, '');
  t.same(cut.anomalies, [], 'a cut is not an anomaly');
});

t.test('anomalies: bad lengths, long UIDs, unknown items', async (t) => {
  const longUid = '1.'.repeat(40) + '1';
  const rq = mustAssociate(
    associate({
      contexts: [[longUid, [IMPLICIT_LE]]],
      extraItems: [item(0x77, [1, 2, 3])],
      userInfo: [
        item(0x51, [0, 0x40, 0]),
        item(0x55, ascii('A-VERSION-NAME-LONGER-THAN-16')),
      ],
    }),
  );
  t.same(rq.abstractSyntaxes, []);
  t.same(rq.anomalies.sort(), [
    'max_length_invalid',
    'uid_too_long',
    'unexpected_item',
    'version_too_long',
  ]);
  t.equal(rq.implementationVersion.length, 16);
  const trailing = associate();
  const padded = Uint8Array.from([...trailing, 0, 0]);
  padded[5] += 2;
  t.same(mustAssociate(padded).anomalies, ['trailing_bytes']);
  const badLength = associate();
  badLength[74 + 4 + APP_CONTEXT.length + 3] = 0xff;
  t.same(mustAssociate(badLength).anomalies, ['item_length_invalid']);
});

// ---------------------------------------------------------------------------
// Conformance with tshark

interface OurPdu {
  frame: number;
  stream: string;
  result: DicomAssociate | DicomReject;
}

function ourPdus(path: string): OurPdu[] {
  const out: OurPdu[] = [];
  for (const { frame, stream, bytes } of tcpPayloads(path)) {
    const result = parseDicomPdu(bytes, 0, bytes.length);
    if (result !== null) out.push({ frame, stream, result });
  }
  return out;
}

interface TsharkPdu {
  frame: number;
  stream: string;
  type: number;
  called: string;
  calling: string;
  context: string;
  abstractSyntaxes: string[];
  transferSyntaxes: string[];
  implementationClassUid: string;
  implementationVersion: string;
  maxPdu: string;
  userIdentityType: string;
  reject: string;
}

const TSHARK_FIELDS = [
  'frame.number',
  'tcp.srcport',
  'tcp.dstport',
  'dicom.pdu.type',
  'dicom.assoc.ae.called',
  'dicom.assoc.ae.calling',
  'dicom.actx',
  'dicom.pctx.abss.syntax',
  'dicom.pctx.xfer.syntax',
  'dicom.userinfo.uid',
  'dicom.userinfo.version',
  'dicom.max_pdu_len',
  'dicom.userinfo.user_identify.type',
  'dicom.assoc.reject.result',
  'dicom.assoc.reject.source',
  'dicom.assoc.reject.reason',
];

/** tshark names known UIDs: `Name (1.2.3)`; keep the UID. */
const uidOf = (text: string): string =>
  /\(([0-9.]+)\)\s*$/.exec(text)?.[1] ?? text.trim();
const distinct = (values: string[]): string[] => [...new Set(values)];

function tsharkPdus(path: string, ports: number[]): TsharkPdu[] {
  const args = ['-r', path, '-Y', 'dicom.pdu.type <= 3'];
  for (const port of ports) args.push('-d', `tcp.port==${port},dicom`);
  args.push('-T', 'fields', '-E', 'separator=\t', '-E', 'aggregator=|');
  for (const field of TSHARK_FIELDS) args.push('-e', field);
  const run = spawnSync('tshark', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`tshark failed: ${run.stderr}`);
  const rows: TsharkPdu[] = [];
  for (const line of run.stdout.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    const list = (text: string) => (text === '' ? [] : text.split('|'));
    rows.push({
      frame: Number(f[0]),
      stream: `${f[1]}>${f[2]}`,
      type: Number(f[3]),
      called: f[4].trim(),
      calling: f[5].trim(),
      context: uidOf(f[6]),
      abstractSyntaxes: distinct(list(f[7]).map(uidOf)),
      transferSyntaxes: distinct(list(f[8]).map(uidOf)),
      implementationClassUid: f[9],
      implementationVersion: f[10],
      maxPdu: f[11],
      userIdentityType: f[12],
      reject: f[13] === '' ? '' : `${f[13]}/${f[14]}/${f[15]}`,
    });
  }
  return rows;
}

/** Fields of ours in tshark's shape; a cut PDU keeps only its header part. */
function ourView(result: DicomAssociate | DicomReject) {
  if (result.kind === 'associate-rj') {
    return { reject: `${result.result}/${result.source}/${result.reason}` };
  }
  const view: Record<string, unknown> = {
    called: result.calledAe,
    calling: result.callingAe,
    context: result.applicationContext,
  };
  if (!result.isComplete) return view;
  return {
    ...view,
    abstractSyntaxes: result.abstractSyntaxes,
    transferSyntaxes: result.transferSyntaxes,
    implementationClassUid: result.implementationClassUid,
    implementationVersion: result.implementationVersion,
    maxPdu: String(result.maxPduLengthBytes),
    userIdentityType: result.userIdentity?.type.toString() ?? '',
  };
}

function theirView(row: TsharkPdu, keys: string[]): Record<string, unknown> {
  const all: Record<string, unknown> = { ...row };
  return Object.fromEntries(keys.map((key) => [key, all[key]]));
}

t.test(
  'conformance: equal to tshark on dcmtk traffic',
  { skip: hasTshark ? false : 'tshark not installed' },
  async (t) => {
    let equal = 0;
    let total = 0;
    let fields = 0;
    let equalFields = 0;
    for (const { file, ports } of DICOM_CAPTURES) {
      const path = join(DICOM_DIR, file);
      const theirs = tsharkPdus(path, ports);
      const ours = ourPdus(path);
      t.ok(theirs.length >= 7, `${file}: ${theirs.length} PDUs from tshark`);
      // tshark reports a PDU in the frame that completes it; a PDU spread
      // over segments is ours in its first frame, so match by stream and
      // PDU kind in order.
      const used = new Set<OurPdu>();
      for (const row of theirs) {
        total++;
        const kind = ['', 'associate-rq', 'associate-ac', 'associate-rj'][
          row.type
        ];
        const mine = ours.find(
          (p) =>
            !used.has(p) && p.stream === row.stream && p.result.kind === kind,
        );
        if (mine === undefined) {
          t.fail(`${file} frame ${row.frame}: no PDU of ours`);
          continue;
        }
        used.add(mine);
        const view = ourView(mine.result);
        const expected = theirView(row, Object.keys(view));
        for (const key of Object.keys(view)) {
          fields++;
          if (
            JSON.stringify(view[key as keyof typeof view]) ===
            JSON.stringify(expected[key])
          ) {
            equalFields++;
          }
        }
        const isSame = t.same(
          view,
          expected,
          `${file} frame ${row.frame} (ours ${mine.frame}) ${kind}`,
        );
        if (isSame) equal++;
      }
      t.equal(used.size, ours.length, `${file}: no PDU of ours unmatched`);
    }
    t.comment(`DICOM PDUs equal to tshark on ${equal}/${total}`);
    t.comment(`DICOM fields equal to tshark on ${equalFields}/${fields}`);
    t.equal(equalFields, fields);
    t.equal(equal, total);
  },
);

t.test(
  'conformance: context ids and results equal to tshark',
  { skip: hasTshark ? false : 'tshark not installed' },
  async (t) => {
    let checked = 0;
    for (const { file, ports } of DICOM_CAPTURES) {
      const path = join(DICOM_DIR, file);
      const args = ['-r', path, '-Y', 'dicom.pdu.type <= 2'];
      for (const port of ports) args.push('-d', `tcp.port==${port},dicom`);
      args.push('-T', 'fields', '-E', 'separator=\t', '-E', 'aggregator=|');
      for (const field of [
        'tcp.srcport',
        'tcp.dstport',
        'dicom.pdu.type',
        'dicom.pctx.id',
        'dicom.pctx.result',
        'dicom.pctx.abss.syntax',
      ]) {
        args.push('-e', field);
      }
      const run = spawnSync('tshark', args, { encoding: 'utf8' });
      t.equal(run.status, 0, run.stderr);
      const list = (text: string) => (text === '' ? [] : text.split('|'));
      const ours = ourPdus(path);
      const used = new Set<OurPdu>();
      for (const line of run.stdout.split('\n')) {
        if (line === '') continue;
        const [src, dst, type, ids, results, syntaxes] = line.split('\t');
        const kind = Number(type) === 1 ? 'associate-rq' : 'associate-ac';
        const mine = ours.find(
          (p) =>
            !used.has(p) &&
            p.stream === `${src}>${dst}` &&
            p.result.kind === kind,
        );
        if (mine === undefined || mine.result.kind === 'associate-rj') {
          t.fail(`${file} ${src}>${dst}: no ${kind} of ours`);
          continue;
        }
        used.add(mine);
        // A request cut by its segment is ours only in part.
        if (!mine.result.isComplete) continue;
        const idNumbers = list(ids).map(Number);
        if (kind === 'associate-rq') {
          t.same(
            mine.result.requestedContexts,
            idNumbers.map((id, i) => ({
              id,
              abstractSyntax: uidOf(list(syntaxes)[i]),
            })),
            `${file} ${src}>${dst} requested contexts`,
          );
        } else {
          const accepted = idNumbers.filter(
            (_, i) => Number(list(results)[i]) === 0,
          );
          t.same(
            mine.result.acceptedContextIds,
            accepted,
            `${file} ${src}>${dst} accepted ids`,
          );
        }
        checked++;
      }
    }
    t.ok(checked >= 8, `${checked} PDUs compared`);
  },
);

t.test('dcmtk traffic: user identity, cut request, canaries', async (t) => {
  const ours = ourPdus(join(DICOM_DIR, 'dicom-dcmtk-extra.pcap'));
  const requests = ours
    .map((p) => p.result)
    .filter((r): r is DicomAssociate => r.kind === 'associate-rq');
  const withIdentity = requests.filter((r) => r.userIdentity !== null);
  t.equal(withIdentity.length, 1);
  t.same(withIdentity[0].userIdentity, {
    type: 2,
    typeName: 'username-passcode',
    isInClear: true,
  });
  const cut = requests.find((r) => r.callingAe === 'SEGMENTED_SCU');
  t.equal(cut?.isComplete, false, 'segmented request seen in part');
  t.ok((cut?.abstractSyntaxes.length ?? 0) > 10, 'contexts of the first part');
  t.notMatch(JSON.stringify(ours), /CANARY/);
});

t.test('no false positive on any other fixture capture', async (t) => {
  let payloads = 0;
  const hits: string[] = [];
  for (const path of listCaptureFiles(FIXTURES)) {
    if (path.startsWith(DICOM_DIR)) continue;
    for (const { frame, bytes } of tcpPayloads(path)) {
      payloads++;
      if (parseDicomPdu(bytes, 0, bytes.length) !== null) {
        hits.push(`${relative(FIXTURES, path)} #${frame}`);
      }
    }
  }
  t.ok(payloads > 1000, `${payloads} TCP payloads checked`);
  // The generated hospital sample has synthetic DICOM on port 104.
  t.same(
    hits.filter((hit) => !hit.startsWith('generated/hospital-sample')),
    [],
  );
});

// ---------------------------------------------------------------------------
// Robustness

t.test('every prefix: never throws, never complete early', async (t) => {
  const samples = [associate(), associate({ type: 2 }), pdu(3, [0, 1, 1, 1])];
  let parsed = 0;
  let completeTooEarly = 0;
  for (const bytes of samples) {
    for (let cut = 0; cut < bytes.length; cut++) {
      const result = parseDicomPdu(bytes, 0, cut);
      if (result === null) continue;
      parsed++;
      if (result.kind !== 'associate-rj' && result.isComplete) {
        completeTooEarly++;
      }
    }
  }
  t.ok(parsed > 0, `${parsed} prefixes recognised`);
  t.equal(completeTooEarly, 0);
});

t.test('seeded random mutations: never throws, bounded', async (t) => {
  const rng = new SeededRng(0xd1c0);
  const seeds = [
    associate({
      contexts: [
        [CT_STORAGE, [EXPLICIT_LE, IMPLICIT_LE]],
        [VERIFICATION, [IMPLICIT_LE]],
      ],
    }),
    associate({ type: 2 }),
    pdu(3, [0, 1, 1, 1]),
  ];
  let recognised = 0;
  let oversized = 0;
  for (let round = 0; round < 30000; round++) {
    const bytes = Uint8Array.from(rng.pick(seeds));
    const flips = rng.nextRange(1, 4);
    for (let i = 0; i < flips; i++) {
      bytes[rng.nextInt(bytes.length)] = rng.nextInt(256);
    }
    const end = rng.chance(0.3) ? rng.nextInt(bytes.length + 1) : bytes.length;
    const result = parseDicomPdu(bytes, 0, end);
    if (result === null) continue;
    recognised++;
    if (result.kind === 'associate-rj') continue;
    if (result.abstractSyntaxes.length > 128) oversized++;
    for (const uid of result.abstractSyntaxes) if (uid.length > 64) oversized++;
  }
  for (let round = 0; round < 5000; round++) {
    parseDicomPdu(rng.bytes(rng.nextRange(0, 300)), 0, 300);
  }
  t.ok(recognised > 1000, `${recognised} mutants recognised`);
  t.equal(oversized, 0);
});
