/**
 * The agent's logger: pino JSON lines on stdout for journald, component
 * child loggers, redaction as a backstop, and a rate limiter for repeats.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Options of `createLogger`. */
export interface CreateLoggerOptions {
  /** pino level name: fatal, error, warn, info, debug, trace (or silent). */
  level: string;
  /** Where lines go; defaults to stdout (fd 1, synchronous writes). */
  destination?: DestinationStream;
  /** Sensor id put on every line as `sensorId`. */
  sensorId?: string;
}

/**
 * Keys whose values never reach the log. This is a backstop: code must not
 * pass such values in the first place (STYLE.md section 6). Credentials,
 * payloads and strings taken from traffic that can name patients or staff.
 */
export const REDACTED_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'privateKey',
  'payload',
  'packet',
  'hex',
  'hexDump',
  'hostname',
  'hostName',
  'dhcpHostname',
  'userAgent',
  'url',
  'uri',
  'sni',
  'serverName',
  'aeTitle',
  'callingAeTitle',
  'calledAeTitle',
  'patient',
] as const;

/** Depths at which `REDACTED_KEYS` are caught: top level and two below. */
const REDACT_DEPTHS = ['', '*.', '*.*.'];

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * A pino logger writing one JSON object per line, with `sensorId` and
 * `pid` on every line, the level as its name (`"level":"warn"`, easy to
 * filter with jq after `journalctl -o cat`), `time` in epoch milliseconds,
 * and `err` serialized with its stack and `code`. Use `logger.child({
 * component: 'capture' })` per component and a stable snake_case `event`
 * field on every line. There is deliberately no per-packet API: count
 * packets and log the counters.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const base: Record<string, unknown> = { pid: process.pid };
  if (options.sensorId !== undefined) base.sensorId = options.sensorId;
  const family = new Set<WeakRef<Logger>>();
  const root = pino(
    {
      level: options.level,
      base,
      onChild: (child) => join(family, child),
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
      redact: {
        paths: REDACT_DEPTHS.flatMap((depth) =>
          REDACTED_KEYS.map((key) => `${depth}${key}`),
        ),
        censor: REDACTED,
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  join(family, root);
  return root;
}

/**
 * Change the level of a logger made by `createLogger` and of every child
 * logger made from it or from its children (SIGHUP `log.level`). Needed
 * because a pino child keeps the level it was created with.
 */
export function setLogLevel(logger: Logger, level: string): void {
  const family = FAMILIES.get(logger);
  if (family === undefined) {
    logger.level = level;
    return;
  }
  for (const ref of family) {
    const member = ref.deref();
    if (member === undefined) family.delete(ref);
    else member.level = level;
  }
}

/** Each logger's family: its root and all descendants, held weakly. */
const FAMILIES = new WeakMap<Logger, Set<WeakRef<Logger>>>();

/** Above this many members, dead references are pruned on each join. */
const FAMILY_PRUNE_SIZE = 1024;

function join(family: Set<WeakRef<Logger>>, member: Logger): void {
  if (family.size >= FAMILY_PRUNE_SIZE) {
    for (const ref of family) if (ref.deref() === undefined) family.delete(ref);
  }
  family.add(new WeakRef(member));
  FAMILIES.set(member, family);
}

/** Options of `rateLimited`. */
export interface RateLimitOptions {
  /** Length of one window per event. */
  windowMs: number;
  /** Occurrences logged per event per window before suppression. */
  burst: number;
  /** Clock in milliseconds; injectable for tests. Defaults to Date.now. */
  nowMs?: () => number;
  /** Distinct events tracked; beyond it the oldest is forgotten. */
  maxEvents?: number;
}

/** Logs a warning unless its event has used up its burst in this window. */
export interface RateLimitedWarn {
  (event: string, fields: Record<string, unknown>, msg: string): void;
  /**
   * Log one `suppressed` line for each event whose window has ended with
   * suppressed occurrences; with `all`, also for open windows (call it on
   * shutdown so no count is lost). Returns the lines written.
   */
  flush(options?: { all?: boolean }): number;
}

interface EventWindow {
  startMs: number;
  countInWindow: number;
  suppressed: number;
  /** The message and fields of the last suppressed occurrence. */
  lastMsg: string;
  lastFields: Record<string, unknown>;
}

/** Default cap on distinct events a limiter tracks. */
const DEFAULT_MAX_EVENTS = 256;

/**
 * A warn function that logs the first `burst` occurrences of each event per
 * window and counts the rest. The count is reported once per window: on
 * the first occurrence after the window ends (that line carries
 * `suppressed: N`), or by `flush()`, which the agent calls from its status
 * timer and at shutdown. Windows are per event and start at the event's
 * first occurrence after the previous window ended.
 */
export function rateLimited(
  logger: Logger,
  options: RateLimitOptions,
): RateLimitedWarn {
  const nowMs = options.nowMs ?? Date.now;
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const windows = new Map<string, EventWindow>();

  const warn = (
    event: string,
    fields: Record<string, unknown>,
    msg: string,
  ): void => {
    const now = nowMs();
    let w = windows.get(event);
    let carried = 0;
    if (w !== undefined && now - w.startMs >= options.windowMs) {
      carried = w.suppressed;
      windows.delete(event);
      w = undefined;
    }
    if (w === undefined) {
      if (windows.size >= maxEvents) {
        const oldest = windows.keys().next().value as string;
        flushOne(logger, oldest, windows.get(oldest)!, options.windowMs);
        windows.delete(oldest);
      }
      w = {
        startMs: now,
        countInWindow: 0,
        suppressed: 0,
        lastMsg: msg,
        lastFields: fields,
      };
      windows.set(event, w);
    }
    w.countInWindow++;
    if (w.countInWindow <= options.burst) {
      const extra = carried > 0 ? { suppressed: carried } : {};
      logger.warn({ ...fields, ...extra, event }, msg);
      return;
    }
    w.suppressed++;
    w.lastMsg = msg;
    w.lastFields = fields;
  };

  const flush = (flushOptions: { all?: boolean } = {}): number => {
    const now = nowMs();
    let lines = 0;
    for (const [event, w] of windows) {
      const isEnded = now - w.startMs >= options.windowMs;
      if (!isEnded && flushOptions.all !== true) continue;
      if (w.suppressed > 0) {
        flushOne(logger, event, w, options.windowMs);
        lines++;
      }
      if (isEnded) windows.delete(event);
      else w.suppressed = 0;
    }
    return lines;
  };

  return Object.assign(warn, { flush });
}

function flushOne(
  logger: Logger,
  event: string,
  w: EventWindow,
  windowMs: number,
): void {
  if (w.suppressed === 0) return;
  logger.warn(
    { ...w.lastFields, event, suppressed: w.suppressed, windowMs },
    `${w.lastMsg} (repeated; ${w.suppressed} suppressed)`,
  );
}
