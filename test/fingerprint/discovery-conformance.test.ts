/**
 * Conformance of the discovery and naming extractors with tshark: real
 * public captures go through our reader and decoder, and each extractor's
 * fields must equal tshark's dissection of the same frames.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  concatBytes,
  dhcpMessage,
  dhcpOption,
  dnsName,
  ethernetFrame,
  ipv4Packet,
  ipv6Packet,
  parseIpv4,
  parseIpv6,
  parseMac,
  put16,
  tcpSegment,
  textBytes,
  udpDatagram,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';
import { CaptureFileReader } from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { DecodedPacket, Layer } from '../../src/decode/packet.js';
import { parseCdp } from '../../src/fingerprint/cdp.js';
import { parseDhcp } from '../../src/fingerprint/dhcp.js';
import { parseDhcpv6 } from '../../src/fingerprint/dhcpv6.js';
import {
  DnsType,
  MDNS_TXT_IDENTITY_KEYS,
  parseDns,
} from '../../src/fingerprint/dns.js';
import { parseHttpRequest } from '../../src/fingerprint/http-request.js';
import { parseLldp } from '../../src/fingerprint/lldp.js';
import { parseNbns } from '../../src/fingerprint/nbns.js';
import { parseSip } from '../../src/fingerprint/sip.js';
import { parseSsdp } from '../../src/fingerprint/ssdp.js';
import { parseWsDiscovery } from '../../src/fingerprint/ws-discovery.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

// Made by scripts/make-fixtures.ts: DHCP, LLDP, mDNS with DNS-SD records
// and TXT keys, SSDP; tshark still is the judge of its bytes.
const SAMPLE = 'generated/hospital-sample.pcap';

// Frames built below for cases no public capture covers (written at start).
const SYNTHETIC = join(
  mkdtempSync(join(tmpdir(), 'spansight-discovery-')),
  'synthetic-discovery.pcap',
);

// tshark joins several occurrences of a field with this; a control
// character no value here contains.
const AGG = '\u001f';

/** One protocol: the captures it is checked on and the fields compared. */
interface ProtocolCase {
  name: string;
  /** Token of tshark's frame.protocols that marks the protocol's frames. */
  tsharkProtocols: string[];
  fields: string[];
  captures: string[];
  /** Our values for `fields`, or null when we do not see the protocol. */
  ours: (frame: Frame) => Record<string, string> | null;
  /** Packets that must at least be compared (guards an empty run). */
  minPackets: number;
  /** Rewrites a tshark value before the comparison, where forms differ. */
  normalize?: (field: string, value: string) => string;
  /** Overrides the frame.protocols test of which frames are tshark's. */
  isTheirs?: (row: TsharkRow) => boolean;
  /**
   * Compare the n-th message of each TCP stream instead of frame by frame:
   * tshark reports a request on the segment that completes it, we on the
   * segment that starts it.
   */
  byTcpStream?: boolean;
}

interface Frame {
  buf: Uint8Array;
  off: number;
  end: number;
  linkType: number;
  pkt: DecodedPacket;
}

