import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  concatBytes,
  lldpPdu,
  parseIpv4,
  parseMac,
  put16,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import {
  LldpCapability,
  lldpCapabilityNames,
  MAX_LLDP_TLVS,
  parseLldp,
} from '../../src/fingerprint/lldp.js';
import { checkRobustness } from './robustness.js';

function tlv(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + value.length);
  put16(out, 0, (type << 9) | value.length);
  out.set(value, 2);
  return out;
}

const org = (oui: number[], subtype: number, value: Uint8Array) =>
  tlv(127, concatBytes(Uint8Array.of(...oui, subtype), value));
const tia = (subtype: number, text: string) =>
  org([0x00, 0x12, 0xbb], subtype, textBytes(text));
const END = tlv(0, new Uint8Array(0));

const switchPdu = lldpPdu({
  chassisMac: '00:00:5e:00:53:01',
  portName: 'Gi1/0/7',
  ttlSec: 120,
  portDescription: 'ICU bed 7',
  systemName: 'SYNTH-SW-ICU-01',
  systemDescription: 'Synthetic switch OS 1.0\nbuilt for tests',
  capabilities: {
    available: LldpCapability.Bridge | LldpCapability.Router,
    enabled: LldpCapability.Bridge,
  },
  managementIpv4: '192.0.2.2',
});

const monitorPdu = concatBytes(
  tlv(1, concatBytes(Uint8Array.of(5, 1), parseIpv4('192.0.2.9'))),
  tlv(2, concatBytes(Uint8Array.of(3), parseMac('00:00:5e:00:53:21'))),
  tlv(3, Uint8Array.of(0, 120)),
  org([0x00, 0x80, 0xc2], 1, Uint8Array.of(0, 20)),
  org([0x00, 0x12, 0xbb], 1, Uint8Array.of(0x00, 0x33, 3)),
  tia(5, 'HW-1.2'),
  tia(6, 'FW-9.1'),
  tia(7, 'SW-9.1.4'),
  tia(8, 'SN-0001'),
  tia(9, 'SYNTH-MEDICAL'),
  tia(10, 'SYNTH-MONITOR-9'),
  tia(11, 'ASSET-42'),
  org([0x00, 0x00, 0x5e], 1, textBytes('https://mud.example.com/m9.json')),
  END,
);

t.test('lldp: switch golden (basic TLVs)', async (t) => {
  t.same(parseLldp(switchPdu, 0, switchPdu.length), {
    chassisIdSubtype: 4,
    chassisId: '00:00:5e:00:53:01',
    portIdSubtype: 5,
    portId: 'Gi1/0/7',
    ttlSec: 120,
    portDescription: 'ICU bed 7',
    systemName: 'SYNTH-SW-ICU-01',
    systemDescription: 'Synthetic switch OS 1.0\nbuilt for tests',
    capabilitiesSupported: 0x14,
    capabilitiesEnabled: 0x04,
    managementAddresses: ['192.0.2.2'],
    portVlanId: -1,
    mudUrl: '',
    med: {
      deviceClass: -1,
      hardwareRevision: '',
      firmwareRevision: '',
      softwareRevision: '',
      serialNumber: '',
      manufacturer: '',
      modelName: '',
      assetId: '',
    },
  });
});

t.test('lldp: endpoint golden: MED inventory, MUD URL, PVID', async (t) => {
  const info = parseLldp(monitorPdu, 0, monitorPdu.length);
  t.equal(info?.chassisIdSubtype, 5);
  t.equal(info?.chassisId, '192.0.2.9', 'network address subtype');
  t.equal(info?.portIdSubtype, 3);
  t.equal(info?.portId, '00:00:5e:00:53:21', 'MAC subtype');
  t.equal(info?.portVlanId, 20);
  t.equal(info?.mudUrl, 'https://mud.example.com/m9.json');
  t.same(info?.med, {
    deviceClass: 3,
    hardwareRevision: 'HW-1.2',
    firmwareRevision: 'FW-9.1',
    softwareRevision: 'SW-9.1.4',
    serialNumber: 'SN-0001',
    manufacturer: 'SYNTH-MEDICAL',
    modelName: 'SYNTH-MONITOR-9',
    assetId: 'ASSET-42',
  });
});

