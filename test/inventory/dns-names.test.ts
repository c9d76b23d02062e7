/**
 * The names a device asks for (DNS, mDNS and LLMNR queries) and the DNS-SD
 * service instances it announces, checked against tshark's dissection of
 * the same captures, and the rule that a server's answers are never read.
 */
import { spawnSync } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  concatBytes,
  dnsMessage,
  dnsName,
  EtherType,
  ethernetFrame,
  IpProto,
  ipv4Packet,
  parseIpv4,
  put16,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { DnsType } from '../../src/fingerprint/dns.js';
import { compileCatalog } from '../../src/inventory/catalog.js';
import {
  DEVICE_LIMITS,
  type DeviceReport,
} from '../../src/inventory/device.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const hasTshark = spawnSync('tshark', ['--version']).status === 0;
const needsTshark = { skip: hasTshark ? false : 'tshark not installed' };

// tshark joins several occurrences of a field with this; no name here has it.
const AGG = '\u001f';

/** Queries: plain DNS, mDNS (probes and reverse lookups) and a mixed site. */
const QUERY_CAPTURES = [
  'public/tcpdump/dns_udp.pcap',
  'public/tcpdump/dns_udp_2.pcap',
  'public/zeek/dns/mdns.pcap',
  'public/zeek/dns/mdns-no-assoc.pcap',
  'generated/hospital-sample.pcap',
];

/**
 * Announcements: the zeek captures answer with host and reverse records
 * only (no instance), the sample's printer with DNS-SD PTR and SRV records;
 * the synthetic capture below adds the record shapes neither has.
 */
const INSTANCE_CAPTURES = [
  'public/zeek/dns/mdns.pcap',
  'public/zeek/dns/mdns-no-assoc.pcap',
  'generated/hospital-sample.pcap',
];

/** What tshark shows as the name of the root. */
const TSHARK_ROOT = '<Root>';

/** A DNS-SD service type owner name (RFC 6763 sections 4.1 and 7.1). */
const SERVICE_TYPE_NAME = /^(?:[^.]+\._sub\.)?_[^.]+\._(?:tcp|udp)\./i;

function inventoryOf(path: string, inventory = new Inventory()) {
  const pipeline = new PacketPipeline({ inventory });
  readCaptureFile(path, pipeline);
  pipeline.flows.flush();
  return { inventory, devices: inventory.report() };
}

/**
 * Rows of tshark's dissection of the frames `filter` keeps: one cell per
 * field, each field's occurrences split apart.
 */
function tsharkRows(path: string, filter: string, fields: string[]) {
  const args = ['-r', path, '-n', '-Y', filter, '-T', 'fields'];
  args.push('-E', 'occurrence=a', '-E', `aggregator=${AGG}`);
  for (const field of fields) args.push('-e', field);
  const result = spawnSync('tshark', args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`tshark failed on ${path}: ${result.stderr}`);
  }
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line.split('\t').map((cell) => (cell === '' ? [] : cell.split(AGG))),
    );
}

/** Distinct values per source MAC, in the order first seen. */
function addByMac(byMac: Map<string, string[]>, mac: string, value: string) {
  const values = byMac.get(mac) ?? [];
  if (!values.includes(value)) values.push(value);
  byMac.set(mac, values);
}

/**
 * Question names of the queries each MAC sent, as tshark reads them: QR=0
 * to DNS port 53, or on the mDNS and LLMNR ports in either direction.
 */
function tsharkQueries(path: string): Map<string, string[]> {
  const filter =
    'dns.flags.response == 0 && (udp.dstport == 53 || ' +
    'udp.port == 5353 || udp.port == 5355)';
  const byMac = new Map<string, string[]>();
  for (const [[mac], names] of tsharkRows(path, filter, [
    'eth.src',
    'dns.qry.name',
  ])) {
    for (const name of names) {
      if (name !== TSHARK_ROOT) addByMac(byMac, mac, name);
    }
  }
  return byMac;
}

/**
 * Service instances each MAC announced in mDNS/LLMNR responses, from
 * tshark's records: the target of a PTR whose owner is a service type
 * (not the `_services._dns-sd._udp` enumeration, not a reverse name), and
 * the owner of an SRV record.
 */
function tsharkInstances(path: string): Map<string, string[]> {
  const filter =
    'dns.flags.response == 1 && (udp.port == 5353 || udp.port == 5355)';
  const byMac = new Map<string, string[]>();
  const rows = tsharkRows(path, filter, [
    'eth.src',
    'dns.resp.type',
    'dns.resp.name',
    'dns.ptr.domain_name',
    'dns.srv.service',
    'dns.srv.proto',
    'dns.srv.name',
  ]);
  for (const [[mac], types, owners, ptrTargets, ...srvOwnerParts] of rows) {
    // tshark 4.0 leaves an SRV record's owner out of dns.resp.name and
    // splits it in three at its first two dots; each other field has one
    // value per record of its kind, in record order.
    const [services, protos, domains] = srvOwnerParts;
    let ownerIndex = 0;
    let ptrIndex = 0;
    let srvIndex = 0;
    for (const type of types.map(Number)) {
      if (type === DnsType.Srv) {
        const i = srvIndex++;
        addByMac(byMac, mac, `${services[i]}.${protos[i]}.${domains[i]}`);
        continue;
      }
      const owner = owners[ownerIndex++];
      if (type !== DnsType.Ptr) continue;
      const target = ptrTargets[ptrIndex++];
      if (SERVICE_TYPE_NAME.test(owner)) addByMac(byMac, mac, target);
    }
  }
  return byMac;
}

