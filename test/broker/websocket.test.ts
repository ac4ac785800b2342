import type { IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CertificateRegistry } from '../../src/registry/certificates.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, collect, connect, connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';
import { caPemOf, certificatesOf, httpsCall } from '../helpers/mtls.js';

const SCOPE = 'mqtt:publish:dev/{client_id}/# mqtt:subscribe:dev/{client_id}/#';

let t: TestServer;
let ca: string;
let certificates: CertificateRegistry;
let wsUrl: string;
let wssUrl: string;

/** WSS options: the server checked as `localhost` against the latchkey CA. */
function secure(extra: IClientOptions = {}): IClientOptions {
  return { ca, servername: 'localhost', rejectUnauthorized: true, ...extra };
}

/** The HTTP status a raw WebSocket upgrade got (ws reports a refused upgrade as "Unexpected server response: N"). */
function upgradeStatus(url: string, protocols: string[], headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, protocols, { headers });
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('error', () => resolve(-1));
  });
}

beforeAll(async () => {
  t = await startTestServer();
  ca = caPemOf(t);
  certificates = await certificatesOf(t);
  wsUrl = `ws://127.0.0.1:${t.server.ports.ws}/mqtt`;
  wssUrl = `wss://127.0.0.1:${t.server.ports.wss}/mqtt`;
});
afterAll(async () => {
  await t?.close();
});

