/**
 * Tests of the streaming capture-file reader: generated pcap and pcapng
 * files, every truncation point, corrupt blocks, and corpus files vs tshark.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  CaptureFileError,
  CaptureFileReader,
  readCaptureFile,
  type CaptureFileOptions,
} from '../../src/capture/capture-file.js';
import type { FrameSink } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/link-type.js';
import {
  type BuiltCapture,
  joinBlocks,
  makeBlock,
  makeEpb,
  makeIdb,
  makeOptions,
  makePcap,
  makeShb,
  makeSpb,
  patternBytes,
  type PcapRecord,
  ticksToUs,
} from './make-capture.js';

interface SeenFrame {
  data: Buffer;
  capturedBytes: number;
  wireBytes: number;
  timeUs: number;
  linkType: number;
}

/** Copies every frame, and notes any frame handed out past the buffer. */
class CollectSink implements FrameSink {
  frames: SeenFrame[] = [];
  outOfBoundsFrames = 0;

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    if (off < 0 || off + capturedBytes > buf.length) this.outOfBoundsFrames++;
    this.frames.push({
      data: Buffer.from(buf.subarray(off, off + capturedBytes)),
      capturedBytes,
      wireBytes,
      timeUs,
      linkType,
    });
  }
}

interface ReadOutcome {
  sink: CollectSink;
  error: unknown;
}

function readAll(path: string, options: CaptureFileOptions = {}): ReadOutcome {
  const sink = new CollectSink();
  try {
    readCaptureFile(path, sink, options);
    return { sink, error: null };
  } catch (error) {
    return { sink, error };
  }
}