/** Our values per MAC, devices without any left out. */
function oursByMac(
  devices: DeviceReport[],
  values: (device: DeviceReport) => string[],
): Map<string, string[]> {
  const byMac = new Map<string, string[]>();
  for (const device of devices) {
    if (device.mac !== null && values(device).length > 0) {
      byMac.set(device.mac, values(device));
    }
  }
  return byMac;
}

const ANNOUNCER_MAC = '00:00:5e:00:53:41';

/**
 * One mDNS response (RFC 6762) from a pump announcing DNS-SD records: a
 * service type enumeration, an instance PTR, a subtype PTR, an SRV whose
 * instance no PTR names, and a reverse-mapping PTR that is no instance.
 */
function writeAnnouncements(dir: string): string {
  const ptr = (name: string, target: string) => ({
    name,
    type: DnsType.Ptr,
    ttlSec: 4500,
    data: dnsName(target),
  });
  const srv = (name: string, port: number, target: string) => {
    const fixed = new Uint8Array(6);
    put16(fixed, 4, port);
    return {
      name,
      type: DnsType.Srv,
      ttlSec: 120,
      data: concatBytes(fixed, dnsName(target)),
    };
  };
  const message = dnsMessage({
    id: 0,
    flags: 0x8400,
    answers: [
      ptr('_services._dns-sd._udp.local', '_http._tcp.local'),
      ptr('_http._tcp.local', 'Alaris Pump 1234._http._tcp.local'),
      ptr('_pump._sub._http._tcp.local', 'Alaris Pump 1234._http._tcp.local'),
      ptr('_ipp._tcp.local', 'Ward 3 Printer._ipp._tcp.local'),
      srv('Alaris Pump 1234._http._tcp.local', 80, 'alaris-1234.local'),
      srv('Pump Service._pump-data._udp.local', 5001, 'alaris-1234.local'),
      ptr('41.0.20.10.in-addr.arpa', 'alaris-1234.local'),
    ],
  });
  const ip = ipv4Packet(
    { src: '10.20.0.41', dst: '224.0.0.251', protocol: IpProto.Udp },
    udpDatagram({ srcPort: 5353, dstPort: 5353 }, message),
  );
  const frame = ethernetFrame(
    { src: ANNOUNCER_MAC, dst: '01:00:5e:00:00:fb', etherType: EtherType.Ipv4 },
    ip,
  );
  const path = join(dir, 'mdns-announcements.pcap');
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  writer.writeFrame(frame, 1_700_000_000, 0);
  writer.close();
  return path;
}

const CLIENT_MAC = '00:00:5e:00:53:31';
const SERVER_MAC = '00:00:5e:00:53:32';
const CLIENT_IP = '10.20.0.31';
const SERVER_IP = '10.20.0.32';
const CLIENT_PORT = 40_000;

/** One DNS message between the client and the server, by UDP. */
function dnsFrame(
  fromClient: boolean,
  srcPort: number,
  dstPort: number,
  message: Uint8Array,
): Uint8Array {
  const udp = udpDatagram({ srcPort, dstPort }, message);
  const ip = ipv4Packet(
    {
      src: fromClient ? CLIENT_IP : SERVER_IP,
      dst: fromClient ? SERVER_IP : CLIENT_IP,
      protocol: IpProto.Udp,
    },
    udp,
  );
  return ethernetFrame(
    {
      src: fromClient ? CLIENT_MAC : SERVER_MAC,
      dst: fromClient ? SERVER_MAC : CLIENT_MAC,
      etherType: EtherType.Ipv4,
    },
    ip,
  );
}

const query = (id: number, name: string) =>
  dnsMessage({ id, flags: 0x0100, questions: [{ name, type: DnsType.A }] });

const answer = (id: number, name: string) =>
  dnsMessage({
    id,
    flags: 0x8180,
    questions: [{ name, type: DnsType.A }],
    answers: [
      { name, type: DnsType.A, ttlSec: 60, data: parseIpv4('10.20.0.99') },
    ],
  });

/** Frames on one 5-tuple (client port 40000 to 53), written to a capture. */
function writeExchange(dir: string, frames: Uint8Array[]): string {
  const path = join(dir, 'dns.pcap');
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  frames.forEach((frame, i) => writer.writeFrame(frame, 1_700_000_000 + i, 0));
  writer.close();
  return path;
}

// Constants are not hoisted and tap starts each test at once: the helpers
// are all above, the tests below.

