/**
 * The operator CLI (template, claim), the device-side `latchkey provision`
 * over HTTPS with a pinned CA, `POST /provision`, and claims and templates
 * across kill -9.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOnboarding } from '../../src/onboarding/onboarding_string.js';
import { x509 } from '../../src/pki/x509.js';
import { startChildServer } from '../helpers/child_server.js';
import { runCli, spawnTimeout, startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import { connect } from '../helpers/mqtt.js';
import { caPemOf } from '../helpers/mtls.js';
import { createClaim, createTemplate, opensslCsr, tlsTo } from '../helpers/onboarding.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry';

function caSha256(pem: string): string {
  return createHash('sha256').update(Buffer.from(new x509.X509Certificate(pem).rawData)).digest('hex');
}

function postProvision(t: TestServer, claim: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.httpsUrl}/provision`,
      { method: 'POST', ca: caPemOf(t), servername: 'localhost', agent: false, headers: { authorization: `Bearer ${claim}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

describe('operator CLI and HTTPS provisioning', { timeout: spawnTimeout(13) }, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('template create|list|show|delete, with bad input refused and nothing changed', async () => {
    const created = await t.cli('template', 'create', 'thermostat', '--scope', SCOPE, '--id-prefix', 'th-', '--cert-days', '90', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'thermostat', scope: SCOPE, id_prefix: 'th-', cert_days: 90, auth: 'cert' });
    expect((await t.cli('template', 'create', 'thermostat', '--scope', SCOPE)).code).toBe(4);
    const bad = await Promise.all([
      t.cli('template', 'create', 'bad/name', '--scope', SCOPE),
      t.cli('template', 'create', 'x', '--scope', 'mqtt:publish:a admin:write'),
      t.cli('template', 'create', 'x', '--scope', SCOPE, '--auth', 'password'),
      t.cli('template', 'create', 'x', '--scope', SCOPE, '--id-prefix', 'a/b'),
      t.cli('template', 'create', 'x', '--scope', SCOPE, '--cert-days', '0'),
    ]);
    expect(bad.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    const list = JSON.parse((await t.cli('template', 'list', '--json')).stdout) as { templates: { name: string }[] };
    expect(list.templates.map((x) => x.name)).toEqual(['thermostat']);
    expect(JSON.parse((await t.cli('template', 'show', 'thermostat', '--json')).stdout)).toMatchObject({ name: 'thermostat' });
    expect((await t.cli('template', 'show', 'nope')).code).toBe(3);
    expect((await t.cli('template', 'create', 'gone', '--scope', SCOPE)).code).toBe(0);
    expect((await t.cli('template', 'delete', 'gone', '--json')).code).toBe(0);
    expect((await t.cli('template', 'show', 'gone')).code).toBe(3);
  }, 90_000);

  it('claim create prints the claim and onboarding string once (and a QR code); list never shows the secret; revoke', async () => {
    const out = await t.cli('claim', 'create', '--template', 'thermostat', '--uses', '2', '--expires-in', '1h', '--public-host', 'hub.example', '--mqtts-port', '18883', '--https-port', '18443', '--json');
    expect(out.code).toBe(0);
    const created = JSON.parse(out.stdout) as { id: string; claim: string; onboarding: string; expires_at: string };
    expect(Object.keys(created).sort()).toEqual(['claim', 'expires_at', 'id', 'onboarding']);
    expect(created.claim).toMatch(/^lk_clm_[0-9A-Za-z]{38}$/);
    expect(created.onboarding).toMatch(/^latchkey:\/\/onboard\?mqtts=hub\.example%3A18883&https=https%3A%2F%2Fhub\.example%3A18443&ca_sha256=[0-9a-f]{64}&claim=lk_clm_/);
    expect(parseOnboarding(created.onboarding)).toMatchObject({ mqtts: 'hub.example:18883', https: 'https://hub.example:18443', claim: created.claim });
    expect(parseOnboarding(created.onboarding)!.caSha256).toBe(caSha256(caPemOf(t)));

    const qr = await t.cli('claim', 'create', '--template', 'thermostat', '--qr', '--mqtts-port', '18883', '--https-port', '18443');
    expect(qr.code).toBe(0);
    expect(qr.stdout).toContain('latchkey://onboard?');
    expect(qr.stdout).toMatch(/[▀▄█]/);

    const list = await t.cli('claim', 'list', '--json');
    expect(list.stdout).not.toContain(created.claim);
    const claims = (JSON.parse(list.stdout) as { claims: { id: string; status: string; uses: number; used: number }[] }).claims;
    expect(claims.find((c) => c.id === created.id)).toMatchObject({ status: 'active', uses: 2, used: 0 });
    expect(JSON.parse((await t.cli('claim', 'revoke', created.id, '--json')).stdout)).toMatchObject({ id: created.id, revoked: true, already_revoked: false });
    expect((JSON.parse((await t.cli('claim', 'list', '--json')).stdout) as { claims: { id: string; status: string }[] }).claims.find((c) => c.id === created.id)!.status).toBe('revoked');
    expect((await t.cli('claim', 'create', '--template', 'nope')).code).toBe(3);
    expect((await t.cli('claim', 'create', '--template', 'thermostat', '--uses', '0')).code).toBe(2);
  }, 60_000);

  it('latchkey provision makes a key, pins the CA, provisions over HTTPS and writes key 0600 + certificate + CA', async () => {
    const claim = createClaim(t, 'thermostat');
    const out = tempDir('latchkey-device-');
    try {
      const result = await t.cli('provision', '--onboarding', claim.onboarding, '--id', 'th-cli', '--out', out, '--json');
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const written = JSON.parse(result.stdout) as { key: string; cert: string; ca: string; client_id: string };
      expect(written.client_id).toBe('th-cli');
      expect(statSync(written.key).mode & 0o777).toBe(0o600);
      const certPem = readFileSync(written.cert, 'utf8');
      expect(new x509.X509Certificate(certPem).subject).toBe('CN=th-cli');
      expect(readFileSync(written.ca, 'utf8')).toBe(caPemOf(t));
      const device = await connect(t.mqttsUrl, tlsTo(t, { clientId: 'th-cli', cert: certPem, key: readFileSync(written.key, 'utf8') }));
      await device.publishAsync('home/th-cli/telemetry', '20', { qos: 1 });
      await device.endAsync();
      // Spent: a second run with the same claim is refused (exit 6).
      const again = await t.cli('provision', '--onboarding', claim.onboarding, '--id', 'th-cli2', '--out', out);
      expect(again.code).toBe(6);
      expect(again.stderr).toContain('invalid_claim');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 30_000);

  it('latchkey provision refuses a server whose CA is not the pinned one, before sending the claim', async () => {
    const claim = createClaim(t, 'thermostat');
    const forged = claim.onboarding.replace(/ca_sha256=[0-9a-f]{64}/, `ca_sha256=${'0'.repeat(64)}`);
    const out = tempDir('latchkey-device-');
    try {
      const result = await t.cli('provision', '--onboarding', forged, '--id', 'th-pin', '--out', out);
      expect(result.code).toBe(6);
      expect(result.stderr).toContain('ca_mismatch');
      expect(t.server.store.claims.byId(claim.id)!.used).toBe(0);
      expect(t.server.store.clients.get('th-pin')).toBeUndefined();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('POST /provision answers like csr/response over HTTPS and is refused over plain HTTP', async () => {
    const claim = createClaim(t, 'thermostat');
    const { csrPem } = opensslCsr('th-https');
    const plain = await fetch(`${t.baseUrl}/provision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${claim.claim}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'th-https', csr: csrPem }),
    });
    expect(plain.status).toBe(403);
    expect(await plain.json()).toMatchObject({ error: 'invalid_request' });
    expect(t.server.store.claims.byId(claim.id)!.used).toBe(0);

    expect(await postProvision(t, 'lk_clm_nope', { client_id: 'th-https', csr: csrPem })).toMatchObject({ status: 401, json: { error: 'invalid_claim' } });
    expect(await postProvision(t, claim.claim, { client_id: 'cam-1', csr: csrPem })).toMatchObject({ status: 400, json: { error: 'invalid_client_id' } });
    const ok = await postProvision(t, claim.claim, { client_id: 'th-https', csr: csrPem });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ client_id: 'th-https', scope: SCOPE, ca: caPemOf(t), not_after: expect.any(String), certificate: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(await postProvision(t, claim.claim, { client_id: 'th-https2', csr: opensslCsr('th-https2').csrPem })).toMatchObject({ status: 401, json: { error: 'invalid_claim' } });
  });
});

describe('claims and templates survive kill -9', { timeout: spawnTimeout(9) }, () => {
  const root = tempDir('latchkey-onboarding-durability-');
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, '--certs-dir', certsDir, ...args]);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a template and claim made before a crash provision after it; a use spent before a crash stays spent', async () => {
    let server = await startChildServer(dataDir, certsDir);
    try {
      expect((await cli('template', 'create', 'thermostat', '--scope', SCOPE, '--id-prefix', 'th-')).code).toBe(0);
      const claim = JSON.parse((await cli('claim', 'create', '--template', 'thermostat', '--mqtts-port', String(server.ports.mqtts), '--https-port', String(server.ports.https), '--json')).stdout) as { id: string; claim: string };
      await server.crash();
      server = await startChildServer(dataDir, certsDir);
      // The restarted server listens on new ports; the claim is the one minted before the crash.
      const ca = caSha256(readFileSync(join(certsDir, 'ca.crt'), 'utf8'));
      const onboardingAt = (ports: { mqtts: number; https: number }) =>
        `latchkey://onboard?mqtts=127.0.0.1%3A${ports.mqtts}&https=https%3A%2F%2F127.0.0.1%3A${ports.https}&ca_sha256=${ca}&claim=${claim.claim}`;
      const onboarding = onboardingAt(server.ports);
      const out = join(root, 'device');
      const first = await cli('provision', '--onboarding', onboarding, '--id', 'th-d1', '--out', out, '--json');
      expect(first.code).toBe(0);
      await server.crash();
      server = await startChildServer(dataDir, certsDir);
      const list = JSON.parse((await cli('claim', 'list', '--json')).stdout) as { claims: { id: string; used: number; status: string }[] };
      expect(list.claims.find((c) => c.id === claim.id)).toMatchObject({ used: 1, status: 'used' });
      const retry = await cli('provision', '--onboarding', onboardingAt(server.ports), '--id', 'th-d2', '--out', out);
      expect(retry.code).toBe(6);
      expect(JSON.parse((await cli('client', 'show', 'th-d1', '--json')).stdout)).toMatchObject({ client_id: 'th-d1', auth_method: 'tls_client_auth' });
    } finally {
      await server.crash();
    }
  }, 120_000);
});
