import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki } from '../../src/pki/ca.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { generateP256KeyPair, privateKeyToPem } from '../../src/pki/key_pem.js';
import { ECDSA_SHA256, x509 } from '../../src/pki/x509.js';
import type { CertificateRegistry } from '../../src/registry/certificates.js';
import { spawnTimeout, startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import { asSigner, caPemOf, certificatesOf, httpsCall, rawCertificate } from '../helpers/mtls.js';
import { closedWithin, collect, connect, connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';

const SCOPE = 'mqtt:publish:dev/{client_id}/# mqtt:subscribe:dev/{client_id}/#';

let t: TestServer;
let ca: string;
let certificates: CertificateRegistry;
const scratch = tempDir('latchkey-certs-test-');

/** mqtt.js over TLS with a client certificate, the server checked as `localhost` against the latchkey CA. */
function tlsOptions(clientId: string, cert: string, key: string, extra: IClientOptions = {}): IClientOptions {
  return { clientId, ca, cert, key, servername: 'localhost', rejectUnauthorized: true, ...extra };
}

/** A registered client and a certificate issued for it through the registry (what `cert issue` does). */
async function deviceWithCertificate(id: string): Promise<{ cert: string; key: string; serial: string; fingerprint: string }> {
  if (!t.server.store.clients.get(id)) t.createClient(id, SCOPE);
  const issued = await certificates.issue(id, { days: 1 }, 'test');
  return { cert: issued.certPem, key: issued.keyPem!, serial: issued.serial, fingerprint: issued.fingerprint };
}

beforeAll(async () => {
  t = await startTestServer();
  ca = caPemOf(t);
  certificates = await certificatesOf(t);
});
afterAll(async () => {
  await t?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('MQTTS with a device certificate (docs/INTERFACE.md#mqtt)', () => {
  it('a certificate from `cert issue` connects with no password and may use its scopes', async () => {
    const dev = await deviceWithCertificate('mtls-ok');
    const client = await connect(t.mqttsUrl, tlsOptions('mtls-ok', dev.cert, dev.key));
    try {
      const seen = collect(client);
      await client.subscribeAsync('dev/mtls-ok/echo', { qos: 1 });
      await client.publishAsync('dev/mtls-ok/echo', 'hello', { qos: 1 });
      await eventually(() => seen.some((m) => m.payload === 'hello'), 2000, 'echo');
      const session = t.server.broker.sessions().find((s) => s.client_id === 'mtls-ok');
      expect(session).toMatchObject({ method: 'certificate', principal: 'mtls-ok' });
    } finally {
      await client.endAsync(true);
    }
  });

  it('the MQTT client id must be the certificate CN (CONNACK 2), and a username naming another client is refused (4)', async () => {
    const dev = await deviceWithCertificate('mtls-id');
    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('mtls-someone-else', dev.cert, dev.key)))).toBe(2);
    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('mtls-id', dev.cert, dev.key, { username: 'mtls-other' })))).toBe(4);
  });

  describe('refused certificates, CONNACK 4', () => {
    const now = Date.now();
    const cases: { name: string; id: string; make: () => Promise<{ cert: string; key: string }> }[] = [
      {
        name: 'self-signed, same CN and clientAuth',
        id: 'mtls-forged',
        make: async () => {
          const keys = await generateP256KeyPair();
          const forged = await x509.X509CertificateGenerator.createSelfSigned({
            name: [{ CN: ['mtls-forged'] }],
            keys,
            signingAlgorithm: ECDSA_SHA256,
            extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
          });
          return { cert: forged.toString('pem'), key: await privateKeyToPem(keys.privateKey) };
        },
      },
      {
        name: 'issued by another CA',
        id: 'mtls-foreign',
        make: async () => {
          const other = await ensurePki(join(scratch, 'other-ca'));
          const issued = await issueDeviceCertificate(other.ca, { clientId: 'mtls-foreign' });
          return { cert: issued.certPem, key: issued.keyPem! };
        },
      },
      {
        name: 'expired',
        id: 'mtls-expired',
        make: async () => {
          const issued = await rawCertificate(t, { clientId: 'mtls-expired', notBefore: new Date(now - 2 * 86_400_000), notAfter: new Date(now - 86_400_000) });
          return { cert: issued.certPem, key: issued.keyPem! };
        },
      },
      {
        name: 'not yet valid',
        id: 'mtls-future',
        make: async () => {
          const issued = await rawCertificate(t, { clientId: 'mtls-future', notBefore: new Date(now + 86_400_000), notAfter: new Date(now + 2 * 86_400_000) });
          return { cert: issued.certPem, key: issued.keyPem! };
        },
      },
      {
        name: 'CA:true',
        id: 'mtls-ca',
        make: async () => {
          const issued = await rawCertificate(t, { clientId: 'mtls-ca', isCa: true });
          return { cert: issued.certPem, key: issued.keyPem! };
        },
      },
      {
        name: 'serverAuth instead of clientAuth',
        id: 'mtls-eku',
        make: async () => {
          const issued = await rawCertificate(t, { clientId: 'mtls-eku', extendedKeyUsage: 'serverAuth' });
          return { cert: issued.certPem, key: issued.keyPem! };
        },
      },
      {
        name: 'signed by a CA:false "intermediate" (a device certificate used to sign), chain presented',
        id: 'mtls-chain',
        make: async () => {
          const rogue = await rawCertificate(t, { clientId: 'mtls-rogue' });
          const signer = await asSigner(rogue.certPem, rogue.keyPem!);
          const leaf = await issueDeviceCertificate(signer, { clientId: 'mtls-chain' });
          return { cert: `${leaf.certPem.trim()}\n${rogue.certPem.trim()}\n`, key: leaf.keyPem! };
        },
      },
    ];

    it.each(cases)('$name', async ({ id, make }) => {
      t.createClient(id, SCOPE);
      const { cert, key } = await make();
      expect(await refusalCode(connect(t.mqttsUrl, tlsOptions(id, cert, key)))).toBe(4);
      t.server.audit.flush();
      const refusals = t.auditEvents({ event: 'mqtt.connect', since: now - 1000, limit: 200 }).filter((e) => e.outcome === 'failure');
      expect(refusals.some((e) => (e.detail as { client_id?: string } | null)?.client_id === id && /^certificate /.test(e.reason ?? ''))).toBe(true);
      // The broker keeps serving well-behaved devices.
      const good = await deviceWithCertificate(`${id}-good`);
      const client = await connect(t.mqttsUrl, tlsOptions(`${id}-good`, good.cert, good.key));
      await client.endAsync(true);
    });
  });

  it('a session ends when its certificate expires', async () => {
    t.createClient('mtls-short', SCOPE);
    const issued = await rawCertificate(t, { clientId: 'mtls-short', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 2500) });
    const client = await connect(t.mqttsUrl, tlsOptions('mtls-short', issued.certPem, issued.keyPem!));
    const lifetime = await closedWithin(client, 5000);
    expect(lifetime).toBeGreaterThan(500);
    client.end(true);
  });
});