t.test('dns.queries equal tshark, device by device', needsTshark, (t) => {
  let compared = 0;
  for (const capture of QUERY_CAPTURES) {
    const path = resolve(FIXTURES, capture);
    const expected = tsharkQueries(path);
    t.ok(expected.size > 0, `${capture}: tshark saw queries`);
    for (const [mac, names] of expected) {
      // Within the cap, the set is exactly what was asked.
      t.ok(names.length <= DEVICE_LIMITS.names, `${capture} ${mac}: uncapped`);
      compared += names.length;
    }
    const { devices } = inventoryOf(path);
    const ours = oursByMac(devices, (device) => device.dns?.queries ?? []);
    t.strictSame(ours, expected, `${capture}: same names per MAC`);
  }
  t.ok(compared >= 40, `${compared} names compared`);
  t.end();
});

t.test('mdns.instances equal tshark, device by device', needsTshark, (t) => {
  const synthetic = writeAnnouncements(t.testdir({}));
  let compared = 0;
  for (const capture of [...INSTANCE_CAPTURES, synthetic]) {
    const path = resolve(FIXTURES, capture);
    const expected = tsharkInstances(path);
    for (const names of expected.values()) compared += names.length;
    const { devices } = inventoryOf(path);
    const ours = oursByMac(devices, (device) => device.mdns?.instances ?? []);
    t.strictSame(ours, expected, `${basename(path)}: same instances per MAC`);
  }
  t.ok(compared >= 4, `${compared} instances compared`);
  t.end();
});

t.test('a reverse lookup and an mDNS probe are kept as asked', (t) => {
  const { devices } = inventoryOf(join(FIXTURES, 'public/zeek/dns/mdns.pcap'));
  const [asker] = devices.filter((device) => device.dns !== null);
  t.ok(
    asker.dns?.queries.includes('7.2.0.10.in-addr.arpa'),
    'a reverse lookup',
  );
  t.ok(
    asker.dns?.queries.includes('johanna-QEMU-Virtual-Machine.local'),
    'the probe for its own name',
  );
  t.equal(asker.mdns, null, 'host records only: no service, no instance');
  t.end();
});

t.test('dns: a response from port 53 adds nothing to its sender', (t) => {
  const path = writeExchange(t.testdir({}), [
    dnsFrame(true, CLIENT_PORT, 53, query(1, 'pump-gw.hospital.example')),
    dnsFrame(false, 53, CLIENT_PORT, answer(1, 'pump-gw.hospital.example')),
    // Even a query-shaped message from port 53 is a server's direction.
    dnsFrame(false, 53, CLIENT_PORT, query(2, 'server-asks.example')),
    // A later query on the same 5-tuple is still read.
    dnsFrame(true, CLIENT_PORT, 53, query(3, 'ntp.hospital.example')),
  ]);
  const { inventory, devices } = inventoryOf(path);
  const byMac = (mac: string) => devices.find((device) => device.mac === mac);

  t.strictSame(byMac(CLIENT_MAC)?.dns, {
    queries: ['pump-gw.hospital.example', 'ntp.hospital.example'],
  });
  t.equal(byMac(SERVER_MAC)?.dns, null, 'the server asked for nothing');
  t.equal(inventory.counters().extractorHits.dns, 2, 'two queries read');
  t.end();
});

t.test('dns.query and mdns.instance are catalog facts', (t) => {
  const path = writeExchange(t.testdir({}), [
    dnsFrame(true, CLIENT_PORT, 53, query(1, 'pump-gw.hospital.example')),
  ]);
  const catalog = compileCatalog({
    version: 'test-dns',
    entries: [
      {
        id: 'asks-pump-gateway',
        category: 'infusion_pump',
        rules: [{ field: 'dns.query', prefix: 'pump-gw.', weight: 0.5 }],
      },
      {
        id: 'announces-instance',
        category: 'printer',
        rules: [{ field: 'mdns.instance', regex: '_ipp\\._tcp', weight: 0.5 }],
      },
    ],
  });
  const { devices } = inventoryOf(path, new Inventory({ catalog }));
  const client = devices.find((device) => device.mac === CLIENT_MAC);
  t.equal(client?.category, 'infusion_pump');
  t.match(client?.evidence, [/dns\.query/]);

  const sample = join(FIXTURES, 'generated/hospital-sample.pcap');
  const printer = inventoryOf(sample, new Inventory({ catalog })).devices.find(
    (device) => (device.mdns?.instances.length ?? 0) > 0,
  );
  t.equal(printer?.category, 'printer');
  t.end();
});

t.test('dns: a device asking for many names keeps the latest', (t) => {
  const asked = Array.from(
    { length: DEVICE_LIMITS.names + 4 },
    (_, i) => `host-${i}.hospital.example`,
  );
  const path = writeExchange(
    t.testdir({}),
    asked.map((name, i) => dnsFrame(true, CLIENT_PORT, 53, query(i, name))),
  );
  const client = inventoryOf(path).devices.find(
    (device) => device.mac === CLIENT_MAC,
  );
  t.strictSame(client?.dns?.queries, asked.slice(4), 'the latest 16, in order');
  t.equal(client?.evictedValues, 4, 'the 4 oldest were evicted and counted');
  t.end();
});