const CASES: ProtocolCase[] = [
  {
    name: 'DHCP',
    tsharkProtocols: ['dhcp'],
    fields: [
      'dhcp.option.dhcp',
      'dhcp.hw.mac_addr',
      'dhcp.ip.your',
      'dhcp.option.request_list_item',
      'dhcp.option.hostname',
      'dhcp.option.vendor_class_id',
      'dhcp.option.requested_ip_address',
      'dhcp.option.dhcp_server_id',
      'dhcp.option.router',
      'dhcp.fqdn.name',
      'dhcp.option.mudurl',
    ],
    captures: [
      'public/zeek/dhcp/dhcp.pcap',
      'public/zeek/dhcp/dhcp-unique-xid-join-data-growth.pcapng',
      'public/zeek/dhcp/dhcp_ack_subscriber_id_and_agent_remote_id.pcap',
      'public/zeek/dhcp/dhcp_bad_cookie_option_retention.pcap',
      'public/zeek/dhcp/dhcp_discover_param_req_and_client_id.pcap',
      'public/zeek/dhcp/dhcp_flood.pcap',
      'public/zeek/dhcp/dhcp_inform.pcap',
      'public/zeek/dhcp/dhcp_time_and_nameserver.pcap',
      'public/zeek/dhcp/hw-type0.pcap',
      'public/tcpdump/dhcp-mud.pcap',
      'public/tcpdump/dhcp-option-108.pcapng',
      'public/tcpdump/dhcp-option-33.pcap',
      'public/tcpdump/dhcp-rfc3004.pcap',
      'public/tcpdump/dhcp-rfc4388.pcap',
      'public/tcpdump/dhcp-rfc5859.pcap',
      'public/tcpdump/dhcpv4v6-rfc5970-rfc8572.pcap',
      'public/tcpdump/bootp_asan.pcap',
      'public/tcpdump/bootp_asan-2.pcap',
      'public/tcpdump/eapon1.pcap',
      'public/tcpdump/dcb_ets.pcap',
      'public/ja4/dhcp.pcapng',
      SAMPLE,
      SYNTHETIC,
    ],
    ours: (f) => {
      if (!isUdpPort(f.pkt, 67, 68)) return null;
      const info = parseDhcp(f.buf, f.pkt.payloadOff, payloadEnd(f));
      if (info === null) return null;
      const isEthernetChaddr =
        info.hwType === 1 && info.clientHwAddr.length === 17;
      return {
        'dhcp.option.dhcp': info.messageType < 0 ? '' : `${info.messageType}`,
        'dhcp.hw.mac_addr': isEthernetChaddr ? info.clientHwAddr : '',
        'dhcp.ip.your': info.yourAddress === '' ? '0.0.0.0' : info.yourAddress,
        'dhcp.option.request_list_item': info.parameterRequestList.join(AGG),
        'dhcp.option.hostname': escape(info.hostName),
        'dhcp.option.vendor_class_id': escape(info.vendorClass),
        'dhcp.option.requested_ip_address': info.requestedAddress,
        'dhcp.option.dhcp_server_id': info.serverId,
        'dhcp.option.router': info.routers.join(AGG),
        'dhcp.fqdn.name': escape(info.clientFqdn),
        'dhcp.option.mudurl': escape(info.mudUrl),
      };
    },
    minPackets: 600,
    // tshark also lists a client id's MAC under this field: keep chaddr's.
    normalize: (field, value) =>
      field === 'dhcp.hw.mac_addr' ? value.split(AGG)[0] : value,
  },
  {
    name: 'DHCPv6',
    tsharkProtocols: ['dhcpv6'],
    fields: [
      'dhcpv6.msgtype',
      'dhcpv6.vendorclass.enterprise',
      'dhcpv6.vendorclass.data',
      'dhcpv6.requested_option_code',
      'dhcpv6.iaaddr.ip',
      'dhcpv6.client_domain',
      'dhcpv6.mudurl',
    ],
    captures: [
      'public/ja4/dhcpv6.pcap',
      'public/tcpdump/dhcpv4v6-rfc5970-rfc8572.pcap',
      'public/tcpdump/dhcpv6-AFTR-Name-RFC6334.pcap',
      'public/tcpdump/dhcpv6-domain-list.pcap',
      'public/tcpdump/dhcpv6-ia-na.pcap',
      'public/tcpdump/dhcpv6-ia-pd.pcap',
      'public/tcpdump/dhcpv6-ia-ta.pcap',
      'public/tcpdump/dhcpv6-mud.pcap',
      'public/tcpdump/dhcpv6-ntp-server.pcap',
      'public/tcpdump/dhcpv6-rfc6355-duid-uuid.pcap',
      'public/tcpdump/dhcpv6-rfc8415-duid-type2.pcap',
      'public/tcpdump/dhcpv6-sip-server-d.pcap',
      'public/tcpdump/dhcpv6-vendor-specific-information.pcap',
      'public/tcpdump/dhcp6_reconf_asan.pcap',
      SYNTHETIC,
    ],
    ours: (f) => {
      if (!isUdpPort(f.pkt, 546, 547)) return null;
      const info = parseDhcpv6(f.buf, f.pkt.payloadOff, payloadEnd(f));
      if (info === null) return null;
      const outer = f.buf[f.pkt.payloadOff];
      const types = [...Array(info.relayHops).fill(outer), info.messageType];
      return {
        'dhcpv6.msgtype': types.join(AGG),
        'dhcpv6.vendorclass.enterprise':
          info.vendorClassEnterprise < 0 ? '' : `${info.vendorClassEnterprise}`,
        // tshark 4.0 dissects only the first vendor-class-data item.
        'dhcpv6.vendorclass.data': escape(info.vendorClass[0] ?? ''),
        'dhcpv6.requested_option_code': info.optionRequests.join(AGG),
        'dhcpv6.iaaddr.ip': info.addresses.join(AGG),
        'dhcpv6.client_domain': escape(info.fqdn),
        'dhcpv6.mudurl': escape(info.mudUrl),
      };
    },
    minPackets: 40,
    // tshark ends a fully qualified name with a dot; names here never do.
    normalize: (field, value) =>
      field === 'dhcpv6.client_domain' ? value.replace(/\.$/, '') : value,
  },
  {
    name: 'HTTP requests',
    tsharkProtocols: ['http'],
    fields: ['http.request.method', 'http.host', 'http.user_agent'],
    captures: [
      'public/ja4/http-empty-useragent.pcap',
      'public/ja4/http1-with-cookies.pcapng',
      'public/ja4/http1.pcapng',
      'public/ja4/single-packets.pcap',
      'public/ja4/latest.pcapng',
      'public/tcpdump/ipv4_tcp_http_xml.pcap',
      'public/zeek/http-vlan-0.pcap',
      'public/zeek/tls/ocsp-http-get.pcap',
      SYNTHETIC,
    ],
    ours: (f) => {
      if ((f.pkt.layers & Layer.Tcp) === 0 || f.pkt.payloadBytes === 0) {
        return null;
      }
      const info = parseHttpRequest(f.buf, f.pkt.payloadOff, payloadEnd(f));
      if (info === null) return null;
      return {
        'http.request.method': info.method,
        'http.host': escape(info.host),
        'http.user_agent': escape(info.userAgent),
      };
    },
    minPackets: 50,
    isTheirs: (row) => row.values['http.request.method'] !== '',
    byTcpStream: true,
  },
  {
    name: 'SIP',
    tsharkProtocols: ['sip'],
    fields: [
      'sip.Method',
      'sip.Status-Code',
      'sip.CSeq.method',
      'sip.User-Agent',
      'sip.Server',
      'sip.Via.sent-by.address',
    ],
    captures: ['public/generated-sip/sip-baresip-kamailio.pcap', SYNTHETIC],
    ours: (f) => {
      const isSip = f.pkt.srcPort === 5060 || f.pkt.dstPort === 5060;
      if (!isSip || f.pkt.payloadOff < 0) return null;
      const info = parseSip(f.buf, f.pkt.payloadOff, payloadEnd(f));
      if (info === null) return null;
      return {
        'sip.Method': info.method,
        'sip.Status-Code': info.statusCode < 0 ? '' : `${info.statusCode}`,
        'sip.CSeq.method': info.cseqMethod,
        'sip.User-Agent': escape(info.userAgent),
        'sip.Server': escape(info.server),
        // Compared by count: one sent-by address per Via entry.
        'sip.Via.sent-by.address': `${info.viaCount}`,
      };
    },
    minPackets: 27,
    normalize: (field, value) =>
      field === 'sip.Via.sent-by.address'
        ? `${value === '' ? 0 : value.split(AGG).length}`
        : value,
  },
  {
    name: 'SSDP',
    tsharkProtocols: ['ssdp'],
    fields: [
      'http.request.method',
      'http.response.code',
      'http.user_agent',
      'http.server',
      'http.location',
      'http.unknown_header',
    ],
    captures: [
      'public/tcpdump/eapon1.pcap',
      'public/ja4/latest.pcapng',
      SAMPLE,
      SYNTHETIC,
    ],
    ours: (f) => {
      if (!isUdpPort(f.pkt, 1900, 1900)) return null;
      const info = parseSsdp(f.buf, f.pkt.payloadOff, payloadEnd(f));
      if (info === null) return null;
      return {
        'http.request.method': info.method,
        'http.response.code': info.statusCode < 0 ? '' : `${info.statusCode}`,
        'http.user_agent': escape(info.userAgent),
        'http.server': escape(info.server),
        'http.location': escape(info.location),
        // tshark lists unknown headers of requests only.
        'http.unknown_header': ssdpHeaders(
          info.statusCode >= 0
            ? []
            : [
                ['NT', info.notificationType],
                ['NTS', info.notificationSubtype],
                ['USN', info.usn],
              ],
        ),
      };
    },
    minPackets: 6,
    // tshark has no fields for NT, NTS and USN: it lists them as unknown
    // headers (`NT: value\r\n`); compare those three.
    normalize: (field, value) =>
      field === 'http.unknown_header'
        ? ssdpHeaders(
            value.split(AGG).map((header): [string, string] => {
              const colon = header.indexOf(':');
              return [
                header.slice(0, colon).toUpperCase(),
                header
                  .slice(colon + 1)
                  .replace(/\\r\\n$/, '')
                  .trim(),
              ];
            }),
          )
        : value,
  },
  {
    name: 'LLDP',
    tsharkProtocols: ['lldp'],
    fields: [
      'lldp.chassis.id.mac',
      'lldp.chassis.id',
      'lldp.port.id',
      'lldp.port.desc',
      'lldp.tlv.system.name',
      'lldp.tlv.system.desc',
      'lldp.mgn.addr.ip4',
      'lldp.mgn.addr.ip6',
      'lldp.iana.mudurl',
      'lldp.media.manufacturer',
      'lldp.media.model',
      'lldp.media.hardware',
      'lldp.media.firmware',
      'lldp.media.software',
      'lldp.media.sn',
      'lldp.media.asset',
      'lldp.media.subtype.class',
      'lldp.chassis.id.ip4',
      'lldp.port.id.mac',
      'lldp.tlv.system_cap',
      'lldp.tlv.enable_system_cap',
    ],
    captures: [
      'public/zeek/lldp.pcap',
      'public/tcpdump/LLDP_and_CDP.pcap',
      'public/tcpdump/lldp_mudurl.pcap',
      'public/tcpdump/lldp-infinite-loop-1.pcap',
      'public/tcpdump/lldp-infinite-loop-2.pcap',
      'public/tcpdump/lldp_asan.pcap',
      'public/tcpdump/lldp_mgmt_addr_tlv_asan.pcap',
      'public/tcpdump/lldp_8021_linkagg.pcap',
      'public/tcpdump/lldp-app-priority.pcap',
      'public/tcpdump/lldp_8023_mtu-oobr.pcap',
      'public/tcpdump/dcb_ets.pcap',
      'public/tcpdump/dcb_pfc.pcap',
      'public/tcpdump/dcb_qcn.pcap',
      'public/tcpdump/evb.pcap',
      SAMPLE,
      SYNTHETIC,
    ],
    ours: (f) => {
      if (f.pkt.etherType !== 0x88cc || f.linkType !== LinkType.Ethernet) {
        return null;
      }
      const info = parseLldp(f.buf, l2PayloadOff(f), f.end);
      if (info === null) return null;
      const isMac = info.chassisIdSubtype === 4 && info.chassisId.length === 17;
      const isTextPort = [1, 2, 5, 7].includes(info.portIdSubtype);
      const isTextChassis = [1, 2, 3, 6, 7].includes(info.chassisIdSubtype);
      return {
        'lldp.chassis.id.mac': isMac ? info.chassisId : '',
        'lldp.chassis.id': isTextChassis ? chassisText(info) : '',
        'lldp.port.id': isTextPort ? escape(info.portId) : '',
        'lldp.port.desc': escape(info.portDescription),
        'lldp.tlv.system.name': escape(info.systemName),
        'lldp.tlv.system.desc': escape(info.systemDescription),
        'lldp.mgn.addr.ip4': info.managementAddresses
          .filter((a) => !a.includes(':') && a.includes('.'))
          .join(AGG),
        'lldp.mgn.addr.ip6': info.managementAddresses
          .filter((a) => a.includes(':'))
          .join(AGG),
        'lldp.iana.mudurl': escape(info.mudUrl),
        'lldp.media.manufacturer': escape(info.med.manufacturer),
        'lldp.media.model': escape(info.med.modelName),
        'lldp.media.hardware': escape(info.med.hardwareRevision),
        'lldp.media.firmware': escape(info.med.firmwareRevision),
        'lldp.media.software': escape(info.med.softwareRevision),
        'lldp.media.sn': escape(info.med.serialNumber),
        'lldp.media.asset': escape(info.med.assetId),
        'lldp.media.subtype.class':
          info.med.deviceClass < 0 ? '' : `${info.med.deviceClass}`,
        'lldp.chassis.id.ip4':
          info.chassisIdSubtype === 5 && !info.chassisId.includes(':')
            ? info.chassisId
            : '',
        'lldp.port.id.mac': info.portIdSubtype === 3 ? info.portId : '',
        'lldp.tlv.system_cap': hex16(info.capabilitiesSupported),
        'lldp.tlv.enable_system_cap': hex16(info.capabilitiesEnabled),
      };
    },
    minPackets: 50,
  },
  {
    name: 'CDP',
    tsharkProtocols: ['cdp'],
    fields: [
      'cdp.deviceid',
      'cdp.platform',
      'cdp.software_version',
      'cdp.portid',
      'cdp.capabilities',
    ],
    captures: [
      'public/zeek/cdp-v1.pcap',
      'public/tcpdump/3560_CDP.pcap',
      'public/tcpdump/LLDP_and_CDP.pcap',
      SYNTHETIC,
    ],
    ours: (f) => {
      if (f.pkt.etherType >= 0x0600 || f.linkType !== LinkType.Ethernet) {
        return null;
      }
      const info = parseCdp(f.buf, l2PayloadOff(f), f.end);
      if (info === null) return null;
      return {
        'cdp.deviceid': escape(info.deviceId),
        'cdp.platform': escape(info.platform),
        // tshark lists each line of the version as its own item.
        'cdp.software_version': info.softwareVersion
          .split('\n')
          .map(escape)
          .join(AGG),
        'cdp.portid': escape(info.portId),
        'cdp.capabilities':
          info.capabilities < 0
            ? ''
            : `0x${info.capabilities.toString(16).padStart(8, '0')}`,
      };
    },
    minPackets: 8,
  },
  {
    name: 'NBNS',
    tsharkProtocols: ['nbns'],
    fields: ['nbns.name', 'nbns.addr', 'nbns.netbios_name', 'nbns.unit_id'],
    captures: [
      'public/tcpdump/eapon1.pcap',
      'public/tcpdump/nbns-valgrind.pcap',
      'public/ja4/latest.pcapng',
      SYNTHETIC,
    ],
    ours: (f) => {
      if (!isUdpPort(f.pkt, 137, 137)) return null;
      const info = parseNbns(f.buf, f.pkt.payloadOff, payloadEnd(f));
      if (info === null) return null;
      return {
        'nbns.name': info.fullName,
        'nbns.addr': info.addresses.join(AGG),
        'nbns.netbios_name': info.nodeNames.map((n) => n.name).join(AGG),
        'nbns.unit_id': info.unitId,
      };
    },
    minPackets: 35,
    // tshark lists the question's name, then each record's with its type
    // spelled out: compare the first, which names the packet's subject.
    normalize: (field, value) =>
      field === 'nbns.name'
        ? value.split(AGG)[0].replace(/ \([^)]*\)$/, '')
        : value,
  },
  {
    name: 'DNS/mDNS/LLMNR',
    tsharkProtocols: ['dns', 'mdns', 'llmnr'],
    fields: [
      'dns.qry.name',
      'dns.resp.name',
      'dns.resp.type',
      'dns.a',
      'dns.aaaa',
      'dns.ptr.domain_name',
      'dns.srv.target',
      'dns.srv.port',
      'dns.srv.service',
      'dns.txt',
    ],
    captures: [
      'public/zeek/dns/mdns.pcap',
      'public/zeek/dns/mdns-no-assoc.pcap',
      'public/tcpdump/dns_udp.pcap',
      'public/tcpdump/dns_udp_2.pcap',
      'public/tcpdump/dns-zlip-1.pcap',
      'public/tcpdump/dns-zlip-2.pcap',
      'public/tcpdump/dns-zlip-3.pcap',
      'public/tcpdump/dnssec.pcap',
      'public/tcpdump/edns-opts.pcap',
      'public/tcpdump/dns-uri.pcap',
      'public/tcpdump/dns-badvers.pcap',
      'public/tcpdump/dns-badcookie.pcap',
      SAMPLE,
      SYNTHETIC,
    ],
    ours: (f) => {
      if (!isUdpPort(f.pkt, 53, 53) && !isUdpPort(f.pkt, 5353, 5353)) {
        if (!isUdpPort(f.pkt, 5355, 5355)) return null;
      }
      const msg = parseDns(f.buf, f.pkt.payloadOff, payloadEnd(f));
      if (msg === null) return null;
      const of = (type: number) => msg.records.filter((r) => r.type === type);
      return {
        'dns.qry.name': msg.questions.map((q) => rootName(q.name)).join(AGG),
        // tshark splits an SRV owner into service, protocol and name.
        'dns.resp.name': msg.records
          .filter((r) => r.type !== DnsType.Srv)
          .map((r) => rootName(r.name))
          .join(AGG),
        'dns.srv.service': of(DnsType.Srv)
          .map((r) => r.name.split('.')[0])
          .join(AGG),
        'dns.resp.type': msg.records.map((r) => r.type).join(AGG),
        'dns.a': of(DnsType.A)
          .map((r) => r.data)
          .join(AGG),
        'dns.aaaa': of(DnsType.Aaaa)
          .map((r) => r.data)
          .join(AGG),
        'dns.ptr.domain_name': of(DnsType.Ptr)
          .map((r) => rootName(r.data))
          .join(AGG),
        'dns.srv.target': of(DnsType.Srv)
          .map((r) => rootName(r.data))
          .join(AGG),
        'dns.srv.port': of(DnsType.Srv)
          .map((r) => r.srvPort)
          .join(AGG),
        'dns.txt': of(DnsType.Txt)
          .flatMap((r) => r.txt)
          .map(escape)
          .join(AGG),
      };
    },
    minPackets: 40,
    // We keep only TXT strings whose key names a make or model.
    normalize: (field, value) =>
      field === 'dns.txt'
        ? value
            .split(AGG)
            .filter((entry) => isIdentityTxt(entry))
            .join(AGG)
        : value,
  },
];

