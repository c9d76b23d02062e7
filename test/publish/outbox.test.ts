/**
 * Tests of the on-disk outbox with real files in temporary directories:
 * recovery, ordering, acks, the byte cap, damage, expiry and a SIGKILL run.
 */

import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { crc32c } from '../../src/publish/outbox-crc32c.js';
import { createLogger } from '../../src/telemetry/log.js';
import {
  Outbox,
  OutboxError,
  type OutboxOptions,
  type OutboxRecord,
} from '../../src/publish/outbox.js';
import { childPayload } from './outbox-child.js';

const FAST: OutboxOptions = {
  maxBytes: 1 << 20,
  segmentBytes: 4096,
  fsync: 'never',
};

/** A fresh directory, removed when the test ends (also on failure). */
function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'spansight-outbox-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Open an outbox that is closed at teardown unless the test closed it. */
async function openOutbox(
  t: Test,
  dir: string,
  options: Partial<OutboxOptions> = {},
): Promise<Outbox> {
  const outbox = await Outbox.open(dir, { ...FAST, ...options });
  t.teardown(() => outbox.close().catch(() => undefined));
  return outbox;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort();
}

function message(seq: number, payloadBytes = 40) {
  const payload = new Uint8Array(payloadBytes);
  for (let i = 0; i < payloadBytes; i++) payload[i] = (seq + i) & 0xff;
  return { topic: `spansight/v1/s1/m/${seq}`, payload, retain: false };
}

async function appendMany(
  outbox: Outbox,
  count: number,
  payloadBytes = 40,
): Promise<number[]> {
  const ids: number[] = [];
  for (let seq = 0; seq < count; seq++) {
    ids.push(await outbox.append(message(seq, payloadBytes)));
  }
  return ids;
}

function topicsOf(records: OutboxRecord[]): string[] {
  return records.map((r) => r.topic);
}

t.test('outbox-crc32c: check value and incremental use', async (t) => {
  const check = new TextEncoder().encode('123456789');
  t.equal(crc32c(check), 0xe3069283, 'RFC 3720 check value');
  t.equal(crc32c(check, 3, 9, crc32c(check, 0, 3)), 0xe3069283);
  t.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, '32 zero bytes (RFC 3720)');
  t.equal(crc32c(new Uint8Array(0)), 0);
});

t.test('outbox: round trip across reopen keeps fields and order', async (t) => {
  const dir = tempDir(t);
  const first = await Outbox.open(dir, { ...FAST, fsync: 'always' });
  const sent = [
    { topic: 'a/ü/1', payload: Uint8Array.of(0, 1, 255), retain: true },
    { topic: 'a/2', payload: new Uint8Array(0), retain: false },
    {
      topic: 'a/3',
      payload: new Uint8Array(10_000).fill(7),
      retain: false,
      expiresAtMs: Date.now() + 3_600_000,
      enqueuedAtMs: 1234.5,
    },
  ];
  const ids: number[] = [];
  for (const m of sent) ids.push(await first.append(m));
  t.same(ids, [1, 2, 3], 'ids count up from 1');
  await first.close();

  const second = await openOutbox(t, dir);
  const records = await second.peek(10);
  t.same(
    records.map((r) => r.id),
    ids,
  );
  for (let i = 0; i < sent.length; i++) {
    t.equal(records[i].topic, sent[i].topic);
    t.same(Array.from(records[i].payload), Array.from(sent[i].payload));
    t.equal(records[i].retain, sent[i].retain);
  }
  t.equal(records[2].enqueuedAtMs, 1234.5);
  t.equal(records[2].expiresAtMs, sent[2].expiresAtMs);
  t.ok(records[2].remainingExpiryMs! > 3_500_000, 'remaining expiry');
  t.equal(records[0].remainingExpiryMs, undefined, 'no expiry, no remaining');
  t.equal(await second.append(message(9)), 4, 'ids continue after reopen');
  t.match(second.counters(), { records: 4, tornRecords: 0, corruptRecords: 0 });
});

