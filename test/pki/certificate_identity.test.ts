import { X509Certificate } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { certificateIdentity, x5tS256 } from '../../src/pki/certificate_identity.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { generateP256KeyPair } from '../../src/pki/key_pem.js';
import { signLeafCertificate } from '../../src/pki/sign_leaf.js';
import { ECDSA_SHA256, x509 } from '../../src/pki/x509.js';
import { freshPki } from './fixture.js';

const DAY = 86_400_000;
const { ca } = await freshPki();
const caCert = new X509Certificate(ca.certPem);
const der = (pem: string) => new X509Certificate(pem).raw;
const now = Date.now();

const CLIENT_AUTH_EKU = new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]);

/** A self-signed certificate that looks like a device certificate; subject and extensions chosen by the test. */
async function selfSigned(name: x509.JsonName, extensions: x509.Extension[] = [CLIENT_AUTH_EKU]): Promise<Buffer> {
  const keys = await generateP256KeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + DAY),
    extensions,
  });
  return Buffer.from(cert.rawData);
}

async function signedWithCn(cn: string): Promise<Buffer> {
  const keys = await generateP256KeyPair();
  const cert = await signLeafCertificate(ca, {
    subjectCn: cn,
    publicKey: keys.publicKey,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + DAY),
    extendedKeyUsage: 'clientAuth',
  });
  return Buffer.from(cert.rawData);
}

describe('certificateIdentity accepts a good device certificate', async () => {
  const issued = await issueDeviceCertificate(ca, { clientId: 'meter.42_a-b' });
  const id = certificateIdentity(der(issued.certPem));

  test('returns CN, serial, validity and x5t#S256', () => {
    expect(id).toEqual({
      clientId: 'meter.42_a-b',
      serial: issued.serial,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      fingerprint: issued.fingerprint,
    });
    expect(id.fingerprint).toBe(x5tS256(der(issued.certPem)));
  });

  test('with the CA as trusted issuer', () => {
    expect(certificateIdentity(der(issued.certPem), new Date(), caCert).clientId).toBe('meter.42_a-b');
  });
});

describe('certificateIdentity refuses', async () => {
  const rows: [string, Buffer, string][] = [
    [
      'expired',
      der((await issueDeviceCertificate(ca, { clientId: 'dev', notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) })).certPem),
      'certificate_expired',
    ],
    [
      'not yet valid',
      der((await issueDeviceCertificate(ca, { clientId: 'dev', notBefore: new Date(now + DAY), notAfter: new Date(now + 10 * DAY) })).certPem),
      'certificate_not_yet_valid',
    ],
    ['CA:true', der((await issueDeviceCertificate(ca, { clientId: 'dev', isCa: true })).certPem), 'certificate_is_ca'],
    ['serverAuth only', der((await issueDeviceCertificate(ca, { clientId: 'dev', extendedKeyUsage: 'serverAuth' })).certPem), 'certificate_wrong_usage'],
    ['no EKU at all', await selfSigned([{ CN: ['dev'] }], []), 'certificate_wrong_usage'],
    ['a CN that is not a client id', await signedWithCn('dev/../admin'), 'certificate_bad_subject'],
    ['a CN with a newline', await signedWithCn('dev\nCN=admin'), 'certificate_bad_subject'],
    ['two CNs', await selfSigned([{ CN: ['dev'] }, { CN: ['other'] }]), 'certificate_bad_subject'],
    ['no CN', await selfSigned([{ O: ['latchkey'] }]), 'certificate_bad_subject'],
    ['bytes that are not a certificate', Buffer.from('not a certificate'), 'invalid_certificate'],
  ];

  test.each(rows)('%s', (_name, certDer, code) => {
    expect(() => certificateIdentity(certDer)).toThrowError(expect.objectContaining({ name: 'PkiError', code }));
  });

  test('a self-signed certificate with a good CN, given the CA as trusted issuer', async () => {
    const forged = await selfSigned([{ CN: ['dev'] }]);
    expect(certificateIdentity(forged).clientId).toBe('dev'); // the handshake's job without trustedIssuer…
    expect(() => certificateIdentity(forged, new Date(), caCert)).toThrowError(
      expect.objectContaining({ code: 'certificate_untrusted' }),
    );
  });

  test('validity is judged at the given time', async () => {
    const issued = await issueDeviceCertificate(ca, { clientId: 'dev', days: 1 });
    const after = new Date(issued.notAfter.getTime() + 1000);
    expect(() => certificateIdentity(der(issued.certPem), after)).toThrowError(expect.objectContaining({ code: 'certificate_expired' }));
  });
});
