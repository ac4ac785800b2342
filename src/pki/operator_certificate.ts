import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PkiError } from './pki_error.js';

/**
 * The operator's own server certificate (`--tls-cert`, `--tls-key`), e.g.
 * from their ACME client or company CA, used by the HTTPS and MQTTS
 * listeners instead of the one latchkey issues. The file may hold a chain
 * (leaf first). Checked at start, so a mistake fails loudly then rather
 * than as a TLS error on every device: both files given, readable, the key
 * belonging to the certificate, the certificate within its validity.
 * Device certificates are still checked against the latchkey CA.
 *
 * @example const { certPem, keyPem } = operatorCertificate('/etc/ssl/hub.pem', '/etc/ssl/hub.key');
 * @throws PkiError invalid_tls_certificate
 */
export function operatorCertificate(certFile: string | undefined, keyFile: string | undefined, now = new Date()): { certPem: string; keyPem: string } {
  if (certFile === undefined || keyFile === undefined) {
    throw new PkiError('invalid_tls_certificate', '--tls-cert and --tls-key go together: give both, or neither to use the certificate latchkey issues');
  }
  const certPem = read(certFile, '--tls-cert');
  const keyPem = read(keyFile, '--tls-key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new PkiError('invalid_tls_certificate', `--tls-cert: ${certFile} is not a PEM certificate`);
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    throw new PkiError('invalid_tls_certificate', `--tls-key: ${keyFile} is not a PEM private key (an encrypted key is not supported)`);
  }
  if (!matches) throw new PkiError('invalid_tls_certificate', `--tls-key: ${keyFile} is not the key of ${certFile}`);
  if (Date.parse(cert.validTo) <= now.getTime() || Date.parse(cert.validFrom) > now.getTime()) {
    throw new PkiError('invalid_tls_certificate', `--tls-cert: ${certFile} is valid only from ${cert.validFrom} to ${cert.validTo}`);
  }
  return { certPem, keyPem };
}

function read(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new PkiError('invalid_tls_certificate', `${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
