import t from 'tap';

import type { DeviceReport } from '../../src/inventory/device.js';
import { SAMPLE, spansight } from '../support/cli.js';

const json = spansight('inventory', SAMPLE, '--json');
const devices = (JSON.parse(json.stdout) as { devices: DeviceReport[] })
  .devices;
const table = spansight('inventory', SAMPLE);
const lines = table.stdout.split('\n');
const head = lines[2];
const rows = lines.slice(4, 4 + devices.length);

/** Each column's name and span, read off the rule under the head. */
const columns = [...lines[3].matchAll(/-+/g)].map((run) => ({
  name: head.slice(run.index, run.index + run[0].length).trim(),
  start: run.index,
  end: run.index + run[0].length,
}));

function cell(row: string, name: string): string {
  const column = columns.find((candidate) => candidate.name === name);
  if (column === undefined) throw new Error(`no column ${name}`);
  return row.slice(column.start, column.end).trim();
}

t.test('the table lists every device of the JSON, one row each', async (t) => {
  t.equal(table.code, 0);
  t.match(lines[0], new RegExp(`^${devices.length} devices \\(catalog .+\\)$`));
  t.match(lines[3], /^-+( +-+)+$/, 'a rule under the head');
  t.equal(rows.length, devices.length);
  t.equal(lines[4 + devices.length], '', 'then a blank line');
  const macs = rows.map((row) => cell(row, 'mac'));
  t.same(
    macs,
    devices.map((device) => device.mac ?? '(routed)'),
    'in the JSON order',
  );
});

t.test('text columns align left, numbers right', async (t) => {
  const categoryAt = head.indexOf('category');
  const confEnd = head.indexOf('conf') + 'conf'.length;
  for (const [i, row] of rows.entries()) {
    const device = devices[i];
    t.equal(
      row.slice(categoryAt, categoryAt + device.category.length),
      device.category,
      `${device.id}: category starts under its head`,
    );
    t.equal(
      row.slice(confEnd - 4, confEnd),
      device.confidence.toFixed(2),
      `${device.id}: confidence ends under its head`,
    );
  }
});

t.test('addresses: IPv4 first, link-local last; routed: no VLAN', async (t) => {
  const workstation = devices.findIndex((device) =>
    device.ips.some((ip) => ip.startsWith('fe80:')),
  );
  t.ok(workstation >= 0, 'a device with a link-local address');
  const ips = cell(rows[workstation], 'ips').split(' ');
  t.notOk(ips[0].includes(':'), `${ips[0]} is IPv4`);
  const routed = devices.findIndex((device) => device.routed);
  t.ok(routed >= 0, 'a routed host');
  t.equal(cell(rows[routed], 'vlan'), '-');
  t.equal(cell(rows[routed], 'mac'), '(routed)');
});

t.test(
  'a device without a host name goes by its AE title or HL7 application',
  async (t) => {
    const nameOf = (id: string) =>
      cell(rows[devices.findIndex((device) => device.id === id)], 'name');
    t.equal(nameOf('44:4b:5d:53:00:31@20'), 'SYNTH-CT-01 (AE)', 'requestor');
    t.equal(nameOf('10.10.100.30'), 'SYNTH-PACS (AE)', 'acceptor');
    t.equal(nameOf('10.10.100.20'), 'SYNTH-HL7-ENGINE (HL7)');
    t.equal(nameOf('00:09:5c:53:00:11@10'), 'SYNTH-MON-01', 'host name first');
  },
);
