import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  ArpOp,
  arpPacket,
  EtherType,
  ethernetFrame,
  icmpv6NeighbourAdvertisement,
  ipv6Packet,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { compileCatalog } from '../../src/inventory/catalog.js';
import {
  DEVICE_LIMITS,
  type Device,
  type DeviceReport,
} from '../../src/inventory/device.js';
import { Inventory } from '../../src/inventory/inventory.js';
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
