/**
 * Loads the agent's configuration: built-in defaults, then the board
 * profile, the JSON file, SPANSIGHT_* environment variables and command-line
 * overrides, each validated with errors that name the source and the key.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { boardDirectory, isObject, loadBoardProfile } from './config-board.js';
import type { BoardProfile } from './config-board.js';
import {
  closestMatch,
  ConfigError,
  type ConfigProblem,
} from './config-error.js';
import { JsonSyntaxError, parseJsonWithComments } from './config-json.js';
import {
  checkValue,
  defaultSections,
  KEY_BY_PATH,
  KEYS,
  SECTION_NAMES,
  show,
  type ConfigSections,
  type KeySpec,
} from './config-schema.js';

export { ConfigError, type ConfigProblem } from './config-error.js';
export type { BoardHost, BoardProfile } from './config-board.js';
export type * from './config-schema.js';
export { BOARD_NAMES, KEYS, LOG_LEVELS } from './config-schema.js';

/** Where the agent looks when neither `path` nor SPANSIGHT_CONFIG is set. */
export const DEFAULT_CONFIG_PATH = '/etc/spansight/spansight.json';

/** Largest configuration file read; a real one is a few kilobytes. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** The validated configuration, every value filled in. */
export interface Config extends ConfigSections {
  /** The profile named by `sensor.board`, or null for `none`. */
  board: BoardProfile | null;
  /** Absolute path of the file read, or null when none was. */
  file: string | null;
  /**
   * Identity (device, inode, size, mtime) of each file a path key names,
   * keyed by key path, so a reload notices a certificate replaced in place.
   */
  fileStamps: Record<string, string>;
}

/** Values set on the command line; they override the file and environment. */
export type ConfigOverrides = {
  [S in keyof ConfigSections]?: Partial<ConfigSections[S]>;
};

/** Inputs of `loadConfig`; all optional. */
export interface LoadConfigOptions {
  /**
   * The configuration file. Undefined: SPANSIGHT_CONFIG, else
   * `DEFAULT_CONFIG_PATH` when it exists. Null: no file, defaults only.
   */
  path?: string | null;
  /** Environment to read SPANSIGHT_* from; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  overrides?: ConfigOverrides;
  /** Demand exactly one capture source (the `run` command does). */
  requireCapture?: boolean;
  /** Directory of board profiles; defaults to the package's board/. */
  boardDir?: string;
  /** Host name used as the default sensor id; defaults to the OS's. */
  hostname?: string;
  /** Base for relative paths from the environment and command line. */
  cwd?: string;
}

/**
 * Build the configuration from defaults < board profile < file <
 * environment < overrides. Throws `ConfigError` (code `E_CONFIG_INVALID`)
 * listing every problem, each naming its source, key path and what is
 * wrong. The capture source is chosen as a whole: a layer that sets
 * `capture.interface` clears a `capture.pcapFile` from lower layers and the
 * other way round, so `--pcap` works with a file that names an interface.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const host = options.hostname ?? osHostname();

  const file = chooseFile(options.path, env, cwd);
  const fileLayer =
    file === null ? new Map<string, Entry>() : readFileLayer(file, problems);
  const envLayer = readEnvLayer(env, cwd, problems);
  const overrideLayer = flattenObject(
    options.overrides ?? {},
    'command line',
    cwd,
    problems,
  );
  if (problems.length > 0) throw new ConfigError(problems);

  const layers = [fileLayer, envLayer, overrideLayer];
  const boardName = topValue(layers, 'sensor.board') ?? 'none';
  let board: BoardProfile | null = null;
  if (boardName !== 'none') {
    board = loadBoardProfile(
      boardName as BoardProfile['name'],
      options.boardDir ?? boardDirectory(),
    );
  }

  const merged = flattenDefaults(host);
  if (board !== null) layers.unshift(boardLayer(board));
  for (const layer of layers) {
    applyCaptureSourceRule(layer);
    for (const [path, entry] of layer) merged.set(path, entry);
  }

  checkFiles(merged, problems);
  checkCombinations(merged, board, options.requireCapture ?? false, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return buildConfig(merged, board, file);
}

/** What SIGHUP can apply now, and what changed but needs a restart. */
export interface ReloadDiff {
  /** Changed key paths that take effect without restarting capture. */
  apply: string[];
  /** Changed key paths that are ignored until the agent restarts. */
  needsRestart: string[];
}

