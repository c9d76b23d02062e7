/**
 * Board profiles (board/<name>.json): per-board capture defaults and host
 * facts, found relative to the package root from src/ and from dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  closestMatch,
  ConfigError,
  type ConfigProblem,
} from './config-error.js';
import { JsonSyntaxError, parseJsonWithComments } from './config-json.js';
import {
  checkInterfaceName,
  checkValue,
  KEY_BY_PATH,
  show,
  type BoardName,
  type CaptureConfig,
} from './config-schema.js';

/** Capture keys a profile may set; the config file overrides each. */
export const BOARD_CAPTURE_KEYS = [
  'interface',
  'bufferBytes',
  'snapLengthBytes',
  'cpuAffinity',
] as const;

/** Facts about the host that the agent, systemd and install scripts use. */
export interface BoardHost {
  /** Onboard interface kept for SSH and the broker; informational. */
  managementInterface: string | null;
  /**
   * Cores the board has, null when unknown (generic boards);
   * `capture.cpuAffinity` must stay below it.
   */
  cpuCores: number | null;
  /** RX ring entries asked of `ethtool -G`, capped at the driver maximum. */
  rxRingEntries: number | null;
  /** Hardware watchdog device, or null when the board has none. */
  watchdogDevice: string | null;
  /** systemd MemoryMax for the agent. */
  memoryMaxBytes: number;
}

/** A parsed, validated board profile. */
export interface BoardProfile {
  name: Exclude<BoardName, 'none'>;
  description: string;
  capture: Partial<Pick<CaptureConfig, (typeof BOARD_CAPTURE_KEYS)[number]>>;
  host: BoardHost;
  /** One-line reason per value, keyed by dotted path (`host.cpuCores`). */
  notes: Record<string, string>;
  /** Absolute path of the profile file. */
  file: string;
}

const PROFILE_KEYS = ['name', 'description', 'capture', 'host', 'notes'];
const HOST_KEYS = [
  'managementInterface',
  'cpuCores',
  'rxRingEntries',
  'watchdogDevice',
  'memoryMaxBytes',
];

/**
 * The package root: the nearest directory above this module holding a
 * package.json, so the same code finds board/ from src/control/ (tests) and
 * from dist/src/control/ (installed build).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `no package.json above ${fileURLToPath(import.meta.url)}`,
      );
    }
    dir = parent;
  }
}

/** The shipped board/ directory. */
export function boardDirectory(): string {
  return join(packageRoot(), 'board');
}

/**
 * Read and validate board/<name>.json. Throws `ConfigError` naming the
 * profile file and key for a missing file, bad JSON or a bad value.
 */
export function loadBoardProfile(
  name: Exclude<BoardName, 'none'>,
  boardDir: string = boardDirectory(),
): BoardProfile {
  const file = join(boardDir, `${name}.json`);
  let raw: unknown;
  try {
    raw = parseJsonWithComments(readFileSync(file, 'utf8'));
  } catch (error) {
    const problem =
      error instanceof JsonSyntaxError
        ? `invalid JSON: ${error.message}`
        : `cannot read the board profile: ${(error as Error).message}`;
    throw new ConfigError([{ source: file, keyPath: '', problem }]);
  }
  const problems: ConfigProblem[] = [];
  const add = (keyPath: string, problem: string): void => {
    problems.push({ source: file, keyPath, problem });
  };
  if (!isObject(raw)) {
    add('', 'a board profile must be a JSON object');
    throw new ConfigError(problems);
  }
  checkKeys(raw, PROFILE_KEYS, '', add);
  if (raw.name !== name)
    add('name', `must be "${name}", got ${show(raw.name)}`);
  if (typeof raw.description !== 'string') {
    add('description', 'must be a string');
  }
  const capture = isObject(raw.capture) ? raw.capture : {};
  if (!isObject(raw.capture)) add('capture', 'must be an object');
  checkKeys(capture, BOARD_CAPTURE_KEYS, 'capture.', add);
  for (const key of BOARD_CAPTURE_KEYS) {
    if (!(key in capture)) continue;
    const found = checkValue(KEY_BY_PATH.get(`capture.${key}`)!, capture[key]);
    if (found !== null) add(found.keyPath, found.problem);
  }
  const host = isObject(raw.host) ? raw.host : {};
  if (!isObject(raw.host)) add('host', 'must be an object');
  checkKeys(host, HOST_KEYS, 'host.', add);
  checkHost(host, add);
  const notes = isObject(raw.notes) ? raw.notes : {};
  if (!isObject(raw.notes)) add('notes', 'must be an object');
  for (const [key, note] of Object.entries(notes)) {
    if (typeof note !== 'string') add(`notes.${key}`, 'must be a string');
  }
  const cpus = capture.cpuAffinity;
  if (Array.isArray(cpus) && typeof host.cpuCores === 'number') {
    const over = cpus.find((cpu) => cpu >= (host.cpuCores as number));
    if (over !== undefined) {
      add(
        'capture.cpuAffinity',
        `CPU ${over} does not exist on a ${host.cpuCores}-core board`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    name,
    description: raw.description as string,
    capture: { ...capture } as BoardProfile['capture'],
    host: host as unknown as BoardHost,
    notes: { ...(notes as Record<string, string>) },
    file,
  };
}

function checkHost(
  host: Record<string, unknown>,
  add: (keyPath: string, problem: string) => void,
): void {
  for (const key of HOST_KEYS) {
    if (!(key in host)) add(`host.${key}`, 'is required in a board profile');
  }
  const m = host.managementInterface;
  if (m !== null && m !== undefined) {
    const problem =
      typeof m === 'string'
        ? checkInterfaceName(m)
        : 'must be a string or null';
    if (problem !== null) add('host.managementInterface', problem);
  }
  checkInt(host, 'cpuCores', 1, 1024, true, add);
  checkInt(host, 'rxRingEntries', 1, 1048576, true, add);
  checkInt(host, 'memoryMaxBytes', 64 * 1024 * 1024, 2 ** 50, false, add);
  const w = host.watchdogDevice;
  if (w !== null && w !== undefined) {
    if (typeof w !== 'string' || !w.startsWith('/dev/')) {
      add(
        'host.watchdogDevice',
        `must be a /dev/ path or null, got ${show(w)}`,
      );
    }
  }
}

function checkInt(
  host: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  nullable: boolean,
  add: (keyPath: string, problem: string) => void,
): void {
  const v = host[key];
  if (v === undefined || (v === null && nullable)) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const orNull = nullable ? ' or null' : '';
    add(
      `host.${key}`,
      `must be an integer between ${min} and ${max}${orNull}, got ${show(v)}`,
    );
  }
}

function checkKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
  add: (keyPath: string, problem: string) => void,
): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = closestMatch(key, allowed);
    const hint = near === null ? '' : ` (did you mean "${prefix}${near}"?)`;
    add(`${prefix}${key}`, `unknown key${hint}`);
  }
}

/** A plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