interface TsharkRow {
  protocols: string;
  tcpStream: string;
  values: Record<string, string>;
}

interface MessagePair {
  label: string;
  row: TsharkRow | undefined;
  isTheirs: boolean;
  mine: Record<string, string> | null;
}

/** The messages to compare: frame by frame, or in order per TCP stream. */
function pairMessages(
  pc: ProtocolCase,
  theirs: TsharkRow[],
  ours: Array<Record<string, string> | null>,
): MessagePair[] {
  const isTheirsRow = (row: TsharkRow | undefined): boolean =>
    row !== undefined &&
    isProtocolFrame(row.protocols, pc) &&
    (pc.isTheirs === undefined || pc.isTheirs(row));
  const frameCount = Math.max(theirs.length, ours.length);
  const pairs: MessagePair[] = [];

  if (pc.byTcpStream !== true) {
    for (let i = 0; i < frameCount; i++) {
      const isTheirs = isTheirsRow(theirs[i]);
      const mine = ours[i] ?? null;
      if (!isTheirs && mine === null) continue;
      pairs.push({ label: `#${i + 1}`, row: theirs[i], isTheirs, mine });
    }
    return pairs;
  }

  const streams = new Map<string, { rows: number[]; mine: number[] }>();
  const streamOf = (key: string) => {
    let entry = streams.get(key);
    if (entry === undefined) streams.set(key, (entry = { rows: [], mine: [] }));
    return entry;
  };
  for (let i = 0; i < frameCount; i++) {
    const key = theirs[i]?.tcpStream ?? '';
    if (isTheirsRow(theirs[i])) streamOf(key).rows.push(i);
    if (ours[i] != null) streamOf(key).mine.push(i);
  }
  for (const [key, entry] of streams) {
    const count = Math.max(entry.rows.length, entry.mine.length);
    for (let n = 0; n < count; n++) {
      const rowIndex = entry.rows[n];
      const mineIndex = entry.mine[n];
      pairs.push({
        label: `stream ${key} message ${n + 1}`,
        row: rowIndex === undefined ? undefined : theirs[rowIndex],
        isTheirs: rowIndex !== undefined,
        mine: mineIndex === undefined ? null : ours[mineIndex],
      });
    }
  }
  return pairs;
}

