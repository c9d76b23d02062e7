/**
 * Network namespaces for live-capture tests: a veth pair whose sender end
 * lives in a fresh namespace and whose capture end has no address at all.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** Namespaces made by these helpers start with this. */
export const NETNS_PREFIX = 'spansight-t-';

/** Capture-end interfaces start with this (IFNAMSIZ leaves 15 bytes). */
export const CAPTURE_IF_PREFIX = 'ssc';

/** Sender ends, inside the namespace. */
const SENDER_IF_PREFIX = 'sss';

/** The largest MTU: fixtures captured on loopback hold frames up to 64 KiB. */
const VETH_MTU_BYTES = 65_535;

let counter = 0;

/** A veth pair: `senderIf` inside `netns`, `captureIf` in the root one. */
export interface VethNetns {
  netns: string;
  senderIf: string;
  captureIf: string;
  /** Run a command inside the namespace; returns its stdout. */
  exec(command: string, args: string[]): string;
  /** Delete only the veth pair (the namespace stays). */
  deletePair(): void;
  /** Create the pair again with the same names, as createVethNetns did. */
  createPair(): void;
  /** Delete the namespace and the pair; safe to call twice. */
  destroy(): void;
}

/** Run `ip` with arguments; throws with its stderr on failure. */
export function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: 'pipe' });
}

/**
 * Create a namespace holding the sender end of a new veth pair. IPv6 is
 * disabled on both ends before they go up, so neither sends DAD or router
 * solicitations: the capture end must transmit nothing, and the sender
 * only what the test replays. Both ends are up, without addresses.
 */
export function createVethNetns(): VethNetns {
  counter++;
  const tag = `${process.pid}x${counter}`;
  const netns = `${NETNS_PREFIX}${tag}`;
  const captureIf = `${CAPTURE_IF_PREFIX}${tag}`;
  const senderIf = `${SENDER_IF_PREFIX}${tag}`;
  let isDestroyed = false;
  const destroy = (): void => {
    if (isDestroyed) return;
    isDestroyed = true;
    removeQuietly(['netns', 'del', netns]);
    // Deleting the namespace deletes the sender end and with it the pair;
    // this covers a pair whose sender never reached the namespace.
    removeQuietly(['link', 'del', captureIf]);
  };
  const exec = (command: string, args: string[]): string =>
    execFileSync('ip', ['netns', 'exec', netns, command, ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
  const mtu = String(VETH_MTU_BYTES);
  const createPair = (): void => {
    ip(
      ['link', 'add', captureIf, 'mtu', mtu, 'type', 'veth', 'peer'].concat([
        'name',
        senderIf,
        'mtu',
        mtu,
        'netns',
        netns,
      ]),
    );
    disableIpv6(captureIf);
    exec('sysctl', ['-q', '-w', `net.ipv6.conf.${senderIf}.disable_ipv6=1`]);
    ip(['link', 'set', captureIf, 'up']);
    exec('ip', ['link', 'set', senderIf, 'up']);
  };
  const deletePair = (): void => removeQuietly(['link', 'del', captureIf]);
  try {
    ip(['netns', 'add', netns]);
    createPair();
  } catch (error) {
    destroy();
    throw error;
  }
  return { netns, senderIf, captureIf, exec, deletePair, createPair, destroy };
}

/**
 * Disable IPv6 on a root-namespace interface, as scripts/prepare-mirror.sh
 * does for the mirror port: no link-local address, no DAD, no RS.
 */
export function disableIpv6(interfaceName: string): void {
  writeFileSync(`/proc/sys/net/ipv6/conf/${interfaceName}/disable_ipv6`, '1');
}

/** Packets the interface has transmitted, from /sys statistics. */
export function txPackets(interfaceName: string): number {
  return readCounter(interfaceName, 'tx_packets');
}

/** A counter of /sys/class/net/IF/statistics. */
export function readCounter(interfaceName: string, name: string): number {
  const text = execFileSync(
    'cat',
    [`/sys/class/net/${interfaceName}/statistics/${name}`],
    { encoding: 'utf8' },
  );
  return Number.parseInt(text, 10);
}

/**
 * Replay a capture file into the sender end with tcpreplay, as fast as it
 * goes unless `pps` is given. Resolves with tcpreplay's stdout.
 */
export function replay(
  env: VethNetns,
  pcapPath: string,
  options: { pps?: number; loops?: number } = {},
): Promise<string> {
  const rate =
    options.pps === undefined ? ['--topspeed'] : [`--pps=${options.pps}`];
  const args = [
    'netns',
    'exec',
    env.netns,
    'tcpreplay',
    '-q',
    '-i',
    env.senderIf,
    ...rate,
    `--loop=${options.loops ?? 1}`,
    pcapPath,
  ];
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('ip', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`tcpreplay exited ${code}: ${stderr.trim()}`));
    });
  });
}

/**
 * Remove namespaces and capture interfaces left by crashed runs: those
 * with our prefixes whose creating process is gone. Returns the names.
 */
export function sweepLeftovers(): string[] {
  const removed: string[] = [];
  const namespaces = ip(['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith(NETNS_PREFIX));
  for (const name of namespaces) {
    if (isOwnerAlive(name.slice(NETNS_PREFIX.length))) continue;
    removeQuietly(['netns', 'del', name]);
    removed.push(name);
  }
  const links = ip(['-o', 'link', 'show'])
    .split('\n')
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(CAPTURE_IF_PREFIX));
  for (const name of links) {
    if (isOwnerAlive(name.slice(CAPTURE_IF_PREFIX.length))) continue;
    removeQuietly(['link', 'del', name]);
    removed.push(name);
  }
  return removed;
}

/** `tag` is `<pid>x<n>`; a live pid means another run still owns it. */
function isOwnerAlive(tag: string): boolean {
  const pid = Number.parseInt(tag, 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function removeQuietly(args: string[]): void {
  try {
    ip(args);
  } catch {
    // Already gone.
  }
}
