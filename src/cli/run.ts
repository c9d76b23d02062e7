/**
 * `spansight run`: the sensor. Captures (mirror port or capture file),
 * builds the inventory and flow summaries, and publishes them over MQTT.
 * With nothing configured it replays the shipped sample capture into an
 * embedded broker and prints what a subscriber received.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { Agent } from '../agent.js';
import { CaptureFileError } from '../capture/capture-file.js';
import { LiveCaptureError } from '../capture/live-capture.js';
import { packageRoot } from '../control/config-board.js';
import {
  createNotifier,
  ProgressWatchdog,
  watchdogIntervalMs,
} from '../control/sd-notify.js';
import {
  ConfigError,
  diffReloadable,
  loadConfig,
  mergeReloadable,
  type Config,
  type ConfigOverrides,
} from '../control/config.js';
import { CatalogError } from '../inventory/catalog.js';
import { MqttSession, MqttSessionError } from '../publish/mqtt-session.js';
import { OutboxError } from '../publish/outbox.js';
import { createLogger, setLogLevel, type Logger } from '../telemetry/log.js';
import { formatCount } from './format.js';
import { renderInventory } from './inventory.js';
import { describeFileError } from './read.js';
import { StreamCollector } from './watch.js';

const HELP = `usage: spansight run [options]

Run the sensor: capture, fingerprint and classify devices, summarize flows,
and publish to an MQTT broker. Settings come from the configuration file
(--config, SPANSIGHT_CONFIG or /etc/spansight/spansight.json), SPANSIGHT_*
environment variables and these options, later ones winning.

With no capture source and no broker configured, it replays the shipped
sample capture into an embedded broker and prints what a subscriber got.

options:
  --config FILE        configuration file (JSON with // comments)
  --pcap FILE          replay a pcap or pcapng file
  --interface IF       capture live on the mirror port IF
  --fast               replay as fast as possible (default: capture pace)
  --broker URL         mqtt://host:port, mqtts://host:port, or "embedded"
  --state-dir DIR      where the outbox lives (default /var/lib/spansight)
  --sensor-id ID       --site SITE   identity in topics
  --interval-sec N     flow summary interval, in packet time (default 60)
  --log-level LEVEL    fatal|error|warn|info|debug|trace
`;

/** The capture a `run` with nothing configured replays. */
export const SAMPLE_CAPTURE = 'test/fixtures/generated/hospital-sample.pcap';
/** Time a subscriber gets after the stop to receive the last messages. */
const DEMO_SETTLE_MS = 1_500;