function runTshark(path: string, fields: string[]): TsharkRow[] {
  const args = ['-r', path, '-T', 'fields', '-E', 'separator=/t'];
  args.push('-E', 'occurrence=a', '-E', `aggregator=${AGG}`, '-E', 'quote=n');
  const columns = ['frame.number', 'frame.protocols', 'tcp.stream'];
  for (const field of [...columns, ...fields]) {
    args.push('-e', field);
  }
  const result = spawnSync('tshark', args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`tshark failed on ${path}: ${result.stderr}`);
  }
  const rows: TsharkRow[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line === '') continue;
    const cells = line.split('\t');
    const values: Record<string, string> = {};
    fields.forEach((field, i) => (values[field] = cells[i + 3] ?? ''));
    rows[Number(cells[0]) - 1] = {
      protocols: cells[1],
      tcpStream: cells[2],
      values,
    };
  }
  return rows;
}

function readOurs(
  path: string,
  extract: ProtocolCase['ours'],
): Array<Record<string, string> | null> {
  const out: Array<Record<string, string> | null> = [];
  const pkt = new DecodedPacket();
  const reader = CaptureFileReader.open(path);
  const sink = {
    onFrame(
      buf: Uint8Array,
      off: number,
      capturedBytes: number,
      wireBytes: number,
      _timeUs: number,
      linkType: number,
    ): void {
      decodeFrame(buf, off, capturedBytes, wireBytes, linkType, pkt);
      const end = off + capturedBytes;
      out.push(extract({ buf, off, end, linkType, pkt }));
    },
  };
  try {
    while (reader.readBatch(sink, 1024) > 0);
  } catch {
    // A damaged file ends early; the frames before the damage count.
  } finally {
    reader.close();
  }
  return out;
}

/**
 * A frame is the protocol's in tshark's view when the protocol appears in
 * its stack, not behind ICMP (which quotes headers of other packets).
 */
function isProtocolFrame(protocols: string, pc: ProtocolCase): boolean {
  const stack = protocols.split(':');
  if (stack.includes('icmp') || stack.includes('icmpv6')) return false;
  return pc.tsharkProtocols.some((p) => stack.includes(p));
}

function diffFields(
  pc: ProtocolCase,
  row: TsharkRow | undefined,
  isTheirs: boolean,
  mine: Record<string, string> | null,
): string[] {
  if (mine !== null && !isTheirs) {
    return ['we parse a frame tshark does not dissect as this'];
  }
  // A packet too short or too damaged for us counts as equal only when
  // tshark found none of the fields either.
  const diffs: string[] = [];
  for (const field of pc.fields) {
    const raw = row?.values[field] ?? '';
    const theirs = pc.normalize === undefined ? raw : pc.normalize(field, raw);
    const ours = mine?.[field] ?? '';
    if (theirs !== ours) {
      diffs.push(`${field}: tshark ${show(theirs)} ours ${show(ours)}`);
    }
  }
  return diffs;
}

function show(value: string): string {
  return JSON.stringify(value.split(AGG).join(' | '));
}

/** tshark's text form of a string field: control characters escaped. */
function escape(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
}

/** `NAME=value` of the NT, NTS and USN headers present, sorted. */
function ssdpHeaders(headers: Array<[string, string]>): string {
  return headers
    .filter(([name, value]) => SSDP_HEADERS.includes(name) && value !== '')
    .map(([name, value]) => `${name}=${value}`)
    .sort()
    .join(AGG);
}

const SSDP_HEADERS = ['NT', 'NTS', 'USN'];

function isIdentityTxt(entry: string): boolean {
  const eq = entry.indexOf('=');
  const key = eq < 0 ? entry : entry.slice(0, eq);
  return MDNS_TXT_IDENTITY_KEYS.has(key.toLowerCase());
}

/** tshark prints a locally assigned chassis id (subtype 7) as hex. */
function chassisText(info: { chassisIdSubtype: number; chassisId: string }) {
  if (info.chassisIdSubtype !== 7) return escape(info.chassisId);
  return Buffer.from(info.chassisId, 'utf8').toString('hex');
}

function hex16(value: number): string {
  return value < 0 ? '' : `0x${value.toString(16).padStart(4, '0')}`;
}

function rootName(name: string): string {
  return name === '' ? '<Root>' : name;
}

function isUdpPort(pkt: DecodedPacket, a: number, b: number): boolean {
  if ((pkt.layers & Layer.Udp) === 0 || pkt.payloadOff < 0) return false;
  return (
    pkt.srcPort === a ||
    pkt.dstPort === a ||
    pkt.srcPort === b ||
    pkt.dstPort === b
  );
}

function payloadEnd(f: Frame): number {
  return f.pkt.payloadOff + f.pkt.payloadBytes;
}

/** After the Ethernet header and its VLAN tags: LLDPDU or LLC header. */
function l2PayloadOff(f: Frame): number {
  return f.off + 14 + 4 * f.pkt.vlanCount;
}

