import t from 'tap';

import {
  concatBytes,
  dhcpMessage,
  dhcpOption,
  dnsName,
  parseIpv4,
  parseMac,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import {
  DhcpMessageType,
  MAX_DHCP_ROUTERS,
  parseDhcp,
} from '../../src/fingerprint/dhcp.js';
import { checkRobustness } from './robustness.js';

const MAC = '00:00:5e:00:53:21';

const discover = (): Uint8Array =>
  dhcpMessage({
    op: 1,
    xid: 0xdeadbeef,
    clientMac: MAC,
    options: [
      dhcpOption(53, Uint8Array.of(DhcpMessageType.Discover)),
      dhcpOption(61, concatBytes(Uint8Array.of(1), parseMac(MAC))),
      dhcpOption(50, parseIpv4('192.0.2.20')),
      dhcpOption(12, textBytes('SYNTH-PUMP-07')),
      dhcpOption(60, textBytes('SYNTH-VENDOR 1.0')),
      dhcpOption(55, Uint8Array.of(1, 121, 3, 6, 15, 119, 252, 95, 44, 46)),
      dhcpOption(
        81,
        concatBytes(Uint8Array.of(0x05, 0, 0), dnsName('pump7.example.org')),
      ),
    ],
  });

t.test('dhcp: DISCOVER golden: every identity field', async (t) => {
  const info = parseDhcp(discover(), 0, discover().length);
  t.ok(info);
  if (info === null) return;
  t.equal(info.op, 1);
  t.equal(info.hasMagicCookie, true);
  t.equal(info.xid, 0xdeadbeef);
  t.equal(info.messageType, DhcpMessageType.Discover);
  t.equal(info.clientHwAddr, MAC);
  t.equal(info.hwType, 1);
  t.same(info.parameterRequestList, [1, 121, 3, 6, 15, 119, 252, 95, 44, 46]);
  t.equal(info.fingerprint, '1,121,3,6,15,119,252,95,44,46', 'request order');
  t.equal(info.vendorClass, 'SYNTH-VENDOR 1.0');
  t.equal(info.hostName, 'SYNTH-PUMP-07');
  t.equal(info.clientIdHex, `01${MAC.replace(/:/g, '')}`);
  t.equal(info.clientFqdn, 'pump7.example.org', 'wire form (E flag)');
  t.equal(info.requestedAddress, '192.0.2.20');
  t.equal(info.clientAddress, '');
  t.equal(info.yourAddress, '');
  t.equal(info.assignedAddress, '', 'only an ACK assigns');
  t.equal(info.serverId, '');
  t.same(info.routers, []);
});

t.test(
  'dhcp: ACK gives the assigned address, server and routers',
  async (t) => {
    const routers = concatBytes(
      ...Array.from({ length: 10 }, (_, i) => parseIpv4(`192.0.2.${i + 1}`)),
    );
    const ack = dhcpMessage({
      op: 2,
      xid: 1,
      clientMac: MAC,
      yiaddr: '192.0.2.20',
      giaddr: '198.51.100.1',
      options: [
        dhcpOption(53, Uint8Array.of(DhcpMessageType.Ack)),
        dhcpOption(54, parseIpv4('192.0.2.1')),
        dhcpOption(3, routers),
      ],
    });
    const info = parseDhcp(ack, 0, ack.length);
    t.equal(info?.assignedAddress, '192.0.2.20');
    t.equal(info?.yourAddress, '192.0.2.20');
    t.equal(info?.relayAddress, '198.51.100.1');
    t.equal(info?.serverId, '192.0.2.1');
    t.equal(info?.routers.length, MAX_DHCP_ROUTERS, 'routers capped');
    t.equal(info?.routers[0], '192.0.2.1');

    const offer = Uint8Array.from(ack);
    offer[242] = DhcpMessageType.Offer;
    const offered = parseDhcp(offer, 0, offer.length);
    t.equal(offered?.messageType, DhcpMessageType.Offer);
    t.equal(offered?.yourAddress, '192.0.2.20');
    t.equal(offered?.assignedAddress, '', 'an OFFER assigns nothing yet');
  },
);

t.test('dhcp: option 81 without the E flag is ASCII', async (t) => {
  const msg = dhcpMessage({
    op: 1,
    xid: 2,
    clientMac: MAC,
    options: [
      dhcpOption(81, concatBytes(Uint8Array.of(0, 0, 0), textBytes('ws21'))),
    ],
  });
  t.equal(parseDhcp(msg, 0, msg.length)?.clientFqdn, 'ws21');
});

t.test(
  'dhcp: option overload reads options, then file, then sname',
  async (t) => {
    const msg = dhcpMessage({
      op: 1,
      xid: 3,
      clientMac: MAC,
      options: [
        dhcpOption(52, Uint8Array.of(3)),
        dhcpOption(55, Uint8Array.of(1, 3)),
      ],
    });
    // file (offset 108): more of option 55 (RFC 3396) and a host name.
    msg.set(
      concatBytes(
        Uint8Array.of(55, 2, 6, 15),
        Uint8Array.of(12, 4),
        textBytes('file'),
        Uint8Array.of(255),
      ),
      108,
    );
    // sname (offset 44): a vendor class, and a second host name ignored.
    msg.set(
      concatBytes(
        Uint8Array.of(60, 2),
        textBytes('vc'),
        Uint8Array.of(12, 5),
        textBytes('sname'),
        Uint8Array.of(255),
      ),
      44,
    );
    const info = parseDhcp(msg, 0, msg.length);
    t.equal(info?.fingerprint, '1,3,6,15', 'option 55 parts joined in order');
    t.equal(info?.hostName, 'file', 'first host name wins');
    t.equal(info?.vendorClass, 'vc');

    const fileOnly = Uint8Array.from(msg);
    fileOnly[242] = 1;
    t.equal(
      parseDhcp(fileOnly, 0, fileOnly.length)?.vendorClass,
      '',
      'sname not read',
    );
  },
);

t.test('dhcp: plain BOOTP has a header and no options', async (t) => {
  const msg = dhcpMessage({ op: 2, xid: 4, clientMac: MAC, options: [] });
  msg.fill(0, 236);
  msg.set(parseIpv4('192.0.2.30'), 16);
  const info = parseDhcp(msg, 0, msg.length);
  t.equal(info?.hasMagicCookie, false);
  t.equal(info?.messageType, -1);
  t.equal(info?.clientHwAddr, MAC);
  t.equal(info?.yourAddress, '192.0.2.30');
  t.equal(info?.fingerprint, '');
});

t.test(
  'dhcp: walk stops at End, skips Pad, stops at a cut option',
  async (t) => {
    const msg = dhcpMessage({ op: 1, xid: 5, clientMac: MAC, options: [] });
    const opts = concatBytes(
      Uint8Array.of(0, 0, 53, 1, 3, 0),
      Uint8Array.of(12, 3),
      textBytes('abc'),
      Uint8Array.of(255, 60, 2),
      textBytes('no'),
    );
    const withEnd = concatBytes(msg.subarray(0, 240), opts);
    const info = parseDhcp(withEnd, 0, withEnd.length);
    t.equal(info?.messageType, 3);
    t.equal(info?.hostName, 'abc');
    t.equal(info?.vendorClass, '', 'nothing after End');

    const cut = concatBytes(
      msg.subarray(0, 240),
      Uint8Array.of(53, 1, 8, 12, 40),
    );
    const cutInfo = parseDhcp(cut, 0, cut.length);
    t.equal(cutInfo?.messageType, 8);
    t.equal(cutInfo?.hostName, '', 'option longer than the data is dropped');
  },
);

t.test('dhcp: host names are safe text', async (t) => {
  const msg = dhcpMessage({
    op: 1,
    xid: 6,
    clientMac: MAC,
    options: [
      dhcpOption(12, textBytes('host\0\0')),
      dhcpOption(60, textBytes('a\x1b[2Jb')),
    ],
  });
  const info = parseDhcp(msg, 0, msg.length);
  t.equal(info?.hostName, 'host', 'NUL padding dropped');
  t.equal(info?.vendorClass, 'a\ufffd[2Jb', 'escape character replaced');
});

t.test('dhcp: not DHCP -> null', async (t) => {
  const good = discover();
  t.equal(parseDhcp(good, 0, 235), null, 'shorter than the BOOTP header');
  const badOp = Uint8Array.from(good);
  badOp[0] = 3;
  t.equal(parseDhcp(badOp, 0, badOp.length), null, 'op 3');
  const badHlen = Uint8Array.from(good);
  badHlen[2] = 17;
  t.equal(parseDhcp(badHlen, 0, badHlen.length), null, 'hlen 17');
  t.equal(parseDhcp(new Uint8Array(300).fill(0x16), 0, 300), null, 'TLS');
  t.equal(parseDhcp(good, -1, good.length), null, 'negative offset');
});

t.test('dhcp: every prefix and seeded mutations never throw', async (t) => {
  const msg = dhcpMessage({
    op: 1,
    xid: 7,
    clientMac: MAC,
    options: [
      dhcpOption(52, Uint8Array.of(3)),
      dhcpOption(55, Uint8Array.of(1)),
    ],
  });
  msg.set(Uint8Array.of(12, 2, 0x41, 0x42, 255), 108);
  checkRobustness(t, parseDhcp, [discover(), msg], 0xd4c9);
});
