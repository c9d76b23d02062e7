/**
 * systemd notification (sd_notify) for Node without native code, and the
 * progress-gated watchdog that decides when the agent may say WATCHDOG=1.
 */

import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

// How messages reach $NOTIFY_SOCKET. Node has no unix datagram sockets (net
// is stream-only, dgram is UDP-only), so each message is handed to a
// `systemd-notify VAR=VALUE...` child process. Measured on Debian 12
// (systemd 252.38) against a real SOCK_DGRAM socket with SO_PASSCRED:
// - systemd-notify first tries to send with its parent's PID (the agent) in
//   SCM_CREDENTIALS; that needs CAP_SYS_ADMIN, so for the unprivileged
//   service user it falls back to its own PID. systemd only accepts a
//   message from a PID other than the main one with NotifyAccess=all, which
//   spansight.service therefore sets.
// - It then sends BARRIER=1 with a pipe fd and waits (up to 5 s) until the
//   manager has processed the message, so the child is still alive when
//   systemd looks up its cgroup: no race between exit and attribution.
// - `--pid=N` would add MAINPID=N to every message; it is not used.
// - One message costs about 12 ms of wall time and one short-lived process;
//   pings go out every WATCHDOG_USEC/2 (15 s), so the cost is negligible.
// Also run once under a real systemd 252 as PID 1 of a PID namespace, with
// the hardened unit as user nobody: READY=1 and STATUS= were accepted, the
// pings kept the unit up, and a loop that stopped progressing ended in
// Result=watchdog and a restart.
// A long-lived helper (python, socat) would save the spawns but add a
// runtime dependency the Pi image may not have; systemd-notify ships with
// systemd itself.

/** Default program that delivers messages to $NOTIFY_SOCKET. */
export const SYSTEMD_NOTIFY_COMMAND = 'systemd-notify';

/** Upper bound on one delivery; systemd-notify's own barrier waits 5 s. */
export const NOTIFY_TIMEOUT_MS = 10_000;

/** Longest STATUS= text sent; systemd shows it in `systemctl status`. */
export const STATUS_MAX_CHARS = 200;

/** Sends service state to systemd; every method is a no-op when disabled. */
export interface Notifier {
  /** False when NOTIFY_SOCKET is unset (not started by systemd). */
  readonly isEnabled: boolean;
  /** READY=1 (with STATUS=): start-up finished, capture is running. */
  ready(status?: string): Promise<boolean>;
  /** STATUS=: one line shown by `systemctl status`. */
  status(text: string): Promise<boolean>;
  /** WATCHDOG=1: the main loop is alive. Use ProgressWatchdog to gate it. */
  watchdog(): Promise<boolean>;
  /** STOPPING=1 (with STATUS=): shutdown has begun. */
  stopping(status?: string): Promise<boolean>;
}

/** Options of createNotifier; tests point `command` at other programs. */
export interface NotifierOptions {
  /** Program run as `command VAR=VALUE...`; default `systemd-notify`. */
  command?: string;
  /** Kills a delivery that takes longer than this; default 10 s. */
  timeoutMs?: number;
  /** Failures are logged once per change from working to failing. */
  log?: Pick<Logger, 'warn' | 'info'>;
}

/**
 * Builds a Notifier for the environment systemd gave the process. Messages
 * are delivered one at a time in call order; a WATCHDOG=1 asked for while
 * one is already waiting is merged into it. A promise resolves true once
 * systemd-notify reported delivery, false on failure; it never rejects, as a
 * failed ping must not crash the agent (systemd restarts it if pings stop).
 *
 * @example
 * ```ts
 * const notifier = createNotifier();
 * const intervalMs = watchdogIntervalMs();
 * const watchdog = intervalMs === undefined ? undefined
 *   : new ProgressWatchdog({ send: () => notifier.watchdog(), intervalMs });
 * await notifier.ready('capturing on eth1');  // Type=notify waits for it
 * // per batch: watchdog?.reportProgress(framesProcessed);
 * // quiet port, capture checked healthy: watchdog?.reportIdle();
 * // on SIGTERM: await notifier.stopping();
 * ```
 */
export function createNotifier(
  env: NodeJS.ProcessEnv = process.env,
  options: NotifierOptions = {},
): Notifier {
  const socketPath = env.NOTIFY_SOCKET;
  if (socketPath === undefined || socketPath === '') return DISABLED_NOTIFIER;
  return new SpawnNotifier(socketPath, env, options);
}

/**
 * Interval at which to send WATCHDOG=1, in ms: half of WATCHDOG_USEC, as
 * sd_watchdog_enabled(3) advises. Undefined when the watchdog is off, or
 * when WATCHDOG_PID names another process (the setting is not for us).
 */
export function watchdogIntervalMs(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
): number | undefined {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^[0-9]+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (usec <= 0) return undefined;

  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== pid) {
    return undefined;
  }
  return Math.max(1, Math.floor(usec / 2000));
}

/** Options of ProgressWatchdog. */
export interface ProgressWatchdogOptions {
  /** Sends one WATCHDOG=1, e.g. `() => notifier.watchdog()`. */
  send: () => unknown;
  /** Least time between two pings, from watchdogIntervalMs(). */
  intervalMs: number;
  /** Monotonic clock in ms; tests pass a fake one. */
  nowMs?: () => number;
}

/**
 * Gates WATCHDOG=1 on real progress of the agent's main loop. The loop calls
 * reportProgress() with a counter that grows as work gets done (frames
 * processed) and reportIdle() when it has verified it is healthy but has
 * nothing to do (quiet mirror port, capture still open). A ping is sent at
 * most once per interval, and only if the counter advanced or an idle
 * heartbeat came in since the previous ping. A loop that is blocked, or
 * spins without processing, therefore stops the pings and systemd restarts
 * the agent after WatchdogSec.
 */
