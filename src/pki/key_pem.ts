import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { EC_P256, x509 } from './x509.js';

/**
 * PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) of a private key: the format Node's
 * tls, openssl and mosquitto all read.
 *
 * @example const pem = await privateKeyToPem(keys.privateKey)
 */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * Imports a PKCS#8 PEM ECDSA P-256 private key for signing.
 *
 * @example const key = await importP256PrivateKey(readFileSync('ca.key', 'utf8'))
 */
export async function importP256PrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  // Extractable so the CA can be re-exported (backup, tests); it never leaves the process otherwise.
  return webcrypto.subtle.importKey('pkcs8', der, EC_P256, true, ['sign']);
}

/**
 * A fresh ECDSA P-256 key pair.
 *
 * @example const { privateKey, publicKey } = await generateP256KeyPair()
 */
export async function generateP256KeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/**
 * True when the PEM private key is the one whose public half `cert` carries.
 * Guards against a ca.key or server.key swapped for another file.
 *
 * @example if (!keyMatchesCertificate(keyPem, cert)) throw …
 */
export function keyMatchesCertificate(keyPem: string, cert: x509.X509Certificate): boolean {
  const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  return spki.equals(Buffer.from(cert.publicKey.rawData));
}
