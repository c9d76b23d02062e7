/**
 * Errors of the MQTT session: stable codes, and the mapping from socket, TLS
 * and CONNACK failures to a code with a message that says what to check.
 */

/** Stable ids of MQTT session failures; dashboards and callers key on them. */
export const MqttErrorCode = {
  /** The URL has a bad scheme, host or port, or carries credentials. */
  BadUrl: 'E_MQTT_BAD_URL',
  /** Options contradict each other or a TLS file cannot be read. */
  ConfigInvalid: 'E_CONFIG_INVALID',
  /** Connection refused, timed out, reset, or the host name does not resolve. */
  Unreachable: 'E_MQTT_UNREACHABLE',
  /** The broker refused the username/password or the client identity. */
  Auth: 'E_MQTT_AUTH',
  /** The TLS handshake failed: certificate, host name or client certificate. */
  Tls: 'E_MQTT_TLS',
  /** The broker refused the CONNECT for another reason (protocol, id, ...). */
  Refused: 'E_MQTT_REFUSED',
  /** `publish` while no connection is up; keep the record and retry later. */
  Offline: 'E_MQTT_OFFLINE',
  /** `publish` while the in-flight window is full; wait for `drain`. */
  Busy: 'E_MQTT_BUSY',
  /** The connection dropped before the broker acknowledged the message. */
  Disconnected: 'E_MQTT_DISCONNECTED',
  /** The broker answered PUBACK/SUBACK with a failure reason code. */
  RefusedByBroker: 'E_MQTT_BROKER_REFUSED',
  /** The session was closed by its owner. */
  Closed: 'E_MQTT_CLOSED',
} as const;

/** One of the `MqttErrorCode` values. */
export type MqttErrorCodeId =
  (typeof MqttErrorCode)[keyof typeof MqttErrorCode];

/** An environment or configuration failure of the MQTT session. */
export class MqttSessionError extends Error {
  override readonly name = 'MqttSessionError';
  /** Stable id, one of `MqttErrorCode`. */
  readonly code: MqttErrorCodeId;
  /** Node's error code or the MQTT reason code behind it, when known. */
  readonly causeCode: string | number | undefined;

  constructor(
    code: MqttErrorCodeId,
    message: string,
    causeCode?: string | number,
  ) {
    super(message);
    this.code = code;
    this.causeCode = causeCode;
  }
}

/** What the classifier needs to name in its messages. */
export interface ConnectContext {
  /** Host and port as configured (never with credentials). */
  host: string;
  port: number;
  isTls: boolean;
  /** The TLS handshake of this attempt completed (false without TLS). */
  isTlsHandshakeDone: boolean;
  caFile: string | undefined;
  certFile: string | undefined;
  hasUsername: boolean;
  /** MQTT protocol level of the attempt: 5 or 4 (3.1.1). */
  protocolVersion: 5 | 4;
}

// CONNACK codes: MQTT 3.1.1 section 3.2.2.3 and MQTT 5.0 section 3.2.2.2.
const V4_UNACCEPTABLE_PROTOCOL = 1;
const V4_IDENTIFIER_REJECTED = 2;
const V4_BAD_USERNAME_OR_PASSWORD = 4;
const V4_NOT_AUTHORIZED = 5;
const V5_UNSUPPORTED_PROTOCOL = 0x84;
const V5_BAD_USERNAME_OR_PASSWORD = 0x86;
const V5_NOT_AUTHORIZED = 0x87;
const V5_BAD_AUTH_METHOD = 0x8c;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

// OpenSSL verify errors meaning "the chain does not end at a CA we trust".
const UNTRUSTED_CHAIN_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/**
 * True when a CONNACK refusal means the broker does not speak the requested
 * protocol level, so a 3.1.1 retry may succeed. Brokers without MQTT 5
 * (aedes 1.x) answer a 5.0 CONNECT with the 3.1.1 code 1.
 */
export function isProtocolVersionRefusal(reasonCode: number): boolean {
  return (
    reasonCode === V4_UNACCEPTABLE_PROTOCOL ||
    reasonCode === V5_UNSUPPORTED_PROTOCOL
  );
}

/**
 * Map an error seen while connecting (socket, TLS, or a CONNACK refusal
 * carrying a numeric reason code) to a `MqttSessionError`.
 */
export function classifyConnectError(
  err: unknown,
  ctx: ConnectContext,
): MqttSessionError {
  if (err instanceof MqttSessionError) return err;
  const where = `${ctx.host}:${ctx.port}`;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);

  if (typeof code === 'number') return classifyConnack(code, ctx, where);

  if (typeof code === 'string') {
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new MqttSessionError(
        MqttErrorCode.Unreachable,
        `MQTT broker host "${ctx.host}" does not resolve (${code}); ` +
          'check the URL and DNS',
        code,
      );
    }
    if (
      ctx.isTls &&
      !ctx.isTlsHandshakeDone &&
      (code === 'ECONNRESET' || code === 'EPIPE')
    ) {
      return tlsHandshakeClosedError(ctx, code);
    }
    if (UNREACHABLE_CODES.has(code)) {
      return new MqttSessionError(
        MqttErrorCode.Unreachable,
        `MQTT broker ${where} unreachable (${code}); check that it runs ` +
          'and the port and firewall',
        code,
      );
    }
    if (ctx.isTls) {
      const tlsError = classifyTls(code, ctx, where);
      if (tlsError) return tlsError;
    }
  }

  if (ctx.isTls && /TLS not authorized/i.test(message)) {
    return new MqttSessionError(
      MqttErrorCode.Tls,
      `broker certificate at ${where} did not verify; check caFile ` +
        `${ctx.caFile ?? '(system CA store)'}`,
    );
  }
  return new MqttSessionError(
    MqttErrorCode.Unreachable,
    `MQTT connection to ${where} failed: ${message}`,
    typeof code === 'string' ? code : undefined,
  );
}

