import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit_log.js';
import { loadConfig } from '../../src/config/load_config.js';
import { initialise } from '../../src/init.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { createOAuthServer, type OAuthServerDeps } from '../../src/oauth/server.js';
import { peerCertificate } from '../../src/oauth/peer_certificate.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { ClientRegistry } from '../../src/registry/clients.js';
import { RevocationList } from '../../src/tokens/revocation_list.js';
import { TokenIssuer } from '../../src/tokens/token_issuer.js';
import { tempDir } from '../helpers/latchkey.js';
import { basic, claimsOf, get, post } from './http.js';

/**
 * createOAuthServer on its own, wired from real parts the way src/app.ts
 * does, so a test can hold the `ready` flag and watch the broker hook.
 */
let root: string;
let deps: OAuthServerDeps;
let ready = false;
const revokedForBroker: string[] = [];
let http: FastifyInstance;
let https: FastifyInstance;
let httpUrl: string;
let httpsPort: number;

beforeAll(async () => {
  root = tempDir();
  const config = loadConfig({ dataDir: join(root, 'data'), certsDir: join(root, 'certs'), httpPort: '0', issuer: 'https://latchkey.test' }, {});
  const { store, ring, pki } = await initialise(config);
  const log = createLogger('silent');
  const metrics = new Metrics();
  const audit = new AuditLog(store, log);
  const revocations = new RevocationList(store);
  const issuer = new TokenIssuer(ring, audit, metrics, { issuer: config.issuer, audience: config.audience });
  const registry = new ClientRegistry(store, audit, config.tokenTtl);
  deps = {
    config, store, ring, revocations, issuer, registry, audit, metrics, log, pki,
    // The broker's hook, recorded: the real broker is tested with MQTT elsewhere.
    broker: { onTokenRevoked: (jti) => revokedForBroker.push(jti) },
    ready: () => ready,
    routing: () => true,
  };
  http = await createOAuthServer(deps, { tls: false });
  https = await createOAuthServer(deps, { tls: true });
  // A probe route, added before listening, to show the peer certificate is reachable from a request.
  https.get('/test/peer', async (request) => {
    const peer = peerCertificate(request);
    return peer ? { der: peer.der.toString('base64'), authorized: peer.authorized } : { der: null };
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  await https.listen({ host: '127.0.0.1', port: 0 });
  httpUrl = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
  httpsPort = (https.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await Promise.all([http?.close(), https?.close()]);
  deps?.audit.flush();
  deps?.store.close();
  rmSync(root, { recursive: true, force: true });
});

function httpsGet(path: string, tlsOptions: { cert?: string; key?: string } = {}): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: httpsPort, path, servername: 'localhost', ca: deps.pki.ca.certPem, ...tlsOptions },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('createOAuthServer', () => {
  it('/healthz is 503 until ready, then 200', async () => {
    ready = false;
    const starting = await get(`${httpUrl}/healthz`);
    expect(starting.status).toBe(503);
    expect(starting.json).toEqual({ status: 'unavailable' });
    ready = true;
    expect((await get(`${httpUrl}/healthz`)).status).toBe(200);
  });

  it('serves HTTPS with the latchkey server certificate', async () => {
    const res = await httpsGet('/.well-known/oauth-authorization-server');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ issuer: 'https://latchkey.test' });
  });

  it('makes a presented client certificate reachable from the request, and none over plain TLS', async () => {
    expect((await httpsGet('/test/peer')).json).toEqual({ der: null });
    const device = await issueDeviceCertificate(deps.pki.ca, { clientId: 'cert-dev' });
    const res = await httpsGet('/test/peer', { cert: device.certPem, key: device.keyPem! });
    const { der, authorized } = res.json as { der: string; authorized: boolean };
    expect(authorized).toBe(true);
    const pemBody = device.certPem.replace(/-----[^-]+-----|\s/g, '');
    expect(der).toBe(pemBody);
  });

  it('revocation reaches the broker hook before the answer', async () => {
    const { client_secret } = deps.registry.create({ id: 'hooked', scope: 'mqtt:publish:x' }, 'test');
    const auth = { authorization: basic('hooked', client_secret!) };
    const token = (await post(`${httpUrl}/oauth/token`, { grant_type: 'client_credentials' }, auth)).json as { access_token: string };
    const res = await post(`${httpUrl}/oauth/revoke`, { token: token.access_token }, auth);
    expect(res.status).toBe(200);
    expect(revokedForBroker).toEqual([claimsOf(token.access_token).jti]);
    expect(deps.revocations.has(claimsOf(token.access_token).jti as string)).toBe(true);
  });

  it('HTTP and HTTPS share one failure count', async () => {
    // Failures over plain HTTP, each for another client id, lock the address on HTTPS too.
    for (let i = 0; i < deps.config.authFailureAddressLimit; i++) {
      await post(`${httpUrl}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(`shared-${i}`, 'x') });
    }
    const res = await post(`${httpUrl}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic('hooked', 'x') });
    expect(res.status).toBe(429);
    const overTls = await new Promise<number>((resolve, reject) => {
      const body = 'grant_type=client_credentials';
      const req = httpsRequest(
        {
          host: '127.0.0.1', port: httpsPort, path: '/oauth/token', method: 'POST', servername: 'localhost', ca: deps.pki.ca.certPem,
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('hooked', 'x') },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(overTls).toBe(429);
  });

  it('an unexpected failure is a bare 500 server_error, no stack', async () => {
    const failing = await createOAuthServer({ ...deps, ready: () => { throw new Error('secret internals at /srv/x.ts:12'); } }, { tls: false });
    const res = await failing.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'server_error', error_description: 'the server could not complete the request' });
    expect(res.body).not.toContain('internals');
    expect(res.headers['cache-control']).toBe('no-store');
    await failing.close();
  });
});
