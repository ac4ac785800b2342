import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/pki/x509.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { caPemOf, certificatesOf, httpsCall } from '../helpers/mtls.js';

let t: TestServer;
let caPem: string;

beforeAll(async () => {
  t = await startTestServer();
  caPem = caPemOf(t);
});
afterAll(async () => {
  await t?.close();
});

/** GET on the HTTP listener (fetch) or the HTTPS one (trusting the CA). */
async function fetchBoth(path: string): Promise<{ listener: string; status: number; type: string; body: Buffer }[]> {
  const http = await fetch(`${t.baseUrl}${path}`);
  const https = await httpsCall(`${t.httpsUrl}${path}`, { ca: caPem });
  return [
    { listener: 'http', status: http.status, type: http.headers.get('content-type') ?? '', body: Buffer.from(await http.arrayBuffer()) },
    { listener: 'https', status: https.status, type: String(https.headers['content-type'] ?? ''), body: https.body },
  ];
}

describe('GET /pki/ca.crt', () => {
  it('serves the CA certificate as PEM on HTTP and HTTPS', async () => {
    for (const answer of await fetchBoth('/pki/ca.crt')) {
      expect(answer.status, answer.listener).toBe(200);
      expect(answer.type, answer.listener).toMatch(/^application\/x-pem-file/);
      expect(answer.body.toString('utf8'), answer.listener).toBe(caPem);
    }
    const ca = new x509.X509Certificate(caPem);
    expect(ca.subject).toBe('CN=latchkey CA');
  });
});

describe('GET /pki/crl', () => {
  it('is a DER CRL signed by the CA that lists a revoked serial, and only revoked ones', async () => {
    const certificates = await certificatesOf(t);
    t.createClient('crl-1', 'mqtt:publish:x');
    const kept = await certificates.issue('crl-1', { days: 1 }, 'test');
    const revoked = await certificates.issue('crl-1', { days: 1 }, 'test');
    certificates.revoke(revoked.serial, 'test');

    const ca = new x509.X509Certificate(caPem);
    for (const answer of await fetchBoth('/pki/crl')) {
      expect(answer.status, answer.listener).toBe(200);
      expect(answer.type, answer.listener).toBe('application/pkix-crl');
      const crl = new x509.X509Crl(new Uint8Array(answer.body));
      expect(await crl.verify({ publicKey: ca.publicKey })).toBe(true);
      expect(crl.issuer).toBe(ca.subject);
      const serials = crl.entries.map((e) => e.serialNumber.toLowerCase());
      expect(serials).toContain(revoked.serial);
      expect(serials).not.toContain(kept.serial);
      expect(crl.nextUpdate!.getTime()).toBeGreaterThan(Date.now());
    }
  });
});
