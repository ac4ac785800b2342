import { SignJWT, generateKeyPair } from 'jose';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { connect, connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';

let lk: TestServer;
let secret: string;

beforeAll(async () => {
  lk = await startTestServer();
  secret = lk.createClient('t1', SCOPE);
  lk.createClient('t2', SCOPE);
});
afterAll(() => lk.close());

async function token(): Promise<string> {
  return (await lk.token('t1', secret)).access_token;
}

/** The newest refused CONNECT audited under `principal`, polled: the audit is written shortly after the CONNACK. */
// A refusal folded with others of its second is dated when that second ends, so an
// earlier test's row can still be the newest one: look for the reason asked about.
async function lastRefusal(principal: string, since: number, reason?: RegExp): Promise<{ reason: string | null; detail: unknown } | undefined> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const events = lk.auditEvents({ event: 'mqtt.connect', principal, since, limit: 20 });
    const event = reason ? events.find((e) => reason.test(e.reason ?? '')) : events[0];
    if (event || Date.now() > deadline) return event;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('CONNACK codes (docs/INTERFACE.md#mqtt)', () => {
  test('accepted: username = client id = sub, password = token', async () => {
    const client = await connectDevice(lk.mqttUrl, 't1', await token());
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  test.each([
    ['garbage password', async () => ({ username: 't1', password: 'not-a-token' })],
    ['no password', async () => ({ username: 't1' })],
    ['username of another client', async () => ({ username: 't2', password: await token() })],
    ['token signed by a foreign key', async () => ({ username: 't1', password: await foreignToken() })],
    ['64 KB password (65,000 bytes, near the MQTT string limit)', async () => ({ username: 't1', password: 'x'.repeat(65_000) })],
  ])('4 bad credentials: %s', async (_name, credentials) => {
    const code = await refusalCode(connect(lk.mqttUrl, { clientId: 't1', ...(await credentials()) }));
    expect(code).toBe(4);
  });

  test('a password over 8 KB is refused before any parsing', async () => {
    const since = Date.now();
    const code = await refusalCode(connect(lk.mqttUrl, { clientId: 't1', username: 't1', password: `${await token()}${'='.repeat(9000)}` }));
    expect(code).toBe(4);
    expect((await lastRefusal('t1', since, /^password too large$/))?.reason).toBe('password too large');
  });

  test('2 identifier rejected: client id differs from the token subject', async () => {
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 't2', username: 't1', password: await token() }))).toBe(2);
  });

  test('5 not authorized: revoked token, then disabled client', async () => {
    const revoked = await token();
    const jti = JSON.parse(Buffer.from(revoked.split('.')[1]!, 'base64url').toString()).jti as string;
    const res = await fetch(`${lk.baseUrl}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`t1:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ token: revoked }),
    });
    expect(res.status).toBe(200);
    const since = Date.now();
    expect(await refusalCode(connectDevice(lk.mqttUrl, 't1', revoked))).toBe(5);
    expect(await lastRefusal('t1', since, /^token revoked: token revoked$/)).toMatchObject({ outcome: 'failure', reason: 'token revoked: token revoked' });

    const fresh = await token();
    lk.server.registry.setStatus('t1', 'disabled', 'test');
    try {
      expect(await refusalCode(connectDevice(lk.mqttUrl, 't1', fresh))).toBe(5);
    } finally {
      lk.server.registry.setStatus('t1', 'enabled', 'test');
    }
  });

  test('a malformed packet and a huge password leave the broker serving everyone else', async () => {
    const good = await connectDevice(lk.mqttUrl, 't1', await token());
    // A CONNECT whose protocol name is garbage, then random bytes.
    await new Promise<void>((resolve) => {
      const socket = net.connect(lk.server.ports.mqtt, '127.0.0.1', () => {
        socket.write(Buffer.from([0x10, 0x0a, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x58, 0x04, 0x02, 0x00, 0x3c]));
        socket.write(Buffer.from('\xff\xff\xff\xff\xff garbage', 'binary'));
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    // A packet announcing 200 MB is cut off at its header, not buffered.
    await new Promise<void>((resolve) => {
      const socket = net.connect(lk.server.ports.mqtt, '127.0.0.1', () => socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 't1', username: 't1', password: 'y'.repeat(65_000) }))).toBe(4);
    expect(good.connected).toBe(true);
    await good.publishAsync('home/t1/telemetry', 'still here', { qos: 1 });
    const another = await connectDevice(lk.mqttUrl, 't1', await token(), { clientId: 't1' });
    await another.endAsync();
    await good.endAsync(true);
  });
});

describe('refusals that say what to do', () => {
  test('a client secret sent as the CONNECT password: the reason says to trade it at the token endpoint first', async () => {
    const since = Date.now();
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 't1', username: 't1', password: secret }))).toBe(4);
    const event = await lastRefusal('t1', since, /not an access token/);
    expect(event?.reason).toBe('the password is not an access token: trade the client secret at POST /oauth/token first');
    // The secret itself is never recorded.
    expect(JSON.stringify(lk.auditEvents({ since, limit: 100 }))).not.toContain(secret);
  });

  test('a token-shaped password that fails keeps its precise reason', async () => {
    const since = Date.now();
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 't1', username: 't1', password: await foreignToken() }))).toBe(4);
    expect((await lastRefusal('t1', since, /^token /))?.reason).toMatch(/^token /);
  });

  test('a refused CONNECT is audited under the registered client its MQTT client id names, so `audit --client` shows it', async () => {
    const since = Date.now();
    // No username at all (a device that forgot it), and a username that names nobody.
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 't2' }))).toBe(4);
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 't2', username: 'nobody-by-that-name', password: 'x' }))).toBe(4);
    await lastRefusal('t2', since);
    const refusals = lk.auditEvents({ event: 'mqtt.connect', principal: 't2', since, limit: 10 });
    expect(refusals.map((e) => e.reason).sort()).toEqual(['no credential', 'the password is not an access token: trade the client secret at POST /oauth/token first']);
    const listed = await lk.cli('audit', '--client', 't2', '--since', '1h', '--json');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('no credential');
  });

  test('an MQTT client id that names no registered client is audited under the username as given', async () => {
    const since = Date.now();
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 'ghost-device', username: 'ghost-user', password: 'x' }))).toBe(4);
    expect((await lastRefusal('ghost-user', since))?.reason).toBe(
      'the password is not an access token: trade the client secret at POST /oauth/token first',
    );
    expect(lk.auditEvents({ event: 'mqtt.connect', principal: 'ghost-device', since, limit: 10 })).toEqual([]);
  });
});

async function foreignToken(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  const ring = await (await fetch(`${lk.baseUrl}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] };
  return new SignJWT({ client_id: 't1', scope: SCOPE })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: ring.keys[0]!.kid })
    .setIssuer('http://latchkey.test')
    .setSubject('t1')
    .setAudience('urn:latchkey:mqtt')
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti('forged')
    .sign(privateKey);
}
