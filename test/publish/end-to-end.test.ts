/**
 * The sensor (`spansight run` as a child process) publishing to a real
 * Mosquitto, read back by a subscriber: what arrives equals the offline
 * inventory, and outages, kills, torn records, bad certificates and bad
 * passwords lose nothing.
 */
import { join } from 'node:path';
import { readdirSync, statSync, truncateSync } from 'node:fs';

import t from 'tap';

import { generateTestCerts } from '../support/certs.js';
import { startMosquitto } from '../support/mosquitto.js';
import {
  SAMPLE,
  offlineInventory,
  outboxBytes,
  range,
  retimeCapture,
  runSensor,
  sleep,
  sortById,
  startSensor,
  subscribe,
  tempDir,
  waitFor,
  writeText,
} from '../support/sensor-run.js';

t.test('end to end: the subscriber gets the offline inventory', async (t) => {
  const broker = await startMosquitto({ teardown: (fn) => t.teardown(fn) });
  const subscriber = await subscribe(t, broker.url, 'e2e-inventory');
  const stateDir = tempDir(t);

  const run = await runSensor(
    ['--pcap', SAMPLE, '--fast', '--broker', broker.url],
    stateDir,
  );
  t.equal(run.exitCode, 0, run.stderr);
  const bootId = await subscriber.waitForOffline();

  const expected = offlineInventory(SAMPLE);
  const published = subscriber.devicesOf(bootId);
  t.equal(published.length, expected.length, 'as many devices');
  t.same(
    sortById(published),
    sortById(expected),
    'devices equal field by field',
  );
  t.same(subscriber.collector.sequences.missing, 0, 'no message missing');
  t.ok(
    subscriber.messages.some((m) => m.topic === 'flows'),
    'flow summaries arrived',
  );
});

t.test('end to end: a broker outage mid-run loses nothing', async (t) => {
  const broker = await startMosquitto({
    persistence: true,
    teardown: (fn) => t.teardown(fn),
  });
  const subscriber = await subscribe(t, broker.url, 'e2e-outage');
  const stateDir = tempDir(t);
  // The sample's ten minutes squeezed into about eight seconds, summarized
  // every second, so messages keep coming while the broker is away.
  const capture = join(tempDir(t), 'fast-sample.pcap');
  retimeCapture(SAMPLE, capture, 75);

  const sensor = startSensor(
    ['--pcap', capture, '--broker', broker.url, '--interval-sec', '1'],
    stateDir,
  );
  await sleep(2_000);
  await broker.stop();
  await sleep(3_000);
  await broker.restart();
  const run = await sensor.done;
  t.equal(run.exitCode, 0, run.stderr);

  const bootId = await subscriber.waitForOffline();
  for (const topic of ['status', 'devices', 'flows'] as const) {
    const seqs = subscriber.seqsOf(bootId, topic);
    t.ok(seqs.length > 0, `${topic} messages arrived`);
    t.same(seqs, range(1, seqs[seqs.length - 1]), `${topic}: 1..n, no gap`);
  }
  t.ok(subscriber.seqsOf(bootId, 'flows').length >= 6, 'intervals kept coming');
});

t.test(
  'end to end: SIGKILL while the broker is down, then a torn record',
  async (t) => {
    const broker = await startMosquitto({ teardown: (fn) => t.teardown(fn) });
    await broker.stop();
    const stateDir = tempDir(t);
    const capture = join(tempDir(t), 'fast-sample.pcap');
    retimeCapture(SAMPLE, capture, 75);

    const first = startSensor(
      ['--pcap', capture, '--broker', broker.url, '--interval-sec', '1'],
      stateDir,
    );
    // Kill it once it has stored a few intervals (the capture lasts ~8 s).
    const outboxDir = join(stateDir, 'outbox');
    await waitFor(() => outboxBytes(outboxDir) > 20_000, 15_000);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    t.equal(killed.exitCode, null, `killed, not exited: ${killed.stderr}`);

    // Cut the newest outbox segment inside its last record, as a power cut
    // during a write would.
    const segments = readdirSync(outboxDir)
      .filter((name) => name.endsWith('.seg'))
      .map((name) => join(outboxDir, name))
      .filter((path) => statSync(path).isFile() && statSync(path).size > 0)
      .sort();
    t.ok(segments.length > 0, 'the killed sensor left outbox segments');
    const newest = segments[segments.length - 1];
    truncateSync(newest, statSync(newest).size - 3);

    await broker.restart();
    const subscriber = await subscribe(t, broker.url, 'e2e-kill');
    const second = await runSensor(
      ['--pcap', SAMPLE, '--fast', '--broker', broker.url],
      stateDir,
    );
    t.equal(second.exitCode, 0, second.stderr);
    const secondBoot = await subscriber.waitForOffline();

    const boots = subscriber.bootIds();
    const firstBoot = boots.find((boot) => boot !== secondBoot);
    t.ok(firstBoot, 'messages of the killed boot were replayed');
    const flowSeqs = subscriber.seqsOf(firstBoot!, 'flows');
    t.ok(flowSeqs.length >= 2, 'intervals of the killed boot arrived');
    for (const topic of ['status', 'devices', 'flows'] as const) {
      const seqs = subscriber.seqsOf(firstBoot!, topic);
      if (seqs.length === 0) continue;
      t.same(seqs, range(1, seqs[seqs.length - 1]), `${topic}: 1..n in order`);
    }
    const status = subscriber.lastStatusOf(secondBoot);
    t.equal(status?.outboxTornRecords, 1, 'the torn record was counted');
  },
);

