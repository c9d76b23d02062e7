/**
 * Generates `bench-data/ward-1h.pcap`: one hour of packet time on the mirror
 * of a hospital ward segment, dense enough to measure what a long-running
 * sensor publishes against what it observes (the README's "Bytes
 * published"). Deterministic: same options, same file.
 *
 * Device classes and rates. Public sources were used where they give a
 * number; everything else is an assumption, stated with the range it was
 * picked from. No rate was tuned to make the sensor look good.
 *
 * | class                  | count | traffic per device                                 | basis                                           |
 * | ---------------------- | ----: | -------------------------------------------------- | ----------------------------------------------- |
 * | Philips-like monitors  |    24 | waves to the Information Center, 3,000 B/s in one  | assumption, 1,400-8,000 B/s (see below)          |
 * |                        |       | UDP datagram per 256 ms; connect indication / 10 s | assumption, 5-60 s                               |
 * | GE-like monitors       |    16 | the same wave rate to the CARESCAPE central station| assumption, as above                             |
 * | central stations       |     2 | HL7 ORU^R01 per bed per 60 s to the HL7 engine;    | assumption, 60-300 s                             |
 * |                        |       | GE: time sync broadcast (UDP 2000) / 10 s          | assumption, 5-60 s                               |
 * | infusion pumps         |    60 | TLS session to the pump server, 350 B status and   | assumption, 5-60 s, 200-1,000 B                  |
 * |                        |       | 80 B answer every 10 s                             |                                                  |
 * | CT scanner             |     1 | 3 studies/h of 240 images x 512x512x16 bit (126 MB)| matrix: seekhealthz table; count: assumption,    |
 * |                        |       |                                                    | 50-500 MB per study                              |
 * | ultrasound             |     1 | 4 studies/h of 40 images x 640x480 RGB (37 MB)     | assumption, 10-200 MB per study                  |
 * | workstations           |    20 | HTTPS every 45 s on average (exponential), 2-120 kB| assumption, 5-50 kbit/s per idle clinical PC     |
 * |                        |       | answers; HL7 query to the engine every 300 s       | assumption                                       |
 * | printers               |     4 | 5 jobs/h each, 200 kB-2 MB over TCP 9100; SSDP     | assumption; SSDP re-announce at half the 1,800 s |
 * |                        |       | NOTIFY / 900 s                                     | max-age (UPnP device architecture)               |
 * | VoIP phones            |    12 | SIP REGISTER / 300 s; 1.5 calls/h of 30-300 s, RTP | G.711 at 20 ms: 50 packets/s each way (ITU-T     |
 * |                        |       | G.711 to the call manager                          | G.711, RFC 3551); call rate: assumption          |
 * | servers                |     8 | answer the above; DNS/DHCP, NTP, HL7, PACS, web,   |                                                  |
 * |                        |       | NMS (pings every device / 300 s), pumps, calls     | pings: assumption                                |
 * | every device           |       | DHCP (or a gratuitous ARP) in the first minute,    | NTP 1,024 s is ntpd's default maximum poll;      |
 * |                        |       | gateway ARP / 1,200 s, NTP / 1,024 s (Windows      | 3,600 s is w32time's domain default (assumption) |
 * |                        |       | 3,600 s); LLDP from 4 switch ports / 30 s          | LLDP: IEEE 802.1AB msgTxInterval default        |
 *
 * Monitor waves: a study of an older monitoring network (PhyDAS, reported
 * at medicalmedicaux.blogspot.com/2011/03/pc-network.html) sizes each
 * wave at 100 samples/s of 2 bytes and an ECG at four such signals, so one
 * ECG and three other waves make 1,400 B/s. Today's monitors sample the ECG
 * at 250-500 Hz, so 3,000 B/s (three ECG leads at 500 Hz is already
 * 3,000 B/s raw) is a middle value; vendors' network planning guides
 * (Philips CSCN specification, GE CARESCAPE Network Configuration Guide
 * "Bandwidth calculations" section, Dräger Infinity on Cisco) give per-bed
 * figures, but their tables were not available to check.
 *
 * Study sizes: a CT image is 512 x 512 pixels of 12-16 bits, a multidetector
 * CT study 500 images or more (seekhealthz.com, "What determines image
 * storage size?"); a CR image 1,760 x 2,140 x 16 bit, 7.5 MB (PACSnet
 * storage calculator). Both studies travel as C-STORE of the CT image
 * storage SOP class: the fixtures' DICOM helper writes that class only.
 *
 * Payloads are filler marked SYNTHETIC, but every header, handshake
 * (TCP, TLS ClientHello/ServerHello, DHCP DORA through a relay, DICOM
 * association, SIP) and flow is real, so the sensor sees realistic flow and
 * device counts. The hour is 1.55 M frames, 1.27 GB of file (1.24 GB on
 * the wire, 2.8 Mbit/s, about 45% of it the DICOM studies); no transfer had
 * to be capped to stay under 2 GB.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ArpOp,
  DnsType,
  EtherType,
  IpProto,
  SeededRng,
  type TcpConversation,
  concatBytes,
  dnsMessage,
  ethernetFrame,
  icmpEcho,
  ipBytes,
  lldpPdu,
  put16,
  put32,
  textBytes,
  tlsClientHello,
  tlsRecord,
  tlsServerHello,
} from '../lib/frame-builder.js';
import { PcapWriter } from '../lib/pcap-writer.js';
import { LinkType } from '../../src/capture/link-type.js';
import {
  BASE_TIME_SEC,
  BROADCAST_MAC,
  CT_IMAGE_SOP,
  DHCP_PROFILES,
  DNS_SERVER_IP,
  HL7_ENGINE_IP,
  type Host,
  HospitalNet,
  LLDP_MAC,
  NMS_IP,
  NTP_SERVER_IP,
  PACS_IP,
  SERVER_VLAN,
  SWITCH_MAC,
  type Stack,
  Timeline,
  ZERO_MAC,
  arpFrameOf,
  clientBroadcast,
  dhcpClientMessage,
  dhcpServerMessage,
  dicomAssociate,
  dicomPdu,
  dicomRequestPdus,
  dicomResponsePdu,
  dnsQuery,
  gatewayIp,
  gatewayMac,
  hl7Header,
  hl7Time,
  mllp,
  ntp,
  printerAnnouncement,
  relayFrame,
  relayToClient,
  sampleMac,
  synthetic,
} from '../make-fixtures.js';

/** What to generate. */
export interface WardCaptureOptions {
  /** Output pcap (classic, microseconds, Ethernet). */
  path: string;
  /** Packet time covered; 3,600 s by default. */
  durationSec?: number;
  seed?: number;
}

/** Device classes of the ward, as the generator configured them. */
export type WardRole =
  | 'philips-monitor'
  | 'ge-monitor'
  | 'central-station'
  | 'infusion-pump'
  | 'imaging'
  | 'workstation'
  | 'printer'
  | 'phone'
  | 'server';

export interface WardHost {
  name: string;
  mac: string;
  ip: string;
  vlan: number;
  role: WardRole;
  /** DHCP vendor class (option 60) it sends, or null when static. */
  dhcpVendorClass: string | null;
}

