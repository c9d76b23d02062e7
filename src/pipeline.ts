/**
 * The packet pipeline as a frame sink: decode each frame into one reused
 * record, count its layers, and account it to its flow.
 */
import type { FrameSink } from './capture/frame.js';
import { decodeFrame } from './decode/frame.js';
import { LayerCounts } from './decode/layer-counts.js';
import { DecodeStatus, DecodedPacket } from './decode/packet.js';
import { DistinctKeySet } from './flows/distinct-keys.js';
import { FlowTable, type FlowTableOptions } from './flows/flow-table.js';
import type { Inventory } from './inventory/inventory.js';

export interface PipelineOptions {
  flows?: Omit<FlowTableOptions, 'onFlowStart' | 'onFlowEnd'>;
  /** The device inventory to feed; frames stop at the flow table without. */
  inventory?: Inventory;
  /**
   * Count distinct (VLAN, 5-tuple) keys across flow records, as `spansight
   * read` reports them; off by default, for the sensor does not need them.
   */
  countDistinctKeys?: boolean;
  /** Called for each new flow record, after the pipeline's own counting. */
  onFlowStart?: (table: FlowTable, flowId: number) => void;
  /** Called when a flow record ends, before the inventory forgets it. */
  onFlowEnd?: (table: FlowTable, flowId: number, reason: number) => void;
  /** Told when packet time reaches its boundary, before that packet. */
  clock?: PacketClock;
}

/** Something that acts at points of packet time (interval ends). */
export interface PacketClock {
  /** Packet time, in microseconds, at which `reach` must be called. */
  readonly nextBoundaryUs: number;
  reach(timeUs: number): void;
}

/** Frame sink that runs decode and flow accounting for every frame. */
export class PacketPipeline implements FrameSink {
  readonly packet = new DecodedPacket();
  readonly counts = new LayerCounts();
  readonly flows: FlowTable;
  /**
   * Distinct (VLAN, 5-tuple) keys, by `FlowClass`, across flow records;
   * counted only with `countDistinctKeys`.
   */
  readonly distinctKeysByClass = new Float64Array(3);
  readonly distinctKeys = new DistinctKeySet();

  frames = 0;
  wireBytes = 0;
  capturedBytes = 0;
  firstTimeUs = -1;
  lastTimeUs = -1;
  decoderExceptions = 0;

  readonly inventory: Inventory | undefined;
  private readonly clock: PacketClock | undefined;

  constructor(options: PipelineOptions = {}) {
    const { onFlowStart, onFlowEnd, inventory, countDistinctKeys } = options;
    this.inventory = inventory;
    this.clock = options.clock;
    this.flows = new FlowTable({
      ...options.flows,
      onFlowEnd:
        inventory === undefined && onFlowEnd === undefined
          ? undefined
          : (table, flowId, reason) => {
              if (onFlowEnd !== undefined) onFlowEnd(table, flowId, reason);
              if (inventory !== undefined) inventory.onFlowEnd(flowId);
            },
      onFlowStart: !countDistinctKeys
        ? onFlowStart
        : (table, flowId) => {
            const [hi, lo] = table.keyHashes(flowId);
            if (this.distinctKeys.add(hi, lo)) {
              this.distinctKeysByClass[table.flowClass(flowId)]++;
            }
            if (onFlowStart !== undefined) onFlowStart(table, flowId);
          },
    });
    inventory?.attachFlows(this.flows);
  }

  onFrame(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    this.frames++;
    this.wireBytes += wireBytes;
    this.capturedBytes += capturedBytes;
    if (this.firstTimeUs < 0) this.firstTimeUs = timeUs;
    this.lastTimeUs = timeUs;
    const clock = this.clock;
    if (clock !== undefined && timeUs >= clock.nextBoundaryUs) {
      clock.reach(timeUs);
    }

    try {
      this.process(buf, off, capturedBytes, wireBytes, timeUs, linkType);
    } catch {
      // Decoders and extractors must never throw on packet bytes; a count
      // here is a bug to fix, but one bad frame must not stop the capture.
      this.decoderExceptions++;
    }
  }

  private process(
    buf: Uint8Array,
    off: number,
    capturedBytes: number,
    wireBytes: number,
    timeUs: number,
    linkType: number,
  ): void {
    const packet = this.packet;
    const status = decodeFrame(
      buf,
      off,
      capturedBytes,
      wireBytes,
      linkType,
      packet,
    );
    this.counts.count(packet, status);
    // A frame that did not decode is counted and skipped: a partial header
    // would give its flow a wrong key.
    if (status !== DecodeStatus.Ok) return;

    const flowId = this.flows.observe(packet, buf, timeUs, wireBytes);
    // The busy middle of a flow stops here: the flow table counted it for
    // its sender, and the inventory wants nothing more from it.
    const inventory = this.inventory;
    if (inventory !== undefined && (flowId < 0 || this.flows.lastIsWatched)) {
      inventory.observe(
        packet,
        buf,
        off + capturedBytes,
        timeUs,
        wireBytes,
        flowId,
      );
    }
  }
}
