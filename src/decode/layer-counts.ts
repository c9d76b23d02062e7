/**
 * Per-layer frame counts and malformed-frame counts by reason, the totals
 * `spansight read` reports and the sensor's status carries.
 */
import {
  DecodeStatus,
  Layer,
  REASON_NAMES,
  type DecodedPacket,
} from './packet.js';

/** Counter slots, in the order of the report's `counts` object. */
export const CountSlot = {
  Ethernet: 0,
  Vlan: 1,
  Arp: 2,
  Ipv4: 3,
  Ipv6: 4,
  Tcp: 5,
  Udp: 6,
  Icmp: 7,
  Icmpv6: 8,
  Ipv4Fragments: 9,
  Other: 10,
} as const;

const COUNT_NAMES = [
  'ethernet',
  'vlan',
  'arp',
  'ipv4',
  'ipv6',
  'tcp',
  'udp',
  'icmp',
  'icmpv6',
  'ipv4Fragments',
  'other',
] as const;

export type LayerCountName = (typeof COUNT_NAMES)[number];

const NETWORK_LAYERS = Layer.Arp | Layer.Ipv4 | Layer.Ipv6;
/** Every combination of `Layer` bits indexes one counter. */
const LAYER_SETS = 2 * Math.max(...Object.values(Layer));

/** The count slot of each `Layer` bit that has one, bit by bit. */
const SLOT_OF_LAYER: ReadonlyArray<[number, number]> = [
  [Layer.Ethernet, CountSlot.Ethernet],
  [Layer.Vlan, CountSlot.Vlan],
  [Layer.Arp, CountSlot.Arp],
  [Layer.Ipv4, CountSlot.Ipv4],
  [Layer.Ipv6, CountSlot.Ipv6],
  [Layer.Tcp, CountSlot.Tcp],
  [Layer.Udp, CountSlot.Udp],
  [Layer.Icmp, CountSlot.Icmp],
  [Layer.Icmpv6, CountSlot.Icmpv6],
];

/**
 * Counts frames by the headers decoded in them. A frame counts once per kind
 * of header; "other" counts well-formed frames with no ARP or IP header
 * (LLDP, STP, other EtherTypes or link types); truncated and malformed
 * frames count by reason. A frame costs one increment, of the counter of
 * its exact set of layers; per-layer totals are summed when read.
 */
export class LayerCounts {
  readonly malformedByReason = new Float64Array(REASON_NAMES.length);
  malformedTotal = 0;
  private readonly byLayerSet = new Float64Array(LAYER_SETS);
  private ipv4Fragments = 0;
  private other = 0;

  /** Count one decoded frame given the status its decoder returned. */
  count(packet: DecodedPacket, status: number): void {
    const layers = packet.layers;
    this.byLayerSet[layers & (LAYER_SETS - 1)]++;
    if (packet.isFragment && layers & Layer.Ipv4) this.ipv4Fragments++;

    // An unknown link type or EtherType is not damage: the frame is other.
    if (status === DecodeStatus.Ok || status === DecodeStatus.Unsupported) {
      if ((layers & NETWORK_LAYERS) === 0) this.other++;
      return;
    }
    this.malformedTotal++;
    this.malformedByReason[packet.reason]++;
  }

  /** Frames per `CountSlot`. */
  get byLayer(): Float64Array {
    const counts = new Float64Array(COUNT_NAMES.length);
    this.byLayerSet.forEach((frames, layers) => {
      if (frames === 0) return;
      for (const [layer, slot] of SLOT_OF_LAYER) {
        if (layers & layer) counts[slot] += frames;
      }
    });
    counts[CountSlot.Ipv4Fragments] = this.ipv4Fragments;
    counts[CountSlot.Other] = this.other;
    return counts;
  }

  /** The counts as a plain object keyed by the report's names. */
  toJSON(): Record<LayerCountName, number> {
    const result = {} as Record<LayerCountName, number>;
    const counts = this.byLayer;
    COUNT_NAMES.forEach((name, slot) => {
      result[name] = counts[slot];
    });
    return result;
  }

  /** Non-zero malformed counts keyed by stable reason name. */
  malformedReasons(): Record<string, number> {
    const result: Record<string, number> = {};
    this.malformedByReason.forEach((count, reason) => {
      if (count > 0) result[REASON_NAMES[reason]] = count;
    });
    return result;
  }
}
