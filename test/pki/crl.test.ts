import { describe, expect, test } from 'vitest';
import { buildCrl } from '../../src/pki/crl.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { x509 } from '../../src/pki/x509.js';
import { freshPki } from './fixture.js';

const { ca } = await freshPki();
/** Copies the Buffer into a plain ArrayBuffer-backed view, as @peculiar/x509's types want. */
const parseCrl = (der: Buffer) => new x509.X509Crl(new Uint8Array(der));

describe('buildCrl', async () => {
  const revoked = await issueDeviceCertificate(ca, { clientId: 'stolen' });
  const kept = await issueDeviceCertificate(ca, { clientId: 'fine' });
  const revokedAt = new Date('2026-01-02T03:04:05Z');
  const thisUpdate = new Date('2026-01-02T04:00:00Z');
  const der = await buildCrl(ca, [{ serial: revoked.serial, revokedAt }], { thisUpdate });
  const crl = parseCrl(der);

  test('is a v2 CRL issued and signed by the CA', async () => {
    expect(crl.version).toBe(1); // v2 is encoded as INTEGER 1 (RFC 5280 §5.1.2.1)
    expect(crl.issuer).toBe('CN=latchkey CA');
    expect(await crl.verify({ publicKey: ca.publicKey })).toBe(true);
    expect(await crl.verify({ publicKey: ca.cert })).toBe(true);
  });

  test('lists the revoked serial with its date, and only that', () => {
    expect(crl.entries.map((e) => e.serialNumber.toLowerCase())).toEqual([revoked.serial]);
    expect(crl.entries[0]?.revocationDate).toEqual(revokedAt);
    expect(crl.findRevoked(new x509.X509Certificate(revoked.certPem))).not.toBeNull();
    expect(crl.findRevoked(new x509.X509Certificate(kept.certPem))).toBeNull();
  });

  test('carries thisUpdate, a nextUpdate an hour later, AKI and cRLNumber', () => {
    expect(crl.thisUpdate).toEqual(thisUpdate);
    expect(crl.nextUpdate).toEqual(new Date(thisUpdate.getTime() + 3_600_000));
    const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(crl.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caSki);
    expect(crl.getExtension('2.5.29.20')).not.toBeNull();
  });

  test('another CA key does not verify it', async () => {
    const other = await freshPki();
    expect(await crl.verify({ publicKey: other.ca.publicKey })).toBe(false);
  });

  test('an empty CRL and a serial with the top bit set both encode', async () => {
    expect(parseCrl(await buildCrl(ca, [])).entries).toHaveLength(0);
    // 0xff01 would read as negative without a leading zero octet.
    const highDer = await buildCrl(ca, [{ serial: 'FF:01', revokedAt }]);
    expect(parseCrl(highDer).entries.map((e) => e.serialNumber)).toEqual(['ff01']);
    expect(highDer.includes(Buffer.from('020300ff01', 'hex'))).toBe(true); // INTEGER, 3 octets, 00 ff 01
  });
});
