import t from 'tap';

import {
  concatBytes,
  dnsName,
  parseIpv6,
  parseMac,
  put16,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import {
  Dhcpv6MessageType,
  isDhcpv6ClientMessage,
  MAX_DHCPV6_RELAY_HOPS,
  parseDhcpv6,
} from '../../src/fingerprint/dhcpv6.js';
import { checkRobustness } from './robustness.js';

const MAC = '00:00:5e:00:53:21';

function option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  put16(out, 0, code);
  put16(out, 2, value.length);
  out.set(value, 4);
  return out;
}

const duidLlt = concatBytes(
  Uint8Array.of(0, 1, 0, 1, 0x2c, 0x3d, 0x4e, 0x5f),
  parseMac(MAC),
);
const duidEn = Uint8Array.of(0, 2, 0, 0, 0x7e, 0xd9, 1, 2, 3, 4);

const solicit = concatBytes(
  Uint8Array.of(Dhcpv6MessageType.Solicit, 0x12, 0x34, 0x56),
  option(1, duidLlt),
  option(6, Uint8Array.of(0, 23, 0, 24, 0, 39, 0, 112)),
  option(8, Uint8Array.of(0, 0)),
  option(
    16,
    concatBytes(
      Uint8Array.of(0, 0, 0x7e, 0xd9, 0, 10),
      textBytes('SYNTH-VC-A'),
      Uint8Array.of(0, 10),
      textBytes('SYNTH-VC-B'),
    ),
  ),
  option(17, Uint8Array.of(0, 0, 0x7e, 0xd9, 0, 1, 0, 0)),
  option(39, concatBytes(Uint8Array.of(1), dnsName('mon1.example.org'))),
  option(112, textBytes('https://mud.example.com/mon.json')),
);

const relay = (inner: Uint8Array, type = 12): Uint8Array =>
  concatBytes(
    Uint8Array.of(type, 0),
    parseIpv6('2001:db8:1::1'),
    parseIpv6('fe80::1'),
    option(18, textBytes('eth0')),
    option(9, inner),
  );

t.test('dhcpv6: SOLICIT golden', async (t) => {
  const info = parseDhcpv6(solicit, 0, solicit.length);
  t.ok(info);
  if (info === null) return;
  t.equal(info.messageType, Dhcpv6MessageType.Solicit);
  t.equal(info.relayHops, 0);
  t.equal(info.transactionId, 0x123456);
  t.same(info.clientDuid, {
    type: 1,
    hex: `000100012c3d4e5f${MAC.replace(/:/g, '')}`,
    linkLayerAddress: MAC,
    hwType: 1,
    enterprise: -1,
  });
  t.equal(info.serverDuid, null);
  t.same(info.optionRequests, [23, 24, 39, 112], 'client order');
  t.equal(info.vendorClassEnterprise, 32473);
  t.same(info.vendorClass, ['SYNTH-VC-A', 'SYNTH-VC-B']);
  t.equal(info.vendorOptsEnterprise, 32473);
  t.equal(info.fqdn, 'mon1.example.org');
  t.equal(info.mudUrl, 'https://mud.example.com/mon.json');
  t.same(info.addresses, []);
});

t.test('dhcpv6: partial FQDN (no root label) is kept', async (t) => {
  const msg = concatBytes(
    Uint8Array.of(Dhcpv6MessageType.Request, 0, 0, 1),
    option(39, Uint8Array.of(0, 11, ...textBytes('raspberrypi'))),
  );
  t.equal(parseDhcpv6(msg, 0, msg.length)?.fqdn, 'raspberrypi');
});

t.test(
  'dhcpv6: REPLY: server DUID-EN, IA_NA address, IA_PD prefix',
  async (t) => {
    const iaAddr = option(
      5,
      concatBytes(parseIpv6('2001:db8:1::15'), new Uint8Array(8)),
    );
    const iaPrefix = option(
      26,
      concatBytes(
        new Uint8Array(8),
        Uint8Array.of(56),
        parseIpv6('2001:db8:ff00::'),
      ),
    );
    const reply = concatBytes(
      Uint8Array.of(Dhcpv6MessageType.Reply, 0, 0, 9),
      option(2, duidEn),
      option(3, concatBytes(new Uint8Array(12), iaAddr)),
      option(4, concatBytes(new Uint8Array(4), iaAddr)),
      option(25, concatBytes(new Uint8Array(12), iaPrefix)),
    );
    const info = parseDhcpv6(reply, 0, reply.length);
    t.equal(info?.serverDuid?.type, 2);
    t.equal(info?.serverDuid?.enterprise, 32473);
    t.equal(info?.serverDuid?.linkLayerAddress, '');
    t.same(info?.addresses, ['2001:db8:1::15', '2001:db8:1::15']);
    t.same(info?.prefixes, ['2001:db8:ff00::/56']);
  },
);

