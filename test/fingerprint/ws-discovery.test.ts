import t from 'tap';

import { textBytes } from '../../scripts/lib/frame-builder.js';
import {
  MAX_WSD_LIST_ITEMS,
  parseWsDiscovery,
} from '../../src/fingerprint/ws-discovery.js';
import { checkRobustness } from './robustness.js';

// An IEEE 11073 SDC provider announcing itself (WS-Discovery 1.1).
const SDC_HELLO = `<?xml version="1.0" encoding="UTF-8"?>
<s12:Envelope xmlns:s12="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://www.w3.org/2005/08/addressing"
  xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"
  xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"
  xmlns:mdpws="http://standards.ieee.org/downloads/11073/11073-20702-2016">
 <s12:Header>
  <wsa:To>urn:docs-oasis-open-org:ws-dd:ns:discovery:2009:01</wsa:To>
  <wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</wsa:Action>
  <wsa:MessageID>urn:uuid:0b3a8d2e-0000-4000-8000-000000000001</wsa:MessageID>
  <wsd:AppSequence InstanceId="1" MessageNumber="1"/>
 </s12:Header>
 <s12:Body>
  <wsd:Hello>
   <wsa:EndpointReference>
    <wsa:Address>urn:uuid:5359e454-0000-4000-8000-00000000000a</wsa:Address>
   </wsa:EndpointReference>
   <wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types>
   <wsd:Scopes>
     sdc.ctxt.loc:/sdc.ctxt.loc.detail/%2F%2F%2FICU%2F7%2FBed7?fac=HOSP&amp;bldng=A&amp;poc=ICU&amp;bed=Bed7
     sdc.cdc.type:///130535
   </wsd:Scopes>
   <wsd:XAddrs>https://192.0.2.10:6464/dev https://[2001:db8::a]:6464/dev</wsd:XAddrs>
   <wsd:MetadataVersion>3</wsd:MetadataVersion>
  </wsd:Hello>
 </s12:Body>
</s12:Envelope>`;

// A Windows-style printer answering a probe (2005 draft namespace).
const PROBE_MATCHES = [
  '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:wprt="http://schemas.microsoft.com/windows/2006/08/wdp/print">',
  '<soap:Header>',
  '<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>',
  '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>',
  '<wsa:ReplyTo>',
  '<wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address>',
  '</wsa:ReplyTo>',
  '<!-- a comment with <wsa:Address>fake</wsa:Address> -->',
  '</soap:Header>',
  '<soap:Body>',
  '<wsd:ProbeMatches>',
  '<wsd:ProbeMatch>',
  '<wsa:EndpointReference>',
  '<wsa:Address>urn:uuid:16a65700-007c-1000-bb49-00000000feed</wsa:Address>',
  '</wsa:EndpointReference>',
  '<wsd:Types>wsdp:Device wprt:PrintDeviceType</wsd:Types>',
  '<wsd:XAddrs>http://192.0.2.30:3911/</wsd:XAddrs>',
  '<wsd:MetadataVersion>1</wsd:MetadataVersion>',
  '</wsd:ProbeMatch>',
  '</wsd:ProbeMatches>',
  '</soap:Body>',
  '</soap:Envelope>',
].join('');

// A probe without an Action header: the body element names it.
const PROBE = [
  '\ufeff <e:Envelope xmlns:e="x">',
  '<e:Body>',
  '<d:Probe xmlns:d="y">',
  "<d:Types attr='a>b'>dn:NetworkVideoTransmitter</d:Types>",
  '<d:Scopes/>',
  '</d:Probe>',
  '</e:Body>',
  '</e:Envelope>',
].join('');

const parse = (text: string) => {
  const b = textBytes(text);
  return parseWsDiscovery(b, 0, b.length);
};

t.test('wsd: SDC Hello golden', async (t) => {
  t.same(parse(SDC_HELLO), {
    messageType: 'Hello',
    action: 'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello',
    endpointAddresses: ['urn:uuid:5359e454-0000-4000-8000-00000000000a'],
    types: ['dpws:Device', 'mdpws:MedicalDevice'],
    scopes: [
      'sdc.ctxt.loc:/sdc.ctxt.loc.detail/%2F%2F%2FICU%2F7%2FBed7?fac=HOSP&bldng=A&poc=ICU&bed=Bed7',
      'sdc.cdc.type:///130535',
    ],
    xAddrs: ['https://192.0.2.10:6464/dev', 'https://[2001:db8::a]:6464/dev'],
    metadataVersion: 3,
  });
});

t.test(
  'wsd: ProbeMatches: ReplyTo and comments are not endpoints',
  async (t) => {
    const info = parse(PROBE_MATCHES);
    t.equal(info?.messageType, 'ProbeMatches');
    t.same(info?.endpointAddresses, [
      'urn:uuid:16a65700-007c-1000-bb49-00000000feed',
    ]);
    t.same(info?.types, ['wsdp:Device', 'wprt:PrintDeviceType']);
    t.same(info?.xAddrs, ['http://192.0.2.30:3911/']);
    t.equal(info?.metadataVersion, 1);
  },
);

t.test(
  'wsd: Probe named by its body; BOM, quotes, empty element',
  async (t) => {
    const info = parse(PROBE);
    t.equal(info?.messageType, 'Probe');
    t.equal(info?.action, '');
    t.same(info?.types, ['dn:NetworkVideoTransmitter'], '> inside quotes');
    t.same(info?.scopes, []);
  },
);

t.test('wsd: character references', async (t) => {
  const info = parse(
    '<E:Envelope><E:Body><d:Hello><d:Scopes>' +
      'a&#x41;&#66;&lt;&quot;&#1;&bogus;&#xd800;' +
      '</d:Scopes></d:Hello></E:Body></E:Envelope>',
  );
  t.same(info?.scopes, ['aAB<"&#1;&bogus;&#xd800;']);
});

t.test('wsd: lists are capped', async (t) => {
  const scopes = Array.from({ length: 40 }, (_, i) => `s${i}`).join(' ');
  const info = parse(
    `<Envelope><Body><Hello><Scopes>${scopes}</Scopes></Hello></Body>` +
      '</Envelope>',
  );
  t.equal(info?.scopes.length, MAX_WSD_LIST_ITEMS);
});

t.test('wsd: not WS-Discovery -> null', async (t) => {
  t.equal(parse('{"json": true, "padding": 1}'), null);
  t.equal(parse('<html><body>Hello</body></html>'), null, 'no Envelope');
  t.equal(
    parse('<Envelope><Body><Other/></Body></Envelope>'),
    null,
    'no discovery message',
  );
  t.equal(parse('<Envelope'), null, 'too short');
});

t.test('wsd: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(
    t,
    parseWsDiscovery,
    [textBytes(SDC_HELLO), textBytes(PROBE_MATCHES), textBytes(PROBE)],
    0x3702,
    1000,
  );
});
