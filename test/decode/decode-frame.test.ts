import t from 'tap';

import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import {
  DecodeStatus,
  DecodedPacket,
  Layer,
  REASON_NAMES,
  TcpOptionQuirk,
} from '../../src/decode/packet.js';

const hex = (text: string): Uint8Array =>
  Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

const ETH_IPV4 = '001122334455 66778899aabb 0800';
const IPV4_TCP_60 = '4500003c 1c46 4000 4006 0000 c0a80001 c0a800c7';
const TCP_SYN_OPTIONS =
  '3039 0050 00000001 00000000 a002 7210 0000 0000' +
  '020405b4 0402 080a0000000100000000 01 030307';

const decode = (
  frame: Uint8Array,
  linkType: number = LinkType.Ethernet,
  out = new DecodedPacket(),
) => {
  const status = decodeFrame(
    frame,
    0,
    frame.length,
    frame.length,
    linkType,
    out,
  );
  return { status, out, reason: REASON_NAMES[out.reason] };
};

t.test(
  'ethernet + ipv4 + tcp SYN: every field a stack fingerprint needs',
  async (t) => {
    const { status, out } = decode(
      hex(ETH_IPV4 + IPV4_TCP_60 + TCP_SYN_OPTIONS),
    );
    t.equal(status, DecodeStatus.Ok);
    t.equal(out.layers, Layer.Ethernet | Layer.Ipv4 | Layer.Tcp);
    t.equal(out.srcMacOff, 6);
    t.equal(out.dstMacOff, 0);
    t.equal(out.ttl, 64);
    t.equal(out.ipId, 0x1c46);
    t.ok(out.ipDontFragment);
    t.notOk(out.isFragment);
    t.equal(out.srcPort, 12345);
    t.equal(out.dstPort, 80);
    t.equal(out.tcpFlags, 0x02);
    t.equal(out.tcpWindow, 29200);
    t.equal(out.tcpMss, 1460);
    t.equal(out.tcpWindowScale, 7);
    t.ok(out.tcpSackPermitted);
    t.equal(out.tcpTsVal, 1);
    t.equal(out.tcpTsEcr, 0);
    t.same(
      Array.from(out.tcpOptionKinds.subarray(0, out.tcpOptionCount)),
      [2, 4, 8, 1, 3],
      'option kinds in wire order',
    );
    t.equal(out.tcpOptionQuirks, 0);
    t.equal(out.payloadBytes, 0);
  },
);

t.test('ethernet padding is not payload: ip total length wins', async (t) => {
  const ip = '45000028 0001 0000 4006 0000 0a000001 0a000002';
  const tcp = '1f90 c350 00000000 00000000 5010 ffff 0000 0000';
  const { status, out } = decode(hex(ETH_IPV4 + ip + tcp + '000000000000'));
  t.equal(status, DecodeStatus.Ok);
  t.equal(out.payloadBytes, 0);
});

t.test('qinq: both vlan ids kept, outermost first', async (t) => {
  const frame = hex(
    '001122334455 66778899aabb 88a8 0064 8100 20c8 0800' +
      '4500001c 0000 0000 4011 0000 0a000001 0a000002' +
      '0035 0035 0008 0000',
  );
  const { status, out } = decode(frame);
  t.equal(status, DecodeStatus.Ok);
  t.equal(out.vlanCount, 2);
  t.equal(out.vlanIds[0], 100);
  t.equal(out.vlanIds[1], 200);
  t.equal(out.vlanPriority, 0);
  t.ok(out.layers & Layer.Udp);
});

t.test(
  'vlan stack deeper than the bound is malformed, not a loop',
  async (t) => {
    const tags = '8100 0001 '.repeat(6);
    const frame = hex('001122334455 66778899aabb ' + tags + '0800');
    const { status, reason } = decode(frame);
    t.equal(status, DecodeStatus.Malformed);
    t.equal(reason, 'vlan_depth_exceeded');
  },
);