t.test('dhcpv6: relays are unwrapped to the client message', async (t) => {
  const once = relay(solicit);
  const info = parseDhcpv6(once, 0, once.length);
  t.equal(info?.messageType, Dhcpv6MessageType.Solicit);
  t.equal(info?.relayHops, 1);
  t.equal(info?.fqdn, 'mon1.example.org');

  const twice = relay(relay(solicit), 12);
  t.equal(parseDhcpv6(twice, 0, twice.length)?.relayHops, 2);

  let deep = solicit;
  for (let i = 0; i < MAX_DHCPV6_RELAY_HOPS + 2; i++) deep = relay(deep);
  const deepInfo = parseDhcpv6(deep, 0, deep.length);
  t.equal(deepInfo?.relayHops, MAX_DHCPV6_RELAY_HOPS, 'unwrapping is capped');
  t.equal(deepInfo?.messageType, Dhcpv6MessageType.RelayForw);
});

t.test('dhcpv6: DUID-LL link-layer address, inside a relay', async (t) => {
  const client = '00:00:5e:00:53:42';
  const request = concatBytes(
    Uint8Array.of(Dhcpv6MessageType.Request, 0, 0, 7),
    option(1, concatBytes(Uint8Array.of(0, 3, 0, 1), parseMac(client))),
    option(2, duidEn),
  );
  const relayed = relay(request);
  const info = parseDhcpv6(relayed, 0, relayed.length);
  t.equal(info?.relayHops, 1);
  t.equal(info?.messageType, Dhcpv6MessageType.Request);
  t.same(info?.clientDuid, {
    type: 3,
    hex: `00030001${client.replace(/:/g, '')}`,
    linkLayerAddress: client,
    hwType: 1,
    enterprise: -1,
  });
  t.equal(info?.serverDuid?.linkLayerAddress, '', 'DUID-EN has none');

  // Link-layer addresses are read up to 16 bytes; a longer one is not.
  const oversized = concatBytes(
    Uint8Array.of(Dhcpv6MessageType.Solicit, 0, 0, 8),
    option(1, concatBytes(Uint8Array.of(0, 3, 0, 1), new Uint8Array(17))),
  );
  const odd = parseDhcpv6(oversized, 0, oversized.length);
  t.equal(odd?.clientDuid?.linkLayerAddress, '');
  t.equal(odd?.clientDuid?.hwType, -1);
});

t.test('dhcpv6: which message types a client sends', async (t) => {
  const clientTypes = Object.entries(Dhcpv6MessageType)
    .filter(([, type]) => isDhcpv6ClientMessage(type))
    .map(([name]) => name);
  t.same(clientTypes, [
    'Solicit',
    'Request',
    'Confirm',
    'Renew',
    'Rebind',
    'Release',
    'Decline',
    'InformationRequest',
  ]);
  t.notOk(isDhcpv6ClientMessage(0));
  t.notOk(isDhcpv6ClientMessage(14));
});

t.test(
  'dhcpv6: a relay without a relayed message is the message',
  async (t) => {
    const empty = concatBytes(
      Uint8Array.of(13, 29),
      new Uint8Array(32),
      option(19, new Uint8Array(0)),
    );
    const info = parseDhcpv6(empty, 0, empty.length);
    t.equal(info?.messageType, Dhcpv6MessageType.RelayRepl);
    t.equal(info?.relayHops, 0);
    t.equal(info?.transactionId, -1);
    t.equal(parseDhcpv6(empty, 0, 20)?.messageType, 13, 'cut relay header');
  },
);

t.test('dhcpv6: not DHCPv6 -> null', async (t) => {
  t.equal(parseDhcpv6(solicit, 0, 3), null, 'under 4 bytes');
  t.equal(parseDhcpv6(Uint8Array.of(0, 1, 2, 3), 0, 4), null, 'type 0');
  t.equal(parseDhcpv6(Uint8Array.of(14, 1, 2, 3), 0, 4), null, 'type 14');
});

t.test('dhcpv6: an option running past the end stops the walk', async (t) => {
  const msg = concatBytes(
    Uint8Array.of(1, 0, 0, 1),
    option(6, Uint8Array.of(0, 23)),
    Uint8Array.of(0, 39, 0, 200, 1, 2),
  );
  const info = parseDhcpv6(msg, 0, msg.length);
  t.same(info?.optionRequests, [23]);
  t.equal(info?.fqdn, '');
});

t.test('dhcpv6: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(t, parseDhcpv6, [solicit, relay(relay(solicit))], 0x6d6);
});