/**
 * Compare a running configuration with one loaded on SIGHUP. A path key
 * counts as changed when its file was replaced or rewritten, so a renewed
 * certificate at the same path triggers a reconnect. A change of the board
 * profile's contents is reported as `board`.
 */
export function diffReloadable(running: Config, loaded: Config): ReloadDiff {
  const diff: ReloadDiff = { apply: [], needsRestart: [] };
  for (const spec of KEYS) {
    const before = JSON.stringify(getPath(running, spec.path));
    const after = JSON.stringify(getPath(loaded, spec.path));
    const isChanged =
      before !== after ||
      running.fileStamps[spec.path] !== loaded.fileStamps[spec.path];
    if (!isChanged) continue;
    (spec.isReloadable ? diff.apply : diff.needsRestart).push(spec.path);
  }
  if (JSON.stringify(running.board) !== JSON.stringify(loaded.board)) {
    if (!diff.needsRestart.includes('sensor.board')) {
      diff.needsRestart.push('board');
    }
  }
  return diff;
}

/**
 * The configuration to run with after SIGHUP: `running` with the reloadable
 * keys (and their file stamps) taken from `loaded`; everything else stays.
 */
export function mergeReloadable(running: Config, loaded: Config): Config {
  const next = structuredClone(running);
  for (const spec of KEYS) {
    if (!spec.isReloadable) continue;
    setPath(next, spec.path, structuredClone(getPath(loaded, spec.path)));
    const stamp = loaded.fileStamps[spec.path];
    if (stamp === undefined) delete next.fileStamps[spec.path];
    else next.fileStamps[spec.path] = stamp;
  }
  return next;
}

/**
 * The fields of the startup `config_loaded` info line: identities and
 * choices, never credentials (file paths only) and no broker URL path.
 */
export function summarizeConfig(config: Config): Record<string, unknown> {
  const broker = config.publish.broker;
  let brokerShown = 'off';
  if (broker === 'embedded') brokerShown = 'embedded';
  else if (broker !== null) {
    const url = new URL(broker);
    brokerShown = `${url.protocol}//${url.host}`;
  }
  return {
    configFile: config.file,
    sensorId: config.sensor.id,
    site: config.sensor.site,
    board: config.sensor.board,
    captureInterface: config.capture.interface,
    pcapFile: config.capture.pcapFile,
    snapLengthBytes: config.capture.snapLengthBytes,
    bufferBytes: config.capture.bufferBytes,
    cpuAffinity: config.capture.cpuAffinity,
    broker: brokerShown,
    topicPrefix: config.publish.topicPrefix,
    hasClientCertificate: config.publish.certFile !== null,
    logLevel: config.log.level,
  };
}

/** One value with where it came from. */
interface Entry {
  value: unknown;
  /** File path, `environment NAME`, `command line`, or `default`. */
  source: string;
  /** Directory relative paths are resolved against. */
  baseDir: string;
}

function chooseFile(
  path: string | null | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): string | null {
  if (path === null) return null;
  if (path !== undefined) return resolve(cwd, path);
  const fromEnv = env.SPANSIGHT_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(cwd, fromEnv);
  try {
    statSync(DEFAULT_CONFIG_PATH);
    return DEFAULT_CONFIG_PATH;
  } catch {
    return null;
  }
}