export class ProgressWatchdog {
  /** Pings sent. */
  pingsSent = 0;
  /** Due checks that found no progress since the previous ping. */
  stalledChecks = 0;

  private readonly send: () => unknown;
  private readonly intervalMs: number;
  private readonly nowMs: () => number;
  private latestCounter = 0;
  private counterAtLastPing = 0;
  private isIdleSinceLastPing = false;
  private hasPinged = false;
  private lastPingMs = 0;

  constructor(options: ProgressWatchdogOptions) {
    if (!(options.intervalMs > 0)) {
      throw new RangeError('ProgressWatchdog: intervalMs must be positive');
    }
    this.send = options.send;
    this.intervalMs = options.intervalMs;
    this.nowMs = options.nowMs ?? monotonicNowMs;
  }

  /** The loop did work; `counter` is a running total (frames processed). */
  reportProgress(counter: number): boolean {
    if (counter > this.latestCounter) this.latestCounter = counter;
    return this.poll();
  }

  /** The loop is alive and checked its input, but there was nothing to do. */
  reportIdle(): boolean {
    this.isIdleSinceLastPing = true;
    return this.poll();
  }

  /** Sends a ping if one is due and progress was made; true if it sent. */
  poll(): boolean {
    const nowMs = this.nowMs();
    if (this.hasPinged && nowMs - this.lastPingMs < this.intervalMs) {
      return false;
    }
    const hasAdvanced = this.latestCounter > this.counterAtLastPing;
    if (!hasAdvanced && !this.isIdleSinceLastPing) {
      this.stalledChecks++;
      return false;
    }

    this.counterAtLastPing = this.latestCounter;
    this.isIdleSinceLastPing = false;
    this.hasPinged = true;
    this.lastPingMs = nowMs;
    this.pingsSent++;
    this.send();
    return true;
  }
}

function monotonicNowMs(): number {
  return performance.now();
}

const DISABLED_NOTIFIER: Notifier = {
  isEnabled: false,
  ready: async () => false,
  status: async () => false,
  watchdog: async () => false,
  stopping: async () => false,
};

/** Delivers messages through `systemd-notify` children, one at a time. */
class SpawnNotifier implements Notifier {
  readonly isEnabled = true;

  private readonly socketPath: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly command: string;
  private readonly timeoutMs: number;
  private readonly log: Pick<Logger, 'warn' | 'info'> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private pendingWatchdog: Promise<boolean> | undefined;
  private isFailing = false;

  constructor(
    socketPath: string,
    env: NodeJS.ProcessEnv,
    options: NotifierOptions,
  ) {
    this.socketPath = socketPath;
    this.env = env;
    this.command = options.command ?? SYSTEMD_NOTIFY_COMMAND;
    this.timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
    this.log = options.log;
  }

  ready(status?: string): Promise<boolean> {
    return this.enqueue(withStatus(['READY=1'], status));
  }

  status(text: string): Promise<boolean> {
    return this.enqueue(withStatus([], text));
  }

  watchdog(): Promise<boolean> {
    // A ping already queued and not yet started says the same thing.
    if (this.pendingWatchdog !== undefined) return this.pendingWatchdog;
    const delivery = this.enqueue(['WATCHDOG=1'], () => {
      this.pendingWatchdog = undefined;
    });
    this.pendingWatchdog = delivery;
    return delivery;
  }

  stopping(status?: string): Promise<boolean> {
    return this.enqueue(withStatus(['STOPPING=1'], status));
  }

  private enqueue(
    assignments: string[],
    onStart?: () => void,
  ): Promise<boolean> {
    if (assignments.length === 0) return Promise.resolve(false);
    const delivery = this.tail.then(() => {
      onStart?.();
      return this.deliver(assignments);
    });
    this.tail = delivery;
    return delivery;
  }

  private deliver(assignments: string[]): Promise<boolean> {
    return new Promise((resolve) => {
      const child = spawn(this.command, assignments, {
        env: { ...this.env, NOTIFY_SOCKET: this.socketPath },
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: this.timeoutMs,
      });
      let stderrText = '';
      let isSettled = false;
      const settle = (isDelivered: boolean, reason: string): void => {
        if (isSettled) return;
        isSettled = true;
        this.recordResult(isDelivered, reason);
        resolve(isDelivered);
      };
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (stderrText.length < 500) stderrText += chunk;
      });
      // A program that cannot start emits 'error', then possibly 'close'.
      child.on('error', (error: NodeJS.ErrnoException) => {
        settle(false, error.code ?? error.message);
      });
      child.on('close', (exitCode, signal) => {
        if (exitCode === 0) {
          settle(true, '');
        } else {
          const fallback = signal ?? `exit ${exitCode}`;
          settle(false, stderrText.trim() || fallback);
        }
      });
    });
  }

  private recordResult(isDelivered: boolean, reason: string): void {
    if (isDelivered === !this.isFailing) return;
    this.isFailing = !isDelivered;
    if (this.isFailing) {
      this.log?.warn(
        { event: 'sd_notify_failed', command: this.command, reason },
        'cannot notify systemd',
      );
    } else {
      this.log?.info({ event: 'sd_notify_recovered' }, 'systemd notify works');
    }
  }
}

/**
 * Appends STATUS= to `assignments`. Newlines are replaced, as each line of
 * a notify message is one assignment and a newline would inject another.
 */
function withStatus(assignments: string[], status?: string): string[] {
  if (status === undefined) return assignments;
  const oneLine = status.replace(/[\r\n]+/g, ' ').slice(0, STATUS_MAX_CHARS);
  return [...assignments, `STATUS=${oneLine}`];
}
