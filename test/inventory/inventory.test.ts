import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  ArpOp,
  arpPacket,
  concatBytes,
  DhcpMessageType,
  dhcpMessage,
  dhcpOption,
  type DhcpSpec,
  dnsName,
  EtherType,
  ethernetFrame,
  icmpv6NeighbourAdvertisement,
  IpProto,
  ipv4Packet,
  ipv6Packet,
  parseIpv4,
  parseIpv6,
  parseMac,
  put16,
  textBytes,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { Dhcpv6MessageType } from '../../src/fingerprint/dhcpv6.js';
import { compileCatalog } from '../../src/inventory/catalog.js';
import {
  DEVICE_LIMITS,
  type Device,
  type DeviceReport,
} from '../../src/inventory/device.js';
import {
  Inventory,
  ROUTER_MIN_SOURCE_IPS,
} from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';

const SAMPLE = fileURLToPath(
  new URL('../fixtures/generated/hospital-sample.pcap', import.meta.url),
);

// A tiny catalog of its own, so these tests pin the inventory, not the
// shipped catalog's content.
const catalog = compileCatalog({
  version: 'test-1',
  entries: [
    {
      id: 'philips-monitor',
      category: 'patient_monitor',
      make: 'Philips',
      model: 'IntelliVue',
      rules: [
        { field: 'vendor', prefix: 'Philips Medical Systems', weight: 0.5 },
        { field: 'dhcp.vendorClass', regex: 'monitor', weight: 0.5 },
      ],
    },
    {
      id: 'ipp-printer',
      category: 'printer',
      rules: [{ field: 'mdns.service', prefix: '_ipp._tcp', weight: 0.7 }],
    },
  ],
});

function inventoryOf(path: string, maxDevices?: number) {
  const inventory = new Inventory({ catalog, maxDevices });
  const pipeline = new PacketPipeline({ inventory });
  readCaptureFile(path, pipeline);
  pipeline.flows.flush();
  return { inventory, devices: inventory.report(), pipeline };
}

/**
 * The inventory of `frames` written to a capture in `dir`, `usPerFrame`
 * apart in packet time.
 */
function inventoryOfFrames(dir: string, frames: Uint8Array[], usPerFrame = 1) {
  const path = join(dir, 'frames.pcap');
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  frames.forEach((frame, i) =>
    writer.writeFrame(frame, 1_700_000_000, i * usPerFrame),
  );
  writer.close();
  return inventoryOf(path);
}

/** A UDP datagram in an Ethernet frame, VLAN-tagged when `vid` is set. */
function udpFrame(spec: {
  src: string;
  dst: string;
  vid?: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
}): Uint8Array {
  return ethernetFrame(
    {
      dst: spec.dst,
      src: spec.src,
      etherType: EtherType.Ipv4,
      tags: spec.vid === undefined ? [] : [{ vid: spec.vid }],
    },
    ipv4Packet(
      { src: spec.srcIp, dst: spec.dstIp, protocol: IpProto.Udp },
      udpDatagram(
        { srcPort: spec.srcPort, dstPort: spec.dstPort },
        spec.payload ?? textBytes('x'),
      ),
    ),
  );
}

/** An ARP message broadcast by `src`, claiming `senderIp` on VLAN `vid`. */
function arpFrame(spec: {
  op: number;
  src: string;
  vid: number;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}): Uint8Array {
  return ethernetFrame(
    {
      dst: 'ff:ff:ff:ff:ff:ff',
      src: spec.src,
      etherType: EtherType.Arp,
      tags: [{ vid: spec.vid }],
    },
    arpPacket({
      op: spec.op,
      senderMac: spec.src,
      senderIp: spec.senderIp,
      targetMac: spec.targetMac,
      targetIp: spec.targetIp,
    }),
  );
}

const byName = (devices: DeviceReport[], name: string) =>
  devices.find((device) => device.hostnames.includes(name));

t.test(
  'hospital sample: identity from DHCP, OUI and classification',
  async (t) => {
    const { devices, pipeline } = inventoryOf(SAMPLE);
    t.equal(pipeline.decoderExceptions, 0);

    const monitor = byName(devices, 'SYNTH-MON-01');
    t.ok(monitor, 'the first monitor is in the inventory');
    t.match(monitor?.vendor, /^Philips Medical Systems/);
    t.equal(monitor?.vlan, 10);
    t.same(monitor?.ips, ['10.10.10.11']);
    t.equal(monitor?.dhcp.fingerprint, '1,3,6,12,15,28,42,51,54,58,59');
    t.equal(monitor?.dhcp.hostname, 'SYNTH-MON-01');
    t.equal(monitor?.category, 'patient_monitor');
    t.equal(monitor?.make, 'Philips');
    t.equal(monitor?.confidence, 0.75);
    t.equal(monitor?.evidence.length, 2, 'both rules are cited');

    const phone = byName(devices, 'SYNTH-PHONE-01');
    t.equal(phone?.randomizedMac, true);
    t.equal(phone?.vendor, null, 'a randomized MAC has no vendor');

    const printer = devices.find((device) => device.mdns !== null);
    t.ok(printer?.mdns?.services.some((s) => s.startsWith('_ipp._tcp')));
    t.equal(printer?.category, 'printer');

    const switchPort = devices.find((device) => device.lldp !== null);
    t.equal(switchPort?.lldp?.systemName, 'SYNTH-SW-ICU-01');
    t.match(switchPort?.vendor, /^Cisco/);

    const unknown = byName(devices, 'SYNTH-WS-01');
    t.equal(unknown?.category, 'unknown', 'no rule matches a workstation');
    t.equal(unknown?.confidence, 0);
  },
);

t.test('TLS fingerprints equal tshark on the same capture', async (t) => {
  const tshark = spawnSync(
    'tshark',
    [
      '-r',
      SAMPLE,
      '-Y',
      'tls.handshake.type == 1',
      '-T',
      'fields',
      '-e',
      'tls.handshake.ja3',
      '-e',
      'tls.handshake.extensions_server_name',
    ],
    { encoding: 'utf8' },
  );
  t.equal(tshark.status, 0, 'tshark ran (scripts/install-system-packages.sh)');
  const expected = new Set(
    tshark.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[0]),
  );
  const { devices } = inventoryOf(SAMPLE);
  const ours = new Set(devices.flatMap((device) => device.tls.ja3));
  t.ok(ours.size > 0, 'ClientHellos were fingerprinted');
  t.same([...ours].sort(), [...expected].sort(), 'same JA3 set as tshark');
  const sni = devices.flatMap((device) => device.tls.sni);
  t.ok(sni.includes('updates.synthetic-vendor.example'));
  t.ok(devices.some((device) => device.tls.ja4.length > 0));
});