// ---------------------------------------------------------------------------
// Synthetic frames for what the public captures lack: DHCP FQDN and option
// overload, BOOTP, DHCPv6 relays and IA addresses, LLDP-MED inventory and
// text ids, an SSDP search reply, NBNS registration and node status, mDNS
// with compression, LLMNR, CDP addresses. Written to a temporary pcap and
// judged by tshark like the public ones. Addresses are documentation
// ranges; names are SYNTH-*.

const CLIENT_MAC = '00:00:5e:00:53:21';
const SERVER_MAC = '00:00:5e:00:53:01';

function writeSyntheticCapture(path: string): void {
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  let second = 1_700_000_000;
  for (const frame of syntheticFrames()) writer.writeFrame(frame, second++, 0);
  writer.close();
}

function syntheticFrames(): Uint8Array[] {
  return [
    ...syntheticDhcp(),
    ...syntheticDhcpv6(),
    ...syntheticLldp(),
    syntheticCdp(),
    ...syntheticNbns(),
    syntheticMdns(),
    udp4('10.0.0.20', '224.0.0.252', 5355, 5355, llmnrQuery()),
    udp4('10.0.0.9', '10.0.0.20', 1900, 50000, textBytes(SSDP_REPLY)),
    tcp4('10.0.0.20', '10.0.0.9', 50001, 80, textBytes(HTTP_GET)),
    ...SIP_MESSAGES.map(([transport, text]) =>
      transport === 'udp'
        ? udp4('10.0.0.20', '10.0.0.9', 5060, 5060, textBytes(text))
        : tcp4('10.0.0.20', '10.0.0.9', 50002, 5060, textBytes(text)),
    ),
    ...WSD_MESSAGES.map((xml) =>
      udp4('10.0.0.10', '239.255.255.250', 3702, 3702, textBytes(xml)),
    ),
  ];
}

function udp4(
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
): Uint8Array {
  const ip = ipv4Packet(
    { src, dst, protocol: 17 },
    udpDatagram({ srcPort, dstPort }, payload),
  );
  return ethernetFrame(
    { dst: SERVER_MAC, src: CLIENT_MAC, etherType: 0x0800 },
    ip,
  );
}

function udp6(
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
): Uint8Array {
  const ip = ipv6Packet(
    { src, dst, nextHeader: 17 },
    udpDatagram({ srcPort, dstPort }, payload),
  );
  return ethernetFrame(
    { dst: '33:33:00:01:00:02', src: CLIENT_MAC, etherType: 0x86dd },
    ip,
  );
}

function tcp4(
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
): Uint8Array {
  const ip = ipv4Packet(
    { src, dst, protocol: 6 },
    tcpSegment({ srcPort, dstPort, seq: 1, ack: 1, flags: 0x18 }, payload),
  );
  return ethernetFrame(
    { dst: SERVER_MAC, src: CLIENT_MAC, etherType: 0x0800 },
    ip,
  );
}

function syntheticDhcp(): Uint8Array[] {
  const request = dhcpMessage({
    op: 1,
    xid: 0x1234,
    clientMac: CLIENT_MAC,
    options: [
      dhcpOption(53, Uint8Array.of(3)),
      dhcpOption(61, concatBytes(Uint8Array.of(1), parseMac(CLIENT_MAC))),
      dhcpOption(50, parseIpv4('10.0.0.20')),
      dhcpOption(12, textBytes('SYNTH-PUMP-07')),
      // Flags S and E: the name is in DNS wire form (RFC 4702 2.3.1).
      dhcpOption(
        81,
        concatBytes(Uint8Array.of(0x05, 0, 0), dnsName('pump7.example.org')),
      ),
      dhcpOption(60, textBytes('SYNTH-VENDOR 1.0')),
      dhcpOption(55, Uint8Array.of(1, 3, 6, 15, 119, 252)),
    ],
  });

  // Option 52 = 1: the file field holds more options (vendor class here).
  const inform = dhcpMessage({
    op: 1,
    xid: 0x5678,
    clientMac: CLIENT_MAC,
    ciaddr: '10.0.0.21',
    options: [
      dhcpOption(53, Uint8Array.of(8)),
      dhcpOption(52, Uint8Array.of(1)),
      dhcpOption(81, concatBytes(Uint8Array.of(0, 0, 0), textBytes('ws21'))),
      dhcpOption(55, Uint8Array.of(1, 15, 3, 6, 44, 46, 47, 31, 33, 249, 43)),
    ],
  });
  inform.set(
    concatBytes(
      Uint8Array.of(60, 9),
      textBytes('MSFT 5.0X'),
      Uint8Array.of(255),
    ),
    108,
  );

  const ack = dhcpMessage({
    op: 2,
    xid: 0x1234,
    clientMac: CLIENT_MAC,
    yiaddr: '10.0.0.20',
    options: [
      dhcpOption(53, Uint8Array.of(5)),
      dhcpOption(54, parseIpv4('10.0.0.1')),
      dhcpOption(1, parseIpv4('255.255.255.0')),
      dhcpOption(
        3,
        concatBytes(parseIpv4('10.0.0.1'), parseIpv4('10.0.0.254')),
      ),
      dhcpOption(51, Uint8Array.of(0, 0, 0x0e, 0x10)),
    ],
  });

  // Plain BOOTP: a vendor area without the magic cookie.
  const bootp = dhcpMessage({
    op: 2,
    xid: 9,
    clientMac: CLIENT_MAC,
    options: [],
  });
  bootp.fill(0, 236);
  bootp.set(parseIpv4('10.0.0.30'), 16);

  return [
    udp4('0.0.0.0', '255.255.255.255', 68, 67, request),
    udp4('10.0.0.21', '10.0.0.1', 68, 67, inform),
    udp4('10.0.0.1', '10.0.0.20', 67, 68, ack),
    udp4('10.0.0.1', '10.0.0.30', 67, 68, bootp),
  ];
}

function v6Option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  put16(out, 0, code);
  put16(out, 2, value.length);
  out.set(value, 4);
  return out;
}

function syntheticDhcpv6(): Uint8Array[] {
  // DUID-LLT: type 1, hardware type 1, time, MAC.
  const duidLlt = concatBytes(
    Uint8Array.of(0, 1, 0, 1, 0x2c, 0x3d, 0x4e, 0x5f),
    parseMac(CLIENT_MAC),
  );
  const duidLl = concatBytes(Uint8Array.of(0, 3, 0, 1), parseMac(SERVER_MAC));
  const vendorClass = concatBytes(
    Uint8Array.of(0, 0, 0x7e, 0xd9),
    Uint8Array.of(0, 10),
    textBytes('SYNTH-VC-A'),
    Uint8Array.of(0, 10),
    textBytes('SYNTH-VC-B'),
  );
  const solicit = concatBytes(
    Uint8Array.of(1, 0xaa, 0xbb, 0xcc),
    v6Option(1, duidLlt),
    v6Option(6, Uint8Array.of(0, 23, 0, 24, 0, 39)),
    v6Option(8, Uint8Array.of(0, 0)),
    v6Option(16, vendorClass),
    v6Option(39, concatBytes(Uint8Array.of(1), dnsName('mon1.example.org'))),
  );
  const relayed = concatBytes(
    Uint8Array.of(12, 0),
    parseIpv6('2001:db8:1::1'),
    parseIpv6('fe80::200:5eff:fe00:5321'),
    v6Option(9, solicit),
  );
  const iaAddr = v6Option(
    5,
    concatBytes(parseIpv6('2001:db8:1::15'), new Uint8Array(8)),
  );
  const iaPrefix = v6Option(
    26,
    concatBytes(
      new Uint8Array(8),
      Uint8Array.of(56),
      parseIpv6('2001:db8:ff00::'),
    ),
  );
  const reply = concatBytes(
    Uint8Array.of(7, 0xaa, 0xbb, 0xcc),
    v6Option(1, duidLlt),
    v6Option(2, duidLl),
    v6Option(3, concatBytes(new Uint8Array(12), iaAddr)),
    v6Option(25, concatBytes(new Uint8Array(12), iaPrefix)),
  );
  return [
    udp6('fe80::200:5eff:fe00:5321', 'ff02::1:2', 546, 547, solicit),
    udp6('2001:db8:1::1', '2001:db8::547', 547, 547, relayed),
    udp6('fe80::1', 'fe80::200:5eff:fe00:5321', 547, 546, reply),
  ];
}

