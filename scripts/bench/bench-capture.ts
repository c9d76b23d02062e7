/**
 * The benchmark's capture files: generated once under bench-data/, reused
 * while their parameters match, and truncated copies for slow peers.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CaptureFileReader } from '../../src/capture/capture-file.js';
import type { FrameSink } from '../../src/capture/frame.js';

/** What the capture generator is asked for. */
export interface BenchCaptureParams {
  frames: number;
  /** Distinct flows (5-tuples) the generator spreads the frames over. */
  flows: number;
  /** Seed of the generator's random choices; same seed, same file. */
  seed: number;
}

/** A capture file ready to be measured. */
export interface CaptureInfo {
  path: string;
  /** Frames in the file, counted by our reader. */
  frames: number;
  fileBytes: number;
  /** 'pcap' or 'pcapng'. */
  format: string;
  /** LINKTYPE_* of the first interface. */
  linkType: number;
}

/** Parameters and identity of a generated file, stored beside it. */
interface CaptureSidecar {
  params: BenchCaptureParams;
  /** SHA-1 of the generator's compiled module when it wrote the file. */
  generatorSha1: string | null;
  fileBytes: number;
  mtimeMs: number;
  frames: number;
  format: string;
  linkType: number;
}

type GenerateBenchCapture = (
  options: BenchCaptureParams & { path: string },
) => Promise<void> | void;

// Resolved at run time so the runner builds and runs (with --capture) before
// the generator exists.
const GENERATOR_MODULE = './generate-capture.js';

const FRAMES_PER_BATCH = 65_536;
const COPY_CHUNK_BYTES = 8 * 1024 * 1024;

const COUNTING_SINK: FrameSink = { onFrame(): void {} };

function sidecarPath(path: string): string {
  return `${path}.params.json`;
}

/**
 * Identity of the generator's code, so a changed generator makes a new
 * capture; null when the generator is not built (any capture is reused).
 */
function generatorSha1(): string | null {
  const modulePath = fileURLToPath(new URL(GENERATOR_MODULE, import.meta.url));
  if (!existsSync(modulePath)) return null;
  return createHash('sha1').update(readFileSync(modulePath)).digest('hex');
}

/**
 * The capture at `path` made with `params`: reused when its sidecar records
 * the same parameters and generator and the file is unchanged, otherwise
 * generated with `generateBenchCapture` (scripts/bench/generate-capture.ts).
 */
export async function ensureGeneratedCapture(
  path: string,
  params: BenchCaptureParams,
  log: (line: string) => void,
): Promise<CaptureInfo> {
  const reused = reusableCapture(path, params);
  if (reused !== null) {
    log(`reusing ${path} (${reused.frames.toLocaleString('en-US')} frames)`);
    return reused;
  }

  let generate: GenerateBenchCapture | undefined;
  try {
    const module = (await import(GENERATOR_MODULE)) as {
      generateBenchCapture?: GenerateBenchCapture;
    };
    generate = module.generateBenchCapture;
  } catch (error) {
    throw new Error(
      `cannot load the capture generator (${(error as Error).message}); ` +
        'build scripts/bench/generate-capture.ts or pass --capture FILE',
    );
  }
  if (typeof generate !== 'function') {
    throw new Error('generate-capture.js exports no generateBenchCapture');
  }

  mkdirSync(dirname(path), { recursive: true });
  const startedMs = performance.now();
  log(
    `generating ${path}: ${params.frames.toLocaleString('en-US')} frames, ` +
      `${params.flows.toLocaleString('en-US')} flows, seed ${params.seed}`,
  );
  await generate({ path, ...params });
  const info = describeCapture(path);
  const seconds = (performance.now() - startedMs) / 1000;
  log(`generated ${formatBytes(info.fileBytes)} in ${seconds.toFixed(1)} s`);

  const stat = statSync(path);
  const sidecar: CaptureSidecar = {
    params,
    generatorSha1: generatorSha1(),
    fileBytes: stat.size,
    mtimeMs: stat.mtimeMs,
    frames: info.frames,
    format: info.format,
    linkType: info.linkType,
  };
  writeFileSync(sidecarPath(path), JSON.stringify(sidecar, null, 2) + '\n');
  return info;
}

