/**
 * What the sensor publishes, as plain records before protobuf encoding: the
 * contract between the summarizers that fill them and the encoders.
 */

/** Traffic of one device with one peer and service in one interval. */
export interface PeerSummary {
  /** The other side's IP address, text form. */
  peerAddress: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP...). */
  protocol: number;
  /** The server's port of the flows (0 for protocols without ports). */
  servicePort: number;
  /** The peer is outside the site's internal address ranges. */
  isExternal: boolean;
  /** The device opened these flows (false: the peer did). */
  deviceIsClient: boolean;
  flows: number;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Packet time of the first and last packet counted, in microseconds. */
  firstUs: number;
  lastUs: number;
  /** A Community ID v1 string of a flow counted, to join with IDS logs. */
  communityIds: string[];
  /**
   * The flow behind `communityIds[0]` where ports name it (TCP, UDP,
   * SCTP): the device's address and the client's port, which with the
   * peer, protocol and service port above make its 5-tuple. Null for
   * other protocols.
   */
  sampleFlow: SampleFlow | null;
}

/** What a peer row lacks to name one of its flows by 5-tuple. */
export interface SampleFlow {
  deviceAddress: string;
  clientPort: number;
}

/** One device's traffic in one summary interval, aggregated by peer. */
export interface DeviceFlowSummary {
  /** `DeviceReport.id`: the MAC (with `@vlan` when tagged), or an IP. */
  deviceId: string;
  intervalStartUs: number;
  intervalEndUs: number;
  peers: PeerSummary[];
  /** Peers beyond the per-device cap, folded into the totals below. */
  peersOmitted: number;
  omittedPackets: number;
  omittedBytes: number;
}

/** A finding worth a person's attention, raised once per device and kind. */
export interface AlertRecord {
  /** Stable snake_case id, e.g. `address_conflict`, `feed_lost`. */
  kind: string;
  /** "info" | "warning" | "critical". */
  severity: string;
  /** The device concerned; empty for the sensor itself (`feed_lost`). */
  deviceId: string;
  timeUs: number;
  /** Short human summary; never payload or patient data. */
  summary: string;
}
