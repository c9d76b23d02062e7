import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { SAMPLE, spansight } from '../support/cli.js';

t.test('--json prints exactly one object with the contract keys', async (t) => {
  const { code, stdout } = spansight('read', SAMPLE, '--json');
  t.equal(code, 0);
  t.equal(stdout.trim().split('\n').length, 1, 'one line');
  const report = JSON.parse(stdout);
  for (const key of [
    'packets',
    'bytes',
    'linkType',
    'counts',
    'malformed',
    'flows',
    'seconds',
    'packetsPerSecond',
  ]) {
    t.ok(key in report, `has ${key}`);
  }
  t.same(Object.keys(report.counts), [
    'ethernet',
    'vlan',
    'arp',
    'ipv4',
    'ipv6',
    'tcp',
    'udp',
    'icmp',
    'icmpv6',
    'ipv4Fragments',
    'other',
  ]);
  t.ok('total' in report.malformed && 'byReason' in report.malformed);
  for (const key of ['tcp', 'udp', 'other', 'evicted']) {
    t.type(report.flows[key], 'number', `flows.${key}`);
  }
  t.equal(report.linkType, 'ethernet');
  t.equal(report.counts.ethernet, report.packets, 'every frame is Ethernet');
  t.ok(report.flows.tcp > 0 && report.flows.udp > 0, 'has TCP and UDP flows');
  t.equal(report.decoderExceptions, 0);
});

t.test('the table names every layer and the flow counts', async (t) => {
  const { code, stdout } = spansight('read', SAMPLE);
  t.equal(code, 0);
  t.match(stdout, /ipv4Fragments/);
  t.match(stdout, /distinct flows/);
  t.match(stdout, /packets\/s/);
});

t.test('a truncated file: totals up to the damage, offset named', async (t) => {
  const dir = t.testdir({});
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, readFileSync(SAMPLE).subarray(0, 100_000));
  const { code, stdout, stderr } = spansight('read', cut, '--json');
  t.equal(code, 1);
  const report = JSON.parse(stdout);
  t.ok(report.packets > 0, 'frames before the damage were decoded');
  t.equal(report.error.code, 'E_CAPTURE_TRUNCATED');
  t.ok(report.error.byteOffset > 0 && report.error.byteOffset < 100_000);
  t.match(stderr, new RegExp(`at byte ${report.error.byteOffset}`));
});

t.test('bad arguments and files get clear errors', async (t) => {
  const missing = spansight('read', '/nonexistent/capture.pcap');
  t.equal(missing.code, 1);
  t.match(missing.stderr, /capture\.pcap: no such file/);

  const dir = t.testdir({ 'junk.pcap': 'not a capture at all' });
  const junk = spansight('read', join(dir, 'junk.pcap'));
  t.equal(junk.code, 1);
  t.match(junk.stderr, /not a pcap or pcapng file at byte 0/);

  t.equal(spansight('read').code, 2, 'no file is a usage error');
  t.equal(spansight('read', SAMPLE, '--max-flows', 'x').code, 2);
  t.equal(spansight('nonsense').code, 2);
});
