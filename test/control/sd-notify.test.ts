/**
 * Tests of sd-notify: messages delivered through systemd-notify to a real
 * unix datagram NOTIFY_SOCKET, and the progress-gated watchdog on a fake clock.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import {
  createNotifier,
  ProgressWatchdog,
  watchdogIntervalMs,
} from '../../src/control/sd-notify.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Binds a SOCK_DGRAM unix socket like systemd's notify socket, with
// SO_PASSCRED so the sender's PID is known, and prints one JSON line per
// datagram. Passed fds (systemd-notify's BARRIER=1 pipe) are closed at
// once, which is what releases the sender's barrier wait.
const RECEIVER_PY = `
import array, json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"bound": True}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(4096, 256)
    pid = -1
    fds = 0
    for level, kind, payload in anc:
        if kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
        if kind == socket.SCM_RIGHTS:
            got = array.array("i")
            got.frombytes(payload[: len(payload) - len(payload) % 4])
            for fd in got:
                os.close(fd)
                fds += 1
    print(json.dumps({"text": data.decode(), "pid": pid, "fds": fds}),
          flush=True)
`;

interface Datagram {
  text: string;
  pid: number;
  fds: number;
}

interface Receiver {
  socketPath: string;
  dir: string;
  datagrams: Datagram[];
  /** Datagrams other than systemd-notify's BARRIER=1 confirmations. */
  messages(): Datagram[];
}

