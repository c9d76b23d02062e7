/**
 * Frame builders and pcap writers checked against tshark: every field we set
 * must decode to the value we chose, with checksums reported good.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  ArpOp,
  BsdAddressFamily,
  DhcpMessageType,
  EtherType,
  IpProto,
  SeededRng,
  SllPacketType,
  TcpConversation,
  TcpFlag,
  arpPacket,
  dhcpMessage,
  dhcpOption,
  ethernetFrame,
  fragmentIpv4,
  fragmentIpv6,
  icmpEcho,
  icmpv6Echo,
  icmpv6NeighbourAdvertisement,
  icmpv6NeighbourSolicitation,
  internetChecksum,
  ipv4Packet,
  ipv4RouterAlertOption,
  ipv6MulticastMac,
  ipv6Packet,
  ipv6RouterAlertOption,
  linuxSll2Frame,
  linuxSllFrame,
  lldpPdu,
  nullLoopbackFrame,
  parseIpv4,
  parseIpv6,
  parseMac,
  rawIpFrame,
  solicitedNodeAddress,
  tcpSegment,
  textBytes,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter, PcapngWriter } from '../../scripts/lib/pcap-writer.js';

const MAC_A = '02:00:5e:00:53:0a';
const MAC_B = '02:00:5e:00:53:0b';
const TIME_SEC = 1_700_000_000;

/** tshark preferences that make it verify every checksum it knows. */
const CHECKSUM_PREFS = [
  '-o',
  'ip.check_checksum:TRUE',
  '-o',
  'tcp.check_checksum:TRUE',
  '-o',
  'udp.check_checksum:TRUE',
];

const hasTshark = spawnSync('tshark', ['-v']).status === 0;

