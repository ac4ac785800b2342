import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { x5tS256 } from '../../src/pki/fingerprint.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { ECDSA_SHA256, EC_P256, x509 } from '../../src/pki/x509.js';
import { freshPki } from './fixture.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const { ca } = await freshPki();
const caCert = new X509Certificate(ca.certPem);

async function makeCsr(...cns: string[]): Promise<{ pem: string; publicKeyDer: Buffer }> {
  const keys = (await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const name = cns.map((cn) => ({ CN: [cn] }));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name, keys, signingAlgorithm: ECDSA_SHA256 });
  expect(csr.subjectName.getField('CN')).toEqual(cns);
  return { pem: csr.toString('pem'), publicKeyDer: Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey)) };
}

describe('issueDeviceCertificate with a generated key', async () => {
  const issued = await issueDeviceCertificate(ca, { clientId: 'thermostat-1', days: 30 });
  const cert = new X509Certificate(issued.certPem);

  test('is signed by the CA', () => {
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
  });

  test('names the client, is an end entity for clientAuth only', () => {
    expect(cert.subject).toBe('CN=thermostat-1');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    const parsed = new x509.X509Certificate(issued.certPem);
    expect(parsed.getExtension(x509.BasicConstraintsExtension)?.critical).toBe(true);
    expect(parsed.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(parsed.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caSki);
    expect(parsed.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
  });

  test('has a random serial of at least 64 bits, reported as lowercase hex', () => {
    expect(issued.serial).toMatch(/^[0-9a-f]+$/);
    expect(issued.serial).toBe(cert.serialNumber.toLowerCase());
    expect(BigInt(`0x${issued.serial}`)).toBeGreaterThanOrEqual(2n ** 64n);
  });

  test('returns the private key of the certified public key', () => {
    expect(issued.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const fromKey = createPublicKey(createPrivateKey(issued.keyPem ?? '')).export({ type: 'spki', format: 'der' });
    expect(fromKey.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
  });

  test('reports validity and the x5t#S256 of the DER', () => {
    expect(issued.notAfter.getTime()).toBe(Date.parse(cert.validTo));
    expect(issued.notBefore.getTime()).toBe(Date.parse(cert.validFrom));
    const days = (issued.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(issued.fingerprint).toBe(x5tS256(cert.raw));
    expect(issued.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('serials differ between certificates', async () => {
    const serials = await Promise.all(
      Array.from({ length: 5 }, async () => (await issueDeviceCertificate(ca, { clientId: 'dev' })).serial),
    );
    expect(new Set([...serials, issued.serial]).size).toBe(6);
  });
});

describe('issueDeviceCertificate refuses bad input', () => {
  test.each([
    ['client id with a slash', { clientId: 'a/b' }, 'invalid_client_id'],
    ['empty client id', { clientId: '' }, 'invalid_client_id'],
    ['65-character client id', { clientId: 'a'.repeat(65) }, 'invalid_client_id'],
    ['zero days', { clientId: 'dev', days: 0 }, 'invalid_validity'],
    ['inverted window', { clientId: 'dev', notBefore: new Date(2030, 0, 1), notAfter: new Date(2029, 0, 1) }, 'invalid_validity'],
  ])('%s', async (_name, opts, code) => {
    await expect(issueDeviceCertificate(ca, opts)).rejects.toMatchObject({ name: 'PkiError', code });
  });
});

describe('issueDeviceCertificate from a CSR', () => {
  test('certifies the CSR key and returns no private key', async () => {
    const csr = await makeCsr('sensor-7');
    const issued = await issueDeviceCertificate(ca, { clientId: 'sensor-7', csrPem: csr.pem });
    const cert = new X509Certificate(issued.certPem);
    expect(issued.keyPem).toBeNull();
    expect(cert.subject).toBe('CN=sensor-7');
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(csr.publicKeyDer)).toBe(true);
  });

  test('a CSR for another client is csr_subject_mismatch', async () => {
    const csr = await makeCsr('sensor-8');
    await expect(issueDeviceCertificate(ca, { clientId: 'sensor-7', csrPem: csr.pem })).rejects.toMatchObject({
      code: 'csr_subject_mismatch',
    });
  });

  test('a CSR with two CNs is csr_subject_mismatch', async () => {
    const csr = await makeCsr('sensor-7', 'sensor-8');
    await expect(issueDeviceCertificate(ca, { clientId: 'sensor-7', csrPem: csr.pem })).rejects.toMatchObject({
      code: 'csr_subject_mismatch',
    });
  });

  test('a tampered CSR is invalid_csr', async () => {
    const csr = await makeCsr('sensor-7');
    const der = Buffer.from(x509.PemConverter.decodeFirst(csr.pem));
    // The signature's last octet: the request no longer proves possession of its key.
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    const pem = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await expect(issueDeviceCertificate(ca, { clientId: 'sensor-7', csrPem: pem })).rejects.toMatchObject({
      code: 'invalid_csr',
    });
  });

  test('garbage instead of a CSR is invalid_csr', async () => {
    await expect(issueDeviceCertificate(ca, { clientId: 'sensor-7', csrPem: 'not a csr' })).rejects.toMatchObject({
      code: 'invalid_csr',
    });
  });

  test('extensions requested in the CSR are ignored', async () => {
    const keys = (await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=sensor-9',
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1'])],
    });
    const issued = await issueDeviceCertificate(ca, { clientId: 'sensor-9', csrPem: csr.toString('pem') });
    const cert = new X509Certificate(issued.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
  });
});
