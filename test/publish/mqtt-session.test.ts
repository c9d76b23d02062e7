/**
 * MqttSession against real brokers: mosquitto 2.0 processes (plain, password,
 * mutual TLS with generated certificates) and in-process aedes for 3.1.1.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connectAsync, type IPublishPacket, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import t from 'tap';
import {
  backoffCapMs,
  backoffDelayMs,
} from '../../src/publish/mqtt-backoff.js';
import {
  MqttErrorCode,
  MqttSession,
  parseMqttUrl,
  type MqttConnectFailedInfo,
  type MqttSessionOptions,
} from '../../src/publish/mqtt-session.js';
import { topicMatchesFilter } from '../../src/publish/mqtt-topic.js';
import { startAedes } from '../support/aedes-broker.js';
import { generateTestCerts, type TestCerts } from '../support/certs.js';
import { findFreePort, startMosquitto } from '../support/mosquitto.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

/** The part of a tap test the helpers need. */
interface Test {
  teardown(fn: () => unknown): void;
}

const teardownOf =
  (t: Test) =>
  (fn: () => unknown): void =>
    t.teardown(fn);

const FAST_BACKOFF = { initialMs: 50, maxMs: 400 };
const WAIT_MS = 8_000;

let certsDir = '';
let certs: TestCerts;
t.before(() => {
  certsDir = mkdtempSync(join(tmpdir(), 'spansight-certs-'));
  certs = generateTestCerts(certsDir);
});
t.teardown(() => rmSync(certsDir, { recursive: true, force: true }));

t.test('mqtt-backoff: caps double up to maxMs and delays are jittered', (t) => {
  const options = { initialMs: 100, maxMs: 3_000 };
  const caps = [0, 1, 2, 3, 4, 5, 6, 10, 40].map((n) =>
    backoffCapMs(n, options),
  );
  t.same(caps, [100, 200, 400, 800, 1_600, 3_000, 3_000, 3_000, 3_000]);

  const random = seededRandom(42);
  const rounds = 2_000;
  const means: number[] = [];
  for (let failures = 0; failures < 6; failures++) {
    const capMs = backoffCapMs(failures, options);
    const seen = new Set<number>();
    let sumMs = 0;
    for (let i = 0; i < rounds; i++) {
      const delayMs = backoffDelayMs(failures, options, random);
      if (delayMs < 0 || delayMs >= capMs) {
        t.fail(`delay ${delayMs} outside [0, ${capMs}) at ${failures}`);
      }
      seen.add(delayMs);
      sumMs += delayMs;
    }
    // Full jitter: mean near half the cap, and many distinct values.
    const meanMs = sumMs / rounds;
    t.ok(
      Math.abs(meanMs - capMs / 2) < capMs * 0.05,
      `mean ${meanMs.toFixed(1)} near ${capMs / 2}`,
    );
    t.ok(seen.size > Math.min(capMs, rounds) / 4, 'delays spread out');
    means.push(meanMs);
  }
  for (let i = 1; i < means.length; i++) {
    t.ok(means[i] > means[i - 1], `mean delay grows at failure ${i}`);
  }
  // The same seed replays the same delays; another seed does not.
  const a = seqOf(seededRandom(7), options);
  t.same(seqOf(seededRandom(7), options), a);
  t.not(JSON.stringify(seqOf(seededRandom(8), options)), JSON.stringify(a));
  t.end();
});