t.test(
  'end to end: a wrong server certificate is refused, nothing lost',
  async (t) => {
    const certs = generateTestCerts(join(tempDir(t), 'pki'));
    const broker = await startMosquitto({
      tls: {
        caFile: certs.caCert,
        certFile: certs.otherServerCert,
        keyFile: certs.otherServerKey,
        requireClientCert: false,
      },
      teardown: (fn) => t.teardown(fn),
    });
    const stateDir = tempDir(t);
    const env = { SPANSIGHT_PUBLISH_CA_FILE: certs.caCert };
    const refused = await runSensor(
      ['--pcap', SAMPLE, '--fast', '--broker', broker.url],
      stateDir,
      env,
    );
    t.equal(refused.exitCode, 0, 'the run itself completes');
    t.match(refused.stdout, /E_MQTT_TLS/, 'the log names the TLS failure');
    t.notMatch(broker.readLog(), /New client connected/, 'no MQTT session');

    // The broker gets a certificate the sensor trusts: the outbox goes out.
    await broker.dispose();
    const good = await startMosquitto({
      tls: {
        caFile: certs.caCert,
        certFile: certs.serverCert,
        keyFile: certs.serverKey,
        requireClientCert: false,
      },
      teardown: (fn) => t.teardown(fn),
    });
    const subscriber = await subscribe(t, good.url, 'e2e-tls', {
      ca: certs.caCert,
    });
    const second = await runSensor(
      ['--pcap', SAMPLE, '--fast', '--broker', good.url],
      stateDir,
      env,
    );
    t.equal(second.exitCode, 0, second.stderr);
    await subscriber.waitForOffline();
    const firstBoot = subscriber
      .bootIds()
      .find(
        (boot) =>
          subscriber.seqsOf(boot, 'flows').length > 0 &&
          boot !== subscriber.lastBoot(),
      );
    t.ok(firstBoot, 'the refused run was delivered later');
    t.same(
      subscriber.seqsOf(firstBoot!, 'flows'),
      range(1, 10),
      'all ten intervals of the refused run',
    );
  },
);

t.test(
  'end to end: wrong credentials give a clear error, nothing lost',
  async (t) => {
    const broker = await startMosquitto({
      users: { sensor: 'right-password' },
      teardown: (fn) => t.teardown(fn),
    });
    const dir = tempDir(t);
    const stateDir = join(dir, 'state');
    const wrong = join(dir, 'wrong');
    const right = join(dir, 'right');
    writeText(wrong, 'wrong-password\n');
    writeText(right, 'right-password\n');

    const refused = await runSensor(
      ['--pcap', SAMPLE, '--fast', '--broker', broker.url],
      stateDir,
      {
        SPANSIGHT_PUBLISH_USERNAME: 'sensor',
        SPANSIGHT_PUBLISH_PASSWORD_FILE: wrong,
      },
    );
    t.equal(refused.exitCode, 0);
    t.match(refused.stdout, /E_MQTT_AUTH/, 'the log names the refusal');
    t.notMatch(refused.stdout, /wrong-password/, 'the password is not logged');

    const subscriber = await subscribe(t, broker.url, 'e2e-auth', {
      username: 'sensor',
      password: 'right-password',
    });
    const second = await runSensor(
      ['--pcap', SAMPLE, '--fast', '--broker', broker.url],
      stateDir,
      {
        SPANSIGHT_PUBLISH_USERNAME: 'sensor',
        SPANSIGHT_PUBLISH_PASSWORD_FILE: right,
      },
    );
    t.equal(second.exitCode, 0, second.stderr);
    await subscriber.waitForOffline();
    t.equal(subscriber.bootIds().length, 2, 'both runs were delivered');
    for (const boot of subscriber.bootIds()) {
      t.same(subscriber.seqsOf(boot, 'flows'), range(1, 10), 'ten intervals');
    }
  },
);