function writeFile(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function asCaptureError(error: unknown): CaptureFileError {
  if (error instanceof CaptureFileError) return error;
  throw new Error(`expected a CaptureFileError, got ${String(error)}`);
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return null;
}

const SEC_2023 = 1_700_000_000;

t.test('pcap: both byte orders, micro and nano, timestamps to the µs', (t) => {
  const dir = t.testdir();
  for (const isLittleEndian of [true, false]) {
    for (const isNanosecond of [false, true]) {
      const byteOrder = isLittleEndian ? 'le' : 'be';
      const name = `${byteOrder}-${isNanosecond ? 'ns' : 'us'}`;
      const records: PcapRecord[] = [
        {
          tsSec: SEC_2023,
          tsFrac: isNanosecond ? 123_456_789 : 123_456,
          data: patternBytes(60, 1),
        },
        {
          tsSec: SEC_2023 + 1,
          tsFrac: isNanosecond ? 999_999_999 : 999_999,
          data: patternBytes(1514, 2),
        },
        {
          tsSec: 0xffffffff,
          tsFrac: isNanosecond ? 999 : 0,
          data: patternBytes(1, 3),
          wireBytes: 9000,
        },
      ];
      const built = makePcap({
        isLittleEndian,
        isNanosecond,
        linkType: LinkType.Ethernet,
        records,
      });
      const path = writeFile(dir, `${name}.pcap`, built.bytes);

      const sink = new CollectSink();
      const summary = readCaptureFile(path, sink);
      t.equal(summary.format, 'pcap', `${name}: format`);
      t.same(summary.linkTypes, [LinkType.Ethernet], `${name}: link types`);
      t.equal(summary.frames, records.length, `${name}: frame count`);
      t.equal(summary.bytesRead, built.bytes.length, `${name}: bytes read`);
      t.equal(summary.fileBytes, built.bytes.length, `${name}: file bytes`);
      records.forEach((record, i) => {
        const frame = sink.frames[i];
        const fracUs = isNanosecond
          ? BigInt(record.tsFrac) / 1000n
          : BigInt(record.tsFrac);
        const timeUs = Number(BigInt(record.tsSec) * 1_000_000n + fracUs);
        t.equal(frame.timeUs, timeUs, `${name} #${i}: time`);
        t.ok(frame.data.equals(record.data), `${name} #${i}: bytes`);
        t.equal(frame.capturedBytes, record.data.length, `${name} #${i}: cap`);
        t.equal(
          frame.wireBytes,
          record.wireBytes ?? record.data.length,
          `${name} #${i}: wire`,
        );
        t.equal(frame.linkType, LinkType.Ethernet, `${name} #${i}: link`);
      });
    }
  }
  t.end();
});

t.test('pcap: link types are passed on, raw-IP DLTs mapped', (t) => {
  const dir = t.testdir();
  const cases: Array<[stored: number, expected: number]> = [
    [12, LinkType.Raw],
    [14, LinkType.Raw],
    [LinkType.LinuxSll, LinkType.LinuxSll],
    // FCS-length bits above the 16-bit link type do not change the type.
    [0x14000000 | LinkType.Ethernet, LinkType.Ethernet],
    // Unknown to the decoders, but not an error for the reader.
    [147, 147],
  ];
  for (const [stored, expected] of cases) {
    const built = makePcap({
      isLittleEndian: true,
      isNanosecond: false,
      linkType: stored,
      records: [{ tsSec: SEC_2023, tsFrac: 5, data: patternBytes(40, 9) }],
    });
    const path = writeFile(dir, `lt-${stored}.pcap`, built.bytes);
    const reader = CaptureFileReader.open(path);
    t.equal(reader.linkType, expected, `stored ${stored}: reader link type`);
    const sink = new CollectSink();
    t.equal(reader.readBatch(sink, 10), 1, `stored ${stored}: one frame`);
    t.equal(sink.frames[0].linkType, expected, `stored ${stored}: frame`);
    t.equal(reader.readBatch(sink, 10), 0, `stored ${stored}: then the end`);
    reader.close();
  }
  t.end();
});

/** if_tsresol values: decimal and binary, exact and float-converted. */
const TS_RESOLUTIONS: Array<{ tsResol: number | undefined; isExact: boolean }> =
  [
    { tsResol: undefined, isExact: true },
    { tsResol: 0, isExact: true },
    { tsResol: 3, isExact: true },
    { tsResol: 6, isExact: true },
    { tsResol: 9, isExact: true },
    { tsResol: 10, isExact: true },
    { tsResol: 12, isExact: true },
    { tsResol: 0x80 | 0, isExact: true },
    { tsResol: 0x80 | 6, isExact: true },
    { tsResol: 0x80 | 10, isExact: true },
    { tsResol: 0x80 | 20, isExact: true },
    { tsResol: 0x80 | 32, isExact: true },
    { tsResol: 15, isExact: false },
    { tsResol: 0x80 | 40, isExact: false },
  ];

function ticksPerSec(tsResol: number): bigint {
  const exponent = BigInt(tsResol & 0x7f);
  return (tsResol & 0x80) !== 0 ? 1n << exponent : 10n ** exponent;
}

/** Tick counts that stress flooring: a second's last tick and a third. */
function sampleTicks(tsResol: number): bigint[] {
  const perSec = ticksPerSec(tsResol);
  const maxSec = (1n << 64n) / perSec - 2n;
  const sec = maxSec < BigInt(SEC_2023) ? maxSec : BigInt(SEC_2023);
  return [sec * perSec + perSec - 1n, (sec + 1n) * perSec + perSec / 3n];
}

t.test('pcapng: interfaces with different link types and tsresol', (t) => {
  const dir = t.testdir();
  const storedLinkTypes = [1, 12, 113, 276, 147];
  const expectedLinkTypes = [1, 101, 113, 276, 147];

  for (const isLittleEndian of [true, false]) {
    const name = isLittleEndian ? 'le' : 'be';
    const blocks: Buffer[] = [makeShb(isLittleEndian)];
    const expected: Array<{ frame: SeenFrame; isExact: boolean }> = [];

    TS_RESOLUTIONS.forEach(({ tsResol }, id) => {
      blocks.push(
        makeIdb(isLittleEndian, storedLinkTypes[id % 5], 65535, { tsResol }),
      );
    });
    // Interleave packets so that the interface changes on every block.
    for (let round = 0; round < 2; round++) {
      TS_RESOLUTIONS.forEach(({ tsResol, isExact }, id) => {
        const ticks = sampleTicks(tsResol ?? 6)[round];
        const data = patternBytes(20 + id + round, id);
        blocks.push(makeEpb(isLittleEndian, id, ticks, data, 100 + id));
        expected.push({
          isExact,
          frame: {
            data: Buffer.from(data),
            capturedBytes: data.length,
            wireBytes: 100 + id,
            timeUs: ticksToUs(ticks, tsResol ?? 6),
            linkType: expectedLinkTypes[id % 5],
          },
        });
      });
    }
    const path = writeFile(dir, `${name}.pcapng`, joinBlocks(blocks).bytes);

    const reader = CaptureFileReader.open(path);
    t.equal(reader.format, 'pcapng', `${name}: format`);
    t.equal(reader.linkType, LinkType.Ethernet, `${name}: first link type`);
    t.same(
      reader.linkTypes,
      TS_RESOLUTIONS.map((_, id) => expectedLinkTypes[id % 5]),
      `${name}: every interface's link type, known after open`,
    );
    const sink = new CollectSink();
    let batches = 0;
    while (reader.readBatch(sink, 5) > 0) batches++;
    reader.close();
    t.equal(batches, Math.ceil(expected.length / 5), `${name}: batches of 5`);

    t.equal(sink.frames.length, expected.length, `${name}: frame count`);
    expected.forEach(({ frame, isExact }, i) => {
      const seen = sink.frames[i];
      const label = `${name} #${i} tsresol ${TS_RESOLUTIONS[i % 14].tsResol}`;
      if (isExact) t.equal(seen.timeUs, frame.timeUs, `${label}: time`);
      else {
        // Ticks finer than 2^-32 s or 10^-12 s are scaled in float64.
        t.ok(Math.abs(seen.timeUs - frame.timeUs) <= 1, `${label}: time ±1`);
      }
      t.ok(Number.isInteger(seen.timeUs), `${label}: whole µs`);
      t.ok(seen.data.equals(frame.data), `${label}: bytes`);
      t.equal(seen.wireBytes, frame.wireBytes, `${label}: wire`);
      t.equal(seen.linkType, frame.linkType, `${label}: link type`);
    });
  }
  t.end();
});

t.test('pcapng: if_tsoffset is added in whole seconds', (t) => {
  const dir = t.testdir();
  const offsets = [-3600n, 1_000_000_000n, 0n];
  const ticks = 700_000_000_123_456_789n;
  for (const isLittleEndian of [true, false]) {
    const blocks: Buffer[] = [makeShb(isLittleEndian)];
    offsets.forEach((tsOffsetSec) => {
      blocks.push(makeIdb(isLittleEndian, 1, 0, { tsResol: 9, tsOffsetSec }));
    });
    offsets.forEach((_, id) => {
      blocks.push(makeEpb(isLittleEndian, id, ticks, patternBytes(14, id)));
    });
    const name = `offset-${isLittleEndian ? 'le' : 'be'}.pcapng`;
    const path = writeFile(dir, name, joinBlocks(blocks).bytes);
    const { sink, error } = readAll(path);
    t.equal(error, null, `${name}: reads cleanly`);
    t.same(
      sink.frames.map((frame) => frame.timeUs),
      offsets.map((tsOffsetSec) => ticksToUs(ticks, 9, tsOffsetSec)),
      `${name}: each interface shifts by its own offset`,
    );
  }
  t.end();
});

t.test('pcapng: several sections, each with its byte order', (t) => {
  const dir = t.testdir();
  const ticks = 1_700_000_000_654_321n;
  const blocks = [
    makeShb(true),
    makeIdb(true, 1, 0),
    makeIdb(true, 113, 0),
    makeEpb(true, 1, ticks, patternBytes(30, 1)),
    makeShb(false),
    makeIdb(false, 101, 0, { tsResol: 9 }),
    makeEpb(false, 0, ticks * 1000n, patternBytes(31, 2)),
    makeShb(true),
    makeIdb(true, 276, 0),
    makeEpb(true, 0, ticks + 1n, patternBytes(32, 3)),
  ];
  const path = writeFile(dir, 'sections.pcapng', joinBlocks(blocks).bytes);
  const { sink, error } = readAll(path);
  t.equal(error, null, 'reads cleanly');
  t.same(
    sink.frames.map((frame) => [frame.linkType, frame.timeUs]),
    [
      [113, Number(ticks)],
      [101, Number(ticks)],
      [276, Number(ticks) + 1],
    ],
    'interface ids restart in every section',
  );
  t.same(
    sink.frames.map((frame) => frame.data.length),
    [30, 31, 32],
    'frame bytes from each section',
  );
  t.end();
});

t.test('pcapng: simple packet blocks use interface 0', (t) => {
  const dir = t.testdir();
  const ticks = 1_700_000_000_000_001n;
  const blocks = [
    makeShb(true),
    makeIdb(true, 1, 64),
    makeIdb(true, 101, 0),
    makeEpb(true, 1, ticks, patternBytes(20, 7)),
    // Snapped by the interface: 100-byte frame, 64 kept.
    makeSpb(true, 100, patternBytes(100, 1)),
    // Shorter than its padded room: the original length wins.
    makeSpb(true, 10, patternBytes(10, 2)),
    // Fewer bytes stored than the frame had, below the snap length.
    makeSpb(true, 1500, patternBytes(40, 3)),
  ];
  const path = writeFile(dir, 'spb.pcapng', joinBlocks(blocks).bytes);
  const { sink, error } = readAll(path);
  t.equal(error, null, 'reads cleanly');
  t.same(
    sink.frames.map((f) => [f.capturedBytes, f.wireBytes, f.linkType]),
    [
      [20, 20, 101],
      [64, 100, 1],
      [10, 10, 1],
      [40, 1500, 1],
    ],
    'captured = min(original, snap length, block room)',
  );
  t.ok(
    sink.frames[1].data.equals(patternBytes(64, 1)),
    'the first 64 bytes of the snapped frame',
  );
  t.same(
    sink.frames.slice(1).map((frame) => frame.timeUs),
    [Number(ticks), Number(ticks), Number(ticks)],
    'a block without a timestamp takes the previous packet time',
  );
  t.end();
});

t.test('pcapng: other blocks are skipped by their length', (t) => {
  const dir = t.testdir();
  const ticks = 1_600_000_000_000_000n;
  const opb = Buffer.alloc(20 + 16);
  opb.writeUInt16LE(0, 0);
  opb.writeUInt16LE(3, 2);
  opb.writeUInt32LE(Number(ticks >> 32n), 4);
  opb.writeUInt32LE(Number(ticks & 0xffffffffn), 8);
  opb.writeUInt32LE(16, 12);
  opb.writeUInt32LE(60, 16);
  opb.set(patternBytes(16, 5), 20);

  const blocks = [
    makeShb(true),
    makeBlock(true, 0x0000000a, patternBytes(37, 1)),
    makeIdb(true, 1, 0),
    makeBlock(true, 0x00000004, patternBytes(8, 2)),
    makeEpb(true, 0, ticks, patternBytes(50, 1)),
    makeBlock(true, 0x00000005, patternBytes(28, 3)),
    makeBlock(true, 0x40000bad, patternBytes(3, 4)),
    makeBlock(true, 0x12345678, new Uint8Array(0)),
    makeBlock(true, 0x00000002, opb),
    makeEpb(true, 0, ticks + 5n, patternBytes(51, 2)),
    makeBlock(true, 0x00000005, patternBytes(28, 3)),
  ];
  const built = joinBlocks(blocks);
  const path = writeFile(dir, 'skip.pcapng', built.bytes);
  const sink = new CollectSink();
  const summary = readCaptureFile(path, sink);
  t.same(
    sink.frames.map((f) => [f.capturedBytes, f.wireBytes, f.timeUs]),
    [
      [50, 50, Number(ticks)],
      [16, 60, Number(ticks)],
      [51, 51, Number(ticks) + 5],
    ],
    'enhanced and obsolete packet blocks delivered, the rest skipped',
  );
  t.ok(sink.frames[1].data.equals(patternBytes(16, 5)), 'obsolete block data');
  t.equal(summary.bytesRead, built.bytes.length, 'read to the end');
  t.end();
});

t.test('empty, header-only and section-only files', (t) => {
  const dir = t.testdir();
  const empty = readAll(writeFile(dir, 'empty.pcap', new Uint8Array(0)));
  const emptyError = asCaptureError(empty.error);
  t.equal(emptyError.code, 'E_CAPTURE_EMPTY', 'an empty file is an error');
  t.match(emptyError.message, /empty\.pcap: empty file/, 'says it is empty');

  const header = makePcap({
    isLittleEndian: false,
    isNanosecond: true,
    linkType: 113,
    records: [],
  });
  const headerPath = writeFile(dir, 'header.pcap', header.bytes);
  const headerReader = CaptureFileReader.open(headerPath);
  t.equal(headerReader.linkType, 113, 'link type of an empty pcap');
  t.equal(headerReader.readBatch(new CollectSink(), 10), 0, 'no frames');
  headerReader.close();

  const shbPath = writeFile(dir, 'shb.pcapng', makeShb(false));
  const shbReader = CaptureFileReader.open(shbPath);
  t.equal(shbReader.linkType, -1, 'no interface: link type -1');
  t.same(shbReader.linkTypes, [], 'no interfaces');
  t.equal(shbReader.readBatch(new CollectSink(), 10), 0, 'no frames');
  shbReader.close();
  t.end();
});

/** 300 frames of sizes 1 to 9973 bytes, to cross many chunk ends. */
function variedFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const lengthBytes = i % 50 === 7 ? 9973 : ((i * 37) % 1600) + 1;
    frames.push(patternBytes(lengthBytes, i));
  }
  return frames;
}