/**
 * The error for a TLS connection the broker closed during the handshake: a
 * plaintext listener, or a broker that refuses the client certificate.
 */
export function tlsHandshakeClosedError(
  ctx: ConnectContext,
  causeCode?: string,
): MqttSessionError {
  return new MqttSessionError(
    MqttErrorCode.Tls,
    `broker ${ctx.host}:${ctx.port} closed the connection during the TLS ` +
      "handshake; check the port is the broker's TLS listener (a plaintext " +
      'port does not speak TLS) and that it accepts the client certificate ' +
      `${ctx.certFile ?? '(none configured)'}`,
    causeCode,
  );
}

/** The error for a connect attempt that saw no CONNACK within `timeoutMs`. */
export function connectTimeoutError(
  ctx: ConnectContext,
  timeoutMs: number,
): MqttSessionError {
  return new MqttSessionError(
    MqttErrorCode.Unreachable,
    `no CONNACK from ${ctx.host}:${ctx.port} within ${timeoutMs} ms; ` +
      'check the port speaks MQTT' +
      (ctx.isTls ? ' over TLS' : ' without TLS'),
    'ETIMEDOUT',
  );
}

function classifyConnack(
  reasonCode: number,
  ctx: ConnectContext,
  where: string,
): MqttSessionError {
  const isV5 = ctx.protocolVersion === 5;
  const isBadPassword = isV5
    ? reasonCode === V5_BAD_USERNAME_OR_PASSWORD ||
      reasonCode === V5_BAD_AUTH_METHOD
    : reasonCode === V4_BAD_USERNAME_OR_PASSWORD;
  const isNotAuthorized = isV5
    ? reasonCode === V5_NOT_AUTHORIZED
    : reasonCode === V4_NOT_AUTHORIZED;
  // A broker without MQTT 5 may answer with 3.1.1 codes even to a v5 CONNECT.
  const isV4Auth =
    reasonCode === V4_BAD_USERNAME_OR_PASSWORD ||
    reasonCode === V4_NOT_AUTHORIZED;
  if (isBadPassword || isNotAuthorized || (isV5 && isV4Auth)) {
    const identity = ctx.hasUsername
      ? 'username/password'
      : ctx.certFile
        ? `client certificate ${ctx.certFile}`
        : 'anonymous login (no username set)';
    return new MqttSessionError(
      MqttErrorCode.Auth,
      `MQTT broker ${where} refused the credentials (reason code ` +
        `${reasonCode}); check the ${identity} and the broker's ACL`,
      reasonCode,
    );
  }
  if (isProtocolVersionRefusal(reasonCode)) {
    return new MqttSessionError(
      MqttErrorCode.Refused,
      `MQTT broker ${where} does not accept protocol level ` +
        `${ctx.protocolVersion} (reason code ${reasonCode})`,
      reasonCode,
    );
  }
  const hint =
    reasonCode === V4_IDENTIFIER_REJECTED || reasonCode === 0x85
      ? '; check clientId'
      : '';
  return new MqttSessionError(
    MqttErrorCode.Refused,
    `MQTT broker ${where} refused the connection (reason code ` +
      `${reasonCode})${hint}`,
    reasonCode,
  );
}

function classifyTls(
  code: string,
  ctx: ConnectContext,
  where: string,
): MqttSessionError | null {
  const caName = ctx.caFile ?? '(system CA store)';
  if (UNTRUSTED_CHAIN_CODES.has(code)) {
    return new MqttSessionError(
      MqttErrorCode.Tls,
      `broker certificate at ${where} is not signed by caFile ${caName} ` +
        `(${code}); check caFile matches the broker's CA`,
      code,
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new MqttSessionError(
      MqttErrorCode.Tls,
      `broker certificate at ${where} is outside its validity period ` +
        `(${code}); check the broker certificate and this clock`,
      code,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new MqttSessionError(
      MqttErrorCode.Tls,
      `broker certificate does not name host "${ctx.host}" (${code}); ` +
        'use a host name or IP listed in its subjectAltName',
      code,
    );
  }
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    code === 'ERR_SSL_HTTP_REQUEST'
  ) {
    return new MqttSessionError(
      MqttErrorCode.Tls,
      `port ${where} does not speak TLS (${code}); check it is the ` +
        "broker's TLS listener",
      code,
    );
  }
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) {
    const clientCert = ctx.certFile ?? '(none configured)';
    return new MqttSessionError(
      MqttErrorCode.Tls,
      `broker ${where} refused the TLS handshake (${code}); check the ` +
        `client certificate ${clientCert} is signed by a CA the broker trusts`,
      code,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new MqttSessionError(
      MqttErrorCode.Tls,
      `TLS handshake with ${where} failed (${code})`,
      code,
    );
  }
  return null;
}