t.test('lldp: odd id forms', async (t) => {
  const pdu = concatBytes(
    tlv(1, Uint8Array.of(4, 1, 2, 3)),
    tlv(2, Uint8Array.of(6, 0xde, 0xad)),
    tlv(8, Uint8Array.of(3, 6, 0xab, 0xcd)),
    END,
  );
  const info = parseLldp(pdu, 0, pdu.length);
  t.equal(info?.chassisId, '010203', 'a MAC of the wrong length is hex');
  t.equal(info?.portId, 'dead', 'agent circuit id is hex');
  t.same(info?.managementAddresses, ['06abcd'], 'unknown family is hex');
});

t.test(
  'lldp: the real MUD URL capture (tcpdump lldp_mudurl.pcap)',
  async (t) => {
    const path = fileURLToPath(
      new URL('../fixtures/public/tcpdump/lldp_mudurl.pcap', import.meta.url),
    );
    const found: unknown[] = [];
    readCaptureFile(path, {
      onFrame(buf, off, capturedBytes) {
        found.push(parseLldp(buf, off + 14, off + capturedBytes));
      },
    });
    t.equal(found.length, 2);
    t.match(found[0], {
      chassisId: '00:23:54:c2:57:02',
      portIdSubtype: 3,
      portId: '00:23:54:c2:57:02',
      ttlSec: 120,
      systemName: 'upstairs.ofcourseimright.com',
      portDescription: 'eth0',
      capabilitiesSupported: 0x9c,
      capabilitiesEnabled: 0x08,
      managementAddresses: [
        '62.12.173.114',
        '2001:8a8:1006:4:223:54ff:fec2:5702',
      ],
      mudUrl: 'https://imright.mud.example.com/.well-known/mud/v1/vomitv2.0',
    });
  },
);

t.test('lldp: capability bits -> names, bit order', async (t) => {
  const info = parseLldp(switchPdu, 0, switchPdu.length);
  t.same(lldpCapabilityNames(info?.capabilitiesEnabled ?? -1), ['bridge']);
  t.same(lldpCapabilityNames(info?.capabilitiesSupported ?? -1), [
    'bridge',
    'router',
  ]);
  t.same(
    lldpCapabilityNames(LldpCapability.Telephone | LldpCapability.Bridge),
    ['bridge', 'telephone'],
  );
  t.same(lldpCapabilityNames(0x7ff), [
    'other',
    'repeater',
    'bridge',
    'wlan_access_point',
    'router',
    'telephone',
    'docsis_cable_device',
    'station_only',
    'c_vlan',
    's_vlan',
    'two_port_mac_relay',
  ]);
  t.same(lldpCapabilityNames(0), [], 'none enabled');
  t.same(lldpCapabilityNames(-1), [], 'no capabilities TLV');
  t.same(lldpCapabilityNames(0xf800), [], 'reserved bits have no name');

  // The real capture: an access point that can also bridge and route.
  const path = fileURLToPath(
    new URL('../fixtures/public/tcpdump/lldp_mudurl.pcap', import.meta.url),
  );
  const found: Array<ReturnType<typeof parseLldp>> = [];
  readCaptureFile(path, {
    onFrame(buf, off, capturedBytes) {
      found.push(parseLldp(buf, off + 14, off + capturedBytes));
    },
  });
  t.same(lldpCapabilityNames(found[0]?.capabilitiesEnabled ?? -1), [
    'wlan_access_point',
  ]);
  t.same(lldpCapabilityNames(found[0]?.capabilitiesSupported ?? -1), [
    'bridge',
    'wlan_access_point',
    'router',
    'station_only',
  ]);
});

t.test(
  'lldp: the walk stops at End, at a cut TLV and after the cap',
  async (t) => {
    const afterEnd = concatBytes(END, tlv(5, textBytes('ghost')));
    t.equal(parseLldp(afterEnd, 0, afterEnd.length)?.systemName, '');
    const cut = concatBytes(
      tlv(5, textBytes('name')),
      Uint8Array.of(0x0c, 0x40),
    );
    t.equal(parseLldp(cut, 0, cut.length)?.systemName, 'name');
    const many = concatBytes(
      ...Array.from({ length: MAX_LLDP_TLVS }, () =>
        tlv(126, new Uint8Array(0)),
      ),
      tlv(5, textBytes('late')),
    );
    t.equal(
      parseLldp(many, 0, many.length)?.systemName,
      '',
      'TLV 129 not read',
    );
    t.equal(parseLldp(Uint8Array.of(2), 0, 1), null, 'under 2 bytes');
  },
);

t.test('lldp: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(t, parseLldp, [switchPdu, monitorPdu], 0x11d9);
});