t.test('records straddling the buffer end, small and tiny buffers', (t) => {
  const dir = t.testdir();
  const frames = variedFrames();
  const pcap = makePcap({
    isLittleEndian: true,
    isNanosecond: false,
    linkType: 1,
    records: frames.map((data, i) => ({ tsSec: SEC_2023, tsFrac: i, data })),
  });
  const pcapng = joinBlocks([
    makeShb(false),
    makeIdb(false, 1, 0),
    ...frames.map((data, i) =>
      makeEpb(false, 0, BigInt(SEC_2023) * 1_000_000n + BigInt(i), data),
    ),
  ]);

  for (const [name, bytes] of [
    ['straddle.pcap', pcap.bytes],
    ['straddle.pcapng', pcapng.bytes],
  ] as const) {
    const path = writeFile(dir, name, bytes);
    for (const bufferBytes of [4096, 1000, 1]) {
      const label = `${name}, ${bufferBytes}-byte buffer`;
      const reader = CaptureFileReader.open(path, { bufferBytes });
      const sink = new CollectSink();
      let batches = 0;
      while (reader.readBatch(sink, 7) > 0) batches++;
      t.equal(batches, Math.ceil(frames.length / 7), `${label}: batches`);
      t.equal(reader.bytesRead, bytes.length, `${label}: bytes read`);
      t.equal(reader.framesDelivered, frames.length, `${label}: count`);
      reader.close();

      t.equal(sink.outOfBoundsFrames, 0, `${label}: frames inside buffer`);
      const mismatches = sink.frames.filter(
        (frame, i) =>
          !frame.data.equals(frames[i]) ||
          frame.timeUs !== SEC_2023 * 1_000_000 + i,
      );
      t.equal(mismatches.length, 0, `${label}: every frame intact`);
    }
  }
  t.end();
});