t.test('outbox: concurrent appends keep call order', async (t) => {
  const outbox = await openOutbox(t, tempDir(t));
  const ids = await Promise.all(
    Array.from({ length: 50 }, (_, seq) => outbox.append(message(seq, seq))),
  );
  t.same(
    ids,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  const records = await outbox.peek(100);
  t.same(
    topicsOf(records),
    Array.from({ length: 50 }, (_, seq) => message(seq).topic),
  );
  t.ok(segmentFiles(outbox.dir).length > 1, 'rotated into several segments');
});

t.test('outbox: in-flight records are skipped until released', async (t) => {
  const outbox = await openOutbox(t, tempDir(t));
  await appendMany(outbox, 5);
  t.ok(outbox.markInFlight(1));
  t.ok(outbox.markInFlight(2));
  t.notOk(outbox.markInFlight(2), 'already in flight');
  t.notOk(outbox.markInFlight(99), 'unknown id');
  t.same(
    (await outbox.peek(10)).map((r) => r.id),
    [3, 4, 5],
  );
  t.same(
    (await outbox.peek(2)).map((r) => r.id),
    [3, 4],
    'peek honours maxRecords',
  );
  t.equal(outbox.releaseInFlight(), 2);
  t.same(
    (await outbox.peek(10)).map((r) => r.id),
    [1, 2, 3, 4, 5],
  );
  t.equal(outbox.counters().records, 5, 'in flight still counts as held');
});

t.test('outbox: ack removes records and deletes segments', async (t) => {
  const dir = tempDir(t);
  const outbox = await openOutbox(t, dir);
  const ids = await appendMany(outbox, 60, 200);
  const segmentsBefore = segmentFiles(dir).length;
  t.ok(segmentsBefore >= 3, `${segmentsBefore} segments`);

  for (const id of ids.slice(0, 30)) {
    outbox.markInFlight(id);
    t.ok(outbox.ack(id));
  }
  t.notOk(outbox.ack(1), 'a second ack of the same id is ignored');
  await outbox.flush();
  t.ok(segmentFiles(dir).length < segmentsBefore, 'acked segments deleted');
  t.equal(outbox.counters().records, 30);
  t.equal((await outbox.peek(1))[0].id, 31);

  for (const id of ids.slice(30)) outbox.ack(id);
  await outbox.flush();
  t.same(segmentFiles(dir), [], 'no segment left once all are acked');
  t.match(outbox.counters(), { records: 0, bytes: 0, segments: 0 });
  await outbox.close();

  const reopened = await openOutbox(t, dir);
  t.same(await reopened.peek(10), [], 'nothing replays after a clean close');
  t.equal(await reopened.append(message(0)), 61, 'ids never repeat');
});

t.test('outbox: out-of-order acks survive a restart', async (t) => {
  const dir = tempDir(t);
  const outbox = await Outbox.open(dir, FAST);
  await appendMany(outbox, 20, 100);
  for (const id of [2, 4, 6, 8, 20, 19, 1]) t.ok(outbox.ack(id));
  await outbox.close();

  const reopened = await openOutbox(t, dir);
  const expected = [3, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  t.same(
    (await reopened.peek(100)).map((r) => r.id),
    expected,
  );
  t.equal(reopened.counters().records, expected.length);
});

t.test(
  'outbox: a crash before the ack state is saved loses no unacked',
  async (t) => {
    const dir = tempDir(t);
    // Saving is deferred (many acks, long interval): the ack file is stale
    // when a second instance opens the directory, as after a crash.
    const crashed = await Outbox.open(dir, {
      ...FAST,
      ackFlushEveryAcks: 1000,
      ackFlushIntervalMs: 600_000,
    });
    await appendMany(crashed, 10);
    for (const id of [1, 2, 5, 9]) crashed.ack(id);

    const reopened = await openOutbox(t, dir);
    const ids = (await reopened.peek(100)).map((r) => r.id);
    for (const id of [3, 4, 6, 7, 8, 10]) {
      t.ok(ids.includes(id), `unacked ${id} is still there`);
    }
    t.same(
      ids,
      [...ids].sort((a, b) => a - b),
      'in order',
    );
    await reopened.close();
    await crashed.close();
  },
);

t.test('outbox: ack state is saved after N acks', async (t) => {
  const dir = tempDir(t);
  const outbox = await openOutbox(t, dir, {
    ackFlushEveryAcks: 3,
    ackFlushIntervalMs: 600_000,
  });
  await appendMany(outbox, 10);
  outbox.ack(1);
  outbox.ack(2);
  outbox.ack(3);
  await outbox.peek(0); // waits for the queued save
  const saved = JSON.parse(readFileSync(join(dir, 'acks.json'), 'utf8'));
  t.equal(saved.ackedThroughId, 3, 'watermark written after 3 acks');
  t.equal(saved.lastId, 10);
});

t.test('outbox: ack state is saved after the interval', async (t) => {
  const dir = tempDir(t);
  const outbox = await openOutbox(t, dir, {
    ackFlushEveryAcks: 1000,
    ackFlushIntervalMs: 50,
  });
  await appendMany(outbox, 5);
  outbox.ack(1);
  outbox.ack(3);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await outbox.peek(0);
  const saved = JSON.parse(readFileSync(join(dir, 'acks.json'), 'utf8'));
  t.equal(saved.ackedThroughId, 1);
  t.same(saved.ackedIds, [3], 'out-of-order ack kept above the watermark');
});

t.test('outbox: cap drops oldest segments and counts them', async (t) => {
  const dir = tempDir(t);
  const outbox = await openOutbox(t, dir, {
    maxBytes: 8192,
    segmentBytes: 2048,
  });
  // Each record is 40 + ~20 + 200 bytes; 200 of them are far over the cap.
  const ids = await appendMany(outbox, 200, 200);
  const counters = outbox.counters();
  t.ok(counters.bytes <= 8192, `${counters.bytes} bytes held`);
  const onDisk = segmentFiles(dir).reduce(
    (sum, name) => sum + statSync(join(dir, name)).size,
    0,
  );
  t.equal(onDisk, counters.bytes, 'counter matches the files');
  t.equal(counters.droppedRecords + counters.records, 200, 'none unaccounted');
  t.ok(counters.droppedRecords > 150);
  const appendedBytes = ids.reduce(
    (sum, _, seq) => sum + 40 + message(seq).topic.length + 200,
    0,
  );
  t.equal(
    counters.droppedBytes + counters.bytes,
    appendedBytes,
    'dropped bytes are what was appended and is no longer held',
  );

  const held = (await outbox.peek(1000)).map((r) => r.id);
  t.same(held, ids.slice(200 - held.length), 'the newest are kept, in order');

  // A dropped in-flight record's late PUBACK is harmless.
  t.notOk(outbox.ack(1));
});

t.test('outbox: a record over maxBytes is refused', async (t) => {
  const outbox = await openOutbox(t, tempDir(t), {
    maxBytes: 1000,
    segmentBytes: 500,
  });
  await t.rejects(outbox.append(message(0, 2000)), {
    code: 'E_OUTBOX_RECORD_TOO_LARGE',
  });
  t.equal(await outbox.append(message(1, 600)), 1, 'bigger than a segment ok');
  t.equal(await outbox.append(message(2, 10)), 2);
  t.same(
    (await outbox.peek(5)).map((r) => r.topic),
    [message(1).topic, message(2).topic],
  );
});

t.test('outbox: torn final record is skipped and counted', async (t) => {
  const dir = tempDir(t);
  const outbox = await Outbox.open(dir, FAST);
  await appendMany(outbox, 5, 100);
  await outbox.close();
  const [segment] = segmentFiles(dir);
  const path = join(dir, segment);
  const fullBytes = statSync(path).size;
  const recordBytes = fullBytes / 5;

  // Every cut inside the last record, from its first byte to its last.
  for (let cut = 1; cut < recordBytes; cut += 7) {
    const copy = tempDir(t);
    writeFileSync(
      join(copy, segment),
      readFileSync(path).subarray(0, fullBytes - cut),
    );
    const reopened = await Outbox.open(copy, FAST);
    t.equal(reopened.counters().tornRecords, 1, `cut ${cut}: torn counted`);
    t.equal(reopened.counters().records, 4, `cut ${cut}: 4 records left`);
    await reopened.close();
  }

  truncateSync(path, fullBytes - 3);
  const reopened = await openOutbox(t, dir);
  t.match(reopened.counters(), { tornRecords: 1, corruptRecords: 0 });
  t.equal(statSync(path).size, fullBytes - recordBytes, 'tail cut off');
  const newId = await reopened.append(message(50, 100));
  t.ok(newId > 5, `a new id (${newId}), not a reused one`);
  await reopened.close();

  const again = await openOutbox(t, dir);
  t.match(again.counters(), { tornRecords: 0, records: 5 });
  t.same(
    topicsOf(await again.peek(10)),
    [0, 1, 2, 3, 50].map((seq) => message(seq).topic),
  );
});

t.test('outbox: a segment holding only a torn record is removed', async (t) => {
  const dir = tempDir(t);
  const outbox = await Outbox.open(dir, FAST);
  await outbox.append(message(0, 100));
  await outbox.close();
  const [segment] = segmentFiles(dir);
  truncateSync(join(dir, segment), 30);

  const reopened = await openOutbox(t, dir);
  t.match(reopened.counters(), { tornRecords: 1, records: 0, segments: 0 });
  t.same(segmentFiles(dir), [], 'empty segment file deleted');
  t.equal(await reopened.append(message(1)), 2, 'the torn id is not reused');
});

t.test('outbox: damaged middle record is skipped and counted', async (t) => {
  const dir = tempDir(t);
  const outbox = await Outbox.open(dir, FAST);
  await appendMany(outbox, 3, 100);
  await outbox.close();
  const [segment] = segmentFiles(dir);
  const original = readFileSync(join(dir, segment));
  const recordBytes = original.length / 3;

  // A bit flip in the magic, the length, the checksum, the topic, the
  // payload of the middle record: the first and last always survive.
  for (const at of [0, 5, 9, 45, recordBytes - 1]) {
    const damaged = Buffer.from(original);
    damaged[recordBytes + at] ^= 0x10;
    writeFileSync(join(dir, segment), damaged);
    const reopened = await Outbox.open(dir, FAST);
    t.match(
      reopened.counters(),
      { corruptRecords: 1, tornRecords: 0, records: 2 },
      `flip at byte ${at} of the middle record`,
    );
    t.same(topicsOf(await reopened.peek(10)), [
      message(0).topic,
      message(2).topic,
    ]);
    await reopened.close();
  }

  const reopened = await openOutbox(t, dir);
  t.equal(await reopened.append(message(3, 100)), 4, 'appends go on');
  t.same(
    (await reopened.peek(10)).map((r) => r.id),
    [1, 3, 4],
  );
});

t.test('outbox: damage found on re-read is dropped and counted', async (t) => {
  const dir = tempDir(t);
  const outbox = await openOutbox(t, dir);
  await appendMany(outbox, 3, 100);
  const path = join(dir, segmentFiles(dir)[0]);
  const bytes = readFileSync(path);
  bytes[bytes.length / 3 + 60] ^= 0xff;
  writeFileSync(path, bytes);
  t.same(
    (await outbox.peek(10)).map((r) => r.id),
    [1, 3],
  );
  t.equal(outbox.counters().corruptRecords, 1);
  t.equal(outbox.counters().records, 2);
});

t.test('outbox: expired records are dropped and counted', async (t) => {
  const dir = tempDir(t);
  let nowMs = 1_000_000;
  const clock = { nowMs: () => nowMs };
  const outbox = await Outbox.open(dir, { ...FAST, ...clock });
  await outbox.append({ ...message(0), expiresAtMs: 1_005_000 });
  await outbox.append({ ...message(1), expiresAtMs: 1_100_000 });
  await outbox.append(message(2));
  await outbox.append({ ...message(3), expiresAtMs: 1_001_000 });

  nowMs = 1_002_000;
  const first = await outbox.peek(10);
  t.same(
    first.map((r) => r.id),
    [1, 2, 3],
  );
  t.equal(first[0].remainingExpiryMs, 3000, 'remaining expiry at peek time');
  t.equal(first[1].remainingExpiryMs, 98_000);
  t.equal(outbox.counters().expiredRecords, 1);
  await outbox.close();

  // On restart, expiry is checked against the wall clock again.
  nowMs = 1_050_000;
  const reopened = await openOutbox(t, dir, clock);
  t.equal(reopened.counters().expiredRecords, 1, 'record 1 expired offline');
  t.same(
    (await reopened.peek(10)).map((r) => r.id),
    [2, 3],
  );
  t.equal((await reopened.peek(10))[0].remainingExpiryMs, 50_000);
});

t.test('outbox: warnings carry stable events, never payload', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
  });
  const dir = tempDir(t);
  const secret = 'PID|12345^DOE^JANE';
  const options = { maxBytes: 4096, segmentBytes: 1024, logger };
  const outbox = await Outbox.open(dir, { ...FAST, ...options });
  for (let seq = 0; seq < 40; seq++) {
    await outbox.append({
      topic: `t/${seq}`,
      payload: new TextEncoder().encode(`${secret} ${seq}`.padEnd(200, '.')),
      retain: false,
    });
  }
  await outbox.close();
  const last = segmentFiles(dir).at(-1)!;
  truncateSync(join(dir, last), statSync(join(dir, last)).size - 5);
  const reopened = await openOutbox(t, dir, options);
  t.equal(reopened.counters().tornRecords, 1);

  const events = lines.map((line) => JSON.parse(line).event);
  t.ok(events.includes('outbox_full_dropped'), 'drop warned');
  t.ok(events.includes('outbox_record_torn'), 'torn record warned');
  t.ok(events.includes('outbox_recovered'), 'recovery summary');
  // Three drops are logged, the rest counted in one line at close.
  const drops = lines
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.event === 'outbox_full_dropped');
  t.equal(drops.length, 4, 'repeated drops are rate limited');
  t.ok(drops[3].suppressed > 0, 'the last line counts the suppressed ones');
  t.notOk(
    lines.some((line) => line.includes('DOE')),
    'no payload text in any line',
  );
});

