/**
 * The configuration loader: every bad value is reported with its source,
 * key path and problem; environment, board profiles and overrides merge in
 * order; the SIGHUP diff; the shipped example and profiles load.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  boardDirectory,
  BOARD_CAPTURE_KEYS,
  loadBoardProfile,
  packageRoot,
} from '../../src/control/config-board.js';
import { parseJsonWithComments } from '../../src/control/config-json.js';
import {
  ConfigError,
  diffReloadable,
  envName,
  KEYS,
  loadConfig,
  mergeReloadable,
  summarizeConfig,
  type Config,
  type LoadConfigOptions,
} from '../../src/control/config.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = join(REPO, 'board', 'spansight.example.json');
const MIB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'spansight-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'ca.pem'), 'not a real CA, only has to exist\n');
writeFileSync(join(dir, 'password'), 'secret\n');
mkdirSync(join(dir, 'a-directory'));

let fileCount = 0;

/** Write `body` (an object or raw text) to a new file in the temp dir. */
function writeConfig(body: unknown): string {
  const path = join(dir, `config-${fileCount++}.json`);
  writeFileSync(
    path,
    typeof body === 'string' ? body : JSON.stringify(body, null, 2),
  );
  return path;
}

/** Load with no environment and a fixed host name unless told otherwise. */
function load(options: LoadConfigOptions): Config {
  return loadConfig({ env: {}, hostname: 'test-sensor', cwd: dir, ...options });
}