/** Run the sensor; resolves to the process exit code. */
export async function runRun(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        pcap: { type: 'string' },
        interface: { type: 'string' },
        fast: { type: 'boolean', default: false },
        broker: { type: 'string' },
        'state-dir': { type: 'string' },
        'sensor-id': { type: 'string' },
        site: { type: 'string' },
        'interval-sec': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`spansight run: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }

  const overrides = overridesOf(values);
  let config: Config;
  let demoStateDir: string | null = null;
  try {
    const configured = loadConfig({ path: values.config, overrides });
    const isCaptureSet =
      configured.capture.interface !== null ||
      configured.capture.pcapFile !== null;
    const isBrokerSet = configured.publish.broker !== null;
    if (!isCaptureSet) {
      overrides.capture = {
        ...overrides.capture,
        pcapFile: join(packageRoot(), SAMPLE_CAPTURE),
        replaySpeed: values.fast || !isBrokerSet ? 'fast' : 'realtime',
      };
    }
    if (!isBrokerSet) {
      overrides.publish = { ...overrides.publish, broker: 'embedded' };
      if (values['state-dir'] === undefined) {
        // A demo leaves nothing behind: its outbox lives in a temp dir.
        demoStateDir = mkdtempSync(join(tmpdir(), 'spansight-demo-'));
        overrides.sensor = { ...overrides.sensor, stateDir: demoStateDir };
      }
    }
    config = loadConfig({
      path: values.config,
      overrides,
      requireCapture: true,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`spansight run: ${err.message}\n`);
    return 2;
  }

  try {
    return await runAgent(config, values.config, overrides);
  } finally {
    if (demoStateDir !== null) {
      rmSync(demoStateDir, { recursive: true, force: true });
    }
  }
}

async function runAgent(
  config: Config,
  configPath: string | undefined,
  overrides: ConfigOverrides,
): Promise<number> {
  const logger = createLogger({
    level: config.log.level,
    sensorId: config.sensor.id,
  });
  const log = logger.child({ component: 'run' });
  const notifier = createNotifier(process.env, { log });
  const pingIntervalMs = watchdogIntervalMs();
  const watchdog =
    pingIntervalMs === undefined
      ? undefined
      : new ProgressWatchdog({
          send: () => notifier.watchdog(),
          intervalMs: pingIntervalMs,
        });
  let agent: Agent;
  try {
    agent = new Agent({
      config,
      logger,
      version: packageVersion(),
      onProgress: (frames) => watchdog?.reportProgress(frames),
      onIdle: () => watchdog?.reportIdle(),
    });
    await agent.start();
  } catch (err) {
    if (
      err instanceof CatalogError ||
      err instanceof MqttSessionError ||
      err instanceof OutboxError
    ) {
      process.stderr.write(`spansight run: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  log.info(
    {
      event: 'agent_started',
      bootId: agent.identity.bootId,
      source: config.capture.interface ?? config.capture.pcapFile,
    },
    'sensor running',
  );

  const isDemo = config.publish.broker === 'embedded';
  const subscriber =
    isDemo && agent.brokerUrl !== null
      ? await startDemoSubscriber(agent.brokerUrl, config, logger)
      : null;

  let running = config;
  const onHangup = () => {
    running = reloadConfig(running, configPath, overrides, logger, agent);
  };
  // A signal ends the source (replay or live capture); the flush follows.
  const onStop = (signal: string) => {
    log.info({ event: 'stop_requested', signal }, 'stopping');
    void notifier.stopping('flushing the outbox');
    agent.requestStop();
  };
  process.on('SIGHUP', onHangup);
  process.once('SIGTERM', () => onStop('SIGTERM'));
  process.once('SIGINT', () => onStop('SIGINT'));

  let exitCode = 0;
  const { pcapFile, interface: interfaceName } = config.capture;
  try {
    // systemd's start finishes when frames can flow: READY=1 then.
    if (interfaceName !== null) {
      await agent.captureLive(interfaceName, () => {
        void notifier.ready(`capturing on ${interfaceName}`);
      });
    } else if (pcapFile !== null) {
      void notifier.ready(`replaying ${pcapFile}`);
      await agent.replayFile(pcapFile);
    }
  } catch (err) {
    if (err instanceof LiveCaptureError) {
      process.stderr.write(`spansight run: ${err.message}\n`);
      exitCode = 1;
    } else if (err instanceof CaptureFileError || isFileError(err)) {
      process.stderr.write(
        `spansight run: ${describeFileError(pcapFile ?? '', err)}\n`,
      );
      exitCode = 1;
    } else {
      throw err;
    }
  } finally {
    process.off('SIGHUP', onHangup);
  }

  const summary = await agent.stop();
  log.info({ event: 'agent_stopped', ...summary }, 'sensor stopped');
  if (subscriber !== null) {
    await new Promise((resolve) => setTimeout(resolve, DEMO_SETTLE_MS));
    await subscriber.session.close({ flushMs: 500 });
    process.stdout.write(renderDemoReport(subscriber.collector));
  }
  await agent.closeBroker();
  return exitCode;
}

/** A subscriber on the embedded broker: proof the whole path works. */
async function startDemoSubscriber(
  brokerUrl: string,
  config: Config,
  logger: Logger,
): Promise<{ session: MqttSession; collector: StreamCollector }> {
  const collector = new StreamCollector(
    () => undefined,
    (text) => process.stderr.write(`subscriber: warning: ${text}\n`),
  );
  const session = new MqttSession({
    url: brokerUrl,
    clientId: `spansight-demo-subscriber-${process.pid}`,
    logger: logger.child({ component: 'demo-subscriber' }),
  });
  await session.subscribe(`${config.publish.topicPrefix}/+/+/+`, (t, p) =>
    collector.accept(t, p),
  );
  session.start();
  await session.waitConnected(5_000);
  return { session, collector };
}

