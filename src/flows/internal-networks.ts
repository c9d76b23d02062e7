/**
 * The site's own address space: which peers are internal (lateral) and
 * which are external (traffic leaving the site).
 */
import { BlockList, isIP } from 'node:net';

/**
 * Private (RFC 1918), shared (RFC 6598), link-local, unique local IPv6 and
 * multicast/broadcast: traffic to these does not leave the site.
 */
export const DEFAULT_INTERNAL_NETWORKS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '224.0.0.0/4',
  '255.255.255.255/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

/** A set of CIDR prefixes, tested by address text. */
export class InternalNetworks {
  private readonly ranges = new BlockList();

  /** Parse CIDR prefixes; a bad entry throws a RangeError naming it. */
  constructor(cidrs: readonly string[] = DEFAULT_INTERNAL_NETWORKS) {
    for (const cidr of cidrs) {
      const [address, prefixText] = cidr.split('/');
      const version = isIP(address);
      const prefixBits = Number(prefixText);
      const maxBits = version === 6 ? 128 : 32;
      if (
        version === 0 ||
        !/^\d+$/.test(prefixText ?? '') ||
        prefixBits > maxBits
      ) {
        throw new RangeError(`not a CIDR prefix: "${cidr}"`);
      }
      this.ranges.addSubnet(
        address,
        prefixBits,
        version === 6 ? 'ipv6' : 'ipv4',
      );
    }
  }

  /** Whether `address` (IPv4 or IPv6 text) is inside one of the prefixes. */
  contains(address: string): boolean {
    const version = isIP(address);
    if (version === 0) return false;
    return this.ranges.check(address, version === 6 ? 'ipv6' : 'ipv4');
  }
}