/** What was written. */
export interface WardCaptureStats {
  frames: number;
  /** Bytes of the frames on the wire. */
  wireBytes: number;
  durationSec: number;
  hosts: WardHost[];
  /** Frames per activity (monitor waves, dicom, rtp, ...). */
  framesByActivity: Record<string, number>;
}

export const WARD_DEFAULT_SEED = 0x3a2d;
export const WARD_DEFAULT_DURATION_SEC = 3600;

// ---------------------------------------------------------------------------
// Rates (see the table above)

const PHILIPS_MONITORS = 24;
const GE_MONITORS = 16;
const INFUSION_PUMPS = 60;
const WORKSTATIONS = 20;
const PRINTERS = 4;
const PHONES = 12;

const WAVE_BYTES_PER_SEC = 3000;
const WAVE_PERIOD_US = 256_000;
const CONNECT_INDICATION_PERIOD_SEC = 10;
const TIME_SYNC_PERIOD_SEC = 10;
const HL7_ORU_PERIOD_SEC = 60;
const PUMP_STATUS_PERIOD_SEC = 10;
const PUMP_STATUS_BYTES = 350;
const PUMP_ANSWER_BYTES = 80;
const CT_STUDIES_PER_HOUR = 3;
const CT_IMAGES_PER_STUDY = 240;
const CT_IMAGE_BYTES = 512 * 512 * 2;
const US_STUDIES_PER_HOUR = 4;
const US_IMAGES_PER_STUDY = 40;
const US_IMAGE_BYTES = 640 * 480 * 3;
const WORKSTATION_MEAN_GAP_SEC = 45;
const WORKSTATION_MIN_RESPONSE_BYTES = 2_000;
const WORKSTATION_MAX_RESPONSE_BYTES = 120_000;
const HL7_QUERY_PERIOD_SEC = 300;
const HL7_QUERY_RESPONSE_BYTES = 4_000;
const PRINT_JOBS_PER_HOUR = 5;
const PRINT_JOB_MIN_BYTES = 200_000;
const PRINT_JOB_MAX_BYTES = 2_000_000;
const SSDP_PERIOD_SEC = 900;
const SIP_REGISTER_PERIOD_SEC = 300;
const CALLS_PER_HOUR = 1.5;
const CALL_MIN_SEC = 30;
const CALL_MAX_SEC = 300;
/** G.711 at 20 ms: 160 sample bytes per RTP packet, 50 packets/s. */
const RTP_PERIOD_US = 20_000;
const RTP_PAYLOAD_BYTES = 160;
const PING_PERIOD_SEC = 300;
const ARP_PERIOD_SEC = 1200;
const NTP_PERIOD_SEC = 1024;
const WINDOWS_NTP_PERIOD_SEC = 3600;
const LLDP_PERIOD_SEC = 30;
const LLDP_PORTS = 4;
/** DHCP and gratuitous ARPs are spread over the first minute. */
const BOOT_SPREAD_US = 60_000_000;
/** Gap between back-to-back segments of a bulk transfer (~230 Mbit/s). */
const BULK_GAP_US = 50;

// ---------------------------------------------------------------------------
// Addressing: VLANs as the hospital sample has them, plus one per class

const PHILIPS_VLAN = 10;
const GE_VLAN = 11;
const PUMP_VLAN = 12;
const IMAGING_VLAN = 20;
const OFFICE_VLAN = 30;
const VOICE_VLAN = 40;

const PIIC_IP = '10.10.10.5';
const GE_CENTRAL_IP = '10.10.11.5';
const INTRANET_IP = '10.10.100.40';
const PUMP_SERVER_IP = '10.10.100.70';
const CALL_MANAGER_IP = '10.10.100.80';
/** The phones' and the call manager's software as SIP names it. */
const PHONE_SIP_USER_AGENT = 'PolycomVVX-VVX_411-UA/6.4.6.2546';
const CALL_MANAGER_SIP_SERVER = 'Asterisk PBX 20.6.0';
/**
 * IEEE OUIs for classes the fixtures' `sampleMac` has none for: GE
 * Healthcare (monitors), Philips Medical Systems (the Information Center)
 * and Polycom (phones). The rest of each MAC is made up.
 */
const GE_OUI = '44:4b:5d';
const PHILIPS_OUI = '00:09:5c';
const POLYCOM_OUI = '00:04:f2';

const WARD_ZONE: Record<string, string> = {
  'pumps.hospital.example': PUMP_SERVER_IP,
  'intranet.hospital.example': INTRANET_IP,
  'emr.hospital.example': INTRANET_IP,
  'pacs.hospital.example': PACS_IP,
  'hl7.hospital.example': HL7_ENGINE_IP,
  'updates.synthetic-vendor.example': '203.0.113.10',
  'portal.synthetic-cloud.example': '198.51.100.30',
};
const WORKSTATION_SITES = [
  'emr.hospital.example',
  'emr.hospital.example',
  'intranet.hospital.example',
  'pacs.hospital.example',
  'portal.synthetic-cloud.example',
  'updates.synthetic-vendor.example',
];