function readFileLayer(
  file: string,
  problems: ConfigProblem[],
): Map<string, Entry> {
  const fail = (problem: string): Map<string, Entry> => {
    problems.push({ source: file, keyPath: '', problem });
    return new Map();
  };
  let text: string;
  try {
    const sizeBytes = statSync(file).size;
    if (sizeBytes > MAX_CONFIG_FILE_BYTES) {
      return fail(
        `file is ${sizeBytes} bytes, over the limit of ` +
          `${MAX_CONFIG_FILE_BYTES} bytes`,
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(
      `cannot read the configuration file: ${describeFsError(error)}`,
    );
  }
  let raw: unknown;
  try {
    raw = parseJsonWithComments(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      return fail(`invalid JSON at ${error.message}`);
    }
    throw error;
  }
  if (!isObject(raw)) return fail('the file must hold one JSON object');
  return flattenObject(raw, file, dirname(file), problems);
}

/**
 * Turn `{ publish: { intervalSec: 30 } }` into `publish.intervalSec -> 30`,
 * checking section and key names and each value's type and range.
 */
function flattenObject(
  raw: Record<string, unknown>,
  source: string,
  baseDir: string,
  problems: ConfigProblem[],
): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const add = (keyPath: string, problem: string): void => {
    problems.push({ source, keyPath, problem });
  };
  for (const [section, body] of Object.entries(raw)) {
    if (!(SECTION_NAMES as readonly string[]).includes(section)) {
      add(section, `unknown section${suggest(section, SECTION_NAMES, '')}`);
      continue;
    }
    if (body === undefined) continue;
    if (!isObject(body)) {
      add(section, `must be an object, got ${show(body)}`);
      continue;
    }
    for (const [key, value] of Object.entries(body)) {
      const path = `${section}.${key}`;
      const spec = KEY_BY_PATH.get(path);
      if (spec === undefined) {
        add(path, unknownKeyProblem(section, key));
        continue;
      }
      // An override object may carry `undefined` for a flag not given.
      if (value === undefined) continue;
      const found = checkValue(spec, value);
      if (found !== null) add(found.keyPath, found.problem);
      else out.set(path, { value, source, baseDir });
    }
  }
  checkCaptureLayer(out, add);
  return out;
}

function unknownKeyProblem(section: string, key: string): string {
  if (section === 'publish' && /^pass(word)?$/i.test(key)) {
    return (
      'unknown key; put the password in a file readable only by the ' +
      'service and set publish.passwordFile'
    );
  }
  const inSection = KEYS.filter((s) => s.path.startsWith(`${section}.`)).map(
    (s) => s.path.slice(section.length + 1),
  );
  const near = closestMatch(key, inSection);
  if (near !== null) return `unknown key (did you mean "${section}.${near}"?)`;
  const elsewhere = KEYS.find((s) => s.path.endsWith(`.${key}`));
  if (elsewhere !== undefined) {
    return `unknown key in "${section}" (did you mean "${elsewhere.path}"?)`;
  }
  return 'unknown key';
}

function suggest(
  word: string,
  candidates: readonly string[],
  prefix: string,
): string {
  const near = closestMatch(word, candidates);
  return near === null ? '' : ` (did you mean "${prefix}${near}"?)`;
}

/** One layer may not name both capture sources. */
function checkCaptureLayer(
  layer: Map<string, Entry>,
  add: (keyPath: string, problem: string) => void,
): void {
  const iface = layer.get('capture.interface')?.value;
  const pcap = layer.get('capture.pcapFile')?.value;
  if (typeof iface === 'string' && typeof pcap === 'string') {
    add(
      'capture.pcapFile',
      'set together with capture.interface; give exactly one capture source',
    );
  }
}

/** A layer naming one capture source clears the other from lower layers. */
function applyCaptureSourceRule(layer: Map<string, Entry>): void {
  const iface = layer.get('capture.interface');
  const pcap = layer.get('capture.pcapFile');
  if (typeof iface?.value === 'string' && pcap === undefined) {
    layer.set('capture.pcapFile', { ...iface, value: null });
  } else if (typeof pcap?.value === 'string' && iface === undefined) {
    layer.set('capture.interface', { ...pcap, value: null });
  }
}

function readEnvLayer(
  env: Record<string, string | undefined>,
  cwd: string,
  problems: ConfigProblem[],
): Map<string, Entry> {
  const byName = new Map(KEYS.map((spec) => [envName(spec.path), spec]));
  const layer = new Map<string, Entry>();
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined) continue;
    const section = SECTION_NAMES.find((s) =>
      name.startsWith(`SPANSIGHT_${s.toUpperCase()}_`),
    );
    if (section === undefined) continue;
    const source = `environment ${name}`;
    const spec = byName.get(name);
    if (spec === undefined) {
      const known = [...byName.keys()];
      problems.push({
        source,
        keyPath: '',
        problem: `unknown variable${suggest(name, known, '')}`,
      });
      continue;
    }
    const value = parseEnvValue(spec, text);
    const found = checkValue(spec, value);
    if (found !== null) {
      problems.push({ source, keyPath: found.keyPath, problem: found.problem });
      continue;
    }
    layer.set(spec.path, { value, source, baseDir: cwd });
  }
  checkCaptureLayer(layer, (keyPath, problem) =>
    problems.push({ source: 'environment', keyPath, problem }),
  );
  return layer;
}

