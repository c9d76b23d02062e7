/**
 * Community ID v1 (corelight community-id-spec): the direction-free flow hash
 * that lets our flow records join Zeek, Suricata, Arkime and Elastic records.
 */
import { createHash } from 'node:crypto';

/** IANA protocol numbers the spec gives ports or port equivalents. */
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;

const IPV4_ADDR_BYTES = 4;
const IPV6_ADDR_BYTES = 16;

/** Seed, two addresses, protocol, padding and two ports, at most 40 bytes. */
const SEED_BYTES = 2;
const MAX_HASH_INPUT_BYTES = SEED_BYTES + 2 * IPV6_ADDR_BYTES + 2 + 2 * 2;

const COMMUNITY_ID_VERSION_PREFIX = '1:';

/**
 * ICMP (RFC 792, RFC 950, RFC 1256) request/reply pairs: each type maps to
 * its counterpart, which takes the place of the destination port. Zeek
 * defined this mapping and the spec adopts it.
 */
const ICMPV4_COUNTER_TYPE: ReadonlyMap<number, number> = new Map([
  [8, 0], // echo request, echo reply
  [0, 8],
  [13, 14], // timestamp, timestamp reply
  [14, 13],
  [15, 16], // information request, information reply
  [16, 15],
  [10, 9], // router solicitation, router advertisement
  [9, 10],
  [17, 18], // address mask request, address mask reply
  [18, 17],
]);

/** ICMPv6 (RFC 4443, RFC 2710, RFC 4861, RFC 4620, RFC 6275) pairs. */
const ICMPV6_COUNTER_TYPE: ReadonlyMap<number, number> = new Map([
  [128, 129], // echo request, echo reply
  [129, 128],
  [130, 131], // multicast listener query, report
  [131, 130],
  [133, 134], // router solicitation, router advertisement
  [134, 133],
  [135, 136], // neighbour solicitation, neighbour advertisement
  [136, 135],
  [139, 140], // node information query, response
  [140, 139],
  [144, 145], // home agent address discovery request, reply
  [145, 144],
]);

/** One flow's endpoints as the first packet carried them. */
export interface CommunityIdFlow {
  /** 4 or 6; selects 4- or 16-byte addresses. */
  ipVersion: number;
  /** IP protocol number (IANA "Assigned Internet Protocol Numbers"). */
  proto: number;
  /** Source address bytes in network order, at `srcAddrOff` (default 0). */
  srcAddr: Uint8Array;
  srcAddrOff?: number;
  /** Destination address bytes in network order, at `dstAddrOff`. */
  dstAddr: Uint8Array;
  dstAddrOff?: number;
  /** TCP, UDP or SCTP ports; ignored for other protocols. */
  srcPort?: number;
  dstPort?: number;
  /** ICMP or ICMPv6 message type and code; ignored for other protocols. */
  icmpType?: number;
  icmpCode?: number;
}

/** How the digest is rendered and which hashing domain it belongs to. */
export interface CommunityIdOptions {
  /** 16-bit seed hashed first (big-endian); 0 unless sites agreed another. */
  seed?: number;
  /** 'base64' (the spec's default) or 'hex', lower case, for debugging. */
  encoding?: 'base64' | 'hex';
}

const hashInput = Buffer.alloc(MAX_HASH_INPUT_BYTES);

/**
 * Community ID v1 of a flow: "1:" and the base64 (or hex) SHA-1 of seed (2
 * bytes, big-endian), the lower endpoint's address, the higher endpoint's
 * address, protocol (1 byte), a zero byte, then the lower and higher ports
 * (2 bytes each, big-endian). The lower endpoint is the smaller address, or
 * with equal addresses the smaller port, so both directions give one id.
 *
 * ICMP and ICMPv6 use the type as source port; a request or reply type has
 * its counterpart type as destination port, any other type is one-way: its
 * code is the destination port and the endpoints are never swapped.
 * Protocols other than TCP, UDP, SCTP, ICMP and ICMPv6 hash without ports.
 *
 * Called once per new flow; allocates the hash and the string.
 * @throws RangeError on an IP version other than 4 or 6, an address past the
 *   end of its buffer, or a seed, port, type or code out of range
 */