interface WardDevice extends Host {
  role: WardRole;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function makeWardHosts(): WardDevice[] {
  const hosts: WardDevice[] = [];
  const add = (
    name: string,
    mac: string,
    ip: string,
    vlan: number,
    stack: Stack,
    role: WardRole,
    profile?: string,
  ): void => {
    const index = hosts.length + 1;
    hosts.push({
      name,
      mac,
      ip,
      vlan,
      stack,
      role,
      ipId: (index * 7919) & 0xffff,
      dhcp: profile === undefined ? undefined : DHCP_PROFILES[profile],
    });
  };
  for (let i = 1; i <= PHILIPS_MONITORS; i++) {
    const name = `SYNTH-MON-P${two(i)}`;
    const ip = `10.10.${PHILIPS_VLAN}.${10 + i}`;
    add(
      name,
      sampleMac(name, i),
      ip,
      PHILIPS_VLAN,
      'linux',
      'philips-monitor',
      'monitor',
    );
  }
  for (let i = 1; i <= GE_MONITORS; i++) {
    const mac = `${GE_OUI}:53:01:${i.toString(16).padStart(2, '0')}`;
    const ip = `10.10.${GE_VLAN}.${10 + i}`;
    add(
      `SYNTH-GEMON-${two(i)}`,
      mac,
      ip,
      GE_VLAN,
      'linux',
      'ge-monitor',
      'monitor',
    );
  }
  add(
    'SYNTH-PIIC',
    `${PHILIPS_OUI}:53:02:01`,
    PIIC_IP,
    PHILIPS_VLAN,
    'windows',
    'central-station',
  );
  add(
    'SYNTH-GE-CENTRAL',
    `${GE_OUI}:53:02:02`,
    GE_CENTRAL_IP,
    GE_VLAN,
    'linux',
    'central-station',
  );
  for (let i = 1; i <= INFUSION_PUMPS; i++) {
    const name = `SYNTH-PUMP-${String(i).padStart(3, '0')}`;
    const ip = `10.10.${PUMP_VLAN}.${10 + i}`;
    add(
      name,
      sampleMac(name, i),
      ip,
      PUMP_VLAN,
      'embedded',
      'infusion-pump',
      'pump',
    );
  }
  add(
    'SYNTH-CT-01',
    sampleMac('SYNTH-CT-01', 0x31),
    '10.10.20.21',
    IMAGING_VLAN,
    'linux',
    'imaging',
  );
  add(
    'SYNTH-US-01',
    sampleMac('SYNTH-US-01', 0x32),
    '10.10.20.22',
    IMAGING_VLAN,
    'windows',
    'imaging',
    'windows',
  );
  for (let i = 1; i <= WORKSTATIONS; i++) {
    const name = `SYNTH-WS-${two(i)}`;
    const ip = `10.10.${OFFICE_VLAN}.${30 + i}`;
    add(
      name,
      sampleMac(name, 0x40 + i),
      ip,
      OFFICE_VLAN,
      'windows',
      'workstation',
      'windows',
    );
  }
  for (let i = 1; i <= PRINTERS; i++) {
    const name = `SYNTH-PRN-${two(i)}`;
    const ip = `10.10.${OFFICE_VLAN}.${200 + i}`;
    add(name, sampleMac(name, 0x60 + i), ip, OFFICE_VLAN, 'linux', 'printer');
  }
  for (let i = 1; i <= PHONES; i++) {
    const ip = `10.10.${VOICE_VLAN}.${10 + i}`;
    add(
      `SYNTH-PHONE-${two(i)}`,
      `${POLYCOM_OUI}:53:03:${i.toString(16).padStart(2, '0')}`,
      ip,
      VOICE_VLAN,
      'linux',
      'phone',
      'phone',
    );
  }
  const servers: Array<[string, string, Stack]> = [
    ['SYNTH-DNS-DHCP', DNS_SERVER_IP, 'linux'],
    ['SYNTH-NTP', NTP_SERVER_IP, 'linux'],
    ['SYNTH-HL7-ENGINE', HL7_ENGINE_IP, 'windows'],
    ['SYNTH-PACS', PACS_IP, 'linux'],
    ['SYNTH-INTRANET', INTRANET_IP, 'windows'],
    ['SYNTH-NMS', NMS_IP, 'linux'],
    ['SYNTH-PUMPSRV', PUMP_SERVER_IP, 'windows'],
    ['SYNTH-CALLMGR', CALL_MANAGER_IP, 'linux'],
  ];
  servers.forEach(([name, ip, stack], i) => {
    add(name, sampleMac(name, 0x90 + i), ip, SERVER_VLAN, stack, 'server');
  });
  return hosts;
}

// ---------------------------------------------------------------------------
// Activities: each yields bursts of frames; bursts of one activity never
// overlap in time, so a k-way merge writes the whole file in time order
// while holding one burst per activity in memory.

interface TimedFrame {
  timeUs: number;
  frame: Uint8Array;
}

/** Frames of one exchange, with a cursor for back-to-back sending. */
class Burst {
  readonly frames: TimedFrame[] = [];

  constructor(public timeUs: number) {}

  at(timeUs: number, frame: Uint8Array): void {
    this.frames.push({ timeUs: Math.round(timeUs), frame });
  }

  /** Frames `gapUs` apart from the cursor; the cursor moves past them. */
  send(frames: Uint8Array[], gapUs: number, delayUs = 0): void {
    this.timeUs += delayUs;
    for (const frame of frames) {
      this.at(this.timeUs, frame);
      this.timeUs += gapUs;
    }
  }

  /** The later of the cursor and the last frame: the next burst's floor. */
  get endUs(): number {
    let end = this.timeUs;
    for (const f of this.frames) if (f.timeUs > end) end = f.timeUs;
    return end;
  }

