/**
 * `spansight read FILE`: decode a whole capture file and print its totals,
 * as a table for people or as one JSON object for tools.
 */
import { parseArgs } from 'node:util';

import {
  CaptureFileError,
  CaptureFileReader,
} from '../capture/capture-file.js';
import { linkTypeName } from '../capture/link-type.js';
import { FlowClass } from '../flows/flow-table.js';
import { PacketPipeline } from '../pipeline.js';
import { formatCount, formatTable, ProgressBar } from './format.js';

const HELP = `usage: spansight read FILE [options]

Decode a pcap or pcapng capture (Ethernet, 802.1Q/QinQ, Linux cooked v1/v2,
raw IP, BSD loopback) and print per-protocol totals, malformed frames by
reason and distinct flows.

options:
  --json            print exactly one JSON object on stdout
  --max-flows N     flow table capacity (default 1048576)
  --no-progress     no progress bar, even on a terminal
`;

/** Frames handed over per reader call: the rhythm of progress updates. */
const FRAMES_PER_BATCH = 65_536;
/** Files smaller than this finish too fast for a progress bar to help. */
const PROGRESS_MIN_FILE_BYTES = 64 * 1024 * 1024;

/** The `--json` contract: keys are stable, other tools rely on them. */
export interface ReadReport {
  file: string;
  format: string;
  packets: number;
  bytes: number;
  capturedBytes: number;
  linkType: string;
  linkTypes: string[];
  firstPacketTime: string | null;
  lastPacketTime: string | null;
  counts: Record<string, number>;
  malformed: { total: number; byReason: Record<string, number> };
  flows: {
    tcp: number;
    udp: number;
    other: number;
    evicted: number;
    records: number;
    distinctExact: boolean;
  };
  decoderExceptions: number;
  seconds: number;
  packetsPerSecond: number;
  error?: { code: string; byteOffset: number; message: string };
}

