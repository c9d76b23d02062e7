/**
 * The logger: JSON lines with the base fields, component children, level
 * filtering, redaction of forbidden keys, and the rate limiter's counts.
 */
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  createLogger,
  rateLimited,
  REDACTED,
  REDACTED_KEYS,
  setLogLevel,
  type Logger,
} from '../../src/telemetry/log.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A logger writing into memory, and the lines it wrote, parsed. */
function capture(level = 'info'): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  raw: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level, destination, sensorId: 'ward3-span1' });
  const raw = (): string => chunks.join('');
  const lines = (): Record<string, unknown>[] =>
    raw()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, raw };
}

t.test('log: lines are JSON with base fields and component', async (t) => {
  const { logger, lines, raw } = capture();
  const capture1 = logger.child({ component: 'capture' });
  capture1.info(
    { event: 'capture_started', bufferBytes: 67108864 },
    'capture open',
  );
  logger.warn(
    { event: 'mqtt_disconnected', attempt: 3, retryInMs: 4000 },
    'broker unreachable',
  );
  t.equal(raw().split('\n').length, 3, 'two lines, newline terminated');
  const [first, second] = lines();
  t.equal(first.level, 'info');
  t.equal(first.component, 'capture');
  t.equal(first.event, 'capture_started');
  t.equal(first.bufferBytes, 67108864);
  t.equal(first.msg, 'capture open');
  t.equal(first.sensorId, 'ward3-span1');
  t.equal(first.pid, process.pid);
  t.type(first.time, 'number');
  t.notOk('hostname' in first, 'no host name in the base fields');
  t.equal(second.level, 'warn');
  t.equal(second.component, undefined);
  t.equal(second.retryInMs, 4000);
});

t.test('log: levels below the configured one are not written', async (t) => {
  const { logger, lines } = capture('warn');
  logger.info({ event: 'a' }, 'info');
  logger.debug({ event: 'b' }, 'debug');
  logger.error({ event: 'c' }, 'error');
  t.same(
    lines().map((l) => l.event),
    ['c'],
  );
  logger.level = 'debug';
  logger.debug({ event: 'd' }, 'debug after reload');
  t.same(
    lines().map((l) => l.event),
    ['c', 'd'],
  );
});

t.test('log: setLogLevel reaches existing child loggers', async (t) => {
  const { logger, lines } = capture('info');
  const capture1 = logger.child({ component: 'capture' });
  const ring = capture1.child({ ring: 0 });
  capture1.debug({ event: 'a' }, 'hidden at info');
  setLogLevel(logger, 'debug');
  capture1.debug({ event: 'b' }, 'shown at debug');
  ring.debug({ event: 'c' }, 'grandchild too');
  logger.debug({ event: 'd' }, 'root too');
  setLogLevel(ring, 'warn');
  capture1.info({ event: 'e' }, 'hidden again, set through a child');
  t.same(
    lines().map((l) => l.event),
    ['b', 'c', 'd'],
  );
});

t.test('log: errors keep type, message, code and stack', async (t) => {
  const { logger, lines } = capture();
  const err = Object.assign(new Error('connect ECONNREFUSED'), {
    code: 'E_MQTT_UNREACHABLE',
  });
  logger.error({ event: 'mqtt_down', err }, 'broker down');
  const e = lines()[0].err as Record<string, unknown>;
  t.equal(e.type, 'Error');
  t.equal(e.message, 'connect ECONNREFUSED');
  t.equal(e.code, 'E_MQTT_UNREACHABLE');
  t.match(e.stack, /log\.test\.ts/);
});

t.test('log: forbidden keys are redacted at three depths', async (t) => {
  const { logger, lines, raw } = capture('trace');
  for (const key of REDACTED_KEYS) {
    const canary = `CANARY-${key}`;
    logger.info({ event: 'top', [key]: canary }, 'x');
    logger.info({ event: 'one', device: { [key]: canary } }, 'x');
    logger
      .child({ component: 'c' })
      .info({ event: 'two', device: { dhcp: { [key]: canary } } }, 'x');
  }
  t.notMatch(raw(), /CANARY/, 'no canary in the output');
  const all = lines();
  t.equal(all.length, REDACTED_KEYS.length * 3);
  const firstKey = REDACTED_KEYS[0];
  t.equal(all[0][firstKey], REDACTED);
  t.same(all[1].device, { [firstKey]: REDACTED });
  t.same(all[2].device, { dhcp: { [firstKey]: REDACTED } });
});

t.test('log: redaction leaves ordinary fields alone', async (t) => {
  const { logger, lines } = capture();
  logger.info(
    { event: 'stats', wireBytes: 10, capturedBytes: 8, keyFile: '/etc/k' },
    'counters',
  );
  const line = lines()[0];
  t.equal(line.wireBytes, 10);
  t.equal(line.capturedBytes, 8);
  t.equal(line.keyFile, '/etc/k');
});