  sorted(): TimedFrame[] {
    // Stable: frames at one time keep the order they were added in.
    return this.frames.sort((a, b) => a.timeUs - b.timeUs);
  }
}

type Activity = Generator<Burst, void, void>;

interface Named {
  name: string;
  bursts: Activity;
}

/** Context every activity builds frames with. */
interface Ward {
  net: HospitalNet;
  rng: SeededRng;
  endUs: number;
  hosts: WardDevice[];
  byName: Map<string, WardDevice>;
  /** When each host has its address and starts talking. */
  readyUs: Map<WardDevice, number>;
}

function secUs(sec: number): number {
  return sec * 1e6;
}

/** Exponential gap with mean `meanUs`: a Poisson process's arrivals. */
function poissonGapUs(rng: SeededRng, meanUs: number): number {
  return -Math.log(1 - rng.nextFloat()) * meanUs;
}

/**
 * Bursts built by `build` at start times from `nextGapUs`; a burst starts
 * after the previous one ended, so bursts never overlap.
 */
function* repeat(
  ward: Ward,
  startUs: number,
  nextGapUs: () => number,
  build: (timeUs: number) => Burst,
): Activity {
  let t = startUs;
  while (t < ward.endUs) {
    const burst = build(t);
    yield burst;
    t = Math.max(t + nextGapUs(), burst.endUs + 1);
  }
}

/** Period with +-10% jitter, so periodic senders drift apart as real ones. */
function jittered(rng: SeededRng, periodUs: number): () => number {
  return () => periodUs * (0.9 + 0.2 * rng.nextFloat());
}

// Addressing ---------------------------------------------------------------

/** DHCP DORA through the VLAN gateway as relay, then the RFC 5227 ARPs. */
function* boot(ward: Ward, host: WardDevice, startUs: number): Activity {
  const { net } = ward;
  const burst = new Burst(startUs);
  const profile = host.dhcp;
  if (profile === undefined) {
    burst.at(
      startUs,
      arpFrameOf(
        host,
        ArpOp.Request,
        host.ip,
        ZERO_MAC,
        host.ip,
        BROADCAST_MAC,
      ),
    );
  } else {
    const xid = net.rng.nextU32();
    const relayIp = gatewayIp(host.vlan);
    const server = net.find('SYNTH-DNS-DHCP');
    let t = startUs;
    for (const [ask, answer] of [
      [1, 2],
      [3, 5],
    ]) {
      const request = dhcpClientMessage(host, profile, xid, ask);
      const relayed = dhcpClientMessage(host, profile, xid, ask, relayIp);
      const reply = dhcpServerMessage(host, xid, answer, relayIp);
      burst.at(t, clientBroadcast(host, request));
      burst.at(t + 300, relayFrame(server, relayIp, true, relayed));
      burst.at(t + 900, relayFrame(server, relayIp, false, reply));
      burst.at(t + 1200, relayToClient(host, relayIp, reply));
      t += 20_000 + net.rng.nextInt(50_000);
    }
    ['0.0.0.0', host.ip].forEach((senderIp, i) =>
      burst.at(
        t + 100_000 + i * 1_100_000,
        arpFrameOf(
          host,
          ArpOp.Request,
          senderIp,
          ZERO_MAC,
          host.ip,
          BROADCAST_MAC,
        ),
      ),
    );
    burst.timeUs = t + 1_300_000;
  }
  yield burst;
}

/** The host resolves its gateway now and then. */
function gatewayArp(ward: Ward, host: WardDevice): Activity {
  const gwIp = gatewayIp(host.vlan);
  const start = ready(ward, host) + ward.rng.nextInt(1_000_000);
  return repeat(ward, start, jittered(ward.rng, secUs(ARP_PERIOD_SEC)), (t) => {
    const burst = new Burst(t);
    burst.at(
      t,
      arpFrameOf(host, ArpOp.Request, host.ip, ZERO_MAC, gwIp, BROADCAST_MAC),
    );
    const gwMac = gatewayMac(host.vlan);
    burst.at(
      t + 400,
      arpFrameOf(host, ArpOp.Reply, gwIp, host.mac, host.ip, host.mac, gwMac),
    );
    burst.timeUs = t + 400;
    return burst;
  });
}

function ntpPolls(ward: Ward, host: WardDevice): Activity {
  const period =
    host.stack === 'windows' ? WINDOWS_NTP_PERIOD_SEC : NTP_PERIOD_SEC;
  const port = host.stack === 'windows' ? 123 : ward.net.ephemeralPort(host);
  const start = ready(ward, host) + ward.rng.nextInt(5_000_000);
  return repeat(ward, start, jittered(ward.rng, secUs(period)), (t) => {
    const burst = new Burst(t);
    const sec = BASE_TIME_SEC + Math.floor(t / 1e6);
    udpExchange(
      ward,
      burst,
      host,
      NTP_SERVER_IP,
      port,
      123,
      ntp(3, sec),
      ntp(4, sec, sec),
      700,
    );
    return burst;
  });
}

function udpExchange(
  ward: Ward,
  burst: Burst,
  host: Host,
  peerIp: string,
  hostPort: number,
  peerPort: number,
  request: Uint8Array,
  reply: Uint8Array | undefined,
  rttUs: number,
): void {
  const net = ward.net;
  burst.at(
    burst.timeUs,
    net.udpFrame(host, peerIp, true, hostPort, peerPort, request),
  );
  if (reply !== undefined) {
    burst.at(
      burst.timeUs + rttUs,
      net.udpFrame(host, peerIp, false, hostPort, peerPort, reply),
    );
    burst.timeUs += rttUs;
  }
}

/** A DNS lookup of `name` through the hospital resolver. */
function dnsLookup(ward: Ward, burst: Burst, host: Host, name: string): void {
  const id = ward.rng.nextInt(0x10000);
  const address = WARD_ZONE[name];
  const reply = dnsMessage({
    id,
    flags: 0x8180,
    questions: [{ name, type: DnsType.A }],
    answers: [{ name, type: DnsType.A, ttlSec: 300, data: ipBytes(address) }],
  });
  const port = ward.net.ephemeralPort(host);
  udpExchange(
    ward,
    burst,
    host,
    DNS_SERVER_IP,
    port,
    53,
    dnsQuery(id, name),
    reply,
    800,
  );
  burst.timeUs += 200;
}

function ready(ward: Ward, host: WardDevice): number {
  return ward.readyUs.get(host) ?? 0;
}

// Patient monitoring -------------------------------------------------------

/**
 * Philips Data Export connect indication (the layout the sensor's medical
 * hint parser checks): ROIV event report of NOM_NOTI_MDS_CONNECT_INDIC
 * with a protocol support attribute offering data export on UDP 24105.
 */
function connectIndication(): Uint8Array {
  const out = new Uint8Array(48);
  put16(out, 0, 0x0001);
  put16(out, 4, 1); // ROIV
  put16(out, 6, out.length - 8);
  put16(out, 10, 0); // event report
  put16(out, 12, out.length - 14);
  put16(out, 24, 0x0d16);
  put16(out, 26, out.length - 28);
  put16(out, 28, 1); // one attribute
  put16(out, 30, out.length - 32);
  put16(out, 32, 0xf101); // NOM_ATTR_PCOL_SUPPORT
  put16(out, 34, 12);
  put16(out, 36, 1); // one entry
  put16(out, 38, 8);
  put16(out, 40, 5); // AP_ID_DATA_OUT
  put16(out, 42, 1); // TP_ID_UDP
  put16(out, 44, 24105);
  return out;
}

/** A data export message (session 0xE100, ROIV) carrying wave samples. */
function dataExportWaves(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set(synthetic(bytes, 'SYNTHETIC-WAVE-SAMPLES '));
  put16(out, 0, 0xe100);
  put16(out, 2, 0x0002);
  put16(out, 4, 1);
  put16(out, 6, bytes - 8);
  return out;
}

const WAVE_DATAGRAM_BYTES = Math.round(
  (WAVE_BYTES_PER_SEC * WAVE_PERIOD_US) / 1e6,
);

/** Waves every 256 ms to the central station, which never answers. */
function monitorWaves(
  ward: Ward,
  monitor: WardDevice,
  centralIp: string,
): Activity {
  const isPhilips = monitor.role === 'philips-monitor';
  const monitorPort = isPhilips ? 24105 : 7001;
  const centralPort = ward.net.ephemeralPort(
    ward.byName.get(isPhilips ? 'SYNTH-PIIC' : 'SYNTH-GE-CENTRAL')!,
  );
  const start = ready(ward, monitor) + ward.rng.nextInt(WAVE_PERIOD_US);
  const payload = isPhilips
    ? dataExportWaves(WAVE_DATAGRAM_BYTES)
    : synthetic(WAVE_DATAGRAM_BYTES, 'SYNTHETIC-WAVE-SAMPLES ');
  return repeat(
    ward,
    start,
    () => WAVE_PERIOD_US,
    (t) => {
      const burst = new Burst(t);
      burst.at(
        t,
        ward.net.udpFrame(
          monitor,
          centralIp,
          true,
          monitorPort,
          centralPort,
          payload,
        ),
      );
      return burst;
    },
  );
}

function connectIndications(ward: Ward, monitor: WardDevice): Activity {
  const broadcast = `10.10.${monitor.vlan}.255`;
  const message = connectIndication();
  const start = ready(ward, monitor) + ward.rng.nextInt(1_000_000);
  return repeat(
    ward,
    start,
    () => secUs(CONNECT_INDICATION_PERIOD_SEC),
    (t) => {
      const burst = new Burst(t);
      burst.at(
        t,
        ward.net.udpFrame(monitor, broadcast, true, 24005, 24005, message),
      );
      return burst;
    },
  );
}

/**
 * CARESCAPE time sync (UDP 2000, 64 bytes): the sender's address at 6,
 * `<unit>|<room>` at 24, seconds since 1900 at 60.
 */
function carescapeTimeSync(ward: Ward, central: WardDevice): Activity {
  const broadcast = `10.10.${central.vlan}.255`;
  return repeat(
    ward,
    ready(ward, central),
    () => secUs(TIME_SYNC_PERIOD_SEC),
    (t) => {
      const payload = new Uint8Array(64);
      payload.set(ipBytes(central.ip), 6);
      payload.set(textBytes('ICU2|CS1'), 24);
      put32(payload, 60, BASE_TIME_SEC + Math.floor(t / 1e6) + 2_208_988_800);
      const burst = new Burst(t);
      burst.at(
        t,
        ward.net.udpFrame(central, broadcast, true, 2000, 2000, payload),
      );
      return burst;
    },
  );
}

/** A central station's MLLP connection: one ORU^R01 per bed per minute. */
function* centralHl7(ward: Ward, central: WardDevice, beds: number): Activity {
  const conv = ward.net.tcp(central, HL7_ENGINE_IP, 2575);
  let t = ready(ward, central) + secUs(5);
  const first = new Burst(t);
  first.send(conv.handshake(), 350);
  yield first;
  t = first.endUs + 1000;
  let n = 1;
  const station = ['SYNTH-CENTRAL', central.name];
  const engine = ['SYNTH-HL7-ENGINE', 'SYNTH-HOSPITAL'];
  const spacingUs = secUs(HL7_ORU_PERIOD_SEC) / beds;
  while (t < ward.endUs) {
    const burst = new Burst(t);
    const bed = ((n - 1) % beds) + 1;
    const id = `SYNTH-${central.name}-${String(n).padStart(6, '0')}`;
    const stamp = hl7Time(t);
    const message = mllp([
      hl7Header(station, engine, stamp, 'ORU^R01^ORU_R01', id),
      `PID|1||SYNTH-PAT-${String(bed).padStart(4, '0')}^^^SYNTH^MR||TEST^SYNTHETIC||19000101|U`,
      'OBR|1|||SYNTH-VITALS^Synthetic vitals',
      `OBX|1|NM|8867-4^Heart rate^LN||${60 + ward.rng.nextInt(40)}|/min|||||F`,
      `OBX|2|NM|2708-6^Oxygen saturation^LN||${94 + ward.rng.nextInt(6)}|%|||||F`,
      `OBX|3|NM|9279-1^Respiratory rate^LN||${12 + ward.rng.nextInt(8)}|/min|||||F`,
    ]);
    const ack = mllp([
      hl7Header(engine, station, stamp, 'ACK^R01^ACK', `A${id}`),
      `MSA|AA|${id}`,
    ]);
    burst.send(conv.send(true, message), 300);
    burst.send(conv.send(false, ack), 300, 4000);
    yield burst;
    t = Math.max(t + spacingUs, burst.endUs + 1);
    n++;
  }
}

// Infusion pumps -----------------------------------------------------------

/** A TLS 1.3 client and server hello, then the encrypted finish. */
function tlsHandshake(
  ward: Ward,
  burst: Burst,
  conv: TcpConversation,
  host: Host,
  serverName: string,
): void {
  const rng = ward.rng;
  const sessionId = rng.bytes(32);
  const isWindows = host.stack === 'windows';
  const hello = tlsClientHello({
    serverName,
    random: rng.bytes(32),
    sessionId,
    cipherSuites: isWindows
      ? [0x1302, 0x1301, 0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009d, 0x009c]
      : [0x1301, 0x1303, 0xc02b, 0xc02f, 0x009c],
    groups: isWindows ? [0x001d, 0x0017, 0x0018] : [0x0017, 0x001d],
    signatureAlgorithms: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501],
    alpn: isWindows ? ['h2', 'http/1.1'] : ['http/1.1'],
    versions: [0x0304, 0x0303],
    keyShare: rng.bytes(32),
  });
  burst.send(conv.send(true, hello), 150);
  const serverFlight = concatBytes(
    tlsServerHello({
      random: rng.bytes(32),
      sessionId,
      cipherSuite: 0x1301,
      keyShare: rng.bytes(32),
    }),
    tlsRecord(20, Uint8Array.of(1)),
    tlsRecord(23, synthetic(2400, 'SYNTHETIC-TLS-RECORD ')),
  );
  burst.send(conv.send(false, serverFlight), 150, 3000);
  const finished = concatBytes(
    tlsRecord(20, Uint8Array.of(1)),
    tlsRecord(23, synthetic(80, 'SYNTHETIC-TLS-RECORD ')),
  );
  burst.send(conv.send(true, finished), 150, 1000);
}

