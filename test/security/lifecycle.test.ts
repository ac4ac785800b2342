import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCa } from '../../src/pki/ca.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { generateP256KeyPair, privateKeyToPem } from '../../src/pki/key_pem.js';
import { ECDSA_SHA256, x509 } from '../../src/pki/x509.js';
import type { CertificateRegistry } from '../../src/registry/certificates.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { caPemOf, certificatesOf, httpsCall } from '../helpers/mtls.js';
import { closedWithin, connect, connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';

/**
 * The credential lifecycle: what a deleted principal held never works
 * again, not even for a later principal of the same name; certificates are
 * accepted only as recorded; users are deleted and API keys disabled.
 */

const SCOPE = 'mqtt:publish:dev/{client_id}/# mqtt:subscribe:dev/{client_id}/#';

let t: TestServer;
let ca: string;
let certificates: CertificateRegistry;

beforeAll(async () => {
  t = await startTestServer({ authFailureLimit: '1000' });
  ca = caPemOf(t);
  certificates = await certificatesOf(t);
});
afterAll(async () => {
  await t?.close();
});

function tlsOptions(clientId: string, cert: string, key: string, extra: IClientOptions = {}): IClientOptions {
  return { clientId, ca, cert, key, servername: 'localhost', rejectUnauthorized: true, ...extra };
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

async function introspect(caller: string, secret: string, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.baseUrl}/oauth/introspect`, {
    method: 'POST',
    headers: { authorization: basic(caller, secret) },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

function audited(event: string, since: number): { principal: string | null; reason: string | null; detail: unknown }[] {
  t.server.audit.flush();
  return t.auditEvents({ event, since, limit: 200 });
}

/** Sends a reauth on a live session and waits for its answer. */
async function reauth(client: MqttClient, id: string, token: string): Promise<Record<string, unknown>> {
  const requestId = `r-${Math.random().toString(36).slice(2)}`;
  const answer = new Promise<Record<string, unknown>>((resolve) => {
    client.on('message', (topic, payload) => {
      if (topic !== `$auth/${id}/reauth/response`) return;
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (body.request_id === requestId) resolve(body);
    });
  });
  await client.subscribeAsync(`$auth/${id}/reauth/response`);
  await client.publishAsync(`$auth/${id}/reauth`, JSON.stringify({ request_id: requestId, access_token: token }));
  return answer;
}

/**
 * Connects with clean=false and answers CONNACK's session-present flag;
 * messages delivered in the next 500 ms land in `received`.
 */
async function sessionPresent(clientId: string, username: string, password: string, received: string[] = []): Promise<boolean> {
  const client = mqtt.connect(t.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, clientId, username, password, clean: false });
  client.on('message', (_topic, payload) => received.push(payload.toString()));
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    client.once('connect', (packet) => resolve(packet as { sessionPresent: boolean }));
    client.once('error', reject);
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await client.endAsync(true);
  return connack.sessionPresent;
}

describe('a deleted client leaves nothing a re-created one inherits', () => {
  // Delete and re-create follow the token at once, usually within its iat second; the decision table
  // in test/tokens/incarnation.test.ts holds the same-second case deterministically.
  it("the old incarnation's token is refused at CONNECT, reauth and introspection", async () => {
    const oldSecret = t.createClient('lc-t2', SCOPE);
    const { access_token: oldToken } = await t.token('lc-t2', oldSecret);
    t.server.registry.delete('lc-t2', 'test');
    const newSecret = t.createClient('lc-t2', SCOPE);
    const since = Date.now() - 5000;

    expect(await refusalCode(connectDevice(t.mqttUrl, 'lc-t2', oldToken))).toBe(5);
    const refusal = audited('mqtt.connect', since).find((e) => e.principal === 'lc-t2');
    expect(refusal?.reason).toMatch(/^token revoked: issued to a deleted client of the same id/);

    // The new incarnation's own token works, and the old one is dead to it too.
    const { access_token: newToken } = await t.token('lc-t2', newSecret);
    expect(await introspect('lc-t2', newSecret, newToken)).toMatchObject({ active: true, client_id: 'lc-t2' });
    expect(await introspect('lc-t2', newSecret, oldToken)).toEqual({ active: false });

    const client = await connectDevice(t.mqttUrl, 'lc-t2', newToken);
    try {
      const answer = await reauth(client, 'lc-t2', oldToken);
      expect(answer).toMatchObject({ error: 'invalid_token' });
      expect(String(answer.error_description)).toMatch(/deleted client of the same id/);
      // The refused reauth left the session on its own token.
      expect(t.server.broker.sessions().find((s) => s.client_id === 'lc-t2')?.method).toBe('jwt');
    } finally {
      await client.endAsync(true);
    }
  });

  it('a session on the old incarnation ends within 1 s even when delete and re-create land together', async () => {
    const secret = t.createClient('lc-race', SCOPE);
    const { access_token } = await t.token('lc-race', secret);
    const client = await connectDevice(t.mqttUrl, 'lc-race', access_token);
    const closed = closedWithin(client, 1000);
    // Both committed before the broker hears of either (as the CLI in another process would).
    t.server.registry.delete('lc-race', 'test');
    t.createClient('lc-race', SCOPE);
    await closed;
    client.end(true);
  });

  it("the old incarnation's certificate is revoked, listed in the CRL, and refused (5); the new one's works", async () => {
    t.createClient('lc-cert', SCOPE);
    const old = await certificates.issue('lc-cert', { days: 1 }, 'test');
    const live = await connect(t.mqttsUrl, tlsOptions('lc-cert', old.certPem, old.keyPem!));
    const closed = closedWithin(live, 20_000).then(() => Date.now());
    const del = await t.cli('client', 'delete', 'lc-cert', '--json');
    const acknowledged = Date.now();
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({ client_id: 'lc-cert', deleted: true });
    expect((await closed) - acknowledged).toBeLessThan(1000);
    live.end(true);
    const created = await t.cli('client', 'create', 'lc-cert', '--scope', SCOPE, '--json');
    expect(created.code, created.stderr).toBe(0);

    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('lc-cert', old.certPem, old.keyPem!)))).toBe(5);
    expect(certificates.list('lc-cert').find((c) => c.serial === old.serial)?.status).toBe('revoked');
    const crl = new x509.X509Crl(new Uint8Array(await certificates.crl()));
    expect(crl.entries.map((e) => e.serialNumber.toLowerCase().replace(/^0+/, ''))).toContain(old.serial.replace(/^0+/, ''));
    const revokedEvent = audited('certificate.revoked', Date.now() - 10_000).find((e) => (e.detail as { serial?: string }).serial === old.serial);
    expect(revokedEvent?.reason).toBe('client deleted');

    const fresh = await certificates.issue('lc-cert', { days: 1 }, 'test');
    const client = await connect(t.mqttsUrl, tlsOptions('lc-cert', fresh.certPem, fresh.keyPem!));
    await client.endAsync(true);
  });
});

describe('certificates are an allow-list', () => {
  it('a CA-signed certificate latchkey never recorded is refused over MQTTS with CONNACK 4 and a clear audit reason', async () => {
    t.createClient('lc-unrecorded', SCOPE);
    // What an old backup of ca.key makes: a perfect certificate with no record.
    const forged = await issueDeviceCertificate(await loadCa(t.certsDir), { clientId: 'lc-unrecorded', days: 1 });
    const since = Date.now();
    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('lc-unrecorded', forged.certPem, forged.keyPem!)))).toBe(4);
    const refusal = audited('mqtt.connect', since).find((e) => (e.detail as { client_id?: string }).client_id === 'lc-unrecorded');
    expect(refusal?.reason).toBe(`certificate not recorded: serial ${forged.serial} was never issued by latchkey`);
  });

  it('a certificate forged under a recorded serial (another key, same CN and serial) is refused (4): the fingerprint must match', async () => {
    t.createClient('lc-copy', SCOPE);
    const real = await certificates.issue('lc-copy', { days: 1 }, 'test');
    const signer = await loadCa(t.certsDir);
    const keys = await generateP256KeyPair();
    const forged = await x509.X509CertificateGenerator.create({
      serialNumber: real.serial,
      subject: [{ CN: ['lc-copy'] }],
      issuer: signer.cert.subjectName,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      publicKey: keys.publicKey,
      signingKey: signer.privateKey,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    });
    expect(forged.serialNumber.toLowerCase()).toBe(real.serial);
    const since = Date.now();
    expect(await refusalCode(connect(t.mqttsUrl, tlsOptions('lc-copy', forged.toString('pem'), await privateKeyToPem(keys.privateKey))))).toBe(4);
    const refusal = audited('mqtt.connect', since).find((e) => (e.detail as { client_id?: string }).client_id === 'lc-copy');
    expect(refusal?.reason).toBe(`certificate not recorded: serial ${real.serial} was never issued by latchkey`);
    // The real one still connects.
    const client = await connect(t.mqttsUrl, tlsOptions('lc-copy', real.certPem, real.keyPem!));
    await client.endAsync(true);
  });

  it('tls_client_auth refuses an unrecorded certificate (401) and audits why', async () => {
    t.server.registry.create({ id: 'lc-tca', scope: SCOPE, authMethod: 'tls_client_auth' }, 'test');
    const forged = await issueDeviceCertificate(await loadCa(t.certsDir), { clientId: 'lc-tca', days: 1 });
    const since = Date.now();
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: forged.certPem, key: forged.keyPem! }, {
      form: { grant_type: 'client_credentials', client_id: 'lc-tca' },
    });
    expect(res.status).toBe(401);
    expect((res.json as { error: string }).error).toBe('invalid_client');
    const reasons = audited('token.refused', since).map((e) => e.reason);
    expect(reasons).toContain(`invalid_client: certificate not recorded: serial ${forged.serial} was never issued by latchkey`);
    // The recorded one works.
    const real = await certificates.issue('lc-tca', { days: 1 }, 'test');
    const ok = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: real.certPem, key: real.keyPem! }, {
      form: { grant_type: 'client_credentials', client_id: 'lc-tca' },
    });
    expect(ok.status).toBe(200);
  });
});

async function admin(method: string, path: string, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.baseUrl}/admin${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('latchkey user delete', () => {
  it('ends live sessions within 1 s, stops admin use at once, frees the name, and an old PAT never works for a new user of that name', async () => {
    const { users, pats } = t.server.people;
    users.create({ name: 'lc-alice', scope: 'admin:read mqtt:subscribe:home/#' }, 'test');
    const pat = pats.create({ user: 'lc-alice', name: 'laptop', scope: 'admin:read mqtt:subscribe:home/#' }, 'test').token;
    expect((await admin('GET', '/clients', pat)).status).toBe(200);
    const session = await connect(t.mqttUrl, { clientId: 'lc-alice@laptop', username: 'lc-alice', password: pat, clean: false });
    await session.subscribeAsync('home/#', { qos: 1 });
    const closed = closedWithin(session, 20_000).then(() => Date.now());

    const since = Date.now();
    const res = await t.cli('user', 'delete', 'lc-alice', '--json');
    const acknowledged = Date.now();
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ name: 'lc-alice', deleted: true });
    expect((await admin('GET', '/clients', pat)).status).toBe(401);
    expect((await closed) - acknowledged).toBeLessThan(1000);
    session.end(true);
    expect(audited('user.deleted', since).map((e) => e.principal)).toEqual(['lc-alice']);
    expect(pats.list().some((p) => p.user === 'lc-alice')).toBe(false);

    // The name is free; the old PAT is nothing to the new lc-alice.
    users.create({ name: 'lc-alice', scope: 'admin:read mqtt:subscribe:home/#' }, 'test');
    expect((await admin('GET', '/clients', pat)).status).toBe(401);
    expect(await refusalCode(connect(t.mqttUrl, { clientId: 'lc-alice', username: 'lc-alice', password: pat }))).toBe(4);
    // Nor does the new lc-alice resume the old one's persistent session.
    const newPat = pats.create({ user: 'lc-alice', name: 'laptop', scope: 'mqtt:subscribe:home/#' }, 'test').token;
    expect(await sessionPresent('lc-alice@laptop', 'lc-alice', newPat)).toBe(false);
    const again = await t.cli('user', 'delete', 'nobody-here');
    expect(again.code).not.toBe(0);
  });

  it('DELETE /admin/users/:name does the same over the admin API', async () => {
    const { users, pats, apiKeys } = t.server.people;
    const writer = apiKeys.create({ name: 'lc-ops', scope: 'admin:write' }, 'test').key;
    users.create({ name: 'lc-bob', scope: 'admin:read' }, 'test');
    const pat = pats.create({ user: 'lc-bob', name: 'cli', scope: 'admin:read' }, 'test').token;
    expect((await admin('GET', '/users', pat)).status).toBe(200);
    const res = await admin('DELETE', '/users/lc-bob', writer);
    expect(res).toEqual({ status: 200, body: { name: 'lc-bob', deleted: true } });
    expect((await admin('GET', '/users', pat)).status).toBe(401);
    expect((await admin('DELETE', '/users/lc-bob', writer)).status).toBe(404);
  });
});

describe('latchkey apikey disable / enable', () => {
  it('a disabled key is refused over HTTP and MQTT and its sessions end within 1 s; enabled, it works again', async () => {
    const { apiKeys } = t.server.people;
    const key = apiKeys.create({ name: 'lc-dash', scope: 'admin:read mqtt:subscribe:home/#' }, 'test').key;
    const session = await connect(t.mqttUrl, { clientId: 'lc-dash', username: 'lc-dash', password: key });
    const closed = closedWithin(session, 20_000).then(() => Date.now());
    const since = Date.now();
    const off = await t.cli('apikey', 'disable', 'lc-dash', '--json');
    const acknowledged = Date.now();
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({ id: 'lc-dash', status: 'disabled' });
    expect((await admin('GET', '/clients', key)).status).toBe(401);
    expect((await closed) - acknowledged).toBeLessThan(1000);
    session.end(true);
    expect(await refusalCode(connect(t.mqttUrl, { clientId: 'lc-dash', username: 'lc-dash', password: key }))).toBe(5);
    expect(audited('apikey.disabled', since).map((e) => e.principal)).toEqual(['lc-dash']);

    const on = await t.cli('apikey', 'enable', 'lc-dash', '--json');
    expect(on.code, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ id: 'lc-dash', status: 'enabled' });
    expect((await admin('GET', '/clients', key)).status).toBe(200);
    // The running server learns of the CLI's change within a second (its change poll).
    await eventually(async () => {
      try {
        const back = await connect(t.mqttUrl, { clientId: 'lc-dash', username: 'lc-dash', password: key });
        await back.endAsync(true);
        return true;
      } catch {
        return false;
      }
    }, 3000, 'the enabled key connecting');
  });

  it('POST /admin/apikeys/:name/disable and /enable', async () => {
    const { apiKeys } = t.server.people;
    const writer = apiKeys.create({ name: 'lc-ops2', scope: 'admin:write' }, 'test').key;
    const key = apiKeys.create({ name: 'lc-feed', scope: 'admin:read' }, 'test').key;
    const off = await admin('POST', '/apikeys/lc-feed/disable', writer);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: 'lc-feed', status: 'disabled' });
    expect((await admin('GET', '/clients', key)).status).toBe(401);
    const on = await admin('POST', '/apikeys/lc-feed/enable', writer);
    expect(on.body).toMatchObject({ id: 'lc-feed', status: 'enabled' });
    expect((await admin('GET', '/clients', key)).status).toBe(200);
  });

  it('an API key of a deleted key name never works for a re-created key of that name', async () => {
    const { apiKeys } = t.server.people;
    const old = apiKeys.create({ name: 'lc-int', scope: 'admin:read mqtt:subscribe:home/#' }, 'test').key;
    apiKeys.delete('lc-int', 'test');
    apiKeys.create({ name: 'lc-int', scope: 'admin:read mqtt:subscribe:home/#' }, 'test');
    expect((await admin('GET', '/clients', old)).status).toBe(401);
    expect(await refusalCode(connect(t.mqttUrl, { clientId: 'lc-int', username: 'lc-int', password: old }))).toBe(4);
  });
});

describe("a re-created client does not resume the deleted one's persistent session", () => {
  it('no subscriptions, no queued messages, sessionPresent false', async () => {
    const pubSecret = t.createClient('lc-pub', 'mqtt:publish:dev/#');
    const publisher = await connectDevice(t.mqttUrl, 'lc-pub', (await t.token('lc-pub', pubSecret)).access_token);
    const oldSecret = t.createClient('lc-persist', SCOPE);
    const old = await connectDevice(t.mqttUrl, 'lc-persist', (await t.token('lc-persist', oldSecret)).access_token, { clean: false });
    await old.subscribeAsync('dev/lc-persist/#', { qos: 1 });
    await old.endAsync();
    await publisher.publishAsync('dev/lc-persist/cmd', 'for the old device', { qos: 1 });

    const del = await t.cli('client', 'delete', 'lc-persist', '--json');
    expect(del.code, del.stderr).toBe(0);
    const newSecret = t.createClient('lc-persist', SCOPE);
    // Once the server has applied the deletion, a message to the old subscription is queued for nobody
    // (its in-memory index forgot it too): probes stop piling up.
    const queued = t.server.store.db.prepare("SELECT COUNT(*) FROM aedes_outgoing WHERE client_id = 'lc-persist'").pluck();
    let probe = 0;
    await eventually(async () => {
      await publisher.publishAsync('dev/lc-persist/cmd', `probe ${++probe}`, { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      return queued.get() === 0;
    }, 5000, 'nothing queued for the deleted client');

    const received: string[] = [];
    const password = (await t.token('lc-persist', newSecret)).access_token;
    expect(await sessionPresent('lc-persist', 'lc-persist', password, received)).toBe(false);
    expect(received).toEqual([]);
    await publisher.endAsync(true);
  });
});
