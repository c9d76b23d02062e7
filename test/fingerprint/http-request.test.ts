import t from 'tap';

import { textBytes } from '../../scripts/lib/frame-builder.js';
import {
  HttpHeaderLine,
  MAX_HTTP_HEAD_BYTES,
  parseHttpRequest,
  readHttpHeaderLine,
} from '../../src/fingerprint/http-request.js';
import { checkRobustness } from './robustness.js';

const GET =
  'GET /results?mrn=12345&name=DOE HTTP/1.1\r\n' +
  'Host: pacs.example.org:8080\r\n' +
  'User-Agent: SYNTH-Viewer/2.1 (Windows NT 10.0)\r\nAccept: */*\r\n\r\n';

const parse = (text: string) => {
  const b = textBytes(text);
  return parseHttpRequest(b, 0, b.length);
};

t.test('http: GET golden, and the target is never kept', async (t) => {
  const info = parse(GET);
  t.same(info, {
    method: 'GET',
    version: '1.1',
    host: 'pacs.example.org:8080',
    userAgent: 'SYNTH-Viewer/2.1 (Windows NT 10.0)',
  });
  t.notOk(JSON.stringify(info).includes('mrn'), 'no query string in output');
});

t.test('http: methods, version 1.0, header case and spacing', async (t) => {
  for (const method of ['POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    t.equal(parse(`${method} /x HTTP/1.0\r\n\r\n`)?.method, method);
  }
  t.equal(parse('CONNECT a:443 HTTP/1.1\r\n\r\n')?.method, 'CONNECT');
  const info = parse('GET / HTTP/1.0\nhost:h\nUSER-AGENT:   ua 1  \n\n');
  t.equal(info?.version, '1.0');
  t.equal(info?.host, 'h');
  t.equal(info?.userAgent, 'ua 1', 'trimmed');
});

t.test('http: an empty User-Agent and a head cut mid-segment', async (t) => {
  t.equal(parse('GET / HTTP/1.0\nUser-Agent:\n\n')?.userAgent, '');
  const cut = parse('GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: partial');
  t.equal(cut?.host, 'a');
  t.equal(cut?.userAgent, '', 'a header without its line end is not read');
  t.equal(parse('GET / HTTP/1.0\n')?.method, 'GET', 'shortest request');
});

t.test('http: not a request -> null', async (t) => {
  t.equal(parse('HTTP/1.1 200 OK\r\n\r\n'), null, 'a response');
  t.equal(parse('get / HTTP/1.1\r\n\r\n'), null, 'lower-case method');
  t.equal(parse('GETX / HTTP/1.1\r\n\r\n'), null);
  t.equal(parse('GET / HTTP/2.0\r\n\r\n'), null, 'not HTTP/1.x');
  t.equal(parse('GET / HTTP/1.1'), null, 'request line not ended');
  t.equal(parse('M-SEARCH * HTTP/1.1\r\n\r\n'), null, 'SSDP is not ours');
  t.equal(parse('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcdefgh'), null);
  const long = `GET /${'a'.repeat(MAX_HTTP_HEAD_BYTES)} HTTP/1.1\r\n\r\n`;
  t.equal(parse(long), null, 'request line past the scan limit');
});

t.test('http: header lines past the limit are not read', async (t) => {
  const filler = 'X-Filler: 1\r\n'.repeat(80);
  const info = parse(`GET / HTTP/1.1\r\n${filler}Host: late\r\n\r\n`);
  t.equal(info?.method, 'GET');
  t.equal(info?.host, '');
});

t.test('readHttpHeaderLine: offsets, blank line, no colon', async (t) => {
  const b = textBytes('Name :  value \t\r\nbad\r\n\r\n');
  const line = new HttpHeaderLine();
  const next = readHttpHeaderLine(b, 0, b.length, line);
  t.equal(next, 17);
  t.equal(line.nameEnd - line.nameOff, 5, 'name up to the colon');
  t.equal(
    Buffer.from(b.subarray(line.valueOff, line.valueEnd)).toString(),
    'value',
  );
  t.equal(readHttpHeaderLine(b, next, b.length, line), -1, 'no colon');
  t.equal(readHttpHeaderLine(b, 22, b.length, line), 0, 'blank line');
});

t.test('http: every prefix and seeded mutations never throw', async (t) => {
  checkRobustness(
    t,
    parseHttpRequest,
    [textBytes(GET), textBytes('POST /a HTTP/1.0\nHost: b\n\nbody')],
    0x4771,
  );
});