/** One long-lived TLS session to the pump server, status every 10 s. */
function* pumpStatus(ward: Ward, pump: WardDevice): Activity {
  const t0 = ready(ward, pump) + ward.rng.nextInt(2_000_000);
  const first = new Burst(t0);
  dnsLookup(ward, first, pump, 'pumps.hospital.example');
  const conv = ward.net.tcp(pump, PUMP_SERVER_IP, 443);
  first.send(conv.handshake(), 400, 2000);
  tlsHandshake(ward, first, conv, pump, 'pumps.hospital.example');
  yield first;
  const next = jittered(ward.rng, secUs(PUMP_STATUS_PERIOD_SEC));
  let t = first.endUs + next();
  while (t < ward.endUs) {
    const burst = new Burst(t);
    const status = tlsRecord(
      23,
      synthetic(PUMP_STATUS_BYTES, 'SYNTHETIC-PUMP-STATUS '),
    );
    const answer = tlsRecord(
      23,
      synthetic(PUMP_ANSWER_BYTES, 'SYNTHETIC-TLS-RECORD '),
    );
    burst.send(conv.send(true, status), 300);
    burst.send(conv.send(false, answer), 300, 3000);
    yield burst;
    t = Math.max(t + next(), burst.endUs + 1);
  }
}

// Imaging ------------------------------------------------------------------

/** Studies spread evenly over the hour: one association, C-STORE each. */
function* dicomStudies(
  ward: Ward,
  modality: WardDevice,
  studiesPerHour: number,
  images: number,
  imageBytes: number,
  firstSec: number,
): Activity {
  let instance = 1;
  for (let study = 0; study < studiesPerHour; study++) {
    const startUs = secUs(firstSec + (study * 3600) / studiesPerHour);
    if (startUs >= ward.endUs) return;
    const conv = ward.net.tcp(modality, PACS_IP, 104);
    const calling = modality.name;
    const sop = CT_IMAGE_SOP;
    let burst = new Burst(startUs);
    burst.send(conv.handshake(), 250);
    burst.send(
      conv.send(true, dicomAssociate(false, calling, 'SYNTH-PACS', sop)),
      250,
    );
    burst.send(
      conv.send(false, dicomAssociate(true, calling, 'SYNTH-PACS', sop)),
      250,
      2000,
    );
    for (let image = 0; image < images; image++, instance++) {
      for (const pdu of dicomRequestPdus(imageBytes, instance)) {
        burst.send(conv.send(true, pdu), BULK_GAP_US);
      }
      burst.send(
        conv.send(false, dicomResponsePdu(imageBytes, instance)),
        250,
        2000,
      );
      // One image per burst keeps memory at one image.
      yield burst;
      burst = new Burst(burst.endUs + 1000);
    }
    burst.send(conv.send(true, dicomPdu(5, new Uint8Array(4))), 250);
    burst.send(conv.send(false, dicomPdu(6, new Uint8Array(4))), 250, 1000);
    burst.send(conv.close(), 250);
    yield burst;
  }
}

// Workstations and printers ------------------------------------------------

