import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  concatBytes,
  parseIpv4,
  parseIpv6,
  put16,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import {
  CdpCapability,
  cdpCapabilityNames,
  MAX_CDP_ADDRESSES,
  parseCdp,
} from '../../src/fingerprint/cdp.js';
import { checkRobustness } from './robustness.js';

function tlv(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  put16(out, 0, type);
  put16(out, 2, out.length);
  out.set(value, 4);
  return out;
}

const LLC_SNAP = Uint8Array.of(0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00);
const IPV4_ENTRY = (ip: string) =>
  concatBytes(Uint8Array.of(1, 1, 0xcc, 0, 4), parseIpv4(ip));
const IPV6_ENTRY = (ip: string) =>
  concatBytes(
    Uint8Array.of(2, 8, 0xaa, 0xaa, 3, 0, 0, 0, 0x86, 0xdd, 0, 16),
    parseIpv6(ip),
  );

const phone = concatBytes(
  LLC_SNAP,
  Uint8Array.of(2, 180, 0x12, 0x34),
  tlv(1, textBytes('SEP00005E005321')),
  tlv(
    2,
    concatBytes(
      Uint8Array.of(0, 0, 0, 2),
      IPV4_ENTRY('192.0.2.21'),
      IPV6_ENTRY('2001:db8::21'),
    ),
  ),
  tlv(3, textBytes('Port 1')),
  tlv(4, Uint8Array.of(0, 0, 0x04, 0x90)),
  tlv(5, textBytes('SIP75.8-5-3S\nbuilt for tests')),
  tlv(6, textBytes('Synthetic IP Phone 7975')),
  tlv(0x0a, Uint8Array.of(0, 30)),
  tlv(0x14, textBytes('synth-phone-21')),
  tlv(0x16, concatBytes(Uint8Array.of(0, 0, 0, 1), IPV4_ENTRY('192.0.2.22'))),
);

t.test('cdp: phone golden', async (t) => {
  t.same(parseCdp(phone, 0, phone.length), {
    version: 2,
    ttlSec: 180,
    deviceId: 'SEP00005E005321',
    platform: 'Synthetic IP Phone 7975',
    softwareVersion: 'SIP75.8-5-3S\nbuilt for tests',
    portId: 'Port 1',
    capabilities:
      CdpCapability.Host |
      CdpCapability.VoipPhone |
      CdpCapability.TwoPortMacRelay,
    addresses: ['192.0.2.21', '2001:db8::21'],
    managementAddresses: ['192.0.2.22'],
    nativeVlan: 30,
    systemName: 'synth-phone-21',
  });
});

t.test('cdp: the real switch capture (tcpdump 3560_CDP.pcap)', async (t) => {
  const path = fileURLToPath(
    new URL('../fixtures/public/tcpdump/3560_CDP.pcap', import.meta.url),
  );
  const found: unknown[] = [];
  readCaptureFile(path, {
    onFrame(buf, off, capturedBytes) {
      found.push(parseCdp(buf, off + 14, off + capturedBytes));
    },
  });
  t.equal(found.length, 3);
  t.match(found[0], {
    version: 2,
    deviceId: 'Switch',
    platform: 'cisco WS-C3560G-24PS',
    portId: 'GigabitEthernet0/5',
    capabilities: CdpCapability.Switch | CdpCapability.IgmpCapable,
    addresses: ['192.168.0.1'],
    nativeVlan: 1,
    softwareVersion: /^Cisco IOS Software, C3560 Software .*\nCopyright/,
  });
});

t.test('cdp: capability bits -> names, bit order', async (t) => {
  const info = parseCdp(phone, 0, phone.length);
  t.same(cdpCapabilityNames(info?.capabilities ?? -1), [
    'host',
    'phone',
    'two_port_mac_relay',
  ]);
  t.same(cdpCapabilityNames(0x7ff), [
    'router',
    'transparent_bridge',
    'source_route_bridge',
    'switch',
    'host',
    'igmp',
    'repeater',
    'phone',
    'remotely_managed',
    'cvta_phone_port',
    'two_port_mac_relay',
  ]);
  t.same(cdpCapabilityNames(0), [], 'none');
  t.same(cdpCapabilityNames(-1), [], 'no capabilities TLV');
  t.same(cdpCapabilityNames(0xfffff800), [], 'unnamed high bits');

  // The real Catalyst 3560: a layer 2 switch with IGMP snooping.
  const path = fileURLToPath(
    new URL('../fixtures/public/tcpdump/3560_CDP.pcap', import.meta.url),
  );
  const names: string[][] = [];
  readCaptureFile(path, {
    onFrame(buf, off, capturedBytes) {
      const cdp = parseCdp(buf, off + 14, off + capturedBytes);
      names.push(cdpCapabilityNames(cdp?.capabilities ?? -1));
    },
  });
  t.same(names[0], ['switch', 'igmp']);
});

t.test(
  'cdp: unknown address protocols are hex; counts are capped',
  async (t) => {
    const entries = Array.from({ length: 12 }, () =>
      Uint8Array.of(1, 1, 0x81, 0, 2, 0xab, 0xcd),
    );
    const pdu = concatBytes(
      LLC_SNAP,
      Uint8Array.of(1, 180, 0, 0),
      tlv(2, concatBytes(Uint8Array.of(0xff, 0xff, 0xff, 0xff), ...entries)),
    );
    const info = parseCdp(pdu, 0, pdu.length);
    t.equal(info?.addresses.length, MAX_CDP_ADDRESSES);
    t.equal(info?.addresses[0], 'abcd');
  },
);

t.test('cdp: TLV lengths under 4 or past the end stop the walk', async (t) => {
  const short = concatBytes(
    LLC_SNAP,
    Uint8Array.of(2, 180, 0, 0),
    tlv(1, textBytes('first')),
    Uint8Array.of(0, 6, 0, 2),
    tlv(1, textBytes('never')),
  );
  t.equal(parseCdp(short, 0, short.length)?.deviceId, 'first');
  const long = concatBytes(
    LLC_SNAP,
    Uint8Array.of(2, 180, 0, 0, 0, 1, 0, 99, 0x41),
  );
  t.equal(parseCdp(long, 0, long.length)?.deviceId, '');
});

t.test('cdp: not CDP -> null', async (t) => {
  t.equal(parseCdp(phone, 0, 11), null, 'no CDP header');
  const stp = Uint8Array.from(phone);
  stp.set([0x42, 0x42, 0x03], 0);
  t.equal(parseCdp(stp, 0, stp.length), null, 'STP LLC');
  const otherPid = Uint8Array.from(phone);
  otherPid[7] = 0x04;
  t.equal(parseCdp(otherPid, 0, otherPid.length), null, 'PID 0x2004 (DTP)');
  const otherOui = Uint8Array.from(phone);
  otherOui[5] = 0x0d;
  t.equal(parseCdp(otherOui, 0, otherOui.length), null, 'other OUI');
});

t.test('cdp: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(t, parseCdp, [phone], 0xcd9);
});