/** Rows of `tshark -T fields`, one array of field values per frame. */
function tsharkFields(path: string, fields: string[]): string[][] {
  const args = ['-n', '-r', path, ...CHECKSUM_PREFS, '-T', 'fields'];
  for (const f of fields) args.push('-e', f);
  const run = spawnSync('tshark', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`tshark failed: ${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

function writeEthernet(path: string, frames: Uint8Array[]): void {
  const w = new PcapWriter(path, { linkType: 1 });
  frames.forEach((f, i) => w.writeFrame(f, TIME_SEC + i, 0));
  w.close();
}

function eth(etherType: number, payload: Uint8Array): Uint8Array {
  return ethernetFrame({ dst: MAC_B, src: MAC_A, etherType }, payload);
}

t.test('address parsing', async (t) => {
  t.same([...parseMac('02:00:5E:00:53:0a')], [2, 0, 0x5e, 0, 0x53, 10]);
  t.same([...parseIpv4('192.0.2.255')], [192, 0, 2, 255]);
  t.same(
    [...parseIpv6('2001:db8::1')],
    [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  );
  t.same(
    [...parseIpv6('::ffff:192.0.2.1').subarray(10)],
    [255, 255, 192, 0, 2, 1],
  );
  t.same([...parseIpv6('::')], new Array(16).fill(0));
  t.throws(() => parseIpv4('256.1.1.1'), RangeError);
  t.throws(() => parseIpv6('1::2::3'), RangeError);
  t.throws(() => parseMac('02:00:5e:00:53'), RangeError);
});

t.test('internet checksum: RFC 1071 section 3 example', async (t) => {
  const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  t.equal(internetChecksum(bytes), ~0xddf2 & 0xffff);
});

t.test('seeded rng: same seed, same sequence', async (t) => {
  const a = new SeededRng(42);
  const b = new SeededRng(42);
  const c = new SeededRng(43);
  const seqA = Array.from({ length: 8 }, () => a.nextU32());
  const seqB = Array.from({ length: 8 }, () => b.nextU32());
  const seqC = Array.from({ length: 8 }, () => c.nextU32());
  t.same(seqA, seqB);
  t.not(seqA.join(), seqC.join());
  const r = new SeededRng(7);
  for (let i = 0; i < 1000; i++) {
    const v = r.nextRange(3, 9);
    if (v < 3 || v > 9) t.fail(`out of range: ${v}`);
  }
});

t.test('tshark decodes the fields we set', { skip: !hasTshark }, async (t) => {
  const dir = t.testdir();

  t.test('ethernet, QinQ tags, IPv4 options and TCP SYN options', async (t) => {
    const path = join(dir, 'tcp.pcap');
    const tcp = tcpSegment(
      {
        srcPort: 40000,
        dstPort: 443,
        seq: 12345,
        flags: TcpFlag.Syn,
        window: 29200,
        options: [
          { kind: 'timestamps', tsVal: 111, tsEcr: 0 },
          { kind: 'nop' },
          { kind: 'window-scale', shift: 9 },
          { kind: 'sack-permitted' },
          { kind: 'mss', mssBytes: 1380 },
        ],
      },
      new Uint8Array(0),
    );
    const ip = ipv4Packet(
      {
        src: '192.0.2.1',
        dst: '198.51.100.2',
        protocol: IpProto.Tcp,
        ttl: 61,
        id: 0x4242,
        isDontFragment: true,
        options: [ipv4RouterAlertOption()],
      },
      tcp,
    );
    const frame = ethernetFrame(
      {
        dst: MAC_B,
        src: MAC_A,
        etherType: EtherType.Ipv4,
        tags: [
          { tpid: EtherType.QinQ, vid: 100, pcp: 3 },
          { vid: 200, isDropEligible: true },
        ],
      },
      ip,
    );
    writeEthernet(path, [frame]);
    const [row] = tsharkFields(path, [
      'ieee8021ad.id',
      'ieee8021ad.priority',
      'vlan.id',
      'vlan.dei',
      'ip.ttl',
      'ip.id',
      'ip.flags.df',
      'ip.hdr_len',
      'ip.checksum.status',
      'tcp.checksum.status',
      'tcp.options.mss_val',
      'tcp.options.wscale.shift',
      'tcp.option_kind',
      'tcp.options.timestamp.tsval',
      'tcp.window_size_value',
      'tcp.seq_raw',
    ]);
    t.same(row, [
      '100',
      '3',
      '200',
      '1',
      '61',
      '0x4242',
      '1',
      '24',
      '1',
      '1',
      '1380',
      '9',
      '8,1,3,4,2',
      '111',
      '29200',
      '12345',
    ]);
  });

  t.test('IPv4 fragments reassemble with a good UDP checksum', async (t) => {
    const path = join(dir, 'frag4.pcap');
    const udp = udpDatagram(
      { srcPort: 5000, dstPort: 9999 },
      new Uint8Array(3000).fill(0x5a),
    );
    const fragments = fragmentIpv4(
      {
        src: '192.0.2.1',
        dst: '192.0.2.2',
        protocol: IpProto.Udp,
        id: 77,
        options: [ipv4RouterAlertOption()],
      },
      udp,
      1400,
    );
    t.equal(fragments.length, 3);
    writeEthernet(
      path,
      fragments.map((f) => eth(EtherType.Ipv4, f)),
    );
    const rows = tsharkFields(path, [
      'ip.frag_offset',
      'ip.flags.mf',
      'ip.hdr_len',
      'udp.checksum.status',
      'udp.length',
    ]);
    t.same(rows, [
      ['0', '1', '24', '', ''],
      // tshark 4.0 reports the offset field in 8-byte units.
      ['175', '1', '24', '', ''],
      ['350', '0', '24', '1', '3008'],
    ]);
  });

  t.test('IPv6 extension chain and fragments', async (t) => {
    const path = join(dir, 'ipv6.pcap');
    const udp = udpDatagram({ srcPort: 1, dstPort: 7 }, textBytes('synthetic'));
    const routed = ipv6Packet(
      {
        src: '2001:db8::1',
        dst: '2001:db8::2',
        nextHeader: IpProto.Udp,
        hopLimit: 33,
        flowLabel: 0x12345,
        extensions: [
          { kind: 'hop-by-hop', options: [ipv6RouterAlertOption()] },
          { kind: 'destination' },
          {
            kind: 'routing',
            routingType: 4,
            segmentsLeft: 1,
            addresses: ['2001:db8::99', '2001:db8::2'],
          },
          { kind: 'destination', options: [Uint8Array.of(0x1e, 2, 0, 0)] },
        ],
      },
      udp,
    );
    const big = udpDatagram(
      { srcPort: 2, dstPort: 9 },
      new Uint8Array(2500).fill(0x33),
    );
    const fragments = fragmentIpv6(
      {
        src: '2001:db8::1',
        dst: '2001:db8::2',
        nextHeader: IpProto.Udp,
        extensions: [{ kind: 'hop-by-hop' }, { kind: 'destination' }],
      },
      big,
      1200,
      0xabcdef,
    );
    t.equal(fragments.length, 3);
    writeEthernet(path, [
      eth(EtherType.Ipv6, routed),
      ...fragments.map((f) => eth(EtherType.Ipv6, f)),
    ]);
    const rows = tsharkFields(path, [
      'ipv6.hlim',
      'ipv6.flow',
      'ipv6.routing.type',
      'ipv6.routing.segleft',
      'ipv6.fraghdr.offset',
      'ipv6.fraghdr.more',
      'udp.checksum.status',
      'udp.length',
    ]);
    t.same(rows[0], ['33', '0x012345', '4', '1', '', '', '1', '17']);
    t.same(rows[1].slice(4, 6), ['0', '1']);
    t.same(rows[2].slice(4, 6), ['150', '1']);
    t.same(rows[3].slice(4), ['300', '0', '1', '2508']);
  });

  t.test('ARP, ICMP echo and ICMPv6 neighbour discovery', async (t) => {
    const path = join(dir, 'icmp.pcap');
    const arp = arpPacket({
      op: ArpOp.Request,
      senderMac: MAC_A,
      senderIp: '192.0.2.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: '192.0.2.2',
    });
    const echo = ipv4Packet(
      { src: '192.0.2.1', dst: '192.0.2.2', protocol: IpProto.Icmp },
      icmpEcho({ isReply: true, id: 0x1234, seq: 7 }, textBytes('ping')),
    );
    const echo6 = ipv6Packet(
      { src: '2001:db8::1', dst: '2001:db8::2', nextHeader: IpProto.Icmpv6 },
      icmpv6Echo({ isReply: false, id: 9, seq: 10 }, textBytes('ping6')),
    );
    const nsDst = solicitedNodeAddress('fe80::2');
    const ns = ipv6Packet(
      { src: 'fe80::1', dst: nsDst, nextHeader: IpProto.Icmpv6, hopLimit: 255 },
      icmpv6NeighbourSolicitation({ target: 'fe80::2', sourceLinkAddr: MAC_A }),
    );
    const na = ipv6Packet(
      {
        src: 'fe80::2',
        dst: 'fe80::1',
        nextHeader: IpProto.Icmpv6,
        hopLimit: 255,
      },
      icmpv6NeighbourAdvertisement({
        target: 'fe80::2',
        isSolicited: true,
        isOverride: true,
        targetLinkAddr: MAC_B,
      }),
    );
    writeEthernet(path, [
      ethernetFrame(
        { dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, etherType: EtherType.Arp },
        arp,
      ),
      eth(EtherType.Ipv4, echo),
      eth(EtherType.Ipv6, echo6),
      ethernetFrame(
        { dst: ipv6MulticastMac(nsDst), src: MAC_A, etherType: EtherType.Ipv6 },
        ns,
      ),
      eth(EtherType.Ipv6, na),
    ]);
    const rows = tsharkFields(path, [
      'frame.len',
      'arp.opcode',
      'arp.dst.proto_ipv4',
      'icmp.type',
      'icmp.ident',
      'icmp.checksum.status',
      'icmpv6.type',
      'icmpv6.checksum.status',
      'icmpv6.nd.ns.target_address',
      'icmpv6.nd.na.flag.s',
      'icmpv6.opt.linkaddr',
      'eth.dst',
    ]);
    t.same(rows[0], [
      '60',
      '1',
      '192.0.2.2',
      ...new Array(8).fill(''),
      'ff:ff:ff:ff:ff:ff',
    ]);
    t.same(rows[1].slice(3, 6), ['0', '4660', '1']);
    t.same(rows[2].slice(6, 8), ['128', '1']);
    t.same(rows[3].slice(6), [
      '135',
      '1',
      'fe80::2',
      '',
      MAC_A,
      '33:33:ff:00:00:02',
    ]);
    t.same(rows[4].slice(6), ['136', '1', '', '1', MAC_B, MAC_B]);
  });

  t.test('DHCP and LLDP payloads', async (t) => {
    const path = join(dir, 'dhcp-lldp.pcap');
    const dhcp = dhcpMessage({
      op: 1,
      xid: 0xdeadbeef,
      clientMac: MAC_A,
      isBroadcast: true,
      options: [
        dhcpOption(53, Uint8Array.of(DhcpMessageType.Discover)),
        dhcpOption(12, textBytes('SYNTH-PUMP-01')),
        dhcpOption(55, Uint8Array.of(1, 3, 6, 15, 42)),
      ],
    });
    const ip = ipv4Packet(
      {
        src: '0.0.0.0',
        dst: '255.255.255.255',
        protocol: IpProto.Udp,
      },
      udpDatagram({ srcPort: 68, dstPort: 67 }, dhcp),
    );
    const lldp = lldpPdu({
      chassisMac: MAC_B,
      portName: 'ge-0/0/7',
      ttlSec: 120,
      systemName: 'SYNTH-SW-01',
      managementIpv4: '192.0.2.250',
      capabilities: { available: 0x14, enabled: 0x04 },
    });
    writeEthernet(path, [
      ethernetFrame(
        { dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, etherType: EtherType.Ipv4 },
        ip,
      ),
      ethernetFrame(
        { dst: '01:80:c2:00:00:0e', src: MAC_B, etherType: EtherType.Lldp },
        lldp,
      ),
    ]);
    const rows = tsharkFields(path, [
      'dhcp.option.dhcp',
      'dhcp.option.hostname',
      'dhcp.option.request_list_item',
      'udp.checksum.status',
      'lldp.tlv.system.name',
      'lldp.port.id',
      'lldp.mgn.addr.ip4',
    ]);
    t.same(rows[0].slice(0, 4), ['1', 'SYNTH-PUMP-01', '1,3,6,15,42', '1']);
    t.same(rows[1].slice(4), ['SYNTH-SW-01', 'ge-0/0/7', '192.0.2.250']);
  });

  t.test('TCP conversation numbers follow the bytes sent', async (t) => {
    const path = join(dir, 'conversation.pcap');
    const conversation = new TcpConversation(
      {
        mac: MAC_A,
        ip: '192.0.2.10',
        port: 50000,
        ttl: 128,
        isn: 1000,
        window: 1024,
        mssBytes: 1000,
        synOptions: [{ kind: 'mss', mssBytes: 1460 }],
      },
      {
        mac: MAC_B,
        ip: '192.0.2.20',
        port: 2575,
        ttl: 64,
        isn: 5000,
        window: 2048,
        mssBytes: 1460,
        synOptions: [{ kind: 'mss', mssBytes: 1460 }],
      },
      [{ vid: 30 }],
    );
    writeEthernet(path, [
      ...conversation.handshake(),
      ...conversation.send(true, new Uint8Array(1500).fill(0x41)),
      ...conversation.close(),
    ]);
    const rows = tsharkFields(path, [
      'tcp.seq_raw',
      'tcp.ack_raw',
      'tcp.len',
      'tcp.checksum.status',
      '_ws.expert.message',
    ]);
    t.equal(rows.length, 9);
    t.same(
      rows.map((r) => r.slice(0, 4)),
      [
        ['1000', '0', '0', '1'],
        ['5000', '1001', '0', '1'],
        ['1001', '5001', '0', '1'],
        ['1001', '5001', '1000', '1'],
        ['2001', '5001', '500', '1'],
        ['5001', '2501', '0', '1'],
        ['2501', '5001', '0', '1'],
        ['5001', '2502', '0', '1'],
        ['2502', '5002', '0', '1'],
      ],
    );
    const problems = rows
      .map((r) => r[4])
      .filter((m) => /retrans|lost|out-of-order/i.test(m));
    t.same(problems, []);
  });

  t.test('cooked, loopback and raw link types', async (t) => {
    const ip4 = ipv4Packet(
      { src: '192.0.2.1', dst: '192.0.2.2', protocol: IpProto.Udp },
      udpDatagram({ srcPort: 1000, dstPort: 2000 }, textBytes('x')),
    );
    const ip6 = ipv6Packet(
      { src: '2001:db8::1', dst: '2001:db8::2', nextHeader: IpProto.Udp },
      udpDatagram({ srcPort: 1000, dstPort: 2000 }, textBytes('y')),
    );
    const cases: Array<[string, number, Uint8Array[], string[]]> = [
      [
        'sll',
        113,
        [
          linuxSllFrame(
            {
              packetType: SllPacketType.Outgoing,
              linkAddr: MAC_A,
              protocol: EtherType.Ipv4,
            },
            ip4,
          ),
        ],
        ['sll.pkttype', 'sll.src.eth', 'udp.checksum.status'],
      ],
      [
        'sll2',
        276,
        [
          linuxSll2Frame(
            {
              packetType: SllPacketType.Host,
              linkAddr: MAC_B,
              protocol: EtherType.Ipv6,
              interfaceIndex: 7,
            },
            ip6,
          ),
        ],
        ['sll.ifindex', 'sll.pkttype', 'udp.checksum.status'],
      ],
      [
        'null',
        0,
        [
          nullLoopbackFrame(BsdAddressFamily.Inet, ip4),
          nullLoopbackFrame(BsdAddressFamily.DarwinInet6, ip6),
          nullLoopbackFrame(BsdAddressFamily.FreeBsdInet6, ip6),
          nullLoopbackFrame(BsdAddressFamily.Inet6Bsd, ip6),
        ],
        ['null.family', 'udp.checksum.status'],
      ],
      [
        'raw',
        101,
        [rawIpFrame(ip4), rawIpFrame(ip6)],
        ['frame.protocols', 'udp.checksum.status'],
      ],
    ];
    const expected: Record<string, string[][]> = {
      sll: [['4', MAC_A, '1']],
      sll2: [['7', '0', '1']],
      null: [
        ['2', '1'],
        ['30', '1'],
        ['28', '1'],
        ['24', '1'],
      ],
      raw: [
        ['raw:ip:udp:data', '1'],
        ['raw:ipv6:udp:data', '1'],
      ],
    };
    for (const [name, linkType, frames, fields] of cases) {
      const path = join(dir, `${name}.pcap`);
      const w = new PcapWriter(path, { linkType });
      frames.forEach((f) => w.writeFrame(f, TIME_SEC, 0));
      w.close();
      t.same(tsharkFields(path, fields), expected[name], name);
    }
  });

  t.test('classic pcap: byte order, resolution and snap length', async (t) => {
    const frame = eth(
      EtherType.Ipv4,
      ipv4Packet(
        { src: '192.0.2.1', dst: '192.0.2.2', protocol: IpProto.Udp },
        udpDatagram({ srcPort: 1, dstPort: 2 }, new Uint8Array(100)),
      ),
    );
    for (const byteOrder of ['le', 'be'] as const) {
      for (const timeResolution of ['us', 'ns'] as const) {
        const path = join(dir, `order-${byteOrder}-${timeResolution}.pcap`);
        const w = new PcapWriter(path, {
          linkType: 1,
          byteOrder,
          timeResolution,
        });
        w.writeFrame(frame, TIME_SEC, 123_456_789);
        w.writeFrame(frame.subarray(0, 40), TIME_SEC + 1, 5, frame.length);
        w.close();
        const magic = readFileSync(path).subarray(0, 4).toString('hex');
        const isNs = timeResolution === 'ns';
        const expectedMagic = isNs ? 'a1b23c4d' : 'a1b2c3d4';
        t.equal(
          magic,
          byteOrder === 'be'
            ? expectedMagic
            : Buffer.from(expectedMagic, 'hex').reverse().toString('hex'),
        );
        t.same(
          tsharkFields(path, [
            'frame.time_epoch',
            'frame.cap_len',
            'frame.len',
          ]),
          [
            [
              isNs ? '1700000000.123456789' : '1700000000.123456000',
              '142',
              '142',
            ],
            [
              isNs ? '1700000001.000000005' : '1700000001.000000000',
              '40',
              '142',
            ],
          ],
        );
      }
    }
  });

  t.test('pcapng: three interfaces, SPB and an unknown block', async (t) => {
    const path = join(dir, 'multi.pcapng');
    const ip4 = ipv4Packet(
      { src: '192.0.2.1', dst: '192.0.2.2', protocol: IpProto.Udp },
      udpDatagram({ srcPort: 1, dstPort: 2 }, textBytes('z')),
    );
    for (const byteOrder of ['le', 'be'] as const) {
      const w = new PcapngWriter(path, { byteOrder, application: 'test' });
      const ether = w.addInterface({ linkType: 1, name: 'eth0' });
      const cooked = w.addInterface({ linkType: 276, timeResolutionExp10: 9 });
      const raw = w.addInterface({ linkType: 101, snapLenBytes: 65535 });
      w.writeFrame(ether, eth(EtherType.Ipv4, ip4), TIME_SEC, 123_456_789);
      w.writeSimpleFrame(eth(EtherType.Ipv4, ip4));
      w.writeBlock(0x0badf00d, textBytes('skip me'));
      w.writeFrame(
        cooked,
        linuxSll2Frame(
          {
            packetType: SllPacketType.Outgoing,
            linkAddr: MAC_A,
            protocol: EtherType.Ipv4,
            interfaceIndex: 2,
          },
          ip4,
        ),
        TIME_SEC,
        123_456_789,
      );
      w.writeFrame(raw, ip4, TIME_SEC + 1, 999_999_999);
      w.close();
      t.same(
        tsharkFields(path, [
          'frame.interface_id',
          'frame.time_epoch',
          'udp.checksum.status',
        ]),
        [
          ['0', '1700000000.123456000', '1'],
          ['0', '', '1'],
          ['1', '1700000000.123456789', '1'],
          ['2', '1700000001.999999000', '1'],
        ],
        byteOrder,
      );
    }
  });
});
