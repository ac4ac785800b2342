import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/keys/key_ring.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { basic, get, headerOf, post } from './http.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ authFailureLimit: '1000' });
});
afterAll(async () => {
  await t.close();
});

const tokenStatus = async (id: string, secret: string) =>
  (await post(`${t.baseUrl}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(id, secret) })).status;

describe('client secret rotation', () => {
  it('the old secret works during the grace period, and both keep working until it ends', async () => {
    const first = t.createClient('rot-grace', 'mqtt:publish:x');
    const { client_secret: second } = t.server.registry.rotateSecret('rot-grace', 3600, 'test');
    expect(await tokenStatus('rot-grace', first)).toBe(200);
    expect(await tokenStatus('rot-grace', second)).toBe(200);
  });

  it('a rotation with grace 0 stops every old secret at once', async () => {
    const first = t.createClient('rot-now', 'mqtt:publish:x');
    const { client_secret: second } = t.server.registry.rotateSecret('rot-now', 3600, 'test');
    const { client_secret: third } = t.server.registry.rotateSecret('rot-now', 0, 'test');
    expect(await tokenStatus('rot-now', first)).toBe(401);
    expect(await tokenStatus('rot-now', second)).toBe(401);
    expect(await tokenStatus('rot-now', third)).toBe(200);
  });

  it('a grace period ends on time', async () => {
    const first = t.createClient('rot-short', 'mqtt:publish:x');
    t.server.registry.rotateSecret('rot-short', 1, 'test');
    expect(await tokenStatus('rot-short', first)).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await tokenStatus('rot-short', first)).toBe(401);
  });
});

describe('signing key rotation', () => {
  it('new tokens carry the new kid, JWKS lists both keys, and an old token still introspects active', async () => {
    const secret = t.createClient('rot-keys', 'mqtt:publish:x');
    const before = await t.token('rot-keys', secret);
    const oldKid = headerOf(before.access_token).kid;
    expect(((await get(`${t.baseUrl}/.well-known/jwks.json`)).json as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([oldKid]);

    const { kid: newKid } = await rotateSigningKey(t.server.store, t.server.store.longestTokenTtl());
    // The server applies the change through its change feed; give it up to a second.
    let kids: string[] = [];
    for (let i = 0; i < 20; i++) {
      kids = ((await get(`${t.baseUrl}/.well-known/jwks.json`)).json as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      if (kids.includes(newKid)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(kids.sort()).toEqual([oldKid, newKid].sort());

    const after = await t.token('rot-keys', secret);
    expect(headerOf(after.access_token).kid).toBe(newKid);
    const introspect = (token: string) =>
      post(`${t.baseUrl}/oauth/introspect`, { token }, { authorization: basic('rot-keys', secret) });
    expect((await introspect(before.access_token)).json).toMatchObject({ active: true, client_id: 'rot-keys' });
    expect((await introspect(after.access_token)).json).toMatchObject({ active: true, client_id: 'rot-keys' });
  });
});
