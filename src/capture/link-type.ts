/** Link-layer header types (tcpdump.org LINKTYPE_* registry) that we decode. */

export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's order. */
  Null: 0,
  Ethernet: 1,
  /** Raw IP; the version nibble tells IPv4 from IPv6. */
  Raw: 101,
  /** OpenBSD loopback: like Null but the family is big-endian. */
  Loop: 108,
  LinuxSll: 113,
  Ipv4: 228,
  Ipv6: 229,
  LinuxSll2: 276,
} as const;

export type LinkTypeId = number;

/** Some writers store the DLT value of raw IP (12 or 14) instead of 101. */
export function normalizeLinkType(linkType: number): number {
  if (linkType === 12 || linkType === 14) return LinkType.Raw;
  return linkType;
}

const LINK_TYPE_NAMES: Record<number, string> = {
  [LinkType.Null]: 'null',
  [LinkType.Ethernet]: 'ethernet',
  [LinkType.Raw]: 'raw',
  [LinkType.Loop]: 'loop',
  [LinkType.LinuxSll]: 'linux_sll',
  [LinkType.Ipv4]: 'ipv4',
  [LinkType.Ipv6]: 'ipv6',
  [LinkType.LinuxSll2]: 'linux_sll2',
};

/** A stable lower-case name for a link type, `linktype_N` when unknown. */
export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `linktype_${linkType}`;
}
