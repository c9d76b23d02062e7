/**
 * Running the sensor CLI as a child process and reading what it publishes
 * with a persistent MQTT subscriber: the tools of the end-to-end tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import mqtt from 'mqtt';
import type { Test } from 'tap';

import { PcapWriter } from '../../scripts/lib/pcap-writer.js';
import { CaptureFileReader } from '../../src/capture/capture-file.js';
import { StreamCollector } from '../../src/cli/watch.js';
import type { DeviceReport } from '../../src/inventory/device.js';
import type { DecodedMessage } from '../../src/publish/messages.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin/spansight.js');
export const SAMPLE = join(
  ROOT,
  'test/fixtures/generated/hospital-sample.pcap',
);
const WAIT_MS = 30_000;

export interface SensorRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export function startSensor(
  args: string[],
  stateDir: string,
  env: Record<string, string> = {},
): {
  child: ChildProcess;
  done: Promise<SensorRun>;
  /** What the sensor has written to stdout so far. */
  output: () => string;
} {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'run',
      '--state-dir',
      stateDir,
      '--sensor-id',
      'e2e-sensor',
      '--site',
      'test-site',
      '--log-level',
      'info',
      ...args,
    ],
    {
      env: { ...sensorEnvironment(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const done = new Promise<SensorRun>((resolve) => {
    child.on('exit', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
  return { child, done, output: () => stdout };
}

/**
 * The environment without the test runner's loader options, so the sensor
 * (and its capture worker) runs exactly as installed.
 */
function sensorEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const name of Object.keys(env)) {
    if (name.startsWith('TAP') || name.startsWith('_TAPJS')) delete env[name];
  }
  return env;
}

export function runSensor(
  args: string[],
  stateDir: string,
  env: Record<string, string> = {},
): Promise<SensorRun> {
  return startSensor(args, stateDir, env).done;
}

export interface Received {
  topic: string;
  kind: string;
  message: DecodedMessage;
}

export async function subscribe(
  t: Test,
  url: string,
  clientId: string,
  auth: { ca?: string; username?: string; password?: string } = {},
) {
  const messages: Received[] = [];
  const collector = new StreamCollector(
    (received) =>
      messages.push({
        topic: received.kind,
        kind: received.kind,
        message: received.message,
      }),
    () => undefined,
  );
  const client = mqtt.connect(url, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 200,
    username: auth.username,
    password: auth.password,
    ca: auth.ca === undefined ? undefined : readText(auth.ca),
    rejectUnauthorized: true,
  });
  client.on('message', (topic, payload) => collector.accept(topic, payload));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync('spansight/#', { qos: 1 });
  t.teardown(() => client.endAsync(true));

  const statuses = () =>
    messages.flatMap((m) => (m.message.topic === 'status' ? [m.message] : []));
  return {
    messages,
    collector,
    /** Wait for a clean stop's final status; returns that boot's id. */
    async waitForOffline(): Promise<string> {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const offline = statuses().find(
          (s) => s.status.state === 'offline' && s.header.seq > 0,
        );
        if (offline !== undefined) {
          await sleep(300);
          return offline.header.bootId;
        }
        if (Date.now() > deadline) throw new Error('no final status arrived');
        await sleep(100);
      }
    },
    bootIds(): string[] {
      return [...new Set(messages.flatMap((m) => headerOf(m)?.bootId ?? []))];
    },
    lastBoot(): string | undefined {
      const offline = statuses().filter((s) => s.status.state === 'offline');
      return offline[offline.length - 1]?.header.bootId;
    },
    /** Distinct sequence numbers of one boot and topic, in arrival order. */
    seqsOf(bootId: string, topic: string): number[] {
      const seen = new Set<number>();
      for (const m of messages) {
        const header = headerOf(m);
        if (m.kind === topic && header?.bootId === bootId && header.seq > 0) {
          seen.add(header.seq);
        }
      }
      return [...seen];
    },
    lastStatusOf(bootId: string) {
      const own = statuses().filter((s) => s.header.bootId === bootId);
      return own[own.length - 1]?.status;
    },
    /** The last full snapshot of a boot (the final one at its stop). */
    devicesOf(bootId: string): DeviceReport[] {
      const devices = new Map<string, DeviceReport>();
      for (const m of messages) {
        if (m.message.topic !== 'devices') continue;
        if (m.message.header.bootId !== bootId) continue;
        for (const device of m.message.devices) devices.set(device.id, device);
      }
      return [...devices.values()];
    },
  };
}

export function headerOf(received: Received) {
  return received.message.topic === 'control'
    ? undefined
    : received.message.header;
}

export function offlineInventory(path: string): DeviceReport[] {
  const result = spawnSync(
    process.execPath,
    [CLI, 'inventory', path, '--json'],
    {
      encoding: 'utf8',
    },
  );
  return (JSON.parse(result.stdout) as { devices: DeviceReport[] }).devices;
}

/** Copy a capture with its packet times compressed by `factor`. */
export function retimeCapture(
  source: string,
  target: string,
  factor: number,
): void {
  const reader = CaptureFileReader.open(source);
  const writer = new PcapWriter(target, { linkType: reader.linkType });
  let firstUs = -1;
  reader.readBatch(
    {
      onFrame(buf, off, capturedBytes, wireBytes, timeUs) {
        if (firstUs < 0) firstUs = timeUs;
        const newUs = firstUs + Math.round((timeUs - firstUs) / factor);
        writer.writeFrame(
          buf.slice(off, off + capturedBytes),
          Math.floor(newUs / 1e6),
          (newUs % 1e6) * 1000,
          wireBytes,
        );
      },
    },
    Number.MAX_SAFE_INTEGER,
  );
  reader.close();
  writer.close();
}

export function sortById(devices: DeviceReport[]): DeviceReport[] {
  return [...devices].sort((a, b) => a.id.localeCompare(b.id));
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function outboxBytes(dir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.seg')) total += statSync(join(dir, name)).size;
    }
  } catch {
    return 0;
  }
  return total;
}

export async function waitFor(isDone: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!isDone() && Date.now() < deadline) await sleep(100);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function writeText(path: string, text: string): void {
  writeFileSync(path, text);
}