describe('revocation (docs/INTERFACE.md#command-line cert revoke)', { timeout: spawnTimeout(2) }, () => {
  it('ends a live session within 1 s and refuses new connects with CONNACK 5', async () => {
    const dev = await deviceWithCertificate('mtls-rev');
    const client = await connect(t.mqttsUrl, tlsOptions('mtls-rev', dev.cert, dev.key));
    certificates.revoke(dev.serial, 'test');
    await closedWithin(client, 1000);
    client.end(true);
    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('mtls-rev', dev.cert, dev.key)))).toBe(5);
    // Another certificate of the same client still works.
    const fresh = await deviceWithCertificate('mtls-rev');
    const again = await connect(t.mqttsUrl, tlsOptions('mtls-rev', fresh.cert, fresh.key));
    await again.endAsync(true);
  });

  it('a revocation committed by another process is refused at the next connect, before the change watcher runs', async () => {
    const dev = await deviceWithCertificate('mtls-race');
    // What the CLI's transaction leaves behind, without this process's change notification.
    t.server.store.certificates.revoke(dev.serial, Date.now());
    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('mtls-race', dev.cert, dev.key)))).toBe(5);
  });

  it('revoked by the CLI in another process: the live session ends within 1 s of the command', async () => {
    const dev = await deviceWithCertificate('mtls-cli-rev');
    const client = await connect(t.mqttsUrl, tlsOptions('mtls-cli-rev', dev.cert, dev.key));
    const result = await t.cli('cert', 'revoke', dev.serial.toUpperCase().match(/../g)!.join(':'), '--json');
    const acknowledged = Date.now();
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ serial: dev.serial, revoked: true, already_revoked: false });
    await closedWithin(client, 1000, acknowledged);
    client.end(true);
    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('mtls-cli-rev', dev.cert, dev.key)))).toBe(5);
  });
});