function renderDemoReport(collector: StreamCollector): string {
  const counts = [...collector.counts.entries()]
    .map(([kind, count]) => `${kind} ${formatCount(count)}`)
    .join(', ');
  const { sequences } = collector;
  const devices = [...collector.devices.values()].sort(
    (a, b) => b.packets - a.packets,
  );
  return [
    '',
    `subscriber received ${formatCount(sequences.received)} messages ` +
      `(${counts}); ${formatCount(sequences.missing)} missing, ` +
      `${formatCount(sequences.duplicates)} duplicate`,
    '',
    renderInventory(devices, devices[0]?.catalogVersion ?? '-'),
  ].join('\n');
}

/**
 * Keys a SIGHUP applies without a restart. TLS files need none: the broker
 * session reads them again at every reconnect.
 */
const LIVE_RELOAD_KEYS: ReadonlySet<string> = new Set([
  'log.level',
  'publish.statusIntervalSec',
]);

/** SIGHUP: re-read the configuration and apply what can change live. */
function reloadConfig(
  running: Config,
  configPath: string | undefined,
  overrides: ConfigOverrides,
  logger: Logger,
  agent: Agent,
): Config {
  const log = logger.child({ component: 'run' });
  let loaded: Config;
  try {
    loaded = loadConfig({ path: configPath, overrides, requireCapture: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.error(
      { event: 'reload_failed', err: err.message },
      'configuration not reloaded; the running one stays',
    );
    return running;
  }
  const diff = diffReloadable(running, loaded);
  const applied = diff.apply.filter((key) => LIVE_RELOAD_KEYS.has(key));
  const needsRestart = [
    ...diff.needsRestart,
    ...diff.apply.filter((key) => !LIVE_RELOAD_KEYS.has(key)),
  ];
  if (applied.includes('log.level')) setLogLevel(logger, loaded.log.level);
  if (applied.includes('publish.statusIntervalSec')) {
    agent.applyReload(loaded.publish.statusIntervalSec);
  }
  log.info(
    { event: 'reloaded', applied, needsRestart },
    'configuration reloaded',
  );
  // What was not applied stays as it runs, so status tells the truth.
  const merged = mergeReloadable(running, loaded);
  return {
    ...merged,
    log: loaded.log,
    publish: {
      ...running.publish,
      statusIntervalSec: loaded.publish.statusIntervalSec,
    },
    inventory: running.inventory,
  };
}

function overridesOf(values: Record<string, unknown>): ConfigOverrides {
  const text = (key: string) => values[key] as string | undefined;
  const overrides: ConfigOverrides = {};
  if (text('pcap') !== undefined) {
    overrides.capture = { pcapFile: text('pcap') };
  }
  if (text('interface') !== undefined) {
    overrides.capture = { interface: text('interface') };
  }
  if (values.fast === true) {
    overrides.capture = { ...overrides.capture, replaySpeed: 'fast' };
  }
  if (text('broker') !== undefined) {
    overrides.publish = { broker: text('broker') };
  }
  if (text('interval-sec') !== undefined) {
    overrides.publish = {
      ...overrides.publish,
      intervalSec: Number(text('interval-sec')),
    };
  }
  const sensor: Record<string, string> = {};
  if (text('state-dir') !== undefined) sensor.stateDir = text('state-dir')!;
  if (text('sensor-id') !== undefined) sensor.id = text('sensor-id')!;
  if (text('site') !== undefined) sensor.site = text('site')!;
  if (Object.keys(sensor).length > 0) overrides.sensor = sensor;
  if (text('log-level') !== undefined) {
    overrides.log = { level: text('log-level') as Config['log']['level'] };
  }
  return overrides;
}

function packageVersion(): string {
  const path = join(packageRoot(), 'package.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? '0.0.0';
}

function isFileError(err: unknown): boolean {
  return (err as { syscall?: unknown })?.syscall !== undefined;
}
