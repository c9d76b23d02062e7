/**
 * One device of the inventory: what identifies it, every fingerprint seen,
 * and its report form. Every set is capped; evictions are counted.
 */
import { cdpCapabilityNames } from '../fingerprint/cdp.js';
import type { DicomRequestedContext } from '../fingerprint/dicom.js';
import { lldpCapabilityNames } from '../fingerprint/lldp.js';
import { namesOfBits } from '../fingerprint/text.js';
import type {
  Classification,
  CompiledCatalog,
  DeviceFacts,
} from './catalog.js';
import { CappedSet } from './capped-set.js';

/** Caps on what one device remembers. */
export const DEVICE_LIMITS = {
  ips: 16,
  hostnames: 8,
  fingerprints: 8,
  names: 16,
  serverPorts: 32,
  medical: 8,
  /** One association's worth: PS3.8 allows 128 presentation contexts. */
  abstractSyntaxes: 128,
  findings: 16,
} as const;

/** What a device did in SIP: names of `Device.sipRoleBits`, bit 0 first. */
export const SIP_ROLES = ['user_agent', 'registrar'] as const;
export const SipRoleBit = { UserAgent: 1, Registrar: 2 } as const;

export interface DicomIdentity {
  callingAe: string;
  calledAe: string;
  implementationClassUid: string;
  implementationVersion: string;
  /** "scu" when the device asked for the association, "scp" when it accepted. */
  role: string;
}

/** The presentation contexts of a device's last association request. */
export interface DicomRequest {
  /** The flow it was sent on: the accept must come back on the same one. */
  flowId: number;
  contexts: DicomRequestedContext[];
}

export interface Hl7Identity {
  sendingApplication: string;
  sendingFacility: string;
  messageTypes: CappedSet<string>;
}

/** The `inventory --json` form of a device; field names are a contract. */
export interface DeviceReport {
  /** Stable key: the MAC (with `@vlan` when tagged), or a routed host's IP. */
  id: string;
  mac: string | null;
  vlan: number;
  vendor: string | null;
  randomizedMac: boolean;
  ips: string[];
  routed: boolean;
  /** Forwards traffic for others: hosts behind it are listed by IP. */
  router: boolean;
  hostnames: string[];
  dhcp: {
    fingerprint: string | null;
    vendorClass: string | null;
    hostname: string | null;
  };
  /** DHCPv6 client DUID (hex), vendor class, option request list. */
  dhcpv6: {
    duid: string | null;
    vendorClass: string | null;
    optionRequests: string | null;
  };
  tls: { ja3: string[]; ja4: string[]; sni: string[] };
  http: { userAgents: string[] };
  /**
   * What a phone or call server names itself in SIP (User-Agent, Server),
   * and what it did: `user_agent` (sent a REGISTER), `registrar` (answered
   * one).
   */
  sip: { userAgents: string[]; roles: string[] };
  tcp: { signatures: string[]; osGuess: string | null };
  lldp: Record<string, unknown> | null;
  cdp: Record<string, unknown> | null;
  mudUrl: string | null;
  /** Names the device asked for in DNS, mDNS and LLMNR queries. */
  dns: { queries: string[] } | null;
  /** Service types, TXT models and service instance names it announced. */
  mdns: { services: string[]; models: string[]; instances: string[] } | null;
  ssdp: { servers: string[]; types: string[] } | null;
  nbns: { names: string[] } | null;
  wsDiscovery: { types: string[]; scopes: string[] } | null;
  dicom: DicomIdentity[];
  hl7: Array<{
    sendingApplication: string;
    sendingFacility: string;
    messageTypes: string[];
  }>;
  medicalHints: string[];
  serverPorts: number[];
  findings: string[];
  category: string;
  make: string | null;
  model: string | null;
  confidence: number;
  evidence: string[];
  catalogVersion: string;
  firstSeen: string;
  lastSeen: string;
  packets: number;
  bytes: number;
  evictedValues: number;
}