function workstationBrowsing(ward: Ward, ws: WardDevice): Activity {
  const rng = ward.rng;
  const start = ready(ward, ws) + rng.nextInt(secUs(WORKSTATION_MEAN_GAP_SEC));
  const gap = () => poissonGapUs(rng, secUs(WORKSTATION_MEAN_GAP_SEC));
  return repeat(ward, start, gap, (t) => {
    const burst = new Burst(t);
    const site = rng.pick(WORKSTATION_SITES);
    // A cached name is not looked up again: about one lookup in three.
    if (rng.chance(0.35)) dnsLookup(ward, burst, ws, site);
    const conv = ward.net.tcp(ws, WARD_ZONE[site], 443);
    burst.send(conv.handshake(), 600, 1000);
    tlsHandshake(ward, burst, conv, ws, site);
    const request = tlsRecord(
      23,
      synthetic(400 + rng.nextInt(800), 'SYNTHETIC-TLS-RECORD '),
    );
    burst.send(conv.send(true, request), 150, 500);
    const responseBytes = rng.nextRange(
      WORKSTATION_MIN_RESPONSE_BYTES,
      WORKSTATION_MAX_RESPONSE_BYTES,
    );
    for (let sent = 0; sent < responseBytes; sent += 16384) {
      const recordBytes = Math.min(16384, responseBytes - sent);
      const record = tlsRecord(
        23,
        synthetic(recordBytes, 'SYNTHETIC-TLS-RECORD '),
      );
      burst.send(conv.send(false, record), 120, 2000);
    }
    burst.send(conv.close(), 600, 20_000);
    return burst;
  });
}

/** The HL7 viewer queries the engine for a patient's results. */
function workstationHl7(ward: Ward, ws: WardDevice): Activity {
  const rng = ward.rng;
  const start = ready(ward, ws) + rng.nextInt(secUs(HL7_QUERY_PERIOD_SEC));
  let n = 1;
  return repeat(
    ward,
    start,
    jittered(rng, secUs(HL7_QUERY_PERIOD_SEC)),
    (t) => {
      const burst = new Burst(t);
      const conv = ward.net.tcp(ws, HL7_ENGINE_IP, 2575);
      const id = `SYNTH-Q-${ws.name}-${n++}`;
      const viewer = ['SYNTH-VIEWER', ws.name];
      const engine = ['SYNTH-HL7-ENGINE', 'SYNTH-HOSPITAL'];
      const stamp = hl7Time(t);
      const query = mllp([
        hl7Header(viewer, engine, stamp, 'QRY^R02^QRY_R02', id),
        `QRD|${stamp}|R|I|${id}|||10^RD|SYNTH-PAT-${String(1 + rng.nextInt(40)).padStart(4, '0')}|RES`,
      ]);
      const results = mllp([
        hl7Header(engine, viewer, stamp, 'ORF^R04^ORF_R04', `R${id}`),
        `MSA|AA|${id}`,
        `OBX|1|TX|SYNTH-NOTE||${'SYNTHETIC RESULT TEXT '.repeat(HL7_QUERY_RESPONSE_BYTES / 22)}||||||F`,
      ]);
      burst.send(conv.handshake(), 400);
      burst.send(conv.send(true, query), 300);
      burst.send(conv.send(false, results), 150, 8000);
      burst.send(conv.close(), 400, 1000);
      return burst;
    },
  );
}

/** Print jobs from random workstations over raw TCP 9100. */
function printJobs(
  ward: Ward,
  printer: WardDevice,
  workstations: WardDevice[],
): Activity {
  const rng = ward.rng;
  const meanUs = secUs(3600 / PRINT_JOBS_PER_HOUR);
  const start = secUs(60) + poissonGapUs(rng, meanUs);
  return repeat(
    ward,
    start,
    () => poissonGapUs(rng, meanUs),
    (t) => {
      const burst = new Burst(t);
      const ws = rng.pick(workstations);
      const conv = ward.net.tcp(ws, printer.ip, 9100);
      const jobBytes = rng.nextRange(PRINT_JOB_MIN_BYTES, PRINT_JOB_MAX_BYTES);
      burst.send(conv.handshake(), 300);
      for (let sent = 0; sent < jobBytes; sent += 65536) {
        const chunk = synthetic(
          Math.min(65536, jobBytes - sent),
          'SYNTHETIC-PRINT-DATA ',
        );
        burst.send(conv.send(true, chunk), 120, 1000);
      }
      burst.send(conv.close(), 300, 5000);
      return burst;
    },
  );
}

function printerAnnouncements(ward: Ward, printer: WardDevice): Activity {
  const net = ward.net;
  const notify = textBytes(
    [
      'NOTIFY * HTTP/1.1',
      'HOST: 239.255.255.250:1900',
      'CACHE-CONTROL: max-age=1800',
      `LOCATION: http://${printer.ip}:80/synthetic-device.xml`,
      'NT: urn:schemas-upnp-org:device:Printer:1',
      'NTS: ssdp:alive',
      `SERVER: SyntheticOS/1.0 UPnP/1.0 ${printer.name}/1.0`,
      `USN: uuid:5359e454-4845-5449-4300-0000000000${printer.name.slice(-2)}`,
      '',
      '',
    ].join('\r\n'),
  );
  const mdns = printerAnnouncement(printer);
  let isFirst = true;
  return repeat(
    ward,
    ready(ward, printer) + secUs(2),
    jittered(ward.rng, secUs(SSDP_PERIOD_SEC)),
    (t) => {
      const burst = new Burst(t);
      if (isFirst) {
        // RFC 6762 section 8.3: announce at least twice, one second apart.
        for (let k = 0; k < 3; k++) {
          burst.at(
            t + secUs(k),
            net.udpFrame(printer, '224.0.0.251', true, 5353, 5353, mdns),
          );
        }
        burst.timeUs = t + secUs(3);
        isFirst = false;
      }
      burst.at(
        burst.timeUs,
        net.udpFrame(printer, '239.255.255.250', true, 1900, 1900, notify),
      );
      return burst;
    },
  );
}

// Voice --------------------------------------------------------------------

function sipMessage(lines: string[]): Uint8Array {
  return textBytes([...lines, 'Content-Length: 0', '', ''].join('\r\n'));
}

function sipRegistrations(ward: Ward, phone: WardDevice): Activity {
  let cseq = 1;
  const start = ready(ward, phone) + ward.rng.nextInt(3_000_000);
  return repeat(
    ward,
    start,
    () => secUs(SIP_REGISTER_PERIOD_SEC),
    (t) => {
      const burst = new Burst(t);
      const user = phone.name.toLowerCase();
      const common = [
        `Via: SIP/2.0/UDP ${phone.ip}:5060;branch=z9hG4bK-synth-${cseq}`,
        `From: <sip:${user}@hospital.example>;tag=synth${cseq}`,
        `To: <sip:${user}@hospital.example>`,
        `Call-ID: synth-reg-${user}@${phone.ip}`,
        `CSeq: ${cseq++} REGISTER`,
      ];
      const register = sipMessage([
        `REGISTER sip:${CALL_MANAGER_IP} SIP/2.0`,
        ...common,
        `Contact: <sip:${user}@${phone.ip}:5060>`,
        `Expires: ${SIP_REGISTER_PERIOD_SEC * 2}`,
        `User-Agent: ${PHONE_SIP_USER_AGENT}`,
      ]);
      const ok = sipMessage([
        'SIP/2.0 200 OK',
        ...common,
        `Server: ${CALL_MANAGER_SIP_SERVER}`,
      ]);
      udpExchange(
        ward,
        burst,
        phone,
        CALL_MANAGER_IP,
        5060,
        5060,
        register,
        ok,
        3000,
      );
      return burst;
    },
  );
}