/** Byte ranges [start, end) of every record or block of a built file. */
function recordRanges(built: BuiltCapture): Array<[number, number]> {
  return built.offsets.map((start, i) => [
    start,
    i + 1 < built.offsets.length ? built.offsets[i + 1] : built.bytes.length,
  ]);
}

interface CutFile {
  isPcap: boolean;
  /** Header and records (pcap) or blocks (pcapng), in file order. */
  ranges: Array<[number, number]>;
  isPacket: (index: number) => boolean;
}

/**
 * What reading the first `prefixBytes` of a file must give: the frames of
 * every complete record, then (unless the cut falls between two records)
 * a truncation error naming the broken record and the bytes it needs.
 */
function expectCut(
  file: CutFile,
  prefixBytes: number,
): { frames: number; offset: number; needBytes: number } {
  if (prefixBytes < 4) return { frames: 0, offset: 0, needBytes: 4 };
  const fixedHdrBytes = file.isPcap ? 16 : 12;
  let frames = 0;
  for (let i = 0; i < file.ranges.length; i++) {
    const [start, end] = file.ranges[i];
    if (prefixBytes >= end) {
      if (file.isPacket(i)) frames++;
      continue;
    }
    if (prefixBytes === start) break;
    const leftBytes = prefixBytes - start;
    let needBytes = end - start;
    if (file.isPcap && i === 0) needBytes = 24;
    else if (leftBytes < fixedHdrBytes) needBytes = fixedHdrBytes;
    return { frames, offset: start, needBytes };
  }
  return { frames, offset: -1, needBytes: 0 };
}

