/**
 * The configuration's keys: types, defaults, limits and whether SIGHUP may
 * change them. Every check returns a problem sentence or null.
 */
import { isIPv4, isIPv6 } from 'node:net';

import { DEFAULT_SITE_NETWORKS } from '../flows/internal-networks.js';
import { closestMatch } from './config-error.js';

/** Log levels, most severe first (pino's names). */
export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Board profile names; `none` applies no profile. */
export const BOARD_NAMES = ['rpi4', 'rpi5', 'generic-arm64', 'none'] as const;
export type BoardName = (typeof BOARD_NAMES)[number];

/** Who this sensor is and where it keeps state. */
export interface SensorConfig {
  /** Sensor id used in topics and logs; defaults to the host name. */
  id: string;
  site: string;
  board: BoardName;
  /** Absolute path of the state directory (outbox, baselines). */
  stateDir: string;
}

/** Where frames come from: exactly one of `interface` and `pcapFile`. */
export interface CaptureConfig {
  /** Live capture interface (the mirror port), or null. */
  interface: string | null;
  /** Absolute path of a capture file to replay, or null. */
  pcapFile: string | null;
  /** Replay pacing; ignored for live capture. */
  replaySpeed: 'realtime' | 'fast';
  snapLengthBytes: number;
  /** libpcap kernel buffer. */
  bufferBytes: number;
  promiscuous: boolean;
  bpfFilter: string;
  /** libpcap buffered-mode timeout. */
  batchTimeoutMs: number;
  /** No frames this long means the mirror feed is lost. */
  feedLossTimeoutSec: number;
  /** CPU cores for the capture worker; empty means no pinning. */
  cpuAffinity: number[];
}

/** Flow table bounds and timeouts. */
export interface FlowsConfig {
  maxFlows: number;
  idleTimeoutMs: number;
  activeTimeoutMs: number;
}

/** Device table bounds, catalog and which networks are internal. */
export interface InventoryConfig {
  maxDevices: number;
  /** Absolute path of a catalog replacing the shipped one, or null. */
  catalogFile: string | null;
  /**
   * The site's own CIDR prefixes, e.g. `10.0.0.0/8`, `fc00::/7`; link-local,
   * multicast and broadcast addresses are internal whatever this says.
   */
  internalNetworks: string[];
}

/** MQTT publishing; `broker` null turns publishing off. */
export interface PublishConfig {
  /** `mqtt://`, `mqtts://`, `ws://`, `wss://` URL, `embedded`, or null. */
  broker: string | null;
  topicPrefix: string;
  /** Summary interval, in packet time. */
  intervalSec: number;
  statusIntervalSec: number;
  messageExpirySec: number;
  /** MQTT protocol level: 4 is 3.1.1, 5 is MQTT 5. */
  protocolVersion: 4 | 5;
  keepaliveSec: number;
  username: string | null;
  /** Absolute paths of existing files, or null. */
  passwordFile: string | null;
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  outboxMaxBytes: number;
}

/** Logging. */
export interface LogConfig {
  level: LogLevel;
}

/** The sections of the configuration file, all values filled in. */
export interface ConfigSections {
  sensor: SensorConfig;
  capture: CaptureConfig;
  flows: FlowsConfig;
  inventory: InventoryConfig;
  publish: PublishConfig;
  log: LogConfig;
}

/** Section names in file order. */
export const SECTION_NAMES = [
  'sensor',
  'capture',
  'flows',
  'inventory',
  'publish',
  'log',
] as const;

/** How a key's value is typed, which drives parsing of its env variable. */
export type KeyKind = 'int' | 'bool' | 'string' | 'intList' | 'stringList';

/** One key of the configuration. */
export interface KeySpec {
  /** Dotted path, `publish.intervalSec`. */
  path: string;
  kind: KeyKind;
  nullable: boolean;
  /** A path, resolved against the directory of the file that set it. */
  isPath: boolean;
  /** The path must name an existing, readable regular file. */
  mustExist: boolean;
  /** SIGHUP may change it without restarting capture. */
  isReloadable: boolean;
  /** Rule stated when the value is of the wrong kind; set for integers. */
  rule?: string;
  /** Problem with a non-null value of the right kind, or null when fine. */
  check: (value: never) => string | null;
  /** For lists: problem with one item, or null; run before `check`. */
  checkItem?: (item: never) => string | null;
}