/** Calls: INVITE, RTP both ways for the call's length, BYE. */
function calls(ward: Ward, phone: WardDevice): Activity {
  const rng = ward.rng;
  const net = ward.net;
  const meanUs = secUs(3600 / CALLS_PER_HOUR);
  let callNo = 1;
  return repeat(
    ward,
    ready(ward, phone) + poissonGapUs(rng, meanUs),
    () => poissonGapUs(rng, meanUs),
    (t) => {
      const burst = new Burst(t);
      const user = phone.name.toLowerCase();
      const callId = `synth-call-${user}-${callNo++}`;
      const rtpPort = 16384 + 2 * rng.nextInt(8000);
      const gatewayPort = 20000 + 2 * rng.nextInt(8000);
      const dialog = (method: string, cseq: number) => [
        `Via: SIP/2.0/UDP ${phone.ip}:5060;branch=z9hG4bK-${callId}-${cseq}`,
        `From: <sip:${user}@hospital.example>;tag=${callId}`,
        `To: <sip:ward-${rng.nextInt(100)}@hospital.example>`,
        `Call-ID: ${callId}@${phone.ip}`,
        `CSeq: ${cseq} ${method}`,
      ];
      const invite = sipMessage([
        `INVITE sip:ward@${CALL_MANAGER_IP} SIP/2.0`,
        ...dialog('INVITE', 1),
        `Contact: <sip:${user}@${phone.ip}:5060>`,
        'Content-Type: application/sdp',
      ]);
      udpExchange(
        ward,
        burst,
        phone,
        CALL_MANAGER_IP,
        5060,
        5060,
        invite,
        sipMessage(['SIP/2.0 100 Trying', ...dialog('INVITE', 1)]),
        2000,
      );
      burst.at(
        burst.timeUs + 300_000,
        net.udpFrame(
          phone,
          CALL_MANAGER_IP,
          false,
          5060,
          5060,
          sipMessage(['SIP/2.0 180 Ringing', ...dialog('INVITE', 1)]),
        ),
      );
      burst.timeUs += secUs(3);
      burst.at(
        burst.timeUs,
        net.udpFrame(
          phone,
          CALL_MANAGER_IP,
          false,
          5060,
          5060,
          sipMessage(['SIP/2.0 200 OK', ...dialog('INVITE', 1)]),
        ),
      );
      burst.at(
        burst.timeUs + 2000,
        net.udpFrame(
          phone,
          CALL_MANAGER_IP,
          true,
          5060,
          5060,
          sipMessage([
            `ACK sip:ward@${CALL_MANAGER_IP} SIP/2.0`,
            ...dialog('ACK', 1),
          ]),
        ),
      );
      const callUs = secUs(rng.nextRange(CALL_MIN_SEC, CALL_MAX_SEC));
      const ssrcOut = rng.nextU32();
      const ssrcIn = rng.nextU32();
      const samples = synthetic(RTP_PAYLOAD_BYTES, 'SYNTHETIC-G711 ');
      const rtp = (seq: number, ssrc: number): Uint8Array => {
        const header = new Uint8Array(12);
        header[0] = 0x80; // version 2
        header[1] = 0; // PCMU
        put16(header, 2, seq & 0xffff);
        put32(header, 4, (seq * RTP_PAYLOAD_BYTES) >>> 0);
        put32(header, 8, ssrc);
        return concatBytes(header, samples);
      };
      const mediaStart = burst.timeUs + 20_000;
      const packets = Math.floor(callUs / RTP_PERIOD_US);
      for (let k = 0; k < packets; k++) {
        const at = mediaStart + k * RTP_PERIOD_US;
        burst.at(
          at,
          net.udpFrame(
            phone,
            CALL_MANAGER_IP,
            true,
            rtpPort,
            gatewayPort,
            rtp(k, ssrcOut),
          ),
        );
        burst.at(
          at + 7000,
          net.udpFrame(
            phone,
            CALL_MANAGER_IP,
            false,
            rtpPort,
            gatewayPort,
            rtp(k, ssrcIn),
          ),
        );
      }
      burst.timeUs = mediaStart + packets * RTP_PERIOD_US + 10_000;
      udpExchange(
        ward,
        burst,
        phone,
        CALL_MANAGER_IP,
        5060,
        5060,
        sipMessage([
          `BYE sip:ward@${CALL_MANAGER_IP} SIP/2.0`,
          ...dialog('BYE', 2),
        ]),
        sipMessage(['SIP/2.0 200 OK', ...dialog('BYE', 2)]),
        3000,
      );
      return burst;
    },
  );
}

// Infrastructure -----------------------------------------------------------

function nmsPings(ward: Ward, targets: WardDevice[]): Activity {
  let seq = 1;
  return repeat(
    ward,
    secUs(90),
    () => secUs(PING_PERIOD_SEC),
    (t) => {
      const burst = new Burst(t);
      targets.forEach((host, i) => {
        const at = t + i * 20_000;
        const payload = synthetic(32, 'SYNTH-NMS-PING ');
        const request = icmpEcho({ isReply: false, id: 0x4e4d, seq }, payload);
        const reply = icmpEcho({ isReply: true, id: 0x4e4d, seq }, payload);
        burst.at(
          at,
          ward.net.ipFrame(host, NMS_IP, false, IpProto.Icmp, request),
        );
        burst.at(
          at + 450,
          ward.net.ipFrame(host, NMS_IP, true, IpProto.Icmp, reply),
        );
        seq++;
      });
      burst.timeUs = t + targets.length * 20_000;
      return burst;
    },
  );
}

function lldp(ward: Ward, port: number): Activity {
  const pdu = lldpPdu({
    chassisMac: SWITCH_MAC,
    portName: `Gi1/0/${port + 1}`,
    ttlSec: 120,
    portDescription: `synthetic ward uplink ${port + 1}`,
    systemName: 'SYNTH-SW-WARD-01',
    systemDescription: 'Synthetic switch OS 1.0 (generated test data)',
    capabilities: { available: 0x14, enabled: 0x04 },
    managementIpv4: '10.10.100.2',
  });
  const src = `10:57:25:53:00:${(0xf1 + port).toString(16)}`;
  const frame = ethernetFrame(
    { dst: LLDP_MAC, src, etherType: EtherType.Lldp },
    pdu,
  );
  return repeat(
    ward,
    secUs(0.5 + port * 0.01),
    () => secUs(LLDP_PERIOD_SEC),
    (t) => {
      const burst = new Burst(t);
      burst.at(t, frame);
      return burst;
    },
  );
}

// ---------------------------------------------------------------------------
// Assembly