describe('the CSR flow through the CLI', { timeout: spawnTimeout(4) }, () => {
  it('`cert issue --csr` signs the device key: no key file, and the device connects with its own key', async () => {
    t.createClient('mtls-csr', SCOPE);
    const keys = await generateP256KeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=mtls-csr', keys, signingAlgorithm: ECDSA_SHA256 });
    const csrFile = join(scratch, 'mtls-csr.csr');
    writeFileSync(csrFile, csr.toString('pem'));
    const out = join(scratch, 'out-csr');
    const result = await t.cli('cert', 'issue', 'mtls-csr', '--csr', csrFile, '--out', out, '--days', '30', '--json');
    expect(result.code, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as { serial: string; cert: string; key: string | null; not_after: string };
    expect(answer.key).toBeNull();
    expect(answer.cert).toBe(join(out, 'mtls-csr.crt'));
    expect(existsSync(join(out, 'mtls-csr.key'))).toBe(false);
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).toBe(ca);
    const days = (Date.parse(answer.not_after) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);

    const client = await connect(t.mqttsUrl, tlsOptions('mtls-csr', readFileSync(answer.cert, 'utf8'), await privateKeyToPem(keys.privateKey)));
    await client.endAsync(true);
    expect(certificates.list('mtls-csr').map((c) => c.serial)).toEqual([answer.serial]);
  });

  it('a CSR naming another client is refused (exit 2) and nothing is written or recorded', async () => {
    t.createClient('mtls-csr-bad', SCOPE);
    const keys = await generateP256KeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=mtls-ok', keys, signingAlgorithm: ECDSA_SHA256 });
    const csrFile = join(scratch, 'mtls-csr-bad.csr');
    writeFileSync(csrFile, csr.toString('pem'));
    const out = join(scratch, 'out-csr-bad');
    const result = await t.cli('cert', 'issue', 'mtls-csr-bad', '--csr', csrFile, '--out', out);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: .*CN/);
    expect(existsSync(out)).toBe(false);
    expect(certificates.list('mtls-csr-bad')).toEqual([]);
  });
});

describe('certificate-bound tokens at the MQTT door (RFC 8705 §3)', () => {
  /** A client_secret_basic client whose token was fetched over mutual TLS: bound to `dev`'s certificate. */
  async function boundToken(id: string): Promise<{ token: string; dev: Awaited<ReturnType<typeof deviceWithCertificate>> }> {
    const secret = t.createClient(id, SCOPE);
    const dev = await deviceWithCertificate(id);
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: dev.cert, key: dev.key }, {
      form: { grant_type: 'client_credentials' },
      headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    return { token: (res.json as { access_token: string }).access_token, dev };
  }

  it('is refused over plain TCP (4), over TLS without a certificate (4) and with another certificate of the same client (4)', async () => {
    const { token } = await boundToken('bound-1');
    expect(await refusalCode(connectDevice(t.mqttUrl, 'bound-1', token))).toBe(4);
    expect(await refusalCode(connectDevice(t.mqttsUrl, 'bound-1', token, { ca, servername: 'localhost' }))).toBe(4);
    const second = await deviceWithCertificate('bound-1');
    expect(await refusalCode(connectDevice(t.mqttsUrl, 'bound-1', token, { ca, cert: second.cert, key: second.key, servername: 'localhost' }))).toBe(4);
  });

  it("is refused with another client's certificate (4)", async () => {
    const { token } = await boundToken('bound-2');
    const other = await deviceWithCertificate('bound-2-other');
    expect(await refusalCode(connectDevice(t.mqttsUrl, 'bound-2', token, { ca, cert: other.cert, key: other.key, servername: 'localhost' }))).toBe(4);
  });

  it('is accepted with its own certificate', async () => {
    const { token, dev } = await boundToken('bound-3');
    const client = await connectDevice(t.mqttsUrl, 'bound-3', token, { ca, cert: dev.cert, key: dev.key, servername: 'localhost' });
    const session = t.server.broker.sessions().find((s) => s.client_id === 'bound-3');
    expect(session?.method).toBe('jwt');
    await client.endAsync(true);
  });

  it('an unbound token over MQTTS must belong to the certificate holder (4 otherwise)', async () => {
    const secret = t.createClient('unbound-a', SCOPE);
    const { access_token } = await t.token('unbound-a', secret);
    const b = await deviceWithCertificate('unbound-b');
    expect(await refusalCode(connectDevice(t.mqttsUrl, 'unbound-a', access_token, { ca, cert: b.cert, key: b.key, servername: 'localhost' }))).toBe(4);
  });
});