/**
 * A device table's counter row, per table index: packets, bytes, last seen
 * (µs of packet time) and the serial of the device held there, then keys
 * of what the device did last (0: none), which let the inventory skip a
 * repeat in the row a packet already touches instead of a memo.
 */
export const COUNTER_PACKETS = 0;
export const COUNTER_BYTES = 1;
export const COUNTER_LAST_SEEN_US = 2;
export const COUNTER_SERIAL = 3;
/** The IPv4 address (a signed word) it claimed last by ARP. */
export const RECENT_ARP_ADDRESS = 4;
/** The TCP port + 1 it answered a SYN from last. */
export const RECENT_SERVER_PORT = 5;
/** The shape keys of its last two SYNs or SYN+ACKs, newest first. */
export const RECENT_SYN_SHAPE = 6;
export const PREVIOUS_SYN_SHAPE = 7;
/** Eight words: one 64-byte row per device. */
export const COUNTER_STRIDE = 8;

/** A device, keyed by MAC + VLAN, or by IP when seen only behind a router. */
export class Device {
  vendor: string | null = null;
  randomizedMac = false;
  routed = false;
  firstSeenUs: number;

  readonly ips = new CappedSet<string>(DEVICE_LIMITS.ips);
  readonly hostnames = new CappedSet<string>(DEVICE_LIMITS.hostnames);
  dhcpFingerprint: string | null = null;
  dhcpVendorClass: string | null = null;
  dhcpHostname: string | null = null;
  dhcpv6VendorClass: string | null = null;
  /** Client DUID (RFC 8415 section 11) as hex, from its last DHCPv6 message. */
  dhcpv6Duid: string | null = null;
  /** Option request option (6) codes in request order, comma-separated. */
  dhcpv6OptionRequests: string | null = null;
  readonly ja3 = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  readonly ja4 = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  readonly sni = new CappedSet<string>(DEVICE_LIMITS.names);
  readonly userAgents = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  readonly sipUserAgents = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  /** `SIP_ROLES` bits: what the device did in SIP. */
  sipRoleBits = 0;
  readonly tcpSignatures = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  osGuess: string | null = null;
  osGuessConfidence = 0;
  /** A MAC forwarding for many addresses: hosts behind it are keyed by IP. */
  isRouter = false;
  /** Digests of the last IPv4 and IPv6 source addresses, to skip repeats. */
  lastIpv4Key = 0;
  previousIpv4Key = 0;
  lastIpv6Key = 0;
  previousIpv6Key = 0;
  /** Source addresses ever seen (the capped `ips` keeps the latest). */
  distinctAddresses = 0;
  /** The last ND target claimed, to skip repeats cheaply. */
  lastNdTargetKey = 0;
  lldp: Record<string, unknown> | null = null;
  /** MUD URL (RFC 8520) the device announced, null when none. */
  mudUrl: string | null = null;
  cdp: Record<string, unknown> | null = null;
  /** Question names of the DNS, mDNS and LLMNR queries the device sent. */
  readonly dnsQueries = new CappedSet<string>(DEVICE_LIMITS.names);
  readonly mdnsServices = new CappedSet<string>(DEVICE_LIMITS.names);
  readonly mdnsModels = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  /** DNS-SD instance names (`Printer 3._ipp._tcp.local`) it announced. */
  readonly mdnsInstances = new CappedSet<string>(DEVICE_LIMITS.names);
  readonly ssdpServers = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  readonly ssdpTypes = new CappedSet<string>(DEVICE_LIMITS.names);
  readonly nbnsNames = new CappedSet<string>(DEVICE_LIMITS.fingerprints);
  readonly wsdTypes = new CappedSet<string>(DEVICE_LIMITS.names);
  readonly wsdScopes = new CappedSet<string>(DEVICE_LIMITS.names);
  readonly dicom = new Map<string, DicomIdentity>();
  /**
   * Abstract syntaxes (SOP classes) of DICOM associations: `scu:` + a UID
   * the device proposed as requestor, `scp:` + one it accepted.
   */
  readonly dicomAbstractSyntaxes = new CappedSet<string>(
    DEVICE_LIMITS.abstractSyntaxes,
  );
  /** Held until the peer's accept says which contexts it took. */
  dicomRequest: DicomRequest | null = null;
  readonly hl7 = new Map<string, Hl7Identity>();
  readonly medicalHints = new CappedSet<string>(DEVICE_LIMITS.medical);
  readonly hintVendors = new CappedSet<string>(DEVICE_LIMITS.medical);
  readonly hintProducts = new CappedSet<string>(DEVICE_LIMITS.medical);
  readonly serverPorts = new CappedSet<number>(DEVICE_LIMITS.serverPorts);
  readonly findings = new CappedSet<string>(DEVICE_LIMITS.findings);

