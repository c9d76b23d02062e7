/**
 * `spansight inventory FILE`: the devices of a capture with their
 * fingerprints and classification, as a table or as one JSON object.
 */
import { parseArgs } from 'node:util';

import {
  CaptureFileError,
  CaptureFileReader,
} from '../capture/capture-file.js';
import { CatalogError, loadCatalogFile } from '../inventory/catalog.js';
import type { DeviceReport } from '../inventory/device.js';
import { Inventory } from '../inventory/inventory.js';
import { PacketPipeline } from '../pipeline.js';
import { formatTable, tableAddresses } from './format.js';
import { describeFileError } from './read.js';

const HELP = `usage: spansight inventory FILE [options]

List the devices seen in a capture: MAC, VLAN, addresses, vendor, names,
fingerprints (DHCP, TLS JA3/JA4, HTTP, SIP, TCP stack, LLDP/CDP, mDNS,
SSDP, NBNS, DICOM, HL7) and the category, make and model with a confidence
and the evidence behind it.

options:
  --json            print exactly one JSON object {"devices": [...]}
  --catalog FILE    classify with this catalog instead of the shipped one
`;

const FRAMES_PER_BATCH = 65_536;

/** Run the inventory command; resolves to the process exit code. */
export async function runInventory(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        catalog: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`spansight inventory: ${(error as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write('spansight inventory: expected one capture file\n');
    process.stderr.write(HELP);
    return 2;
  }

  let inventory: Inventory;
  try {
    const catalog =
      values.catalog === undefined
        ? undefined
        : loadCatalogFile(values.catalog);
    inventory = new Inventory({ catalog });
  } catch (error) {
    if (!(error instanceof CatalogError)) throw error;
    process.stderr.write(`spansight inventory: ${error.message}\n`);
    return 1;
  }

  const path = positionals[0];
  const failure = feedCapture(path, inventory);
  if (failure === 'unreadable') return 1;

  const devices = inventory.report();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ devices })}\n`);
  } else {
    process.stdout.write(renderInventory(devices, inventory.catalog.version));
  }
  if (failure !== undefined) {
    process.stderr.write(`spansight inventory: ${failure.message}\n`);
    return 1;
  }
  return 0;
}

/**
 * Run the whole capture through the pipeline into `inventory`. Returns the
 * damage that stopped it early, or 'unreadable' when it could not start.
 */
function feedCapture(
  path: string,
  inventory: Inventory,
): CaptureFileError | 'unreadable' | undefined {
  let reader: CaptureFileReader;
  try {
    reader = CaptureFileReader.open(path);
  } catch (error) {
    process.stderr.write(
      `spansight inventory: ${describeFileError(path, error)}\n`,
    );
    return 'unreadable';
  }
  const pipeline = new PacketPipeline({ inventory });
  try {
    while (reader.readBatch(pipeline, FRAMES_PER_BATCH) > 0);
  } catch (error) {
    if (!(error instanceof CaptureFileError)) throw error;
    return error;
  } finally {
    reader.close();
    pipeline.flows.flush();
  }
  return undefined;
}

/** One row per device, most active first, then the evidence of each. */
export function renderInventory(
  devices: DeviceReport[],
  catalogVersion: string,
): string {
  const rows = devices.map((device) => [
    device.mac ?? '(routed)',
    device.routed ? '-' : String(device.vlan),
    tableAddresses(device.ips),
    truncate(device.vendor ?? (device.randomizedMac ? '(randomized)' : '-')),
    device.category,
    truncate([device.make, device.model].filter(Boolean).join(' ') || '-'),
    device.confidence.toFixed(2),
    truncate(displayName(device)),
  ]);
  const table = formatTable(
    ['mac', 'vlan', 'ips', 'vendor', 'category', 'make/model', 'conf', 'name'],
    rows,
    NUMERIC_COLUMNS,
  );
  const evidence = devices
    .filter((device) => device.evidence.length > 0)
    .map(
      (device) =>
        `${device.mac ?? device.ips[0]}: ${device.evidence.join('; ')}`,
    );
  return [
    `${devices.length} devices (catalog ${catalogVersion})`,
    '',
    table,
    ...(evidence.length > 0 ? ['', 'evidence:', ...evidence] : []),
    '',
  ].join('\n');
}

/**
 * What the device calls itself: a host name, else its own DICOM AE title
 * (the calling AE of an association it asked for, the called AE of one it
 * accepted), else the sending application of its HL7 messages.
 */
function displayName(device: DeviceReport): string {
  const hostname = device.hostnames[0];
  if (hostname !== undefined) return hostname;
  const dicom = device.dicom[0];
  if (dicom !== undefined) {
    const ae = dicom.role === 'scu' ? dicom.callingAe : dicom.calledAe;
    if (ae !== '') return `${ae} (AE)`;
  }
  const hl7 = device.hl7[0]?.sendingApplication ?? '';
  return hl7 !== '' ? `${hl7} (HL7)` : '-';
}

/** The table's vlan and conf columns. */
const NUMERIC_COLUMNS: ReadonlySet<number> = new Set([1, 6]);

function truncate(text: string, maxChars = 28): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}
