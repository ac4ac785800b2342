import { generateP256KeyPair, privateKeyToPem } from './key_pem.js';
import { ECDSA_SHA256, x509 } from './x509.js';

/**
 * A fresh P-256 key and a PKCS #10 request for `CN=<clientId>`: what the
 * CLI sends a remote latchkey to get a device certificate signed, so the
 * device's private key is made here and never crosses the network.
 *
 * @example const { keyPem, csrPem } = await deviceKeyAndCsr('thermostat-1');
 */
export async function deviceKeyAndCsr(clientId: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateP256KeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [clientId] }],
    keys,
    signingAlgorithm: ECDSA_SHA256,
  });
  return { keyPem: await privateKeyToPem(keys.privateKey), csrPem: csr.toString('pem') };
}