  /**
   * Set by the device table: the device's index there, and a number no
   * other device of the table gets, so a remembered index can be checked.
   */
  tableId = -1;
  serial = 0;
  /**
   * While the device is held by a table, its packets, bytes and last-seen
   * time live in the table's counter rows: a packet then updates a small
   * typed array instead of this scattered object. `detach` copies them here.
   */
  private counterRows: Float64Array | null = null;
  private detachedCounters = [0, 0, 0];

  /** Facts changed since the last classification. */
  isDirty = true;
  private classification: Classification | null = null;
  private classifiedWith: CompiledCatalog | null = null;

  /** Stable key: the MAC (with `@vlan` when tagged), or a routed host's IP. */
  readonly id: string;

  constructor(
    /** "aa:bb:cc:dd:ee:ff", or null for a host known only by its IP. */
    readonly mac: string | null,
    readonly vlan: number,
    timeUs: number,
    /** The address a host known only by its IP is keyed by. */
    keyAddress: string | null = null,
  ) {
    this.id =
      mac === null ? (keyAddress ?? '') : vlan > 0 ? `${mac}@${vlan}` : mac;
    this.firstSeenUs = timeUs;
    this.detachedCounters[COUNTER_LAST_SEEN_US] = timeUs;
  }

  get packets(): number {
    return this.counter(COUNTER_PACKETS);
  }

  get bytes(): number {
    return this.counter(COUNTER_BYTES);
  }

  get lastSeenUs(): number {
    return this.counter(COUNTER_LAST_SEEN_US);
  }

  /** Called by the table that now holds the device at `tableId`. */
  attach(rows: Float64Array, tableId: number, serial: number): void {
    const at = tableId * COUNTER_STRIDE;
    rows[at + COUNTER_PACKETS] = this.packets;
    rows[at + COUNTER_BYTES] = this.bytes;
    rows[at + COUNTER_LAST_SEEN_US] = this.lastSeenUs;
    rows[at + COUNTER_SERIAL] = serial;
    rows.fill(0, at + RECENT_ARP_ADDRESS, at + COUNTER_STRIDE);
    this.tableId = tableId;
    this.serial = serial;
    this.counterRows = rows;
  }

  /** Called by the table as it lets the device go. */
  detach(): void {
    if (this.counterRows === null) return;
    this.detachedCounters = [this.packets, this.bytes, this.lastSeenUs];
    this.counterRows = null;
    this.tableId = -1;
  }

  /** Record a DICOM association role; capped like every other set. */
  addDicom(identity: DicomIdentity): void {
    const key = JSON.stringify(identity);
    if (this.dicom.has(key)) return;
    if (this.dicom.size >= DEVICE_LIMITS.medical) return;
    this.dicom.set(key, identity);
    this.isDirty = true;
  }