function loadError(options: LoadConfigOptions): ConfigError {
  try {
    load(options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, the configuration loaded');
}

/** A bad configuration and the key path and problem text it must give. */
interface BadCase {
  name: string;
  body: unknown;
  keyPath: string;
  problem: string;
  requireCapture?: boolean;
}

const BAD: BadCase[] = [
  {
    name: 'integer given as text',
    body: { publish: { intervalSec: 'abc' } },
    keyPath: 'publish.intervalSec',
    problem: 'must be an integer between 1 and 86400, got "abc"',
  },
  {
    name: 'integer out of range',
    body: { publish: { intervalSec: 0 } },
    keyPath: 'publish.intervalSec',
    problem: 'must be an integer between 1 and 86400, got 0',
  },
  {
    name: 'fraction for an integer',
    body: { capture: { batchTimeoutMs: 2.5 } },
    keyPath: 'capture.batchTimeoutMs',
    problem: 'must be an integer between 1 and 1000, got 2.5',
  },
  {
    name: 'null for a key that needs a value',
    body: { capture: { snapLengthBytes: null } },
    keyPath: 'capture.snapLengthBytes',
    problem: 'must not be null',
  },
  {
    name: 'misspelt key',
    body: { capture: { interfce: 'eth1' } },
    keyPath: 'capture.interfce',
    problem: 'unknown key (did you mean "capture.interface"?)',
  },
  {
    name: 'misspelt key, wrong case',
    body: { publish: { intervalsec: 30 } },
    keyPath: 'publish.intervalsec',
    problem: 'did you mean "publish.intervalSec"?',
  },
  {
    name: 'key in the wrong section',
    body: { capture: { intervalSec: 30 } },
    keyPath: 'capture.intervalSec',
    problem: 'unknown key in "capture" (did you mean "publish.intervalSec"?)',
  },
  {
    name: 'unknown key with nothing close',
    body: { flows: { colour: 'blue' } },
    keyPath: 'flows.colour',
    problem: 'unknown key',
  },
  {
    name: 'misspelt section',
    body: { publsh: {} },
    keyPath: 'publsh',
    problem: 'unknown section (did you mean "publish"?)',
  },
  {
    name: 'section that is not an object',
    body: { log: 'debug' },
    keyPath: 'log',
    problem: 'must be an object, got "debug"',
  },
  {
    name: 'inline password',
    body: { publish: { password: 'hunter2' } },
    keyPath: 'publish.password',
    problem: 'set publish.passwordFile',
  },
  {
    name: 'interface name with a slash',
    body: { capture: { interface: 'eth0/1' } },
    keyPath: 'capture.interface',
    problem: 'must be a Linux interface name',
  },
  {
    name: 'interface name over 15 characters',
    body: { capture: { interface: 'mirror-port-ward3' } },
    keyPath: 'capture.interface',
    problem: 'got "mirror-port-ward3"',
  },
  {
    name: 'two capture sources in one file',
    body: { capture: { interface: 'eth1', pcapFile: 'ca.pem' } },
    keyPath: 'capture.pcapFile',
    problem: 'give exactly one capture source',
  },
  {
    name: 'no capture source when capture is required',
    body: {},
    keyPath: 'capture',
    problem: 'no capture source',
    requireCapture: true,
  },
  {
    name: 'replay file that does not exist',
    body: { capture: { pcapFile: 'missing.pcap' } },
    keyPath: 'capture.pcapFile',
    problem: `file "${join(dir, 'missing.pcap')}" does not exist`,
  },
  {
    name: 'broker with an http scheme',
    body: { publish: { broker: 'http://broker.example' } },
    keyPath: 'publish.broker',
    problem: 'scheme must be mqtt, mqtts, ws or wss, got "http"',
  },
  {
    name: 'broker that is no URL',
    body: { publish: { broker: 'broker.example:8883' } },
    keyPath: 'publish.broker',
    problem: 'scheme must be mqtt, mqtts, ws or wss',
  },
  {
    name: 'broker text that does not parse',
    body: { publish: { broker: 'not a url' } },
    keyPath: 'publish.broker',
    problem: 'must be a URL such as',
  },
  {
    name: 'broker URL carrying a password',
    body: { publish: { broker: 'mqtts://sensor:hunter2@broker.example' } },
    keyPath: 'publish.broker',
    problem: 'must not contain a user name or password',
  },
  {
    name: 'CA file that does not exist',
    body: { publish: { caFile: '/nonexistent/ca.pem' } },
    keyPath: 'publish.caFile',
    problem: 'file "/nonexistent/ca.pem" does not exist',
  },
  {
    name: 'CA file that is a directory',
    body: { publish: { caFile: 'a-directory' } },
    keyPath: 'publish.caFile',
    problem: 'is not a regular file',
  },
  {
    name: 'client certificate without its key',
    body: { publish: { certFile: 'ca.pem' } },
    keyPath: 'publish.certFile',
    problem: 'publish.certFile and publish.keyFile must be set together',
  },
  {
    name: 'password file without a user name',
    body: { publish: { passwordFile: 'password' } },
    keyPath: 'publish.passwordFile',
    problem: 'needs publish.username',
  },
  {
    name: 'topic prefix with a wildcard',
    body: { publish: { topicPrefix: 'spansight/#' } },
    keyPath: 'publish.topicPrefix',
    problem: 'no wildcards',
  },
  {
    name: 'MQTT 3.1',
    body: { publish: { protocolVersion: 3 } },
    keyPath: 'publish.protocolVersion',
    problem: 'must be 4 (MQTT 3.1.1) or 5, got 3',
  },
  {
    name: 'CIDR prefix too long',
    body: { inventory: { internalNetworks: ['10.0.0.0/8', '10.0.0.0/33'] } },
    keyPath: 'inventory.internalNetworks[1]',
    problem: 'prefix length must be at most 32, got "10.0.0.0/33"',
  },
  {
    name: 'CIDR with host bits set',
    body: { inventory: { internalNetworks: ['10.1.0.0/8'] } },
    keyPath: 'inventory.internalNetworks[0]',
    problem: 'has host bits set (did you mean "10.0.0.0/8"?)',
  },
  {
    name: 'IPv6 CIDR with host bits set',
    body: { inventory: { internalNetworks: ['fd12:3456::1/32'] } },
    keyPath: 'inventory.internalNetworks[0]',
    problem: 'did you mean "fd12:3456::/32"?',
  },
  {
    name: 'CIDR without a prefix length',
    body: { inventory: { internalNetworks: ['192.168.1.0'] } },
    keyPath: 'inventory.internalNetworks[0]',
    problem: 'must be an address/prefix such as',
  },
  {
    name: 'CIDR list that is a string',
    body: { inventory: { internalNetworks: '10.0.0.0/8' } },
    keyPath: 'inventory.internalNetworks',
    problem: 'must be a list of strings, got "10.0.0.0/8"',
  },
  {
    name: 'unknown log level',
    body: { log: { level: 'verbose' } },
    keyPath: 'log.level',
    problem:
      'must be one of "fatal", "error", "warn", "info", "debug", "trace", got "verbose"',
  },
  {
    name: 'misspelt log level',
    body: { log: { level: 'infi' } },
    keyPath: 'log.level',
    problem: 'got "infi" (did you mean "info"?)',
  },
  {
    name: 'unknown board',
    body: { sensor: { board: 'rpi3' } },
    keyPath: 'sensor.board',
    problem: 'got "rpi3"',
  },
  {
    name: 'sensor id with a space',
    body: { sensor: { id: 'ward 3' } },
    keyPath: 'sensor.id',
    problem: 'must be 1-64 letters, digits',
  },
  {
    name: 'boolean given as text',
    body: { capture: { promiscuous: 'yes' } },
    keyPath: 'capture.promiscuous',
    problem: 'must be true or false, got "yes"',
  },
  {
    name: 'CPU listed twice',
    body: { capture: { cpuAffinity: [1, 1] } },
    keyPath: 'capture.cpuAffinity',
    problem: 'lists a CPU twice',
  },
  {
    name: 'CPU beyond the board',
    body: { sensor: { board: 'rpi4' }, capture: { cpuAffinity: [5] } },
    keyPath: 'capture.cpuAffinity',
    problem: 'CPU 5 does not exist on board "rpi4" (4 cores)',
  },
  {
    name: 'active timeout shorter than idle timeout',
    body: { flows: { idleTimeoutMs: 60000, activeTimeoutMs: 30000 } },
    keyPath: 'flows.activeTimeoutMs',
    problem: 'must not be shorter than flows.idleTimeoutMs',
  },
];

for (const c of BAD) {
  t.test(`config: ${c.name} -> ${c.keyPath}: ${c.problem}`, async (t) => {
    const path = writeConfig(c.body);
    const error = loadError({ path, requireCapture: c.requireCapture });
    t.equal(error.code, 'E_CONFIG_INVALID');
    t.equal(error.problems.length, 1, error.message);
    const p = error.problems[0];
    t.equal(p.keyPath, c.keyPath);
    t.match(p.problem, c.problem);
    // The one-line message names the file (or for requireCapture the
    // configuration as a whole), the key and the problem.
    const source = c.requireCapture === true ? 'configuration' : path;
    t.ok(error.message.startsWith(`${source}: ${c.keyPath}: `), error.message);
    t.ok(error.message.includes(c.problem), error.message);
  });
}

t.test('config: all problems of a file are reported at once', async (t) => {
  const path = writeConfig({
    capture: { snapLengthBytes: 10, interfce: 'eth1' },
    log: { level: 'loud' },
  });
  const error = loadError({ path });
  t.same(error.problems.map((p) => p.keyPath).sort(), [
    'capture.interfce',
    'capture.snapLengthBytes',
    'log.level',
  ]);
  t.equal(error.message.split('\n').length, 3);
});

t.test('config: JSON syntax errors name line and column', async (t) => {
  const cases: Array<[string, string, string]> = [
    [
      '{\n  "log": { "level": "info", }\n}\n',
      'line 2 column 29',
      'trailing comma',
    ],
    [
      '{\n  "log": { "level": "info" }\n  "flows": {}\n}\n',
      'line 3 column 3',
      'expected "," or "}"',
    ],
    [
      '{\n  "log": {}, "log": {}\n}\n',
      'line 2 column 14',
      'duplicate key "log"',
    ],
    [
      '{\n  "log": { "level": \'info\' }\n}\n',
      'line 2 column 21',
      'double quotes',
    ],
    ['{ /* note */ }', 'line 1 column 3', 'block comments are not supported'],
    ['{\n  "log": {\n', 'line 3 column 1', 'expected a key in double quotes'],
    ['', 'line 1 column 1', 'unexpected end of file'],
  ];
  for (const [text, place, problem] of cases) {
    const path = writeConfig(text);
    const error = loadError({ path });
    t.equal(error.problems[0].keyPath, '');
    t.match(error.message, `${path}: invalid JSON at ${place}: `, text);
    t.match(error.message, problem, text);
  }
});

t.test('config: // comments are stripped outside strings only', async (t) => {
  const text = [
    '// leading comment with "quotes" and a { brace',
    '{ // after a brace',
    '  "publish": {',
    '    "broker": "mqtt://broker.example:1883", // URL keeps its //',
    '    "topicPrefix": "a//b" // invalid, so the string was kept whole',
    '  }',
    '}',
    '// trailing comment without a newline at the end',
  ].join('\n');
  t.same((parseJsonWithComments(text) as { publish: unknown }).publish, {
    broker: 'mqtt://broker.example:1883',
    topicPrefix: 'a//b',
  });
  const escaped = parseJsonWithComments('{"a": "x\\"// y", "b": 1 // c\n}');
  t.same({ ...(escaped as object) }, { a: 'x"// y', b: 1 });
  const path = writeConfig(text);
  const error = loadError({ path });
  t.equal(error.problems[0].keyPath, 'publish.topicPrefix');
});

t.test('config: a __proto__ key is data, reported as unknown', async (t) => {
  const path = writeConfig('{ "__proto__": { "level": "debug" } }');
  const error = loadError({ path });
  t.equal(error.problems[0].keyPath, '__proto__');
  t.equal(({} as Record<string, unknown>).level, undefined);
});

t.test('config: defaults without a file', async (t) => {
  const config = load({ path: null });
  t.equal(config.file, null);
  t.equal(config.sensor.id, 'test-sensor');
  t.equal(config.sensor.board, 'none');
  t.equal(config.board, null);
  t.equal(config.capture.interface, null);
  t.equal(config.capture.snapLengthBytes, 2048);
  t.same(config.capture.cpuAffinity, []);
  t.equal(config.publish.broker, null);
  t.equal(config.publish.outboxMaxBytes, 256 * MIB);
  t.equal(config.log.level, 'info');
});

t.test('config: a host name unfit as sensor id is an error', async (t) => {
  const error = loadError({ path: null, hostname: 'bad host name' });
  t.equal(error.problems[0].source, 'default (host name)');
  t.equal(error.problems[0].keyPath, 'sensor.id');
  t.match(error.problems[0].problem, 'set sensor.id');
  const path = writeConfig({ sensor: { id: 'ward3-span1' } });
  t.equal(load({ path, hostname: 'bad host name' }).sensor.id, 'ward3-span1');
});

t.test('config: environment overrides are typed', async (t) => {
  const path = writeConfig({
    publish: { intervalSec: 60, broker: 'mqtt://broker.example' },
    capture: { interface: 'eth1' },
  });
  const config = load({
    path,
    env: {
      SPANSIGHT_PUBLISH_INTERVAL_SEC: '30',
      SPANSIGHT_PUBLISH_BROKER: '',
      SPANSIGHT_CAPTURE_PROMISCUOUS: 'false',
      SPANSIGHT_CAPTURE_CPU_AFFINITY: '1, 2',
      SPANSIGHT_INVENTORY_INTERNAL_NETWORKS: '10.0.0.0/8,fd00::/8',
      SPANSIGHT_LOG_LEVEL: 'debug',
      SPANSIGHT_PUBLISH_CA_FILE: 'ca.pem',
      // Not a section: the config path variable and unrelated names.
      SPANSIGHT_CONFIG: '/ignored/when/path/is/given.json',
      SPANSIGHT_FOO: 'bar',
    },
  });
  t.equal(config.publish.intervalSec, 30);
  t.equal(config.publish.broker, null);
  t.equal(config.capture.promiscuous, false);
  t.same(config.capture.cpuAffinity, [1, 2]);
  t.same(config.inventory.internalNetworks, ['10.0.0.0/8', 'fd00::/8']);
  t.equal(config.log.level, 'debug');
  // Relative paths from the environment resolve against the working dir.
  t.equal(config.publish.caFile, join(dir, 'ca.pem'));
  t.equal(config.capture.interface, 'eth1');
});

t.test('config: environment errors name the variable and key', async (t) => {
  const error = loadError({
    path: null,
    env: {
      SPANSIGHT_PUBLISH_INTERVAL_SEC: 'abc',
      SPANSIGHT_PUBLISH_BROKR: 'mqtt://x',
      SPANSIGHT_CAPTURE_CPU_AFFINITY: '1,a',
      SPANSIGHT_CAPTURE_PROMISCUOUS: 'yes',
    },
  });
  const lines = error.message.split('\n').sort();
  t.same(lines, [
    'environment SPANSIGHT_CAPTURE_CPU_AFFINITY: capture.cpuAffinity: must be a list of integers, got [1,"a"]',
    'environment SPANSIGHT_CAPTURE_PROMISCUOUS: capture.promiscuous: must be true or false, got "yes"',
    'environment SPANSIGHT_PUBLISH_BROKR: unknown variable (did you mean "SPANSIGHT_PUBLISH_BROKER"?)',
    'environment SPANSIGHT_PUBLISH_INTERVAL_SEC: publish.intervalSec: must be an integer between 1 and 86400, got "abc"',
  ]);
});

t.test('config: every key has an environment variable name', async (t) => {
  t.equal(envName('publish.caFile'), 'SPANSIGHT_PUBLISH_CA_FILE');
  t.equal(
    envName('capture.snapLengthBytes'),
    'SPANSIGHT_CAPTURE_SNAP_LENGTH_BYTES',
  );
  t.equal(envName('sensor.id'), 'SPANSIGHT_SENSOR_ID');
  const names = KEYS.map((k) => envName(k.path));
  t.equal(new Set(names).size, KEYS.length, 'names are distinct');
  for (const name of names) t.match(name, /^SPANSIGHT_[A-Z]+_[A-Z_]+$/);
});

t.test('config: SPANSIGHT_CONFIG names the file', async (t) => {
  const path = writeConfig({ sensor: { site: 'from-env-file' } });
  const config = loadConfig({
    env: { SPANSIGHT_CONFIG: path },
    hostname: 'h',
  });
  t.equal(config.file, path);
  t.equal(config.sensor.site, 'from-env-file');
  const error = loadError({ path: join(dir, 'nope.json') });
  t.match(
    error.message,
    `${join(dir, 'nope.json')}: cannot read the configuration file: no such file (ENOENT)`,
  );
});

t.test('config: overrides beat environment beats file', async (t) => {
  const path = writeConfig({
    log: { level: 'warn' },
    sensor: { site: 'file' },
  });
  const config = load({
    path,
    env: { SPANSIGHT_LOG_LEVEL: 'debug', SPANSIGHT_SENSOR_SITE: 'env' },
    overrides: { log: { level: 'trace' } },
  });
  t.equal(config.log.level, 'trace');
  t.equal(config.sensor.site, 'env');
  const bad = loadError({
    path: null,
    overrides: { publish: { intervalSec: -1 } },
  });
  t.equal(
    bad.message,
    'command line: publish.intervalSec: must be an integer between 1 and 86400, got -1',
  );
});

t.test(
  'config: board profile merged, file and flags override it',
  async (t) => {
    const rpi4 = load({ path: writeConfig({ sensor: { board: 'rpi4' } }) });
    t.equal(rpi4.capture.interface, 'eth1');
    t.equal(rpi4.capture.bufferBytes, 64 * MIB);
    t.same(rpi4.capture.cpuAffinity, [3]);
    t.equal(rpi4.board?.name, 'rpi4');
    t.equal(rpi4.board?.host.watchdogDevice, '/dev/watchdog');
    t.equal(rpi4.board?.host.managementInterface, 'eth0');
    t.equal(rpi4.board?.file, join(boardDirectory(), 'rpi4.json'));

    const path = writeConfig({
      sensor: { board: 'rpi4' },
      capture: { bufferBytes: 32 * MIB, cpuAffinity: [2] },
    });
    const fromFile = load({ path });
    t.equal(fromFile.capture.bufferBytes, 32 * MIB);
    t.same(fromFile.capture.cpuAffinity, [2]);
    t.equal(fromFile.capture.snapLengthBytes, 2048, 'profile value kept');

    // A replay file in the config replaces the profile's interface, and
    // --pcap on the command line replaces the file's interface.
    const replay = load({
      path: writeConfig({
        sensor: { board: 'rpi4' },
        capture: { pcapFile: 'ca.pem' },
      }),
      requireCapture: true,
    });
    t.equal(replay.capture.interface, null);
    t.equal(replay.capture.pcapFile, join(dir, 'ca.pem'));
    const flagged = load({
      path: writeConfig({
        sensor: { board: 'rpi4' },
        capture: { interface: 'eth2' },
      }),
      overrides: { capture: { pcapFile: join(dir, 'ca.pem') } },
      requireCapture: true,
    });
    t.equal(flagged.capture.interface, null);

    const rpi5 = load({ path: null, env: { SPANSIGHT_SENSOR_BOARD: 'rpi5' } });
    t.equal(rpi5.capture.bufferBytes, 128 * MIB);
    t.equal(rpi5.board?.host.memoryMaxBytes, 2 * 1024 * MIB);
  },
);

t.test(
  'config: shipped board profiles are complete and explained',
  async (t) => {
    const names = readdirSync(boardDirectory())
      .filter((f) => f.endsWith('.json') && !f.includes('example'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
    t.same(names, ['generic-arm64', 'rpi4', 'rpi5']);
    for (const name of names) {
      const profile = loadBoardProfile(name as 'rpi4');
      const valuePaths = [
        ...BOARD_CAPTURE_KEYS.map((k) => `capture.${k}`),
        ...Object.keys(profile.host).map((k) => `host.${k}`),
      ].sort();
      t.same(Object.keys(profile.notes).sort(), valuePaths, `${name} notes`);
      for (const key of BOARD_CAPTURE_KEYS) {
        t.not(profile.capture[key], undefined, `${name} sets capture.${key}`);
      }
      // Plain JSON, so shell tools in the install scripts can read it.
      t.doesNotThrow(() => JSON.parse(readFileSync(profile.file, 'utf8')));
    }
  },
);

t.test('config: a broken board profile names its file and key', async (t) => {
  const boardDir = join(dir, 'boards');
  mkdirSync(boardDir, { recursive: true });
  const profile = JSON.parse(
    readFileSync(join(boardDirectory(), 'rpi4.json'), 'utf8'),
  );
  profile.capture.bufferBytes = 'big';
  profile.host.watchdog = '/dev/watchdog';
  writeFileSync(join(boardDir, 'rpi4.json'), JSON.stringify(profile));
  const error = loadError({
    path: writeConfig({ sensor: { board: 'rpi4' } }),
    boardDir,
  });
  const file = join(boardDir, 'rpi4.json');
  t.match(
    error.message,
    `${file}: capture.bufferBytes: must be an integer between`,
  );
  t.match(
    error.message,
    `${file}: host.watchdog: unknown key (did you mean "host.watchdogDevice"?)`,
  );
  const missing = loadError({
    path: writeConfig({ sensor: { board: 'rpi5' } }),
    boardDir,
  });
  t.match(
    missing.message,
    `${join(boardDir, 'rpi5.json')}: cannot read the board profile`,
  );
});

t.test('config: the example file loads and documents every key', async (t) => {
  const config = load({ path: EXAMPLE, requireCapture: true });
  t.equal(config.sensor.id, 'ward3-span1');
  t.equal(config.sensor.board, 'rpi4');
  t.equal(config.capture.interface, 'eth1');
  t.equal(config.publish.broker, 'mqtts://broker.example:8883');
  const raw = parseJsonWithComments(readFileSync(EXAMPLE, 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const documented = Object.entries(raw)
    .flatMap(([section, body]) =>
      Object.keys(body).map((k) => `${section}.${k}`),
    )
    .sort();
  t.same(documented, KEYS.map((k) => k.path).sort());
});

t.test('config: relative paths resolve against the config file', async (t) => {
  const sub = join(dir, 'etc');
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, 'ca.pem'), 'x');
  const path = join(sub, 'spansight.json');
  writeFileSync(
    path,
    JSON.stringify({
      publish: { caFile: 'ca.pem' },
      sensor: { stateDir: 'state' },
    }),
  );
  const config = load({ path, cwd: '/' });
  t.equal(config.publish.caFile, join(sub, 'ca.pem'));
  t.equal(config.sensor.stateDir, join(sub, 'state'));
});

t.test(
  'config: reload diff separates live changes from restarts',
  async (t) => {
    const ca = join(dir, 'reload-ca.pem');
    writeFileSync(ca, 'first CA');
    const base = {
      sensor: { board: 'rpi4' },
      publish: { broker: 'mqtt://a.example', caFile: ca },
      log: { level: 'info' },
    };
    const path = writeConfig(base);
    const running = load({ path });
    const same = load({ path });
    t.same(diffReloadable(running, same), { apply: [], needsRestart: [] });

    writeFileSync(
      path,
      JSON.stringify({
        ...base,
        publish: { ...base.publish, broker: 'mqtts://b.example' },
        capture: { interface: 'eth2' },
        flows: { maxFlows: 1000 },
        log: { level: 'debug' },
      }),
    );
    const loaded = load({ path });
    const diff = diffReloadable(running, loaded);
    t.same(diff.apply, ['publish.broker', 'log.level']);
    t.same(diff.needsRestart, ['capture.interface', 'flows.maxFlows']);
    const next = mergeReloadable(running, loaded);
    t.equal(next.log.level, 'debug');
    t.equal(next.publish.broker, 'mqtts://b.example');
    t.equal(next.capture.interface, 'eth1', 'capture keeps running as it is');
    t.equal(next.flows.maxFlows, running.flows.maxFlows);
    t.equal(running.log.level, 'info', 'running config is not mutated');

    // A certificate renewed in place at the same path counts as a change.
    writeFileSync(ca, 'renewed CA, longer than before');
    const renewed = load({ path });
    t.ok(diffReloadable(loaded, renewed).apply.includes('publish.caFile'));
  },
);

t.test('config: summary for the startup log hides URL details', async (t) => {
  const config = load({
    path: writeConfig({
      capture: { interface: 'eth1' },
      publish: { broker: 'wss://broker.example:8443/mqtt?token=abc' },
    }),
  });
  const summary = summarizeConfig(config);
  t.equal(summary.broker, 'wss://broker.example:8443');
  t.equal(summary.captureInterface, 'eth1');
  t.notMatch(JSON.stringify(summary), /token/);
});

const BUILT_BOARD_MODULE = join(
  REPO,
  'dist',
  'src',
  'control',
  'config-board.js',
);

t.test('config: board/ is found relative to the package root', async (t) => {
  t.equal(packageRoot(), REPO.replace(/\/$/, ''));
  t.equal(boardDirectory(), join(REPO, 'board'));
});

t.test(
  'config: board/ is found from the built dist/ too',
  { skip: existsSync(BUILT_BOARD_MODULE) ? false : 'run `npm run build`' },
  async (t) => {
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { boardDirectory } from ${JSON.stringify(BUILT_BOARD_MODULE)};` +
          'console.log(boardDirectory());',
      ],
      { encoding: 'utf8' },
    );
    t.equal(child.stderr, '');
    t.equal(child.stdout.trim(), join(REPO, 'board'));
  },
);
