/**
 * Test PKI made with the `openssl` command: a CA with a server and a client
 * certificate, plus an unrelated CA and server certificate for refusal tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of PEM files written by `generateTestCerts`. */
export interface TestCerts {
  /** The folder all files were written to. */
  dir: string;
  /** CA that signs `serverCert` and `clientCert`. */
  caCert: string;
  /** Broker certificate for 127.0.0.1 and localhost, signed by `caCert`. */
  serverCert: string;
  serverKey: string;
  /** Sensor (client) certificate, CN `sensor-test-01`, signed by `caCert`. */
  clientCert: string;
  clientKey: string;
  /** A second CA with no relation to `caCert`. */
  otherCaCert: string;
  /** Broker certificate for 127.0.0.1 and localhost signed by `otherCaCert`. */
  otherServerCert: string;
  otherServerKey: string;
  /** Client certificate signed by `otherCaCert`: a broker must refuse it. */
  otherClientCert: string;
  otherClientKey: string;
  /** Signed by `caCert` but only for `wrong.example`: a hostname mismatch. */
  wrongHostServerCert: string;
  wrongHostServerKey: string;
}

const VALIDITY_DAYS = 2;

/**
 * Write a fresh test PKI into `dir` (created if missing). EC P-256 keys keep
 * generation under a second. Throws when `openssl` fails.
 */
export function generateTestCerts(dir: string): TestCerts {
  mkdirSync(dir, { recursive: true });
  const path = (name: string): string => join(dir, name);
  makeCa(path('ca'), 'spansight-test-ca');
  makeCa(path('other-ca'), 'spansight-unrelated-ca');

  const serverSan = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
  makeLeaf(path('server'), path('ca'), 'localhost', serverSan, 'serverAuth');
  makeLeaf(path('client'), path('ca'), 'sensor-test-01', '', 'clientAuth');
  makeLeaf(
    path('other-server'),
    path('other-ca'),
    'localhost',
    serverSan,
    'serverAuth',
  );
  makeLeaf(
    path('other-client'),
    path('other-ca'),
    'sensor-test-01',
    '',
    'clientAuth',
  );
  makeLeaf(
    path('wrong-host'),
    path('ca'),
    'wrong.example',
    'subjectAltName=DNS:wrong.example',
    'serverAuth',
  );
  return {
    dir,
    caCert: path('ca.crt'),
    serverCert: path('server.crt'),
    serverKey: path('server.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
    otherCaCert: path('other-ca.crt'),
    otherServerCert: path('other-server.crt'),
    otherServerKey: path('other-server.key'),
    otherClientCert: path('other-client.crt'),
    otherClientKey: path('other-client.key'),
    wrongHostServerCert: path('wrong-host.crt'),
    wrongHostServerKey: path('wrong-host.key'),
  };
}

function makeCa(base: string, commonName: string): void {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.crt`,
    '-days',
    String(VALIDITY_DAYS),
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function makeLeaf(
  base: string,
  caBase: string,
  commonName: string,
  sanLine: string,
  extendedKeyUsage: string,
): void {
  openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.csr`,
    '-subj',
    `/CN=${commonName}`,
  ]);
  const extLines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${extendedKeyUsage}`,
  ];
  if (sanLine !== '') extLines.push(sanLine);
  writeFileSync(`${base}.ext`, extLines.join('\n') + '\n');
  openssl([
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    `${caBase}.crt`,
    '-CAkey',
    `${caBase}.key`,
    '-CAcreateserial',
    '-out',
    `${base}.crt`,
    '-days',
    String(VALIDITY_DAYS),
    '-extfile',
    `${base}.ext`,
  ]);
}

function openssl(args: string[]): void {
  // stdio 'pipe' keeps openssl's progress dots out of the TAP stream.
  execFileSync('openssl', args, { stdio: 'pipe' });
}
