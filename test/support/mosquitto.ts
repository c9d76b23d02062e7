/**
 * A real `mosquitto` broker (Debian 2.0.x) for tests: generated config in a
 * temp dir, a free port on 127.0.0.1, stop/restart on the same port, killed
 * on teardown.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Mutual TLS listener settings; paths are PEM files. */
export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Refuse clients without a certificate signed by `caFile` (mutual TLS). */
  requireClientCert: boolean;
}

/** What kind of listener to run. */
export interface MosquittoOptions {
  /** Username -> password; when set, anonymous clients are refused. */
  users?: Record<string, string>;
  /** When set, the listener speaks TLS only. */
  tls?: MosquittoTls;
  /**
   * Keep sessions and queued messages across `restart()` (saved on a
   * graceful stop), so a persistent subscriber misses nothing.
   */
  persistence?: boolean;
  /** tap's `t.teardown`: the broker and its temp dir go away with the test. */
  teardown?: (fn: () => void | Promise<void>) => void;
}

/** A running (or stopped) broker. */
export interface MosquittoBroker {
  /** Listener port on 127.0.0.1; stays the same across `restart()`. */
  readonly port: number;
  /** `mqtt://127.0.0.1:port` or `mqtts://...` for a TLS listener. */
  readonly url: string;
  /** Temp dir holding the config, password file and log. */
  readonly dir: string;
  /** Broker log (mosquitto `log_type all`), for diagnosing a failed test. */
  readLog(): string;
  /** Stop gracefully (SIGTERM), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  /** Start again on the same port (stopping first when running). */
  restart(): Promise<void>;
  /**
   * Freeze the broker (SIGSTOP): connections stay open but nothing is
   * answered, so publishes stay in flight. `stop` still works afterwards.
   */
  freeze(): void;
  /** Stop and remove the temp dir; idempotent. */
  dispose(): Promise<void>;
}

const LISTEN_WAIT_MS = 5_000;
const STOP_WAIT_MS = 5_000;

// Teardown handles normal ends; this catches a test process that exits on
// an uncaught error. (A SIGKILLed test process still leaks its brokers.)
const liveBrokers = new Set<ChildProcess>();
const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const proc of liveBrokers) proc.kill('SIGKILL');
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Start mosquitto with a generated config on a free port and resolve once it
 * accepts TCP connections. Rejects (with the broker log) when it exits early.
 */
export async function startMosquitto(
  options: MosquittoOptions = {},
): Promise<MosquittoBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-mosquitto-'));
  liveDirs.add(dir);
  const port = await findFreePort();
  const configPath = join(dir, 'mosquitto.conf');
  const logPath = join(dir, 'mosquitto.log');
  writeFileSync(configPath, buildConfig(dir, port, logPath, options));

  let child: ChildProcess | null = null;
  let isDisposed = false;
  let isFrozen = false;

  const start = async (): Promise<void> => {
    const proc = spawn('mosquitto', ['-c', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    liveBrokers.add(proc);
    proc.once('exit', () => liveBrokers.delete(proc));
    let stderrText = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrText += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, signal) => {
        reject(
          new Error(
            `mosquitto exited before listening (code ${code}, signal ` +
              `${signal}): ${stderrText}\n${safeRead(logPath)}`,
          ),
        );
      });
    });
    exited.catch(() => undefined);
    await Promise.race([waitForListener(port, LISTEN_WAIT_MS), exited]);
  };

  const stop = async (timeoutMs = STOP_WAIT_MS): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) {
      return;
    }
    const gone = new Promise<void>((resolve) =>
      proc.once('exit', () => resolve()),
    );
    // A frozen broker would hold SIGTERM until resumed; kill it instead.
    proc.kill(isFrozen ? 'SIGKILL' : 'SIGTERM');
    isFrozen = false;
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    await gone;
    clearTimeout(timer);
  };

  const broker: MosquittoBroker = {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    dir,
    readLog: () => safeRead(logPath),
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    freeze: () => {
      if (child === null) throw new Error('mosquitto is not running');
      child.kill('SIGSTOP');
      isFrozen = true;
    },
    dispose: async () => {
      if (isDisposed) return;
      isDisposed = true;
      await stop(1_000);
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
  // Register before starting so a failed start still cleans up.
  options.teardown?.(broker.dispose);
  try {
    await start();
  } catch (err) {
    if (!options.teardown) await broker.dispose();
    throw err;
  }
  return broker;
}

/** An unused TCP port on 127.0.0.1 (bound, read, released). */
export async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('no TCP port from the kernel');
  }
  return address.port;
}

function buildConfig(
  dir: string,
  port: number,
  logPath: string,
  options: MosquittoOptions,
): string {
  const lines = [
    // Root would otherwise drop to user `mosquitto`, which cannot read the
    // mode-0700 temp dir.
    'user root',
    ...(options.persistence
      ? ['persistence true', `persistence_location ${dir}/`]
      : ['persistence false']),
    `log_dest file ${logPath}`,
    'log_type all',
    'connection_messages true',
    `listener ${port} 127.0.0.1`,
  ];
  if (options.users) {
    const passwordPath = join(dir, 'passwords');
    writeFileSync(passwordPath, '');
    for (const [name, password] of Object.entries(options.users)) {
      execFileSync('mosquitto_passwd', ['-b', passwordPath, name, password], {
        stdio: 'pipe',
      });
    }
    lines.push(`password_file ${passwordPath}`, 'allow_anonymous false');
  } else if (options.tls?.requireClientCert) {
    // The certificate is the credential: its CN becomes the username.
    lines.push('use_identity_as_username true', 'allow_anonymous false');
  } else {
    lines.push('allow_anonymous true');
  }
  if (options.tls) {
    lines.push(
      `cafile ${options.tls.caFile}`,
      `certfile ${options.tls.certFile}`,
      `keyfile ${options.tls.keyFile}`,
      `require_certificate ${options.tls.requireClientCert}`,
    );
  }
  return lines.join('\n') + '\n';
}

async function waitForListener(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(port)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `mosquitto not listening on ${port} after ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
