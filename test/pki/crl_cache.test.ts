import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { x509 } from '../../src/pki/x509.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { caOf, certificatesOf, httpsCall } from '../helpers/mtls.js';

let lk: TestServer;
beforeAll(async () => {
  lk = await startTestServer();
  lk.createClient('crl-dev', 'mqtt:publish:x');
});
afterAll(() => lk.close());

async function getCrl(base = lk.baseUrl): Promise<Buffer> {
  const res = await fetch(`${base}/pki/crl`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function signedSoFar(): Promise<number> {
  const text = await (await fetch(`${lk.baseUrl}/metrics`)).text();
  return Number(/^latchkey_crl_signed_total (\d+)/m.exec(text)?.[1] ?? 'NaN');
}

describe('GET /pki/crl is cached', () => {
  test('repeated GETs return byte-identical CRLs without signing again; a revocation re-signs and lists the serial', async () => {
    const before = await signedSoFar();
    const first = await getCrl();
    const second = await getCrl();
    expect(second.equals(first)).toBe(true);
    expect(await signedSoFar()).toBe(before + 1);
    // The HTTP and HTTPS listeners serve the same cached CRL.
    const viaHttps = await httpsCall(`${lk.httpsUrl}/pki/crl`, { ca: (await caOf(lk)).certPem });
    expect(viaHttps.body.equals(first)).toBe(true);
    expect(await signedSoFar()).toBe(before + 1);

    const certificates = await certificatesOf(lk);
    const issued = await certificates.issue('crl-dev', { days: 30 }, 'test');
    expect(new x509.X509Crl(new Uint8Array(await getCrl())).entries).toHaveLength(0);

    const revoked = await lk.cli('cert', 'revoke', issued.serial, '--json');
    expect(revoked.code).toBe(0);
    const third = await getCrl();
    expect(third.equals(first)).toBe(false);
    const crl = new x509.X509Crl(new Uint8Array(third));
    expect(crl.entries.map((e) => e.serialNumber.toLowerCase())).toEqual([issued.serial]);
    expect(await signedSoFar()).toBe(before + 2);
    expect((await getCrl()).equals(third)).toBe(true);
    expect(await signedSoFar()).toBe(before + 2);
  });
});
