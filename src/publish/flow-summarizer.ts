/**
 * Interval flow summaries: per device and interval of packet time, the
 * traffic of its flows aggregated by peer, protocol, service and role.
 */
import { IpProtocol } from '../decode/transport.js';
import type { FlowTable } from '../flows/flow-table.js';
import { InternalNetworks } from '../flows/internal-networks.js';
import type { DeviceFlowSummary, PeerSummary } from './records.js';

export const SUMMARY_INTERVAL_MS = 60_000;
/** Peers one device keeps per interval; the rest are folded into totals. */
export const SUMMARY_MAX_PEERS_PER_DEVICE = 256;
/** Community IDs kept per peer row, to join with IDS logs. */
export const SUMMARY_COMMUNITY_ID_SAMPLES = 1;

export interface FlowSummarizerOptions {
  flows: FlowTable;
  /**
   * The device that sent one direction of a flow (0: endpoint A to B, 1: B
   * to A), or null when none is known: `Inventory.flowSender`.
   */
  senderOf: (flowId: number, direction: number) => { id: string } | null;
  /** Called with the summaries of each interval that saw traffic. */
  onInterval: (summaries: DeviceFlowSummary[]) => void;
  internalNetworks?: InternalNetworks;
  intervalMs?: number;
  maxPeersPerDevice?: number;
}

/**
 * Turns flow counters into per-device interval summaries. It reads the flow
 * table only at interval ends and when a flow ends, so it costs nothing per
 * packet but one time comparison (`nextBoundaryUs`, checked by the
 * pipeline). Per flow it remembers the counters already reported.
 */
export class FlowSummarizer {
  readonly intervalUs: number;
  readonly maxPeersPerDevice: number;
  /** Packet time at which the current interval ends. */
  nextBoundaryUs = Number.NEGATIVE_INFINITY;
  /** Intervals closed, and peer rows folded away by the per-device cap. */
  intervalsClosed = 0;
  peersOmitted = 0;

  private readonly flows: FlowTable;
  private readonly senderOf: FlowSummarizerOptions['senderOf'];
  private readonly onInterval: FlowSummarizerOptions['onInterval'];
  private readonly internal: InternalNetworks;
  /** Client packets, server packets, client bytes, server bytes reported. */
  private readonly reported: Float64Array;
  private intervalStartUs = -1;
  private devices = new Map<string, DeviceAccumulator>();

  constructor(options: FlowSummarizerOptions) {
    this.flows = options.flows;
    this.senderOf = options.senderOf;
    this.onInterval = options.onInterval;
    this.internal = options.internalNetworks ?? new InternalNetworks();
    this.intervalUs = (options.intervalMs ?? SUMMARY_INTERVAL_MS) * 1000;
    this.maxPeersPerDevice =
      options.maxPeersPerDevice ?? SUMMARY_MAX_PEERS_PER_DEVICE;
    this.reported = new Float64Array(options.flows.maxFlows * REPORTED_STRIDE);
  }

  /**
   * Packet time reached `nextBoundaryUs`: close the current interval (if
   * any) and open the one holding `timeUs`. Call before the packet at
   * `timeUs` is accounted, so it counts in the new interval.
   */
  reach(timeUs: number): void {
    if (this.intervalStartUs >= 0) this.closeInterval(this.nextBoundaryUs);
    this.intervalStartUs =
      Math.floor(timeUs / this.intervalUs) * this.intervalUs;
    this.nextBoundaryUs = this.intervalStartUs + this.intervalUs;
  }

  /** A flow starts: nothing of it is reported yet. */
  onFlowStart(flowId: number): void {
    this.reported.fill(
      0,
      flowId * REPORTED_STRIDE,
      (flowId + 1) * REPORTED_STRIDE,
    );
  }

  /**
   * A flow ends (or restarts at its active timeout, with counters reset):
   * account what it did since the last report. Call before the inventory
   * forgets the flow's senders.
   */
  onFlowEnd(flowId: number): void {
    this.account(flowId, this.nextBoundaryUs);
    this.onFlowStart(flowId);
  }

  /** Close the last interval at `endUs` (end of a capture, shutdown). */
  flush(endUs: number): void {
    if (this.intervalStartUs < 0) return;
    this.closeInterval(Math.min(endUs, this.nextBoundaryUs));
    this.intervalStartUs = -1;
    this.nextBoundaryUs = Number.NEGATIVE_INFINITY;
  }

  private closeInterval(endUs: number): void {
    this.flows.forEachFlow((flowId) => this.account(flowId, endUs));
    const summaries: DeviceFlowSummary[] = [];
    for (const [deviceId, device] of this.devices) {
      summaries.push({
        deviceId,
        intervalStartUs: this.intervalStartUs,
        intervalEndUs: endUs,
        peers: [...device.peers.values()],
        peersOmitted: device.omittedPeerKeys.size,
        omittedPackets: device.omittedPackets,
        omittedBytes: device.omittedBytes,
      });
    }
    this.devices = new Map();
    this.intervalsClosed++;
    if (summaries.length > 0) this.onInterval(summaries);
  }