function activities(ward: Ward): Named[] {
  const out: Named[] = [];
  const add = (name: string, bursts: Activity) => out.push({ name, bursts });
  const devices = ward.hosts.filter((h) => h.role !== 'server');
  const ofRole = (role: WardRole) => devices.filter((h) => h.role === role);
  const piic = ward.byName.get('SYNTH-PIIC')!;
  const geCentral = ward.byName.get('SYNTH-GE-CENTRAL')!;

  for (let p = 0; p < LLDP_PORTS; p++) add('lldp', lldp(ward, p));
  for (const host of devices) {
    add('dhcp-arp', boot(ward, host, ready(ward, host) - 1_400_000));
    add('dhcp-arp', gatewayArp(ward, host));
    add('ntp', ntpPolls(ward, host));
  }
  for (const monitor of ofRole('philips-monitor')) {
    add('monitor-waves', monitorWaves(ward, monitor, PIIC_IP));
    add('intellivue-connect', connectIndications(ward, monitor));
  }
  for (const monitor of ofRole('ge-monitor')) {
    add('monitor-waves', monitorWaves(ward, monitor, GE_CENTRAL_IP));
  }
  add('carescape-time-sync', carescapeTimeSync(ward, geCentral));
  add('hl7-oru', centralHl7(ward, piic, PHILIPS_MONITORS));
  add('hl7-oru', centralHl7(ward, geCentral, GE_MONITORS));
  for (const pump of ofRole('infusion-pump'))
    add('pump-tls', pumpStatus(ward, pump));
  const ct = ward.byName.get('SYNTH-CT-01')!;
  const us = ward.byName.get('SYNTH-US-01')!;
  add(
    'dicom',
    dicomStudies(
      ward,
      ct,
      CT_STUDIES_PER_HOUR,
      CT_IMAGES_PER_STUDY,
      CT_IMAGE_BYTES,
      60,
    ),
  );
  add(
    'dicom',
    dicomStudies(
      ward,
      us,
      US_STUDIES_PER_HOUR,
      US_IMAGES_PER_STUDY,
      US_IMAGE_BYTES,
      75,
    ),
  );
  const workstations = ofRole('workstation');
  for (const ws of workstations) {
    add('https', workstationBrowsing(ward, ws));
    add('hl7-query', workstationHl7(ward, ws));
  }
  for (const printer of ofRole('printer')) {
    add('print', printJobs(ward, printer, workstations));
    add('ssdp-mdns', printerAnnouncements(ward, printer));
  }
  for (const phone of ofRole('phone')) {
    add('sip', sipRegistrations(ward, phone));
    add('rtp-call', calls(ward, phone));
  }
  add(
    'icmp',
    nmsPings(ward, [
      ...ofRole('philips-monitor'),
      ...ofRole('ge-monitor'),
      ...ofRole('infusion-pump'),
    ]),
  );
  return out;
}

/** Cursor of one activity in the merge. */
interface Cursor {
  order: number;
  name: string;
  bursts: Activity;
  frames: TimedFrame[];
  index: number;
  lastUs: number;
}

/** Load the cursor's next non-empty burst; false when the activity ended. */
function advance(cursor: Cursor): boolean {
  while (cursor.index >= cursor.frames.length) {
    const next = cursor.bursts.next();
    if (next.done === true) return false;
    cursor.frames = next.value.sorted();
    cursor.index = 0;
  }
  return true;
}

function headUs(cursor: Cursor): number {
  return cursor.frames[cursor.index].timeUs;
}

function isBefore(a: Cursor, b: Cursor): boolean {
  const ta = headUs(a);
  const tb = headUs(b);
  return ta < tb || (ta === tb && a.order < b.order);
}

/** A binary min-heap of cursors by next frame time, then activity order. */
class CursorHeap {
  private readonly items: Cursor[] = [];

  get size(): number {
    return this.items.length;
  }

  push(cursor: Cursor): void {
    const items = this.items;
    items.push(cursor);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!isBefore(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): Cursor {
    const items = this.items;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < items.length && isBefore(items[left], items[least]))
          least = left;
        if (right < items.length && isBefore(items[right], items[least]))
          least = right;
        if (least === i) break;
        [items[i], items[least]] = [items[least], items[i]];
        i = least;
      }
    }
    return top;
  }
}

/** Write the ward capture; returns what it holds. */
export function generateWardCapture(
  options: WardCaptureOptions,
): WardCaptureStats {
  const durationSec = options.durationSec ?? WARD_DEFAULT_DURATION_SEC;
  const rng = new SeededRng(options.seed ?? WARD_DEFAULT_SEED);
  const hosts = makeWardHosts();
  const net = new HospitalNet(hosts, rng, new Timeline());
  const ward: Ward = {
    net,
    rng,
    endUs: secUs(durationSec),
    hosts,
    byName: new Map(hosts.map((h) => [h.name, h])),
    readyUs: new Map(),
  };
  // Devices boot within the first minute; servers are up from the start.
  for (const host of hosts) {
    const bootUs =
      host.role === 'server' ? 0 : 1_500_000 + rng.nextInt(BOOT_SPREAD_US);
    ward.readyUs.set(host, bootUs);
  }

  const heap = new CursorHeap();
  activities(ward).forEach(({ name, bursts }, order) => {
    const cursor: Cursor = {
      order,
      name,
      bursts,
      frames: [],
      index: 0,
      lastUs: -1,
    };
    if (advance(cursor)) heap.push(cursor);
  });

  const writer = new PcapWriter(options.path, { linkType: LinkType.Ethernet });
  const baseUs = BASE_TIME_SEC * 1e6;
  const framesByActivity: Record<string, number> = {};
  let frames = 0;
  let wireBytes = 0;
  try {
    while (heap.size > 0) {
      const cursor = heap.pop();
      const { timeUs, frame } = cursor.frames[cursor.index++];
      if (timeUs < cursor.lastUs) {
        throw new Error(`${cursor.name}: bursts overlap at ${timeUs} us`);
      }
      cursor.lastUs = timeUs;
      // The capture ends at the hour: later frames (a transfer in
      // progress) are cut, as a capture stopped then would cut them.
      if (timeUs >= 0 && timeUs < ward.endUs) {
        const absUs = baseUs + timeUs;
        writer.writeFrame(frame, Math.floor(absUs / 1e6), (absUs % 1e6) * 1000);
        frames++;
        wireBytes += frame.length;
        framesByActivity[cursor.name] =
          (framesByActivity[cursor.name] ?? 0) + 1;
      }
      if (timeUs < ward.endUs && advance(cursor)) heap.push(cursor);
    }
  } finally {
    writer.close();
  }

  return {
    frames,
    wireBytes,
    durationSec,
    hosts: hosts.map((h) => ({
      name: h.name,
      mac: h.mac,
      ip: h.ip,
      vlan: h.vlan,
      role: h.role,
      dhcpVendorClass: h.dhcp?.vendorClass ?? null,
    })),
    framesByActivity,
  };
}

const isMain =
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const path = resolve(process.argv[2] ?? 'bench-data/ward-1h.pcap');
  const durationSec = Number(process.argv[3] ?? WARD_DEFAULT_DURATION_SEC);
  const stats = generateWardCapture({ path, durationSec });
  console.log(
    JSON.stringify({ path, ...stats, hosts: stats.hosts.length }, null, 2),
  );
}