t.test(
  'TCP stack signatures and the server ports a device answers on',
  async (t) => {
    const { devices } = inventoryOf(SAMPLE);
    const workstation = byName(devices, 'SYNTH-WS-01');
    t.ok((workstation?.tcp.signatures.length ?? 0) > 0, 'SYN signature kept');
    t.match(workstation?.tcp.osGuess, /Windows/);
    const hl7Engine = devices.find((device) =>
      device.ips.includes('10.10.100.20'),
    );
    t.ok(
      hl7Engine?.serverPorts.includes(2575),
      'the HL7 engine answers on 2575',
    );
  },
);

t.test('hosts behind a router are keyed by IP and marked routed', async (t) => {
  const { devices } = inventoryOf(SAMPLE);
  const routed = devices.filter((device) => device.routed);
  t.ok(routed.length > 0, 'routed hosts found');
  for (const device of routed) {
    t.equal(device.mac, null);
    t.equal(device.ips.length, 1);
  }
});

t.test('a tiny device table evicts and counts, never grows', async (t) => {
  const { inventory, devices } = inventoryOf(SAMPLE, 4);
  t.ok(devices.length <= 4);
  t.ok(inventory.devices.evicted > 0, `${inventory.devices.evicted} evicted`);
  t.equal(inventory.counters().devicesEvicted, inventory.devices.evicted);
});

t.test('an address claimed by two MACs is a finding on both', async (t) => {
  const path = join(t.testdir({}), 'conflicts.pcap');
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  const claims: Array<[string, Uint8Array]> = [];
  for (const mac of ['02:00:00:00:00:01', '02:00:00:00:00:02']) {
    const arp = arpPacket({
      op: ArpOp.Reply,
      senderMac: mac,
      senderIp: '10.9.9.9',
      targetMac: 'ff:ff:ff:ff:ff:ff',
      targetIp: '10.9.9.1',
    });
    claims.push([
      mac,
      ethernetFrame(
        { dst: 'ff:ff:ff:ff:ff:ff', src: mac, etherType: EtherType.Arp },
        arp,
      ),
    ]);
    const advert = icmpv6NeighbourAdvertisement({
      target: 'fd00::99',
      isOverride: true,
      targetLinkAddr: mac,
    });
    const ipv6 = ipv6Packet(
      { src: 'fd00::99', dst: 'ff02::1', nextHeader: 58, hopLimit: 255 },
      advert,
    );
    claims.push([
      mac,
      ethernetFrame(
        { dst: '33:33:00:00:00:01', src: mac, etherType: EtherType.Ipv6 },
        ipv6,
      ),
    ]);
  }
  claims.forEach(([, frame], i) =>
    writer.writeFrame(frame, 1_700_000_000 + i, 0),
  );
  writer.close();

  const { devices } = inventoryOf(path);
  const claimants = devices.filter((device) => device.mac?.startsWith('02:'));
  t.equal(claimants.length, 2);
  for (const device of claimants) {
    t.ok(device.findings.includes('address_conflict:10.9.9.9'), 'ARP');
    t.ok(device.findings.includes('address_conflict:fd00::99'), 'IPv6 ND');
    t.ok(device.randomizedMac);
  }
});

t.test('a MUD URL announced over LLDP is kept', async (t) => {
  const path = fileURLToPath(
    new URL('../fixtures/public/tcpdump/lldp_mudurl.pcap', import.meta.url),
  );
  const { devices } = inventoryOf(path);
  const announcer = devices.find((device) => device.mudUrl !== null);
  t.equal(
    announcer?.mudUrl,
    'https://imright.mud.example.com/.well-known/mud/v1/vomitv2.0',
  );
});

/**
 * Each flow's client direction and address, with the senders the inventory
 * named for both directions when the flow ended (before it forgot them).
 */
function sendersAtFlowEnd(path: string, maxDevices?: number) {
  const inventory = new Inventory({ catalog, maxDevices });
  const ended: Array<{
    flowId: number;
    client: string;
    clientSender: Device | null;
    senders: Array<Device | null>;
    /** Senders named that were no longer in the device table. */
    staleSenders: number;
  }> = [];
  const pipeline = new PacketPipeline({
    inventory,
    onFlowEnd: (table, flowId) => {
      const clientDir = table.isInitiatorA(flowId) ? 0 : 1;
      ended.push({
        flowId,
        client: table.describe(flowId).clientAddr,
        clientSender: inventory.flowSender(flowId, clientDir),
        senders: [0, 1].map((dir) => inventory.flowSender(flowId, dir)),
        staleSenders: [0, 1].filter((dir) => {
          const sender = inventory.flowSender(flowId, dir);
          return (
            sender !== null && inventory.devices.at(sender.tableId) !== sender
          );
        }).length,
      });
    },
  });
  readCaptureFile(path, pipeline);
  pipeline.flows.flush();
  return { inventory, ended };
}

t.test('flowSender: the device that sent each flow direction', async (t) => {
  const { inventory, ended } = sendersAtFlowEnd(SAMPLE);
  t.ok(ended.length > 50, `${ended.length} flows ended`);
  let checked = 0;
  let wrong = 0;
  for (const { client, clientSender } of ended) {
    // Unspecified sources (DHCP, IPv6 duplicate address detection) bind
    // no address.
    if (clientSender === null || client === '0.0.0.0' || client === '::') {
      continue;
    }
    // A set that never evicted holds every address its device used.
    if (clientSender.ips.size >= DEVICE_LIMITS.ips) continue;
    checked++;
    if (!clientSender.ips.has(client)) wrong++;
  }
  t.ok(checked > 50, `${checked} client directions checked`);
  t.equal(wrong, 0, 'each client direction names its address owner');
  t.equal(inventory.flowSender(-1, 0), null, 'no flow');
  t.equal(inventory.flowSender(1 << 30, 1), null, 'beyond the table');

  const remembered = ended.filter(
    ({ flowId }) =>
      inventory.flowSender(flowId, 0) !== null ||
      inventory.flowSender(flowId, 1) !== null,
  );
  t.equal(remembered.length, 0, 'onFlowEnd forgets every sender');
});