t.test('outbox: E_OUTBOX_IO names the path it cannot use', async (t) => {
  const base = tempDir(t);
  const file = join(base, 'not-a-dir');
  writeFileSync(file, 'x');
  // Root ignores permission bits; a path under a regular file fails anyway.
  const dir = join(file, 'outbox');
  const error = await Outbox.open(dir, FAST).catch((e: unknown) => e);
  t.type(error, OutboxError);
  t.match(error, { code: 'E_OUTBOX_IO', path: dir });
  t.match((error as Error).message, dir);
});

t.test('outbox: E_OUTBOX_IO when the directory goes away', async (t) => {
  const dir = tempDir(t);
  const outbox = await openOutbox(t, dir, { segmentBytes: 200 });
  await outbox.append(message(0, 300));
  rmSync(dir, { recursive: true, force: true });
  const error = await outbox.append(message(1, 10)).catch((e: unknown) => e);
  t.match(error, { code: 'E_OUTBOX_IO' });
  t.ok((error as OutboxError).path.startsWith(dir), 'names a path in it');
});

t.test(
  'outbox: acks after close are ignored, other calls refused',
  async (t) => {
    const outbox = await Outbox.open(tempDir(t), FAST);
    await appendMany(outbox, 2);
    await outbox.close();
    t.notOk(outbox.ack(1), 'a late PUBACK during shutdown');
    t.notOk(outbox.markInFlight(2));
    t.equal(outbox.releaseInFlight(), 0);
    t.throws(() => outbox.append(message(3)), /closed/);
  },
);