t.test(
  'every truncation point: complete records first, then the error',
  (t) => {
    const dir = t.testdir();
    const records: PcapRecord[] = [40, 1, 70].map((lengthBytes, i) => ({
      tsSec: SEC_2023 + i,
      tsFrac: 10 * i,
      data: patternBytes(lengthBytes, i),
    }));
    const pcap = makePcap({
      isLittleEndian: false,
      isNanosecond: false,
      linkType: 1,
      records,
    });
    const pcapng = joinBlocks([
      makeShb(true),
      makeIdb(true, 1, 0, { tsResol: 9 }),
      makeEpb(true, 0, 5n, patternBytes(40, 1)),
      makeBlock(true, 5, patternBytes(20, 9)),
      makeEpb(true, 0, 6n, patternBytes(1, 2)),
      makeSpb(true, 70, patternBytes(70, 3)),
    ]);
    const pcapngPackets = new Set([2, 4, 5]);

    const files: Array<CutFile & { name: string; bytes: Buffer }> = [
      {
        name: 'cut.pcap',
        bytes: pcap.bytes,
        isPcap: true,
        ranges: [[0, 24], ...recordRanges(pcap)],
        isPacket: (i) => i > 0,
      },
      {
        name: 'cut.pcapng',
        bytes: pcapng.bytes,
        isPcap: false,
        ranges: recordRanges(pcapng),
        isPacket: (i) => pcapngPackets.has(i),
      },
    ];
    for (const file of files) {
      const full = readAll(writeFile(dir, file.name, file.bytes));
      t.equal(full.error, null, `${file.name}: whole file reads`);
      let failures = 0;
      for (
        let prefixBytes = 1;
        prefixBytes < file.bytes.length;
        prefixBytes++
      ) {
        const path = writeFile(
          dir,
          `${prefixBytes}-${file.name}`,
          file.bytes.subarray(0, prefixBytes),
        );
        const { sink, error } = readAll(path);
        const expected = expectCut(file, prefixBytes);
        const isSameFrames =
          sink.frames.length === expected.frames &&
          sink.frames.every((frame, i) =>
            frame.data.equals(full.sink.frames[i].data),
          );

        let isRight: boolean;
        if (expected.offset < 0) {
          isRight = error === null && isSameFrames;
        } else {
          const leftBytes = prefixBytes - expected.offset;
          const message = new RegExp(
            `^${path}: truncated [\\w ]+ at byte ${expected.offset} ` +
              `\\(needs ${expected.needBytes} bytes, ${leftBytes} left\\)$`,
          );
          isRight =
            error instanceof CaptureFileError &&
            error.code === 'E_CAPTURE_TRUNCATED' &&
            error.byteOffset === expected.offset &&
            error.framesDelivered === expected.frames &&
            message.test(error.message) &&
            isSameFrames;
        }
        if (!isRight) {
          failures++;
          t.fail(`${file.name} cut at ${prefixBytes}`, {
            expected,
            frames: sink.frames.length,
            error: error instanceof Error ? error.message : error,
          });
        }
      }
      t.equal(failures, 0, `${file.name}: every cut of ${file.bytes.length}`);
    }
    t.end();
  },
);