t.test('log: the default destination is stdout, flushed at exit', async (t) => {
  const script =
    `import { createLogger } from ${JSON.stringify(`${REPO}src/telemetry/log.ts`)};` +
    "const log = createLogger({ level: 'info', sensorId: 's1' });" +
    "log.info({ event: 'agent_started' }, 'started');" +
    "log.fatal({ event: 'agent_exiting' }, 'bye');" +
    'process.exit(0);';
  const child = spawnSync(
    process.execPath,
    ['--import=@tapjs/typescript/import', '--input-type=module', '-e', script],
    {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    },
  );
  t.equal(child.status, 0, child.stderr);
  const events = child.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { event: string }).event);
  t.same(events, ['agent_started', 'agent_exiting']);
});

t.test('log: rate limiter logs a burst, then counts per window', async (t) => {
  const { logger, lines } = capture();
  let nowMs = 0;
  const warnEvery = rateLimited(logger, {
    windowMs: 1000,
    burst: 3,
    nowMs: () => nowMs,
  });
  for (let i = 0; i < 10; i++) {
    nowMs = i * 10;
    warnEvery('drop_rate_high', { dropRate: i }, 'drop rate over threshold');
  }
  t.same(
    lines().map((l) => l.dropRate),
    [0, 1, 2],
    'first three only',
  );
  t.equal(warnEvery.flush(), 0, 'window still open: nothing to flush');

  // The first occurrence of the next window carries the previous count.
  nowMs = 1000;
  warnEvery('drop_rate_high', { dropRate: 42 }, 'drop rate over threshold');
  const carried = lines()[3];
  t.equal(carried.dropRate, 42);
  t.equal(carried.suppressed, 7);
  t.equal(carried.event, 'drop_rate_high');
  t.equal(carried.level, 'warn');

  // A new window: three logged, two counted, then the window ends with no
  // further occurrence; flush reports the count once.
  for (let i = 0; i < 4; i++) {
    warnEvery(
      'drop_rate_high',
      { dropRate: 50 + i },
      'drop rate over threshold',
    );
  }
  t.equal(lines().length, 6);
  nowMs = 2500;
  t.equal(warnEvery.flush(), 1);
  const summary = lines()[6];
  t.equal(summary.suppressed, 2);
  t.equal(summary.windowMs, 1000);
  t.equal(summary.dropRate, 53, 'fields of the last suppressed one');
  t.equal(summary.msg, 'drop rate over threshold (repeated; 2 suppressed)');
  t.equal(warnEvery.flush(), 0, 'a count is reported once');
  warnEvery('drop_rate_high', { dropRate: 60 }, 'drop rate over threshold');
  t.equal(lines()[7].suppressed, undefined, 'nothing carried after a flush');
});

t.test('log: rate limiter keeps events apart; flush all at exit', async (t) => {
  const { logger, lines } = capture();
  let nowMs = 0;
  const warnEvery = rateLimited(logger, {
    windowMs: 60000,
    burst: 1,
    nowMs: () => nowMs,
  });
  for (let i = 0; i < 5; i++) {
    warnEvery('feed_lost', {}, 'no frames on the mirror port');
    warnEvery('outbox_full', { outboxBytes: i }, 'outbox full');
  }
  t.same(
    lines().map((l) => l.event),
    ['feed_lost', 'outbox_full'],
  );
  nowMs = 30000;
  t.equal(warnEvery.flush(), 0);
  t.equal(warnEvery.flush({ all: true }), 2, 'shutdown reports open windows');
  const counts = Object.fromEntries(
    lines()
      .slice(2)
      .map((l) => [l.event, l.suppressed]),
  );
  t.same(counts, { feed_lost: 4, outbox_full: 4 });
  warnEvery('feed_lost', {}, 'no frames on the mirror port');
  t.equal(lines().length, 4, 'same window, burst used: counted, not logged');
});

t.test(
  'log: rate limiter forgets the oldest event beyond its cap',
  async (t) => {
    const { logger, lines } = capture();
    const warnEvery = rateLimited(logger, {
      windowMs: 60000,
      burst: 1,
      nowMs: () => 0,
      maxEvents: 2,
    });
    warnEvery('a', {}, 'a');
    warnEvery('a', {}, 'a');
    warnEvery('b', {}, 'b');
    warnEvery('c', {}, 'c');
    // Tracking `c` evicts `a`, whose pending count is written first.
    t.same(
      lines().map((l) => [l.event, l.suppressed]),
      [
        ['a', undefined],
        ['b', undefined],
        ['a', 1],
        ['c', undefined],
      ],
    );
  },
);
