/**
 * The shipped device catalog: it compiles, covers the makers and categories
 * it promises, classifies typical devices, and rejects broken catalogs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import {
  concatBytes,
  EtherType,
  ethernetFrame,
  lldpPdu,
  put16,
  textBytes,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';
import { readCaptureFile } from '../../src/capture/capture-file.js';
import { LinkType } from '../../src/capture/link-type.js';
import { CdpCapability } from '../../src/fingerprint/cdp.js';
import { LldpCapability } from '../../src/fingerprint/lldp.js';
import {
  CATEGORIES,
  CatalogError,
  compileCatalog,
  loadCatalogFile,
  loadDefaultCatalog,
  MIN_CONFIDENCE,
  type Catalog,
  type CatalogRule,
  type DeviceFacts,
} from '../../src/inventory/catalog.js';
import { Device, type DeviceReport } from '../../src/inventory/device.js';
import { Inventory } from '../../src/inventory/inventory.js';
import { PacketPipeline } from '../../src/pipeline.js';

const CATALOG_PATH = new URL(
  '../../src/inventory/catalog.json',
  import.meta.url,
).pathname;
const raw = JSON.parse(readFileSync(CATALOG_PATH, 'utf8')) as Catalog;
const catalog = loadDefaultCatalog();

/** Makers the catalog must name, as `make` values. */
const MAKERS = [
  'Philips',
  'GE HealthCare',
  'Siemens Healthineers',
  'Baxter',
  'BD',
  'B. Braun',
  'ICU Medical',
  'Draeger',
  'Mindray',
  'Nihon Kohden',
  'Masimo',
  'Medtronic',
  'Hillrom',
  'Spacelabs',
  'Fujifilm',
  'Canon Medical',
  'Carestream',
  'Agfa',
  'Roche',
  'Abbott',
  'Beckman Coulter',
  'Sysmex',
  'Zebra',
  'HP',
  'Brother',
  'Lexmark',
  'Canon',
  'Xerox',
  'Axis',
  'Hikvision',
  'Dahua',
  'Hanwha',
  'Cisco',
  'Poly',
  'Yealink',
  'Avaya',
  'Mitel',
  'HPE Aruba',
  'Juniper',
  'Extreme Networks',
  'Ubiquiti',
  'Johnson Controls',
  'Honeywell',
  'Siemens',
  'Schneider Electric',
  'Apple',
  'Samsung',
  'Epic',
  'Cerner',
];

/** Registered organisation names (first line), as `vendor` facts carry. */
const ouiNames: string[] = Object.values(
  createRequire(import.meta.url)('oui-data') as Record<string, string>,
).map((entry) => entry.split('\n', 1)[0].trim());

const matcherOf = (rule: CatalogRule): string =>
  rule.regex !== undefined
    ? `regex:${rule.regex}`
    : rule.equals !== undefined
      ? `equals:${rule.equals.toLowerCase()}`
      : `prefix:${String(rule.prefix).toLowerCase()}`;

t.test('catalog: the shipped file compiles', async (t) => {
  t.equal(catalog.version, '2026.12.7');
  t.equal(raw.version, catalog.version);
  t.equal(catalog.entryCount, raw.entries.length);
  t.ok(catalog.entryCount >= 100, `${catalog.entryCount} entries`);
  t.same(loadCatalogFile(CATALOG_PATH).entryCount, catalog.entryCount);
});

t.test('catalog: ids are kebab-case and unique', async (t) => {
  const bad = raw.entries
    .map((entry) => entry.id)
    .filter((id) => !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id));
  t.same(bad, []);
  t.equal(new Set(raw.entries.map((e) => e.id)).size, raw.entries.length);
});

t.test('catalog: every listed maker is a make', async (t) => {
  const makes = new Set(raw.entries.map((entry) => entry.make));
  t.same(
    MAKERS.filter((maker) => !makes.has(maker)),
    [],
  );
});

t.test('catalog: every category but unknown has entries', async (t) => {
  const used = new Set(raw.entries.map((entry) => entry.category));
  for (const category of CATEGORIES) {
    if (category === 'unknown') {
      t.notOk(used.has(category), 'no entry claims unknown');
    } else {
      t.ok(used.has(category), category);
    }
  }
});

t.test('catalog: vendor rules are anchored and registered', async (t) => {
  for (const entry of raw.entries) {
    for (const rule of entry.rules) {
      if (rule.field !== 'vendor') continue;
      const where = `${entry.id}: ${matcherOf(rule)}`;
      t.ok(rule.regex?.startsWith('^'), `anchored regex, ${where}`);
      // The OUI alone never names a device: 0.5 at most (see README).
      t.ok(rule.weight <= 0.5, `weight ${rule.weight}, ${where}`);
      const pattern = new RegExp(rule.regex ?? '', 'i');
      t.ok(
        ouiNames.some((name) => pattern.test(name)),
        `matches a registered organisation, ${where}`,
      );
    }
  }
});

t.test('catalog: makers echo generic rules with less weight', async (t) => {
  // A make-less entry's rule, repeated by an entry naming a make, must weigh
  // less there, so evidence that names no maker never picks one.
  const generic = new Map<string, number>();
  for (const entry of raw.entries) {
    if (entry.make !== undefined) continue;
    for (const rule of entry.rules) {
      const key = `${entry.category} ${rule.field} ${matcherOf(rule)}`;
      generic.set(key, Math.max(generic.get(key) ?? 0, rule.weight));
    }
  }
  let echoes = 0;
  for (const entry of raw.entries) {
    if (entry.make === undefined) continue;
    for (const rule of entry.rules) {
      const key = `${entry.category} ${rule.field} ${matcherOf(rule)}`;
      const weight = generic.get(key);
      if (weight === undefined) continue;
      echoes += 1;
      t.ok(rule.weight < weight, `${entry.id}: ${key} ${rule.weight}`);
    }
  }
  t.ok(echoes > 100, `${echoes} echoed rules checked`);
});

t.test('catalog: evidence that names no maker picks none', async (t) => {
  // Facts built from each make-less entry's literal (equals, prefix) rules,
  // one at a time and all together, must keep its category and no make.
  let checked = 0;
  for (const entry of raw.entries) {
    if (entry.make !== undefined) continue;
    const all: Record<string, string[]> = {};
    const singles: DeviceFacts[] = [];
    for (const rule of entry.rules) {
      const value = rule.equals ?? rule.prefix;
      if (value === undefined) continue;
      (all[rule.field] ??= []).push(value);
      singles.push({ [rule.field]: [value] });
    }
    if (singles.length === 0) continue;
    for (const facts of [all as DeviceFacts, ...singles]) {
      const result = catalog.classify(facts);
      const label = `${entry.id} ${JSON.stringify(facts)} -> ${result.entryId}`;
      if (result.category === 'unknown') continue;
      checked += 1;
      t.equal(result.category, entry.category, label);
      t.equal(result.make, null, label);
    }
  }
  t.ok(checked >= 15, `${checked} fact sets classified`);
});

