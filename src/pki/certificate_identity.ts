import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { CLIENT_ID_PATTERN } from '../policy/scope.js';
import { x5tS256 } from './fingerprint.js';
import { PkiError } from './pki_error.js';
import { normalizeSerial } from './serial.js';

/** Who a TLS peer is, by its certificate. */
export interface CertificateIdentity {
  /** Subject CN, which latchkey issues as the client id. */
  clientId: string;
  /** Lowercase hex; look it up with the issuer in the revocation store. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** RFC 8705 `x5t#S256`, compared with a bound token's `cnf`. */
  fingerprint: string;
}

/** id-kp-clientAuth, RFC 5280 §4.2.1.12. */
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * Reads the identity of a TLS client from its leaf certificate and checks
 * what the handshake does not: the certificate is an end entity (not CA:true),
 * is meant for client authentication (explicit clientAuth EKU; a missing EKU
 * is refused, deny by default), is within validity at `now`, and its subject
 * has exactly one CN that is a well-formed client id.
 *
 * Chain and signature are the TLS layer's job (`requestCert`,
 * `rejectUnauthorized`, `ca` = the latchkey CA). Where the listener accepts
 * unauthorized peers (HTTPS, where a client certificate is optional), pass the
 * CA as `trustedIssuer` so a foreign or self-signed certificate is refused here.
 * Revocation is the caller's: look `serial` up in the store.
 *
 * Synchronous and native (node:crypto), because it runs on every connect.
 *
 * @example
 * const peer = tlsSocket.getPeerCertificate();
 * const id = certificateIdentity(peer.raw); // id.clientId === 'thermostat-1'
 */
export function certificateIdentity(der: Buffer, now: Date = new Date(), trustedIssuer?: NodeX509Certificate): CertificateIdentity {
  let cert: NodeX509Certificate;
  try {
    cert = new NodeX509Certificate(der);
  } catch {
    throw new PkiError('invalid_certificate', 'the peer certificate does not parse');
  }
  if (trustedIssuer && !(cert.checkIssued(trustedIssuer) && cert.verify(trustedIssuer.publicKey))) {
    throw new PkiError('certificate_untrusted', 'the certificate was not issued by the latchkey CA');
  }

  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new PkiError('invalid_certificate', 'the certificate validity does not parse');
  }
  if (now < notBefore) throw new PkiError('certificate_not_yet_valid', `the certificate is valid from ${notBefore.toISOString()}`);
  if (now > notAfter) throw new PkiError('certificate_expired', `the certificate expired at ${notAfter.toISOString()}`);

  // RFC 5280 §4.2.1.9: a CA certificate must not stand in for a device.
  if (cert.ca) throw new PkiError('certificate_is_ca', 'a CA certificate cannot identify a client');
  // Node names the EKU list `keyUsage`; undefined when the extension is absent.
  if (!(cert.keyUsage ?? []).includes(OID_CLIENT_AUTH)) {
    throw new PkiError('certificate_wrong_usage', 'the certificate lacks the clientAuth extended key usage');
  }

  const clientId = singleCommonName(cert.subject);
  if (clientId === undefined || !CLIENT_ID_PATTERN.test(clientId)) {
    throw new PkiError('certificate_bad_subject', 'the certificate subject needs exactly one CN that is a valid client id');
  }
  return { clientId, serial: normalizeSerial(cert.serialNumber), notBefore, notAfter, fingerprint: x5tS256(der) };
}

/**
 * The CN of Node's subject string (one `KEY=value` per line). Node escapes
 * odd values (quotes, backslashes), and those fail the client id pattern,
 * which is what we want: no escaping tricks survive to become an identity.
 */
function singleCommonName(subject: string): string | undefined {
  const cns = subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  return cns.length === 1 ? cns[0] : undefined;
}

export { x5tS256 } from './fingerprint.js';