function lldpTlv(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + value.length);
  put16(out, 0, (type << 9) | value.length);
  out.set(value, 2);
  return out;
}

function syntheticLldp(): Uint8Array[] {
  const tia = (subtype: number, text: string) =>
    lldpTlv(
      127,
      concatBytes(Uint8Array.of(0x00, 0x12, 0xbb, subtype), textBytes(text)),
    );
  const endpoint = concatBytes(
    lldpTlv(1, concatBytes(Uint8Array.of(7), textBytes('SYNTH-CHASSIS-9'))),
    lldpTlv(2, concatBytes(Uint8Array.of(7), textBytes('port-7'))),
    lldpTlv(3, Uint8Array.of(0, 120)),
    lldpTlv(5, textBytes('SYNTH-MON-09')),
    lldpTlv(6, textBytes('Synthetic monitor\nfirmware 9.1')),
    lldpTlv(7, Uint8Array.of(0, 0x20, 0, 0x20)),
    lldpTlv(
      8,
      concatBytes(
        Uint8Array.of(17, 2),
        parseIpv6('2001:db8::9'),
        Uint8Array.of(2, 0, 0, 0, 3, 0),
      ),
    ),
    lldpTlv(127, Uint8Array.of(0x00, 0x12, 0xbb, 1, 0x00, 0x33, 3)),
    tia(5, 'HW-1.2'),
    tia(6, 'FW-9.1'),
    tia(7, 'SW-9.1.4'),
    tia(8, 'SN-0001'),
    tia(9, 'SYNTH-MEDICAL'),
    tia(10, 'SYNTH-MONITOR-9'),
    tia(11, 'ASSET-42'),
    lldpTlv(
      127,
      concatBytes(
        Uint8Array.of(0x00, 0x00, 0x5e, 1),
        textBytes('https://mud.example.com/synth-monitor-9.json'),
      ),
    ),
    lldpTlv(0, new Uint8Array(0)),
  );
  const bridge = concatBytes(
    lldpTlv(1, concatBytes(Uint8Array.of(5, 1), parseIpv4('10.0.0.2'))),
    lldpTlv(2, concatBytes(Uint8Array.of(3), parseMac(SERVER_MAC))),
    lldpTlv(3, Uint8Array.of(0, 120)),
    lldpTlv(4, textBytes('uplink')),
    lldpTlv(0, new Uint8Array(0)),
  );
  return [endpoint, bridge].map((pdu) =>
    ethernetFrame(
      {
        dst: '01:80:c2:00:00:0e',
        src: CLIENT_MAC,
        etherType: 0x88cc,
        tags: [{ vid: 20 }],
      },
      pdu,
    ),
  );
}

function cdpTlv(type: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  put16(out, 0, type);
  put16(out, 2, out.length);
  out.set(value, 4);
  return out;
}

function syntheticCdp(): Uint8Array {
  const addresses = concatBytes(
    Uint8Array.of(0, 0, 0, 2),
    Uint8Array.of(1, 1, 0xcc, 0, 4),
    parseIpv4('10.0.0.2'),
    Uint8Array.of(2, 8, 0xaa, 0xaa, 3, 0, 0, 0, 0x86, 0xdd, 0, 16),
    parseIpv6('2001:db8::2'),
  );
  const cdp = concatBytes(
    Uint8Array.of(2, 180, 0, 0),
    cdpTlv(1, textBytes('SYNTH-SW-02.example.org')),
    cdpTlv(2, addresses),
    cdpTlv(3, textBytes('GigabitEthernet1/0/7')),
    cdpTlv(4, Uint8Array.of(0, 0, 0, 0x28)),
    cdpTlv(5, textBytes('Synthetic IOS\nVersion 1.0\nCompiled by nobody')),
    cdpTlv(6, textBytes('SYNTH WS-9000')),
    cdpTlv(10, Uint8Array.of(0, 10)),
  );
  const llc = concatBytes(
    Uint8Array.of(0xaa, 0xaa, 3, 0, 0, 0x0c, 0x20, 0),
    cdp,
  );
  const frame = new Uint8Array(Math.max(60, 14 + llc.length));
  frame.set(parseMac('01:00:0c:cc:cc:cc'), 0);
  frame.set(parseMac(SERVER_MAC), 6);
  put16(frame, 12, llc.length);
  frame.set(llc, 14);
  return frame;
}

/** RFC 1001 first-level encoding of a 15-character name and suffix. */
function netbiosName(name: string, suffix: number): Uint8Array {
  const raw = new Uint8Array(16).fill(0x20);
  raw.set(textBytes(name), 0);
  raw[15] = suffix;
  const out = new Uint8Array(34);
  out[0] = 32;
  for (let i = 0; i < 16; i++) {
    out[1 + 2 * i] = 0x41 + (raw[i] >> 4);
    out[2 + 2 * i] = 0x41 + (raw[i] & 15);
  }
  return out;
}

function syntheticNbns(): Uint8Array[] {
  const registration = concatBytes(
    Uint8Array.of(0x80, 0x01, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1),
    netbiosName('SYNTH-WS-01', 0x00),
    Uint8Array.of(0, 0x20, 0, 1),
    Uint8Array.of(0xc0, 0x0c, 0, 0x20, 0, 1, 0, 4, 0x93, 0xe0, 0, 6, 0, 0),
    parseIpv4('10.0.0.20'),
  );
  const wildcard = new Uint8Array(34);
  wildcard[0] = 32;
  for (let i = 0; i < 16; i++) {
    const b = i === 0 ? 0x2a : 0;
    wildcard[1 + 2 * i] = 0x41 + (b >> 4);
    wildcard[2 + 2 * i] = 0x41 + (b & 15);
  }
  const entry = (name: string, suffix: number, flags: number) => {
    const out = new Uint8Array(18).fill(0x20);
    out.set(textBytes(name), 0);
    out[15] = suffix;
    put16(out, 16, flags);
    return out;
  };
  const rdata = concatBytes(
    Uint8Array.of(2),
    entry('SYNTH-WS-01', 0x00, 0x0400),
    entry('WORKGROUP', 0x00, 0x8400),
    parseMac(CLIENT_MAC),
    new Uint8Array(40),
  );
  const rdHeader = new Uint8Array(10);
  put16(rdHeader, 0, 0x21);
  put16(rdHeader, 2, 1);
  put16(rdHeader, 8, rdata.length);
  const nodeStatus = concatBytes(
    Uint8Array.of(0x80, 0x02, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0),
    wildcard,
    rdHeader,
    rdata,
  );
  return [
    udp4('10.0.0.20', '10.0.0.255', 137, 137, registration),
    udp4('10.0.0.20', '10.0.0.9', 137, 137, nodeStatus),
  ];
}

/** A DNS writer that compresses names against earlier suffixes. */
class DnsWriter {
  bytes: number[] = [];
  private offsets = new Map<string, number>();

