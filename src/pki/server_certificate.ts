import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateAuthority } from './ca.js';
import { generateP256KeyPair, keyMatchesCertificate, privateKeyToPem } from './key_pem.js';
import { PKI_FILES } from './pki_files.js';
import { signLeafCertificate } from './sign_leaf.js';
import { BACKDATE_MS, DAY_MS } from './validity.js';
import { writeFileAtomic } from './write_file_atomic.js';
import { x509 } from './x509.js';

/** Apple and the CA/B Forum cap TLS server certificates at 825 days; clients that check would refuse longer. */
const SERVER_VALIDITY_DAYS = 825;
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** CONTRACT §1: the listeners answer as `localhost` and on the loopback addresses. */
export const SERVER_ALT_NAMES: x509.JsonGeneralNames = [
  { type: 'dns', value: 'localhost' },
  { type: 'ip', value: '127.0.0.1' },
  { type: 'ip', value: '::1' },
];

/**
 * Returns the server certificate and key in `certsDir`, issuing a new pair
 * when they are missing, unreadable, not signed by `ca` (the CA was
 * replaced), or within 30 days of expiry.
 *
 * @example const { certPem, keyPem } = await ensureServerCertificate(ca, './certs')
 */
export async function ensureServerCertificate(
  ca: CertificateAuthority,
  certsDir: string,
  now = new Date(),
): Promise<{ certPem: string; keyPem: string; created: boolean }> {
  const certPath = join(certsDir, PKI_FILES.serverCert);
  const keyPath = join(certsDir, PKI_FILES.serverKey);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    if (await stillGood(ca, certPem, keyPem, now)) return { certPem, keyPem, created: false };
  }
  const keys = await generateP256KeyPair();
  const cert = await signLeafCertificate(ca, {
    subjectCn: 'localhost',
    publicKey: keys.publicKey,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS),
    extendedKeyUsage: 'serverAuth',
    altNames: SERVER_ALT_NAMES,
  });
  const certPem = cert.toString('pem');
  const keyPem = await privateKeyToPem(keys.privateKey);
  writeFileAtomic(keyPath, keyPem, 0o600);
  writeFileAtomic(certPath, certPem, 0o644);
  return { certPem, keyPem, created: true };
}

async function stillGood(ca: CertificateAuthority, certPem: string, keyPem: string, now: Date): Promise<boolean> {
  try {
    const cert = new x509.X509Certificate(certPem);
    if (!keyMatchesCertificate(keyPem, cert)) return false;
    if (cert.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) return false;
    return await cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * The DNS names a certificate answers to (subjectAltName), in order; what
 * onboarding strings name when the listeners bind a wildcard address.
 *
 * @example dnsNames(serverCertPem) // ['localhost']
 */
export function dnsNames(certPem: string): string[] {
  try {
    const san = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
    return (san?.names.items ?? []).filter((n) => n.type === 'dns').map((n) => n.value);
  } catch {
    return [];
  }
}
