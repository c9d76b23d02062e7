/**
 * Everything the benchmark measures: peer tools and `spansight read` timed
 * as whole processes, and the in-process decoders timed inside a child node.
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { CaptureInfo } from './bench-capture.js';

/** One timed pass over a capture. */
export interface RunSample {
  frames: number;
  elapsedNs: number;
}

/** One row of the benchmark. */
export interface BenchTarget {
  /** Stable id, used by --only and as the JSON key. */
  id: string;
  label: string;
  /** How the time is taken; printed under the table. */
  method: string;
  /** Known to run far below 500k frames/s: always given the short capture. */
  isKnownSlow: boolean;
  /** Why the target cannot run here, or null when it can. */
  check(): Promise<string | null>;
  /**
   * One timed pass; throws when the tool fails or miscounts. A process still
   * running after `deadlineMs` is killed and the pass returns null; targets
   * timed in process ignore the deadline.
   */
  run(capture: CaptureInfo, deadlineMs?: number): Promise<RunSample | null>;
}

/** Where the benchmark finds the code it runs. */
export interface TargetContext {
  repoRoot: string;
  /** The node binary running the benchmark, reused for child processes. */
  nodePath: string;
}

/** What a child process did, timed from spawn to exit. */
export interface ProcessOutcome {
  elapsedNs: number;
  exitCode: number | null;
  signal: string | null;
  /** Standard output when asked for, else empty (it went to /dev/null). */
  stdout: string;
  /** The last few KiB of standard error, for failure messages. */
  stderrTail: string;
  /** Killed because it ran past its deadline. */
  isTimedOut: boolean;
}

/** Debian's fingerprint database; p0f reads it by default when present. */
const P0F_FINGERPRINTS = '/etc/p0f/p0f.fp';
const STDERR_TAIL_CHARS = 4096;
const STDOUT_MAX_CHARS = 1024 * 1024;
/** Root's tools live in sbin, which a user's PATH may lack. */
const EXTRA_BIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** The first executable called `name` on PATH or in the sbin directories. */
export function findExecutable(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, ...EXTRA_BIN_DIRS]) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here; try the next directory.
    }
  }
  return null;
}

/**
 * Run `command` to completion and time it with the monotonic clock, from
 * just before spawn to the exit event (process start-up included). With a
 * deadline, a process still running then is killed.
 */
export function timeProcess(
  command: string,
  args: string[],
  options: { captureStdout?: boolean; deadlineMs?: number } = {},
): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const devNull = openSync('/dev/null', 'w');
    const stdout = options.captureStdout ? 'pipe' : devNull;
    const startNs = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', stdout, 'pipe'] });
    let exitNs = startNs;
    let isTimedOut = false;
    const deadline =
      options.deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            isTimedOut = true;
            child.kill('SIGKILL');
          }, options.deadlineMs);
    let stdoutText = '';
    let stderrTail = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      if (stdoutText.length < STDOUT_MAX_CHARS) stdoutText += text;
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    child.on('exit', () => {
      exitNs = process.hrtime.bigint();
      clearTimeout(deadline);
    });
    child.on('error', (error) => {
      clearTimeout(deadline);
      closeSync(devNull);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      closeSync(devNull);
      resolve({
        elapsedNs: Number(exitNs - startNs),
        exitCode,
        signal,
        stdout: stdoutText,
        stderrTail,
        isTimedOut,
      });
    });
  });
}

function failure(label: string, outcome: ProcessOutcome): Error {
  const lastLine = outcome.stderrTail.trim().split('\n').pop() ?? '';
  const status =
    outcome.signal !== null
      ? `signal ${outcome.signal}`
      : `exit code ${outcome.exitCode}`;
  return new Error(`${label} failed (${status}): ${lastLine}`);
}

/** A tool run as `command ...args(file)`, its output thrown away. */
function processTarget(
  id: string,
  label: string,
  command: string,
  args: (path: string) => string[],
  isKnownSlow = false,
): BenchTarget {
  let executable: string | null = null;
  return {
    id,
    label,
    method: `whole process, wall time: ${command} ${args('FILE').join(' ')}`,
    isKnownSlow,
    async check() {
      executable = findExecutable(command);
      return executable === null ? `${command} not found` : null;
    },
    async run(capture, deadlineMs) {
      const outcome = await timeProcess(
        executable ?? command,
        args(capture.path),
        { deadlineMs },
      );
      if (outcome.isTimedOut) return null;
      if (outcome.exitCode !== 0) throw failure(command, outcome);
      return { frames: capture.frames, elapsedNs: outcome.elapsedNs };
    },
  };
}

