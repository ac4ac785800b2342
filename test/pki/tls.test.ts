import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, describe, expect, test } from 'vitest';
import { certificateIdentity, type CertificateIdentity } from '../../src/pki/certificate_identity.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { generateP256KeyPair, privateKeyToPem } from '../../src/pki/key_pem.js';
import { ECDSA_SHA256, x509 } from '../../src/pki/x509.js';
import { freshPki } from './fixture.js';

const pki = await freshPki();
const { ca } = pki;

/** The shape of the MQTTS listener: mutual TLS, trust = the latchkey CA only. */
const server = tls.createServer({
  cert: pki.serverCertPem,
  key: pki.serverKeyPem,
  ca: ca.certPem,
  requestCert: true,
  rejectUnauthorized: true,
});
const identities: CertificateIdentity[] = [];
server.on('secureConnection', (socket) => {
  identities.push(certificateIdentity(socket.getPeerCertificate().raw));
  socket.end('ok');
});
const refusals: Error[] = [];
server.on('tlsClientError', (err) => refusals.push(err));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Connects with a client certificate; resolves with what the server said, or the error. */
async function connect(certPem: string, keyPem: string, extra: tls.ConnectionOptions = {}): Promise<string | Error> {
  return new Promise((resolve) => {
    let data = '';
    const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: certPem, key: keyPem, ...extra });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err) => resolve(err));
    socket.on('close', () => resolve(data));
  });
}

describe('mutual TLS with the latchkey CA', () => {
  test('a device certificate connects and certificateIdentity names its client', async () => {
    const issued = await issueDeviceCertificate(ca, { clientId: 'thermostat-1' });
    expect(await connect(issued.certPem, issued.keyPem ?? '')).toBe('ok');
    expect(identities.at(-1)).toMatchObject({ clientId: 'thermostat-1', serial: issued.serial, fingerprint: issued.fingerprint });
  });

  test('the server certificate checks out for the name localhost too', async () => {
    const issued = await issueDeviceCertificate(ca, { clientId: 'thermostat-2' });
    expect(await connect(issued.certPem, issued.keyPem ?? '', { servername: 'localhost' })).toBe('ok');
  });

  test('a self-signed certificate with the same CN is refused by the handshake', async () => {
    const keys = await generateP256KeyPair();
    const forged = await x509.X509CertificateGenerator.createSelfSigned({
      name: [{ CN: ['thermostat-1'] }],
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
    });
    const before = { identities: identities.length, refusals: refusals.length };
    const result = await connect(forged.toString('pem'), await privateKeyToPem(keys.privateKey));
    expect(result).not.toBe('ok');
    expect(identities.length).toBe(before.identities);
    expect(refusals.length).toBe(before.refusals + 1);
  });

  test('an expired device certificate is refused by the handshake', async () => {
    const now = Date.now();
    const issued = await issueDeviceCertificate(ca, {
      clientId: 'thermostat-1',
      notBefore: new Date(now - 2 * 86_400_000),
      notAfter: new Date(now - 86_400_000),
    });
    const before = identities.length;
    expect(await connect(issued.certPem, issued.keyPem ?? '')).not.toBe('ok');
    expect(identities.length).toBe(before);
  });

  test('no client certificate is refused', async () => {
    const result = await new Promise<string | Error>((resolve) => {
      let data = '';
      const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem });
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('error', (err) => resolve(err));
      socket.on('close', () => resolve(data));
    });
    expect(result).not.toBe('ok');
  });
});
