/**
 * Device changes: a device is published again only when what identifies it
 * changed, and one published before that the inventory let go (evicted, or
 * merged into another) is named as removed, once.
 */
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { readCaptureFile } from '../../src/capture/capture-file.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';
import { DeviceChangeTracker } from '../../src/publish/device-changes.js';

const SAMPLE = fileURLToPath(
  new URL('../fixtures/generated/hospital-sample.pcap', import.meta.url),
);

function sampleDevices() {
  const inventory = new Inventory();
  const pipeline = new PacketPipeline({ inventory });
  readCaptureFile(SAMPLE, pipeline);
  pipeline.flows.flush();
  return inventory.report();
}

t.test('changes: new, unchanged, gone and back', async (t) => {
  const devices = sampleDevices();
  t.ok(devices.length > 3, `${devices.length} devices`);
  const tracker = new DeviceChangeTracker();

  const first = tracker.update(devices, 0);
  t.equal(first.changed.length, devices.length, 'all new');
  t.same(first.removedIds, []);

  const again = tracker.update(devices, 1);
  t.same(again.changed, [], 'nothing changed');
  t.same(again.removedIds, []);

  const [gone, ...held] = devices;
  const without = tracker.update(held, 2);
  t.same(without.changed, []);
  t.same(without.removedIds, [gone.id], 'the device let go');
  t.same(tracker.update(held, 3).removedIds, [], 'named once');

  const back = tracker.update(devices, 4);
  t.same(
    back.changed.map((device) => device.id),
    [gone.id],
    'a device held again is new again',
  );
});

t.test(
  'changes: a device whose counters alone moved is unchanged',
  async (t) => {
    const devices = sampleDevices();
    const tracker = new DeviceChangeTracker();
    tracker.update(devices, 0);
    const busier = devices.map((device) => ({
      ...device,
      packets: device.packets + 10,
      bytes: device.bytes + 1000,
    }));
    t.same(tracker.update(busier, 1).changed, []);
  },
);
