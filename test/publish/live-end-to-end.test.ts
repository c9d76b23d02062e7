/**
 * The deployed path in miniature: `spansight run --interface` on a veth
 * whose other end sits in a test namespace, tcpreplay feeding it, a real
 * Mosquitto, a subscriber. The devices at the broker are the capture's.
 */
import t from 'tap';

import {
  createVethNetns,
  replay,
  sweepLeftovers,
  txPackets,
} from '../support/netns.js';
import { startMosquitto } from '../support/mosquitto.js';
import {
  SAMPLE,
  offlineInventory,
  startSensor,
  subscribe,
  tempDir,
  waitFor,
} from '../support/sensor-run.js';

sweepLeftovers();

t.test(
  'live end to end: devices on the mirror appear at the broker',
  async (t) => {
    const env = createVethNetns();
    t.teardown(() => env.destroy());
    const broker = await startMosquitto({ teardown: (fn) => t.teardown(fn) });
    const subscriber = await subscribe(t, broker.url, 'e2e-live');
    const txBefore = txPackets(env.captureIf);

    const sensor = startSensor(
      ['--interface', env.captureIf, '--broker', broker.url],
      tempDir(t),
      { SPANSIGHT_CAPTURE_FEED_LOSS_TIMEOUT_SEC: '600' },
    );
    t.teardown(() => {
      sensor.child.kill('SIGKILL');
    });
    // Capture is up once the birth arrives.
    await waitFor(() => subscriber.bootIds().length > 0, 20_000);
    t.equal(subscriber.bootIds().length, 1, 'the sensor announced itself');

    // The birth is published before the capture opens: wait for the open.
    await waitFor(() => sensor.output().includes('"capture_opened"'), 20_000);
    await replay(env, SAMPLE, { pps: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stopAtMs = Date.now();
    sensor.child.kill('SIGTERM');
    const run = await sensor.done;
    const stopMs = Date.now() - stopAtMs;
    t.equal(run.exitCode, 0, run.stderr);
    t.ok(stopMs < 5_000, `SIGTERM to exit in ${stopMs} ms (under 5 s)`);

    const bootId = await subscriber.waitForOffline();
    const published = subscriber.devicesOf(bootId);
    const expected = offlineInventory(SAMPLE);
    t.same(
      published.map((device) => device.id).sort(),
      expected.map((device) => device.id).sort(),
      'the same devices as the offline inventory of the capture',
    );
    const status = subscriber.lastStatusOf(bootId);
    t.equal(status?.frames, 2215, 'every frame captured');
    t.equal(status?.kernelDroppedFrames, 0, 'no kernel drops');
    t.equal(status?.captureSourceKind, 'interface');
    t.equal(txPackets(env.captureIf) - txBefore, 0, 'nothing sent on capture');
  },
);