t.test(
  'a fault after some frames: frames first, the error on the next call',
  (t) => {
    const dir = t.testdir();
    const good = [1, 2, 3].map((seed) =>
      makeEpb(true, 0, BigInt(seed), patternBytes(30, seed)),
    );
    const bad = makeEpb(true, 4, 4n, patternBytes(30, 4));
    const built = joinBlocks([
      makeShb(true),
      makeIdb(true, 1, 0),
      ...good,
      bad,
    ]);
    const path = writeFile(dir, 'late-fault.pcapng', built.bytes);

    const reader = CaptureFileReader.open(path);
    const sink = new CollectSink();
    t.equal(reader.readBatch(sink, 100), 3, 'the three good frames come first');
    const first = asCaptureError(thrownBy(() => reader.readBatch(sink, 100)));
    t.equal(first.code, 'E_CAPTURE_BAD_BLOCK', 'then the fault');
    t.equal(first.byteOffset, built.offsets[5], 'at the bad block');
    t.equal(first.framesDelivered, 3, 'after three frames');
    t.throws(() => reader.readBatch(sink, 100), first, 'and it stays');
    t.equal(sink.frames.length, 3, 'nothing more delivered');
    reader.close();
    reader.close();
    t.end();
  },
);

t.test('corrupt files: code, offset and frames before the fault', (t) => {
  const dir = t.testdir();
  const ok = (seed: number) =>
    makeEpb(true, 0, BigInt(seed), patternBytes(20 + seed, seed));
  const withLength = (block: Buffer, lengthBytes: number, where: number) => {
    const copy = Buffer.from(block);
    copy.writeUInt32LE(lengthBytes, where);
    return copy;
  };
  const epb = ok(9);
  const overrun = Buffer.from(epb);
  overrun.writeUInt32LE(epb.length, 20);
  const tsresolBad = makeBlock(
    true,
    1,
    Buffer.concat([
      Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]),
      makeOptions(true, [[9, Uint8Array.of(9, 9)]]),
    ]),
  );
  const optionOverrun = Buffer.from(makeIdb(true, 1, 0));
  optionOverrun.writeUInt16LE(200, 18);

  const pcapngCases: Array<{
    name: string;
    blocks: Buffer[];
    code: string;
    frames: number;
    text: RegExp;
  }> = [
    {
      name: 'length not a multiple of 4',
      blocks: [withLength(ok(2), 30, 4)],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /enhanced packet block at byte \d+ has bad length 30/,
    },
    {
      name: 'length below 12',
      blocks: [withLength(ok(2), 8, 4)],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /has bad length 8/,
    },
    {
      name: 'length above 64 MiB',
      blocks: [withLength(ok(2), 0x7ffffff0, 4)],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /has bad length 2147483632/,
    },
    {
      name: 'trailing length differs',
      blocks: [withLength(ok(2), 4096, ok(2).length - 4)],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /trailing length 4096, leading length \d+/,
    },
    {
      name: 'undefined interface',
      blocks: [makeEpb(true, 1, 1n, patternBytes(8, 1))],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /refers to undefined interface 1 \(section has 1\)/,
    },
    {
      name: 'interface of an earlier section',
      blocks: [makeShb(true), makeEpb(true, 0, 1n, patternBytes(8, 1))],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /undefined interface 0 \(section has 0\)/,
    },
    {
      name: 'captured length overruns the block',
      blocks: [overrun],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /captured length \d+, more than its \d+-byte block/,
    },
    {
      name: 'packet block too short',
      blocks: [makeBlock(true, 6, new Uint8Array(8))],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /has bad length 20/,
    },
    {
      name: 'unsupported section version',
      blocks: [makeShb(true, 2)],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /unsupported pcapng major version 2/,
    },
    {
      name: 'section without byte-order magic',
      blocks: [makeBlock(true, 0x0a0d0d0a, new Uint8Array(16))],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /no valid byte-order magic/,
    },
    {
      name: 'if_tsresol of two bytes',
      blocks: [tsresolBad],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /bad interface description block .*if_tsresol of 2 bytes/,
    },
    {
      name: 'option overruns its block',
      blocks: [optionOverrun],
      code: 'E_CAPTURE_BAD_BLOCK',
      frames: 1,
      text: /option 2 overruns its interface block/,
    },
  ];
  for (const testCase of pcapngCases) {
    const prefix = [makeShb(true), makeIdb(true, 1, 0), ok(1)];
    const built = joinBlocks([...prefix, ...testCase.blocks, ok(3)]);
    const faultOffset =
      built.offsets[prefix.length + testCase.blocks.length - 1];
    const name = testCase.name.replace(/\W+/g, '-');
    const path = writeFile(dir, `${name}.pcapng`, built.bytes);
    const { sink, error } = readAll(path);
    const captureError = asCaptureError(error);
    t.equal(captureError.code, testCase.code, `${testCase.name}: code`);
    t.equal(captureError.byteOffset, faultOffset, `${testCase.name}: offset`);
    t.equal(sink.frames.length, testCase.frames, `${testCase.name}: frames`);
    t.equal(captureError.framesDelivered, testCase.frames, `${testCase.name}`);
    t.match(captureError.message, testCase.text, `${testCase.name}: message`);
    t.ok(
      captureError.message.startsWith(`${path}: `) &&
        captureError.message.includes(`at byte ${faultOffset}`),
      `${testCase.name}: message names the file and the offset`,
    );
  }

  const spbFirst = joinBlocks([
    makeShb(true),
    makeSpb(true, 4, patternBytes(4, 1)),
  ]);
  const spbError = asCaptureError(
    readAll(writeFile(dir, 'spb-first.pcapng', spbFirst.bytes)).error,
  );
  t.equal(spbError.code, 'E_CAPTURE_BAD_BLOCK', 'SPB before any interface');
  t.equal(spbError.byteOffset, spbFirst.offsets[1], 'at the SPB');

  const badShb = Buffer.from(makeShb(true));
  badShb.writeUInt32LE(0, 8);
  const badShbError = asCaptureError(
    readAll(writeFile(dir, 'bad-shb.pcapng', badShb)).error,
  );
  t.equal(badShbError.code, 'E_CAPTURE_BAD_MAGIC', 'first section, no magic');

  const junk = Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n');
  const junkError = asCaptureError(
    readAll(writeFile(dir, 'junk.pcap', junk)).error,
  );
  t.equal(junkError.code, 'E_CAPTURE_BAD_MAGIC', 'not a capture');
  t.equal(junkError.byteOffset, 0, 'at byte 0');
  t.match(junkError.message, /not a pcap or pcapng file .*0x47455420/, 'magic');

  const hugeRecord = makePcap({
    isLittleEndian: true,
    isNanosecond: false,
    linkType: 1,
    records: [
      { tsSec: 1, tsFrac: 1, data: patternBytes(10, 1) },
      { tsSec: 2, tsFrac: 2, data: patternBytes(10, 2), capturedBytes: 300000 },
    ],
  });
  const huge = readAll(writeFile(dir, 'huge.pcap', hugeRecord.bytes));
  const hugeError = asCaptureError(huge.error);
  t.equal(hugeError.code, 'E_CAPTURE_BAD_RECORD', 'captured length > 256 KiB');
  t.equal(hugeError.byteOffset, hugeRecord.offsets[1], 'at the second record');
  t.equal(huge.sink.frames.length, 1, 'after the first record');
  t.match(hugeError.message, /captured length 300000 exceeds 262144/, 'says');
  t.end();
});