/** Whether `path` already holds the capture `params` would generate. */
export function isReusableCapture(
  path: string,
  params: BenchCaptureParams,
): boolean {
  return reusableCapture(path, params) !== null;
}

function reusableCapture(
  path: string,
  params: BenchCaptureParams,
): CaptureInfo | null {
  if (!existsSync(path) || !existsSync(sidecarPath(path))) return null;
  let sidecar: CaptureSidecar;
  try {
    sidecar = JSON.parse(readFileSync(sidecarPath(path), 'utf8'));
  } catch {
    return null;
  }
  const stat = statSync(path);
  const generator = generatorSha1();
  const isSame =
    (generator === null || sidecar.generatorSha1 === generator) &&
    sidecar.params.frames === params.frames &&
    sidecar.params.flows === params.flows &&
    sidecar.params.seed === params.seed &&
    sidecar.fileBytes === stat.size &&
    sidecar.mtimeMs === stat.mtimeMs;
  if (!isSame) return null;
  return {
    path,
    frames: sidecar.frames,
    fileBytes: sidecar.fileBytes,
    format: sidecar.format,
    linkType: sidecar.linkType,
  };
}

/** Count the frames of any capture our reader opens (pcap or pcapng). */
export function describeCapture(path: string): CaptureInfo {
  const reader = CaptureFileReader.open(path);
  try {
    while (reader.readBatch(COUNTING_SINK, FRAMES_PER_BATCH) > 0);
    return {
      path,
      frames: reader.framesDelivered,
      fileBytes: reader.fileBytes,
      format: reader.format,
      linkType: reader.linkType,
    };
  } finally {
    reader.close();
  }
}

/**
 * Write the first `frames` frames of `source` to `outPath`. Both formats
 * stay valid when cut after a record, so the copy is a byte prefix: the
 * same frames `editcap -r FILE OUT 1-N` keeps, without needing editcap.
 */
export function writeFramePrefix(
  source: CaptureInfo,
  frames: number,
  outPath: string,
): CaptureInfo {
  const reader = CaptureFileReader.open(source.path);
  let prefixBytes: number;
  try {
    let remaining = frames;
    while (remaining > 0) {
      const delivered = reader.readBatch(
        COUNTING_SINK,
        Math.min(remaining, FRAMES_PER_BATCH),
      );
      if (delivered === 0) break;
      remaining -= delivered;
    }
    prefixBytes = reader.bytesRead;
  } finally {
    reader.close();
  }

  mkdirSync(dirname(outPath), { recursive: true });
  copyBytes(source.path, outPath, prefixBytes);
  return describeCapture(outPath);
}

function copyBytes(fromPath: string, toPath: string, totalBytes: number): void {
  const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  const inFd = openSync(fromPath, 'r');
  const outFd = openSync(toPath, 'w');
  try {
    let doneBytes = 0;
    while (doneBytes < totalBytes) {
      const wantBytes = Math.min(COPY_CHUNK_BYTES, totalBytes - doneBytes);
      const readBytes = readSync(inFd, chunk, 0, wantBytes, doneBytes);
      if (readBytes === 0) break;
      writeSync(outFd, chunk, 0, readBytes);
      doneBytes += readBytes;
    }
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
}

/**
 * Read `path` once so the first timed run does not pay for the disk: the
 * runs then compare parsing, not how warm the page cache happened to be.
 */
export function warmPageCache(path: string): void {
  const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  const fd = openSync(path, 'r');
  try {
    let pos = 0;
    let readBytes: number;
    do {
      readBytes = readSync(fd, chunk, 0, COPY_CHUNK_BYTES, pos);
      pos += readBytes;
    } while (readBytes > 0);
  } finally {
    closeSync(fd);
  }
}

/** Bytes as MB or GB with one decimal, for progress lines. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