/** Run the read command; resolves to the process exit code. */
export async function runRead(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'max-flows': { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`spansight read: ${(error as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`spansight read: expected one capture file\n`);
    process.stderr.write(HELP);
    return 2;
  }

  const maxFlows = parseMaxFlows(values['max-flows']);
  if (maxFlows === undefined) {
    process.stderr.write(
      `spansight read: --max-flows must be a whole number from 1 to ` +
        `${MAX_FLOWS_LIMIT}\n`,
    );
    return 2;
  }

  const path = positionals[0];
  const showProgress = !values.json && !values['no-progress'];
  const report = readCapture(path, { maxFlows, showProgress });
  if (report === undefined) return 1;

  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(renderReport(report));
  if (report.error !== undefined) {
    process.stderr.write(`spansight read: ${report.error.message}\n`);
    return 1;
  }
  return 0;
}

const MAX_FLOWS_LIMIT = 1 << 24;

function parseMaxFlows(text: string | undefined): number | undefined {
  if (text === undefined) return 1 << 20;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_FLOWS_LIMIT) {
    return undefined;
  }
  return value;
}

interface ReadOptions {
  maxFlows: number;
  showProgress: boolean;
}

/**
 * Decode the whole file. A file that cannot be opened prints its error and
 * returns undefined; a file damaged part-way returns the totals of every
 * complete record before the damage, with `error` set.
 */
export function readCapture(
  path: string,
  options: ReadOptions,
): ReadReport | undefined {
  const startedMs = performance.now();
  let reader: CaptureFileReader;
  try {
    reader = CaptureFileReader.open(path);
  } catch (error) {
    process.stderr.write(`spansight read: ${describeFileError(path, error)}\n`);
    return undefined;
  }

  const pipeline = new PacketPipeline({
    flows: { maxFlows: options.maxFlows },
    countDistinctKeys: true,
  });
  const progress =
    options.showProgress &&
    process.stderr.isTTY &&
    reader.fileBytes >= PROGRESS_MIN_FILE_BYTES
      ? new ProgressBar(process.stderr, reader.fileBytes)
      : undefined;

  let failure: CaptureFileError | undefined;
  try {
    while (reader.readBatch(pipeline, FRAMES_PER_BATCH) > 0) {
      progress?.update(reader.bytesRead, pipeline.frames);
    }
  } catch (error) {
    if (!(error instanceof CaptureFileError)) throw error;
    failure = error;
  } finally {
    reader.close();
    progress?.finish();
  }
  pipeline.flows.flush();

  const seconds = (performance.now() - startedMs) / 1000;
  return buildReport(path, reader, pipeline, seconds, failure);
}

function buildReport(
  path: string,
  reader: CaptureFileReader,
  pipeline: PacketPipeline,
  seconds: number,
  failure: CaptureFileError | undefined,
): ReadReport {
  const flows = pipeline.flows;
  const report: ReadReport = {
    file: path,
    format: reader.format,
    packets: pipeline.frames,
    bytes: pipeline.wireBytes,
    capturedBytes: pipeline.capturedBytes,
    linkType: linkTypeName(reader.linkType),
    linkTypes: [...new Set(reader.linkTypes.map(linkTypeName))],
    firstPacketTime: isoTime(pipeline.firstTimeUs),
    lastPacketTime: isoTime(pipeline.lastTimeUs),
    counts: pipeline.counts.toJSON(),
    malformed: {
      total: pipeline.counts.malformedTotal,
      byReason: pipeline.counts.malformedReasons(),
    },
    flows: {
      tcp: pipeline.distinctKeysByClass[FlowClass.Tcp],
      udp: pipeline.distinctKeysByClass[FlowClass.Udp],
      other: pipeline.distinctKeysByClass[FlowClass.Other],
      evicted: flows.evictedFlows,
      records:
        flows.startedByClass[FlowClass.Tcp] +
        flows.startedByClass[FlowClass.Udp] +
        flows.startedByClass[FlowClass.Other],
      distinctExact: !pipeline.distinctKeys.isSaturated,
    },
    decoderExceptions: pipeline.decoderExceptions,
    seconds: Math.round(seconds * 1000) / 1000,
    packetsPerSecond: seconds > 0 ? Math.round(pipeline.frames / seconds) : 0,
  };
  if (failure !== undefined) {
    report.error = {
      code: failure.code,
      byteOffset: failure.byteOffset,
      message: failure.message,
    };
  }
  return report;
}

function isoTime(timeUs: number): string | null {
  if (timeUs < 0) return null;
  return new Date(Math.floor(timeUs / 1000)).toISOString();
}

/** A clear one-line message for a capture file that cannot be read. */
export function describeFileError(path: string, error: unknown): string {
  if (error instanceof CaptureFileError) return error.message;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `${path}: no such file`;
  if (code === 'EACCES') return `${path}: permission denied`;
  if (code === 'EISDIR') return `${path}: is a directory, not a capture file`;
  return `${path}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The human-readable report: totals, layers, malformed reasons, flows. */
export function renderReport(report: ReadReport): string {
  const lines: string[] = [];
  lines.push(
    `${report.file} (${report.format}, ${report.linkTypes.join(', ')})`,
  );
  lines.push(
    `${formatCount(report.packets)} packets, ${formatCount(report.bytes)} ` +
      `bytes, ${report.firstPacketTime ?? '-'} to ` +
      `${report.lastPacketTime ?? '-'}`,
  );
  lines.push(
    `read in ${report.seconds.toFixed(2)} s ` +
      `(${formatCount(report.packetsPerSecond)} packets/s)`,
  );
  lines.push('');

  const layerRows = Object.entries(report.counts).map(([name, count]) => [
    name,
    formatCount(count),
    percentOf(count, report.packets),
  ]);
  lines.push(formatTable(['layer', 'frames', 'share'], layerRows));
  lines.push('');

  const flowRows = [
    ['tcp', formatCount(report.flows.tcp)],
    ['udp', formatCount(report.flows.udp)],
    ['other', formatCount(report.flows.other)],
    ['evicted (table full)', formatCount(report.flows.evicted)],
  ];
  lines.push(formatTable(['distinct flows', 'count'], flowRows));
  lines.push('');

  const reasons = Object.entries(report.malformed.byReason);
  if (reasons.length === 0) {
    lines.push('malformed: none');
  } else {
    const reasonRows = reasons.map(([name, count]) => [
      name,
      formatCount(count),
    ]);
    lines.push(
      formatTable(
        [`malformed (${formatCount(report.malformed.total)})`, 'frames'],
        reasonRows,
      ),
    );
  }
  if (report.error !== undefined) {
    lines.push('');
    lines.push(`stopped early: ${report.error.message}`);
  }
  return `${lines.join('\n')}\n`;
}

function percentOf(count: number, total: number): string {
  if (total === 0) return '-';
  return `${((count * 100) / total).toFixed(1)}%`;
}