t.test('outbox: E_OUTBOX_CONFIG on bad options', async (t) => {
  const dir = tempDir(t);
  const bad: Partial<OutboxOptions>[] = [
    { maxBytes: 0 },
    { segmentBytes: FAST.maxBytes * 2 },
    { segmentBytes: 1.5 },
    { fsync: 'sometimes' as 'never' },
    { ackFlushEveryAcks: 0 },
    { ackFlushIntervalMs: -1 },
  ];
  for (const options of bad) {
    await t.rejects(
      Outbox.open(dir, { ...FAST, ...options }),
      { code: 'E_OUTBOX_CONFIG' },
      JSON.stringify(options),
    );
  }
});

interface ChildRun {
  /** `[id, seq]` of every append the child reported as returned. */
  reported: [number, number][];
  signal: NodeJS.Signals | null;
}

/** Run the child until it has reported `killAfter` appends, then SIGKILL. */
function runChildUntilKilled(
  t: Test,
  dir: string,
  tag: string,
  killAfter: number,
  maxPayloadBytes: number,
): Promise<ChildRun> {
  const script = fileURLToPath(new URL('./outbox-child.ts', import.meta.url));
  // The child runs TypeScript through tap's own loader, so the test does
  // not depend on `npm run build` having run first.
  const loader = import.meta.resolve('@tapjs/typescript/import');
  const child = spawn(
    process.execPath,
    [`--import=${loader}`, script, dir, tag, String(maxPayloadBytes)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  });
  const reported: [number, number][] = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (line === 'ready') return;
    const [id, seq] = line.split(' ').map(Number);
    reported.push([id, seq]);
    if (reported.length === killAfter) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' waits for stdout to drain: every line written is counted.
    child.on('close', (_code, signal) => resolve({ reported, signal }));
  });
}