t.test('mqtt-url: bad scheme, host or port -> E_MQTT_BAD_URL', (t) => {
  const bad = [
    'http://127.0.0.1:1883',
    'ws://127.0.0.1:8080',
    'mqtt://',
    'mqtt://127.0.0.1:0',
    'mqtt://127.0.0.1:70000',
    'mqtt://127.0.0.1:12ab',
    'broker.local:1883',
    '',
    'mqtt://127.0.0.1:1883/some/path',
    'mqtt://user:secret@127.0.0.1:1883',
  ];
  for (const url of bad) {
    t.throws(
      () => parseMqttUrl(url),
      { code: MqttErrorCode.BadUrl },
      `rejects "${url}"`,
    );
  }
  try {
    parseMqttUrl('mqtt://sensor:hunter2@127.0.0.1:1883');
  } catch (err) {
    t.notMatch((err as Error).message, /hunter2/, 'password not in message');
  }
  try {
    parseMqttUrl('ftp://broker.example:21');
  } catch (err) {
    t.match((err as Error).message, /ftp:\/\/broker\.example:21/, 'names it');
  }
  t.same(parseMqttUrl('mqtt://127.0.0.1'), {
    isTls: false,
    host: '127.0.0.1',
    port: 1883,
  });
  t.same(parseMqttUrl('mqtts://broker.example'), {
    isTls: true,
    host: 'broker.example',
    port: 8883,
  });
  t.same(parseMqttUrl('mqtts://[::1]:9883/'), {
    isTls: true,
    host: '::1',
    port: 9883,
  });
  t.throws(
    () => new MqttSession({ url: 'tcp://127.0.0.1:1883', clientId: 'x' }),
    { code: MqttErrorCode.BadUrl },
    'constructor validates the URL',
  );
  t.end();
});

t.test(
  'mqtt-options: TLS files with mqtt:// or missing -> E_CONFIG_INVALID',
  (t) => {
    t.throws(
      () =>
        new MqttSession({
          url: 'mqtt://127.0.0.1:1883',
          clientId: 'x',
          caFile: certs.caCert,
        }),
      { code: MqttErrorCode.ConfigInvalid },
      'a CA beside a plaintext URL is refused',
    );
    t.throws(
      () =>
        new MqttSession({
          url: 'mqtts://127.0.0.1:8883',
          clientId: 'x',
          caFile: join(certsDir, 'missing-ca.crt'),
        }),
      { code: MqttErrorCode.ConfigInvalid, message: /missing-ca\.crt/ },
      'unreadable caFile named',
    );
    t.throws(
      () =>
        new MqttSession({
          url: 'mqtts://127.0.0.1:8883',
          clientId: 'x',
          certFile: certs.clientCert,
        }),
      { code: MqttErrorCode.ConfigInvalid },
      'certFile without keyFile',
    );
    t.end();
  },
);

