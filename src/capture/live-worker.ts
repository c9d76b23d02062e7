/**
 * The capture worker thread: one libpcap session through node-pcap's
 * binding, each frame copied into the shared ring for the main thread.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

import { RingWriter } from './live-ring.js';

/** What the main thread passes to the worker as `workerData`. */
export interface LiveWorkerData {
  ring: SharedArrayBuffer;
  interfaceName: string;
  snapLengthBytes: number;
  bufferBytes: number;
  promiscuous: boolean;
  bpfFilter: string;
  batchTimeoutMs: number;
  /** Frames between two reads of libpcap's counters under load. */
  statsEveryFrames: number;
  /** Period of the counter reads while the capture is idle. */
  statsIntervalMs: number;
  /** Sleep after an empty read, before polling libpcap again. */
  idleWaitMs: number;
}

/** Messages from the worker to the main thread. */
export type LiveWorkerMessage =
  | { type: 'opened'; linkType: number }
  | { type: 'open_failed'; message: string }
  | { type: 'read_failed'; message: string };

/**
 * The NAN binding inside node-pcap 3.1.0. Its JS wrapper emits an event
 * and allocates an object per frame; calling the binding directly avoids
 * both.
 */
interface PcapBindingSession {
  open_live(
    device: string,
    filter: string,
    bufferBytes: number,
    snapLengthBytes: number,
    outfile: string,
    onPacket: () => void,
    isMonitor: boolean,
    bufferTimeoutMs: number,
    onWarning: (message: string) => void,
    promiscuous: boolean,
  ): string;
  dispatch(frame: Buffer, header: Buffer): number;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
}

interface PcapBinding {
  PcapSession: new () => PcapBindingSession;
}

/** node-pcap names the link types it knows; the LINKTYPE_* numbers. */
const LINK_TYPE_BY_NAME: Record<string, number> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
  LINKTYPE_IEEE802_11_RADIO: 127,
};

if (parentPort !== null) runWorker(workerData as LiveWorkerData);

/**
 * Open the session, then read until asked to stop. The loop polls libpcap
 * without blocking and sleeps on the stop flag between empty reads: the
 * binding's own uv_poll handle is never started, because it is never
 * closed and a worker that exits with it open aborts the whole process.
 */
function runWorker(options: LiveWorkerData): void {
  const port = parentPort!;
  const require = createRequire(import.meta.url);
  const binding =
    require('pcap/build/Release/pcap_binding.node') as PcapBinding;
  const session = new binding.PcapSession();
  const frame = Buffer.alloc(options.snapLengthBytes);
  const header = Buffer.alloc(16);
  const headerWords = new Uint32Array(header.buffer, header.byteOffset, 4);
  const ring = new RingWriter(options.ring);
  const statsEveryFrames = options.statsEveryFrames;
  let framesSinceStats = 0;
  let isStopping = false;

  const publishStats = (): void => {
    const stats = session.stats();
    ring.publishPcapStats(stats.ps_recv, stats.ps_drop, stats.ps_ifdrop);
  };

  // Runs once per frame inside pcap_dispatch; keep it allocation-free.
  const onPacket = (): void => {
    if (isStopping) return;
    ring.write(
      frame,
      headerWords[2],
      headerWords[3],
      headerWords[0],
      headerWords[1],
    );
    // Under overload dispatch never returns, so the counters and the stop
    // flag are also looked at from here.
    if (++framesSinceStats === statsEveryFrames) {
      framesSinceStats = 0;
      publishStats();
    }
    if ((framesSinceStats & 63) === 0 && ring.isStopRequested()) {
      isStopping = true;
      // pcap_breakloop: dispatch then returns -2 and closes the handle.
      session.close();
    }
  };

  // Limitation: node-pcap sets the BPF filter after activating the handle,
  // so frames arriving in between pass unfiltered.
  let linkTypeName: string;
  try {
    linkTypeName = session.open_live(
      options.interfaceName,
      options.bpfFilter,
      options.bufferBytes,
      options.snapLengthBytes,
      '',
      onPacket,
      false,
      options.batchTimeoutMs,
      () => {},
      options.promiscuous,
    );
  } catch (error) {
    // A failure after pcap_create leaves a handle open; release it.
    closeSession(session, frame, header);
    post(port, { type: 'open_failed', message: (error as Error).message });
    return;
  }
  post(port, {
    type: 'opened',
    linkType: LINK_TYPE_BY_NAME[linkTypeName] ?? -1,
  });

  const idleMs = options.idleWaitMs;
  let lastStatsAtMs = Date.now();
  for (;;) {
    const status = session.dispatch(frame, header);
    if (status === -2 || isStopping) break;
    // -1: libpcap read error, e.g. the interface went down or away.
    if (status < 0) {
      publishStats();
      closeSession(session, frame, header);
      post(port, {
        type: 'read_failed',
        message: `pcap_dispatch returned ${status}`,
      });
      return;
    }
    const nowMs = Date.now();
    if (nowMs - lastStatsAtMs >= options.statsIntervalMs) {
      lastStatsAtMs = nowMs;
      publishStats();
    }
    if (ring.isStopRequested()) break;
    ring.idle(idleMs);
  }
  if (!isStopping) closeSession(session, frame, header);
}

/**
 * Close a session outside dispatch: pcap_breakloop, then one dispatch that
 * sees it and releases the handle. Harmless on a session never opened.
 */
function closeSession(
  session: PcapBindingSession,
  frame: Buffer,
  header: Buffer,
): void {
  try {
    session.close();
    session.dispatch(frame, header);
  } catch {
    // No handle was ever opened.
  }
}

function post(
  port: NonNullable<typeof parentPort>,
  message: LiveWorkerMessage,
): void {
  port.postMessage(message);
}