  u16(value: number): void {
    this.bytes.push(value >> 8, value & 255);
  }

  name(name: string): void {
    const labels = name.split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const seen = this.offsets.get(suffix);
      if (seen !== undefined) {
        this.u16(0xc000 | seen);
        return;
      }
      this.offsets.set(suffix, this.bytes.length);
      const label = textBytes(labels[i]);
      this.bytes.push(label.length, ...label);
    }
    this.bytes.push(0);
  }

  record(name: string, type: number, rawClass: number, data: () => void) {
    this.name(name);
    this.u16(type);
    this.u16(rawClass);
    this.u16(0);
    this.u16(120);
    const lengthAt = this.bytes.length;
    this.u16(0);
    data();
    const dataBytes = this.bytes.length - lengthAt - 2;
    this.bytes[lengthAt] = dataBytes >> 8;
    this.bytes[lengthAt + 1] = dataBytes & 255;
  }
}

function syntheticMdns(): Uint8Array {
  const w = new DnsWriter();
  w.bytes.push(0, 0, 0x84, 0, 0, 0, 0, 6, 0, 0, 0, 0);
  const instance = 'SYNTH Printer 2._ipp._tcp.local';
  const host = 'synth-prn-02.local';
  w.record('_services._dns-sd._udp.local', 12, 1, () =>
    w.name('_ipp._tcp.local'),
  );
  w.record('_ipp._tcp.local', 12, 1, () => w.name(instance));
  w.record(instance, 33, 0x8001, () => {
    w.u16(0);
    w.u16(0);
    w.u16(631);
    w.name(host);
  });
  w.record(instance, 16, 0x8001, () => {
    for (const entry of [
      'txtvers=1',
      'ty=SYNTH Laser 9000',
      'usb_MFG=SYNTH',
      'usb_MDL=Laser 9000',
      'note=room 3',
    ]) {
      const bytes = textBytes(entry);
      w.bytes.push(bytes.length, ...bytes);
    }
  });
  w.record(host, 1, 0x8001, () => w.bytes.push(...parseIpv4('10.0.0.40')));
  w.record(host, 28, 0x8001, () => w.bytes.push(...parseIpv6('2001:db8::40')));
  return udp4('10.0.0.40', '224.0.0.251', 5353, 5353, Uint8Array.from(w.bytes));
}

function llmnrQuery(): Uint8Array {
  const w = new DnsWriter();
  w.bytes.push(0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0);
  w.name('synth-ws-01');
  w.u16(1);
  w.u16(1);
  return Uint8Array.from(w.bytes);
}

const SSDP_REPLY =
  'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n' +
  'LOCATION: http://10.0.0.9:49152/desc.xml\r\n' +
  'SERVER: SynthOS/2.0 UPnP/1.1 SYNTH-CAM/3.4\r\nST: upnp:rootdevice\r\n' +
  'USN: uuid:5359e454-0000-4000-8000-000000000009::upnp:rootdevice\r\n\r\n';

const HTTP_GET =
  'GET /status?bed=12 HTTP/1.1\r\nHost: 10.0.0.9\r\n' +
  'User-Agent: SYNTH-Agent/1.0 (test)\r\nAccept: */*\r\n\r\n';

// SIP: a phone's REGISTER and the registrar's answer, an INVITE a proxy
// forwarded (two Via entries on one line), the compact Via form, a
// provisional answer with a User-Agent, REGISTER over TCP. Numbers and
// names are made up.
const SIP_REGISTER =
  'REGISTER sip:10.0.0.9 SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bK-synth-1\r\n' +
  'From: <sip:2101@10.0.0.9>;tag=synth1\r\nTo: <sip:2101@10.0.0.9>\r\n' +
  'Call-ID: synth-call-1@10.0.0.20\r\nCSeq: 1 REGISTER\r\n' +
  'Contact: <sip:2101@10.0.0.20:5060>\r\nExpires: 600\r\n' +
  'User-Agent: PolycomVVX-VVX_411-UA/6.4.3.5018\r\n' +
  'Content-Length: 0\r\n\r\n';
const SIP_REGISTERED =
  'SIP/2.0 200 OK\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bK-synth-1\r\n' +
  'From: <sip:2101@10.0.0.9>;tag=synth1\r\n' +
  'To: <sip:2101@10.0.0.9>;tag=synth2\r\n' +
  'Call-ID: synth-call-1@10.0.0.20\r\nCSeq: 1 REGISTER\r\n' +
  'Server: SYNTH-CallManager/14.0\r\nContent-Length: 0\r\n\r\n';
const SIP_FORWARDED_INVITE =
  'INVITE sip:2102@10.0.0.21 SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-synth-2, ' +
  'SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bK-synth-3\r\n' +
  'Max-Forwards: 69\r\nFrom: <sip:2101@10.0.0.9>;tag=synth3\r\n' +
  'To: <sip:2102@10.0.0.9>\r\nCall-ID: synth-call-2@10.0.0.20\r\n' +
  'CSeq: 20 INVITE\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15\r\n' +
  'Content-Length: 0\r\n\r\n';
const SIP_COMPACT_OPTIONS =
  'OPTIONS sip:10.0.0.9 SIP/2.0\r\n' +
  'v: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bK-synth-4\r\n' +
  'f: <sip:ping@10.0.0.20>;tag=synth4\r\nt: <sip:10.0.0.9>\r\n' +
  'i: synth-call-3@10.0.0.20\r\nCSeq: 7 OPTIONS\r\n' +
  'User-Agent: SYNTH-Monitor-Gateway 1.2\r\nl: 0\r\n\r\n';
const SIP_RINGING =
  'SIP/2.0 180 Ringing\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-synth-2\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bK-synth-3\r\n' +
  'From: <sip:2101@10.0.0.9>;tag=synth3\r\n' +
  'To: <sip:2102@10.0.0.9>;tag=synth5\r\n' +
  'Call-ID: synth-call-2@10.0.0.20\r\nCSeq: 20 INVITE\r\n' +
  'User-Agent: Cisco-CP8845/12.8.1\r\nContent-Length: 0\r\n\r\n';
const SIP_MESSAGES: Array<['udp' | 'tcp', string]> = [
  ['udp', SIP_REGISTER],
  ['udp', SIP_REGISTERED],
  ['udp', SIP_FORWARDED_INVITE],
  ['udp', SIP_COMPACT_OPTIONS],
  ['udp', SIP_RINGING],
  ['tcp', SIP_REGISTER.replace('SIP/2.0/UDP', 'SIP/2.0/TCP')],
];