t.test('ipv4 fragments: first has ports, later ones none', async (t) => {
  const first = hex(
    ETH_IPV4 +
      '45000024 abcd 2000 4011 0000 0a000001 0a000002' +
      '0035 0035 0020 0000 0102030405060708',
  );
  const firstOut = decode(first).out;
  t.ok(firstOut.isFragment);
  t.ok(firstOut.ipMoreFragments);
  t.equal(firstOut.fragmentOffsetBytes, 0);
  t.ok(firstOut.layers & Layer.Udp);

  const later = hex(
    ETH_IPV4 +
      '4500001c abcd 0002 4011 0000 0a000001 0a000002' +
      '0102030405060708',
  );
  const { status, out } = decode(later);
  t.equal(status, DecodeStatus.Ok);
  t.ok(out.isFragment);
  t.equal(out.fragmentOffsetBytes, 16);
  t.equal(out.layers & Layer.Udp, 0);
  t.equal(out.l4Off, -1);
});

t.test('ipv6 extension chain then tcp', async (t) => {
  const frame = hex(
    '001122334455 66778899aabb 86dd' +
      '60000000 0024 00 40' +
      '20010db8000000000000000000000001 20010db8000000000000000000000002' +
      // hop-by-hop (next: dest opts), 8 bytes of PadN
      '3c 00 0104 00000000' +
      // destination options (next: tcp)
      '06 00 0104 00000000' +
      '0050 1f90 00000000 00000000 5012 2000 0000 0000',
  );
  const { status, out } = decode(frame);
  t.equal(status, DecodeStatus.Ok);
  t.equal(out.ipVersion, 6);
  t.same(Array.from(out.ipv6ExtTypes.subarray(0, out.ipv6ExtCount)), [0, 60]);
  t.equal(out.ipProtocol, 6);
  t.equal(out.tcpFlags, 0x12);
  t.equal(out.ttl, 64);
});

t.test('ipv6 later fragment: fragment header read, no transport', async (t) => {
  const frame = hex(
    '001122334455 66778899aabb 86dd' +
      '60000000 0010 2c 40' +
      '20010db8000000000000000000000001 20010db8000000000000000000000002' +
      '11 00 0050 12345678 0102030405060708',
  );
  const { status, out } = decode(frame);
  t.equal(status, DecodeStatus.Ok);
  t.ok(out.isFragment);
  t.equal(out.fragmentOffsetBytes, 80);
  t.equal(out.ipId, 0x12345678);
  t.equal(out.layers & Layer.Udp, 0);
});

t.test(
  'icmpv6 neighbour solicitation: target and source link address',
  async (t) => {
    const frame = hex(
      '3333ff000002 66778899aabb 86dd' +
        '60000000 0020 3a ff' +
        'fe800000000000000000000000000001 ff0200000000000000000001ff000002' +
        '87 00 0000 00000000 fe800000000000000000000000000002' +
        '01 01 66778899aabb',
    );
    const { status, out } = decode(frame);
    t.equal(status, DecodeStatus.Ok);
    t.equal(out.icmpType, 135);
    t.equal(out.ndTargetAddrOff, 14 + 40 + 8);
    t.equal(out.ndSourceLinkAddrOff, 14 + 40 + 24 + 2);
  },
);

t.test('arp request: ethernet/ipv4 address offsets', async (t) => {
  const frame = hex(
    'ffffffffffff 66778899aabb 0806 0001 0800 06 04 0001' +
      '66778899aabb c0a80001 000000000000 c0a80002',
  );
  const { status, out } = decode(frame);
  t.equal(status, DecodeStatus.Ok);
  t.equal(out.layers, Layer.Ethernet | Layer.Arp);
  t.equal(out.arpOp, 1);
  t.equal(out.arpSenderIpOff, 28);
  t.equal(out.arpTargetIpOff, 38);
});