t.test('flowSender: an evicted device is never answered', async (t) => {
  // With 4 devices, a flow's sender is often evicted before the flow ends.
  const { inventory, ended } = sendersAtFlowEnd(SAMPLE, 4);
  t.ok(inventory.devices.evicted > 0, 'devices were evicted');
  let answered = 0;
  let stale = 0;
  for (const { senders, staleSenders } of ended) {
    answered += senders.filter((sender) => sender !== null).length;
    stale += staleSenders;
  }
  t.ok(answered > 0, `${answered} directions answered`);
  t.equal(stale, 0, 'only devices still in the table');
});

// ---------------------------------------------------------------------------
// DHCPv6: whose message it is

function dhcpv6Option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  put16(out, 0, code);
  put16(out, 2, value.length);
  out.set(value, 4);
  return out;
}

/** DUID-LLT (RFC 8415 11.2) of an Ethernet MAC. */
const duidLlt = (mac: string): Uint8Array =>
  concatBytes(Uint8Array.of(0, 1, 0, 1, 0x2c, 0x3d, 0x4e, 0x5f), parseMac(mac));

/** A client or server message with a client DUID, vendor class and FQDN. */
function dhcpv6Message(
  type: number,
  clientMac: string,
  vendorClass: string,
  fqdn: string,
): Uint8Array {
  const name = textBytes(vendorClass);
  return concatBytes(
    Uint8Array.of(type, 0x12, 0x34, 0x56),
    dhcpv6Option(1, duidLlt(clientMac)),
    dhcpv6Option(6, Uint8Array.of(0, 23, 0, 24)),
    dhcpv6Option(
      16,
      concatBytes(Uint8Array.of(0, 0, 0x7e, 0xd9, 0, name.length), name),
    ),
    dhcpv6Option(39, concatBytes(Uint8Array.of(1), dnsName(fqdn))),
  );
}

/** A relay-forward (12) or relay-reply (13) around `inner` (RFC 8415 9). */
const dhcpv6Relay = (type: number, inner: Uint8Array): Uint8Array =>
  concatBytes(
    Uint8Array.of(type, 0),
    parseIpv6('fd00:30::1'),
    parseIpv6('fe80::21'),
    dhcpv6Option(9, inner),
  );

interface Dhcpv6Frame {
  src: string;
  dst: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  message: Uint8Array;
}

/**
 * Write DHCPv6 datagrams on VLAN 30, after any `earlier` frames, and run
 * the inventory over them.
 */
function inventoryOfDhcpv6(
  dir: string,
  frames: Dhcpv6Frame[],
  earlier: Uint8Array[] = [],
) {
  const path = join(dir, 'dhcpv6.pcap');
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  earlier.forEach((frame, i) => writer.writeFrame(frame, 1_600_000_000 + i, 0));
  frames.forEach((frame, i) => {
    const udp = udpDatagram(
      { srcPort: frame.srcPort, dstPort: frame.dstPort },
      frame.message,
    );
    const ip = ipv6Packet(
      { src: frame.srcIp, dst: frame.dstIp, nextHeader: IpProto.Udp },
      udp,
    );
    const ethernet = ethernetFrame(
      {
        dst: frame.dst,
        src: frame.src,
        etherType: EtherType.Ipv6,
        tags: [{ vid: 30 }],
      },
      ip,
    );
    writer.writeFrame(ethernet, 1_700_000_000 + i, 0);
  });
  writer.close();
  const { inventory } = inventoryOf(path);
  const byId = (id: string) =>
    inventory.devices.all().find((device) => device.id === id);
  return { inventory, byId };
}

const RELAY = '00:00:5e:00:53:01';
const SERVER = '00:00:5e:00:53:02';
const CLIENT = '00:00:5e:00:53:21';

t.test(
  'dhcpv6: a relayed Solicit belongs to the DUID MAC, not the relay',
  async (t) => {
    const solicit = dhcpv6Message(
      Dhcpv6MessageType.Solicit,
      CLIENT,
      'SYNTH-VC-RELAYED',
      'synth-mon-30.example.org',
    );
    const { inventory, byId } = inventoryOfDhcpv6(t.testdir({}), [
      {
        src: RELAY,
        dst: SERVER,
        srcIp: 'fd00:30::1',
        dstIp: 'fd00:100::547',
        srcPort: 547,
        dstPort: 547,
        message: dhcpv6Relay(Dhcpv6MessageType.RelayForw, solicit),
      },
    ]);
    const client = byId(`${CLIENT}@30`);
    t.ok(client, 'the client has a device on the frame VLAN');
    t.equal(client?.dhcpv6VendorClass, 'SYNTH-VC-RELAYED');
    t.same(client?.facts()['dhcpv6.vendorClass'], ['SYNTH-VC-RELAYED']);
    t.same(client?.hostnames.values(), ['synth-mon-30.example.org']);
    t.equal(client?.dhcpv6Duid, `000100012c3d4e5f${CLIENT.replace(/:/g, '')}`);
    t.same(
      client?.toReport(inventory.catalog).dhcpv6,
      {
        duid: `000100012c3d4e5f${CLIENT.replace(/:/g, '')}`,
        vendorClass: 'SYNTH-VC-RELAYED',
        optionRequests: '23,24',
      },
      'reported: DUID, vendor class, option requests in order',
    );

    const relay = byId(`${RELAY}@30`);
    t.equal(relay?.packets, 1, 'the relay sent the frame');
    t.equal(relay?.dhcpv6VendorClass, null, 'not the relay');
    t.same(relay?.hostnames.values(), []);
    t.equal(relay?.dhcpv6Duid, null);
  },
);

t.test('dhcpv6: a relayed DUID without a MAC names no device', async (t) => {
  // DUID-EN (RFC 8415 11.3): enterprise 32473, an identifier.
  const solicit = concatBytes(
    Uint8Array.of(Dhcpv6MessageType.Solicit, 0, 0, 1),
    dhcpv6Option(1, Uint8Array.of(0, 2, 0, 0, 0x7e, 0xd9, 1, 2, 3, 4)),
    dhcpv6Option(
      16,
      concatBytes(Uint8Array.of(0, 0, 0x7e, 0xd9, 0, 6), textBytes('SYNTH6')),
    ),
  );
  const { inventory, byId } = inventoryOfDhcpv6(t.testdir({}), [
    {
      src: RELAY,
      dst: SERVER,
      srcIp: 'fd00:30::1',
      dstIp: 'fd00:100::547',
      srcPort: 547,
      dstPort: 547,
      message: dhcpv6Relay(Dhcpv6MessageType.RelayForw, solicit),
    },
  ]);
  t.equal(inventory.counters().extractorHits.dhcpv6, 1, 'it was read');
  t.equal(byId(`${RELAY}@30`)?.dhcpv6VendorClass, null, 'not the relay');
  t.same(
    inventory.devices.all().map((device) => device.id),
    [`${RELAY}@30`],
    'no device made up for the client',
  );
});