  /** Record an HL7 sender and one message type it sent. */
  addHl7(application: string, facility: string, messageType: string): void {
    const key = `${application}\u0000${facility}`;
    let identity = this.hl7.get(key);
    if (identity === undefined) {
      if (this.hl7.size >= DEVICE_LIMITS.medical) return;
      identity = {
        sendingApplication: application,
        sendingFacility: facility,
        messageTypes: new CappedSet<string>(DEVICE_LIMITS.names),
      };
      this.hl7.set(key, identity);
      this.isDirty = true;
    }
    if (messageType !== '' && identity.messageTypes.add(messageType)) {
      this.isDirty = true;
    }
  }

  private counter(column: number): number {
    const rows = this.counterRows;
    return rows === null
      ? this.detachedCounters[column]
      : rows[this.tableId * COUNTER_STRIDE + column];
  }

  /** Classify against `catalog`, reusing the last result while nothing changed. */
  classify(catalog: CompiledCatalog): Classification {
    if (
      this.classification === null ||
      this.isDirty ||
      this.classifiedWith !== catalog
    ) {
      this.classification = catalog.classify(this.facts());
      this.classifiedWith = catalog;
      this.isDirty = false;
    }
    return this.classification;
  }

  /** What the catalog's rules test, field by field. */
  facts(): DeviceFacts {
    const dicom = [...this.dicom.values()];
    const hl7 = [...this.hl7.values()];
    const optional = (value: string | null) => (value === null ? [] : [value]);
    return {
      mac: optional(this.mac),
      vendor: optional(this.vendor),
      hostname: [...this.hostnames.values(), ...this.nbnsNames.values()],
      'dhcp.vendorClass': optional(this.dhcpVendorClass),
      'dhcp.fingerprint': optional(this.dhcpFingerprint),
      'dhcpv6.vendorClass': optional(this.dhcpv6VendorClass),
      'http.userAgent': this.userAgents.values(),
      'sip.userAgent': this.sipUserAgents.values(),
      'sip.role': namesOfBits(this.sipRoleBits, SIP_ROLES),
      'tls.sni': this.sni.values(),
      'tls.ja4': this.ja4.values(),
      'tcp.osGuess': optional(this.osGuess),
      'ssdp.server': this.ssdpServers.values(),
      'ssdp.type': this.ssdpTypes.values(),
      'mdns.service': this.mdnsServices.values(),
      'mdns.model': this.mdnsModels.values(),
      'mdns.instance': this.mdnsInstances.values(),
      'dns.query': this.dnsQueries.values(),
      'lldp.systemName': stringField(this.lldp, 'systemName'),
      'lldp.systemDescription': stringField(this.lldp, 'systemDescription'),
      'lldp.medManufacturer': stringField(this.lldp, 'medManufacturer'),
      'lldp.medModel': stringField(this.lldp, 'medModel'),
      'lldp.capabilities': lldpCapabilityNames(
        numberField(this.lldp, 'capabilitiesEnabled'),
      ),
      mudUrl: optional(this.mudUrl),
      'cdp.platform': stringField(this.cdp, 'platform'),
      'cdp.softwareVersion': stringField(this.cdp, 'softwareVersion'),
      'cdp.capabilities': cdpCapabilityNames(
        numberField(this.cdp, 'capabilities'),
      ),
      'nbns.name': this.nbnsNames.values(),
      'wsd.type': this.wsdTypes.values(),
      'dicom.implementationClassUid': dicom.map(
        (d) => d.implementationClassUid,
      ),
      'dicom.implementationVersion': dicom.map((d) => d.implementationVersion),
      'dicom.ae': dicom.flatMap((d) =>
        d.role === 'scu' ? [d.callingAe] : [d.calledAe],
      ),
      'dicom.role': dicom.map((d) => d.role),
      'dicom.abstractSyntax': this.dicomAbstractSyntaxes.values(),
      'hl7.sendingApplication': hl7.map((h) => h.sendingApplication),
      'hl7.sendingFacility': hl7.map((h) => h.sendingFacility),
      'hl7.messageType': hl7.flatMap((h) => h.messageTypes.values()),
      'hint.vendor': this.hintVendors.values(),
      'hint.product': this.hintProducts.values(),
      'server.port': this.serverPorts.values().map(String),
      role: this.isRouter ? ['router'] : [],
    };
  }