/** A problem found by `checkValue`, at the key or one of its list items. */
export interface ValueProblem {
  /** The key path, with `[index]` appended for a list item. */
  keyPath: string;
  problem: string;
}

const GIB_BYTES = 1024 * 1024 * 1024;
const MIB_BYTES = 1024 * 1024;

// Sensor ids and sites become MQTT topic levels and file names.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_RULE =
  'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter ' +
  'or digit';

/** Every key, in the order of the documented file. */
export const KEYS: readonly KeySpec[] = [
  stringKey('sensor.id', checkName),
  stringKey('sensor.site', checkName),
  enumKey('sensor.board', BOARD_NAMES),
  pathKey('sensor.stateDir', { mustExist: false }),

  stringKey('capture.interface', checkInterfaceName, { nullable: true }),
  pathKey('capture.pcapFile', { mustExist: true }),
  enumKey('capture.replaySpeed', ['realtime', 'fast']),
  intKey('capture.snapLengthBytes', 64, 262144),
  intKey('capture.bufferBytes', MIB_BYTES, 2 * GIB_BYTES),
  boolKey('capture.promiscuous'),
  stringKey('capture.bpfFilter', checkBpfFilter),
  intKey('capture.batchTimeoutMs', 1, 1000),
  intKey('capture.feedLossTimeoutSec', 1, 86400),
  listKey('capture.cpuAffinity', 'intList', checkCpu, checkCpuList),

  intKey('flows.maxFlows', 1, 16777216),
  intKey('flows.idleTimeoutMs', 1000, 86400000),
  intKey('flows.activeTimeoutMs', 1000, 86400000),

  intKey('inventory.maxDevices', 1, 1048576),
  pathKey('inventory.catalogFile', { mustExist: true, isReloadable: true }),
  listKey('inventory.internalNetworks', 'stringList', checkCidr, () => null),

  stringKey('publish.broker', checkBroker, {
    nullable: true,
    isReloadable: true,
  }),
  stringKey('publish.topicPrefix', checkTopicPrefix, { isReloadable: true }),
  intKey('publish.intervalSec', 1, 86400, true),
  intKey('publish.statusIntervalSec', 1, 86400, true),
  intKey('publish.messageExpirySec', 1, 4294967295, true),
  {
    ...intKey('publish.protocolVersion', 4, 5, true),
    rule: 'must be 4 (MQTT 3.1.1) or 5',
    check: (v: number) =>
      v === 4 || v === 5 ? null : `must be 4 (MQTT 3.1.1) or 5, got ${v}`,
  },
  intKey('publish.keepaliveSec', 0, 65535, true),
  stringKey('publish.username', checkNonEmpty, {
    nullable: true,
    isReloadable: true,
  }),
  pathKey('publish.passwordFile', { mustExist: true, isReloadable: true }),
  pathKey('publish.caFile', { mustExist: true, isReloadable: true }),
  pathKey('publish.certFile', { mustExist: true, isReloadable: true }),
  pathKey('publish.keyFile', { mustExist: true, isReloadable: true }),
  intKey('publish.outboxMaxBytes', MIB_BYTES, 64 * GIB_BYTES, true),

  enumKey('log.level', LOG_LEVELS, true),
];

/** `KEYS` by dotted path. */
export const KEY_BY_PATH: ReadonlyMap<string, KeySpec> = new Map(
  KEYS.map((spec) => [spec.path, spec]),
);

/**
 * Built-in defaults; `sensor.id` is filled with the host name by the loader
 * and the capture keys a board profile sets are overridden by it.
 */
export function defaultSections(hostname: string): ConfigSections {
  return {
    sensor: {
      id: hostname,
      site: 'default',
      board: 'none',
      stateDir: '/var/lib/spansight',
    },
    capture: {
      interface: null,
      pcapFile: null,
      replaySpeed: 'realtime',
      snapLengthBytes: 2048,
      bufferBytes: 64 * MIB_BYTES,
      promiscuous: true,
      bpfFilter: '',
      batchTimeoutMs: 10,
      feedLossTimeoutSec: 60,
      cpuAffinity: [],
    },
    flows: {
      maxFlows: 1048576,
      idleTimeoutMs: 60000,
      activeTimeoutMs: 1800000,
    },
    inventory: {
      maxDevices: 16384,
      catalogFile: null,
      internalNetworks: [...DEFAULT_SITE_NETWORKS],
    },
    publish: {
      broker: null,
      topicPrefix: 'spansight',
      intervalSec: 60,
      statusIntervalSec: 30,
      messageExpirySec: 86400,
      protocolVersion: 5,
      keepaliveSec: 30,
      username: null,
      passwordFile: null,
      caFile: null,
      certFile: null,
      keyFile: null,
      outboxMaxBytes: 256 * MIB_BYTES,
    },
    log: { level: 'info' },
  };
}

