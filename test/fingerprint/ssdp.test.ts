import t from 'tap';

import { textBytes } from '../../scripts/lib/frame-builder.js';
import { parseSsdp } from '../../src/fingerprint/ssdp.js';
import { checkRobustness } from './robustness.js';

const NOTIFY =
  'NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n' +
  'CACHE-CONTROL: max-age=1800\r\n' +
  'LOCATION: http://192.0.2.9:49152/description.xml\r\n' +
  'NT: urn:schemas-upnp-org:device:MediaRenderer:1\r\nNTS: ssdp:alive\r\n' +
  'SERVER: SynthOS/2.0 UPnP/1.0 SYNTH-TV/4.2\r\n' +
  'USN: uuid:5359e454-0000-4000-8000-000000000009::' +
  'urn:schemas-upnp-org:device:MediaRenderer:1\r\n\r\n';

const M_SEARCH =
  'M-SEARCH * HTTP/1.1\r\nHost:239.255.255.250:1900\r\n' +
  'ST:urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n' +
  'Man:"ssdp:discover"\r\nMX:3\r\n' +
  'User-Agent: SynthOS/1.0 UPnP/1.1 cp/0.1\r\n\r\n';

const REPLY =
  'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n' +
  'LOCATION: http://192.0.2.9:80/d.xml\r\n' +
  'SERVER: SynthOS/2.0 UPnP/1.1 CAM/3\r\n' +
  'ST: upnp:rootdevice\r\nUSN: uuid:abc::upnp:rootdevice\r\n\r\n';

const parse = (text: string) => {
  const b = textBytes(text);
  return parseSsdp(b, 0, b.length);
};

t.test('ssdp: NOTIFY golden', async (t) => {
  t.same(parse(NOTIFY), {
    method: 'NOTIFY',
    statusCode: -1,
    server: 'SynthOS/2.0 UPnP/1.0 SYNTH-TV/4.2',
    userAgent: '',
    notificationType: 'urn:schemas-upnp-org:device:MediaRenderer:1',
    notificationSubtype: 'ssdp:alive',
    searchTarget: '',
    usn:
      'uuid:5359e454-0000-4000-8000-000000000009::' +
      'urn:schemas-upnp-org:device:MediaRenderer:1',
    location: 'http://192.0.2.9:49152/description.xml',
  });
});

t.test('ssdp: M-SEARCH with mixed-case headers and no spaces', async (t) => {
  const info = parse(M_SEARCH);
  t.equal(info?.method, 'M-SEARCH');
  t.equal(
    info?.searchTarget,
    'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  );
  t.equal(info?.userAgent, 'SynthOS/1.0 UPnP/1.1 cp/0.1');
  t.equal(info?.server, '');
});

t.test('ssdp: search reply', async (t) => {
  const info = parse(REPLY);
  t.equal(info?.method, '');
  t.equal(info?.statusCode, 200);
  t.equal(info?.server, 'SynthOS/2.0 UPnP/1.1 CAM/3');
  t.equal(info?.searchTarget, 'upnp:rootdevice');
  t.equal(info?.usn, 'uuid:abc::upnp:rootdevice');
});

t.test(
  'ssdp: bare LF line ends, a line without colon, first copy wins',
  async (t) => {
    const info = parse(
      'NOTIFY * HTTP/1.1\nbroken line\nSERVER: one\nSERVER: two\n' +
        'NT: x\n\nSERVER: body',
    );
    t.equal(info?.server, 'one');
    t.equal(info?.notificationType, 'x');
  },
);

t.test(
  'ssdp: headers after the blank line or the cut are not read',
  async (t) => {
    const info = parse('NOTIFY * HTTP/1.1\r\nNT: a\r\nUSN: uuid:1');
    t.equal(info?.notificationType, 'a');
    t.equal(info?.usn, '', 'a line without its end is not trusted');
  },
);

t.test('ssdp: not SSDP -> null', async (t) => {
  t.equal(parse('GET / HTTP/1.1\r\n\r\n'), null);
  t.equal(parse('HTTP/1.1 abc OK\r\n\r\n'), null, 'bad status code');
  t.equal(parse('NOTIFY'), null, 'too short');
  t.equal(parseSsdp(new Uint8Array(64), 0, 64), null);
});

t.test('ssdp: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(
    t,
    parseSsdp,
    [textBytes(NOTIFY), textBytes(M_SEARCH), textBytes(REPLY)],
    0x55d9,
  );
});
