/**
 * The site's own address space: which peers are internal (lateral) and
 * which are external (traffic leaving the site).
 */
import { BlockList, isIP } from 'node:net';

/**
 * The site's own ranges unless configured otherwise (the configuration's
 * `inventory.internalNetworks` default): private (RFC 1918), shared (RFC
 * 6598) and unique local IPv6 (RFC 4193). A site that also numbers hosts
 * in public space adds its prefixes.
 */
export const DEFAULT_SITE_NETWORKS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  'fc00::/7',
];

/**
 * Addresses no router forwards off the link or the site, whatever the
 * site's ranges: unspecified, link-local, multicast and broadcast. An
 * mDNS query or a DHCP discover is not traffic leaving the hospital.
 */
const LOCAL_SCOPE_NETWORKS: readonly string[] = [
  '0.0.0.0/32',
  '169.254.0.0/16',
  '224.0.0.0/4',
  '255.255.255.255/32',
  '::/128',
  'fe80::/10',
  'ff00::/8',
];

/** The site's ranges and the local-scope ones, tested by address text. */
export class InternalNetworks {
  private readonly ranges = new BlockList();

  /** Parse CIDR prefixes; a bad entry throws a RangeError naming it. */
  constructor(siteCidrs: readonly string[] = DEFAULT_SITE_NETWORKS) {
    for (const cidr of [...LOCAL_SCOPE_NETWORKS, ...siteCidrs]) {
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