/**
 * The problem with `value` for `spec`, or null when it is valid: kind and
 * null checks first, then each list item, then the key's own check.
 */
export function checkValue(spec: KeySpec, value: unknown): ValueProblem | null {
  const problem = checkKind(spec, value);
  if (problem !== null) return { keyPath: spec.path, problem };
  if (value === null || value === undefined) return null;
  if (spec.checkItem !== undefined && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const itemProblem = spec.checkItem(value[i] as never);
      if (itemProblem !== null) {
        return { keyPath: `${spec.path}[${i}]`, problem: itemProblem };
      }
    }
  }
  const keyProblem = spec.check(value as never);
  return keyProblem === null
    ? null
    : { keyPath: spec.path, problem: keyProblem };
}

function checkKind(spec: KeySpec, value: unknown): string | null {
  if (value === null || value === undefined) {
    return spec.nullable ? null : `must not be null`;
  }
  switch (spec.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return `${spec.rule ?? 'must be an integer'}, got ${show(value)}`;
      }
      break;
    case 'bool':
      if (typeof value !== 'boolean') {
        return `must be true or false, got ${show(value)}`;
      }
      break;
    case 'string':
      if (typeof value !== 'string') {
        const what = spec.nullable ? 'a string or null' : 'a string';
        return `must be ${what}, got ${show(value)}`;
      }
      break;
    case 'intList':
      if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) {
        return `must be a list of integers, got ${show(value)}`;
      }
      break;
    case 'stringList':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        return `must be a list of strings, got ${show(value)}`;
      }
      break;
  }
  return null;
}

/** A value as an error message shows it: JSON, cut at 60 characters. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function intKey(
  path: string,
  min: number,
  max: number,
  isReloadable = false,
): KeySpec {
  const rule = `must be an integer between ${min} and ${max}`;
  return {
    ...base(path, 'int', { isReloadable }),
    rule,
    check: (v: number) => (v >= min && v <= max ? null : `${rule}, got ${v}`),
  };
}

function boolKey(path: string): KeySpec {
  return { ...base(path, 'bool', {}), check: () => null };
}

function enumKey(
  path: string,
  values: readonly string[],
  isReloadable = false,
): KeySpec {
  const list = values.map((v) => `"${v}"`).join(', ');
  return {
    ...base(path, 'string', { isReloadable }),
    check: (v: string) => {
      if (values.includes(v)) return null;
      const near = closestMatch(v, values);
      const hint = near === null ? '' : ` (did you mean "${near}"?)`;
      return `must be one of ${list}, got ${show(v)}${hint}`;
    },
  };
}

function stringKey(
  path: string,
  check: (v: string) => string | null,
  options: { nullable?: boolean; isReloadable?: boolean } = {},
): KeySpec {
  return { ...base(path, 'string', options), check };
}

function pathKey(
  path: string,
  options: { mustExist: boolean; isReloadable?: boolean },
): KeySpec {
  return {
    ...base(path, 'string', {
      nullable: options.mustExist,
      isReloadable: options.isReloadable,
    }),
    isPath: true,
    mustExist: options.mustExist,
    check: checkNonEmpty,
  };
}

function listKey(
  path: string,
  kind: 'intList' | 'stringList',
  checkItem: (v: never) => string | null,
  check: (v: never) => string | null,
): KeySpec {
  return { ...base(path, kind, {}), checkItem, check };
}

function base(
  path: string,
  kind: KeyKind,
  options: { nullable?: boolean; isReloadable?: boolean },
): Omit<KeySpec, 'check'> {
  return {
    path,
    kind,
    nullable: options.nullable ?? false,
    isPath: false,
    mustExist: false,
    isReloadable: options.isReloadable ?? false,
  };
}

function checkNonEmpty(v: string): string | null {
  return v.trim() === '' ? 'must not be empty' : null;
}

function checkName(v: string): string | null {
  return NAME_PATTERN.test(v) ? null : `${NAME_RULE}, got ${show(v)}`;
}

/**
 * Linux interface names (the kernel's dev_valid_name): 1-15 bytes, not `.`
 * or `..`, no `/`, `:` or white space.
 */