t.test('malformed tcp options become quirks, not drops', async (t) => {
  const ip = '45000030 0001 0000 4006 0000 0a000001 0a000002';
  const tcp =
    '1f90 0050 00000000 00000000 7002 ffff 0000 0000 0203 05b4 0209 0000';
  const { status, out } = decode(hex(ETH_IPV4 + ip + tcp));
  t.equal(status, DecodeStatus.Ok);
  t.ok(out.tcpOptionQuirks & TcpOptionQuirk.WrongKnownLength);
  t.ok(out.tcpOptionQuirks & TcpOptionQuirk.BadLength);
  t.equal(out.tcpMss, -1);
});

t.test('bad header fields give stable reasons', async (t) => {
  const cases: Array<[string, string, number]> = [
    [
      'ipv4 header length 16',
      '44000028 0001 0000 4006 0000 0a000001 0a000002',
      0,
    ],
    [
      'ipv4 total length below header',
      '45000010 0001 0000 4006 0000 0a000001 0a000002',
      0,
    ],
    [
      'ipv4 version 5 under 0x0800',
      '55000028 0001 0000 4006 0000 0a000001 0a000002',
      0,
    ],
  ];
  const expected = [
    'ipv4_hdr_len_invalid',
    'ipv4_total_len_invalid',
    'ipv4_version_invalid',
  ];
  cases.forEach(([name, ip], i) => {
    const { status, reason } = decode(hex(ETH_IPV4 + ip));
    t.equal(status, DecodeStatus.Malformed, name);
    t.equal(reason, expected[i], name);
  });
});

t.test(
  'linux cooked v2, raw ip and bsd loopback reach the same ip',
  async (t) => {
    const ipTcp = IPV4_TCP_60 + TCP_SYN_OPTIONS;
    const sll2 = hex('0800 0000 00000002 0001 00 06 66778899aabb0000' + ipTcp);
    const raw = hex(ipTcp);
    const loopbackLe = hex('02000000' + ipTcp);
    const loopbackBe = hex('00000002' + ipTcp);
    for (const [name, frame, linkType] of [
      ['sll2', sll2, LinkType.LinuxSll2],
      ['raw', raw, LinkType.Raw],
      ['null little-endian', loopbackLe, LinkType.Null],
      ['null big-endian', loopbackBe, LinkType.Null],
    ] as const) {
      const { status, out } = decode(frame, linkType);
      t.equal(status, DecodeStatus.Ok, name);
      t.equal(out.tcpMss, 1460, name);
    }
    t.equal(decode(sll2, LinkType.LinuxSll2).out.srcMacOff, 12);
  },
);

t.test(
  'every prefix of valid frames: never Ok past the cut, never throws',
  async (t) => {
    const frames = [
      hex(ETH_IPV4 + IPV4_TCP_60 + TCP_SYN_OPTIONS),
      hex(
        '001122334455 66778899aabb 86dd 60000000 0010 00 40' +
          '20010db8000000000000000000000001 20010db8000000000000000000000002' +
          '11 00 0104 00000000 0035 0035 0008 0000',
      ),
    ];
    const out = new DecodedPacket();
    for (const frame of frames) {
      const full = decode(frame, LinkType.Ethernet, out);
      t.equal(full.status, DecodeStatus.Ok);
      const fullLayers = full.out.layers;
      for (let cut = 0; cut < frame.length; cut++) {
        const status = decodeFrame(
          frame,
          0,
          cut,
          frame.length,
          LinkType.Ethernet,
          out,
        );
        t.ok(
          status !== DecodeStatus.Ok || out.layers !== fullLayers,
          `prefix of ${cut} bytes does not decode as the whole frame`,
        );
      }
    }
  },
);

t.test('unknown link type is unsupported, not a throw', async (t) => {
  const { status, reason } = decode(hex('00'), 147);
  t.equal(status, DecodeStatus.Unsupported);
  t.equal(reason, 'link_type_unsupported');
});
