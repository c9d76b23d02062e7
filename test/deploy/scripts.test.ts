/**
 * Tests of the deployment scripts: prepare-mirror.sh on veth pairs in a
 * network namespace, install.sh and uninstall.sh in dry-run and --root modes.
 */

import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PREPARE = join(REPO, 'scripts', 'prepare-mirror.sh');
const INSTALL = join(REPO, 'scripts', 'install.sh');
const UNINSTALL = join(REPO, 'scripts', 'uninstall.sh');
const VERSION = (
  JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

// Long enough for what the kernel sends after link up with IPv6 on: MLD
// reports and DAD at once, a router solicitation within 1 s (rtr_solicit_delay).
const LINK_UP_SETTLE_MS = 2500;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Run {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

/** Runs and demands exit status 0. */
function must(command: string, args: string[]): string {
  const result = run(command, args);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  }
  return result.stdout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A network namespace for this test, deleted on teardown. */
function makeNamespace(t: Test, suffix: string): string {
  const name = `spansight-${suffix}-${process.pid}`;
  must('ip', ['netns', 'add', name]);
  t.teardown(() => {
    run('ip', ['netns', 'del', name]);
  });
  return name;
}

/** A veth pair inside `ns`; `peer` is up, `port` is left down. */
function makeVeth(ns: string, port: string, peer: string): void {
  must('ip', [
    '-n',
    ns,
    'link',
    'add',
    port,
    'type',
    'veth',
    'peer',
    'name',
    peer,
  ]);
  must('ip', ['-n', ns, 'link', 'set', peer, 'up']);
}

function inNs(ns: string, command: string, args: string[]): Run {
  return run('ip', ['netns', 'exec', ns, command, ...args]);
}

interface LinkState {
  flags: string[];
  txPackets: number;
  addresses: unknown[];
}

function linkState(ns: string, dev: string): LinkState {
  const [link] = JSON.parse(
    must('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev]),
  ) as { flags: string[]; stats64: { tx: { packets: number } } }[];
  const [addr] = JSON.parse(
    must('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', dev]),
  ) as { addr_info: unknown[] }[];
  return {
    flags: link.flags,
    txPackets: link.stats64.tx.packets,
    addresses: addr.addr_info,
  };
}

/** `ethtool -k` features of interest, as "on"/"off" (without [fixed]). */
function offloads(ns: string, dev: string): Record<string, string> {
  const text = must('ip', ['netns', 'exec', ns, 'ethtool', '-k', dev]);
  const out: Record<string, string> = {};
  for (const name of [
    'generic-receive-offload',
    'large-receive-offload',
    'generic-segmentation-offload',
    'tcp-segmentation-offload',
  ]) {
    const match = new RegExp(`^${name}: (on|off)`, 'm').exec(text);
    out[name] = match === null ? 'missing' : match[1];
  }
  return out;
}

function sysctl(ns: string, dev: string, key: string): string {
  const path = `/proc/sys/net/ipv6/conf/${dev}/${key}`;
  return must('ip', ['netns', 'exec', ns, 'cat', path]).trim();
}

/** Lines that report a change (`+ cmd`) in a script's output. */
function changes(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('+ '));
}

/** Every path below `dir`, relative, sorted. */
function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`;
      out.push(path);
      const stat = lstatSync(join(dir, path));
      if (stat.isDirectory() && !stat.isSymbolicLink()) walk(path);
    }
  };
  walk('');
  return out.sort();
}

function tempRoot(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-root-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test(
  'prepare-mirror: veth ends promiscuous, addressless, offloads off; rerun is a no-op',
  async (t) => {
    const ns = makeNamespace(t, 'pm');
    makeVeth(ns, 'm0', 'm1');
    // Start from a configured port: an address, GRO on.
    must('ip', ['-n', ns, 'addr', 'add', '192.0.2.10/24', 'dev', 'm0']);
    must('ip', ['netns', 'exec', ns, 'ethtool', '-K', 'm0', 'gro', 'on']);
    t.equal(offloads(ns, 'm0')['generic-receive-offload'], 'on');

    const first = inNs(ns, PREPARE, ['m0']);
    t.equal(first.status, 0, first.stderr);
    t.ok(changes(first.stdout).length >= 5, 'first run changes the port');

    const state = linkState(ns, 'm0');
    for (const flag of ['UP', 'PROMISC', 'NOARP']) {
      t.ok(state.flags.includes(flag), `flag ${flag}`);
    }
    t.same(state.addresses, [], 'no IPv4 or IPv6 address');
    t.same(offloads(ns, 'm0'), {
      'generic-receive-offload': 'off',
      'large-receive-offload': 'off',
      'generic-segmentation-offload': 'off',
      'tcp-segmentation-offload': 'off',
    });
    t.equal(sysctl(ns, 'm0', 'disable_ipv6'), '1');
    t.equal(sysctl(ns, 'm0', 'accept_ra'), '0');
    t.match(first.stdout, /does not report ring sizes/, 'veth has no rings');

    const second = inNs(ns, PREPARE, ['m0']);
    t.equal(second.status, 0, second.stderr);
    t.same(changes(second.stdout), [], 'second run changes nothing');
    t.same(linkState(ns, 'm0').flags, state.flags);
  },
);

t.test('prepare-mirror: the prepared port never transmits', async (t) => {
  const ns = makeNamespace(t, 'pmtx');
  makeVeth(ns, 'm0', 'm1');
  // Control: a port brought up the ordinary way sends IPv6 MLD/DAD/RS.
  makeVeth(ns, 'c0', 'c1');
  must('ip', ['-n', ns, 'link', 'set', 'c0', 'up']);

  const result = inNs(ns, PREPARE, ['m0']);
  t.equal(result.status, 0, result.stderr);
  await sleep(LINK_UP_SETTLE_MS);

  t.ok(linkState(ns, 'c0').txPackets > 0, 'control port did transmit');
  t.equal(linkState(ns, 'm0').txPackets, 0, 'mirror port sent 0 packets');
});

t.test(
  'prepare-mirror: --dry-run prints the plan and changes nothing',
  async (t) => {
    const ns = makeNamespace(t, 'pmdry');
    makeVeth(ns, 'm0', 'm1');
    must('ip', ['-n', ns, 'addr', 'add', '192.0.2.11/24', 'dev', 'm0']);
    const before = linkState(ns, 'm0');

    const result = inNs(ns, PREPARE, ['m0', '--dry-run']);
    t.equal(result.status, 0, result.stderr);
    t.same(changes(result.stdout), []);
    t.match(result.stdout, /would run: ip link set dev m0 promisc on/);
    t.match(result.stdout, /would run: ip addr flush dev m0/);
    t.match(
      result.stdout,
      /would run: echo 1 > \/proc\/sys\/net\/ipv6\/conf\/m0\/disable_ipv6/,
    );

    const after = linkState(ns, 'm0');
    t.same(after.flags, before.flags, 'flags unchanged');
    t.same(after.addresses, before.addresses, 'address kept');
    t.equal(sysctl(ns, 'm0', 'disable_ipv6'), '0');
  },
);

t.test(
  'prepare-mirror: bad arguments and a missing port are refused',
  async (t) => {
    const badName = run(PREPARE, ['../etc']);
    t.equal(badName.status, 2);
    t.match(badName.stderr, /E_IFACE_INVALID/);
    const badRing = run(PREPARE, ['eth9', '--rx-ring', 'lots']);
    t.equal(badRing.status, 2);
    t.match(badRing.stderr, /E_RX_RING_INVALID/);
    const missing = run(PREPARE, ['spansightnone0']);
    t.equal(missing.status, 1);
    t.match(missing.stderr, /E_IFACE_MISSING/);
  },
);

t.test('install: --dry-run prints the plan and creates nothing', async (t) => {
  const root = tempRoot(t);
  const result = run(INSTALL, ['--dry-run', '--root', root, '--skip-deps']);
  t.equal(result.status, 0, result.stderr);
  t.same(changes(result.stdout), []);
  t.match(result.stdout, /would run: mv \S+\/releases\/\.[0-9.]+\.staging/);
  t.match(
    result.stdout,
    /would write: \S+\/etc\/systemd\/system\/spansight\.service/,
  );
  t.match(
    result.stdout,
    /would run: systemctl --root=\S+ enable spansight\.service/,
  );
  t.same(listTree(root), [], 'the root stays empty');

  // The same against the real paths of this machine (no --root): nothing
  // that was absent appears.
  const watched = [
    '/opt/spansight',
    '/etc/spansight',
    '/etc/systemd/system/spansight.service',
    '/etc/systemd/system/spansight-mirror@.service',
  ];
  const before = watched.map((path) => existsSync(path));
  const real = run(INSTALL, ['--dry-run']);
  t.equal(real.status, 0, real.stderr);
  t.same(changes(real.stdout), []);
  t.match(real.stdout, /npm ci --omit=dev/);
  t.same(
    watched.map((path) => existsSync(path)),
    before,
  );
});

t.test(
  'install: --root installs release, config and units; rerun changes nothing',
  async (t) => {
    const root = tempRoot(t);
    const first = run(INSTALL, ['--root', root, '--skip-deps']);
    t.equal(first.status, 0, first.stderr);
    t.match(first.stdout, /skipped under --root: creating system user/);

    const release = join(root, 'opt/spansight/releases', VERSION);
    t.equal(
      readlinkSync(join(root, 'opt/spansight/current')),
      `releases/${VERSION}`,
    );
    for (const file of [
      'bin/spansight.js',
      'dist/src/cli/main.js',
      'board/rpi4.json',
      'scripts/prepare-mirror.sh',
      'package-lock.json',
      '.source-sha256',
    ]) {
      t.ok(existsSync(join(release, file)), `release has ${file}`);
    }
    t.notOk(existsSync(join(release, 'test')), 'no tests in the release');
    t.notOk(existsSync(join(release, 'src')), 'no sources in the release');

    const config = join(root, 'etc/spansight/spansight.json');
    t.equal(
      readFileSync(config, 'utf8'),
      readFileSync(join(REPO, 'board/spansight.example.json'), 'utf8'),
    );
    t.equal(lstatSync(config).mode & 0o777, 0o640);
    const units = join(root, 'etc/systemd/system');
    t.equal(
      readFileSync(join(units, 'spansight.service'), 'utf8'),
      readFileSync(join(REPO, 'systemd/spansight.service'), 'utf8'),
    );
    // The example config names board rpi4 with capture on eth1.
    t.match(
      readFileSync(join(units, 'spansight.service.d/10-board.conf'), 'utf8'),
      /MemoryMax=1073741824\n.*--max-old-space-size=512/,
    );
    t.match(
      readFileSync(join(root, 'etc/spansight/mirror.env'), 'utf8'),
      /SPANSIGHT_MIRROR_ARGS=--rx-ring 4096/,
    );
    t.equal(
      readlinkSync(
        join(units, 'spansight.service.wants/spansight-mirror@eth1.service'),
      ),
      '/etc/systemd/system/spansight-mirror@.service',
    );
    t.ok(
      lstatSync(
        join(units, 'multi-user.target.wants/spansight.service'),
      ).isSymbolicLink(),
      'agent enabled',
    );

    // An edited config survives; an unchanged build is not copied again.
    const edited = readFileSync(config, 'utf8').replace(
      '"site": "st-marys"',
      '"site": "north-wing"',
    );
    writeFileSync(config, edited);
    const treeBefore = listTree(root);
    const second = run(INSTALL, ['--root', root, '--skip-deps']);
    t.equal(second.status, 0, second.stderr);
    t.same(changes(second.stdout), [], 'second run changes nothing');
    t.match(second.stdout, /already installed and unchanged/);
    t.equal(readFileSync(config, 'utf8'), edited, 'config never overwritten');
    t.same(listTree(root), treeBefore);
  },
);

t.test('install: another prefix is written into the units', async (t) => {
  const root = tempRoot(t);
  const result = run(INSTALL, [
    '--root',
    root,
    '--skip-deps',
    '--prefix',
    '/srv/sensor',
    '--config-dir',
    '/etc/sensor',
  ]);
  t.equal(result.status, 0, result.stderr);
  // Joined where a trailing backslash continues a line.
  const unit = readFileSync(
    join(root, 'etc/systemd/system/spansight.service'),
    'utf8',
  ).replace(/\\\n\s*/g, '');
  t.match(
    unit,
    /ExecStart=\/usr\/bin\/node \/srv\/sensor\/current\/bin\/spansight\.js run --config \/etc\/sensor\/spansight\.json/,
  );
  t.notMatch(unit, /\/opt\/spansight|\/etc\/spansight/);
  t.ok(existsSync(join(root, 'srv/sensor/current/bin/spansight.js')));
});

t.test('install: an invalid config stops before the units', async (t) => {
  const root = tempRoot(t);
  const config = join(root, 'etc/spansight/spansight.json');
  must('mkdir', ['-p', join(root, 'etc/spansight')]);
  writeFileSync(config, '{ "capture": { "snapLengthBytes": "big" } }\n');
  const result = run(INSTALL, ['--root', root, '--skip-deps']);
  t.equal(result.status, 1);
  t.match(result.stderr, /E_CONFIG_INVALID/);
  t.match(result.stderr, /snapLengthBytes/);
  t.notOk(existsSync(join(root, 'etc/systemd/system/spansight.service')));
});

t.test(
  'uninstall: dry-run changes nothing; default keeps config; --purge removes it',
  async (t) => {
    const root = tempRoot(t);
    must(INSTALL, ['--root', root, '--skip-deps']);
    must('mkdir', ['-p', join(root, 'var/lib/spansight')]);
    writeFileSync(join(root, 'var/lib/spansight/outbox.log'), 'x');
    const installed = listTree(root);

    const dry = run(UNINSTALL, ['--root', root, '--dry-run', '--purge']);
    t.equal(dry.status, 0, dry.stderr);
    t.same(changes(dry.stdout), []);
    t.match(dry.stdout, /would run: rm -rf \S+\/opt\/spansight/);
    t.same(listTree(root), installed, 'dry run removed nothing');

    const keep = run(UNINSTALL, ['--root', root]);
    t.equal(keep.status, 0, keep.stderr);
    t.notOk(existsSync(join(root, 'opt/spansight')));
    t.notOk(existsSync(join(root, 'etc/systemd/system/spansight.service')));
    t.notOk(existsSync(join(root, 'etc/systemd/system/spansight.service.d')));
    t.notOk(
      existsSync(
        join(
          root,
          'etc/systemd/system/multi-user.target.wants/spansight.service',
        ),
      ),
    );
    t.ok(existsSync(join(root, 'etc/spansight/spansight.json')), 'config kept');
    t.ok(existsSync(join(root, 'var/lib/spansight/outbox.log')), 'state kept');

    const again = run(UNINSTALL, ['--root', root]);
    t.equal(again.status, 0, again.stderr);
    t.same(changes(again.stdout), [], 'second uninstall changes nothing');

    const purge = run(UNINSTALL, ['--root', root, '--purge']);
    t.equal(purge.status, 0, purge.stderr);
    t.notOk(existsSync(join(root, 'etc/spansight')));
    t.notOk(existsSync(join(root, 'var/lib/spansight')));
  },
);

t.test(
  'prepare-mirror: an unprivileged user with only CAP_NET_RAW captures on the port',
  async (t) => {
    // What spansight.service grants: user without privileges, ambient and
    // bounding set CAP_NET_RAW only, no new privileges. Promiscuous mode and
    // the rest come from prepare-mirror.sh, not from the agent.
    const ns = makeNamespace(t, 'pmcap');
    makeVeth(ns, 'm0', 'm1');
    // A static neighbour: each datagram is one frame, no ARP timing.
    must('ip', ['-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'm1']);
    must('ip', [
      '-n',
      ns,
      'neigh',
      'add',
      '192.0.2.99',
      'lladdr',
      '02:00:00:00:00:99',
      'dev',
      'm1',
    ]);
    t.equal(inNs(ns, PREPARE, ['m0']).status, 0);

    const dir = mkdtempSync(join(tmpdir(), 'spansight-cap-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    const probe = join(dir, 'probe.cjs');
    // Prints a ready line once the capture is open, counts for 1.5 s more.
    writeFileSync(
      probe,
      `const pcap = require(${JSON.stringify(join(REPO, 'node_modules/pcap'))});
const session = pcap.createSession('m0', { promiscuous: true });
let frames = 0;
session.on('packet', () => frames++);
console.log('ready');
setTimeout(() => { console.log(JSON.stringify({ frames })); process.exit(0); }, 1500);
`,
    );
    chmodSync(probe, 0o644);
    const asCaptureUser = (caps: string, onReady: () => void): Promise<Run> =>
      new Promise((resolve) => {
        const child = spawn('ip', [
          'netns',
          'exec',
          ns,
          'setpriv',
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          `--inh-caps=-all${caps}`,
          `--ambient-caps=-all${caps}`,
          `--bounding-set=-all${caps}`,
          '--no-new-privs',
          process.execPath,
          probe,
        ]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
          if (stdout.startsWith('ready\n') && stdout.length === 6) onReady();
        });
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });

    // Frames from the switch side: UDP from the peer end to another host.
    const withRaw = await asCaptureUser(',+net_raw', () => {
      inNs(ns, 'bash', [
        '-c',
        'for i in 1 2 3; do echo probe > /dev/udp/192.0.2.99/9; done',
      ]);
    });
    t.equal(withRaw.status, 0, withRaw.stderr);
    const { frames } = JSON.parse(withRaw.stdout.trim().split('\n').at(-1)!);
    t.ok(frames >= 3, `captured ${frames} frames as nobody with CAP_NET_RAW`);

    const without = await asCaptureUser('', () => undefined);
    t.not(without.status, 0, 'without CAP_NET_RAW the capture fails');
    t.match(without.stderr, /Operation not permitted/);
    t.equal(linkState(ns, 'm0').txPackets, 0, 'the port still sent nothing');
  },
);