t.test('mqtt-topic: + and # wildcards, $ topics', (t) => {
  const cases: [string, string, boolean][] = [
    ['spansight/v1/s1/cmd/rebirth', 'spansight/v1/s1/cmd/rebirth', true],
    ['spansight/v1/+/cmd/#', 'spansight/v1/s1/cmd/rebirth', true],
    ['spansight/v1/+/cmd/#', 'spansight/v1/s1/cmd', true],
    ['spansight/v1/+/cmd', 'spansight/v1/s1/s2/cmd', false],
    ['#', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['a/b', 'a/b/c', false],
    ['a/#/c', 'a/b/c', false],
  ];
  for (const [filter, topic, expected] of cases) {
    t.equal(
      topicMatchesFilter(filter, topic),
      expected,
      `${filter} ~ ${topic}`,
    );
  }
  t.end();
});

t.test(
  'mqtt-session: v5 QoS 1 publish reaches another client with properties',
  async (t) => {
    const broker = await startMosquitto({ teardown: teardownOf(t) });
    const watcher = await observe(t, broker.url, 'spansight/test/#');
    const session = newSession(t, { url: broker.url, clientId: 'sensor-v5' });
    const connected = once(session, 'connected');
    session.start();
    const [info] = await connected;
    t.equal(info.protocolVersion, 5, 'negotiated MQTT 5');
    t.equal(info.sessionPresent, false, 'clean start');
    // mosquitto announces Receive Maximum 20 (max_inflight_messages).
    t.equal(info.inFlightLimit, 20, 'window lowered to the broker maximum');

    const payload = Uint8Array.from([0x08, 0x96, 0x01, 0x00, 0xff]);
    const arrived = watcher.next('spansight/test/data');
    await session.publish('spansight/test/data', payload, {
      messageExpirySec: 300,
      userProperties: { schema: 'spansight.v1' },
    });
    const packet = await arrived;
    t.same([...packet.payload], [...payload], 'payload bytes intact');
    t.equal(packet.qos, 1, 'delivered at QoS 1');
    const expirySec = packet.properties?.messageExpiryInterval ?? -1;
    t.ok(expirySec > 0 && expirySec <= 300, `expiry arrives (${expirySec} s)`);
    t.same(packet.properties?.userProperties, { schema: 'spansight.v1' });

    // Retained status is stored by the broker for later subscribers.
    await session.publish('spansight/test/status', Buffer.from('online'), {
      retain: true,
    });
    const late = await observe(t, broker.url, 'spansight/test/status');
    const status = await late.next('spansight/test/status');
    t.equal(status.retain, true, 'late subscriber gets the retained status');
    t.equal(status.payload.toString(), 'online');

    // A command with MQTT 5 response topic and correlation data is answered
    // on that topic with the same correlation data.
    await session.subscribe(
      'spansight/test/cmd/#',
      (_topic, _payload, meta) => {
        if (meta.responseTopic === undefined) return;
        void session.publish(meta.responseTopic, Buffer.from('done'), {
          correlationData: meta.correlationData,
        });
      },
    );
    const reply = watcher.next('spansight/test/reply');
    await watcher.client.publishAsync('spansight/test/cmd/rebirth', 'go', {
      qos: 1,
      properties: {
        responseTopic: 'spansight/test/reply',
        correlationData: Buffer.from([1, 2, 3]),
      },
    });
    const replyPacket = await reply;
    t.same(
      [...(replyPacket.properties?.correlationData ?? [])],
      [1, 2, 3],
      'correlation data returned with the command result',
    );
    await session.close({ flushMs: 1_000 });
    await t.rejects(session.publish('spansight/test/data', payload), {
      code: MqttErrorCode.Closed,
    });
  },
);

t.test(
  'mqtt-session: in-flight window -> E_MQTT_BUSY, then drain',
  async (t) => {
    const broker = await startMosquitto({ teardown: teardownOf(t) });
    const session = newSession(t, {
      url: broker.url,
      clientId: 'sensor-window',
      maxInFlight: 2,
    });
    session.start();
    await session.waitConnected(WAIT_MS);
    const first = session.publish('spansight/test/w', Buffer.from('1'));
    const second = session.publish('spansight/test/w', Buffer.from('2'));
    t.equal(session.canPublish(), false, 'window full after two');
    await t.rejects(session.publish('spansight/test/w', Buffer.from('3')), {
      code: MqttErrorCode.Busy,
    });
    const drained = once(session, 'drain');
    await Promise.all([first, second]);
    await drained;
    t.equal(session.canPublish(), true, 'room again after PUBACKs');
    t.equal(session.inFlightCount(), 0);
    for (const topic of ['', 'spansight/+/x', 'spansight/#']) {
      t.throws(
        () => session.publish(topic, Buffer.from('x')),
        RangeError,
        `publish topic "${topic}" is a caller bug`,
      );
    }
  },
);

t.test(
  'mqtt-session: falls back to 3.1.1 when the broker refuses 5 (aedes)',
  async (t) => {
    const aedes = await startAedes(teardownOf(t));
    const received: IPublishPacket[] = [];
    aedes.broker.on('publish', (packet, client) => {
      if (client) received.push(packet);
    });
    const logs = captureLogger();
    const proxy = await startTcpProxy(aedes.port, teardownOf(t));
    const session = newSession(t, {
      url: `mqtt://127.0.0.1:${proxy.port}`,
      clientId: 'sensor-fallback',
      logger: logs.logger,
    });
    const connected = once(session, 'connected');
    session.start();
    const [info] = await connected;
    t.equal(info.protocolVersion, 4, 'negotiated 3.1.1');
    t.equal(info.failedAttempts, 0, 'the fallback is not counted as a failure');
    t.ok(
      logs.lines().some((l) => l.event === 'mqtt_protocol_fallback'),
      'fallback logged',
    );
    // MQTT 5 properties are dropped silently on 3.1.1, the message still goes.
    await session.publish('spansight/test/v4', Buffer.from('x'), {
      messageExpirySec: 60,
      userProperties: { schema: 'spansight.v1' },
    });
    await waitFor(() => received.length > 0, WAIT_MS);
    t.equal(received.length, 1, 'broker got the message');
    t.equal(received[0].topic, 'spansight/test/v4');

    // Reconnects keep using 3.1.1 without asking for 5 again.
    const reconnected = once(session, 'connected');
    proxy.cutAll();
    const [again] = await reconnected;
    t.equal(again.protocolVersion, 4);
  },
);

t.test(
  'mqtt-session: explicit protocolVersion 4 against mosquitto',
  async (t) => {
    const broker = await startMosquitto({ teardown: teardownOf(t) });
    const watcher = await observe(t, broker.url, 'spansight/test/#');
    const session = newSession(t, {
      url: broker.url,
      clientId: 'sensor-v4',
      protocolVersion: 4,
    });
    const connected = once(session, 'connected');
    session.start();
    t.equal((await connected)[0].protocolVersion, 4);
    const arrived = watcher.next('spansight/test/v4');
    await session.publish('spansight/test/v4', Buffer.from('y'), {
      messageExpirySec: 60,
    });
    const packet = await arrived;
    t.equal(packet.payload.toString(), 'y');
    t.equal(
      packet.properties?.messageExpiryInterval,
      undefined,
      'no expiry on a 3.1.1 publish',
    );
  },
);

t.test(
  'mqtt-session: broker outage rejects in-flight, reconnects, resubscribes',
  async (t) => {
    const broker = await startMosquitto({ teardown: teardownOf(t) });
    const session = newSession(t, {
      url: broker.url,
      clientId: 'sensor-outage',
      keepaliveSec: 5,
    });
    const rebirths: string[] = [];
    await session.subscribe('spansight/test/cmd/+', (topic) => {
      rebirths.push(topic);
    });
    session.start();
    await session.waitConnected(WAIT_MS);
    for (let i = 0; i < 5; i++) {
      await session.publish('spansight/test/d', Buffer.from([i]));
    }

    // Frozen broker: the socket stays up, PUBACKs never come.
    broker.freeze();
    // Settled into values at once: a rejection must not go unhandled.
    const pending = [0, 1, 2].map((i) =>
      session.publish('spansight/test/d', Buffer.from([i])).then(
        () => null,
        (err: unknown) => err,
      ),
    );
    t.equal(session.inFlightCount(), 3, 'three waiting for PUBACK');
    const disconnected = once(session, 'disconnected');
    await broker.stop();
    const [down] = await disconnected;
    t.equal(down.rejectedInFlight, 3, 'disconnect reports the rejected ones');
    for (const err of await Promise.all(pending)) {
      t.match(err, { code: MqttErrorCode.Disconnected }, 'rejected in flight');
    }
    await t.rejects(session.publish('spansight/test/d', Buffer.from([9])), {
      code: MqttErrorCode.Offline,
    });

    // Let a few attempts fail against the closed port, then bring it back.
    const failures: MqttConnectFailedInfo[] = [];
    session.on('connectFailed', (info) => failures.push(info));
    await waitFor(() => failures.length >= 3, WAIT_MS);
    t.ok(
      failures.every((f) => f.error.code === MqttErrorCode.Unreachable),
      'outage classified E_MQTT_UNREACHABLE',
    );
    t.ok(
      failures.every((f) => f.retryInMs <= FAST_BACKOFF.maxMs),
      'retries stay within back-off',
    );
    const restartedAt = Date.now();
    const reconnected = once(session, 'connected');
    await broker.restart();
    const [up] = await reconnected;
    const reconnectMs = Date.now() - restartedAt;
    // One back-off cap plus slack for a loaded CI machine.
    t.ok(reconnectMs < FAST_BACKOFF.maxMs + 2_000, `back in ${reconnectMs} ms`);
    t.ok(
      up.failedAttempts >= 3,
      `failed attempts counted (${up.failedAttempts})`,
    );

    // The control subscription is restored by the session itself.
    const commander = await connectAsync(broker.url, { clientId: 'fleet' });
    t.teardown(() => commander.end(true));
    await waitFor(async () => {
      await commander.publishAsync('spansight/test/cmd/rebirth', 'now', {
        qos: 1,
      });
      return rebirths.length > 0;
    }, WAIT_MS);
    t.equal(rebirths[0], 'spansight/test/cmd/rebirth');
    await session.publish('spansight/test/d', Buffer.from([10]));
    t.pass('publishes again after reconnect');
  },
);

t.test(
  'mqtt-session: graceful broker shutdown -> disconnected, back after restart',
  async (t) => {
    const broker = await startMosquitto({ teardown: teardownOf(t) });
    const session = newSession(t, {
      url: broker.url,
      clientId: 'sensor-sigterm',
    });
    session.start();
    await session.waitConnected(WAIT_MS);
    const disconnected = once(session, 'disconnected');
    await broker.stop();
    const [down] = await disconnected;
    t.comment(`reason: ${down.reason}`);
    t.equal(down.rejectedInFlight, 0, 'nothing was in flight');
    t.equal(session.isConnected(), false);
    const reconnected = once(session, 'connected');
    await broker.restart();
    await reconnected;
    t.equal(session.isConnected(), true, 'reconnected on the same port');
  },
);

t.test(
  'mqtt-session: retryNow cuts a back-off short (a stopping sensor)',
  async (t) => {
    const broker = await startMosquitto({ teardown: teardownOf(t) });
    // Every delay a whole minute: only retryNow can reconnect in time.
    const session = newSession(t, {
      url: broker.url,
      clientId: 'sensor-stopping',
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      random: () => 0.999,
    });
    session.start();
    await session.waitConnected(WAIT_MS);
    const disconnected = once(session, 'disconnected');
    await broker.stop();
    await disconnected;
    await broker.restart();
    await new Promise((r) => setTimeout(r, 300));
    t.equal(session.isConnected(), false, 'still waiting out its back-off');
    const startedMs = Date.now();
    session.retryNow();
    await session.waitConnected(WAIT_MS);
    t.ok(Date.now() - startedMs < WAIT_MS, 'connected at once');
    session.retryNow();
    t.equal(session.isConnected(), true, 'a no-op when connected');
  },
);

t.test(
  'mqtt-session: mutual TLS with pinned CA and client certificate',
  async (t) => {
    const broker = await startMosquitto({
      teardown: teardownOf(t),
      tls: {
        caFile: certs.caCert,
        certFile: certs.serverCert,
        keyFile: certs.serverKey,
        requireClientCert: true,
      },
    });
    const session = newSession(t, {
      url: broker.url,
      clientId: 'sensor-mtls',
      caFile: certs.caCert,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
    });
    const connected = once(session, 'connected');
    session.start();
    t.equal((await connected)[0].protocolVersion, 5);
    await session.publish('spansight/test/tls', Buffer.from('z'));
    t.match(broker.readLog(), /sensor-test-01/, 'broker saw the client CN');

    // Same broker, another name for it: localhost is in the SAN too.
    const byName = newSession(t, {
      url: `mqtts://localhost:${broker.port}`,
      clientId: 'sensor-mtls-name',
      caFile: certs.caCert,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
    });
    byName.start();
    await byName.waitConnected(WAIT_MS);
    t.pass('host name verified against the SAN');
  },
);

t.test(
  'mqtt-session: server certificate from another CA -> E_MQTT_TLS, no plaintext',
  async (t) => {
    const broker = await startMosquitto({
      teardown: teardownOf(t),
      tls: {
        caFile: certs.otherCaCert,
        certFile: certs.otherServerCert,
        keyFile: certs.otherServerKey,
        requireClientCert: false,
      },
    });
    const proxy = await startTcpProxy(broker.port, teardownOf(t));
    const logs = captureLogger();
    const session = newSession(t, {
      url: `mqtts://127.0.0.1:${proxy.port}`,
      clientId: 'sensor-wrong-ca',
      configRetryMs: 200,
      caFile: certs.caCert,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      logger: logs.logger,
    });
    const failures = collectFailures(session);
    let connectedCount = 0;
    session.on('connected', () => connectedCount++);
    session.start();
    await waitFor(() => failures.length >= 3, WAIT_MS);
    const error = failures[0].error;
    t.equal(error.code, MqttErrorCode.Tls);
    t.match(error.message, /not signed by caFile/);
    t.match(error.message, certs.caCert, 'names the caFile');
    t.equal(connectedCount, 0, 'never connected');
    t.ok(proxy.firstBytes.length >= 3, 'retried');
    t.ok(
      proxy.firstBytes.every((b) => b === 0x16),
      'every connection opened with a TLS handshake record, none with CONNECT',
    );
    t.notMatch(broker.readLog(), /sensor-wrong-ca/, 'broker never saw CONNECT');
    const warns = logs.lines().filter((l) => l.event === 'mqtt_connect_failed');
    t.equal(
      warns.filter((l) => l.level === 40).length,
      1,
      'one warn for the state, repeats at debug',
    );
  },
);

t.test(
  'mqtt-session: TLS to the wrong host name or a plaintext port -> E_MQTT_TLS',
  async (t) => {
    const wrongHost = await startMosquitto({
      teardown: teardownOf(t),
      tls: {
        caFile: certs.caCert,
        certFile: certs.wrongHostServerCert,
        keyFile: certs.wrongHostServerKey,
        requireClientCert: false,
      },
    });
    const session = newSession(t, {
      url: `mqtts://localhost:${wrongHost.port}`,
      clientId: 'sensor-wrong-host',
      caFile: certs.caCert,
    });
    const failures = collectFailures(session);
    session.start();
    await waitFor(() => failures.length >= 1, WAIT_MS);
    t.equal(failures[0].error.code, MqttErrorCode.Tls);
    t.equal(failures[0].error.causeCode, 'ERR_TLS_CERT_ALTNAME_INVALID');
    t.match(failures[0].error.message, /does not name host "localhost"/);

    const plain = await startMosquitto({ teardown: teardownOf(t) });
    const tlsToPlain = newSession(t, {
      url: `mqtts://127.0.0.1:${plain.port}`,
      clientId: 'sensor-tls-to-plain',
      configRetryMs: 200,
      caFile: certs.caCert,
    });
    const plainFailures = collectFailures(tlsToPlain);
    let connectedCount = 0;
    tlsToPlain.on('connected', () => connectedCount++);
    tlsToPlain.start();
    await waitFor(() => plainFailures.length >= 2, WAIT_MS);
    t.equal(plainFailures[0].error.code, MqttErrorCode.Tls);
    t.match(plainFailures[0].error.message, /TLS handshake/);
    t.equal(connectedCount, 0, 'mqtts:// never falls back to plaintext');
  },
);

t.test(
  'mqtt-session: client certificate from another CA is refused',
  async (t) => {
    const broker = await startMosquitto({
      teardown: teardownOf(t),
      tls: {
        caFile: certs.caCert,
        certFile: certs.serverCert,
        keyFile: certs.serverKey,
        requireClientCert: true,
      },
    });
    const session = newSession(t, {
      url: broker.url,
      clientId: 'sensor-other-client-ca',
      caFile: certs.caCert,
      certFile: certs.otherClientCert,
      keyFile: certs.otherClientKey,
    });
    const failures = collectFailures(session);
    session.start();
    await waitFor(() => failures.length >= 1, WAIT_MS);
    t.equal(
      failures[0].error.code,
      MqttErrorCode.Tls,
      failures[0].error.message,
    );
    t.match(failures[0].error.message, certs.otherClientCert, 'names certFile');
  },
);

t.test(
  'mqtt-session: wrong password -> E_MQTT_AUTH, slow retries, no data loss',
  async (t) => {
    const broker = await startMosquitto({
      teardown: teardownOf(t),
      users: { 'sensor-01': 'right-password' },
    });
    for (const protocolVersion of [5, 4] as const) {
      const logs = captureLogger();
      const session = newSession(t, {
        url: broker.url,
        clientId: `sensor-auth-v${protocolVersion}`,
        username: 'sensor-01',
        password: 'wrong-password',
        protocolVersion,
        configRetryMs: 200,
        logger: logs.logger,
      });
      const failures = collectFailures(session);
      session.start();
      await waitFor(() => failures.length >= 3, WAIT_MS);
      const error = failures[0].error;
      t.equal(
        error.code,
        MqttErrorCode.Auth,
        `v${protocolVersion}: ${error.message}`,
      );
      t.match(error.message, /check the username\/password/);
      t.ok(
        failures.every((f) => f.retryInMs >= 100),
        'auth failures retry at the slow pace',
      );
      t.equal(session.currentProtocolVersion(), protocolVersion, 'no fallback');
      // The caller's record is refused, not swallowed: it stays in its outbox.
      await t.rejects(
        session.publish('spansight/test/a', Buffer.from('keep')),
        {
          code: MqttErrorCode.Offline,
        },
      );
      const text = logs.text();
      t.notMatch(text, /wrong-password/, 'password never logged');
      const warns = logs
        .lines()
        .filter((l) => l.event === 'mqtt_connect_failed' && l.level === 40);
      t.equal(warns.length, 1, 'one warn for repeated refusals');
      await session.close();
    }
    const good = newSession(t, {
      url: broker.url,
      clientId: 'sensor-auth-ok',
      username: 'sensor-01',
      password: 'right-password',
    });
    good.start();
    await good.waitConnected(WAIT_MS);
    await good.publish('spansight/test/a', Buffer.from('ok'));
    t.pass('right password connects and publishes');
  },
);

t.test(
  'mqtt-session: nothing listening -> E_MQTT_UNREACHABLE; silent port -> timeout',
  async (t) => {
    const port = await findFreePort();
    const session = newSession(t, {
      url: `mqtt://127.0.0.1:${port}`,
      clientId: 'sensor-nobody',
    });
    const failures = collectFailures(session);
    session.start();
    await waitFor(() => failures.length >= 4, WAIT_MS);
    t.equal(failures[0].error.code, MqttErrorCode.Unreachable);
    t.equal(failures[0].error.causeCode, 'ECONNREFUSED');
    t.same(
      failures.slice(0, 4).map((f) => f.attempt),
      [1, 2, 3, 4],
      'attempts counted',
    );

    // A port that accepts TCP but never answers CONNECT.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      silent.close();
    });
    const silentPort = (silent.address() as net.AddressInfo).port;
    const stuck = newSession(t, {
      url: `mqtt://127.0.0.1:${silentPort}`,
      clientId: 'sensor-silent',
      connectTimeoutMs: 300,
    });
    const stuckFailures = collectFailures(stuck);
    stuck.start();
    await waitFor(() => stuckFailures.length >= 1, WAIT_MS);
    t.equal(stuckFailures[0].error.code, MqttErrorCode.Unreachable);
    t.equal(stuckFailures[0].error.causeCode, 'ETIMEDOUT');
    t.match(stuckFailures[0].error.message, /no CONNACK/);
    await t.rejects(stuck.waitConnected(200), {
      code: MqttErrorCode.Unreachable,
    });
  },
);

