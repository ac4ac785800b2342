/**
 * Provisioning over MQTTS with real sockets and openssl-made CSRs:
 * a device proves a claim, sends a CSR, gets a certificate and connects with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/pki/x509.js';
import { ClaimRegistry } from '../../src/registry/claims.js';
import { spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { caPemOf, httpsCall } from '../helpers/mtls.js';
import { closedWithin, connect, eventually, refusalCode, subscribeCodes } from '../helpers/mqtt.js';
import { claimConnect, createClaim, createTemplate, opensslCsr, provisionWithCsr, tlsTo, ask } from '../helpers/onboarding.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  createTemplate(t, 'thermostat', SCOPE, { idPrefix: 'th-', certDays: 30 });
  createTemplate(t, 'sensor', 'mqtt:publish:sensors/{client_id}', { auth: 'secret' });
});
afterAll(() => t.close());

function claimOf(id: string) {
  return t.server.store.claims.byId(id)!;
}

describe('provisioning over MQTTS', { timeout: spawnTimeout(4) }, () => {
  it('a device with a claim gets a certificate for its own key and connects with it over mTLS', async () => {
    const created = createClaim(t, 'thermostat');
    expect(created.claim).toMatch(/^lk_clm_[0-9A-Za-z]{38}$/);
    const { keyPem, csrPem } = opensslCsr('th-1');
    const session = await claimConnect(t, 'th-1', created.claim);
    const answer = await provisionWithCsr(session, 'th-1', csrPem);
    expect(answer).toMatchObject({ client_id: 'th-1', scope: SCOPE, ca: caPemOf(t) });
    expect(answer.error).toBeUndefined();
    const cert = new x509.X509Certificate(answer.certificate as string);
    expect(cert.subject).toBe('CN=th-1');
    expect(await cert.verify({ publicKey: await new x509.X509Certificate(caPemOf(t)).publicKey.export(), signatureOnly: true })).toBe(true);
    expect(new Date(answer.not_after as string).getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    // The claim session ends after success.
    await closedWithin(session, 5000);

    const device = await connect(t.mqttsUrl, tlsTo(t, { clientId: 'th-1', cert: answer.certificate as string, key: keyPem }));
    await device.publishAsync('home/th-1/telemetry', '21.5', { qos: 1 });
    expect(await subscribeCodes(device, ['home/th-1/setpoint', 'home/th-2/setpoint'])).toEqual([1, 128]);
    await device.endAsync();

    const client = t.server.store.clients.get('th-1')!;
    expect(client.authMethod).toBe('tls_client_auth');
    expect(t.server.store.provisionedClients.get('th-1')).toMatchObject({ template: 'thermostat', claimId: created.id, provisionedBy: null });
    expect(t.server.store.certificates.list('th-1')).toHaveLength(1);
    expect(claimOf(created.id).used).toBe(1);
    const provisioned = t.auditEvents({ principal: 'th-1', event: 'client.provisioned', limit: 200 });
    expect(provisioned[0]).toMatchObject({ outcome: 'success' });
    expect(JSON.stringify(provisioned[0])).toContain(created.id);
    // Never the secret: not in the audit trail, not in the database.
    t.server.audit.flush();
    const everything = JSON.stringify(t.server.store.db.prepare('SELECT * FROM audit_events').all());
    expect(everything).not.toContain(created.claim);
    expect(JSON.stringify(t.server.store.db.prepare('SELECT * FROM claims').all())).not.toContain(created.claim.slice(7, 30));
  });

  it('a single-use claim raced by two devices: exactly one wins', async () => {
    const created = createClaim(t, 'thermostat');
    const [a, b] = await Promise.all([claimConnect(t, 'th-race-a', created.claim), claimConnect(t, 'th-race-b', created.claim)]);
    await Promise.all([a.subscribeAsync('$provision/th-race-a/#'), b.subscribeAsync('$provision/th-race-b/#')]);
    const answers = await Promise.all([
      ask(a, '$provision/th-race-a/csr', '$provision/th-race-a/csr/response', { csr: opensslCsr('th-race-a').csrPem }),
      ask(b, '$provision/th-race-b/csr', '$provision/th-race-b/csr/response', { csr: opensslCsr('th-race-b').csrPem }),
    ]);
    const winners = answers.filter((x) => typeof x.certificate === 'string');
    const losers = answers.filter((x) => x.error !== undefined);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]).toMatchObject({ error: 'invalid_claim' });
    expect(claimOf(created.id).used).toBe(1);
    const registered = ['th-race-a', 'th-race-b'].filter((id) => t.server.store.clients.get(id));
    expect(registered).toHaveLength(1);
    await Promise.all([a.endAsync(true), b.endAsync(true)]);
  });

  it('an expired claim is refused at CONNECT (4)', async () => {
    const created = createClaim(t, 'thermostat', { expiresIn: 1 });
    await eventually(() => Date.now() > new Date(created.expires_at).getTime(), 3000, 'claim expiry');
    expect(await refusalCode(claimConnect(t, 'th-late', created.claim))).toBe(4);
    expect(t.auditEvents({ event: 'mqtt.connect', limit: 200 }).find((e) => String(e.reason).includes('claim expired'))).toBeDefined();
  });

  it('a revoked claim is refused at CONNECT (5), and a revoked claim cannot be spent by a session opened before', async () => {
    const created = createClaim(t, 'thermostat', { uses: 2 });
    const early = await claimConnect(t, 'th-early', created.claim);
    new ClaimRegistry(t.server.store, t.server.audit).revoke(created.id, 'test');
    expect(await refusalCode(claimConnect(t, 'th-rev', created.claim))).toBe(5);
    const answer = await provisionWithCsr(early, 'th-early', opensslCsr('th-early').csrPem);
    expect(answer).toMatchObject({ error: 'invalid_claim' });
    expect(t.server.store.clients.get('th-early')).toBeUndefined();
    await early.endAsync(true);
  });

  it('an id outside the template prefix, or one already taken, is refused (2)', async () => {
    const created = createClaim(t, 'thermostat', { uses: 5 });
    expect(await refusalCode(claimConnect(t, 'camera-1', created.claim))).toBe(2);
    expect(await refusalCode(claimConnect(t, 'th-', created.claim))).toBe(2);
    t.createClient('th-taken', 'mqtt:publish:x');
    expect(await refusalCode(claimConnect(t, 'th-taken', created.claim))).toBe(2);
    t.server.people.users.create({ name: 'th-alice', scope: 'admin:read' }, 'test');
    expect(await refusalCode(claimConnect(t, 'th-alice', created.claim))).toBe(2);
    expect(claimOf(created.id).used).toBe(0);
  });

  it('an id taken between CONNECT and CSR is refused without spending the claim', async () => {
    const created = createClaim(t, 'thermostat');
    const session = await claimConnect(t, 'th-sniped', created.claim);
    t.createClient('th-sniped', 'mqtt:publish:x');
    const answer = await provisionWithCsr(session, 'th-sniped', opensslCsr('th-sniped').csrPem);
    expect(answer).toMatchObject({ error: 'client_id_taken' });
    expect(claimOf(created.id).used).toBe(0);
    await session.endAsync(true);
  });

  it('a CSR with another CN, a wrong key type or no signature is refused and the claim stays unspent', async () => {
    const created = createClaim(t, 'thermostat');
    const session = await claimConnect(t, 'th-csr', created.claim);
    expect(await provisionWithCsr(session, 'th-csr', opensslCsr('th-other').csrPem)).toMatchObject({ error: 'invalid_csr' });
    expect(await provisionWithCsr(session, 'th-csr', opensslCsr('th-csr', 'secp256k1').csrPem)).toMatchObject({ error: 'invalid_csr' });
    // The last byte of the DER is inside the signature: flipping it breaks proof of possession, nothing else.
    const der = Buffer.from(opensslCsr('th-csr').csrPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 1]! ^= 1;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await provisionWithCsr(session, 'th-csr', tampered)).toMatchObject({ error: 'invalid_csr' });
    expect(await provisionWithCsr(session, 'th-csr', 'not a csr')).toMatchObject({ error: 'invalid_csr' });
    expect(claimOf(created.id).used).toBe(0);
    expect(t.server.store.clients.get('th-csr')).toBeUndefined();
    // The same session may still succeed with a good CSR.
    expect(await provisionWithCsr(session, 'th-csr', opensslCsr('th-csr').csrPem)).toMatchObject({ client_id: 'th-csr' });
    await session.endAsync(true);
  });

  it('a claim session may use nothing outside $provision/<its id>/', async () => {
    const created = createClaim(t, 'thermostat', { uses: 3 });
    const session = await claimConnect(t, 'th-jail', created.claim);
    expect(
      await subscribeCodes(session, ['$provision/th-jail/#', 'home/#', '#', '$provision/th-other/#', '$provision/+/csr/response', '$provision/#', '$auth/th-jail/#', '$share/g/$provision/th-jail/#']),
    ).toEqual([1, 128, 128, 128, 128, 128, 128, 128]);
    // A publish anywhere else is denied like any other denial: the connection is closed.
    session.publish('home/th-jail/telemetry', 'x');
    await closedWithin(session, 5000);
    const other = await claimConnect(t, 'th-jail2', created.claim);
    other.publish('$provision/th-victim/csr', JSON.stringify({ request_id: 'x', csr: opensslCsr('th-victim').csrPem }));
    await closedWithin(other, 5000);
    expect(t.server.store.clients.get('th-victim')).toBeUndefined();
    await eventually(() => t.auditEvents({ principal: 'th-jail', limit: 200 }).some((e) => e.event === 'mqtt.publish_denied' && e.reason === 'a provisioning session may publish only its own $provision/<id>/csr or register'), 5000, 'publish denial audited');
    const subscribeDenials = t.auditEvents({ principal: 'th-jail', event: 'mqtt.subscribe_denied', limit: 200 });
    expect(subscribeDenials.length).toBeGreaterThan(0);
  });

  it('provisioning over plain TCP is refused (5) with a clear audit reason', async () => {
    const created = createClaim(t, 'thermostat');
    expect(await refusalCode(connect(t.mqttUrl, { clientId: 'th-tcp', username: '$claim', password: created.claim }))).toBe(5);
    const refused = t.auditEvents({ event: 'mqtt.connect', limit: 200 }).find((e) => e.reason === 'claim over plain TCP: provisioning needs MQTTS');
    expect(refused).toBeDefined();
    expect(claimOf(created.id).used).toBe(0);
  });

  it('a provisioning session that asks to be persistent (clean=false) is refused (5) before the claim is looked at', async () => {
    const created = createClaim(t, 'thermostat');
    expect(await refusalCode(connect(t.mqttsUrl, tlsTo(t, { clientId: 'th-keep', username: '$claim', password: created.claim, clean: false })))).toBe(5);
    await eventually(() => t.auditEvents({ event: 'mqtt.connect', limit: 200 }).some((e) => e.reason === 'claim refused: a provisioning session must be clean (clean=true)'), 5000, 'refusal audited');
    expect(claimOf(created.id).used).toBe(0);
  });

  it('a secret template registers a client secret that works at the token endpoint', async () => {
    const created = createClaim(t, 'sensor');
    const session = await claimConnect(t, 'sensor-1', created.claim);
    await session.subscribeAsync('$provision/sensor-1/#');
    // A CSR for a secret template is the wrong request.
    expect(await ask(session, '$provision/sensor-1/csr', '$provision/sensor-1/csr/response', { csr: opensslCsr('sensor-1').csrPem })).toMatchObject({ error: 'unsupported_request' });
    const answer = await ask(session, '$provision/sensor-1/register', '$provision/sensor-1/register/response', {});
    expect(answer).toMatchObject({ client_id: 'sensor-1', scope: 'mqtt:publish:sensors/{client_id}' });
    const token = await t.token('sensor-1', answer.client_secret as string);
    expect(token.scope).toBe('mqtt:publish:sensors/{client_id}');
    await session.endAsync(true);
  });

  it('a provisioning session cannot be taken over by another claim holder', async () => {
    const created = createClaim(t, 'thermostat', { uses: 2 });
    const first = await claimConnect(t, 'th-own', created.claim);
    expect(await refusalCode(claimConnect(t, 'th-own', created.claim))).toBe(2);
    expect(first.connected).toBe(true);
    await first.endAsync(true);
  });
});

describe('claim guessing', () => {
  it('after --auth-failure-limit bad claims from one address, even a good claim is refused (5) over MQTTS and 429 over HTTPS', async () => {
    const g = await startTestServer({ authFailureLimit: '3', authFailureWindow: '60s' });
    try {
      createTemplate(g, 'thermostat', SCOPE, { idPrefix: 'th-' });
      const good = createClaim(g, 'thermostat');
      const guess = `lk_clm_${'A'.repeat(32)}`;
      for (let i = 0; i < 3; i++) expect(await refusalCode(claimConnect(g, `th-g${i}`, `${guess.slice(0, -1)}${i}xxxxxx`.slice(0, 45)))).toBe(4);
      expect(await refusalCode(claimConnect(g, 'th-good', good.claim))).toBe(5);
      expect(g.auditEvents({ event: 'mqtt.connect', limit: 5 })[0]!.reason).toBe('claim refused: too many failed claims from this address');
      const res = await fetch(`${g.baseUrl}/provision`, { method: 'POST' });
      expect(res.status).toBe(403); // plain HTTP is refused before anything else
      const limited = await httpsCall(`${g.httpsUrl}/provision`, { ca: caPemOf(g) }, { form: { client_id: 'th-good' }, headers: { authorization: `Bearer ${good.claim}` } });
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(g.server.store.claims.byId(good.id)!.used).toBe(0);
    } finally {
      await g.close();
    }
  });
});