describe('MQTT over WebSocket (ws, path /mqtt, subprotocol mqtt)', () => {
  it('port 0 picks free ports, reported as ports.ws and ports.wss; /healthz answers on both', async () => {
    expect(t.server.ports.ws).toBeGreaterThan(0);
    expect(t.server.ports.wss).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${t.server.ports.ws}/healthz`)).status).toBe(200);
    expect((await httpsCall(`https://127.0.0.1:${t.server.ports.wss}/healthz`, { ca })).status).toBe(200);
  });

  it('a device connects with a JWT, publishes and receives within its scope; other topics are refused', async () => {
    const secret = t.createClient('ws-jwt', SCOPE);
    const { access_token } = await t.token('ws-jwt', secret);
    const client = await connectDevice(wsUrl, 'ws-jwt', access_token);
    try {
      const seen = collect(client);
      await client.subscribeAsync('dev/ws-jwt/echo', { qos: 1 });
      await client.publishAsync('dev/ws-jwt/echo', 'over websocket', { qos: 1 });
      await eventually(() => seen.some((m) => m.payload === 'over websocket'), 2000, 'echo');
      expect(t.server.broker.sessions().find((s) => s.client_id === 'ws-jwt')).toMatchObject({ method: 'jwt', remote: '127.0.0.1' });
      const denied = await client.subscribeAsync('dev/someone-else/#', { qos: 1 }).then(
        (granted) => granted.map((g) => g.qos),
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [],
      );
      expect(denied).toEqual([128]);
    } finally {
      await client.endAsync(true);
    }
  });

  it('bad credentials get the same CONNACK codes as on TCP (4), and are audited with the remote address', async () => {
    t.createClient('ws-bad', SCOPE);
    expect(await refusalCode(connectDevice(wsUrl, 'ws-bad', 'not-a-token'))).toBe(4);
    const refusal = t.auditEvents({ event: 'mqtt.connect', principal: 'ws-bad', limit: 1 })[0];
    expect(refusal).toMatchObject({ outcome: 'failure', remote: '127.0.0.1' });
  });

  it('WSS: a user connects with a personal access token', async () => {
    const { users, pats } = t.server.people;
    users.create({ name: 'ws-alice', scope: 'mqtt:subscribe:dev/# mqtt:publish:dev/#' }, 'test');
    const { token } = pats.create({ user: 'ws-alice', name: 'browser', scope: 'mqtt:subscribe:dev/#' }, 'test');
    const client = await connect(wssUrl, secure({ clientId: 'ws-alice@browser', username: 'ws-alice', password: token }));
    try {
      expect(t.server.broker.sessions().find((s) => s.client_id === 'ws-alice@browser')).toMatchObject({ method: 'pat', kind: 'user' });
    } finally {
      await client.endAsync(true);
    }
  });

  it('WSS: a device certificate, taken from the upgrade request\'s TLS socket, authenticates with no password', async () => {
    t.createClient('ws-cert', SCOPE);
    const issued = await certificates.issue('ws-cert', { days: 1 }, 'test');
    const client = await connect(wssUrl, secure({ clientId: 'ws-cert', cert: issued.certPem, key: issued.keyPem! }));
    try {
      expect(t.server.broker.sessions().find((s) => s.client_id === 'ws-cert')).toMatchObject({ method: 'certificate', principal: 'ws-cert' });
      // Revoking the certificate ends the WebSocket session within 1 s.
      certificates.revoke(issued.serial, 'test');
      await closedWithin(client, 1500);
    } finally {
      await client.endAsync(true);
    }
    // A certificate over plain WS does not exist; without a password it is refused.
    expect(await refusalCode(connect(wsUrl, { clientId: 'ws-cert' }))).toBe(4);
  });

  it('WSS: a certificate presented from a browser (an Origin header) is ignored: no cross-site WebSocket hijacking', async () => {
    t.createClient('ws-origin', SCOPE);
    const issued = await certificates.issue('ws-origin', { days: 1 }, 'test');
    const fromPage = secure({ clientId: 'ws-origin', cert: issued.certPem, key: issued.keyPem!, wsOptions: { headers: { origin: 'https://evil.example' } } });
    expect(await refusalCode(connect(wssUrl, fromPage))).toBe(4);
    const refusal = t.auditEvents({ event: 'mqtt.connect', limit: 20 }).find((e) => e.detail?.client_id === 'ws-origin');
    expect(refusal).toMatchObject({ outcome: 'failure', reason: 'no credential' });
  });

  it('WSS: a certificate-bound token is accepted only with its certificate', async () => {
    t.server.registry.create({ id: 'ws-bound', scope: SCOPE, authMethod: 'tls_client_auth' }, 'test');
    const issued = await certificates.issue('ws-bound', { days: 1 }, 'test');
    const res = await httpsCall(`${t.httpsUrl}/oauth/token`, { ca, cert: issued.certPem, key: issued.keyPem! }, {
      form: { grant_type: 'client_credentials', client_id: 'ws-bound' },
    });
    const { access_token } = res.json as { access_token: string };
    // Without the certificate (plain WS, or WSS with no client certificate): refused.
    expect(await refusalCode(connectDevice(wsUrl, 'ws-bound', access_token))).toBe(4);
    expect(await refusalCode(connectDevice(wssUrl, 'ws-bound', access_token, secure()))).toBe(4);
    const client = await connectDevice(wssUrl, 'ws-bound', access_token, secure({ cert: issued.certPem, key: issued.keyPem! }));
    await client.endAsync(true);
  });

  it('a token revoked over HTTP ends its WebSocket session within 1 s', async () => {
    const secret = t.createClient('ws-revoked', SCOPE);
    const { access_token } = await t.token('ws-revoked', secret);
    const client = await connectDevice(wssUrl, 'ws-revoked', access_token, secure());
    try {
      await fetch(`${t.baseUrl}/oauth/revoke`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`ws-revoked:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: access_token }).toString(),
      });
      // Committed when the answer arrives: the second counts from there (0 if the session ended first).
      await closedWithin(client, 1000);
    } finally {
      await client.endAsync(true);
    }
  });

  it('a session ends within 1 s of its token expiry', async () => {
    const secret = t.createClient('ws-expiring', SCOPE, { tokenTtl: 2 });
    const { access_token, expires_in } = await t.token('ws-expiring', secret);
    expect(expires_in).toBe(2);
    const client = await connectDevice(wsUrl, 'ws-expiring', access_token);
    try {
      const exp = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).exp as number;
      await new Promise<void>((resolve) => client.once('close', () => resolve()));
      // Closed at or after expiry (not before), and within 1 s of it.
      const lateBy = Date.now() - exp * 1000;
      expect(lateBy).toBeGreaterThanOrEqual(-50);
      expect(lateBy).toBeLessThan(1000);
    } finally {
      await client.endAsync(true);
    }
  });

  it('refuses another path (404) and an upgrade without the mqtt subprotocol (400)', async () => {
    const port = t.server.ports.ws;
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/other`, ['mqtt'])).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/mqtt`, [])).toBe(400);
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/mqtt`, ['chat'])).toBe(400);
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/mqtt`, ['mqtt'])).toBe(101);
  });

  it('a message larger than --max-packet-size closes the connection; the broker lives on', async () => {
    const secret = t.createClient('ws-big', SCOPE);
    const { access_token } = await t.token('ws-big', secret);
    const client = await connectDevice(wsUrl, 'ws-big', access_token);
    try {
      const closed = closedWithin(client, 3000);
      client.publish('dev/ws-big/blob', Buffer.alloc(t.server.config.maxPacketSize + 1024));
      await closed;
    } finally {
      await client.endAsync(true);
    }
    const again = await connectDevice(wsUrl, 'ws-big', access_token);
    await again.endAsync(true);
  });

  it('ignores X-Forwarded-For without --trust-proxy: the address is the socket peer', async () => {
    const secret = t.createClient('ws-xff', SCOPE);
    const { access_token } = await t.token('ws-xff', secret);
    const client = await connectDevice(wsUrl, 'ws-xff', access_token, { wsOptions: { headers: { 'x-forwarded-for': '203.0.113.9' } } });
    try {
      expect(t.server.broker.sessions().find((s) => s.client_id === 'ws-xff')?.remote).toBe('127.0.0.1');
    } finally {
      await client.endAsync(true);
    }
  });
});

describe('WebSocket limits with --trust-proxy and --max-connections-per-address', () => {
  let proxied: TestServer;
  beforeAll(async () => {
    proxied = await startTestServer({ trustProxy: 'true', maxConnectionsPerAddress: '1' });
  });
  afterAll(async () => {
    await proxied?.close();
  });

  it('takes the address from the last X-Forwarded-For entry and caps connections per that address', async () => {
    const secret = proxied.createClient('px', SCOPE);
    const { access_token } = await proxied.token('px', secret);
    const url = `ws://127.0.0.1:${proxied.server.ports.ws}/mqtt`;
    const from = (address: string): IClientOptions => ({ wsOptions: { headers: { 'x-forwarded-for': `198.51.100.7, ${address}` } } });
    const first = await connectDevice(url, 'px', access_token, from('203.0.113.5'));
    try {
      expect(proxied.server.broker.sessions().find((s) => s.client_id === 'px')?.remote).toBe('203.0.113.5');
      // A second connection from the same (forwarded) address is over the cap of 1: refused at the upgrade.
      expect(await upgradeStatus(url, ['mqtt'], { 'x-forwarded-for': '203.0.113.5' })).toBe(503);
      // Another forwarded address is counted on its own.
      expect(await upgradeStatus(url, ['mqtt'], { 'x-forwarded-for': '203.0.113.6' })).toBe(101);
    } finally {
      await first.endAsync(true);
    }
  });
});