t.test(
  'mqtt-session: last will on a dead connection, none on close()',
  async (t) => {
    const broker = await startMosquitto({ teardown: teardownOf(t) });
    const proxy = await startTcpProxy(broker.port, teardownOf(t));
    const watcher = await observe(t, broker.url, 'spansight/test/+/status');
    const will = {
      topic: 'spansight/test/s1/status',
      payload: Buffer.from('offline'),
      retain: true,
      qos: 1 as const,
    };
    const session = newSession(t, {
      url: `mqtt://127.0.0.1:${proxy.port}`,
      clientId: 'sensor-will',
      will,
    });
    session.start();
    await session.waitConnected(WAIT_MS);
    await session.publish(will.topic, Buffer.from('online'), { retain: true });
    t.equal((await watcher.next(will.topic)).payload.toString(), 'online');

    // The TCP connection dies without DISCONNECT: the broker sends the will.
    const willArrived = watcher.next(will.topic);
    const reconnected = once(session, 'connected');
    proxy.cutAll();
    const willPacket = await willArrived;
    t.equal(willPacket.payload.toString(), 'offline', 'will delivered');
    await reconnected;
    t.pass('session came back through the proxy by itself');

    // A graceful close discards the will.
    const second = newSession(t, {
      url: broker.url,
      clientId: 'sensor-will-2',
      will: { ...will, topic: 'spansight/test/s2/status' },
    });
    second.start();
    await second.waitConnected(WAIT_MS);
    const startedAt = Date.now();
    await second.close({ flushMs: 500 });
    t.ok(Date.now() - startedAt < 1_000, 'close is bounded');
    await new Promise((r) => setTimeout(r, 300));
    t.notOk(
      watcher.seen.some((p) => p.topic === 'spansight/test/s2/status'),
      'no will after a graceful DISCONNECT',
    );
  },
);