/**
 * The environment variable of a key: `publish.caFile` ->
 * `SPANSIGHT_PUBLISH_CA_FILE`.
 */
export function envName(path: string): string {
  const [section, key] = path.split('.');
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return `SPANSIGHT_${section.toUpperCase()}_${snake}`;
}

/**
 * Parse an environment string by the key's type: integers, `true`/`false`,
 * comma lists; `null` or an empty string is null for a nullable key. Text
 * that does not parse is passed on as a string so the usual check reports
 * it with the value seen.
 */
function parseEnvValue(spec: KeySpec, text: string): unknown {
  const trimmed = text.trim();
  if (spec.nullable && (trimmed === '' || trimmed === 'null')) return null;
  switch (spec.kind) {
    case 'int':
      return /^-?[0-9]+$/.test(trimmed) ? Number(trimmed) : text;
    case 'bool':
      if (/^true$/i.test(trimmed)) return true;
      if (/^false$/i.test(trimmed)) return false;
      return text;
    case 'intList':
    case 'stringList': {
      const items =
        trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
      if (spec.kind === 'stringList') return items;
      return items.map((s) => (/^-?[0-9]+$/.test(s) ? Number(s) : s));
    }
    case 'string':
      return text;
  }
}

function flattenDefaults(host: string): Map<string, Entry> {
  const defaults = defaultSections(host);
  const out = new Map<string, Entry>();
  for (const spec of KEYS) {
    const source =
      spec.path === 'sensor.id' ? 'default (host name)' : 'default';
    out.set(spec.path, {
      value: getPath(defaults, spec.path),
      source,
      baseDir: '/',
    });
  }
  return out;
}

function boardLayer(board: BoardProfile): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const [key, value] of Object.entries(board.capture)) {
    out.set(`capture.${key}`, { value, source: board.file, baseDir: '/' });
  }
  return out;
}

/** The value the highest layer gives `path`, or undefined. */
function topValue(layers: Map<string, Entry>[], path: string): unknown {
  for (let i = layers.length - 1; i >= 0; i--) {
    const entry = layers[i].get(path);
    if (entry !== undefined) return entry.value;
  }
  return undefined;
}