async function startReceiver(t: Test): Promise<Receiver> {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-notify-'));
  // Readable for the unprivileged-sender test below.
  chmodSync(dir, 0o755);
  const socketPath = join(dir, 'notify.sock');
  const child: ChildProcess = spawn(PYTHON, ['-c', RECEIVER_PY, socketPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const datagrams: Datagram[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exit ${code}`)));
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as Datagram & { bound?: boolean };
      if (parsed.bound === true) resolve();
      else datagrams.push(parsed);
    });
  });
  return {
    socketPath,
    dir,
    datagrams,
    messages: () => datagrams.filter((d) => d.text !== 'BARRIER=1'),
  };
}

/** Fake monotonic clock for ProgressWatchdog. */
function fakeClock(): { nowMs: () => number; advance: (ms: number) => void } {
  let nowMs = 1_000;
  return {
    nowMs: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

t.test(
  'sd-notify: READY, STATUS, WATCHDOG and STOPPING reach a real socket in order',
  async (t) => {
    const receiver = await startReceiver(t);
    const notifier = createNotifier({ NOTIFY_SOCKET: receiver.socketPath });
    t.equal(notifier.isEnabled, true);

    const results = await Promise.all([
      notifier.ready('capturing on eth1'),
      notifier.watchdog(),
      notifier.status('2 devices'),
      notifier.stopping(),
    ]);
    t.same(results, [true, true, true, true], 'every delivery confirmed');

    t.same(
      receiver.messages().map((d) => d.text),
      [
        'READY=1\nSTATUS=capturing on eth1',
        'WATCHDOG=1',
        'STATUS=2 devices',
        'STOPPING=1',
      ],
    );
    // systemd-notify waits on a barrier after each message: the confirmation
    // datagram carries the pipe fd, so the promise resolved only after the
    // receiver had read the message.
    const barriers = receiver.datagrams.filter((d) => d.text === 'BARRIER=1');
    t.equal(barriers.length, 4, 'one barrier per message');
    t.ok(
      barriers.every((d) => d.fds === 1),
      'each barrier passed one fd',
    );
  },
);

t.test(
  'sd-notify: as root systemd-notify reports the agent PID, unprivileged its own',
  {
    skip:
      process.getuid?.() === 0
        ? false
        : 'needs root to compare with an unprivileged sender',
  },
  async (t) => {
    const receiver = await startReceiver(t);
    const asRoot = createNotifier({ NOTIFY_SOCKET: receiver.socketPath });
    t.equal(await asRoot.watchdog(), true);
    t.equal(receiver.messages()[0].pid, process.pid, 'root: sent as parent');

    // The same program as user nobody: faking the parent's PID needs
    // CAP_SYS_ADMIN, so the message carries systemd-notify's own PID. This
    // is why spansight.service must say NotifyAccess=all.
    const wrapper = join(receiver.dir, 'notify-as-nobody.sh');
    writeFileSync(
      wrapper,
      '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups' +
        ' systemd-notify "$@"\n',
      { mode: 0o755 },
    );
    const asNobody = createNotifier(
      { NOTIFY_SOCKET: receiver.socketPath, PATH: process.env.PATH },
      { command: wrapper },
    );
    t.equal(await asNobody.watchdog(), true);
    const message = receiver.messages()[1];
    t.equal(message.text, 'WATCHDOG=1');
    t.not(message.pid, process.pid, 'unprivileged: sent with its own PID');
    t.ok(message.pid > 0);
  },
);

t.test(
  'sd-notify: a newline in a status cannot inject a READY=1',
  async (t) => {
    const receiver = await startReceiver(t);
    const notifier = createNotifier({ NOTIFY_SOCKET: receiver.socketPath });
    t.equal(await notifier.status('feed lost\nREADY=1'), true);
    t.same(
      receiver.messages().map((d) => d.text),
      ['STATUS=feed lost READY=1'],
    );
  },
);

t.test(
  'sd-notify: no NOTIFY_SOCKET -> disabled, nothing spawned',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'spansight-notify-off-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const marker = join(dir, 'ran');
    const probe = join(dir, 'probe.sh');
    writeFileSync(probe, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });

    const notifier = createNotifier({}, { command: probe });
    t.equal(notifier.isEnabled, false);
    t.equal(await notifier.ready('x'), false);
    t.equal(await notifier.watchdog(), false);
    t.equal(await notifier.stopping(), false);
    t.equal(existsSync(marker), false, 'the command never ran');
  },
);

t.test(
  'sd-notify: missing program -> false, one warning until it recovers',
  async (t) => {
    const warnings: unknown[] = [];
    const infos: unknown[] = [];
    const log = {
      warn: (object: unknown) => warnings.push(object),
      info: (object: unknown) => infos.push(object),
    };
    const notifier = createNotifier(
      { NOTIFY_SOCKET: '/nonexistent/notify.sock' },
      { command: '/nonexistent/systemd-notify', log: log as never },
    );
    t.equal(await notifier.watchdog(), false);
    t.equal(await notifier.watchdog(), false);
    t.equal(await notifier.ready(), false);
    t.equal(warnings.length, 1, 'logged once per change of state');
    t.match(warnings[0], { event: 'sd_notify_failed', reason: 'ENOENT' });
    t.equal(infos.length, 0);
  },
);

t.test('sd-notify: queued watchdog pings are merged', async (t) => {
  const receiver = await startReceiver(t);
  const notifier = createNotifier({ NOTIFY_SOCKET: receiver.socketPath });
  // Five pings asked for while READY=1 is still being delivered say the
  // same thing: one WATCHDOG=1 goes out.
  const ready = notifier.ready();
  const pings = Array.from({ length: 5 }, () => notifier.watchdog());
  t.ok((await Promise.all([ready, ...pings])).every(Boolean));
  t.same(
    receiver.messages().map((d) => d.text),
    ['READY=1', 'WATCHDOG=1'],
  );
  // Once that ping has gone, the next one is sent again.
  t.equal(await notifier.watchdog(), true);
  t.equal(receiver.messages().length, 3);
});

t.test('sd-notify: watchdogIntervalMs is half of WATCHDOG_USEC', async (t) => {
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }), 15_000);
  t.equal(
    watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42),
    15_000,
  );
  t.equal(
    watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42),
    undefined,
    'watchdog meant for another process',
  );
  t.equal(watchdogIntervalMs({}), undefined, 'unset');
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }), undefined);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '-5' }), undefined);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30s' }), undefined);
});

t.test('watchdog: pings only when the progress counter advanced', async (t) => {
  const clock = fakeClock();
  let pings = 0;
  const watchdog = new ProgressWatchdog({
    send: () => pings++,
    intervalMs: 15_000,
    nowMs: clock.nowMs,
  });

  t.equal(watchdog.reportProgress(10), true, 'first progress pings at once');
  clock.advance(5_000);
  t.equal(watchdog.reportProgress(20), false, 'not before the interval');
  clock.advance(10_000);
  t.equal(watchdog.reportProgress(20), true, 'advanced since the last ping');

  // The loop keeps calling but nothing is processed: no ping, ever.
  for (let i = 0; i < 10; i++) {
    clock.advance(15_000);
    t.equal(watchdog.reportProgress(20), false);
  }
  t.equal(watchdog.poll(), false);
  t.equal(pings, 2);
  t.equal(watchdog.stalledChecks, 11);

  clock.advance(1);
  t.equal(watchdog.reportProgress(21), true, 'progress resumes the pings');
  t.equal(pings, 3);
  t.equal(watchdog.pingsSent, 3);
});

t.test('watchdog: a counter that goes backwards is not progress', async (t) => {
  const clock = fakeClock();
  let pings = 0;
  const watchdog = new ProgressWatchdog({
    send: () => pings++,
    intervalMs: 1_000,
    nowMs: clock.nowMs,
  });
  t.equal(watchdog.reportProgress(100), true);
  clock.advance(1_000);
  t.equal(watchdog.reportProgress(50), false);
  t.equal(pings, 1);
});

t.test('watchdog: an idle heartbeat keeps a quiet loop alive', async (t) => {
  const clock = fakeClock();
  let pings = 0;
  const watchdog = new ProgressWatchdog({
    send: () => pings++,
    intervalMs: 15_000,
    nowMs: clock.nowMs,
  });
  t.equal(watchdog.poll(), false, 'nothing reported yet');
  t.equal(watchdog.reportIdle(), true);
  clock.advance(15_000);
  t.equal(watchdog.poll(), false, 'idle reported once is used up');
  t.equal(watchdog.reportIdle(), true);
  // Idle reported early is kept until the interval has passed.
  clock.advance(1_000);
  t.equal(watchdog.reportIdle(), false);
  clock.advance(14_000);
  t.equal(watchdog.poll(), true);
  t.equal(pings, 3);
});

t.test('watchdog: a blocked loop stops the pings', async (t) => {
  const clock = fakeClock();
  let pings = 0;
  const watchdog = new ProgressWatchdog({
    send: () => pings++,
    intervalMs: 15_000,
    nowMs: clock.nowMs,
  });
  // Frames every 100 ms for a minute: one ping per 15 s.
  let frames = 0;
  for (let elapsedMs = 0; elapsedMs < 60_000; elapsedMs += 100) {
    frames += 50;
    watchdog.reportProgress(frames);
    clock.advance(100);
  }
  t.equal(pings, 4, 'at 0, 15, 30 and 45 s');
  // The loop then blocks (nothing calls the watchdog) for the whole 30 s
  // WatchdogSec: nothing is sent, so systemd restarts the agent.
  clock.advance(30_000);
  t.equal(pings, 4);
});

t.test('watchdog: ProgressWatchdog drives a real notifier', async (t) => {
  const receiver = await startReceiver(t);
  const notifier = createNotifier({ NOTIFY_SOCKET: receiver.socketPath });
  const clock = fakeClock();
  const sent: Promise<boolean>[] = [];
  const watchdog = new ProgressWatchdog({
    send: () => sent.push(notifier.watchdog()),
    intervalMs: watchdogIntervalMs({ WATCHDOG_USEC: '30000000' })!,
    nowMs: clock.nowMs,
  });
  watchdog.reportProgress(1);
  t.equal(await sent[0], true);
  clock.advance(15_000);
  watchdog.reportProgress(1);
  clock.advance(15_000);
  watchdog.reportProgress(2);
  t.equal(sent.length, 2, 'no ping for the interval without progress');
  t.equal(await sent[1], true);
  t.same(
    receiver.messages().map((d) => d.text),
    ['WATCHDOG=1', 'WATCHDOG=1'],
  );
});

t.test('watchdog: intervalMs must be positive', async (t) => {
  t.throws(
    () => new ProgressWatchdog({ send: () => 0, intervalMs: 0 }),
    RangeError,
  );
});
