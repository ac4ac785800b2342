import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { basic, claimsOf, invalidClientBody, post } from './http.js';

let t: TestServer;
const secrets: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestServer({ authFailureLimit: '1000' });
  secrets.alice = t.createClient('alice', 'mqtt:publish:home/alice/#');
  secrets.bob = t.createClient('bob', 'mqtt:publish:home/bob/#');
  secrets.ops = t.createClient('ops', 'admin:write');
  // 2 s, not 1: iat is whole seconds, so a 1 s token can be dead on arrival.
  secrets.short = t.createClient('short', 'mqtt:publish:x', { tokenTtl: 2 });
});
afterAll(async () => {
  await t.close();
});

const introspect = (caller: string, token: string, extra: Record<string, string> = {}) =>
  post(`${t.baseUrl}/oauth/introspect`, { token, ...extra }, { authorization: basic(caller, secrets[caller]!) });
const revoke = (caller: string, token: string, extra: Record<string, string> = {}) =>
  post(`${t.baseUrl}/oauth/revoke`, { token, ...extra }, { authorization: basic(caller, secrets[caller]!) });

describe('introspection (RFC 7662)', () => {
  it('a live token of the caller is active, with its claims', async () => {
    const { access_token } = await t.token('alice', secrets.alice!);
    const claims = claimsOf(access_token);
    const res = await introspect('alice', access_token, { token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toEqual({
      active: true,
      scope: 'mqtt:publish:home/alice/#',
      client_id: 'alice',
      sub: 'alice',
      exp: claims.exp,
      iat: claims.iat,
      iss: 'http://latchkey.test',
      aud: 'urn:latchkey:mqtt',
      jti: claims.jti,
      token_type: 'Bearer',
    });
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['a JWS with a bad signature', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA'],
    ['empty segments', '..'],
    ['longer than any token we issue', `${'a'.repeat(5000)}.${'b'.repeat(5000)}.c`],
  ])('%s is {active:false}', async (_name, token) => {
    const res = await introspect('alice', token);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ active: false });
  });

  it("another client's token is {active:false} to a device, active to an admin:read holder", async () => {
    const { access_token } = await t.token('bob', secrets.bob!);
    expect((await introspect('alice', access_token)).json).toEqual({ active: false });
    expect((await introspect('ops', access_token)).json).toMatchObject({ active: true, client_id: 'bob' });
  });

  it('an expired token is {active:false}', async () => {
    const { access_token } = await t.token('short', secrets.short!);
    expect((await introspect('short', access_token)).json).toMatchObject({ active: true });
    await new Promise((r) => setTimeout(r, 2100));
    expect((await introspect('short', access_token)).json).toEqual({ active: false });
  });

  it('a token of a disabled or deleted client is {active:false}', async () => {
    const secret = t.createClient('fleeting', 'mqtt:publish:x');
    const { access_token } = await t.token('fleeting', secret);
    t.server.registry.setStatus('fleeting', 'disabled', 'test');
    expect((await introspect('ops', access_token)).json).toEqual({ active: false });
    t.server.registry.setStatus('fleeting', 'enabled', 'test');
    expect((await introspect('ops', access_token)).json).toMatchObject({ active: true });
    t.server.registry.delete('fleeting', 'test');
    expect((await introspect('ops', access_token)).json).toEqual({ active: false });
  });

  it.each([
    ['missing token', {}, 400, { error: 'invalid_request', error_description: 'token is required' }],
    ['no client authentication', null, 401, { error: 'invalid_client', error_description: 'client authentication failed' }],
  ] as const)('%s is an error', async (_name, params, status, body) => {
    const res =
      params === null
        ? await post(`${t.baseUrl}/oauth/introspect`, { token: 'x' })
        : await post(`${t.baseUrl}/oauth/introspect`, params, { authorization: basic('alice', secrets.alice!) });
    expect(res.status).toBe(status);
    expect(res.json).toEqual(body);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('a disabled caller cannot introspect', async () => {
    secrets.gone = t.createClient('gone', 'mqtt:publish:x');
    const { access_token } = await t.token('gone', secrets.gone);
    t.server.registry.setStatus('gone', 'disabled', 'test');
    const res = await introspect('gone', access_token);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(invalidClientBody('gone'));
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes the caller’s token: 200, empty body, then introspection says inactive and the deny-list has it', async () => {
    const { access_token } = await t.token('alice', secrets.alice!);
    const { jti, exp } = claimsOf(access_token) as { jti: string; exp: number };
    const res = await revoke('alice', access_token, { token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await introspect('alice', access_token)).json).toEqual({ active: false });
    expect(t.server.store.revocations.unexpired(0)).toContainEqual({ jti, exp });
    t.server.audit.flush();
    expect(t.auditEvents({ event: 'token.revoked', principal: 'alice', limit: 5 }).map((e) => e.detail)).toContainEqual({ actor: 'oauth', jti });
  });

  it.each([
    ['garbage', () => Promise.resolve('garbage')],
    ['an already revoked token', async () => {
      const { access_token } = await t.token('alice', secrets.alice!);
      await revoke('alice', access_token);
      return access_token;
    }],
    ['an unknown hint (a hint is only a hint)', () => Promise.resolve('x')],
  ])('%s still gets an empty 200', async (_name, make) => {
    const res = await revoke('alice', await make(), { token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
  });

  it("another client's token is refused and stays active; an admin:write holder may revoke it", async () => {
    const { access_token } = await t.token('bob', secrets.bob!);
    const refused = await revoke('alice', access_token);
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ error: 'invalid_request', error_description: 'the token was not issued to this client' });
    expect((await introspect('bob', access_token)).json).toMatchObject({ active: true });
    expect((await revoke('ops', access_token)).status).toBe(200);
    expect((await introspect('bob', access_token)).json).toEqual({ active: false });
  });

  it('missing token is invalid_request; no authentication is invalid_client', async () => {
    const missing = await post(`${t.baseUrl}/oauth/revoke`, {}, { authorization: basic('alice', secrets.alice!) });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ error: 'invalid_request', error_description: 'token is required' });
    const anonymous = await post(`${t.baseUrl}/oauth/revoke`, { token: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="latchkey", charset="UTF-8"');
  });
});