export function communityId(
  flow: CommunityIdFlow,
  options: CommunityIdOptions = {},
): string {
  const seed = options.seed ?? 0;
  checkUint('seed', seed, 0xffff);
  const encoding = options.encoding ?? 'base64';
  if (encoding !== 'base64' && encoding !== 'hex') {
    throw new RangeError(`encoding must be 'base64' or 'hex'`);
  }
  checkUint('proto', flow.proto, 0xff);
  const addrBytes = addressBytes(flow.ipVersion);
  const srcAddrOff = flow.srcAddrOff ?? 0;
  const dstAddrOff = flow.dstAddrOff ?? 0;
  checkAddress('srcAddr', flow.srcAddr, srcAddrOff, addrBytes);
  checkAddress('dstAddr', flow.dstAddr, dstAddrOff, addrBytes);

  const ports = portEquivalents(flow);
  const isSwapped =
    !ports.isOneWay &&
    isHigherEndpoint(flow, srcAddrOff, dstAddrOff, addrBytes, ports);
  const src = { addr: flow.srcAddr, off: srcAddrOff, port: ports.srcPort };
  const dst = { addr: flow.dstAddr, off: dstAddrOff, port: ports.dstPort };
  const low = isSwapped ? dst : src;
  const high = isSwapped ? src : dst;

  let off = hashInput.writeUInt16BE(seed, 0);
  hashInput.set(low.addr.subarray(low.off, low.off + addrBytes), off);
  off += addrBytes;
  hashInput.set(high.addr.subarray(high.off, high.off + addrBytes), off);
  off += addrBytes;
  off = hashInput.writeUInt8(flow.proto, off);
  off = hashInput.writeUInt8(0, off);
  if (ports.hasPorts) {
    off = hashInput.writeUInt16BE(low.port, off);
    off = hashInput.writeUInt16BE(high.port, off);
  }

  const digest = createHash('sha1').update(hashInput.subarray(0, off));
  return COMMUNITY_ID_VERSION_PREFIX + digest.digest(encoding);
}

/** The port fields hashed for a flow, by the spec's protocol rules. */
interface PortEquivalents {
  hasPorts: boolean;
  srcPort: number;
  dstPort: number;
  /** An ICMP message without a reply type: never reordered. */
  isOneWay: boolean;
}

function portEquivalents(flow: CommunityIdFlow): PortEquivalents {
  const proto = flow.proto;
  if (proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP) {
    const srcPort = flow.srcPort ?? 0;
    const dstPort = flow.dstPort ?? 0;
    checkUint('srcPort', srcPort, 0xffff);
    checkUint('dstPort', dstPort, 0xffff);
    return { hasPorts: true, srcPort, dstPort, isOneWay: false };
  }
  if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    const icmpType = flow.icmpType ?? 0;
    const icmpCode = flow.icmpCode ?? 0;
    checkUint('icmpType', icmpType, 0xff);
    checkUint('icmpCode', icmpCode, 0xff);
    const counterTypes =
      proto === PROTO_ICMP ? ICMPV4_COUNTER_TYPE : ICMPV6_COUNTER_TYPE;
    const counterType = counterTypes.get(icmpType);
    return {
      hasPorts: true,
      srcPort: icmpType,
      dstPort: counterType ?? icmpCode,
      isOneWay: counterType === undefined,
    };
  }
  return { hasPorts: false, srcPort: 0, dstPort: 0, isOneWay: false };
}

/**
 * True when the source endpoint sorts after the destination: addresses
 * compared byte by byte in network order, then ports when addresses match.
 */
function isHigherEndpoint(
  flow: CommunityIdFlow,
  srcAddrOff: number,
  dstAddrOff: number,
  addrBytes: number,
  ports: PortEquivalents,
): boolean {
  for (let i = 0; i < addrBytes; i++) {
    const srcByte = flow.srcAddr[srcAddrOff + i];
    const dstByte = flow.dstAddr[dstAddrOff + i];
    if (srcByte !== dstByte) return srcByte > dstByte;
  }
  return ports.srcPort > ports.dstPort;
}

function addressBytes(ipVersion: number): number {
  if (ipVersion === 4) return IPV4_ADDR_BYTES;
  if (ipVersion === 6) return IPV6_ADDR_BYTES;
  throw new RangeError(`ipVersion must be 4 or 6, got ${ipVersion}`);
}

function checkAddress(
  name: string,
  buf: Uint8Array,
  off: number,
  addrBytes: number,
): void {
  if (!Number.isInteger(off) || off < 0 || off + addrBytes > buf.length) {
    throw new RangeError(
      `${name}: ${addrBytes} bytes at offset ${off} exceed ${buf.length}`,
    );
  }
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}`);
  }
}