/** Create a session with fast back-off; closed on teardown. */
function newSession(t: Test, options: MqttSessionOptions): MqttSession {
  const session = new MqttSession({
    backoff: FAST_BACKOFF,
    connectTimeoutMs: 3_000,
    ...options,
  });
  t.teardown(() => session.close({ flushMs: 200 }));
  return session;
}

function collectFailures(session: MqttSession): MqttConnectFailedInfo[] {
  const failures: MqttConnectFailedInfo[] = [];
  session.on('connectFailed', (info) => failures.push(info));
  return failures;
}

interface Watcher {
  client: MqttClient;
  seen: IPublishPacket[];
  next(topic: string): Promise<IPublishPacket>;
}

/** A plain MQTT 5 client subscribed to `filter` that records what arrives. */
async function observe(t: Test, url: string, filter: string): Promise<Watcher> {
  const client = await connectAsync(url, {
    clientId: `watcher-${Math.random().toString(16).slice(2, 8)}`,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  t.teardown(() => client.end(true));
  const seen: IPublishPacket[] = [];
  // A message can arrive before the test asks for it (the broker may
  // deliver before the publisher's PUBACK): it waits here for `next`.
  const unclaimed: IPublishPacket[] = [];
  const waiters: { topic: string; resolve: (p: IPublishPacket) => void }[] = [];
  client.on('message', (_topic, _payload, packet) => {
    seen.push(packet);
    const index = waiters.findIndex((w) => w.topic === packet.topic);
    if (index >= 0) waiters.splice(index, 1)[0].resolve(packet);
    else unclaimed.push(packet);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    seen,
    next: (topic) =>
      new Promise((resolve, reject) => {
        const index = unclaimed.findIndex((p) => p.topic === topic);
        if (index >= 0) {
          resolve(unclaimed.splice(index, 1)[0]);
          return;
        }
        const waiter = { topic, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          const at = waiters.indexOf(waiter);
          if (at < 0) return;
          waiters.splice(at, 1);
          reject(new Error(`nothing on ${topic}`));
        }, WAIT_MS);
      }),
  };
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface LogLine {
  level: number;
  event?: string;
  [key: string]: unknown;
}

function captureLogger(): {
  logger: Logger;
  lines(): LogLine[];
  text(): string;
} {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const text = (): string => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LogLine),
  };
}

/** mulberry32: a small seeded PRNG, so jitter tests replay exactly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function seqOf(
  random: () => number,
  options: { initialMs: number; maxMs: number },
): number[] {
  return [0, 1, 2, 3, 4].map((n) => backoffDelayMs(n, options, random));
}
