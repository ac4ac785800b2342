import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/**
 * A new ECDSA P-256 key made on the device, and a PKCS#10 request for it
 * with subject CN = the client id. The private key never leaves the device:
 * only the CSR (public key + proof of possession) is sent.
 *
 * @example const { keyPem, csrPem } = await newKeyAndCsr('thermostat-3');
 */
export async function newKeyAndCsr(clientId: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${clientId}`, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { keyPem, csrPem: csr.toString('pem') };
}

/** Lowercase hex SHA-256 of a PEM certificate's DER: what an onboarding string pins. */
export async function certificateSha256(pem: string): Promise<string> {
  const der = new x509.X509Certificate(pem).rawData;
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', der)).toString('hex');
}