/** Resolve path keys against their source and check that files exist. */
function checkFiles(
  merged: Map<string, Entry>,
  problems: ConfigProblem[],
): void {
  for (const spec of KEYS) {
    if (!spec.isPath) continue;
    const entry = merged.get(spec.path)!;
    if (typeof entry.value !== 'string') continue;
    const path = resolve(entry.baseDir, entry.value);
    merged.set(spec.path, { ...entry, value: path });
    if (!spec.mustExist) continue;
    const problem = checkReadableFile(path);
    if (problem !== null) {
      problems.push({ source: entry.source, keyPath: spec.path, problem });
    }
  }
}

function checkReadableFile(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return `"${path}" is not a regular file`;
    accessSync(path, constants.R_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `file "${path}" does not exist`;
    return `file "${path}" cannot be read: ${describeFsError(error)}`;
  }
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file (ENOENT)';
  if (e.code === 'EACCES') return 'permission denied (EACCES)';
  if (e.code === 'EISDIR') return 'is a directory (EISDIR)';
  return e.code ?? e.message;
}

/** Checks that involve more than one key. */
function checkCombinations(
  merged: Map<string, Entry>,
  board: BoardProfile | null,
  requireCapture: boolean,
  problems: ConfigProblem[],
): void {
  const get = (path: string): Entry => merged.get(path)!;
  const add = (path: string, problem: string): void => {
    problems.push({ source: get(path).source, keyPath: path, problem });
  };
  const id = checkValue(KEY_BY_PATH.get('sensor.id')!, get('sensor.id').value);
  if (id !== null && get('sensor.id').source === 'default (host name)') {
    add(
      'sensor.id',
      `the host name is not usable as an id (${id.problem}); set sensor.id`,
    );
  }
  if (
    requireCapture &&
    get('capture.interface').value === null &&
    get('capture.pcapFile').value === null
  ) {
    problems.push({
      source: 'configuration',
      keyPath: 'capture',
      problem:
        'no capture source: set capture.interface (live) or ' +
        'capture.pcapFile (replay)',
    });
  }
  if (
    (get('flows.activeTimeoutMs').value as number) <
    (get('flows.idleTimeoutMs').value as number)
  ) {
    add(
      'flows.activeTimeoutMs',
      'must not be shorter than flows.idleTimeoutMs',
    );
  }
  const hasCert = get('publish.certFile').value !== null;
  const hasKey = get('publish.keyFile').value !== null;
  if (hasCert !== hasKey) {
    add(
      hasCert ? 'publish.certFile' : 'publish.keyFile',
      'publish.certFile and publish.keyFile must be set together',
    );
  }
  if (
    get('publish.passwordFile').value !== null &&
    get('publish.username').value === null
  ) {
    add('publish.passwordFile', 'needs publish.username');
  }
  const cores = board?.host.cpuCores ?? null;
  const cpus = get('capture.cpuAffinity').value as number[];
  const over = cpus.find((cpu) => cores !== null && cpu >= cores);
  if (over !== undefined) {
    add(
      'capture.cpuAffinity',
      `CPU ${over} does not exist on board "${board?.name}" (${cores} cores)`,
    );
  }
}

function buildConfig(
  merged: Map<string, Entry>,
  board: BoardProfile | null,
  file: string | null,
): Config {
  const sections: Record<string, Record<string, unknown>> = {};
  for (const name of SECTION_NAMES) sections[name] = {};
  const fileStamps: Record<string, string> = {};
  for (const spec of KEYS) {
    const value = structuredClone(merged.get(spec.path)!.value);
    setPath(sections, spec.path, value);
    if (spec.mustExist && typeof value === 'string') {
      const s = statSync(value);
      fileStamps[spec.path] = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    }
  }
  return {
    ...(sections as unknown as ConfigSections),
    board,
    file,
    fileStamps,
  };
}

function getPath(root: object, path: string): unknown {
  const [section, key] = path.split('.');
  return (root as Record<string, Record<string, unknown>>)[section][key];
}

function setPath(root: object, path: string, value: unknown): void {
  const [section, key] = path.split('.');
  (root as Record<string, Record<string, unknown>>)[section][key] = value;
}