t.test('misuse and missing files', (t) => {
  const dir = t.testdir();
  t.throws(
    () => CaptureFileReader.open(join(dir, 'missing.pcap')),
    { code: 'ENOENT' },
    'a missing file is the fs error',
  );
  const built = makePcap({
    isLittleEndian: true,
    isNanosecond: false,
    linkType: 1,
    records: [{ tsSec: 1, tsFrac: 1, data: patternBytes(10, 1) }],
  });
  const reader = CaptureFileReader.open(
    writeFile(dir, 'one.pcap', built.bytes),
  );
  t.throws(() => reader.readBatch(new CollectSink(), 0), RangeError, 'max 0');
  reader.close();
  t.throws(() => reader.readBatch(new CollectSink(), 1), /closed/, 'closed');
  t.throws(
    () => CaptureFileReader.open(join(dir, 'one.pcap'), { bufferBytes: 0 }),
    RangeError,
    'buffer of 0 bytes',
  );
  t.end();
});

const REPO_URL = new URL('../../', import.meta.url);
const CORPUS_DIR = fileURLToPath(new URL('../shared/corpus/', REPO_URL));

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** tshark's view of a file: time (µs, floored), wire and captured bytes. */
function tsharkFrames(path: string): Array<[number, number, number]> {
  const fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len'];
  const args = ['-r', path, '-T', 'fields'];
  for (const field of fields) args.push('-e', field);
  const text = execFileSync('tshark', args, {
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [epoch, wireBytes, capturedBytes] = line.split('\t');
      const [sec, frac = ''] = epoch.split('.');
      const nanos = BigInt(frac.padEnd(9, '0').slice(0, 9));
      const timeUs = BigInt(sec) * 1_000_000n + nanos / 1000n;
      return [Number(timeUs), Number(wireBytes), Number(capturedBytes)];
    });
}