/** `spansight read FILE --json`, checking it saw every frame. */
function cliTarget(context: TargetContext): BenchTarget {
  const bin = join(context.repoRoot, 'bin', 'spansight.js');
  const main = join(context.repoRoot, 'dist', 'src', 'cli', 'main.js');
  return {
    id: 'cli',
    label: 'spansight read (process)',
    method: 'whole process, wall time: node bin/spansight.js read FILE --json',
    isKnownSlow: false,
    async check() {
      if (!existsSync(main)) return `${main} not built (npm run build)`;
      return null;
    },
    async run(capture, deadlineMs) {
      const args = [bin, 'read', capture.path, '--json', '--no-progress'];
      const outcome = await timeProcess(context.nodePath, args, {
        captureStdout: true,
        deadlineMs,
      });
      if (outcome.isTimedOut) return null;
      if (outcome.exitCode !== 0) throw failure('spansight read', outcome);
      const report = JSON.parse(outcome.stdout) as { packets?: number };
      if (report.packets !== capture.frames) {
        throw new Error(
          `spansight read saw ${report.packets} of ${capture.frames} frames`,
        );
      }
      return { frames: capture.frames, elapsedNs: outcome.elapsedNs };
    },
  };
}

/** A measurement inside a fresh node process (scripts/bench/in-process.ts). */
function inProcessTarget(
  context: TargetContext,
  id: string,
  mode: string,
  label: string,
  method: string,
): BenchTarget {
  const child = fileURLToPath(new URL('./in-process.js', import.meta.url));
  const runChild = async (arg: string): Promise<Record<string, unknown>> => {
    const outcome = await timeProcess(context.nodePath, [child, mode, arg], {
      captureStdout: true,
    });
    if (outcome.exitCode !== 0) throw failure(label, outcome);
    const lines = outcome.stdout.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  };
  return {
    id,
    label,
    method,
    isKnownSlow: false,
    async check() {
      const result = await runChild('--check');
      return typeof result.unavailable === 'string' ? result.unavailable : null;
    },
    async run(capture) {
      const result = await runChild(capture.path);
      if (typeof result.unavailable === 'string') {
        throw new Error(result.unavailable);
      }
      const frames = Number(result.frames);
      if (frames !== capture.frames) {
        throw new Error(`${label} saw ${frames} of ${capture.frames} frames`);
      }
      return { frames, elapsedNs: Number(result.elapsedNs) };
    },
  };
}

/** Every measurement, in table order. */
export function benchTargets(context: TargetContext): BenchTarget[] {
  const p0fArgs = (path: string): string[] =>
    existsSync(P0F_FINGERPRINTS)
      ? ['-r', path, '-f', P0F_FINGERPRINTS]
      : ['-r', path];
  const readLoop = 'in process, read loop only, frames from our reader';
  return [
    processTarget(
      'tcpdump',
      'libpcap raw read (tcpdump)',
      'tcpdump',
      (path) => ['-w', '/dev/null', '-r', path],
    ),
    processTarget('p0f', 'p0f', 'p0f', p0fArgs),
    processTarget('ndpi', 'ndpiReader', 'ndpiReader', (path) => [
      '-i',
      path,
      '-q',
    ]),
    processTarget(
      'tshark',
      'tshark',
      'tshark',
      (path) => ['-n', '-r', path],
      true,
    ),
    inProcessTarget(
      context,
      'node-pcap',
      'node-pcap',
      'node-pcap decoder',
      'in process, pcap.decode.packet loop only, frames preloaded in memory',
    ),
    inProcessTarget(
      context,
      'read',
      'read',
      'spansight capture read only',
      `${readLoop}, empty sink`,
    ),
    inProcessTarget(
      context,
      'decode',
      'decode',
      'spansight decode',
      `${readLoop}, decodeFrame`,
    ),
    inProcessTarget(
      context,
      'flows',
      'flows',
      'spansight decode+flows',
      `${readLoop}, decodeFrame + FlowTable.observe`,
    ),
    inProcessTarget(
      context,
      'flows-lru',
      'flows-lru',
      'decode+flows, lru-cache string keys',
      `${readLoop}, decodeFrame + lru-cache keyed by a 5-tuple string`,
    ),
    inProcessTarget(
      context,
      'pipeline',
      'pipeline',
      'spansight pipeline (read)',
      `${readLoop}, PacketPipeline: decode, counts, flows, distinct flow keys`,
    ),
    inProcessTarget(
      context,
      'sensor',
      'sensor',
      'spansight pipeline (sensor)',
      `${readLoop}, PacketPipeline as the sensor runs it without the inventory: decode, counts, flows`,
    ),
    inProcessTarget(
      context,
      'inventory',
      'inventory',
      'spansight pipeline + inventory',
      `${readLoop}, PacketPipeline as the sensor runs it: decode, counts, flows, every extractor, the device table`,
    ),
    cliTarget(context),
  ];
}
