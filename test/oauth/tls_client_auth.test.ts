import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki } from '../../src/pki/ca.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { x5tS256 } from '../../src/pki/fingerprint.js';
import { x509 } from '../../src/pki/x509.js';
import type { CertificateRegistry } from '../../src/registry/certificates.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import { caPemOf, certificatesOf, httpsCall, rawCertificate, type TlsIdentity } from '../helpers/mtls.js';
import { closedWithin, connectDevice, refusalCode } from '../helpers/mqtt.js';
import { basic, claimsOf, invalidClientBody, post } from './http.js';

const SCOPE = 'mqtt:publish:plant/{client_id}/#';
const GRANT = { grant_type: 'client_credentials' };

let t: TestServer;
let ca: string;
let certificates: CertificateRegistry;

/** A tls_client_auth client with a certificate issued through the registry (as `cert issue` does). */
async function certClient(id: string): Promise<TlsIdentity & { fingerprint: string; serial: string }> {
  t.server.registry.create({ id, scope: SCOPE, authMethod: 'tls_client_auth' }, 'test');
  const issued = await certificates.issue(id, { days: 1 }, 'test');
  return { ca, cert: issued.certPem, key: issued.keyPem!, fingerprint: issued.fingerprint, serial: issued.serial };
}

/** Private reasons of token refusals since `since` (the audit log; clients only see invalid_client). */
function refusalReasons(since: number): string[] {
  t.server.audit.flush();
  return t.auditEvents({ event: 'token.refused', since, limit: 100 }).map((e) => e.reason ?? '');
}

