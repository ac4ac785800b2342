import { createHash } from 'node:crypto';

/**
 * The RFC 8705 §3.1 certificate thumbprint `x5t#S256`: the base64url
 * (unpadded) SHA-256 of the certificate's DER. Access tokens bound to a
 * certificate carry it in `cnf`, and the broker compares it with the
 * certificate the connection presents.
 *
 * @example x5tS256(tlsSocket.getPeerCertificate().raw) // 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2'
 */
export function x5tS256(der: Buffer | Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/**
 * Lowercase hex SHA-256 of a certificate's DER, the form `openssl x509
 * -fingerprint -sha256` prints (without colons) and onboarding strings pin.
 *
 * @example sha256Hex(new x509.X509Certificate(caPem).rawData) // '9f86d0…'
 */
export function sha256Hex(der: Buffer | Uint8Array | ArrayBuffer): string {
  return createHash('sha256').update(der instanceof ArrayBuffer ? new Uint8Array(der) : der).digest('hex');
}
