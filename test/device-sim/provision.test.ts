/**
 * The device library's onboarding: provision() with an onboarding string
 * (CA pinned, key made on the device) and automatic certificate renewal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, DeviceError, type DeviceEvent, provision } from '../../device-sim/lib/index.js';
import { x509 } from '../../src/pki/x509.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { caPemOf, rawCertificate } from '../helpers/mtls.js';
import { createClaim, createTemplate, opensslCsr } from '../helpers/onboarding.js';

const SCOPE = 'mqtt:publish:lab/{client_id}/# mqtt:subscribe:lab/{client_id}/#';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  createTemplate(t, 'lab', SCOPE, { idPrefix: 'lab-' });
});
afterAll(() => t.close());

describe('provision()', () => {
  it('provisions with an onboarding string and the device connects with what it got', async () => {
    const claim = createClaim(t, 'lab');
    const identity = await provision(claim.onboarding, { clientId: 'lab-p1' });
    expect(identity).toMatchObject({ clientId: 'lab-p1', scope: SCOPE, ca: caPemOf(t), mqttUrl: `mqtts://127.0.0.1:${t.server.ports.mqtts}` });
    expect(identity.key).toContain('BEGIN PRIVATE KEY');
    // The server never saw the key: the certificate is for the key the device made.
    const cert = new x509.X509Certificate(identity.cert);
    expect(cert.subject).toBe('CN=lab-p1');
    const device = await Device.connect({ clientId: 'lab-p1', mqttUrl: identity.mqttUrl, cert: identity.cert, key: identity.key, ca: identity.ca });
    await device.publish('lab/lab-p1/hello', 'hi', { qos: 1 });
    await device.close();
  });

  it('refuses a server whose CA is not the pinned one, and a spent claim', async () => {
    const claim = createClaim(t, 'lab');
    const forged = claim.onboarding.replace(/ca_sha256=[0-9a-f]{64}/, `ca_sha256=${'a'.repeat(64)}`);
    await expect(provision(forged, { clientId: 'lab-p2' })).rejects.toMatchObject({ code: 'ca_mismatch' });
    expect(t.server.store.claims.byId(claim.id)!.used).toBe(0);
    await provision(claim.onboarding, { clientId: 'lab-p2' });
    const replay = await provision(claim.onboarding, { clientId: 'lab-p3' }).catch((err: unknown) => err);
    expect(replay).toBeInstanceOf(DeviceError);
    expect(replay).toMatchObject({ code: 'refused', returnCode: 4 });
    await expect(provision('https://example.com', { clientId: 'lab-p4' })).rejects.toMatchObject({ code: 'invalid_options' });
  });
});

describe('automatic certificate renewal', () => {
  it('a certificate session warned on $auth/<id>/expiring renews with a new key and reconnects with it', async () => {
    t.createClient('lab-renew', SCOPE);
    const { keyPem, csrPem } = opensslCsr('lab-renew');
    const now = Date.now();
    // rawCertificate records it, as `cert issue` would.
    const old = await rawCertificate(t, { clientId: 'lab-renew', csrPem, notBefore: new Date(now - 29 * 86_400_000), notAfter: new Date(now + 86_400_000) });
    const events: DeviceEvent[] = [];
    const saved: { cert: string; key: string }[] = [];
    const device = await Device.connect({
      clientId: 'lab-renew',
      mqttUrl: t.mqttsUrl.replace('127.0.0.1', 'localhost'),
      cert: old.certPem,
      key: keyPem,
      ca: caPemOf(t),
      reconnect: { minMs: 100, maxMs: 500 },
      onEvent: (e) => events.push(e),
      onCertificate: (renewed) => saved.push(renewed),
    });
    try {
      const renewed = await device.waitFor('certificate_renewed', () => true, 15_000);
      // As long as the certificate it replaces (30 days) for a client no template made.
      expect(new Date(renewed.notAfter).getTime()).toBeGreaterThan(now + 29 * 86_400_000);
      expect(saved).toHaveLength(1);
      expect(saved[0]!.key).not.toBe(keyPem);
      const newSerial = new x509.X509Certificate(saved[0]!.cert).serialNumber.toLowerCase().replace(/^0+/, '');
      expect(t.server.store.certificateRenewals.get(newSerial)).toMatchObject({ replaces: old.serial });
      // The next session runs on the new certificate.
      t.server.broker.onCertificateRevoked(old.serial);
      t.server.store.certificates.revoke(old.serial, Date.now());
      await device.waitFor('connected', () => true, 10_000);
      const sessions = t.server.broker.sessions().filter((s) => s.client_id === 'lab-renew');
      expect(sessions).toHaveLength(1);
      expect(events.filter((e) => e.type === 'certificate_renewed')).toHaveLength(1);
    } finally {
      await device.close();
    }
  });
});