interface Example {
  name: string;
  facts: DeviceFacts;
  category: string;
  make: string | null;
  model?: string | null;
  minConfidence?: number;
}

const EXAMPLES: Example[] = [
  {
    name: 'Philips IntelliVue by OUI and hint',
    facts: {
      vendor: ['Philips Medical Systems Nederland B.V.'],
      'hint.product': ['IntelliVue'],
    },
    category: 'patient_monitor',
    make: 'Philips',
    model: 'IntelliVue',
    minConfidence: 0.8,
  },
  {
    name: 'Philips patient monitoring OUI alone',
    facts: { vendor: ['Philips Patient Monitoring'] },
    category: 'patient_monitor',
    make: 'Philips',
    model: null,
  },
  {
    name: 'Philips monitoring OUI sending HL7 observation results',
    facts: {
      vendor: ['Philips Medical Systems - Cardiac and Monitoring Systems (CM'],
      'hl7.messageType': ['ORU^R01'],
    },
    category: 'patient_monitor',
    make: 'Philips',
    model: null,
    minConfidence: 0.6,
  },
  {
    name: 'Roche analyser sending lab results (IHE LAW)',
    facts: {
      vendor: ['Roche Diagnostics GmbH'],
      'hl7.messageType': ['OUL^R22'],
    },
    category: 'lab_analyser',
    make: 'Roche',
    minConfidence: 0.6,
  },
  {
    name: 'HL7 sender of admissions',
    facts: {
      'hl7.sendingApplication': ['ADT1'],
      'hl7.messageType': ['ADT^A04'],
    },
    category: 'pacs_or_clinical_workstation',
    make: null,
    minConfidence: 0.5,
  },
  {
    name: 'NTP server and nothing else',
    facts: { 'server.port': ['123'] },
    category: 'network_infrastructure',
    make: null,
  },
  {
    name: 'a virtual machine serving DHCP stays a computer',
    facts: { vendor: ['VMware, Inc.'], 'server.port': ['67'] },
    category: 'general_purpose_computer',
    make: 'VMware',
  },
  {
    name: 'HP with a JetDirect port',
    facts: { vendor: ['Hewlett Packard'], 'server.port': ['9100'] },
    category: 'printer',
    make: 'HP',
  },
  {
    name: 'GE implementation class UID',
    facts: { 'dicom.implementationClassUid': ['1.2.840.113619.6.374'] },
    category: 'imaging_modality',
    make: 'GE HealthCare',
    minConfidence: 0.8,
  },
  {
    name: 'GE CARESCAPE hint',
    facts: {
      vendor: ['GE Healthcare'],
      'hint.vendor': ['GE'],
      'hint.product': ['CARESCAPE B650'],
    },
    category: 'patient_monitor',
    make: 'GE HealthCare',
    model: 'CARESCAPE',
    minConfidence: 0.9,
  },
  {
    name: 'GE OUI alone names no model',
    facts: { vendor: ['GE Healthcare'] },
    category: 'patient_monitor',
    make: 'GE HealthCare',
    model: null,
  },
  {
    name: 'GE OUI running Windows: a clinical workstation',
    facts: {
      vendor: ['GE Healthcare'],
      'dhcp.vendorClass': ['MSFT 5.0'],
      'tcp.osGuess': ['Windows 10/11 or Server 2016+'],
    },
    category: 'pacs_or_clinical_workstation',
    make: 'GE HealthCare',
  },
  {
    name: 'GE OUI running Windows and sending images: a modality',
    facts: {
      vendor: ['GE Healthcare'],
      'dhcp.vendorClass': ['MSFT 5.0'],
      'dicom.implementationClassUid': ['1.2.840.113619.6.374'],
      'dicom.role': ['scu'],
    },
    category: 'imaging_modality',
    make: 'GE HealthCare',
  },
  {
    name: 'Siemens modality UID',
    facts: {
      'dicom.implementationClassUid': ['1.3.12.2.1107.5.2'],
      'dicom.role': ['scu'],
    },
    category: 'imaging_modality',
    make: 'Siemens Healthineers',
  },
  {
    name: 'Siemens diagnostics OUI',
    facts: { vendor: ['Siemens Healthcare Diagnostics Manufacturing Ltd'] },
    category: 'lab_analyser',
    make: 'Siemens Healthineers',
  },
  {
    name: 'Canon (Toshiba) modality UID',
    facts: { 'dicom.implementationClassUid': ['1.2.392.200036.9116.2.6.1'] },
    category: 'imaging_modality',
    make: 'Canon Medical',
  },
  {
    name: 'Fujifilm UID sending images',
    facts: {
      'dicom.implementationClassUid': ['1.2.392.200036.9125.5342.1'],
      'dicom.role': ['scu'],
    },
    category: 'imaging_modality',
    make: 'Fujifilm',
  },
  {
    name: 'Fujifilm UID accepting images on 104',
    facts: {
      'dicom.implementationClassUid': ['1.2.392.200036.9125.5342.1'],
      'dicom.role': ['scp'],
      'server.port': ['104'],
    },
    category: 'pacs_or_clinical_workstation',
    make: 'Fujifilm',
  },
  {
    name: 'Agfa UID',
    facts: { 'dicom.implementationClassUid': ['1.2.124.113532.80.22185'] },
    category: 'imaging_modality',
    make: 'Agfa',
  },
  {
    name: 'Carestream OUI',
    facts: { vendor: ['Carestream Health, Inc.'] },
    category: 'imaging_modality',
    make: 'Carestream',
  },
  {
    name: 'Baxter OUI',
    facts: { vendor: ['Baxter International Inc'] },
    category: 'infusion_pump',
    make: 'Baxter',
  },
  {
    name: 'BD Alaris by hint',
    facts: { vendor: ['Carefusion'], 'hint.product': ['Alaris PC unit'] },
    category: 'infusion_pump',
    make: 'BD',
    model: 'Alaris',
    minConfidence: 0.9,
  },
  {
    name: 'B. Braun OUI',
    facts: { vendor: ['B.Braun Melsungen AG'] },
    category: 'infusion_pump',
    make: 'B. Braun',
  },
  {
    name: 'ICU Medical Plum',
    facts: { vendor: ['ICU Medical, Inc.'], 'hint.product': ['Plum 360'] },
    category: 'infusion_pump',
    make: 'ICU Medical',
    model: 'Plum',
  },
  {
    name: 'Draeger ventilator',
    facts: {
      vendor: ['Drägerwerk AG & Co. KG aA'],
      'hint.product': ['Evita V800'],
    },
    category: 'patient_monitor',
    make: 'Draeger',
    minConfidence: 0.85,
  },
  {
    name: 'Mindray OUI',
    facts: { vendor: ['Mindray Co., Ltd.'] },
    category: 'patient_monitor',
    make: 'Mindray',
  },
  {
    name: 'Nihon Kohden OUI',
    facts: { vendor: ['NIHON KOHDEN AMERICA'] },
    category: 'patient_monitor',
    make: 'Nihon Kohden',
  },
  {
    name: 'Masimo OUI',
    facts: { vendor: ['Masimo Corporation'] },
    category: 'patient_monitor',
    make: 'Masimo',
  },
  {
    name: 'Medtronic ventilator OUI',
    facts: { vendor: ['PURITAN BENNETT'] },
    category: 'patient_monitor',
    make: 'Medtronic',
  },
  {
    name: 'Hillrom (Welch Allyn) OUI',
    facts: { vendor: ['Welch Allyn, Inc.'] },
    category: 'patient_monitor',
    make: 'Hillrom',
  },
  {
    name: 'Spacelabs OUI',
    facts: { vendor: ['SPACELABS MEDICAL'] },
    category: 'patient_monitor',
    make: 'Spacelabs',
  },
  {
    name: 'IEEE 11073 SDC device',
    facts: { 'wsd.type': ['mdpws:MedicalDevice', 'dpws:Device'] },
    category: 'patient_monitor',
    make: null,
  },
  {
    name: 'Roche cobas',
    facts: { vendor: ['Roche Diagnostics GmbH'], 'hint.product': ['cobas'] },
    category: 'lab_analyser',
    make: 'Roche',
    minConfidence: 0.85,
  },
  {
    name: 'Abbott i-STAT by POCT1-A hello',
    facts: { 'hint.vendor': ['Abbott'], 'hint.product': ['i-STAT'] },
    category: 'lab_analyser',
    make: 'Abbott',
  },
  {
    name: 'Beckman Coulter OUI',
    facts: { vendor: ['Beckman Coulter K.K.'] },
    category: 'lab_analyser',
    make: 'Beckman Coulter',
  },
  {
    name: 'Sysmex OUI',
    facts: { vendor: ['Sysmex Corporation'] },
    category: 'lab_analyser',
    make: 'Sysmex',
  },
  {
    name: 'printer protocols without a maker',
    facts: {
      'server.port': ['9100', '631', '80'],
      'mdns.service': ['_ipp._tcp.local'],
    },
    category: 'printer',
    make: null,
  },
  {
    name: 'Brother printer',
    facts: {
      vendor: ['Brother industries, LTD.'],
      'server.port': ['9100', '631'],
      'mdns.service': ['_ipp._tcp.local', '_pdl-datastream._tcp.local'],
    },
    category: 'printer',
    make: 'Brother',
  },
  {
    name: 'Lexmark printer',
    facts: { vendor: ['LEXMARK INTERNATIONAL, INC.'], 'server.port': ['9100'] },
    category: 'printer',
    make: 'Lexmark',
  },
  {
    name: 'Canon printer by TXT model',
    facts: {
      'mdns.service': ['_ipp._tcp.local'],
      'mdns.model': ['Canon iR-ADV C5535'],
    },
    category: 'printer',
    make: 'Canon',
  },
  {
    name: 'Xerox printer',
    facts: { vendor: ['XEROX CORPORATION'], 'server.port': ['9100', '515'] },
    category: 'printer',
    make: 'Xerox',
  },
  {
    name: 'Zebra label printer',
    facts: { vendor: ['Zebra Technologies Inc.'], 'server.port': ['9100'] },
    category: 'printer',
    make: 'Zebra',
  },
  {
    name: 'Zebra Android handheld',
    facts: {
      vendor: ['Zebra Technologies Inc.'],
      'dhcp.vendorClass': ['android-dhcp-11'],
    },
    category: 'mobile',
    make: 'Zebra',
  },
  {
    name: 'ONVIF camera without a maker',
    facts: {
      'wsd.type': ['dn:NetworkVideoTransmitter', 'tds:Device'],
      'server.port': ['554', '80'],
    },
    category: 'ip_camera',
    make: null,
    minConfidence: 0.9,
  },
  {
    name: 'Axis camera by mDNS',
    facts: { 'mdns.service': ['_axis-video._tcp.local'] },
    category: 'ip_camera',
    make: 'Axis',
  },
  {
    name: 'Hikvision camera',
    facts: {
      vendor: ['Hangzhou Hikvision Digital Technology Co.,Ltd.'],
      'server.port': ['554'],
    },
    category: 'ip_camera',
    make: 'Hikvision',
  },
  {
    name: 'Dahua camera',
    facts: {
      vendor: ['Zhejiang Dahua Technology Co., Ltd.'],
      'server.port': ['37777'],
    },
    category: 'ip_camera',
    make: 'Dahua',
  },
  {
    name: 'Hanwha camera',
    facts: {
      vendor: ['Hanwha Vision VietNam'],
      'wsd.type': ['dn:NetworkVideoTransmitter'],
    },
    category: 'ip_camera',
    make: 'Hanwha',
  },
  {
    name: 'SIP endpoint without a maker',
    facts: { 'server.port': ['5060'] },
    category: 'voip_phone',
    make: null,
  },
  {
    name: 'Cisco IP phone by CDP',
    facts: {
      vendor: ['Cisco Systems, Inc'],
      'cdp.platform': ['Cisco IP Phone 7945'],
      hostname: ['SEP001122334455'],
    },
    category: 'voip_phone',
    make: 'Cisco',
    minConfidence: 0.9,
  },
  {
    name: 'Cisco switch by CDP',
    facts: {
      vendor: ['Cisco Systems, Inc'],
      'cdp.platform': ['cisco WS-C3560-24PS'],
    },
    category: 'network_infrastructure',
    make: 'Cisco',
  },
  {
    name: 'Poly phone by user agent',
    facts: { 'http.userAgent': ['PolycomVVX-VVX_411-UA/5.9.0.9373'] },
    category: 'voip_phone',
    make: 'Poly',
  },
  {
    name: 'Yealink phone',
    facts: {
      'http.userAgent': ['Yealink SIP-T46S 66.86.0.15'],
      'server.port': ['5060'],
    },
    category: 'voip_phone',
    make: 'Yealink',
  },
  {
    name: 'Avaya phone by DHCP vendor class',
    facts: { 'dhcp.vendorClass': ['ccp.avaya.com'] },
    category: 'voip_phone',
    make: 'Avaya',
  },
  {
    name: 'Mitel phone by DHCP vendor class',
    facts: { 'dhcp.vendorClass': ['ipphone.mitel.com'] },
    category: 'voip_phone',
    make: 'Mitel',
  },
  // SIP User-Agent and Server values in the shapes vendors' guides and
  // public traces print them; the model comes from the value.
  {
    name: 'Cisco phone by SIP',
    facts: { 'sip.userAgent': ['Cisco-CP8845/14.2'], 'server.port': ['5060'] },
    category: 'voip_phone',
    make: 'Cisco',
    model: 'CP8845',
    minConfidence: 0.75,
  },
  {
    name: 'Cisco 7905 by SIP',
    facts: { 'sip.userAgent': ['Cisco-CP7905/1.01-030429A'] },
    category: 'voip_phone',
    make: 'Cisco',
    model: 'CP7905',
    minConfidence: 0.75,
  },
  {
    name: 'Poly VVX by SIP',
    facts: { 'sip.userAgent': ['PolycomVVX-VVX_411-UA/6.4.0.1234'] },
    category: 'voip_phone',
    make: 'Poly',
    model: 'VVX_411',
    minConfidence: 0.75,
  },
  {
    name: 'Poly with a leading product token',
    facts: {
      'sip.userAgent': [
        'Polycom/5.5.0.20556 PolycomVVX-VVX_500-UA/5.5.0.20556',
      ],
    },
    category: 'voip_phone',
    make: 'Poly',
    model: 'VVX_500',
    minConfidence: 0.75,
  },
  {
    name: 'Poly SoundPoint by SIP',
    facts: { 'sip.userAgent': ['PolycomSoundPointIP-SPIP_550-UA/4.0.1.13681'] },
    category: 'voip_phone',
    make: 'Poly',
    model: 'SPIP_550',
    minConfidence: 0.75,
  },
  {
    name: 'Yealink by SIP',
    facts: { 'sip.userAgent': ['Yealink SIP-T23G 44.80.0.60'] },
    category: 'voip_phone',
    make: 'Yealink',
    model: 'SIP-T23G',
    minConfidence: 0.75,
  },
  {
    name: 'Grandstream by SIP',
    facts: { 'sip.userAgent': ['Grandstream GXP2170 1.0.11.46'] },
    category: 'voip_phone',
    make: 'Grandstream',
    model: 'GXP2170',
    minConfidence: 0.75,
  },
  {
    name: 'snom by SIP',
    facts: { 'sip.userAgent': ['snomD785/10.1.84.12'] },
    category: 'voip_phone',
    make: 'snom',
    model: 'D785',
    minConfidence: 0.75,
  },
  {
    name: 'Aastra (Mitel) by SIP',
    facts: { 'sip.userAgent': ['Aastra 51i/2.5.1.41'] },
    category: 'voip_phone',
    make: 'Mitel',
    model: '51i',
    minConfidence: 0.75,
  },
  {
    name: 'Avaya deskphone by SIP',
    facts: {
      'sip.userAgent': ['Avaya one-X Deskphone 7.1.15.1.3 b4475ea2e9a0'],
    },
    category: 'voip_phone',
    make: 'Avaya',
    model: null,
    minConfidence: 0.75,
  },
  {
    name: 'Avaya H175 by SIP',
    facts: {
      'sip.userAgent': [
        'Avaya H175 Collaboration Station H1xx_SIP-R1_0_2_3_3050.tar',
      ],
    },
    category: 'voip_phone',
    make: 'Avaya',
    model: 'H175',
    minConfidence: 0.75,
  },
  {
    name: 'Cisco call manager by SIP, not a phone',
    facts: {
      'sip.userAgent': ['Cisco-CUCM10.0.1.98000-19'],
      'server.port': ['5060'],
    },
    category: 'network_infrastructure',
    make: 'Cisco',
    model: 'Unified Communications Manager',
    minConfidence: 0.75,
  },
  {
    name: 'Avaya Session Manager by SIP',
    facts: { 'sip.userAgent': ['Avaya-SM/7.1.3.0'] },
    category: 'network_infrastructure',
    make: 'Avaya',
    model: null,
    minConfidence: 0.75,
  },
  {
    name: 'Mitel 3300 by SIP',
    facts: { 'sip.userAgent': ['Mitel-3300-ICP 8.0.9.18'] },
    category: 'network_infrastructure',
    make: 'Mitel',
    model: '3300 ICP',
    minConfidence: 0.75,
  },
  {
    name: '3CX by SIP',
    facts: { 'sip.userAgent': ['3CXPhoneSystem 15.5.15502.6 (15502)'] },
    category: 'network_infrastructure',
    make: '3CX',
    model: 'Phone System',
    minConfidence: 0.75,
  },
  {
    name: 'Asterisk by SIP, not a phone',
    facts: {
      'sip.userAgent': ['Asterisk PBX 18.2.0'],
      'server.port': ['5060'],
    },
    category: 'network_infrastructure',
    make: null,
    model: 'Asterisk',
    minConfidence: 0.75,
  },
  {
    name: 'FreeSWITCH by SIP',
    facts: { 'sip.userAgent': ['FreeSWITCH-mod_sofia/1.10.7-release~64bit'] },
    category: 'network_infrastructure',
    make: null,
    model: 'FreeSWITCH',
    minConfidence: 0.75,
  },
  {
    name: 'Kamailio by its Server',
    facts: {
      'sip.userAgent': ['kamailio (5.6.3 (x86_64/linux))'],
      'sip.role': ['registrar'],
    },
    category: 'network_infrastructure',
    make: null,
    model: 'Kamailio',
    minConfidence: 0.9,
  },
  {
    name: 'OpenSIPS by its Server',
    facts: { 'sip.userAgent': ['OpenSIPS (3.2.10 (x86_64/linux))'] },
    category: 'network_infrastructure',
    make: null,
    model: 'OpenSIPS',
  },
  {
    name: 'an unknown agent that registers: a SIP endpoint',
    facts: {
      'sip.userAgent': ['baresip v1.0.0 (x86_64/linux)'],
      'sip.role': ['user_agent'],
    },
    category: 'voip_phone',
    make: null,
  },
  {
    name: 'an unknown registrar, answering on 5060',
    facts: { 'sip.role': ['registrar'], 'server.port': ['5060'] },
    category: 'network_infrastructure',
    make: null,
    minConfidence: 0.7,
  },
  {
    name: 'a PBX registering to its trunk and taking registrations',
    facts: {
      'sip.role': ['user_agent', 'registrar'],
      'server.port': ['5060'],
    },
    category: 'network_infrastructure',
    make: null,
  },
  {
    name: 'a Windows PC with a softphone stays a computer',
    facts: {
      'sip.role': ['user_agent'],
      'dhcp.vendorClass': ['MSFT 5.0'],
      'tcp.osGuess': ['Windows 10/11 or Server 2016+'],
    },
    category: 'general_purpose_computer',
    make: null,
  },
  // Phones fetching their configuration over HTTP, as provisioning
  // servers' documents and tests show their agents.
  {
    name: 'Poly model from its provisioning agent',
    facts: {
      'http.userAgent': [
        'FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234 Type/Application',
      ],
    },
    category: 'voip_phone',
    make: 'Poly',
    model: 'VVX_450',
  },
  {
    name: 'Yealink model from its provisioning agent',
    facts: { 'http.userAgent': ['Yealink SIP-T46S 66.86.0.15 805ec0123456'] },
    category: 'voip_phone',
    make: 'Yealink',
    model: 'SIP-T46S',
  },
  {
    name: 'Grandstream model from its provisioning agent',
    facts: { 'http.userAgent': ['Grandstream GXP2170 1.0.11.46'] },
    category: 'voip_phone',
    make: 'Grandstream',
    model: 'GXP2170',
  },
  {
    name: 'Aastra (Mitel) model from its provisioning agent',
    facts: {
      'http.userAgent': ['Aastra6731i MAC:00-11-22-33-44-55 V:3.2.2.1136-SIP'],
    },
    category: 'voip_phone',
    make: 'Mitel',
    model: '6731i',
  },
  {
    name: 'a softphone names no phone maker',
    facts: { 'sip.userAgent': ['Grandstream Wave 1.2.14'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'Juniper switch by LLDP',
    facts: {
      'lldp.systemDescription': [
        'Juniper Networks, Inc. ex2300-c-12p Ethernet Switch, kernel JUNOS',
      ],
    },
    category: 'network_infrastructure',
    make: 'Juniper',
  },
  {
    name: 'Aruba access point by DHCP vendor class',
    facts: {
      vendor: ['Hewlett Packard Enterprise'],
      'dhcp.vendorClass': ['ArubaAP'],
    },
    category: 'network_infrastructure',
    make: 'HPE Aruba',
  },
  {
    name: 'Extreme switch by LLDP',
    facts: { 'lldp.systemDescription': ['ExtremeXOS (X440G2-48p) 30.2'] },
    category: 'network_infrastructure',
    make: 'Extreme Networks',
  },
  {
    name: 'Ubiquiti access point',
    facts: { vendor: ['Ubiquiti Inc'], 'dhcp.vendorClass': ['ubnt'] },
    category: 'network_infrastructure',
    make: 'Ubiquiti',
  },
  {
    name: 'VRRP virtual router MAC',
    facts: { mac: ['00:00:5e:00:01:1e'], vendor: ['ICANN, IANA Department'] },
    category: 'network_infrastructure',
    make: null,
    model: 'VRRP virtual router',
  },
  {
    name: 'other IANA MACs are not routers (documentation range)',
    facts: { mac: ['00:00:5e:00:53:01'], vendor: ['ICANN, IANA Department'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'HSRP version 2 virtual router MAC',
    facts: { mac: ['00:00:0c:9f:f0:0a'], vendor: ['Cisco Systems, Inc'] },
    category: 'network_infrastructure',
    make: 'Cisco',
    model: 'HSRP virtual router',
  },
  {
    name: 'BACnet controller without a maker',
    facts: { 'server.port': ['47808'] },
    category: 'building_automation',
    make: null,
  },
  {
    name: 'Johnson Controls BACnet controller',
    facts: {
      vendor: ['Johnson Controls, Inc.'],
      'server.port': ['47808'],
    },
    category: 'building_automation',
    make: 'Johnson Controls',
  },
  {
    name: 'Honeywell building controller',
    facts: {
      vendor: ['Honeywell Connected Building'],
      'server.port': ['47808'],
    },
    category: 'building_automation',
    make: 'Honeywell',
  },
  {
    name: 'Siemens Building Technologies controller',
    facts: {
      vendor: ['Siemens Building Technologies AG,'],
      'server.port': ['47808'],
    },
    category: 'building_automation',
    make: 'Siemens',
  },
  {
    name: 'Schneider Electric Modbus device',
    facts: { vendor: ['Schneider Electric'], 'server.port': ['502'] },
    category: 'building_automation',
    make: 'Schneider Electric',
  },
  {
    name: 'Windows PC without a maker',
    facts: {
      'dhcp.vendorClass': ['MSFT 5.0'],
      'http.userAgent': [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
      ],
    },
    category: 'general_purpose_computer',
    make: null,
  },
  {
    name: 'Dell Windows PC',
    facts: { vendor: ['Dell Inc.'], 'dhcp.vendorClass': ['MSFT 5.0'] },
    category: 'general_purpose_computer',
    make: 'Dell',
  },
  {
    name: 'Windows by TCP stack and DHCP',
    facts: {
      'tcp.osGuess': ['Windows 10/11 or Server 2016+'],
      'dhcp.vendorClass': ['MSFT 5.0'],
    },
    category: 'general_purpose_computer',
    make: null,
  },
  {
    name: 'a TTL of 128 alone is not Windows',
    facts: { 'tcp.osGuess': ['Windows-like stack (TTL 128)'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'Apple TCP stack alone is not enough',
    facts: { 'tcp.osGuess': ['macOS or iOS'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'Cisco router by TCP stack',
    facts: { vendor: ['Cisco Systems, Inc'], 'tcp.osGuess': ['Cisco IOS'] },
    category: 'network_infrastructure',
    make: 'Cisco',
  },
  {
    name: 'Android by TCP stack and DHCP',
    facts: {
      'tcp.osGuess': ['Android'],
      'dhcp.vendorClass': ['android-dhcp-12'],
    },
    category: 'mobile',
    make: null,
  },
  {
    name: 'Mac by user agent',
    facts: {
      'http.userAgent': [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15',
      ],
    },
    category: 'general_purpose_computer',
    make: 'Apple',
  },
  {
    name: 'Linux desktop by user agent',
    facts: {
      'http.userAgent': ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0)'],
    },
    category: 'general_purpose_computer',
    make: null,
  },
  {
    name: 'Android phone with a randomised MAC',
    facts: { 'dhcp.vendorClass': ['android-dhcp-13'] },
    category: 'mobile',
    make: null,
  },
  {
    name: 'iPhone with a randomised MAC',
    facts: { hostname: ['Janes-iPhone'] },
    category: 'mobile',
    make: 'Apple',
  },
  {
    name: 'Samsung Android phone',
    facts: {
      vendor: ['Samsung Electronics Co.,Ltd'],
      'dhcp.vendorClass': ['android-dhcp-14'],
    },
    category: 'mobile',
    make: 'Samsung',
  },
  {
    name: 'Apple OUI alone is not enough',
    facts: { vendor: ['Apple, Inc.'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'Apple OUI and Apple TCP stack: Mac or iPhone, unsaid',
    facts: { vendor: ['Apple, Inc.'], 'tcp.osGuess': ['macOS or iOS'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'an Android TV is not a mobile',
    facts: {
      'http.userAgent': [
        'Mozilla/5.0 (Linux; Android 11.0) CrKey/1.56 DeviceType/AndroidTV',
      ],
    },
    category: 'unknown',
    make: null,
  },
  {
    name: 'a zeroed MAC (registered to Xerox) says nothing',
    facts: { vendor: ['XEROX CORPORATION'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'DICOM SCP without a maker',
    facts: { 'dicom.role': ['scp'], 'server.port': ['11112'] },
    category: 'pacs_or_clinical_workstation',
    make: null,
    minConfidence: 0.8,
  },
  {
    name: 'dcmtk tools: weak workstation evidence',
    facts: {
      'dicom.implementationClassUid': ['1.2.276.0.7230010.3.0.3.6.7'],
      'dicom.implementationVersion': ['OFFIS_DCMTK_367'],
    },
    category: 'pacs_or_clinical_workstation',
    make: null,
  },
  {
    name: 'Orthanc by its default AE title',
    facts: { 'dicom.ae': ['ORTHANC'], 'dicom.role': ['scp'] },
    category: 'pacs_or_clinical_workstation',
    make: 'Orthanc',
  },
  {
    name: 'Epic HL7 sender',
    facts: { 'hl7.sendingApplication': ['EPIC'] },
    category: 'pacs_or_clinical_workstation',
    make: 'Epic',
  },
  {
    name: 'Cerner Millennium HL7 sender',
    facts: { 'hl7.sendingApplication': ['HNAM'] },
    category: 'pacs_or_clinical_workstation',
    make: 'Cerner',
  },
  {
    name: 'Mirth interface engine',
    facts: { 'hl7.sendingApplication': ['MIRTH'], 'server.port': ['2575'] },
    category: 'pacs_or_clinical_workstation',
    make: 'NextGen',
    model: 'Mirth Connect',
  },
  {
    name: 'LLDP telephone capability without a maker',
    facts: { 'lldp.capabilities': ['bridge', 'telephone'] },
    category: 'voip_phone',
    make: null,
    minConfidence: 0.7,
  },
  {
    name: 'CDP phone capability without a maker',
    facts: { 'cdp.capabilities': ['host', 'phone', 'two_port_mac_relay'] },
    category: 'voip_phone',
    make: null,
    minConfidence: 0.7,
  },
  {
    name: 'Cisco OUI and CDP phone capability: a Cisco phone',
    facts: {
      vendor: ['Cisco Systems, Inc'],
      'cdp.capabilities': ['host', 'phone'],
    },
    category: 'voip_phone',
    make: 'Cisco',
  },
  {
    name: 'LLDP bridge and router without a maker',
    facts: { 'lldp.capabilities': ['bridge', 'router'] },
    category: 'network_infrastructure',
    make: null,
  },
  {
    name: 'LLDP access point without a maker',
    facts: { 'lldp.capabilities': ['wlan_access_point'] },
    category: 'network_infrastructure',
    make: null,
  },
  {
    name: 'LLDP station only says nothing',
    facts: { 'lldp.capabilities': ['station_only'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'CDP switch without a maker',
    facts: { 'cdp.capabilities': ['switch', 'igmp'] },
    category: 'network_infrastructure',
    make: null,
  },
  {
    name: 'CT images sent without a maker: a modality',
    facts: {
      'dicom.abstractSyntax': ['scu:1.2.840.10008.5.1.4.1.1.2'],
      'dicom.role': ['scu'],
    },
    category: 'imaging_modality',
    make: null,
  },
  {
    name: 'CT images accepted: a PACS, not a modality',
    facts: {
      'dicom.abstractSyntax': ['scp:1.2.840.10008.5.1.4.1.1.2'],
      'dicom.role': ['scp'],
    },
    category: 'pacs_or_clinical_workstation',
    make: null,
  },
  {
    name: 'a DICOM requestor names no maker',
    facts: { 'dicom.role': ['scu'] },
    category: 'imaging_modality',
    make: null,
  },
  {
    name: 'verification (C-ECHO) alone is no modality evidence',
    facts: { 'dicom.abstractSyntax': ['scu:1.2.840.10008.1.1'] },
    category: 'unknown',
    make: null,
  },
  {
    name: 'GE OUI sending MR images: a GE modality',
    facts: {
      vendor: ['GE Healthcare'],
      'dicom.abstractSyntax': ['scu:1.2.840.10008.5.1.4.1.1.4'],
      'dicom.role': ['scu'],
    },
    category: 'imaging_modality',
    make: 'GE HealthCare',
    minConfidence: 0.7,
  },
  {
    name: 'a device with no facts',
    facts: {},
    category: 'unknown',
    make: null,
  },
  {
    name: 'facts no rule knows',
    facts: { vendor: ['Private'], 'server.port': ['12345'] },
    category: 'unknown',
    make: null,
  },
];

t.test('catalog: classification examples', async (t) => {
  for (const example of EXAMPLES) {
    const result = catalog.classify(example.facts);
    const label = `${example.name} -> ${result.entryId}`;
    t.equal(result.category, example.category, `${label}: category`);
    t.equal(result.make, example.make, `${label}: make`);
    if (example.model !== undefined) {
      t.equal(result.model, example.model, `${label}: model`);
    }
    if (example.category === 'unknown') {
      t.equal(result.confidence, 0, `${label}: no confidence`);
      t.same(result.evidence, [], `${label}: no evidence`);
      t.equal(result.entryId, null, `${label}: no entry`);
      continue;
    }
    const floor = example.minConfidence ?? MIN_CONFIDENCE;
    t.ok(result.confidence >= floor, `${label}: ${result.confidence}`);
    t.ok(result.confidence <= 1, `${label}: at most 1`);
    t.ok(result.evidence.length > 0, `${label}: evidence`);
  }
});

/** A capture's devices, classified by the shipped catalog. */
function devicesOf(path: string): DeviceReport[] {
  const inventory = new Inventory({ catalog });
  const pipeline = new PacketPipeline({ inventory });
  readCaptureFile(path, pipeline);
  pipeline.flows.flush();
  return inventory.report();
}

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

t.test('catalog: SIP roles and agents on a real capture', async (t) => {
  // Two baresip phones (one on UDP, one on TCP, whose 5060 the proxy
  // connects to) and the Kamailio registrar that relays their call.
  const devices = devicesOf(
    fixture('public/generated-sip/sip-baresip-kamailio.pcap'),
  );
  const byIp = (ip: string) => devices.find((d) => d.ips.includes(ip));
  t.match(byIp('10.77.0.1'), {
    category: 'network_infrastructure',
    model: 'Kamailio',
  });
  t.ok((byIp('10.77.0.1')?.confidence ?? 0) >= 0.9, 'agent and role');
  t.match(byIp('10.77.0.11'), { category: 'voip_phone', make: null });
  t.same(byIp('10.77.0.11')?.evidence, ['sip.role="user_agent" (0.35)']);
  t.match(byIp('10.77.0.12'), { category: 'voip_phone', make: null });
});

t.test(
  'catalog: capability and SOP class rules on real captures',
  async (t) => {
    // An SMC switch that announces only the bridge capability: before these
    // rules nothing classified it.
    const [smc] = devicesOf(fixture('public/zeek/lldp.pcap'));
    t.equal(smc?.vendor, 'SMC Networks Inc.');
    t.equal(smc?.category, 'network_infrastructure');
    t.equal(smc?.make, null);
    t.same(smc?.evidence, ['lldp.capabilities="bridge" (0.45)']);

    const [router] = devicesOf(fixture('public/zeek/cdp-v1.pcap'));
    t.equal(router?.category, 'network_infrastructure');
    t.equal(router?.make, 'Cisco');
    t.ok(
      router?.evidence.includes('cdp.capabilities="router" (0.44)'),
      'CDP router capability cited',
    );

    const devices = devicesOf(fixture('generated/hospital-sample.pcap'));
    const ct = devices.find((device) => device.id === '44:4b:5d:53:00:31@20');
    t.equal(ct?.category, 'imaging_modality');
    t.ok(
      ct?.evidence.includes(
        'dicom.abstractSyntax="scu:1.2.840.10008.5.1.4.1.1.2" (0.54)',
      ),
      'CT Image Storage sent as SCU cited',
    );
    // The archive accepted CT images: that is no modality evidence.
    const pacs = devices.find((device) => device.id === '10.10.100.30');
    t.equal(pacs?.category, 'pacs_or_clinical_workstation');
    t.notOk(pacs?.evidence.some((line) => line.startsWith('dicom.abstract')));
  },
);

/** A CDP packet from its LLC header (see test/fingerprint/cdp.test.ts). */
function cdpPacket(deviceId: string, capabilities: number): Uint8Array {
  const tlv = (type: number, value: Uint8Array) => {
    const out = new Uint8Array(4 + value.length);
    put16(out, 0, type);
    put16(out, 2, out.length);
    out.set(value, 4);
    return out;
  };
  const caps = new Uint8Array(4);
  put16(caps, 2, capabilities);
  return concatBytes(
    Uint8Array.of(0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00),
    Uint8Array.of(2, 180, 0, 0),
    tlv(1, textBytes(deviceId)),
    tlv(4, caps),
  );
}

t.test('catalog: phones announcing LLDP or CDP capabilities', async (t) => {
  const lldpPhone = '02:00:00:00:05:01';
  const cdpPhone = '02:00:00:00:05:02';
  const path = join(t.testdir({}), 'phones.pcap');
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  const lldp = lldpPdu({
    chassisMac: lldpPhone,
    portName: 'eth0',
    ttlSec: 120,
    capabilities: {
      available: LldpCapability.Bridge | LldpCapability.Telephone,
      enabled: LldpCapability.Bridge | LldpCapability.Telephone,
    },
  });
  writer.writeFrame(
    ethernetFrame(
      { dst: '01:80:c2:00:00:0e', src: lldpPhone, etherType: EtherType.Lldp },
      lldp,
    ),
    1_700_000_000,
    0,
  );
  // 802.3 framing: the type field holds the LLC frame's length.
  const cdp = cdpPacket(
    'synth-phone-2',
    CdpCapability.Host | CdpCapability.VoipPhone,
  );
  writer.writeFrame(
    ethernetFrame(
      { dst: '01:00:0c:cc:cc:cc', src: cdpPhone, etherType: cdp.length },
      cdp,
    ),
    1_700_000_001,
    0,
  );
  writer.close();

  const devices = devicesOf(path);
  const byMac = (mac: string) => devices.find((device) => device.mac === mac);
  t.equal(byMac(lldpPhone)?.category, 'voip_phone');
  t.same(byMac(lldpPhone)?.evidence, ['lldp.capabilities="telephone" (0.7)']);
  t.equal(byMac(cdpPhone)?.category, 'voip_phone');
  t.same(byMac(cdpPhone)?.evidence, ['cdp.capabilities="phone" (0.7)']);
  t.equal(byMac(cdpPhone)?.cdp?.capabilities, 0x90, 'bits in the report');
});

t.test('catalog: evidence names the field, value and weight', async (t) => {
  const result = catalog.classify({
    vendor: ['Philips Medical Systems Nederland B.V.'],
    'hint.product': ['IntelliVue'],
  });
  t.equal(result.entryId, 'philips-intellivue');
  t.same(result.evidence, [
    'vendor="Philips Medical Systems Nederland B.V." (0.24)',
    'hint.product="IntelliVue" (0.85)',
  ]);
  // Noisy-or: 1 - (1 - 0.24) * (1 - 0.85), to two decimals.
  t.equal(result.confidence, 0.89);
});

t.test('catalog: more evidence never lowers confidence', async (t) => {
  const base = catalog.classify({ 'server.port': ['9100'] });
  const more = catalog.classify({ 'server.port': ['9100', '631', '515'] });
  t.equal(base.category, 'printer');
  t.equal(more.category, 'printer');
  t.ok(more.confidence > base.confidence, `${more.confidence}`);
  t.equal(more.evidence.length, 3);
});

/** A valid one-entry catalog to break in one place per test. */
function validCatalog(): {
  version: string;
  entries: Array<Record<string, unknown>>;
} {
  return {
    version: '1',
    entries: [
      {
        id: 'a',
        category: 'printer',
        rules: [{ field: 'server.port', equals: '9100', weight: 0.6 }],
      },
    ],
  };
}

type Breaker = (catalog: ReturnType<typeof validCatalog>) => void;

const RULE0 = 'catalog: entries[0].rules[0]';
const ONE_MATCHER = 'expected exactly one of regex, equals, prefix';
const BAD_WEIGHT = 'expected a number above 0, at most 1';

const rule0 = (c: ReturnType<typeof validCatalog>): Record<string, unknown> =>
  (c.entries[0].rules as Array<Record<string, unknown>>)[0];

const BROKEN: Array<[string, Breaker, string]> = [
  [
    'unknown field',
    (c) => {
      rule0(c).field = 'vendr';
    },
    `${RULE0}.field: unknown field "vendr"`,
  ],
  [
    'weight 0',
    (c) => {
      rule0(c).weight = 0;
    },
    `${RULE0}.weight: ${BAD_WEIGHT}`,
  ],
  [
    'weight above 1',
    (c) => {
      rule0(c).weight = 1.5;
    },
    `${RULE0}.weight: ${BAD_WEIGHT}`,
  ],
  [
    'weight as text',
    (c) => {
      rule0(c).weight = '0.5';
    },
    `${RULE0}.weight: ${BAD_WEIGHT}`,
  ],
  [
    'two matchers',
    (c) => {
      rule0(c).prefix = '91';
    },
    `${RULE0}: ${ONE_MATCHER}`,
  ],
  [
    'no matcher',
    (c) => {
      delete rule0(c).equals;
    },
    `${RULE0}: ${ONE_MATCHER}`,
  ],
  [
    'empty matcher',
    (c) => {
      rule0(c).equals = '';
    },
    `${RULE0}.equals: expected a non-empty string`,
  ],
  [
    'duplicate id',
    (c) => {
      c.entries.push({ ...c.entries[0] });
    },
    'catalog: entries[1].id: duplicate id',
  ],
  [
    'bad regex',
    (c) => {
      delete rule0(c).equals;
      rule0(c).regex = '(';
    },
    // V8's own message for the pattern, after the place.
    `${RULE0}.regex: Invalid regular expression: /(/i: Unterminated group`,
  ],
  [
    'unknown category',
    (c) => {
      c.entries[0].category = 'toaster';
    },
    `catalog: entries[0].category: expected one of ${CATEGORIES.join(', ')}`,
  ],
  [
    'empty rules',
    (c) => {
      c.entries[0].rules = [];
    },
    'catalog: entries[0].rules: expected a non-empty array',
  ],
  [
    'a fixed model and a captured one',
    (c) => {
      c.entries[0].model = 'X';
      c.entries[0].rules = [
        { field: 'sip.userAgent', regex: '^a(?<model>\\d+)', weight: 0.5 },
      ];
    },
    'catalog: entries[0].model: a fixed model and a rule capturing one',
  ],
  [
    'make not a string',
    (c) => {
      c.entries[0].make = 7;
    },
    'catalog: entries[0].make: expected a string',
  ],
  [
    'missing id',
    (c) => {
      delete c.entries[0].id;
    },
    'catalog: entries[0].id: expected a non-empty string',
  ],
  [
    'missing version',
    (c) => {
      c.version = '';
    },
    'catalog: version: expected a non-empty string',
  ],
];

t.test('catalog: validation errors name the place', async (t) => {
  t.doesNotThrow(() => compileCatalog(validCatalog()), 'the base is valid');
  for (const [name, breakIt, message] of BROKEN) {
    const broken = validCatalog();
    breakIt(broken);
    t.throws(
      () => compileCatalog(broken),
      { message, code: 'E_CATALOG_INVALID' },
      name,
    );
  }
  t.throws(() => compileCatalog([]), {
    message: 'catalog: (top): expected an object',
  });
  t.throws(() => compileCatalog({ version: '1', entries: {} }), {
    message: 'catalog: entries: expected an array',
  });
  t.throws(() => compileCatalog({ version: '1', entries: [null] }, 'x.json'), {
    message: 'x.json: entries[0]: expected an object',
  });
});

t.test('catalog: a broken file is a CatalogError naming it', async (t) => {
  const dir = t.testdir({
    'bad.json': '{"version": "1", "entries": [',
    'bad-rule.json': '',
  });
  const bad = join(dir, 'bad.json');
  let error: unknown;
  try {
    loadCatalogFile(bad);
  } catch (caught) {
    error = caught;
  }
  t.ok(error instanceof CatalogError, 'a CatalogError');
  t.ok((error as Error).message.startsWith(`${bad}: `), 'names the file');
  const badRule = join(dir, 'bad-rule.json');
  const broken = validCatalog();
  rule0(broken).field = 'macAddress';
  writeFileSync(badRule, JSON.stringify(broken));
  t.throws(() => loadCatalogFile(badRule), {
    message: `${badRule}: entries[0].rules[0].field: unknown field "macAddress"`,
  });
});

t.test(
  'catalog: a new HL7 message type re-classifies its sender',
  async (t) => {
    const device = new Device('02:00:00:00:00:01', 0, 0);
    device.addHl7('LAB', 'SITE', 'ACK^R22');
    t.equal(device.classify(catalog).category, 'pacs_or_clinical_workstation');
    t.equal(device.classify(catalog).confidence, 0.3, 'a sending application');

    // The same sender, another message type: what it sends now counts.
    device.addHl7('LAB', 'SITE', 'ADT^A08');
    t.equal(device.classify(catalog).confidence, 0.55);
    t.same(device.classify(catalog).evidence, [
      'hl7.sendingApplication="LAB" (0.3)',
      'hl7.messageType="ADT^A08" (0.35)',
    ]);
  },
);
