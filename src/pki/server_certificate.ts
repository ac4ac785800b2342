import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateAuthority } from './ca.js';
import { generateP256KeyPair, keyMatchesCertificate, privateKeyToPem } from './key_pem.js';
import { PKI_FILES } from './pki_files.js';
import type { ServerNames } from './server_names.js';
import { signLeafCertificate } from './sign_leaf.js';
import { BACKDATE_MS, DAY_MS } from './validity.js';
import { writeFileAtomic } from './write_file_atomic.js';
import { x509 } from './x509.js';

/** Apple and the CA/B Forum cap TLS server certificates at 825 days; clients that check would refuse longer. */
const SERVER_VALIDITY_DAYS = 825;
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** The listeners always answer as `localhost` and on the loopback addresses (docs/INTERFACE.md#running-the-server). */
const LOOPBACK_NAMES: ServerNames = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

/**
 * Returns the server certificate and key in `certsDir`, issuing a new pair
 * (signed by the same CA, so devices keep trusting it) when they are
 * missing, unreadable, not signed by `ca` (the CA was replaced), within 30
 * days of expiry, or — when `names` is given — covering other names than
 * `names`. Without `names` (the CLI, which only needs the CA) an existing
 * good certificate is kept whatever it covers. Idempotent: unchanged names
 * never cause a re-issue.
 *
 * @example const { certPem, keyPem } = await ensureServerCertificate(ca, './certs', { dns: ['hub.lan', 'localhost'], ip: ['127.0.0.1'] })
 */
export async function ensureServerCertificate(
  ca: CertificateAuthority,
  certsDir: string,
  names?: ServerNames,
  now = new Date(),
): Promise<{ certPem: string; keyPem: string; created: boolean }> {
  const certPath = join(certsDir, PKI_FILES.serverCert);
  const keyPath = join(certsDir, PKI_FILES.serverKey);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    if ((await stillGood(ca, certPem, keyPem, now)) && (names === undefined || sameNames(certPem, names))) return { certPem, keyPem, created: false };
  }
  const keys = await generateP256KeyPair();
  const cert = await signLeafCertificate(ca, {
    subjectCn: 'localhost',
    publicKey: keys.publicKey,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS),
    extendedKeyUsage: 'serverAuth',
    altNames: altNames(names ?? LOOPBACK_NAMES),
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

function altNames(names: ServerNames): x509.JsonGeneralNames {
  return [...names.dns.map((value) => ({ type: 'dns' as const, value })), ...names.ip.map((value) => ({ type: 'ip' as const, value }))];
}

/**
 * Does the certificate cover exactly `names`? Both sides go through the
 * same DER encoding, so `::1` and its long form compare equal.
 */
function sameNames(certPem: string, names: ServerNames): boolean {
  try {
    const have = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
    if (!have) return false;
    const want = new x509.SubjectAlternativeNameExtension(new x509.SubjectAlternativeNameExtension(altNames(names)).rawData);
    const key = (json: x509.JsonGeneralNames) => json.map((n) => `${n.type}:${n.value}`.toLowerCase()).sort().join(',');
    return key(have.names.toJSON()) === key(want.names.toJSON());
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