export function checkInterfaceName(v: string): string | null {
  const rule =
    'must be a Linux interface name (1-15 characters, no "/", ":" or spaces)';
  if (v === '' || v === '.' || v === '..') return `${rule}, got ${show(v)}`;
  if (Buffer.byteLength(v) > 15 || /[/:\s]/.test(v)) {
    return `${rule}, got ${show(v)}`;
  }
  return null;
}

// Limitation: the filter is compiled only when capture opens, so a BPF
// syntax error is reported at start of capture, not at config load.
function checkBpfFilter(v: string): string | null {
  return v.length > 4096 ? 'must be at most 4096 characters' : null;
}

function checkCpu(cpu: number): string | null {
  return cpu >= 0 && cpu <= 1023
    ? null
    : `must be a CPU number between 0 and 1023, got ${cpu}`;
}

function checkCpuList(v: number[]): string | null {
  return new Set(v).size === v.length ? null : `lists a CPU twice: ${show(v)}`;
}

/**
 * Problem with a CIDR prefix (`10.0.0.0/8`, `fc00::/7`), or null. Host bits
 * set below the prefix are an error: `10.1.2.3/8` is most likely a typo
 * for `10.1.2.3/32` or `10.0.0.0/8`, and guessing would hide it.
 */
export function checkCidr(v: string): string | null {
  const rule = 'must be an address/prefix such as "10.0.0.0/8" or "fc00::/7"';
  const slash = v.indexOf('/');
  if (slash === -1) return `${rule}, got ${show(v)}`;
  const address = v.slice(0, slash);
  const lengthText = v.slice(slash + 1);
  const maxLength = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  if (maxLength === -1 || !/^[0-9]{1,3}$/.test(lengthText)) {
    return `${rule}, got ${show(v)}`;
  }
  const prefixLength = Number(lengthText);
  if (prefixLength > maxLength) {
    return `prefix length must be at most ${maxLength}, got ${show(v)}`;
  }
  const bits = addressBits(address);
  const network = bits & ~((1n << BigInt(maxLength - prefixLength)) - 1n);
  if (network !== bits) {
    const fixed = `${formatBits(network, maxLength)}/${prefixLength}`;
    return `${show(v)} has host bits set (did you mean "${fixed}"?)`;
  }
  return null;
}

function addressBits(address: string): bigint {
  if (isIPv4(address)) {
    return address
      .split('.')
      .reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  }
  // Expand `::` and an embedded dotted IPv4 tail into 8 groups of 16 bits.
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const v4 = addressBits(dotted[1]);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(
      v4 & 0xffffn
    ).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === null || tail === '' ? [] : tail.split(':');
  const zeros = new Array(8 - headGroups.length - tailGroups.length).fill('0');
  const groups =
    tail === null ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function formatBits(bits: bigint, width: number): string {
  if (width === 32) {
    return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) {
    groups.push(((bits >> shift) & 0xffffn).toString(16));
  }
  // Compress the longest run of two or more zero groups (RFC 5952 4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; i++) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
  }
  if (bestStart === -1) return groups.join(':');
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

function checkBroker(v: string): string | null {
  if (v === 'embedded') return null;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return (
      'must be a URL such as "mqtts://broker.example:8883", "embedded" ' +
      `or null, got ${show(v)}`
    );
  }
  const scheme = url.protocol.slice(0, -1);
  if (!['mqtt', 'mqtts', 'ws', 'wss'].includes(scheme)) {
    return `scheme must be mqtt, mqtts, ws or wss, got "${scheme}"`;
  }
  if (url.hostname === '') return `must name a host, got ${show(v)}`;
  // Credentials in a URL end up in logs and process listings.
  if (url.username !== '' || url.password !== '') {
    return (
      'must not contain a user name or password; use publish.username ' +
      'and publish.passwordFile'
    );
  }
  return null;
}

function checkTopicPrefix(v: string): string | null {
  const levels = v.split('/');
  if (levels.every((level) => /^[A-Za-z0-9._-]{1,64}$/.test(level))) {
    return null;
  }
  return (
    'must be topic levels of letters, digits, ".", "_" or "-" joined by ' +
    `"/" (no wildcards, no empty level), got ${show(v)}`
  );
}