t.test(
  'dhcpv6: a server reply through a relay stays with its sender',
  async (t) => {
    const advertise = dhcpv6Message(
      Dhcpv6MessageType.Advertise,
      CLIENT,
      'SYNTH-VC-SERVER',
      'synth-mon-30.example.org',
    );
    const { byId } = inventoryOfDhcpv6(t.testdir({}), [
      {
        src: SERVER,
        dst: RELAY,
        srcIp: 'fd00:100::547',
        dstIp: 'fd00:30::1',
        srcPort: 547,
        dstPort: 547,
        message: dhcpv6Relay(Dhcpv6MessageType.RelayRepl, advertise),
      },
    ]);
    t.equal(byId(`${CLIENT}@30`), undefined, 'no device for the addressee');
    const server = byId(`${SERVER}@30`);
    t.equal(server?.dhcpv6VendorClass, 'SYNTH-VC-SERVER');
    t.same(server?.hostnames.values(), [], "the client's FQDN is not its name");
    t.equal(server?.dhcpv6Duid, null);
  },
);

t.test("dhcpv6: a direct Solicit keeps today's sender", async (t) => {
  // The DUID was made from another interface (a DUID outlives it).
  const sender = '00:00:5e:00:53:41';
  const otherInterface = '00:00:5e:00:53:51';
  const solicit = (mac: string, vendorClass: string) =>
    dhcpv6Message(
      Dhcpv6MessageType.Solicit,
      mac,
      vendorClass,
      'synth-ws-41.example.org',
    );
  const { byId } = inventoryOfDhcpv6(t.testdir({}), [
    {
      src: sender,
      dst: '33:33:00:01:00:02',
      srcIp: 'fe80::41',
      dstIp: 'ff02::1:2',
      srcPort: 546,
      dstPort: 547,
      message: solicit(otherInterface, 'SYNTH-VC-DIRECT'),
    },
  ]);
  const device = byId(`${sender}@30`);
  t.equal(device?.dhcpv6VendorClass, 'SYNTH-VC-DIRECT');
  t.same(device?.facts()['dhcpv6.vendorClass'], ['SYNTH-VC-DIRECT']);
  t.equal(
    byId(`${otherInterface}@30`),
    undefined,
    "no device for the DUID's stale MAC",
  );
});

t.test('dhcpv6: a Renew a router forwarded goes to the DUID MAC', async (t) => {
  const router = '00:00:5e:00:53:fe';
  const client = '00:00:5e:00:53:61';
  // More source addresses than ROUTER_MIN_SOURCE_IPS mark the MAC a router.
  const routed = Array.from({ length: 9 }, (_, i) =>
    ethernetFrame(
      {
        dst: SERVER,
        src: router,
        etherType: EtherType.Ipv4,
        tags: [{ vid: 30 }],
      },
      ipv4Packet(
        { src: `10.20.0.${i + 1}`, dst: '10.100.0.5', protocol: IpProto.Udp },
        udpDatagram({ srcPort: 40_000, dstPort: 514 }, textBytes('x')),
      ),
    ),
  );
  const renew = dhcpv6Message(
    Dhcpv6MessageType.Renew,
    client,
    'SYNTH-VC-ROUTED',
    'synth-ws-61.example.org',
  );
  const { byId } = inventoryOfDhcpv6(
    t.testdir({}),
    [
      {
        src: router,
        dst: SERVER,
        srcIp: 'fd00:20::61',
        dstIp: 'fd00:100::547',
        srcPort: 546,
        dstPort: 547,
        message: renew,
      },
    ],
    routed,
  );
  t.equal(byId(`${router}@30`)?.isRouter, true, 'the router is known');
  t.equal(byId(`${client}@30`)?.dhcpv6VendorClass, 'SYNTH-VC-ROUTED');
  const host = byId('fd00:20::61');
  t.equal(host?.routed, true, 'the frame was the routed host');
  t.equal(host?.dhcpv6VendorClass, null, 'the DUID MAC outranks it');
  t.equal(byId(`${router}@30`)?.dhcpv6VendorClass, null);
});

t.test(
  'dhcpv6: the real relayed Solicit (tcpdump dhcpv6-mud.pcap)',
  async (t) => {
    const path = fileURLToPath(
      new URL('../fixtures/public/tcpdump/dhcpv6-mud.pcap', import.meta.url),
    );
    const { inventory } = inventoryOf(path);
    const byId = (id: string) =>
      inventory.devices.all().find((device) => device.id === id);
    // A Cisco relay forwards a Raspberry Pi's Solicit to the server.
    const pi = byId('b8:27:eb:b8:53:c8');
    t.equal(pi?.vendor, 'Raspberry Pi Foundation');
    t.equal(
      pi?.dhcpv6VendorClass,
      'dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709',
    );
    t.equal(
      pi?.mudUrl,
      'https://mudctl.example.com/.well-known/mud/v1/rasbp101',
    );
    t.same(pi?.hostnames.values(), ['raspberrypi']);
    t.equal(pi?.dhcpv6Duid, '000100011e62770bb827ebb853c8');
    const relay = byId('00:23:eb:10:2c:29');
    t.ok((relay?.packets ?? 0) > 0, 'the relay sent every frame');
    t.equal(relay?.dhcpv6VendorClass, null);
    t.equal(relay?.mudUrl, null);
  },
);

// ---------------------------------------------------------------------------
// New catalog facts from real captures

t.test(
  'dicom: SOP classes sent as SCU and accepted as SCP, by flow',
  async (t) => {
    const { inventory } = inventoryOf(SAMPLE);
    const byId = (id: string) =>
      inventory.devices.all().find((device) => device.id === id);
    const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
    const VERIFICATION = '1.2.840.10008.1.1';
    t.same(byId('44:4b:5d:53:00:31@20')?.facts()['dicom.abstractSyntax'], [
      `scu:${CT_STORAGE}`,
    ]);
    t.same(byId('44:4b:5d:53:00:32@20')?.facts()['dicom.abstractSyntax'], [
      `scu:${VERIFICATION}`,
    ]);
    // The archive behind the router accepted what each requestor proposed.
    t.same(
      byId('10.10.100.30')?.facts()['dicom.abstractSyntax']?.slice().sort(),
      [`scp:${VERIFICATION}`, `scp:${CT_STORAGE}`],
    );
    t.equal(byId('44:4b:5d:53:00:31@20')?.dicomRequest, null, 'answered');
  },
);

