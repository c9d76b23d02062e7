/**
 * The ward capture generator, on a two-minute version: a valid pcap whose
 * devices and protocols are the ones the generator configured, as the
 * sensor's own pipeline and inventory see them.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import {
  generateWardCapture,
  type WardRole,
} from '../../scripts/bench/generate-ward-capture.js';
import { CaptureFileReader } from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import type { DeviceReport } from '../../src/inventory/device.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';

const DURATION_SEC = 120;
const SEED = 7;

/** Counts the generator is configured with (its rate table). */
const EXPECTED_ROLES: Partial<Record<WardRole, number>> = {
  'philips-monitor': 24,
  'ge-monitor': 16,
  'central-station': 2,
  'infusion-pump': 60,
  imaging: 2,
  workstation: 20,
  printer: 4,
  phone: 12,
  server: 8,
};

/** Categories the classifier must give each device class. */
const ROLE_CATEGORY: Partial<Record<WardRole, string>> = {
  'philips-monitor': 'patient_monitor',
  'ge-monitor': 'patient_monitor',
  'infusion-pump': 'infusion_pump',
  imaging: 'imaging_modality',
  printer: 'printer',
  phone: 'voip_phone',
};

t.test('a two-minute ward capture holds the configured ward', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-ward-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ward-2m.pcap');
  const stats = generateWardCapture({
    path,
    durationSec: DURATION_SEC,
    seed: SEED,
  });

  const roles: Record<string, number> = {};
  for (const host of stats.hosts)
    roles[host.role] = (roles[host.role] ?? 0) + 1;
  t.same(roles, EXPECTED_ROLES, 'device classes as configured');

  // A valid pcap: our reader takes every frame, and the pipeline decodes
  // them all in time order within the two minutes.
  const inventory = new Inventory();
  const pipeline = new PacketPipeline({ inventory });
  const reader = CaptureFileReader.open(path);
  try {
    t.equal(reader.format, 'pcap');
    t.equal(reader.linkType, LinkType.Ethernet);
    while (reader.readBatch(pipeline, 65_536) > 0);
    t.equal(reader.framesDelivered, stats.frames, 'every frame read');
  } finally {
    reader.close();
    pipeline.flows.flush();
  }
  t.equal(pipeline.frames, stats.frames);
  t.equal(pipeline.wireBytes, stats.wireBytes);
  const spanSec = (pipeline.lastTimeUs - pipeline.firstTimeUs) / 1e6;
  t.ok(spanSec > DURATION_SEC - 5 && spanSec < DURATION_SEC, `${spanSec} s`);

  for (const activity of [
    'dhcp-arp',
    'lldp',
    'monitor-waves',
    'intellivue-connect',
    'carescape-time-sync',
    'hl7-oru',
    'pump-tls',
    'dicom',
    'https',
    'hl7-query',
    'sip',
    'icmp',
  ]) {
    t.ok(stats.framesByActivity[activity] > 0, `${activity} frames`);
  }

  const byId = new Map<string, DeviceReport>(
    inventory.report().map((device) => [device.id, device]),
  );
  const devices = stats.hosts.filter((host) => host.role !== 'server');
  const found = devices.map((host) => {
    const device = byId.get(`${host.mac}@${host.vlan}`);
    return { host, device };
  });
  t.same(
    found.filter(({ device }) => device === undefined).map((f) => f.host.name),
    [],
    'every configured device is in the inventory under its MAC and VLAN',
  );
  for (const { host, device } of found) {
    if (device === undefined) continue;
    const wrong: string[] = [];
    if (!device.ips.includes(host.ip)) wrong.push(`ips ${device.ips}`);
    if (device.dhcp.vendorClass !== host.dhcpVendorClass) {
      wrong.push(`dhcp vendor class ${device.dhcp.vendorClass}`);
    }
    const category = ROLE_CATEGORY[host.role];
    if (category !== undefined && device.category !== category) {
      wrong.push(`category ${device.category}`);
    }
    if (
      host.role === 'philips-monitor' &&
      !device.medicalHints.some((hint) => hint.includes('IntelliVue'))
    ) {
      wrong.push('no IntelliVue hint');
    }
    if (
      host.role === 'infusion-pump' &&
      !device.tls.sni.includes('pumps.hospital.example')
    ) {
      wrong.push(`sni ${device.tls.sni}`);
    }
    if (host.role === 'phone' && device.model !== 'VVX_411') {
      wrong.push(`model ${device.model}, sip ${device.sip.userAgents}`);
    }
    if (host.role === 'imaging' && device.dicom.length === 0) {
      wrong.push('no DICOM identity');
    }
    if (
      host.role === 'central-station' &&
      !device.hl7.some((app) => app.messageTypes.includes('ORU^R01'))
    ) {
      wrong.push('no HL7 ORU^R01');
    }
    t.same(wrong, [], host.name);
  }
  const geCentral = found.find((f) => f.host.name === 'SYNTH-GE-CENTRAL');
  t.ok(
    geCentral?.device?.medicalHints.includes(
      'GE HealthCare CARESCAPE Network central station (unit ICU2, room CS1)',
    ),
    'the GE central station is seen by its time sync broadcast, located',
  );

  const callManager = inventory
    .report()
    .find((device) => device.ips.includes('10.10.100.80'));
  t.match(
    callManager,
    { category: 'network_infrastructure', model: 'Asterisk' },
    'the call manager is named by the Server of its REGISTER answers',
  );

  // Same seed, same bytes.
  const again = join(dir, 'again.pcap');
  generateWardCapture({ path: again, durationSec: DURATION_SEC, seed: SEED });
  const sha1 = (p: string) =>
    createHash('sha1').update(readFileSync(p)).digest('hex');
  t.equal(sha1(again), sha1(path), 'deterministic');
});
