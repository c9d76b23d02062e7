/**
 * Tests of the systemd units: `systemd-analyze verify` finds nothing to
 * report, and `systemd-analyze security --offline` rates exposure <= 2.0.
 */

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const UNIT_DIR = join(REPO, 'systemd');
const MAX_EXPOSURE = 2.0;

const analyze = spawnSync('systemd-analyze', ['--version'], {
  encoding: 'utf8',
});
if (analyze.error !== undefined) {
  // Not a skip: scripts/install-system-packages.sh installs it (systemd).
  throw new Error(
    'systemd-analyze not found: run scripts/install-system-packages.sh',
  );
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function systemdAnalyze(args: string[]): Run {
  const result = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

/** Overall exposure from `systemd-analyze security --offline=true`. */
function exposureOf(unitPath: string): number {
  const run = systemdAnalyze(['security', '--offline=true', unitPath]);
  const match = /Overall exposure level for \S+: ([0-9.]+)/.exec(run.stdout);
  if (match === null) {
    throw new Error(`no exposure in output: ${run.stdout}${run.stderr}`);
  }
  return Number(match[1]);
}

/**
 * Copies the units into a temp dir with /opt/spansight pointing at a
 * `current` symlink to this repository, so every ExecStart names a file
 * that exists (verify rejects missing executables), plus the template
 * instantiated for eth1 and, optionally, a board drop-in.
 */
function stageUnits(t: Test, dropIn?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = join(dir, 'opt', 'spansight');
  mkdirSync(prefix, { recursive: true });
  symlinkSync(REPO, join(prefix, 'current'));

  for (const unit of ['spansight.service', 'spansight-mirror@.service']) {
    const text = readFileSync(join(UNIT_DIR, unit), 'utf8')
      .replaceAll('/opt/spansight', prefix)
      .replaceAll('/etc/spansight', join(dir, 'etc', 'spansight'));
    writeFileSync(join(dir, unit), text);
  }
  copyFileSync(
    join(dir, 'spansight-mirror@.service'),
    join(dir, 'spansight-mirror@eth1.service'),
  );
  if (dropIn !== undefined) {
    mkdirSync(join(dir, 'spansight.service.d'));
    writeFileSync(join(dir, 'spansight.service.d', '10-board.conf'), dropIn);
  }
  return dir;
}

/** `Key=value` settings of one unit file, later values appended. */
function unitSettings(path: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  // A trailing backslash continues a setting on the next line.
  const text = readFileSync(path, 'utf8').replace(/\\\n\s*/g, '');
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match === null) continue;
    const values = settings.get(match[1]) ?? [];
    values.push(match[2]);
    settings.set(match[1], values);
  }
  return settings;
}

t.test('systemd: verify reports nothing for both units', async (t) => {
  const dir = stageUnits(t);
  const run = systemdAnalyze([
    'verify',
    join(dir, 'spansight.service'),
    join(dir, 'spansight-mirror@eth1.service'),
  ]);
  t.equal(run.status, 0, 'exit status');
  // verify exits 0 on unknown keys too: any message at all is a finding.
  t.equal(run.stderr, '', 'no warnings');
  t.equal(run.stdout, '');
});

t.test('systemd: verify loads the board drop-in cleanly', async (t) => {
  const dir = stageUnits(
    t,
    '[Service]\nMemoryMax=1073741824\n' +
      'Environment=NODE_OPTIONS=--max-old-space-size=512\n',
  );
  const run = systemdAnalyze(['verify', join(dir, 'spansight.service')]);
  t.equal(run.status, 0);
  t.equal(run.stderr, '');
});

t.test('systemd: verify does report a bad key (control)', async (t) => {
  const dir = stageUnits(t, '[Service]\nMemoryMaximum=1G\n');
  const run = systemdAnalyze(['verify', join(dir, 'spansight.service')]);
  t.match(run.stderr, /Unknown key 'MemoryMaximum'/);
});

t.test(
  `systemd: security --offline rates the agent at ${MAX_EXPOSURE.toFixed(1)} or lower`,
  async (t) => {
    const dir = stageUnits(t);
    const exposure = exposureOf(join(dir, 'spansight.service'));
    t.ok(exposure <= MAX_EXPOSURE, `spansight.service exposure ${exposure}`);

    const mirror = exposureOf(join(dir, 'spansight-mirror@eth1.service'));
    t.ok(mirror <= MAX_EXPOSURE, `spansight-mirror@eth1 exposure ${mirror}`);
  },
);

t.test('systemd: an unhardened unit rates high (control)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'plain.service');
  writeFileSync(path, '[Service]\nExecStart=/usr/bin/node -e 0\n');
  const exposure = exposureOf(path);
  t.ok(exposure > 9, `plain unit exposure ${exposure}`);
});

t.test(
  'systemd: agent unit keeps the settings the design relies on',
  async (t) => {
    const settings = unitSettings(join(UNIT_DIR, 'spansight.service'));
    const one = (key: string): string | undefined => settings.get(key)?.at(-1);

    t.equal(one('Type'), 'notify');
    t.equal(one('NotifyAccess'), 'all', 'systemd-notify children may notify');
    t.equal(one('WatchdogSec'), '30s');
    t.equal(one('Restart'), 'always');
    t.equal(one('User'), 'spansight');
    t.equal(one('CapabilityBoundingSet'), 'CAP_NET_RAW', 'only CAP_NET_RAW');
    t.equal(one('AmbientCapabilities'), 'CAP_NET_RAW');
    t.equal(one('NoNewPrivileges'), 'yes');
    t.equal(one('ProtectSystem'), 'strict');
    t.equal(one('StateDirectory'), 'spansight');
    t.ok(one('MemoryMax'), 'MemoryMax set');
    t.match(one('ExecStart'), /^\/usr\/bin\/node \/opt\/spansight\/current\//);
    t.match(
      one('ExecStart'),
      / run --config \/etc\/spansight\/spansight\.json$/,
    );
    t.match(one('RestrictAddressFamilies'), /AF_PACKET/);
    // V8's JIT needs pages that are written, then executed.
    t.equal(one('MemoryDenyWriteExecute'), undefined);
  },
);