// WS-Discovery: an SDC provider's Hello (1.1 namespace, entities, several
// scopes), a printer's ProbeMatches (2005 draft, ReplyTo address and a
// comment that must not count) and a Bye.
const WSD_MESSAGES = [
  `<?xml version="1.0" encoding="UTF-8"?>
<s12:Envelope xmlns:s12="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01">
<s12:Header>
<wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</wsa:Action>
<wsa:MessageID>urn:uuid:0b3a8d2e-0000-4000-8000-000000000001</wsa:MessageID>
</s12:Header>
<s12:Body>
<wsd:Hello>
<wsa:EndpointReference>
<wsa:Address>urn:uuid:5359e454-0000-4000-8000-00000000000a</wsa:Address>
</wsa:EndpointReference>
<wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types>
<wsd:Scopes>sdc.ctxt.loc:/sdc.ctxt.loc.detail/ICU%2F7%2FBed7?fac=HOSP&amp;poc=ICU&amp;bed=Bed7 sdc.cdc.type:///130535</wsd:Scopes>
<wsd:XAddrs>https://10.0.0.10:6464/dev</wsd:XAddrs>
<wsd:MetadataVersion>3</wsd:MetadataVersion>
</wsd:Hello>
</s12:Body>
</s12:Envelope>`,
  [
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery">',
    '<soap:Header>',
    '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>',
    '<wsa:ReplyTo>',
    '<wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address>',
    '</wsa:ReplyTo>',
    '<!-- <wsa:Address>fake</wsa:Address> -->',
    '</soap:Header>',
    '<soap:Body>',
    '<wsd:ProbeMatches>',
    '<wsd:ProbeMatch>',
    '<wsa:EndpointReference>',
    '<wsa:Address>urn:uuid:16a65700-007c-1000-bb49-00000000feed</wsa:Address>',
    '</wsa:EndpointReference>',
    '<wsd:Types>wsdp:Device wprt:PrintDeviceType</wsd:Types>',
    '<wsd:XAddrs>http://10.0.0.30:3911/</wsd:XAddrs>',
    '<wsd:MetadataVersion>1</wsd:MetadataVersion>',
    '</wsd:ProbeMatch>',
    '</wsd:ProbeMatches>',
    '</soap:Body>',
    '</soap:Envelope>',
  ].join(''),
  [
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01">',
    '<s:Header>',
    '<a:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Bye</a:Action>',
    '</s:Header>',
    '<s:Body>',
    '<d:Bye>',
    '<a:EndpointReference>',
    '<a:Address>urn:uuid:5359e454-0000-4000-8000-00000000000a</a:Address>',
    '</a:EndpointReference>',
    '</d:Bye>',
    '</s:Body>',
    '</s:Envelope>',
  ].join(''),
];

/** WS-Discovery fields as tshark's XML dissector shows the elements. */
interface WsdView {
  action: string;
  endpointAddresses: string[];
  types: string[];
  scopes: string[];
  xAddrs: string[];
  metadataVersion: number;
}

/**
 * Read tshark's XML tree (`-O xml -V`, UDP heuristic on) frame by frame:
 * an element's text is the lines between its open and close tags.
 */
function tsharkWsd(path: string): Map<number, WsdView> {
  const args = ['-r', path, '-o', 'xml.heuristic_udp:TRUE'];
  args.push('-Y', 'udp.port == 3702', '-O', 'xml', '-V');
  const result = spawnSync('tshark', args, { encoding: 'utf8' });
  const views = new Map<number, WsdView>();
  let view: WsdView | undefined;
  const stack: string[] = [];
  let text = '';
  for (const line of result.stdout.split('\n')) {
    const frame = /^Frame (\d+):/.exec(line);
    if (frame !== null) {
      view = emptyWsdView();
      views.set(Number(frame[1]), view);
      stack.length = 0;
      continue;
    }
    const trimmed = line.trim();
    const close = /^<\/(?:[^:>]+:)?([^>]+)>$/.exec(trimmed);
    const open = /^<(?:[^:>\s/!?]+:)?([^:>\s/!?]+)(?:\s|>|$)/.exec(trimmed);
    if (view === undefined) continue;
    if (close !== null) {
      const local = stack.pop();
      if (local !== undefined) addWsdText(view, local, text.trim(), stack);
      text = '';
    } else if (open !== null && !trimmed.endsWith('/>')) {
      stack.push(open[1]);
      text = '';
    } else if (!trimmed.startsWith('<') && !trimmed.startsWith('xmlns')) {
      text += ` ${trimmed}`;
    }
  }
  return views;
}

function emptyWsdView(): WsdView {
  return {
    action: '',
    endpointAddresses: [],
    types: [],
    scopes: [],
    xAddrs: [],
    metadataVersion: -1,
  };
}

function addWsdText(
  view: WsdView,
  local: string,
  text: string,
  parents: string[],
): void {
  // tshark shows the raw text; only the predefined entities occur here.
  const value = text.replace(/&amp;/g, '&').replace(/&lt;/g, '<');
  const items = value.split(/\s+/).filter((item) => item !== '');
  if (local === 'Action') view.action = value;
  if (local === 'Address' && parents.includes('EndpointReference')) {
    view.endpointAddresses.push(value);
  }
  if (local === 'Types') view.types.push(...items);
  if (local === 'Scopes') view.scopes.push(...items);
  if (local === 'XAddrs') view.xAddrs.push(...items);
  if (local === 'MetadataVersion') view.metadataVersion = Number(value);
}

// ---------------------------------------------------------------------------
// The checks, registered last so that every constant above is initialised.

if (hasTshark) writeSyntheticCapture(SYNTHETIC);
t.teardown(() => rmSync(dirname(SYNTHETIC), { recursive: true, force: true }));

t.test(
  "WS-Discovery equals tshark's XML view",
  { skip: hasTshark ? false : 'tshark not installed' },
  async (t) => {
    const theirs = tsharkWsd(SYNTHETIC);
    const ours = readOurs(SYNTHETIC, (f) => {
      if (!isUdpPort(f.pkt, 3702, 3702)) return null;
      const info = parseWsDiscovery(f.buf, f.pkt.payloadOff, payloadEnd(f));
      return info === null ? null : { json: JSON.stringify(info) };
    });
    let equal = 0;
    for (const [frame, view] of theirs) {
      const mine = ours[frame - 1];
      const info = mine === null ? null : JSON.parse(mine.json);
      const { messageType: _type, ...comparable } = info ?? {};
      if (JSON.stringify(comparable) === JSON.stringify(view)) equal++;
      else t.same(comparable, view, `frame ${frame}`);
    }
    t.equal(theirs.size, WSD_MESSAGES.length, 'tshark saw every message');
    t.ok(
      [...theirs.values()].every(
        (v) => v.action !== '' && v.endpointAddresses.length === 1,
      ),
      "each of tshark's views has an action and one endpoint",
    );
    t.equal(
      equal,
      theirs.size,
      `WS-Discovery equal on ${equal}/${theirs.size} messages`,
    );
  },
);

for (const pc of CASES) {
  t.test(
    `${pc.name} equals tshark`,
    { skip: hasTshark ? false : 'tshark not installed' },
    async (t) => {
      let compared = 0;
      let equal = 0;
      const mismatches: string[] = [];
      const withValue = new Map<string, number>();
      for (const capture of pc.captures) {
        const path = resolve(FIXTURES, capture);
        t.ok(existsSync(path), `${capture} is present`);
        const theirs = runTshark(path, pc.fields);
        const ours = readOurs(path, pc.ours);
        for (const pair of pairMessages(pc, theirs, ours)) {
          compared++;
          for (const field of pc.fields) {
            if (pair.isTheirs && (pair.row?.values[field] ?? '') !== '') {
              withValue.set(field, (withValue.get(field) ?? 0) + 1);
            }
          }
          const diffs = diffFields(pc, pair.row, pair.isTheirs, pair.mine);
          if (diffs.length === 0) equal++;
          else mismatches.push(`${capture} ${pair.label}: ${diffs.join('; ')}`);
        }
      }
      // How many compared packets carried each field, per tshark.
      t.comment(
        pc.fields.map((f) => `${f}: ${withValue.get(f) ?? 0}`).join(', '),
      );
      t.ok(
        compared >= pc.minPackets,
        `${compared} packets compared (at least ${pc.minPackets})`,
      );
      t.equal(
        equal,
        compared,
        `${pc.name} equal on ${equal}/${compared} packets`,
        { mismatches: mismatches.slice(0, 20) },
      );
    },
  );
}
