import t from 'tap';

import { readCaptureFile } from '../../src/capture/capture-file.js';
import { describeMessage } from '../../src/cli/watch.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';
import { decodeMessage, encodeDevices } from '../../src/publish/messages.js';
import { SAMPLE } from '../support/cli.js';

const HEADER = {
  sensorId: 'sensor-icu-01',
  site: 'st-example',
  bootId: '0f8e4a2c-9b1d-4e6f-8a3b-5c7d9e1f2a4b',
  seq: 1,
  sentUs: 1_733_238_000_000_000,
};

t.test('watch: a device snapshot lines up, IPv4 first', async (t) => {
  const inventory = new Inventory();
  const pipeline = new PacketPipeline({ inventory });
  readCaptureFile(SAMPLE, pipeline);
  pipeline.flows.flush();
  const devices = inventory.report();
  const message = decodeMessage(
    'devices',
    encodeDevices(HEADER, 'snapshot', devices),
  );
  const text = describeMessage({
    topic: 'spansight/st-example/sensor-icu-01/devices',
    sensor: 'st-example/sensor-icu-01',
    kind: 'devices',
    message,
  });
  const lines = text.split('\n');
  t.equal(
    lines[0],
    `devices st-example/sensor-icu-01 snapshot: ${devices.length} devices`,
  );
  const rows = lines.slice(1);
  t.equal(rows.length, devices.length);
  // The make starts where the longest category ends, on every line.
  const makeAt = (row: string, device: (typeof devices)[number]) => {
    const label = [device.make, device.model].filter(Boolean).join(' ');
    return row.indexOf(` ${label || '-'} (`);
  };
  const columns = new Set(
    rows.map((row) => {
      const device = devices.find((d) => row.startsWith(`  ${d.id} `));
      return device === undefined ? -1 : makeAt(row, device);
    }),
  );
  t.same([...columns], [2 + 24 + 1 + 28], 'one column for every make');
  const workstation = rows.find((row) => row.includes('10:65:30:53:00:41'));
  t.match(workstation, / 10\.10\.30\.31 fe80::/, 'IPv4 before link-local');
});