t.test(
  'dicom: 128-context requests fill the capped set, evictions counted',
  async (t) => {
    const path = fileURLToPath(
      new URL(
        '../fixtures/public/generated-dicom/dicom-dcmtk.pcap',
        import.meta.url,
      ),
    );
    const { inventory, devices } = inventoryOf(path);
    // Loopback: requestor and acceptor share the zero MAC, one device.
    const [device] = inventory.devices
      .all()
      .filter((d) => d.dicomAbstractSyntaxes.size > 0);
    const syntaxes = device?.dicomAbstractSyntaxes;
    const values = syntaxes?.values() ?? [];
    t.equal(values.length, DEVICE_LIMITS.abstractSyntaxes, 'full, no more');
    t.ok((syntaxes?.evicted ?? 0) > 0, `${syntaxes?.evicted} evicted`);
    t.ok(values.includes('scp:1.2.840.10008.5.1.4.1.1.2'), 'CT accepted');
    t.ok(values.includes('scu:1.2.840.10008.5.1.4.31'), 'worklist asked');
    t.ok(values.includes('scp:1.2.840.10008.5.1.4.31'), 'worklist taken');
    const report = devices.find((d) => d.id === device?.id);
    t.ok(
      (report?.evictedValues ?? 0) >= (syntaxes?.evicted ?? 1),
      'reported among the evicted values',
    );
  },
);

t.test('lldp and cdp: enabled capabilities as facts', async (t) => {
  const path = fileURLToPath(
    new URL('../fixtures/public/tcpdump/LLDP_and_CDP.pcap', import.meta.url),
  );
  const { inventory, devices } = inventoryOf(path);
  const switches = inventory.devices.all().filter((d) => d.cdp !== null);
  t.equal(switches.length, 2);
  for (const device of switches) {
    const facts = device.facts();
    t.same(facts['lldp.capabilities'], ['bridge'], `${device.id} LLDP`);
    t.same(facts['cdp.capabilities'], ['switch', 'igmp'], `${device.id} CDP`);
  }
  // The CDP record carries the bits, like LLDP's capabilitiesEnabled.
  const report = devices.find((device) => device.cdp !== null);
  t.equal(report?.cdp?.capabilities, 0x28);
  t.equal(report?.lldp?.capabilitiesEnabled, 0x04);
});

t.test('the unspecified address is no one’s: not listed', async (t) => {
  // A real capture in which a host sends MLD reports from :: before it has
  // an address, then from its link-local one.
  const path = fileURLToPath(
    new URL('../fixtures/public/tcpdump/dcb_ets.pcap', import.meta.url),
  );
  const { devices } = inventoryOf(path);
  const host = devices.find((device) => device.mac === '08:00:27:46:e8:84');
  t.same(host?.ips, ['fe80::a00:27ff:fe46:e884']);
  t.notOk(
    devices.some((device) => device.ips.includes('::')),
    'no device holds ::',
  );
});

t.test(
  'a router keeps only its own addresses; what it forwarded is the hosts’',
  async (t) => {
    const gateway = '00:00:5e:00:01:1e';
    const coreRouter = '00:00:5e:00:01:64';
    const host = '02:00:00:00:30:50';
    const udpFrom = (
      src: string,
      vid: number,
      srcIp: string,
      dstIp: string,
      srcPort: number,
    ) => udpFrame({ src, dst: host, vid, srcIp, dstIp, srcPort, dstPort: 514 });
    // The forwarded sources that show each MAC to be a router.
    const forwarded = (src: string, vid: number, net: string) =>
      Array.from({ length: ROUTER_MIN_SOURCE_IPS + 1 }, (_, i) =>
        udpFrom(src, vid, `${net}.${i + 1}`, '10.30.0.50', 40_000),
      );
    const frames = [
      // The gateway shows its own address in ARP...
      arpFrame({
        op: ArpOp.Reply,
        src: gateway,
        vid: 30,
        senderIp: '10.30.0.1',
        targetMac: host,
        targetIp: '10.30.0.50',
      }),
      // ...then forwards for nine hosts before it is known as a router.
      ...forwarded(gateway, 30, '10.100.0'),
      // A host it forwarded for before goes on sending.
      ...Array.from({ length: 3 }, () =>
        udpFrom(gateway, 30, '10.100.0.1', '10.30.0.50', 40_000),
      ),
      // The gateway's own traffic: from its address, and link-local.
      udpFrom(gateway, 30, '10.30.0.1', '10.100.0.10', 67),
      udpFrom(gateway, 30, '169.254.7.7', '10.30.0.50', 520),
      // Neighbour discovery is never forwarded, whatever its source.
      ethernetFrame(
        {
          dst: '33:33:00:00:00:01',
          src: gateway,
          etherType: EtherType.Ipv6,
          tags: [{ vid: 30 }],
        },
        ipv6Packet(
          { src: 'fd00:30::1', dst: 'ff02::1', nextHeader: 58, hopLimit: 255 },
          icmpv6NeighbourAdvertisement({
            target: 'fd00:30::1',
            isOverride: true,
            targetLinkAddr: gateway,
          }),
        ),
      ),
      ethernetFrame(
        {
          dst: '33:33:00:00:00:01',
          src: gateway,
          etherType: EtherType.Ipv6,
          tags: [{ vid: 30 }],
        },
        ipv6Packet(
          { src: 'fe80::1', dst: 'ff02::1', nextHeader: IpProto.Udp },
          udpDatagram({ srcPort: 521, dstPort: 521 }, textBytes('x')),
        ),
      ),
      // Another VLAN's router, then a relay from the gateway's address
      // through it (as a DHCP relay reaches a server on another VLAN).
      ...forwarded(coreRouter, 100, '10.200.0'),
      udpFrom(coreRouter, 100, '10.30.0.1', '10.100.0.10', 67),
    ];
    const { devices } = inventoryOfFrames(t.testdir({}), frames);
    const byKey = (id: string) => devices.find((device) => device.id === id);
    const gatewayDevice = byKey(`${gateway}@30`);
    t.equal(gatewayDevice?.router, true);
    t.same(
      gatewayDevice?.ips,
      ['10.30.0.1', '169.254.7.7', 'fd00:30::1', 'fe80::1'],
      'only its own',
    );
    t.equal(
      gatewayDevice?.packets,
      1 + ROUTER_MIN_SOURCE_IPS + 5,
      'ARP, the frames before it was known, its own five',
    );
    t.equal(byKey('fd00:30::1'), undefined, 'its advertisement is its own');
    t.same(byKey(`${coreRouter}@100`)?.ips, [], 'it claimed no address');
    t.equal(byKey('10.30.0.1'), undefined, 'no routed twin of the gateway');
    t.equal(byKey('fe80::1'), undefined, 'link-local is never routed');
    t.equal(byKey('169.254.7.7'), undefined, 'IPv4 link-local neither');
    t.equal(byKey('10.100.0.1')?.packets, 3, 'sent after the router was');
    t.equal(byKey('10.100.0.9')?.packets, 1, 'the frame that showed it');
    const total = devices.reduce((sum, device) => sum + device.packets, 0);
    t.equal(total, frames.length, 'every frame counted once');
  },
);

