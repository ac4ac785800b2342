import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ensurePki, loadCa } from '../../src/pki/ca.js';
import { PkiError } from '../../src/pki/pki_error.js';
import { x509 } from '../../src/pki/x509.js';
import { freshPki } from './fixture.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('ensurePki', async () => {
  const first = await freshPki();
  const { certsDir } = first;
  const ca = new X509Certificate(first.ca.certPem);

  test('creates a 0700 directory with 0600 keys on first run', () => {
    expect(first.created).toBe(true);
    expect(mode(certsDir)).toBe(0o700);
    expect(mode(join(certsDir, 'ca.key'))).toBe(0o600);
    expect(mode(join(certsDir, 'server.key'))).toBe(0o600);
    expect(readFileSync(join(certsDir, 'ca.crt'), 'utf8')).toBe(first.ca.certPem);
  });

  test('the CA is a self-signed P-256 CA named "latchkey CA", valid ten years', () => {
    expect(ca.subject).toBe('CN=latchkey CA');
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const years = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(9.9);
    const keyUsage = first.ca.cert.getExtension(x509.KeyUsagesExtension);
    expect(keyUsage?.critical).toBe(true);
    expect(keyUsage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(first.ca.cert.getExtension(x509.BasicConstraintsExtension)?.critical).toBe(true);
    expect(first.ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
  });

  test('the server certificate is signed by the CA for localhost, 127.0.0.1 and ::1', () => {
    const server = new X509Certificate(first.serverCertPem);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBe('::1');
    expect(server.checkHost('example.com')).toBeUndefined();
  });

  test('a second run loads the same CA and server certificate and writes nothing', async () => {
    const second = await ensurePki(certsDir);
    expect(second.created).toBe(false);
    expect(second.ca.certPem).toBe(first.ca.certPem);
    expect(second.ca.keyPem).toBe(first.ca.keyPem);
    expect(second.serverCertPem).toBe(first.serverCertPem);
    expect(second.serverKeyPem).toBe(first.serverKeyPem);
  });

  test('a missing server certificate is reissued under the same CA', async () => {
    rmSync(join(certsDir, 'server.crt'));
    const again = await ensurePki(certsDir);
    expect(again.created).toBe(true);
    expect(again.ca.certPem).toBe(first.ca.certPem);
    expect(again.serverCertPem).not.toBe(first.serverCertPem);
    expect(new X509Certificate(again.serverCertPem).checkIssued(ca)).toBe(true);
    expect(mode(join(certsDir, 'server.key'))).toBe(0o600);
  });

  test('loadCa returns a key that signs for the CA certificate', async () => {
    const loaded = await loadCa(certsDir);
    expect(loaded.cert.subject).toBe('CN=latchkey CA');
    const data = new TextEncoder().encode('latchkey');
    const algo = { name: 'ECDSA', hash: 'SHA-256' };
    const sig = await crypto.subtle.sign(algo, loaded.privateKey, data);
    expect(await crypto.subtle.verify(algo, loaded.publicKey, sig, data)).toBe(true);
  });
});

describe('ensurePki refuses a damaged CA instead of replacing it', () => {
  test('ca.crt without ca.key is ca_incomplete', async () => {
    const { certsDir } = await freshPki();
    rmSync(join(certsDir, 'ca.key'));
    await expect(ensurePki(certsDir)).rejects.toMatchObject({ code: 'ca_incomplete' });
  });

  test('a ca.key from another CA is ca_key_mismatch', async () => {
    const a = await freshPki();
    const b = await freshPki();
    writeFileSync(join(a.certsDir, 'ca.key'), b.ca.keyPem);
    const err = await ensurePki(a.certsDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PkiError);
    expect((err as PkiError).code).toBe('ca_key_mismatch');
  });
});