  /** The device as `inventory --json` prints it. */
  toReport(catalog: CompiledCatalog): DeviceReport {
    const classification = this.classify(catalog);
    const mdnsValues =
      this.mdnsServices.size + this.mdnsModels.size + this.mdnsInstances.size;
    return {
      id: this.id,
      mac: this.mac,
      vlan: this.vlan,
      vendor: this.vendor,
      randomizedMac: this.randomizedMac,
      ips: this.ips.values(),
      routed: this.routed,
      router: this.isRouter,
      hostnames: this.hostnames.values(),
      dhcp: {
        fingerprint: this.dhcpFingerprint,
        vendorClass: this.dhcpVendorClass,
        hostname: this.dhcpHostname,
      },
      dhcpv6: {
        duid: this.dhcpv6Duid,
        vendorClass: this.dhcpv6VendorClass,
        optionRequests: this.dhcpv6OptionRequests,
      },
      tls: {
        ja3: this.ja3.values(),
        ja4: this.ja4.values(),
        sni: this.sni.values(),
      },
      http: { userAgents: this.userAgents.values() },
      sip: {
        userAgents: this.sipUserAgents.values(),
        roles: namesOfBits(this.sipRoleBits, SIP_ROLES),
      },
      tcp: { signatures: this.tcpSignatures.values(), osGuess: this.osGuess },
      lldp: this.lldp,
      cdp: this.cdp,
      mudUrl: this.mudUrl,
      dns:
        this.dnsQueries.size > 0 ? { queries: this.dnsQueries.values() } : null,
      mdns:
        mdnsValues > 0
          ? {
              services: this.mdnsServices.values(),
              models: this.mdnsModels.values(),
              instances: this.mdnsInstances.values(),
            }
          : null,
      ssdp:
        this.ssdpServers.size + this.ssdpTypes.size > 0
          ? {
              servers: this.ssdpServers.values(),
              types: this.ssdpTypes.values(),
            }
          : null,
      nbns: this.nbnsNames.size > 0 ? { names: this.nbnsNames.values() } : null,
      wsDiscovery:
        this.wsdTypes.size + this.wsdScopes.size > 0
          ? { types: this.wsdTypes.values(), scopes: this.wsdScopes.values() }
          : null,
      dicom: [...this.dicom.values()],
      hl7: [...this.hl7.values()].map((identity) => ({
        sendingApplication: identity.sendingApplication,
        sendingFacility: identity.sendingFacility,
        messageTypes: identity.messageTypes.values(),
      })),
      medicalHints: this.medicalHints.values(),
      serverPorts: this.serverPorts.values().sort((a, b) => a - b),
      findings: this.findings.values(),
      category: classification.category,
      make: classification.make,
      model: classification.model,
      confidence: classification.confidence,
      evidence: classification.evidence,
      catalogVersion: catalog.version,
      firstSeen: isoTime(this.firstSeenUs),
      lastSeen: isoTime(this.lastSeenUs),
      packets: this.packets,
      bytes: this.bytes,
      evictedValues: this.evictedValues(),
    };
  }

  /** Values dropped from this device's capped sets. */
  evictedValues(): number {
    let evicted = 0;
    for (const value of Object.values(this)) {
      if (value instanceof CappedSet) evicted += value.evicted;
    }
    return evicted;
  }
}

function stringField(
  record: Record<string, unknown> | null,
  key: string,
): string[] {
  const value = record?.[key];
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** A numeric field of a protocol record, -1 when absent. */
function numberField(
  record: Record<string, unknown> | null,
  key: string,
): number {
  const value = record?.[key];
  return typeof value === 'number' ? value : -1;
}

function isoTime(timeUs: number): string {
  return new Date(Math.floor(timeUs / 1000)).toISOString();
}