function certOf(token: string): unknown {
  return (claimsOf(token).cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
}

beforeAll(async () => {
  t = await startTestServer({ authFailureLimit: '1000' });
  ca = caPemOf(t);
  certificates = await certificatesOf(t);
});
afterAll(async () => {
  await t?.close();
});

describe('tls_client_auth (RFC 8705 §2.1) on the HTTPS listener', () => {
  it('issues a token bound to the certificate: cnf.x5t#S256 is its thumbprint', async () => {
    const id = await certClient('tca-ok');
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, id, { form: { ...GRANT, client_id: 'tca-ok' } });
    expect(res.status).toBe(200);
    const body = res.json as { access_token: string; scope: string };
    expect(body.scope).toBe(SCOPE);
    expect(claimsOf(body.access_token)).toMatchObject({ sub: 'tca-ok', client_id: 'tca-ok' });
    expect(certOf(body.access_token)).toBe(id.fingerprint);
    expect(id.fingerprint).toBe(x5tS256(Buffer.from(new x509.X509Certificate(id.cert!).rawData)));
  });

  it('refuses without a certificate, and over plain HTTP', async () => {
    await certClient('tca-nocert');
    const noCert = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca }, { form: { ...GRANT, client_id: 'tca-nocert' } });
    expect(noCert.status).toBe(401);
    // A bare client_id is no method at all: nothing was claimed, so the answer names no id.
    expect(noCert.json).toEqual(invalidClientBody());
    const plain = await post(`${t.baseUrl}/oauth/token`, { ...GRANT, client_id: 'tca-nocert' });
    expect(plain.status).toBe(401);
    expect(plain.json).toEqual(invalidClientBody());
  });

  it("refuses another client's certificate", async () => {
    await certClient('tca-victim');
    const other = await certClient('tca-other');
    const since = Date.now();
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, other, { form: { ...GRANT, client_id: 'tca-victim' } });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(invalidClientBody('tca-victim'));
    expect(refusalReasons(since)).toContain('invalid_client: certificate names client "tca-other"');
  });

  it('refuses a revoked certificate at once', async () => {
    const id = await certClient('tca-revoked');
    expect((await httpsCall(`${t.httpsUrl}/oauth/token`, id, { form: { ...GRANT, client_id: 'tca-revoked' } })).status).toBe(200);
    certificates.revoke(id.serial, 'test');
    const since = Date.now();
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, id, { form: { ...GRANT, client_id: 'tca-revoked' } });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(invalidClientBody('tca-revoked'));
    expect(refusalReasons(since)).toContain('invalid_client: certificate revoked');
  });

  it('refuses a certificate from another CA with the right CN, an expired one, and a serverAuth one', async () => {
    t.server.registry.create({ id: 'tca-bad', scope: SCOPE, authMethod: 'tls_client_auth' }, 'test');
    const foreignDir = tempDir('latchkey-foreign-');
    try {
      const foreign = await issueDeviceCertificate((await ensurePki(foreignDir)).ca, { clientId: 'tca-bad' });
      const now = Date.now();
      const expired = await rawCertificate(t, { clientId: 'tca-bad', notBefore: new Date(now - 2 * 86_400_000), notAfter: new Date(now - 86_400_000) });
      const serverAuth = await rawCertificate(t, { clientId: 'tca-bad', extendedKeyUsage: 'serverAuth' });
      const cases = [
        { cert: foreign, why: /^invalid_client: certificate not trusted by the latchkey CA$/ },
        { cert: expired, why: /^invalid_client: certificate not trusted by the latchkey CA$/ },
        // OpenSSL's purpose check (sslclient) may catch it in the handshake, else certificateIdentity's EKU check does.
        { cert: serverAuth, why: /^invalid_client: certificate (not trusted by the latchkey CA|refused: certificate_wrong_usage)$/ },
      ];
      for (const { cert, why } of cases) {
        const since = Date.now();
        const res = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: cert.certPem, key: cert.keyPem! }, { form: { ...GRANT, client_id: 'tca-bad' } });
        expect(res.status).toBe(401);
        expect(res.json).toEqual(invalidClientBody('tca-bad'));
        expect(refusalReasons(since).some((r) => why.test(r))).toBe(true);
      }
    } finally {
      rmSync(foreignDir, { recursive: true, force: true });
    }
  });

  it('one method per client: a tls_client_auth client cannot use a secret, a secret client cannot use its certificate alone', async () => {
    const id = await certClient('tca-only');
    const secret = t.createClient('tca-secret', SCOPE);
    const withSecret = await httpsCall(`${t.httpsUrl}/oauth/token`, id, { form: GRANT, headers: { authorization: basic('tca-only', secret) } });
    expect(withSecret.status).toBe(401);
    // It proved who it is with its certificate, so it may hear what it is registered for.
    expect(withSecret.json).toEqual({
      error: 'invalid_client',
      error_description: 'client tca-only is registered for tls_client_auth, not client_secret_basic: send client_id without a secret',
    });
    // The secret client, certificate only (its own CN): not the method it registered. It proved
    // who it is, so the answer says which method it is registered for and what the operator can do.
    const issued = await certificates.issue('tca-secret', { days: 1 }, 'test');
    const certOnly = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: issued.certPem, key: issued.keyPem! }, { form: { ...GRANT, client_id: 'tca-secret' } });
    expect(certOnly.status).toBe(401);
    expect(certOnly.json).toEqual({
      error: 'invalid_client',
      error_description:
        'client tca-secret is registered for client_secret_basic, not tls_client_auth; ' +
        'the operator can move it with `latchkey client set-auth-method tca-secret tls_client_auth`',
    });
  });

  it('a mismatch is not explained to a caller without the client\'s certificate (no oracle for ids or methods)', async () => {
    t.createClient('tca-quiet', SCOPE);
    await certClient('tca-stranger');
    const stranger = await certificates.issue('tca-stranger', { days: 1 }, 'test');
    // A valid certificate, but for another client: the generic answer.
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: stranger.certPem, key: stranger.keyPem! }, { form: { ...GRANT, client_id: 'tca-quiet' } });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(invalidClientBody('tca-quiet'));
  });

  it('set-auth-method moves a secret client that received a certificate to tls_client_auth, without deleting it', async () => {
    const secret = t.createClient('tca-mover', SCOPE);
    const issued = await certificates.issue('tca-mover', { days: 1 }, 'test');
    const identity = { ca, cert: issued.certPem, key: issued.keyPem! };
    const certOnly = () => httpsCall(`${t.httpsUrl}/oauth/token`, identity, { form: { ...GRANT, client_id: 'tca-mover' } });
    expect((await certOnly()).status).toBe(401);
    // A token obtained with the secret, and a live MQTT session on it.
    const old = (await t.token('tca-mover', secret)).access_token;
    const session = await connectDevice(t.mqttUrl, 'tca-mover', old);
    // Tokens carry whole-second iat; one issued in the very second of the move survives it, so move a second later.
    while (Math.floor(Date.now() / 1000) <= (claimsOf(old).iat as number)) await new Promise((r) => setTimeout(r, 50));

    const moved = await t.cli('client', 'set-auth-method', 'tca-mover', 'tls_client_auth', '--json');
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.stdout)).toEqual({ client_id: 'tca-mover', auth_method: 'tls_client_auth', client_secret: null, secret: 'deleted' });
    // What the deleted secret obtained is void too: the session ends, the token neither connects nor introspects,
    // so it cannot keep itself alive by renewing over MQTT.
    expect(await closedWithin(session, 5000)).toBeLessThanOrEqual(5000);
    expect(await refusalCode(connectDevice(t.mqttUrl, 'tca-mover', old))).toBe(5);
    const ops = t.createClient('tca-ops', 'admin:read');
    expect((await post(`${t.baseUrl}/oauth/introspect`, { token: old }, { authorization: basic('tca-ops', ops) })).json).toEqual({ active: false });

    // The running server sees the change made by another process (no cache of auth data to go stale).
    const ok = await certOnly();
    expect(ok.status).toBe(200);
    expect(certOf((ok.json as { access_token: string }).access_token)).toBe(issued.fingerprint);
    // The secret is gone, not dormant.
    expect((await post(`${t.baseUrl}/oauth/token`, GRANT, { authorization: basic('tca-mover', secret) })).status).toBe(401);
    t.server.audit.flush();
    const [changed] = t.auditEvents({ principal: 'tca-mover', event: 'client.auth_method_changed', limit: 1 });
    expect(changed?.detail).toEqual({ actor: 'cli', from: 'client_secret_basic', to: 'tls_client_auth', secret: 'deleted', tokens_before: expect.any(String) });
    const [ended] = t.auditEvents({ principal: 'tca-mover', event: 'mqtt.disconnected_by_broker', limit: 1 });
    expect(ended).toMatchObject({ reason: expect.stringContaining('token issued before the client changed its auth method') });
  });
});

