/**
 * Patient data never leaves the sensor: HL7 and DICOM traffic whose patient
 * segments, data PDUs and unkept header fields carry canary strings goes
 * through the whole CLI, and no canary appears in anything it prints.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { LinkType } from '../../src/capture/link-type.js';
import {
  concatBytes,
  TcpConversation,
  textBytes,
  type TcpEndpoint,
} from '../../scripts/lib/frame-builder.js';
import { PcapWriter } from '../../scripts/lib/pcap-writer.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CANARY = /CANARY/;

function endpoint(mac: string, ip: string, port: number): TcpEndpoint {
  return {
    mac,
    ip,
    port,
    ttl: 64,
    isn: port * 7919,
    window: 64240,
    synOptions: [{ kind: 'mss', mssBytes: 1460 }],
    mssBytes: 1460,
  };
}

function mllp(segments: string[]): Uint8Array {
  return concatBytes(
    Uint8Array.of(0x0b),
    textBytes(segments.join('\r') + '\r'),
    Uint8Array.of(0x1c, 0x0d),
  );
}

/** A DICOM P-DATA-TF PDU with a patient-name element holding a canary. */
function dicomPData(): Uint8Array {
  const name = textBytes('CANARY^PATIENT ');
  const element = concatBytes(
    Uint8Array.of(0x10, 0x00, 0x10, 0x00, name.length, 0, 0, 0),
    name,
  );
  const pdv = concatBytes(
    Uint8Array.of(0, 0, 0, element.length + 2, 1, 0x02),
    element,
  );
  return concatBytes(Uint8Array.of(0x04, 0, 0, 0, 0, pdv.length), pdv);
}

function writeCanaryCapture(path: string): void {
  const writer = new PcapWriter(path, { linkType: LinkType.Ethernet });
  let second = 1_700_000_000;
  const write = (frames: Uint8Array[]) => {
    for (const frame of frames) writer.writeFrame(frame, second++, 0);
  };

  const hl7 = new TcpConversation(
    endpoint('00:09:5c:00:00:01', '10.1.1.10', 40001),
    endpoint('10:65:30:00:00:02', '10.1.1.20', 2575),
  );
  write(hl7.handshake());
  write(
    hl7.send(
      true,
      mllp([
        'MSH|^~\\&|LAB|HOSP|EMR|HOSP|CANARY-TIME|CANARY-SEC|ORU^R01|' +
          'CANARY-CONTROL|P|2.5.1',
        'PID|1||CANARY-MRN^^^HOSP^MR||CANARY^PATIENT||19700101|U',
        'OBX|1|ST|CANARY-OBS^Note||CANARY-RESULT||||||F',
      ]),
    ),
  );

  const dicom = new TcpConversation(
    endpoint('44:4b:5d:00:00:03', '10.1.1.30', 40002),
    endpoint('10:65:30:00:00:04', '10.1.1.40', 104),
  );
  write(dicom.handshake());
  write(dicom.send(true, dicomPData()));
  writer.close();
}

t.test('no canary in read, inventory or inventory --json output', async (t) => {
  const dir = t.testdir({});
  const capture = join(dir, 'canaries.pcap');
  writeCanaryCapture(capture);

  const run = (...args: string[]) =>
    spawnSync('node', [join(REPO, 'bin/spansight.js'), ...args, capture], {
      encoding: 'utf8',
      cwd: dir,
    });
  const outputs = [
    run('read'),
    run('read', '--json'),
    run('inventory'),
    run('inventory', '--json'),
  ];
  for (const output of outputs) {
    t.equal(output.status, 0);
    t.notMatch(output.stdout, CANARY);
    t.notMatch(output.stderr, CANARY);
  }
  t.same(readdirSync(dir), ['canaries.pcap'], 'no file written');

  // Not vacuous: the HL7 sender was recognised from its MSH segment.
  const devices = JSON.parse(outputs[3].stdout).devices as Array<{
    hl7: Array<{ sendingApplication: string; messageTypes: string[] }>;
  }>;
  const sender = devices.find((device) => device.hl7.length > 0);
  t.equal(sender?.hl7[0].sendingApplication, 'LAB');
  t.same(sender?.hl7[0].messageTypes, ['ORU^R01']);
});