t.test(
  'a relay’s gateway address goes to the gateway that claims it in ARP',
  async (t) => {
    const coreRouter = '00:00:5e:00:01:64';
    const server = '02:00:00:00:64:0a';
    const gateway = '00:00:5e:00:01:0a';
    const onServerVlan = (
      src: string,
      dst: string,
      srcIp: string,
      dstIp: string,
      dhcp: DhcpSpec,
    ) =>
      udpFrame({
        src,
        dst,
        vid: 100,
        srcIp,
        dstIp,
        srcPort: 67,
        dstPort: 67,
        payload: dhcpMessage(dhcp),
      });
    const client = '02:00:00:00:10:11';
    const relayed = () =>
      onServerVlan(coreRouter, server, '10.10.10.1', '10.100.0.10', {
        op: 1,
        xid: 7,
        clientMac: client,
        giaddr: '10.10.10.1',
        options: [dhcpOption(53, Uint8Array.of(DhcpMessageType.Discover))],
      });
    const frames = [
      // The relayed Discover first binds the gateway's address to the
      // core router's MAC...
      relayed(),
      // ...whose Offer names it as the clients' router: the MAC holding it
      // is a router, and may well own it.
      onServerVlan(server, coreRouter, '10.100.0.10', '10.10.10.1', {
        op: 2,
        xid: 7,
        clientMac: client,
        yiaddr: '10.10.10.11',
        giaddr: '10.10.10.1',
        options: [
          dhcpOption(53, Uint8Array.of(DhcpMessageType.Offer)),
          dhcpOption(3, Uint8Array.of(10, 10, 10, 1)),
          dhcpOption(54, Uint8Array.of(10, 100, 0, 10)),
        ],
      }),
      // The gateway on the clients' VLAN claims it in ARP: it is its own.
      arpFrame({
        op: ArpOp.Request,
        src: gateway,
        vid: 10,
        senderIp: '10.10.10.1',
        targetMac: '00:00:00:00:00:00',
        targetIp: '10.10.10.11',
      }),
      relayed(),
    ];
    const { devices } = inventoryOfFrames(t.testdir({}), frames);
    const byKey = (id: string) => devices.find((device) => device.id === id);
    t.equal(byKey(`${coreRouter}@100`)?.router, true);
    t.same(byKey(`${coreRouter}@100`)?.ips, [], 'it only forwarded from it');
    t.same(byKey(`${gateway}@10`)?.ips, ['10.10.10.1']);
    t.equal(byKey(`${gateway}@10`)?.packets, 2, 'its ARP and the relay');
    t.equal(byKey('10.10.10.1'), undefined, 'no routed twin');
  },
);

t.test(
  'many MACs turning out to be routers cost bounded work, lose no count',
  async (t) => {
    const host = '02:00:00:00:40:01';
    const frames: Uint8Array[] = [];
    const udp = (src: string, srcIp: string, dstIp: string, port: number) =>
      udpFrame({
        src,
        dst: '02:00:00:00:40:02',
        srcIp,
        dstIp,
        srcPort: port,
        dstPort: 514,
      });
    // 20,000 flows held: each router found means a pass over all of them.
    for (let i = 0; i < 20_000; i++) {
      frames.push(udp(host, '10.40.0.1', '10.41.0.1', 1024 + i));
    }
    // 200 MACs, each with more source addresses than a host has.
    for (let mac = 0; mac < 200; mac++) {
      const src = `02:00:00:01:${(mac >> 8).toString(16)}:${(mac & 0xff).toString(16)}`;
      for (let i = 0; i <= ROUTER_MIN_SOURCE_IPS; i++) {
        frames.push(udp(src, `10.42.${mac}.${i + 1}`, '10.41.0.1', 5000));
      }
    }
    // All in one microsecond: the budget refills with packet time.
    const { inventory, devices } = inventoryOfFrames(t.testdir({}), frames, 0);
    const routers = devices.filter((device) => device.router);
    t.equal(routers.length, 200, 'every one found');
    const skipped = inventory.counters().routerRescansSkipped;
    // A second holds passes over 1,000,000 flows: 50 of these.
    t.ok(skipped >= 150, `${skipped} passes skipped`);
    const total = devices.reduce((sum, device) => sum + device.packets, 0);
    t.equal(total, frames.length, 'every frame counted once');
  },
);