describe('certificate-bound tokens for every method over mutual TLS (RFC 8705 §3)', () => {
  it('client_secret_basic with its own certificate gets a bound token; without one, an unbound token', async () => {
    const secret = t.createClient('bind-basic', SCOPE);
    const issued = await certificates.issue('bind-basic', { days: 1 }, 'test');
    const withCert = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: issued.certPem, key: issued.keyPem! }, {
      form: GRANT,
      headers: { authorization: basic('bind-basic', secret) },
    });
    expect(withCert.status).toBe(200);
    expect(certOf((withCert.json as { access_token: string }).access_token)).toBe(issued.fingerprint);

    const without = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca }, { form: GRANT, headers: { authorization: basic('bind-basic', secret) } });
    expect(without.status).toBe(200);
    expect(certOf((without.json as { access_token: string }).access_token)).toBeUndefined();
  });

  it("refuses to bind a token to another client's certificate", async () => {
    const secret = t.createClient('bind-thief', SCOPE);
    t.createClient('bind-owner', SCOPE);
    const owners = await certificates.issue('bind-owner', { days: 1 }, 'test');
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: owners.certPem, key: owners.keyPem! }, {
      form: GRANT,
      headers: { authorization: basic('bind-thief', secret) },
    });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(invalidClientBody('bind-thief'));
  });
});
