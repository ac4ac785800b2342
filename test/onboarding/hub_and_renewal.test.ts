/**
 * Hub-vouched onboarding ($auth/<hub>/claim/request) and certificate
 * renewal ($auth/<id>/cert/renew), over real MQTT(S) sockets.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOnboarding } from '../../src/onboarding/onboarding_string.js';
import { x509 } from '../../src/pki/x509.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, connect, connectDevice, eventually, refusalCode, sleep } from '../helpers/mqtt.js';
import { caOf, caPemOf, rawCertificate } from '../helpers/mtls.js';
import { ask, claimConnect, createClaim, createTemplate, opensslCsr, provisionWithCsr, tlsTo } from '../helpers/onboarding.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry';

async function provisionDevice(t: TestServer, id: string, claim: string): Promise<{ keyPem: string; certPem: string; serial: string }> {
  const { keyPem, csrPem } = opensslCsr(id);
  const session = await claimConnect(t, id, claim);
  const answer = await provisionWithCsr(session, id, csrPem);
  await session.endAsync(true);
  expect(answer.error).toBeUndefined();
  const certPem = answer.certificate as string;
  return { keyPem, certPem, serial: new x509.X509Certificate(certPem).serialNumber.toLowerCase().replace(/^0+/, '') };
}

function mtls(t: TestServer, id: string, certPem: string, keyPem: string) {
  return connect(t.mqttsUrl, tlsTo(t, { clientId: id, cert: certPem, key: keyPem }));
}

async function hubSession(t: TestServer, id: string, scope: string) {
  const secret = t.createClient(id, scope);
  const { access_token } = await t.token(id, secret);
  const hub = await connectDevice(t.mqttUrl, id, access_token);
  await hub.subscribeAsync(`$auth/${id}/#`);
  return hub;
}

function claimRequest(hub: Awaited<ReturnType<typeof hubSession>>, id: string, body: Record<string, unknown> = {}) {
  return ask(hub, `$auth/${id}/claim/request`, `$auth/${id}/claim/response`, body);
}

describe('hub-vouched onboarding', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    createTemplate(t, 'thermostat', SCOPE, { idPrefix: 'th-' });
    createTemplate(t, 'camera', 'mqtt:publish:cams/{client_id}');
  });
  afterAll(() => t.close());

  it('a hub with provision:thermostat mints a claim; the device it vouched for records provisioned_by', async () => {
    const hub = await hubSession(t, 'hub-1', 'mqtt:subscribe:home/+/telemetry provision:thermostat');
    const answer = await claimRequest(hub, 'hub-1', { uses: 2, expires_in: 600 });
    expect(answer).toMatchObject({ claim: expect.stringMatching(/^lk_clm_/), expires_at: expect.any(String) });
    const expiresIn = new Date(answer.expires_at as string).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(590_000);
    expect(expiresIn).toBeLessThanOrEqual(600_000);
    const onboarding = parseOnboarding(answer.onboarding as string)!;
    expect(onboarding).toEqual({
      mqtts: `127.0.0.1:${t.server.ports.mqtts}`,
      https: `https://127.0.0.1:${t.server.ports.https}`,
      caSha256: createHash('sha256').update(Buffer.from((await caOf(t)).cert.rawData)).digest('hex'),
      claim: answer.claim,
    });
    await provisionDevice(t, 'th-hubbed', onboarding.claim);
    expect(t.server.store.provisionedClients.get('th-hubbed')).toMatchObject({ provisionedBy: 'hub-1', template: 'thermostat' });
    expect(t.server.store.claims.byHash(createHash('sha256').update(onboarding.claim).digest())).toMatchObject({ createdBy: 'client:hub-1', uses: 2, used: 1 });
    await hub.endAsync();
  });

  it('a hub without provision:<template> is refused, and so is one asking for another template', async () => {
    const plain = await hubSession(t, 'hub-plain', 'mqtt:subscribe:home/+/telemetry');
    expect(await claimRequest(plain, 'hub-plain')).toMatchObject({ error: 'insufficient_scope' });
    const other = await hubSession(t, 'hub-cams', 'provision:camera');
    expect(await claimRequest(other, 'hub-cams', { template: 'thermostat' })).toMatchObject({ error: 'insufficient_scope' });
    const refused = t.auditEvents({ principal: 'hub-plain', event: 'claim.refused', limit: 10 });
    expect(refused[0]?.reason).toMatch(/^insufficient_scope/);
    expect(t.server.store.claims.list().filter((c) => c.createdBy === 'client:hub-plain')).toHaveLength(0);
    await Promise.all([plain.endAsync(), other.endAsync()]);
  });

  it('a hub asking for more than 10 uses or 15 minutes is refused, not cut down', async () => {
    const hub = await hubSession(t, 'hub-greedy', 'provision:thermostat');
    expect(await claimRequest(hub, 'hub-greedy', { uses: 11 })).toMatchObject({ error: 'invalid_request' });
    await sleep(1100);
    expect(await claimRequest(hub, 'hub-greedy', { expires_in: 15 * 60 + 1 })).toMatchObject({ error: 'invalid_request' });
    await sleep(1100);
    expect(await claimRequest(hub, 'hub-greedy', { uses: '3' })).toMatchObject({ error: 'invalid_request' });
    await sleep(1100);
    const ok = await claimRequest(hub, 'hub-greedy', { uses: 10, expires_in: 900 });
    expect(ok.claim).toEqual(expect.stringMatching(/^lk_clm_/));
    // One claim per second per hub.
    expect(await claimRequest(hub, 'hub-greedy')).toMatchObject({ error: 'slow_down' });
    expect(t.server.store.claims.list().filter((c) => c.createdBy === 'client:hub-greedy')).toHaveLength(1);
    await hub.endAsync();
  });

  it('a disabled hub vouches no more; disable --cascade also disables what it vouched for and ends their sessions', async () => {
    const hub = await hubSession(t, 'hub-c', 'provision:thermostat');
    const first = await claimRequest(hub, 'hub-c', { uses: 3 });
    const device = await provisionDevice(t, 'th-c1', first.claim as string);
    const live = await mtls(t, 'th-c1', device.certPem, device.keyPem);
    t.createClient('th-bystander', SCOPE);

    const disabled = await t.cli('client', 'disable', 'hub-c', '--cascade', '--json');
    expect(disabled.code).toBe(0);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ client_id: 'hub-c', status: 'disabled', cascade: ['th-c1'] });
    await closedWithin(live, 3000);
    await closedWithin(hub, 3000);
    expect(t.server.store.clients.get('th-c1')!.status).toBe('disabled');
    expect(t.server.store.clients.get('th-bystander')!.status).toBe('enabled');
    expect(await refusalCode(mtls(t, 'th-c1', device.certPem, device.keyPem))).toBe(5);

    // The rest of the hub's claim is void while the hub is disabled.
    const session = await claimConnect(t, 'th-c2', first.claim as string);
    expect(await provisionWithCsr(session, 'th-c2', opensslCsr('th-c2').csrPem)).toMatchObject({ error: 'invalid_claim' });
    await session.endAsync(true);
  });
});

describe('certificate renewal over MQTT', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    createTemplate(t, 'thermostat', SCOPE, { idPrefix: 'th-', certDays: 90 });
  });
  afterAll(() => t.close());

  it('a certificate near its notAfter is warned with credential "certificate"', async () => {
    t.createClient('th-old', SCOPE);
    const { keyPem, csrPem } = opensslCsr('th-old');
    const now = Date.now();
    // 30 days of life, 1 left: inside a third of the lifetime (10 d) and inside 30 d. rawCertificate records it.
    const issued = await rawCertificate(t, { clientId: 'th-old', csrPem, notBefore: new Date(now - 29 * 86_400_000), notAfter: new Date(now + 86_400_000) });
    const device = await mtls(t, 'th-old', issued.certPem, keyPem);
    const warning = new Promise<Record<string, unknown>>((resolve) =>
      device.on('message', (topic, payload) => topic === '$auth/th-old/expiring' && resolve(JSON.parse(payload.toString()) as Record<string, unknown>)),
    );
    await device.subscribeAsync('$auth/th-old/#');
    const body = await warning;
    expect(body).toMatchObject({ credential: 'certificate', exp: issued.notAfter.getTime() / 1000 });
    expect(body.seconds_left as number).toBeGreaterThan(86_000);
    expect(body.seconds_left as number).toBeLessThanOrEqual(86_400);
    await device.endAsync();
  });

  it('renews with a CSR for a new key; the old certificate keeps working until its notAfter', async () => {
    const claim = createClaim(t, 'thermostat');
    const first = await provisionDevice(t, 'th-r1', claim.claim);
    const device = await mtls(t, 'th-r1', first.certPem, first.keyPem);
    await device.subscribeAsync('$auth/th-r1/#');
    const next = opensslCsr('th-r1');
    // Another CN is refused.
    expect(await ask(device, '$auth/th-r1/cert/renew', '$auth/th-r1/cert/renew/response', { csr: opensslCsr('th-r2').csrPem })).toMatchObject({ error: 'invalid_csr' });
    await sleep(5100);
    const renewed = await ask(device, '$auth/th-r1/cert/renew', '$auth/th-r1/cert/renew/response', { csr: next.csrPem });
    expect(renewed.error).toBeUndefined();
    const cert = new x509.X509Certificate(renewed.certificate as string);
    expect(cert.subject).toBe('CN=th-r1');
    expect(new Date(renewed.not_after as string).getTime()).toBe(cert.notAfter.getTime());
    expect(cert.notAfter.getTime() - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const serial = t.server.store.certificates.list('th-r1')[0]!.serial;
    expect(t.server.store.certificateRenewals.get(serial)).toMatchObject({ replaces: first.serial, clientId: 'th-r1' });
    // Too soon after the last one.
    expect(await ask(device, '$auth/th-r1/cert/renew', '$auth/th-r1/cert/renew/response', { csr: next.csrPem })).toMatchObject({ error: 'slow_down' });
    await device.endAsync();

    const withNew = await mtls(t, 'th-r1', renewed.certificate as string, next.keyPem);
    await withNew.endAsync();
    const withOld = await mtls(t, 'th-r1', first.certPem, first.keyPem);
    await withOld.endAsync();
    expect(t.server.store.certificates.bySerial(first.serial)!.revokedAt).toBeNull();
  });

  it('a token session cannot renew a certificate', async () => {
    const secret = t.createClient('th-jwt', SCOPE);
    const { access_token } = await t.token('th-jwt', secret);
    const device = await connectDevice(t.mqttUrl, 'th-jwt', access_token);
    await device.subscribeAsync('$auth/th-jwt/#');
    expect(await ask(device, '$auth/th-jwt/cert/renew', '$auth/th-jwt/cert/renew/response', { csr: opensslCsr('th-jwt').csrPem })).toMatchObject({ error: 'unauthorized_client' });
    expect(t.server.store.certificates.list('th-jwt')).toHaveLength(0);
    await device.endAsync();
  });
});

describe('certificate renewal with --revoke-replaced', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ revokeReplaced: 'true' });
    createTemplate(t, 'thermostat', SCOPE, { idPrefix: 'th-' });
  });
  afterAll(() => t.close());

  it('the first use of the new certificate revokes the old one and ends sessions on it', async () => {
    const first = await provisionDevice(t, 'th-rr', createClaim(t, 'thermostat').claim);
    const old = await mtls(t, 'th-rr', first.certPem, first.keyPem);
    await old.subscribeAsync('$auth/th-rr/#');
    const next = opensslCsr('th-rr');
    const renewed = await ask(old, '$auth/th-rr/cert/renew', '$auth/th-rr/cert/renew/response', { csr: next.csrPem });
    expect(renewed.certificate).toEqual(expect.any(String));
    // Renewal alone revokes nothing.
    expect(t.server.store.certificates.bySerial(first.serial)!.revokedAt).toBeNull();
    // The new certificate takes over the id (the old session goes as any takeover), and revokes the old certificate.
    const fresh = await mtls(t, 'th-rr', renewed.certificate as string, next.keyPem);
    await eventually(() => t.server.store.certificates.bySerial(first.serial)!.revokedAt !== null, 3000, 'old certificate revoked');
    expect(t.auditEvents({ principal: 'th-rr', event: 'certificate.revoked', limit: 5 })[0]).toMatchObject({ outcome: 'success' });
    expect(fresh.connected).toBe(true);
    await fresh.endAsync();
    expect(await refusalCode(mtls(t, 'th-rr', first.certPem, first.keyPem))).toBe(5);
    const again = await mtls(t, 'th-rr', renewed.certificate as string, next.keyPem);
    await again.endAsync();
    expect(caPemOf(t)).toContain('BEGIN CERTIFICATE');
  });
});