t.test(
  'udp servers: the port a responder answers from, lower than the asker’s',
  async (t) => {
    const client = '02:00:00:00:10:01';
    const dnsServer = '02:00:00:00:10:53';
    const ntpServer = '02:00:00:00:11:23';
    const bacnet = '02:00:00:00:47:80';
    const radius = '02:00:00:00:18:12';
    const mediaGateway = '02:00:00:00:20:00';
    const dtlsServer = '02:00:00:00:44:33';
    const at = (src: string, dst: string) => ({ src, dst, vid: 10 });
    // An exchange from the client's `clientPort` to `port` at `server`.
    const exchange = (server: string, port: number, clientPort: number) => [
      udpFrame({
        ...at(client, server),
        srcIp: '10.10.0.1',
        dstIp: '10.10.0.2',
        srcPort: clientPort,
        dstPort: port,
      }),
      udpFrame({
        ...at(server, client),
        srcIp: '10.10.0.2',
        dstIp: '10.10.0.1',
        srcPort: port,
        dstPort: clientPort,
      }),
    ];
    const frames = [
      // Above the system ports, a port answering two flows serves...
      ...exchange(radius, 1812, 40_000),
      ...exchange(radius, 1812, 40_001),
      // ...or one flow from a client's dynamic port...
      ...exchange(dtlsServer, 4433, 50_000),
      // ...while media answers one call from each port.
      ...exchange(mediaGateway, 22_190, 24_000),
      ...exchange(mediaGateway, 22_872, 24_002),
      // A query and its answers: the server serves 53.
      udpFrame({
        ...at(client, dnsServer),
        srcIp: '10.10.0.1',
        dstIp: '10.10.0.53',
        srcPort: 40_000,
        dstPort: 53,
      }),
      ...Array.from({ length: 2 }, () =>
        udpFrame({
          ...at(dnsServer, client),
          srcIp: '10.10.0.53',
          dstIp: '10.10.0.1',
          srcPort: 53,
          dstPort: 40_000,
        }),
      ),
      // A flow first seen from its server: the client seems to answer,
      // from its ephemeral port, which is no service.
      udpFrame({
        ...at(ntpServer, client),
        srcIp: '10.10.0.123',
        dstIp: '10.10.0.1',
        srcPort: 123,
        dstPort: 41_000,
      }),
      udpFrame({
        ...at(client, ntpServer),
        srcIp: '10.10.0.1',
        dstIp: '10.10.0.123',
        srcPort: 41_000,
        dstPort: 123,
      }),
      // One port on both ends tells no server.
      udpFrame({
        ...at(client, bacnet),
        srcIp: '10.10.0.1',
        dstIp: '10.10.0.80',
        srcPort: 47_808,
        dstPort: 47_808,
      }),
      udpFrame({
        ...at(bacnet, client),
        srcIp: '10.10.0.80',
        dstIp: '10.10.0.1',
        srcPort: 47_808,
        dstPort: 47_808,
      }),
    ];
    const { devices } = inventoryOfFrames(t.testdir({}), frames);
    const portsOf = (mac: string) =>
      devices.find((device) => device.mac === mac)?.serverPorts;
    t.same(portsOf(dnsServer), [53], 'the DNS server');
    t.same(portsOf(client), [], 'the asker serves nothing');
    t.same(portsOf(ntpServer), [], 'its reply opened the flow as seen');
    t.same(portsOf(bacnet), [], 'equal ports');
    t.same(portsOf(radius), [1812], 'answered two flows');
    t.same(portsOf(dtlsServer), [4433], 'answered a dynamic port');
    t.same(portsOf(mediaGateway), [], 'one flow per port');
  },
);

t.test(
  'a router forgets the ports it answered on for hosts behind it',
  async (t) => {
    const router = '00:00:5e:00:01:0a';
    const client = '02:00:00:00:10:01';
    const toClient = (srcIp: string, srcPort: number, dstPort: number) =>
      udpFrame({
        src: router,
        dst: client,
        vid: 10,
        srcIp,
        dstIp: '10.10.0.1',
        srcPort,
        dstPort,
      });
    const fromClient = (dstIp: string, srcPort: number, dstPort: number) =>
      udpFrame({
        src: client,
        dst: router,
        vid: 10,
        srcIp: '10.10.0.1',
        dstIp,
        srcPort,
        dstPort,
      });
    const frames = [
      // The router claims its own address...
      arpFrame({
        op: ArpOp.Reply,
        src: router,
        vid: 10,
        senderIp: '10.10.0.254',
        targetMac: client,
        targetIp: '10.10.0.1',
      }),
      // ...forwards a remote DNS server's answer before it is known...
      fromClient('10.20.0.53', 40_000, 53),
      toClient('10.20.0.53', 53, 40_000),
      // ...and is shown to be a router by the hosts it forwards for.
      ...Array.from({ length: ROUTER_MIN_SOURCE_IPS + 1 }, (_, i) =>
        toClient(`10.30.0.${i + 1}`, 40_000, 514),
      ),
      // Its own NTP service, answered from its own address.
      fromClient('10.10.0.254', 42_000, 123),
      toClient('10.10.0.254', 123, 42_000),
      // The remote server's next answer is the routed host's.
      fromClient('10.20.0.53', 40_001, 53),
      toClient('10.20.0.53', 53, 40_001),
    ];
    const { devices } = inventoryOfFrames(t.testdir({}), frames);
    const byKey = (id: string) => devices.find((device) => device.id === id);
    t.equal(byKey(`${router}@10`)?.router, true);
    t.same(byKey(`${router}@10`)?.serverPorts, [123], 'only its own');
    t.same(byKey('10.20.0.53')?.serverPorts, [53], 'the routed server’s');
  },
);

t.test(
  'a gateway relaying DHCP from its own address is no routed host',
  async (t) => {
    const serverRouter = '00:00:5e:00:01:64';
    const wardRouter = '00:00:5e:00:01:0a';
    const dhcpServer = '02:00:00:00:64:10';
    const client = '02:00:00:00:10:21';
    const relayIp = '10.10.10.1';
    const dhcp = (op: number, type: number) =>
      dhcpMessage({
        op,
        xid: 7,
        clientMac: client,
        giaddr: relayIp,
        yiaddr: op === 2 ? '10.10.10.21' : undefined,
        options: [
          dhcpOption(53, Uint8Array.of(type)),
          ...(op === 2 ? [dhcpOption(3, parseIpv4(relayIp))] : []),
        ],
      });
    // The router's server-side interface, on the server's VLAN.
    const relayed = (type: number) =>
      udpFrame({
        src: serverRouter,
        dst: dhcpServer,
        vid: 100,
        srcIp: relayIp,
        dstIp: '10.10.100.10',
        srcPort: 67,
        dstPort: 67,
        payload: dhcp(1, type),
      });
    const answered = (type: number) =>
      udpFrame({
        src: dhcpServer,
        dst: serverRouter,
        vid: 100,
        srcIp: '10.10.100.10',
        dstIp: relayIp,
        srcPort: 67,
        dstPort: 67,
        payload: dhcp(2, type),
      });
    // Hosts it forwards for show it to be a router from the start.
    const forwarded = Array.from(
      { length: ROUTER_MIN_SOURCE_IPS + 1 },
      (_, i) =>
        udpFrame({
          src: serverRouter,
          dst: dhcpServer,
          vid: 100,
          srcIp: `10.10.20.${i + 1}`,
          dstIp: '10.10.100.10',
          srcPort: 40_000,
          dstPort: 514,
        }),
    );
    const toClient = udpFrame({
      src: wardRouter,
      dst: client,
      vid: 10,
      srcIp: relayIp,
      dstIp: '10.10.10.21',
      srcPort: 67,
      dstPort: 68,
      payload: dhcp(2, DhcpMessageType.Offer),
    });

    const keys = (devices: DeviceReport[]) => devices.map((d) => d.id).sort();
    const totalOf = (devices: DeviceReport[]) =>
      devices.reduce((sum, device) => sum + device.packets, 0);

    // Only the server's VLAN is mirrored: the relay is the router there.
    const serverSide = [
      ...forwarded,
      relayed(DhcpMessageType.Discover),
      answered(DhcpMessageType.Offer),
      relayed(DhcpMessageType.Request),
      answered(DhcpMessageType.Ack),
    ];
    const alone = inventoryOfFrames(t.testdir({}), serverSide).devices;
    t.notOk(keys(alone).includes(relayIp), 'no host entry for the gateway');
    t.equal(totalOf(alone), serverSide.length, 'every frame counted once');
    const packetsOf = (devices: DeviceReport[], id: string) =>
      devices.find((device) => device.id === id)?.packets ?? 0;
    // What it sent before it was known as a router stays its own.
    const asForwarder = inventoryOfFrames(t.testdir({}), forwarded).devices;
    t.equal(
      packetsOf(alone, `${serverRouter}@100`) -
        packetsOf(asForwarder, `${serverRouter}@100`),
      2,
      'both relayed requests are the router’s',
    );

    // The ward VLAN too: the address belongs to the ward-side interface.
    const bothSides = [
      ...forwarded,
      relayed(DhcpMessageType.Discover),
      answered(DhcpMessageType.Offer),
      toClient,
      relayed(DhcpMessageType.Request),
    ];
    const both = inventoryOfFrames(t.testdir({}), bothSides).devices;
    t.notOk(keys(both).includes(relayIp), 'no host entry for the gateway');
    t.equal(totalOf(both), bothSides.length, 'every frame counted once');
    const wardSide = both.find((device) => device.id === `${wardRouter}@10`);
    t.same(wardSide?.ips, [relayIp]);
    t.equal(wardSide?.packets, 3, 'its own offer and both relayed requests');
    t.equal(
      packetsOf(both, `${serverRouter}@100`),
      packetsOf(asForwarder, `${serverRouter}@100`),
      'the server-side interface keeps none of them',
    );
  },
);