t.test('outbox: SIGKILL mid-stream loses no returned append', async (t) => {
  const dir = tempDir(t);
  const maxPayloadBytes = 300_000;
  const rounds = [
    { tag: 'a', killAfter: 40 },
    { tag: 'b', killAfter: 25 },
  ];
  let expected: { id: number; topic: string; payload: Uint8Array }[] = [];
  let tornSeen = 0;

  for (const { tag, killAfter } of rounds) {
    const run = await runChildUntilKilled(
      t,
      dir,
      tag,
      killAfter,
      maxPayloadBytes,
    );
    t.equal(run.signal, 'SIGKILL', `round ${tag}: killed`);
    t.ok(run.reported.length >= killAfter, `round ${tag}: reported`);

    const outbox = await Outbox.open(dir, FAST);
    const counters = outbox.counters();
    tornSeen += counters.tornRecords;
    t.ok(counters.tornRecords <= 1, `round ${tag}: at most one torn record`);
    t.equal(counters.corruptRecords, 0);
    const records = await outbox.peek(1_000_000);
    await outbox.close();

    // Earlier rounds' records are still there, unchanged, first.
    const earlier = records.slice(0, expected.length);
    t.same(
      earlier.map((r) => [r.id, r.topic]),
      expected.map((r) => [r.id, r.topic]),
      `round ${tag}: earlier records kept`,
    );

    // This round: seq 0, 1, 2... with no gap, covering every reported one.
    const mine = records.slice(expected.length);
    const lastReported = run.reported[run.reported.length - 1];
    t.ok(mine.length >= run.reported.length, `round ${tag}: none lost`);
    t.ok(mine.length <= run.reported.length + 1, 'at most one unreported');
    let isIntact = true;
    for (let seq = 0; seq < mine.length; seq++) {
      const r = mine[seq];
      const want = childPayload(tag, seq, maxPayloadBytes);
      if (
        r.topic !== `${tag}/${seq}` ||
        Buffer.compare(r.payload, want) !== 0 ||
        (seq < run.reported.length && r.id !== run.reported[seq][0])
      ) {
        isIntact = false;
      }
    }
    t.ok(isIntact, `round ${tag}: every record intact, ids as reported`);
    t.ok(
      expected.length === 0 || mine[0].id > expected[expected.length - 1].id,
      `round ${tag}: ids continue past the earlier round`,
    );
    t.ok(mine.length > lastReported[1], 'last reported seq present');
    expected = records.map((r) => ({
      id: r.id,
      topic: r.topic,
      payload: r.payload,
    }));
  }
  t.comment(`torn records seen at kill: ${tornSeen} of ${rounds.length}`);
});