const CORPUS_FILES = [
  // Little-endian microsecond pcap, Ethernet.
  'the-tcpdump-group__tcpdump/tests/ipv4_tcp_http_xml.pcap',
  // Big-endian microsecond pcaps.
  'the-tcpdump-group__tcpdump/tests/pptp.pcap',
  'the-tcpdump-group__tcpdump/tests/ipoib.pcap',
  // Nanosecond pcaps.
  'the-tcpdump-group__tcpdump/tests/tcp-handshake-nano.pcap',
  'zeek__zeek/testing/btest/Traces/vntag.pcap',
  // pcapng: if_tsresol 9 with statistics blocks; decryption secrets; 2107.
  'the-tcpdump-group__tcpdump/tests/vsock-1.pcapng',
  'FoxIO-LLC__ja4/pcap/http2-with-cookies.pcapng',
  'FoxIO-LLC__ja4/pcap/tls3.pcapng',
  'the-tcpdump-group__tcpdump/tests/time_2107.pcapng',
  'the-tcpdump-group__tcpdump/tests/empty.pcapng',
  'FoxIO-LLC__ja4/pcap/dhcp.pcapng',
];

/** Inputs of the merged file: link types 113, 1 and 271, tsresol 9 and 6. */
const MERGE_INPUTS = [3, 1, 5];

function corpusSkipReason(): string | false {
  if (!existsSync(CORPUS_DIR)) return `corpus folder absent: ${CORPUS_DIR}`;
  if (!hasTshark()) return 'tshark is not installed';
  return false;
}

t.test('corpus files match tshark', { skip: corpusSkipReason() }, (t) => {
  const dir = t.testdir();
  const paths = CORPUS_FILES.map((file) => join(CORPUS_DIR, file));

  // mergecap (shipped with tshark) writes one interface per input: a
  // multi-interface pcapng from another writer.
  const merged = join(dir, 'merged.pcapng');
  const inputs = MERGE_INPUTS.map((i) => paths[i]);
  execFileSync('mergecap', ['-F', 'pcapng', '-w', merged, ...inputs]);
  paths.push(merged);

  for (const path of paths) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const { sink, error } = readAll(path, { bufferBytes: 8192 });
    t.equal(error, null, `${name}: reads without error`);
    const expected = tsharkFrames(path);
    t.equal(sink.frames.length, expected.length, `${name}: frame count`);
    const seen = sink.frames.map((f) => [
      f.timeUs,
      f.wireBytes,
      f.capturedBytes,
    ]);
    const firstMismatch = seen.findIndex(
      (row, i) => row.join() !== expected[i]?.join(),
    );
    t.equal(firstMismatch, -1, `${name}: every time and length`, {
      seen: seen[firstMismatch],
      expected: expected[firstMismatch],
    });
    if (expected.length > 0) {
      t.equal(seen[0][0], expected[0][0], `${name}: first time`);
      t.equal(seen.at(-1)?.[0], expected.at(-1)?.[0], `${name}: last time`);
    }
  }

  const reader = CaptureFileReader.open(merged);
  t.equal(reader.format, 'pcapng', 'merged: pcapng');
  t.same(
    [...reader.linkTypes].sort((a, b) => a - b),
    [1, 113, 271],
    'merged: one interface per input',
  );
  reader.close();
  t.end();
});