t.test(
  'sip: a phone’s User-Agent, a registrar’s Server, no proxy credited',
  async (t) => {
    const phone = '02:00:00:00:21:01';
    const registrar = '02:00:00:00:50:60';
    const proxy = '02:00:00:00:50:61';
    const callee = '02:00:00:00:21:02';
    const sip = (src: string, dst: string, lines: string[]) =>
      udpFrame({
        src,
        dst,
        vid: 40,
        srcIp: `10.40.0.${parseInt(src.slice(-2), 16)}`,
        dstIp: `10.40.0.${parseInt(dst.slice(-2), 16)}`,
        srcPort: 5060,
        dstPort: 5060,
        payload: textBytes(`${lines.join('\r\n')}\r\n\r\n`),
      });
    const via = (host: string) => `Via: SIP/2.0/UDP ${host};branch=z9hG4bK1`;
    const frames = [
      sip(phone, registrar, [
        'REGISTER sip:10.40.0.96 SIP/2.0',
        via('10.40.0.1'),
        'CSeq: 1 REGISTER',
        'User-Agent: SYNTH-Phone/1.0',
      ]),
      sip(registrar, phone, [
        'SIP/2.0 200 OK',
        via('10.40.0.1'),
        'CSeq: 1 REGISTER',
        'Server: SYNTH-Registrar/2.0',
      ]),
      // The proxy passes the caller's INVITE on with the caller's agent...
      sip(proxy, callee, [
        'INVITE sip:2102@10.40.0.2 SIP/2.0',
        via('10.40.0.97'),
        via('10.40.0.1'),
        'CSeq: 5 INVITE',
        'User-Agent: SYNTH-Phone/1.0',
      ]),
      // ...and the callee's answer back, which names the callee.
      sip(proxy, phone, [
        'SIP/2.0 180 Ringing',
        via('10.40.0.1'),
        'CSeq: 5 INVITE',
        'User-Agent: SYNTH-Callee/3.0',
      ]),
      sip(callee, proxy, [
        'OPTIONS sip:10.40.0.97 SIP/2.0',
        via('10.40.0.2'),
        'CSeq: 9 OPTIONS',
        'User-Agent: SYNTH-Callee/3.0',
      ]),
    ];
    const { devices, inventory } = inventoryOfFrames(t.testdir({}), frames);
    const agentsOf = (mac: string) =>
      devices.find((device) => device.mac === mac)?.sip.userAgents;
    t.same(agentsOf(phone), ['SYNTH-Phone/1.0']);
    t.same(agentsOf(registrar), ['SYNTH-Registrar/2.0']);
    t.same(agentsOf(proxy), [], 'forwarded and answered for others');
    t.same(agentsOf(callee), ['SYNTH-Callee/3.0']);
    const rolesOf = (mac: string) =>
      devices.find((device) => device.mac === mac)?.sip.roles;
    t.same(rolesOf(phone), ['user_agent'], 'it sent a REGISTER');
    t.same(rolesOf(registrar), ['registrar']);
    t.same(rolesOf(proxy), [], 'a relayed INVITE and 180 name no role');
    t.same(rolesOf(callee), [], 'an OPTIONS names no role');
    t.equal(inventory.counters().extractorHits.sip, 3);
  },
);

t.test(
  'sip: baresip phones and a Kamailio proxy, each named for itself',
  async (t) => {
    // Real traffic (scripts/make-sip-fixture.sh), phone 1 over UDP and
    // phone 2 over TCP: Kamailio relays phone 1's INVITE with phone 1's
    // User-Agent and both Vias, and phone 2's 180 and 487 with one Via
    // left; none of it may name Kamailio.
    const path = fileURLToPath(
      new URL(
        '../fixtures/public/generated-sip/sip-baresip-kamailio.pcap',
        import.meta.url,
      ),
    );
    const { devices } = inventoryOf(path);
    const agentsOf = (ip: string) =>
      devices.find((device) => device.ips.includes(ip))?.sip.userAgents;
    const baresip = ['baresip v1.0.0 (x86_64/linux)'];
    t.same(agentsOf('10.77.0.11'), baresip, 'the caller');
    t.same(agentsOf('10.77.0.12'), baresip, 'the callee, by TCP');
    t.same(agentsOf('10.77.0.1'), ['kamailio (5.6.3 (x86_64/linux))']);

    // Kamailio sends CANCEL and ACK of its own: they make it no agent.
    const rolesOf = (ip: string) =>
      devices.find((device) => device.ips.includes(ip))?.sip.roles;
    t.same(rolesOf('10.77.0.1'), ['registrar']);
    t.same(rolesOf('10.77.0.11'), ['user_agent']);
    t.same(rolesOf('10.77.0.12'), ['user_agent']);
  },
);