  /** Add a flow's counters since its last report to the interval. */
  private account(flowId: number, endUs: number): void {
    const flows = this.flows;
    const base = flowId * REPORTED_STRIDE;
    const reported = this.reported;
    const record = flows.describe(flowId);
    const clientPackets = record.clientPackets - reported[base];
    const serverPackets = record.serverPackets - reported[base + 1];
    if (clientPackets === 0 && serverPackets === 0) return;
    const clientBytes = record.clientBytes - reported[base + 2];
    const serverBytes = record.serverBytes - reported[base + 3];
    reported[base] = record.clientPackets;
    reported[base + 1] = record.serverPackets;
    reported[base + 2] = record.clientBytes;
    reported[base + 3] = record.serverBytes;

    const hasPorts =
      record.protocol === IpProtocol.Tcp ||
      record.protocol === IpProtocol.Udp ||
      record.protocol === IpProtocol.Sctp;
    const traffic: FlowTraffic = {
      flowId,
      protocol: record.protocol,
      servicePort: hasPorts ? record.serverPort : 0,
      clientPort: hasPorts ? record.clientPort : -1,
      clientAddress: record.clientAddr,
      serverAddress: record.serverAddr,
      firstUs: Math.max(record.firstUs, this.intervalStartUs),
      lastUs: Math.min(record.lastUs, endUs),
      clientPackets,
      serverPackets,
      clientBytes,
      serverBytes,
    };

    // Direction 0 is sent by endpoint A: the client's direction is 0 when
    // A opened the flow.
    const clientDirection = flows.isInitiatorA(flowId) ? 0 : 1;
    const client = this.senderOf(flowId, clientDirection);
    const server = this.senderOf(flowId, 1 - clientDirection);
    if (client !== null) {
      this.addPeer(client.id, record.serverAddr, true, traffic);
    }
    if (server !== null && server !== client) {
      this.addPeer(server.id, record.clientAddr, false, traffic);
    }
  }

  private addPeer(
    deviceId: string,
    peerAddress: string,
    deviceIsClient: boolean,
    traffic: FlowTraffic,
  ): void {
    let device = this.devices.get(deviceId);
    if (device === undefined) {
      device = {
        peers: new Map(),
        omittedPeerKeys: new Set(),
        omittedPackets: 0,
        omittedBytes: 0,
      };
      this.devices.set(deviceId, device);
    }

    const role = deviceIsClient ? 'c' : 's';
    const key = `${peerAddress}|${traffic.protocol}|${traffic.servicePort}|${role}`;
    const sent = deviceIsClient ? traffic.clientPackets : traffic.serverPackets;
    const received = deviceIsClient
      ? traffic.serverPackets
      : traffic.clientPackets;
    const bytesSent = deviceIsClient
      ? traffic.clientBytes
      : traffic.serverBytes;
    const bytesReceived = deviceIsClient
      ? traffic.serverBytes
      : traffic.clientBytes;

    let peer = device.peers.get(key);
    if (peer === undefined) {
      if (device.peers.size >= this.maxPeersPerDevice) {
        if (!device.omittedPeerKeys.has(key)) {
          device.omittedPeerKeys.add(key);
          this.peersOmitted++;
        }
        device.omittedPackets += sent + received;
        device.omittedBytes += bytesSent + bytesReceived;
        return;
      }
      peer = {
        peerAddress,
        protocol: traffic.protocol,
        servicePort: traffic.servicePort,
        isExternal: !this.internal.contains(peerAddress),
        deviceIsClient,
        flows: 0,
        packetsSent: 0,
        packetsReceived: 0,
        bytesSent: 0,
        bytesReceived: 0,
        firstUs: traffic.firstUs,
        lastUs: traffic.lastUs,
        communityIds: [],
        sampleFlow: null,
      };
      device.peers.set(key, peer);
    }

    peer.flows++;
    peer.packetsSent += sent;
    peer.packetsReceived += received;
    peer.bytesSent += bytesSent;
    peer.bytesReceived += bytesReceived;
    if (traffic.firstUs < peer.firstUs) peer.firstUs = traffic.firstUs;
    if (traffic.lastUs > peer.lastUs) peer.lastUs = traffic.lastUs;
    if (peer.communityIds.length < SUMMARY_COMMUNITY_ID_SAMPLES) {
      const communityId = this.flows.communityIdOf(traffic.flowId);
      if (!peer.communityIds.includes(communityId)) {
        peer.communityIds.push(communityId);
      }
      if (peer.sampleFlow === null && traffic.clientPort >= 0) {
        peer.sampleFlow = {
          deviceAddress: deviceIsClient
            ? traffic.clientAddress
            : traffic.serverAddress,
          clientPort: traffic.clientPort,
        };
      }
    }
  }
}

const REPORTED_STRIDE = 4;

/** One flow's counters since its last report, oriented client to server. */
interface FlowTraffic {
  flowId: number;
  protocol: number;
  servicePort: number;
  /** -1 for protocols without ports. */
  clientPort: number;
  clientAddress: string;
  serverAddress: string;
  firstUs: number;
  lastUs: number;
  clientPackets: number;
  serverPackets: number;
  clientBytes: number;
  serverBytes: number;
}

interface DeviceAccumulator {
  peers: Map<string, PeerSummary>;
  omittedPeerKeys: Set<string>;
  omittedPackets: number;
  omittedBytes: number;
}
