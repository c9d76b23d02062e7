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

/**
 * Counts frames by the headers decoded in them. A frame counts once per kind
 * of header; "other" counts well-formed frames with no ARP or IP header
 * (LLDP, STP, other EtherTypes or link types); truncated and malformed
 * frames count by reason.
 */
export class LayerCounts {
  readonly byLayer = new Float64Array(COUNT_NAMES.length);
  readonly malformedByReason = new Float64Array(REASON_NAMES.length);
  malformedTotal = 0;

  /** Count one decoded frame given the status its decoder returned. */
  count(packet: DecodedPacket, status: number): void {
    const layers = packet.layers;
    const counts = this.byLayer;
    if (layers & Layer.Ethernet) counts[CountSlot.Ethernet]++;
    if (layers & Layer.Vlan) counts[CountSlot.Vlan]++;
    if (layers & Layer.Arp) counts[CountSlot.Arp]++;
    if (layers & Layer.Ipv4) {
      counts[CountSlot.Ipv4]++;
      if (packet.isFragment) counts[CountSlot.Ipv4Fragments]++;
    }
    if (layers & Layer.Ipv6) counts[CountSlot.Ipv6]++;
    if (layers & Layer.Tcp) counts[CountSlot.Tcp]++;
    if (layers & Layer.Udp) counts[CountSlot.Udp]++;
    if (layers & Layer.Icmp) counts[CountSlot.Icmp]++;
    if (layers & Layer.Icmpv6) counts[CountSlot.Icmpv6]++;

    // An unknown link type or EtherType is not damage: the frame is other.
    if (status === DecodeStatus.Ok || status === DecodeStatus.Unsupported) {
      if ((layers & NETWORK_LAYERS) === 0) counts[CountSlot.Other]++;
      return;
    }
    this.malformedTotal++;
    this.malformedByReason[packet.reason]++;
  }

  /** The counts as a plain object keyed by the report's names. */
  toJSON(): Record<LayerCountName, number> {
    const result = {} as Record<LayerCountName, number>;
    COUNT_NAMES.forEach((name, slot) => {
      result[name] = this.byLayer[slot];
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
