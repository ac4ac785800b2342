import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ECDSA_SHA256, EC_P256, x509 } from '../../src/pki/x509.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, connect, connectDevice, sleep } from '../helpers/mqtt.js';

let lk: TestServer;
let reader: string; // PAT with admin:read
let writer: string; // API key with admin:write
let mqttOnly: string; // PAT without any admin scope

beforeAll(async () => {
  lk = await startTestServer();
  const { users, pats, apiKeys } = lk.server.people;
  users.create({ name: 'olivia', scope: 'admin:write mqtt:subscribe:#' }, 'test');
  reader = pats.create({ user: 'olivia', name: 'read', scope: 'admin:read' }, 'test').token;
  mqttOnly = pats.create({ user: 'olivia', name: 'mqtt', scope: 'mqtt:subscribe:home/#' }, 'test').token;
  writer = apiKeys.create({ name: 'ops-bot', scope: 'admin:write' }, 'test').key;
});
afterAll(() => lk.close());

interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of many shapes
}

async function call(method: string, path: string, token?: string | null, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${lk.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

function lastAudit(event: string): { principal: string | null; reason: string | null } | undefined {
  lk.server.audit.flush();
  return lk.auditEvents({ event, limit: 1 })[0];
}

function retype(token: string, i: number): string {
  return token.slice(0, i) + (token[i] === 'x' ? 'y' : 'x') + token.slice(i + 1);
}

describe('admin API authentication: 401 and 403 (RFC 6750 §3)', () => {
  test('no token: 401 with a bare Bearer challenge', async () => {
    const res = await call('GET', '/admin/clients');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="latchkey"');
    expect(res.body.error).toBe('invalid_token');
  });

  test.each([
    ['a JWT-looking string', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', 'not a personal access token or API key'],
    ['a PAT with a typo (checksum, no lookup)', () => retype(reader, 15), 'malformed personal access token: checksum'],
    ['an API key with a typo (checksum, no lookup)', () => retype(writer, 15), 'malformed API key: checksum'],
    ['a well-formed unknown PAT', 'lk_pat_00000000000000000000000000000000' + 'XXXXXX', 'malformed personal access token: checksum'],
  ])('%s: 401 invalid_token', async (_name, token, reason) => {
    const res = await call('GET', '/admin/clients', typeof token === 'function' ? token() : token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="latchkey", error="invalid_token", error_description="[^"]+"$/);
    expect(lastAudit('admin.auth_refused')?.reason).toBe(reason);
  });

  test('a non-Bearer Authorization header: 401 invalid_token', async () => {
    const res = await fetch(`${lk.baseUrl}/admin/clients`, { headers: { authorization: 'Basic dTpw' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  test('a token without the scope: 403 insufficient_scope naming the scope', async () => {
    const noAdmin = await call('GET', '/admin/clients', mqttOnly);
    expect(noAdmin.status).toBe(403);
    expect(noAdmin.headers.get('www-authenticate')).toBe('Bearer realm="latchkey", error="insufficient_scope", scope="admin:read"');
    const readOnly = await call('POST', '/admin/clients', reader, { client_id: 'nope', scope: 'mqtt:publish:a' });
    expect(readOnly.status).toBe(403);
    expect(readOnly.headers.get('www-authenticate')).toContain('scope="admin:write"');
    expect(readOnly.body.error).toBe('insufficient_scope');
    expect(lk.server.store.clients.get('nope')).toBeUndefined();
    expect(lastAudit('admin.denied')).toMatchObject({ principal: 'olivia', reason: 'missing admin:write' });
  });

  test('authentication comes before input validation: an unauthenticated bad body is 401, not 400', async () => {
    expect((await call('POST', '/admin/clients', null, { client_id: 'bad id!' })).status).toBe(401);
  });

  test('admin:write implies admin:read', async () => {
    expect((await call('GET', '/admin/clients', writer)).status).toBe(200);
    expect((await call('GET', '/admin/clients', reader)).status).toBe(200);
  });

  test('a revoked PAT stops at once; the user\'s other tokens keep working', async () => {
    const { pats } = lk.server.people;
    const { id, token } = pats.create({ user: 'olivia', name: 'temp', scope: 'admin:read' }, 'test');
    expect((await call('GET', '/admin/sessions', token)).status).toBe(200);
    pats.revoke(id, 'test');
    const res = await call('GET', '/admin/sessions', token);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toBe('the token has been revoked');
    expect((await call('GET', '/admin/sessions', reader)).status).toBe(200);
  });

  test('an expired PAT is refused', async () => {
    const { token } = lk.server.people.pats.create({ user: 'olivia', name: 'brief', scope: 'admin:read', expiresIn: 1 }, 'test');
    expect((await call('GET', '/admin/sessions', token)).status).toBe(200);
    await sleep(2100);
    const res = await call('GET', '/admin/sessions', token);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toBe('the token has expired');
  });

  test('a disabled user\'s PATs all stop at once', async () => {
    const { users, pats } = lk.server.people;
    users.create({ name: 'quinn', scope: 'admin:read' }, 'test');
    const tokens = [pats.create({ user: 'quinn', name: 'a', scope: 'admin:read' }, 'test').token, pats.create({ user: 'quinn', name: 'b', scope: 'admin:read' }, 'test').token];
    for (const t of tokens) expect((await call('GET', '/admin/sessions', t)).status).toBe(200);
    users.setStatus('quinn', 'disabled', 'test');
    for (const t of tokens) expect((await call('GET', '/admin/sessions', t)).status).toBe(401);
  });

  test('a PAT holds no more than its user now does', async () => {
    const { users, pats } = lk.server.people;
    users.create({ name: 'rita', scope: 'admin:write' }, 'test');
    const { token } = pats.create({ user: 'rita', name: 'w', scope: 'admin:write' }, 'test');
    expect((await call('POST', '/admin/tokens/revoke', token, { jti: 'rita-test-1' })).status).toBe(200);
    users.setScope('rita', 'admin:read', 'test');
    expect((await call('POST', '/admin/tokens/revoke', token, { jti: 'rita-test-2' })).status).toBe(403);
    expect((await call('GET', '/admin/clients', token)).status).toBe(200);
  });

  test('an API key rolled with a grace works during the grace, not after', async () => {
    const { apiKeys } = lk.server.people;
    const { key: old } = apiKeys.create({ name: 'roller', scope: 'admin:read' }, 'test');
    const rolled = apiKeys.roll('roller', 2, 'test');
    expect((await call('GET', '/admin/sessions', old)).status).toBe(200);
    expect((await call('GET', '/admin/sessions', rolled.key)).status).toBe(200);
    await sleep(Math.max(0, Date.parse(rolled.previous_expires_at) - Date.now()) + 50);
    expect((await call('GET', '/admin/sessions', old)).status).toBe(401);
    expect((await call('GET', '/admin/sessions', rolled.key)).status).toBe(200);
  });

  test('last use over HTTP is recorded (time and address), throttled to once a minute', async () => {
    const { users, pats } = lk.server.people;
    users.create({ name: 'sam', scope: 'admin:read' }, 'test');
    const { id, token } = pats.create({ user: 'sam', name: 'x', scope: 'admin:read' }, 'test');
    expect(pats.show(id).last_used_at).toBeNull();
    await call('GET', '/admin/sessions', token);
    const first = pats.show(id);
    expect(Date.now() - Date.parse(first.last_used_at!)).toBeLessThan(5000);
    expect(first.last_used_addr).toMatch(/127\.0\.0\.1/);
    await sleep(20);
    await call('GET', '/admin/sessions', token);
    expect(pats.show(id).last_used_at).toBe(first.last_used_at);
  });
});

describe('admin API routes', () => {
  test('POST /admin/clients answers as client create; the secret works; GET shows no secret', async () => {
    const created = await call('POST', '/admin/clients', writer, { client_id: 'api-t1', scope: 'mqtt:publish:home/{client_id}/telemetry' });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['client_id', 'client_secret']);
    expect(created.body.client_id).toBe('api-t1');
    expect(created.headers.get('cache-control')).toBe('no-store');
    const token = await lk.token('api-t1', created.body.client_secret);
    expect(token.scope).toBe('mqtt:publish:home/{client_id}/telemetry');
    const shown = await call('GET', '/admin/clients/api-t1', reader);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ client_id: 'api-t1', status: 'enabled' });
    const listed = await call('GET', '/admin/clients', reader);
    expect(listed.body.clients.map((c: { client_id: string }) => c.client_id)).toContain('api-t1');
    expect(JSON.stringify(listed.body)).not.toContain(created.body.client_secret);
    const ev = lk.auditEvents({ principal: 'api-t1', event: 'client.created', limit: 1 })[0];
    expect(ev?.detail).toMatchObject({ actor: 'admin:ops-bot' });
  });

  test.each([
    ['missing scope', { client_id: 'x1' }],
    ['bad id', { client_id: 'no/slash', scope: 'mqtt:publish:a' }],
    ['bad scope', { client_id: 'x2', scope: 'mqtt:publish:a/#/b' }],
    ['not JSON object', 'just a string'],
  ])('POST /admin/clients with %s: 400, nothing created', async (_name, body) => {
    const res = await call('POST', '/admin/clients', writer, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(lk.server.store.clients.list().map((c) => c.id)).not.toContain('x1');
    expect(lk.server.store.clients.list().map((c) => c.id)).not.toContain('x2');
  });

  test('a name already used by a user is 409', async () => {
    const res = await call('POST', '/admin/clients', writer, { client_id: 'olivia', scope: 'mqtt:publish:a' });
    expect(res.status).toBe(409);
  });

  test('a misspelt field is refused with 400 naming it, not dropped: nothing is created', async () => {
    const res = await call('POST', '/admin/clients', writer, { client_id: 'speller', scope: 'mqtt:publish:a', token_tll: '5m' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'unknown field "token_tll" in the request body' });
    expect(lk.server.store.clients.get('speller')).toBeUndefined();
  });

  test('rotate-secret without a grace keeps the old secret for 24 h, as the CLI does; grace 0 ends it now', async () => {
    const tokenWith = (id: string, secret: string) =>
      fetch(`${lk.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
    const old = lk.createClient('rotator', 'mqtt:publish:x');
    const rotated = await call('POST', '/admin/clients/rotator/rotate-secret', writer);
    expect(rotated.status).toBe(200);
    expect((await tokenWith('rotator', old)).status).toBe(200);
    expect((await tokenWith('rotator', (rotated.body as { client_secret: string }).client_secret)).status).toBe(200);
    const now = await call('POST', '/admin/clients/rotator/rotate-secret', writer, { grace: 0 });
    expect((await tokenWith('rotator', (rotated.body as { client_secret: string }).client_secret)).status).toBe(401);
    expect((await tokenWith('rotator', (now.body as { client_secret: string }).client_secret)).status).toBe(200);
  });

  test('unknown client: 404', async () => {
    expect((await call('GET', '/admin/clients/ghost', reader)).status).toBe(404);
  });

  test('PUT /admin/clients/:id/auth-method moves a client as set-auth-method does; write access, audited, validated', async () => {
    const secret = lk.createClient('api-mover', 'mqtt:publish:x');
    const path = '/admin/clients/api-mover/auth-method';
    expect((await call('PUT', path, reader, { auth_method: 'tls_client_auth' })).status).toBe(403);
    for (const body of [{ auth_method: 'password' }, { auth_method: 'private_key_jwt' }, { auth_method: 'tls_client_auth', jwk: 'not a key' }, {}]) {
      expect((await call('PUT', path, writer, body)).status).toBe(400);
    }
    expect(lk.server.store.clients.get('api-mover')?.authMethod).toBe('client_secret_basic');
    expect((await call('PUT', '/admin/clients/ghost/auth-method', writer, { auth_method: 'tls_client_auth' })).status).toBe(404);

    const moved = await call('PUT', path, writer, { auth_method: 'tls_client_auth' });
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ client_id: 'api-mover', auth_method: 'tls_client_auth', client_secret: null, secret: 'deleted' });
    // The old secret no longer works at the token endpoint.
    const refused = await fetch(`${lk.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`api-mover:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(refused.status).toBe(401);

    const jwk = (await crypto.subtle.exportKey('jwk', (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])).publicKey)) as Record<string, unknown>;
    const toKey = await call('PUT', path, writer, { auth_method: 'private_key_jwt', jwk });
    expect(toKey.body).toMatchObject({ auth_method: 'private_key_jwt', secret: 'none' });
    expect(JSON.parse(lk.server.store.clients.get('api-mover')!.publicJwk!)).toMatchObject({ kty: 'EC', x: jwk.x });

    const back = await call('PUT', path, writer, { auth_method: 'client_secret_basic' });
    expect(back.headers.get('cache-control')).toBe('no-store');
    expect(back.body).toMatchObject({ auth_method: 'client_secret_basic', secret: 'issued' });
    expect((await lk.token('api-mover', back.body.client_secret)).access_token).toBeTruthy();
    const events = lk.auditEvents({ principal: 'api-mover', event: 'client.auth_method_changed', limit: 10 });
    expect(events.map((e) => (e.detail as { actor: string }).actor)).toEqual(['admin:ops-bot', 'admin:ops-bot', 'admin:ops-bot']);
  });

  test('GET /admin/sessions shows who is connected, since when, how, and the credential expiry; DELETE ends it', async () => {
    const secret = lk.createClient('api-dev', 'mqtt:subscribe:x/#');
    const device = await connectDevice(lk.mqttUrl, 'api-dev', (await lk.token('api-dev', secret)).access_token);
    const person = await connect(lk.mqttUrl, { clientId: 'olivia@cli', username: 'olivia', password: mqttOnly });
    const res = await call('GET', '/admin/sessions', reader);
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.sessions.map((s: { client_id: string }) => [s.client_id, s]));
    expect(byId['api-dev']).toMatchObject({ principal: 'api-dev', kind: 'client', method: 'jwt' });
    expect(Date.parse(byId['api-dev'].credential_expires_at)).toBeGreaterThan(Date.now());
    expect(Date.now() - Date.parse(byId['api-dev'].connected_at)).toBeLessThan(10_000);
    expect(byId['olivia@cli']).toMatchObject({ principal: 'olivia', kind: 'user', method: 'pat' });
    const deleted = await call('DELETE', '/admin/clients/api-dev', writer);
    expect(deleted.body).toEqual({ client_id: 'api-dev', deleted: true, live_sessions: 1 });
    expect(await closedWithin(device, 1000)).toBeLessThanOrEqual(1000);
    await person.endAsync();
  });

  test('POST /admin/tokens/revoke ends the live session using that token', async () => {
    const secret = lk.createClient('api-rev', 'mqtt:subscribe:x/#');
    const { access_token } = await lk.token('api-rev', secret);
    const jti = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).jti as string;
    const device = await connectDevice(lk.mqttUrl, 'api-rev', access_token);
    const res = await call('POST', '/admin/tokens/revoke', writer, { jti });
    expect(res.body).toEqual({ jti, revoked: true, already_revoked: false });
    expect(await closedWithin(device, 1000)).toBeLessThanOrEqual(1000);
    expect((await call('POST', '/admin/tokens/revoke', writer, { jti })).body.already_revoked).toBe(true);
  });

  test('GET /admin/audit filters by principal, event, time and limit', async () => {
    lk.createClient('audited', 'mqtt:publish:a');
    lk.server.registry.setScope('audited', 'mqtt:publish:b', 'test');
    await sleep(20);
    const all = await call('GET', '/admin/audit?principal=audited', reader);
    expect(all.status).toBe(200);
    expect(all.body.events.map((e: { event: string }) => e.event)).toEqual(['client.scope_changed', 'client.created']);
    const one = await call('GET', '/admin/audit?principal=audited&event=client.created', reader);
    expect(one.body.events).toHaveLength(1);
    expect(one.body.events[0]).toMatchObject({ event: 'client.created', principal: 'audited', outcome: 'success' });
    expect((await call('GET', '/admin/audit?principal=audited&limit=1', reader)).body.events).toHaveLength(1);
    expect((await call('GET', '/admin/audit?principal=audited&since=1h', reader)).body.events).toHaveLength(2);
    expect((await call('GET', '/admin/audit?principal=audited&until=2000-01-01T00:00:00Z', reader)).body.events).toHaveLength(0);
    expect((await call('GET', '/admin/audit?limit=0', reader)).status).toBe(400);
    expect((await call('GET', '/admin/audit?since=yesterday', reader)).status).toBe(400);
  });

  test('certificates: issue from a CSR, list, revoke', async () => {
    lk.createClient('cert-dev', 'mqtt:publish:a');
    const keys = (await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: [{ CN: ['cert-dev'] }], keys, signingAlgorithm: ECDSA_SHA256 });
    const issued = await call('POST', '/admin/certificates', writer, { client_id: 'cert-dev', csr: csr.toString('pem'), days: 30 });
    expect(issued.status).toBe(201);
    expect(issued.body.cert).toContain('BEGIN CERTIFICATE');
    expect(issued.body).not.toHaveProperty('key');
    const listed = await call('GET', '/admin/certificates?client_id=cert-dev', reader);
    expect(listed.body.certificates).toEqual([expect.objectContaining({ serial: issued.body.serial, status: 'valid' })]);
    const mismatch = await call('POST', '/admin/certificates', writer, { client_id: 'api-t1', csr: csr.toString('pem') });
    expect(mismatch.status).toBe(400);
    const revoked = await call('POST', `/admin/certificates/${issued.body.serial}/revoke`, writer);
    expect(revoked.body).toMatchObject({ serial: issued.body.serial, already_revoked: false });
    expect((await call('GET', '/admin/certificates?client_id=cert-dev', reader)).body.certificates[0].status).toBe('revoked');
  });

  test('people: users, PATs and API keys listed without secrets; a PAT revoked over HTTP stops at once', async () => {
    const { users, pats, apiKeys } = lk.server.people;
    users.create({ name: 'tess', scope: 'admin:read' }, 'test');
    const made = pats.create({ user: 'tess', name: 'leaky', scope: 'admin:read' }, 'test');
    const key = apiKeys.create({ name: 'listed-key', scope: 'admin:read' }, 'test').key;
    const listed = await call('GET', '/admin/pats?user=tess', reader);
    expect(listed.body.tokens).toEqual([expect.objectContaining({ id: made.id, name: 'leaky', prefix: 'lk_pat_', last4: made.token.slice(-4), status: 'active' })]);
    const keys = await call('GET', '/admin/apikeys', reader);
    expect(keys.body.api_keys.find((k: { id: string }) => k.id === 'listed-key')).toMatchObject({ prefix: 'lk_key_', last4: key.slice(-4) });
    const everything = JSON.stringify([listed.body, keys.body, (await call('GET', '/admin/users', reader)).body]);
    for (const secret of [made.token, key, reader, writer]) expect(everything).not.toContain(secret);
    expect((await call('POST', `/admin/pats/${made.id}/revoke`, reader)).status).toBe(403);
    expect(await call('GET', '/admin/sessions', made.token)).toMatchObject({ status: 200 });
    const revoked = await call('POST', `/admin/pats/${made.id}/revoke`, writer);
    expect(revoked.body).toEqual({ id: made.id, user: 'tess', name: 'leaky', revoked: true, already_revoked: false });
    expect((await call('GET', '/admin/sessions', made.token)).status).toBe(401);
    expect((await call('POST', '/admin/pats/pat_nope/revoke', writer)).status).toBe(404);
  });

  test('/openapi.json describes every route: each admin route with bearer security, and the OAuth and operations routes', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const routes = Object.entries(res.body.paths as Record<string, Record<string, { security?: unknown }>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const admin = routes.filter((r) => r.includes(' /admin/')).sort();
    expect(admin).toEqual(
      [
        'GET /admin/clients',
        'POST /admin/clients',
        'POST /admin/clients:batch',
        'POST /admin/console/login-links',
        'GET /admin/clients/{id}',
        'DELETE /admin/clients/{id}',
        'POST /admin/clients/{id}/disable',
        'POST /admin/clients/{id}/static-password',
        'DELETE /admin/clients/{id}/static-password',
        'POST /admin/clients/{id}/enable',
        'PUT /admin/clients/{id}/auth-method',
        'GET /admin/sessions',
        'DELETE /admin/sessions/{client_id}',
        'GET /admin/audit',
        'GET /admin/certificates',
        'POST /admin/certificates',
        'POST /admin/certificates/{serial}/revoke',
        'GET /admin/tokens',
        'POST /admin/tokens/revoke',
        'GET /admin/users',
        'DELETE /admin/users/{name}',
        'GET /admin/pats',
        'POST /admin/pats/{id}/revoke',
        'GET /admin/apikeys',
        'POST /admin/apikeys',
        'POST /admin/apikeys/{name}/roll',
        'DELETE /admin/apikeys/{name}',
        'POST /admin/apikeys/{name}/disable',
        'POST /admin/apikeys/{name}/enable',
        'POST /admin/pats',
        'GET /admin/explain',
        'POST /admin/clients/{id}/scope',
        'POST /admin/clients/{id}/rotate-secret',
        'GET /admin/templates',
        'POST /admin/templates',
        'GET /admin/templates/{name}',
        'DELETE /admin/templates/{name}',
        'GET /admin/claims',
        'POST /admin/claims',
        'DELETE /admin/claims/{id}',
        // What `latchkey --server` needs besides.
        'POST /admin/users',
        'GET /admin/users/{name}',
        'POST /admin/users/{name}/disable',
        'POST /admin/users/{name}/enable',
        'POST /admin/users/{name}/scope',
        'POST /admin/keys/rotate',
        'POST /admin/audit/prune',
      ].sort(),
    );
    for (const [path, ops] of Object.entries(res.body.paths as Record<string, Record<string, { security?: unknown }>>)) {
      if (!path.startsWith('/admin/')) continue;
      for (const op of Object.values(ops)) expect(op.security).toEqual([{ bearer: [] }]);
    }
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    // The rest of the HTTP surface is listed too, each route with a summary.
    expect(routes).toEqual(
      expect.arrayContaining(['POST /oauth/token', 'POST /oauth/introspect', 'POST /oauth/revoke', 'GET /.well-known/jwks.json', 'GET /.well-known/oauth-authorization-server', 'GET /healthz', 'GET /metrics']),
    );
    for (const ops of Object.values(res.body.paths as Record<string, Record<string, { summary?: string }>>)) {
      for (const op of Object.values(ops)) expect(op.summary).toBeTruthy();
    }
    expect(routes).not.toContain('GET /openapi.json');
  });
});
