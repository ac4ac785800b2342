import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { isSealed, KEY_PASSPHRASE_ENV, keyPassphrase, openKey, sealKey } from '../keys/key_sealing.js';
import { generateP256KeyPair, importP256PrivateKey, keyMatchesCertificate, privateKeyToPem } from './key_pem.js';
import { PkiError } from './pki_error.js';
import { PKI_FILES } from './pki_files.js';
import { randomSerial } from './serial.js';
import { ensureServerCertificate } from './server_certificate.js';
import type { ServerNames } from './server_names.js';
import { BACKDATE_MS } from './validity.js';
import { writeFileAtomic } from './write_file_atomic.js';
import { ECDSA_SHA256, x509 } from './x509.js';

/** The latchkey CA: its certificate and the key that signs device certificates and CRLs. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export const CA_SUBJECT = 'CN=latchkey CA';
/** What a sealed ca.key is bound to. */
const CA_KEY_CONTEXT = 'latchkey CA key';
const CA_VALIDITY_YEARS = 10;

/**
 * Creates the CA and server certificate in `certsDir` unless they exist, and
 * returns them. Idempotent: `latchkey init` and `start` both call it.
 *
 * - The directory is created 0700; keys are written 0600, atomically.
 * - With a passphrase (default: `LATCHKEY_KEY_PASSPHRASE`) `ca.key` is
 *   stored sealed (scrypt + AES-256-GCM), and a plaintext one is sealed.
 *   `server.key` stays PEM: it is re-issued at will and only names the server.
 * - An existing CA is loaded, never replaced: replacing it would silently
 *   orphan every device certificate. Half a CA (certificate without key or
 *   the reverse) is an error for the operator to resolve.
 * - The server certificate is (re)issued when missing, unreadable, not signed
 *   by this CA, within 30 days of expiry, or (given `serverNames`) covering
 *   other names.
 *
 * `created` is true when anything was written.
 *
 * @example
 * const { ca, serverCertPem, serverKeyPem } = await ensurePki('./certs');
 * tls.createServer({ cert: serverCertPem, key: serverKeyPem, ca: ca.certPem, requestCert: true });
 */
export async function ensurePki(
  certsDir: string,
  passphrase: string | null = keyPassphrase(),
  serverNames?: ServerNames,
): Promise<{ ca: CertificateAuthority; serverCertPem: string; serverKeyPem: string; created: boolean }> {
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const certPath = join(certsDir, PKI_FILES.caCert);
  const keyPath = join(certsDir, PKI_FILES.caKey);
  const haveCert = existsSync(certPath);
  const haveKey = existsSync(keyPath);
  if (haveCert !== haveKey) {
    throw new PkiError(
      'ca_incomplete',
      `${haveCert ? keyPath : certPath} is missing but ${haveCert ? certPath : keyPath} exists; restore it or remove both to create a new CA`,
    );
  }
  let caCreated = false;
  let ca: CertificateAuthority;
  if (haveCert) {
    ca = await loadCa(certsDir, passphrase);
    // The first start with a passphrase encrypts a CA key that was stored in plaintext.
    if (passphrase !== null && !isSealed(readFileSync(keyPath, 'utf8'))) {
      writeFileAtomic(keyPath, await sealKey(ca.keyPem, passphrase, CA_KEY_CONTEXT), 0o600);
    }
  } else {
    ca = await createCa();
    // Key first: a crash between the two writes leaves ca_incomplete, never a certificate nobody can sign for.
    writeFileAtomic(keyPath, passphrase === null ? ca.keyPem : await sealKey(ca.keyPem, passphrase, CA_KEY_CONTEXT), 0o600);
    writeFileAtomic(certPath, ca.certPem, 0o644);
    caCreated = true;
  }
  const server = await ensureServerCertificate(ca, certsDir, serverNames);
  return { ca, serverCertPem: server.certPem, serverKeyPem: server.keyPem, created: caCreated || server.created };
}

/**
 * Loads the CA from `certsDir/ca.crt` and `certsDir/ca.key`, checking that the
 * key belongs to the certificate. A sealed `ca.key` is decrypted with
 * `passphrase` (default: `LATCHKEY_KEY_PASSPHRASE`, so every command that
 * signs finds it).
 *
 * @throws LatchkeyError bad_passphrase
 *
 * @example const ca = await loadCa('./certs'); await issueDeviceCertificate(ca, { clientId: 'dev1' });
 */
export async function loadCa(certsDir: string, passphrase: string | null = keyPassphrase()): Promise<CertificateAuthority> {
  const certPem = readFileSync(join(certsDir, PKI_FILES.caCert), 'utf8');
  const stored = readFileSync(join(certsDir, PKI_FILES.caKey), 'utf8');
  let keyPem = stored;
  if (isSealed(stored)) {
    if (passphrase === null) throw new LatchkeyError('bad_passphrase', `${PKI_FILES.caKey} in ${certsDir} is encrypted: set ${KEY_PASSPHRASE_ENV} to its passphrase`);
    keyPem = await openKey(stored, passphrase, CA_KEY_CONTEXT);
  }
  const cert = new x509.X509Certificate(certPem);
  if (!keyMatchesCertificate(keyPem, cert)) {
    throw new PkiError('ca_key_mismatch', `${PKI_FILES.caKey} does not belong to ${PKI_FILES.caCert} in ${certsDir}`);
  }
  const privateKey = await importP256PrivateKey(keyPem);
  const publicKey = await cert.publicKey.export();
  return { certPem, keyPem, cert, privateKey, publicKey };
}

/**
 * A new self-signed ECDSA P-256 CA (RFC 5280 §4.2.1.9/§4.2.1.3): CA:true with
 * pathLen 0 because it only ever signs end-entity certificates, keyCertSign
 * and cRLSign, both critical, and an SKI that leaf AKIs point at.
 */
async function createCa(now = new Date()): Promise<CertificateAuthority> {
  const keys = await generateP256KeyPair();
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: CA_SUBJECT,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: await privateKeyToPem(keys.privateKey),
    cert,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
  };
}
