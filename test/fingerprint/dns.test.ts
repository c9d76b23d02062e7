import t from 'tap';

import {
  dnsMessage,
  parseIpv4,
  parseIpv6,
  SeededRng,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import {
  dnsQuestionKey,
  DnsType,
  MAX_DNS_QUESTIONS,
  parseDns,
  readDnsName,
  summarizeMdns,
} from '../../src/fingerprint/dns.js';
import { checkRobustness } from './robustness.js';

/** A DNS writer that compresses names against earlier suffixes. */
class DnsWriter {
  bytes: number[] = [];
  private offsets = new Map<string, number>();

  constructor(id: number, flags: number, counts: number[]) {
    this.u16(id);
    this.u16(flags);
    for (const count of counts) this.u16(count);
  }

  u16(value: number): void {
    this.bytes.push((value >> 8) & 255, value & 255);
  }

  name(name: string): void {
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const seen = this.offsets.get(suffix);
      if (seen !== undefined) {
        this.u16(0xc000 | seen);
        return;
      }
      this.offsets.set(suffix, this.bytes.length);
      const label = textBytes(labels[i]);
      this.bytes.push(label.length, ...label);
    }
    this.bytes.push(0);
  }

  question(name: string, type: number, rawClass = 1): void {
    this.name(name);
    this.u16(type);
    this.u16(rawClass);
  }

  record(name: string, type: number, rawClass: number, data: () => void) {
    this.name(name);
    this.u16(type);
    this.u16(rawClass);
    this.u16(0);
    this.u16(120);
    const lengthAt = this.bytes.length;
    this.u16(0);
    data();
    const dataBytes = this.bytes.length - lengthAt - 2;
    this.bytes[lengthAt] = dataBytes >> 8;
    this.bytes[lengthAt + 1] = dataBytes & 255;
  }

  strings(...entries: string[]): void {
    for (const entry of entries) {
      const b = textBytes(entry);
      this.bytes.push(b.length, ...b);
    }
  }

  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const INSTANCE = 'SYNTH Printer 2._ipp._tcp.local';
const HOST = 'synth-prn-02.local';

function mdnsAnnouncement(): Uint8Array {
  const w = new DnsWriter(0, 0x8400, [0, 7, 0, 1]);
  w.record('_services._dns-sd._udp.local', DnsType.Ptr, 1, () =>
    w.name('_ipp._tcp.local'),
  );
  w.record('_ipp._tcp.local', DnsType.Ptr, 1, () => w.name(INSTANCE));
  w.record('_printer._sub._ipp._tcp.local', DnsType.Ptr, 1, () =>
    w.name(INSTANCE),
  );
  w.record(INSTANCE, DnsType.Srv, 0x8001, () => {
    w.u16(0);
    w.u16(0);
    w.u16(631);
    w.name(HOST);
  });
  w.record(INSTANCE, DnsType.Txt, 0x8001, () =>
    w.strings(
      'txtvers=1',
      'ty=SYNTH Laser 9000',
      'usb_MFG=SYNTH',
      'usb_MDL=Laser 9000',
      'note=room 3',
      'adminurl=http://192.0.2.40/',
      'Duplex',
    ),
  );
  w.record(HOST, DnsType.A, 0x8001, () =>
    w.bytes.push(...parseIpv4('192.0.2.40')),
  );
  w.record(HOST, DnsType.Aaaa, 0x8001, () =>
    w.bytes.push(...parseIpv6('2001:db8::40')),
  );
  w.record('40.2.0.192.in-addr.arpa', DnsType.Ptr, 0x8001, () => w.name(HOST));
  return w.done();
}

t.test('dns: recursive query golden', async (t) => {
  const msg = dnsMessage({
    id: 0xbeef,
    flags: 0x0100,
    questions: [
      { name: 'pacs.example.org', type: DnsType.A },
      { name: 'pacs.example.org', type: DnsType.Aaaa },
    ],
  });
  const parsed = parseDns(msg, 0, msg.length);
  t.same(parsed, {
    id: 0xbeef,
    isResponse: false,
    opcode: 0,
    rcode: 0,
    flags: 0x0100,
    questions: [
      { name: 'pacs.example.org', type: 1, class: 1, isUnicastResponse: false },
      {
        name: 'pacs.example.org',
        type: 28,
        class: 1,
        isUnicastResponse: false,
      },
    ],
    records: [],
    isComplete: true,
  });
});

t.test('dns: mDNS announcement with compression: records', async (t) => {
  const msg = mdnsAnnouncement();
  const parsed = parseDns(msg, 0, msg.length);
  t.ok(parsed?.isComplete);
  const records = parsed?.records ?? [];
  t.same(
    records.map((r) => [r.section, r.name, r.type, r.data]),
    [
      ['answer', '_services._dns-sd._udp.local', 12, '_ipp._tcp.local'],
      ['answer', '_ipp._tcp.local', 12, INSTANCE],
      ['answer', '_printer._sub._ipp._tcp.local', 12, INSTANCE],
      ['answer', INSTANCE, 33, HOST],
      ['answer', INSTANCE, 16, ''],
      ['answer', HOST, 1, '192.0.2.40'],
      ['answer', HOST, 28, '2001:db8::40'],
      ['additional', '40.2.0.192.in-addr.arpa', 12, HOST],
    ],
  );
  t.equal(records[3].srvPort, 631);
  t.equal(records[3].isCacheFlush, true);
  t.equal(records[3].class, 1, 'cache-flush bit cleared from the class');
  t.same(
    records[4].txt,
    ['ty=SYNTH Laser 9000', 'usb_MFG=SYNTH', 'usb_MDL=Laser 9000'],
    'identity keys only: no note, adminurl or flags',
  );
});

t.test('dns: mDNS announcement: identity summary', async (t) => {
  const msg = mdnsAnnouncement();
  const parsed = parseDns(msg, 0, msg.length);
  if (parsed === null) return t.fail('parsed');
  t.same(summarizeMdns(parsed), {
    queryNames: [],
    hostName: HOST,
    addresses: ['192.0.2.40', '2001:db8::40'],
    serviceTypes: ['_ipp._tcp.local'],
    serviceInstances: [
      {
        name: INSTANCE,
        serviceType: '_ipp._tcp.local',
        targetHost: HOST,
        port: 631,
      },
    ],
    txt: ['ty=SYNTH Laser 9000', 'usb_MFG=SYNTH', 'usb_MDL=Laser 9000'],
  });
});

t.test('dns: mDNS probe: unicast question, authority record', async (t) => {
  const w = new DnsWriter(0, 0, [1, 0, 1, 0]);
  w.question('synth-mon-1.local', DnsType.Any, 0x8001);
  w.record('synth-mon-1.local', DnsType.A, 1, () =>
    w.bytes.push(...parseIpv4('192.0.2.9')),
  );
  const msg = w.done();
  const parsed = parseDns(msg, 0, msg.length);
  t.equal(parsed?.questions[0].isUnicastResponse, true);
  t.equal(parsed?.questions[0].type, DnsType.Any);
  t.equal(parsed?.records[0].section, 'authority');
  if (parsed === null) return;
  const identity = summarizeMdns(parsed);
  t.same(identity.queryNames, ['synth-mon-1.local']);
  t.equal(identity.hostName, 'synth-mon-1.local');
});

t.test('dns: HINFO, CNAME and OPT records', async (t) => {
  const w = new DnsWriter(1, 0x8180, [0, 2, 0, 1]);
  w.record('ws.example.org', 13, 1, () => w.strings('INTEL-X86', 'WINDOWS'));
  w.record('www.example.org', 5, 1, () => w.name('ws.example.org'));
  w.bytes.push(0);
  w.u16(41);
  w.u16(1232);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  const msg = w.done();
  const records = parseDns(msg, 0, msg.length)?.records ?? [];
  t.equal(records[0].data, 'INTEL-X86');
  t.equal(records[0].hinfoOs, 'WINDOWS');
  t.equal(records[1].data, 'ws.example.org');
  t.equal(records[2].type, DnsType.Opt);
  t.equal(records[2].name, '', 'root');
  t.equal(records[2].class, 1232, 'UDP payload size kept whole');
});

t.test('dns: compression loops and long names are refused', async (t) => {
  const self = Uint8Array.of(0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12);
  const parsed = parseDns(self, 0, self.length);
  t.equal(parsed?.isComplete, false, 'pointer to itself');
  t.same(parsed?.questions, []);

  const pingPong = Uint8Array.of(
    ...[0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    ...[1, 0x61, 0xc0, 16, 1, 0x62, 0xc0, 12],
  );
  t.equal(
    readDnsName(pingPong, 0, 12, pingPong.length),
    null,
    'two-label loop',
  );

  const label = Uint8Array.of(63, ...new Uint8Array(63).fill(0x61));
  const long = Uint8Array.of(...label, ...label, ...label, ...label, 0);
  t.equal(readDnsName(long, 0, 0, long.length), null, '257 bytes on the wire');
  const ok = Uint8Array.of(
    ...label,
    ...label,
    ...label,
    61,
    ...new Uint8Array(61).fill(0x62),
    0,
  );
  t.equal(
    readDnsName(ok, 0, 0, ok.length)?.name.length,
    253,
    '255 bytes is fine',
  );

  t.equal(readDnsName(Uint8Array.of(0x40, 0), 0, 0, 2), null, 'label type 01');
  t.equal(readDnsName(Uint8Array.of(0xc0, 0), -1, 0, 2), null, 'no pointers');
});

t.test('dns: readDnsName partial names end at the data', async (t) => {
  const partial = Uint8Array.of(
    4,
    ...textBytes('host'),
    3,
    ...textBytes('lan'),
  );
  t.equal(readDnsName(partial, -1, 0, partial.length), null);
  t.same(readDnsName(partial, -1, 0, partial.length, true), {
    name: 'host.lan',
    nextOff: 9,
    isPartial: true,
  });
});

t.test('dns: questions are capped', async (t) => {
  const questions = Array.from({ length: 40 }, (_, i) => ({
    name: `q${i}.local`,
    type: DnsType.A,
  }));
  const msg = dnsMessage({ id: 1, flags: 0, questions });
  const parsed = parseDns(msg, 0, msg.length);
  t.equal(parsed?.questions.length, MAX_DNS_QUESTIONS);
  t.equal(parsed?.isComplete, false);
});

t.test('dns: a short header is null; a cut record is incomplete', async (t) => {
  t.equal(parseDns(new Uint8Array(11), 0, 11), null);
  const msg = mdnsAnnouncement();
  const cut = parseDns(msg, 0, msg.length - 3);
  t.equal(cut?.isComplete, false);
  t.equal(cut?.records.length, 7, 'records before the cut are kept');
});

t.test('dns: a question key names the question, not the message', async (t) => {
  const query = (name: string, id = 1, flags = 0x0100) =>
    dnsMessage({ id, flags, questions: [{ name, type: DnsType.A }] });
  const keyOf = (msg: Uint8Array) => dnsQuestionKey(msg, 0, msg.length);
  const pump = keyOf(query('pump-gw.hospital.example'));
  t.not(pump, 0);
  t.equal(keyOf(query('pump-gw.hospital.example', 77)), pump, 'any id');
  t.not(keyOf(query('pacs.hospital.example')), pump, 'another name');
  t.not(keyOf(query('pump-gw.hospital.exampl')), pump, 'one byte less');
  t.equal(keyOf(query('pump-gw.hospital.example', 1, 0x8180)), 0, 'answer');
  const two = dnsMessage({
    id: 1,
    flags: 0x0100,
    questions: [
      { name: 'a.example', type: DnsType.A },
      { name: 'b.example', type: DnsType.A },
    ],
  });
  t.equal(keyOf(two), 0, 'two questions are parsed instead');
  const compressed = Uint8Array.from([
    ...query('x.example').subarray(0, 12),
    0xc0,
    0x0c,
  ]);
  t.equal(keyOf(compressed), 0, 'a pointer is parsed instead');
  const cut = query('pump-gw.hospital.example');
  t.equal(dnsQuestionKey(cut, 0, 20), 0, 'a name cut short');
  t.equal(dnsQuestionKey(cut, 0, 11), 0, 'a header cut short');
});

t.test('dns: every prefix and seeded mutations never throw', async (t) => {
  const query = dnsMessage({
    id: 2,
    flags: 0x0100,
    questions: [{ name: 'a.example', type: 1 }],
  });
  checkRobustness(t, parseDns, [mdnsAnnouncement(), query], 0xd25);
  const rng = new SeededRng(99);
  for (let i = 0; i < 2000; i++) {
    const msg = parseDns(mdnsAnnouncement(), 0, 300);
    if (msg !== null) summarizeMdns(msg);
    const junk = rng.bytes(12 + rng.nextInt(200));
    const parsed = parseDns(junk, 0, junk.length);
    if (parsed !== null) summarizeMdns(parsed);
  }
  t.pass('summaries of random messages never throw');
});
