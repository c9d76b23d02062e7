/**
 * Medical vendor hints: Philips IntelliVue, GE CARESCAPE and POCT1-A
 * golden cases built from the public message layouts, look-alikes that must
 * not match, truncation and random mutation.
 */
import t from 'tap';

import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import {
  detectMedicalHint,
  isIntellivueDataExport,
  parseCarescapeLocation,
  parseIntellivueConnectIndication,
  parsePoct1aHello,
  type MedicalHint,
} from '../../src/fingerprint/medical-hints.js';
import {
  EtherType,
  ethernetFrame,
  IpProto,
  ipv4Packet,
  SeededRng,
  tcpSegment,
  textBytes,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';

const MONITOR = '10.20.0.15';
const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

function udpFrame(
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  dst = '10.20.0.255',
  dstMac = BROADCAST_MAC,
): Uint8Array {
  return ethernetFrame(
    { dst: dstMac, src: '00:00:5e:00:53:10', etherType: EtherType.Ipv4 },
    ipv4Packet(
      { src: MONITOR, dst, protocol: IpProto.Udp },
      udpDatagram({ srcPort, dstPort }, payload),
    ),
  );
}

function tcpFrame(payload: Uint8Array): Uint8Array {
  return ethernetFrame(
    {
      dst: '00:00:5e:00:53:20',
      src: '00:00:5e:00:53:10',
      etherType: EtherType.Ipv4,
    },
    ipv4Packet(
      { src: MONITOR, dst: '10.20.0.2', protocol: IpProto.Tcp },
      tcpSegment(
        {
          srcPort: 40001,
          dstPort: 6000,
          flags: TcpFlag.Ack | TcpFlag.Psh,
          seq: 1,
          ack: 1,
        },
        payload,
      ),
    ),
  );
}

function hintOf(frame: Uint8Array, capturedBytes = frame.length) {
  const pkt = new DecodedPacket();
  decodeFrame(frame, 0, capturedBytes, frame.length, LinkType.Ethernet, pkt);
  return detectMedicalHint(frame.subarray(0, capturedBytes), pkt);
}

const u16 = (v: number): number[] => [(v >> 8) & 255, v & 255];
const u32 = (v: number): number[] => [...u16(v >>> 16), ...u16(v & 0xffff)];

/**
 * A connect indication as the Philips Data Export Programming Guide lays
 * it out: nomenclature, ROapdus, ROIVapdu, EventReportArgument, attributes.
 */
function connectIndication(dataPort = 24105): Uint8Array {
  const entries = [
    [1, 1, 24105, 0],
    [5, 1, dataPort, 0],
  ].flatMap(([proto, transport, port, options]) => [
    ...u16(proto),
    ...u16(transport),
    ...u16(port),
    ...u16(options),
  ]);
  const protoSupport = [...u16(2), ...u16(entries.length), ...entries];
  const systemType = [0, 1, 0x10, 0x0c];
  const attributes = [
    ...u16(0x0986),
    ...u16(systemType.length),
    ...systemType,
    ...u16(0xf101),
    ...u16(protoSupport.length),
    ...protoSupport,
  ];
  const attributeList = [...u16(2), ...u16(attributes.length), ...attributes];
  const eventArgument = [
    ...u16(0x0021),
    ...u16(0),
    ...u16(0),
    ...u32(0),
    ...u16(0x0d16),
    ...u16(attributeList.length),
    ...attributeList,
  ];
  const roiv = [
    ...u16(0),
    ...u16(0),
    ...u16(eventArgument.length),
    ...eventArgument,
  ];
  const ro = [...u16(1), ...u16(roiv.length), ...roiv];
  return Uint8Array.from([0, 1, 0, 0, ...ro]);
}

function dataExport(roType = 2, extra = 12): Uint8Array {
  return Uint8Array.from([
    0xe1,
    0x00,
    0x00,
    0x02,
    ...u16(roType),
    ...u16(extra),
    ...new Array<number>(extra).fill(0),
  ]);
}

/** CARESCAPE time message: sender IP at 6, location at 24, time at 60. */
function carescapeTime(location: string, ip = MONITOR): Uint8Array {
  const out = new Uint8Array(64);
  out.set(ip.split('.').map(Number), 6);
  out.set(textBytes(location), 24);
  out.set(u32(3_918_700_000), 60);
  return out;
}

const HELLO = `<?xml version="1.0" encoding="UTF-8"?>
<HEL.R01>
  <HDR>
    <HDR.message_type V="HEL.R01"/>
    <HDR.control_id V="10001"/>
    <HDR.version_id V="POCT1"/>
  </HDR>
  <DEV>
    <DEV.device_id V="SYNTH-SN-0042"/>
    <DEV.vendor_id V="SYNTHVENDOR"/>
    <DEV.model_id V = 'GLUCO-1'/>
    <DEV.manufacturer_name V="Synthetic Devices"/>
  </DEV>
</HEL.R01>`;

t.test('Philips IntelliVue connect indication', async (t) => {
  const payload = connectIndication(24106);
  t.equal(parseIntellivueConnectIndication(payload, 0, payload.length), 24106);
  const hint = hintOf(udpFrame(24005, 24005, payload));
  t.same(hint, {
    vendor: 'Philips',
    product: 'IntelliVue patient monitor',
    evidence: 'intellivue_connect_indication',
    confidence: 0.9,
    deviceIs: 'sender',
    dataExportPort: 24106,
  } satisfies MedicalHint);
  const wrongEvent = Uint8Array.from(payload);
  wrongEvent[25] = 0x17;
  t.equal(hintOf(udpFrame(24005, 24005, wrongEvent)), null, 'other event');
  const wrongLength = Uint8Array.from(payload);
  wrongLength[7]++;
  t.equal(hintOf(udpFrame(24005, 24005, wrongLength)), null, 'bad length');
  t.equal(hintOf(udpFrame(24005, 24006, payload)), null, 'other port');
});

t.test('Philips IntelliVue data export', async (t) => {
  const reply = hintOf(
    udpFrame(24105, 50000, dataExport(), '10.20.0.2', '00:00:5e:00:53:20'),
  );
  t.equal(reply?.evidence, 'intellivue_data_export');
  t.equal(reply?.deviceIs, 'sender');
  const request = hintOf(
    udpFrame(50000, 24105, dataExport(1), '10.20.0.2', '00:00:5e:00:53:20'),
  );
  t.equal(request?.deviceIs, 'receiver', 'a client polling the monitor');
  t.notOk(isIntellivueDataExport(dataExport(4), 0, 16), 'ro_type 4 undefined');
  const bad = dataExport();
  bad[0] = 0xe2;
  t.equal(hintOf(udpFrame(24105, 50000, bad)), null);
  t.equal(
    hintOf(udpFrame(24105, 50000, dataExport(2, 13).subarray(0, 20))),
    null,
  );
});

t.test('GE CARESCAPE time sync and discovery', async (t) => {
  const hint = hintOf(udpFrame(2000, 2000, carescapeTime('ICU3|B12')));
  t.same(hint, {
    vendor: 'GE HealthCare',
    product: 'CARESCAPE Network central station',
    evidence: 'carescape_time_sync',
    confidence: 0.8,
    deviceIs: 'sender',
    careUnit: 'ICU3',
    room: 'B12',
  } satisfies MedicalHint);
  const otherIp = hintOf(
    udpFrame(2000, 2000, carescapeTime('CCU|', '10.9.9.9')),
  );
  t.equal(otherIp?.confidence, 0.6, 'address field is not the sender');
  t.equal(otherIp?.room, '');
  t.same(parseCarescapeLocation(textBytes('WARD-7A|ROOM01\0'), 0), {
    unit: 'WARD-7A',
    room: 'ROOM01',
  });
  const lookAlikes = [
    'NOPIPE',
    'UNIT-TOO-LONG|1',
    '|ROOM',
    'ICU|ROOM-TOO-LONG',
    'ICU|B1\0junk',
  ];
  for (const text of lookAlikes) {
    const name = JSON.stringify(text).replace(/\\u0000/g, '<NUL>');
    t.equal(hintOf(udpFrame(2000, 2000, carescapeTime(text))), null, name);
  }
  const short = carescapeTime('ICU|1').subarray(0, 63);
  t.equal(hintOf(udpFrame(2000, 2000, short)), null, '63 bytes');

  const discovery = hintOf(udpFrame(7000, 7000, Uint8Array.of(1, 2, 3, 4)));
  t.equal(discovery?.evidence, 'carescape_discovery_port');
  t.ok((discovery?.confidence ?? 1) < 0.5, 'port-only evidence is weak');
  const unicast = udpFrame(
    7000,
    7000,
    Uint8Array.of(1),
    '10.20.0.2',
    '00:00:5e:00:53:20',
  );
  t.equal(hintOf(unicast), null, 'unicast to 7000 is not the heartbeat');
});

t.test('POCT1-A hello', async (t) => {
  const hint = hintOf(tcpFrame(textBytes(HELLO)));
  t.same(hint, {
    vendor: 'SYNTHVENDOR',
    product: 'GLUCO-1',
    evidence: 'poct1a_hello',
    confidence: 0.9,
    deviceIs: 'sender',
    deviceId: 'SYNTH-SN-0042',
    vendorId: 'SYNTHVENDOR',
    modelId: 'GLUCO-1',
  } satisfies MedicalHint);
  const viaUdp = hintOf(udpFrame(5000, 5000, textBytes(HELLO)));
  t.equal(viaUdp?.evidence, 'poct1a_hello');
  const observation =
    '<OBS.R01><PT><PT.patient_id V="SYNTH-PATIENT"/></PT></OBS.R01>';
  t.equal(hintOf(tcpFrame(textBytes(observation))), null, 'not a hello');
  t.equal(parsePoct1aHello(textBytes('<HEL.R01></HEL.R01>'), 0, 19), null);
  const late = `${' '.repeat(300)}${HELLO}`;
  t.equal(
    parsePoct1aHello(textBytes(late), 0, late.length),
    null,
    'root too far',
  );
  const longId = HELLO.replace('SYNTH-SN-0042', 'X'.repeat(100));
  t.equal(parsePoct1aHello(textBytes(longId), 0, longId.length)?.deviceId, '');
});

t.test('ordinary traffic: no hint', async (t) => {
  const frames = [
    udpFrame(53000, 53, textBytes('not dns but close enough')),
    udpFrame(2000, 2000, new Uint8Array(64)),
    udpFrame(24005, 24005, new Uint8Array(40)),
    tcpFrame(textBytes('<html><body>hello</body></html>')),
    tcpFrame(textBytes('GET / HTTP/1.1\r\n\r\n')),
  ];
  for (const frame of frames) t.equal(hintOf(frame), null);
});

t.test('every prefix: never throws', async (t) => {
  const frames = [
    udpFrame(24005, 24005, connectIndication()),
    udpFrame(2000, 2000, carescapeTime('ICU|1')),
    tcpFrame(textBytes(HELLO)),
  ];
  let hints = 0;
  for (const frame of frames) {
    for (let cut = 0; cut <= frame.length; cut++) {
      if (hintOf(frame, cut) !== null) hints++;
    }
  }
  t.ok(hints > 0, `${hints} prefixes gave a hint`);
});

t.test('seeded random mutations: never throws, bounded', async (t) => {
  const rng = new SeededRng(0x11073);
  const seeds = [
    udpFrame(24005, 24005, connectIndication()),
    udpFrame(24105, 1000, dataExport()),
    udpFrame(2000, 2000, carescapeTime('ICU3|B12')),
    tcpFrame(textBytes(HELLO)),
  ];
  let hints = 0;
  let tooLong = 0;
  for (let round = 0; round < 20000; round++) {
    const frame = Uint8Array.from(rng.pick(seeds));
    const flips = rng.nextRange(1, 4);
    for (let i = 0; i < flips; i++) {
      // Mutate past the headers mostly, so payload checks get exercised.
      const at = rng.chance(0.8)
        ? rng.nextRange(42, frame.length - 1)
        : rng.nextInt(frame.length);
      frame[at] = rng.nextInt(256);
    }
    const hint = hintOf(
      frame,
      rng.chance(0.2) ? rng.nextInt(frame.length + 1) : frame.length,
    );
    if (hint === null) continue;
    hints++;
    for (const value of Object.values(hint)) {
      if (typeof value === 'string' && value.length > 64) tooLong++;
    }
  }
  t.ok(hints > 1000, `${hints} mutants gave a hint`);
  t.equal(tooLong, 0);
});
