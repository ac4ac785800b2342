import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { assertionForm, clientAssertion, JWT_BEARER } from '../helpers/mtls.js';
import { basic, claimsOf, invalidClientBody, post } from './http.js';

const SCOPE = 'mqtt:publish:sensors/{client_id}/#';

let t: TestServer;
let tokenUrl: string;
let issuer: string;
const keys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();

/** Registers a private_key_jwt client with a fresh key of the given type, as `client create --jwk` would. */
function jwtClient(id: string, type: 'ec' | 'ed25519' | 'rsa' = 'ec'): KeyObject {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  keys.set(id, pair);
  t.server.registry.create(
    { id, scope: SCOPE, authMethod: 'private_key_jwt', publicJwk: JSON.stringify(pair.publicKey.export({ format: 'jwk' })) },
    'test',
  );
  return pair.privateKey;
}

beforeAll(async () => {
  // Many refusals from one address on purpose: keep the brute-force throttle (tested elsewhere) out of the way.
  t = await startTestServer({ authFailureLimit: '1000' });
  issuer = t.server.config.issuer;
  tokenUrl = `${issuer.replace(/\/+$/, '')}/oauth/token`;
});
afterAll(async () => {
  await t?.close();
});

describe('private_key_jwt at the token endpoint (RFC 7523 §2.2)', () => {
  it('issues a token for an ES256 assertion with aud = token endpoint, and for aud = issuer', async () => {
    const key = jwtClient('pkj-ok');
    for (const aud of [tokenUrl, issuer]) {
      const res = await post(`${t.baseUrl}/oauth/token`, assertionForm(await clientAssertion(key, 'pkj-ok', tokenUrl, { aud })));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = res.json as { access_token: string; scope: string; token_type: string };
      expect(body.token_type).toBe('Bearer');
      expect(body.scope).toBe(SCOPE);
      expect(claimsOf(body.access_token)).toMatchObject({ sub: 'pkj-ok', client_id: 'pkj-ok' });
      // Over plain HTTP there is no certificate to bind to.
      expect(claimsOf(body.access_token)).not.toHaveProperty('cnf');
    }
  });

  it.each([
    ['ed25519', 'EdDSA'],
    ['rsa', 'PS256'],
    ['rsa', 'RS256'],
  ] as const)('accepts a %s key signing with %s', async (type, alg) => {
    const id = `pkj-${type}-${alg.toLowerCase()}`;
    const key = jwtClient(id, type);
    const res = await post(`${t.baseUrl}/oauth/token`, assertionForm(await clientAssertion(key, id, tokenUrl, {}, alg)));
    expect(res.status).toBe(200);
  });

  it('refuses the same jti twice (replay) with invalid_client', async () => {
    const key = jwtClient('pkj-replay');
    const assertion = await clientAssertion(key, 'pkj-replay', tokenUrl, { jti: 'once-only' });
    expect((await post(`${t.baseUrl}/oauth/token`, assertionForm(assertion))).status).toBe(200);
    const replay = await post(`${t.baseUrl}/oauth/token`, assertionForm(assertion));
    expect(replay.status).toBe(401);
    expect(replay.json).toEqual(invalidClientBody('pkj-replay'));
    t.server.audit.flush();
    expect(t.auditEvents({ event: 'token.refused', principal: 'pkj-replay', limit: 100 }).map((e) => e.reason)).toContain(
      'invalid_client: assertion replayed (jti already used)',
    );
    // A new assertion reusing the jti is a replay too.
    const reused = await post(`${t.baseUrl}/oauth/token`, assertionForm(await clientAssertion(key, 'pkj-replay', tokenUrl, { jti: 'once-only' })));
    expect(reused.status).toBe(401);
  });

  describe('refusals, each invalid_client 401', () => {
    const now = () => Math.floor(Date.now() / 1000);
    // `why` is the private reason the audit log records: each case is refused by its own check.
    const cases: { name: string; why: RegExp; build: (key: KeyObject, id: string) => Promise<Record<string, string>> }[] = [
      { name: 'wrong-audience', why: /ERR_JWT_CLAIM_VALIDATION_FAILED.*aud/, build: async (k, id) => assertionForm(await clientAssertion(k, id, tokenUrl, { aud: 'https://elsewhere.example/token' })) },
      { name: 'expired', why: /ERR_JWT_EXPIRED/, build: async (k, id) => assertionForm(await clientAssertion(k, id, tokenUrl, { exp: now() - 60, iat: now() - 120 })) },
      { name: 'no-exp', why: /ERR_JWT_CLAIM_VALIDATION_FAILED.*exp/, build: async (k, id) => assertionForm(await clientAssertion(k, id, tokenUrl, { exp: null })) },
      { name: 'exp-an-hour-ahead', why: /more than 300s ahead/, build: async (k, id) => assertionForm(await clientAssertion(k, id, tokenUrl, { exp: now() + 3600 })) },
      { name: 'no-jti', why: /ERR_JWT_CLAIM_VALIDATION_FAILED.*jti/, build: async (k, id) => assertionForm(await clientAssertion(k, id, tokenUrl, { jti: null })) },
      { name: 'iss-not-the-client', why: /ERR_JWT_CLAIM_VALIDATION_FAILED.*iss/, build: async (k, id) => assertionForm(await clientAssertion(k, id, tokenUrl, { iss: 'someone-else' })) },
      {
        name: 'signed-by-another-key',
        why: /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
        build: async (_k, id) => assertionForm(await clientAssertion(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, id, tokenUrl)),
      },
      {
        name: 'alg-that-does-not-fit-the-key (ES384 with a P-256 registration)',
        why: /ERR_JOSE_ALG_NOT_ALLOWED/,
        build: async (_k, id) => assertionForm(await clientAssertion(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, id, tokenUrl, {}, 'ES384')),
      },
      { name: 'unknown-client', why: /unknown client/, build: async (k) => assertionForm(await clientAssertion(k, 'pkj-nobody', tokenUrl)) },
      { name: 'not-a-jwt', why: /not a JWT/, build: async () => assertionForm('not.a.jwt') },
      {
        name: 'unsupported-assertion-type',
        why: /unsupported client_assertion_type/,
        build: async (k, id) => ({ ...assertionForm(await clientAssertion(k, id, tokenUrl)), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }),
      },
    ];
    it.each(cases)('$name', async ({ name, why, build }) => {
      const id = `pkj-r-${cases.findIndex((c) => c.name === name)}`;
      const key = jwtClient(id);
      const since = Date.now();
      const res = await post(`${t.baseUrl}/oauth/token`, await build(key, id));
      expect(res.status).toBe(401);
      // Refused while reading the assertion, no client id was claimed; otherwise the sub is echoed.
      const claimed = name === 'unknown-client' ? 'pkj-nobody' : ['not-a-jwt', 'unsupported-assertion-type'].includes(name) ? undefined : id;
      expect(res.json).toEqual(invalidClientBody(claimed));
      t.server.audit.flush();
      const reasons = t.auditEvents({ event: 'token.refused', since, limit: 100 }).map((e) => e.reason ?? '');
      expect(reasons.some((r) => why.test(r))).toBe(true);
    });
  });

  it('one method per client: a secret client cannot use an assertion, nor a key client a secret', async () => {
    const secret = t.createClient('pkj-secret-client', SCOPE);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const wrongMethod = await post(`${t.baseUrl}/oauth/token`, assertionForm(await clientAssertion(stranger, 'pkj-secret-client', tokenUrl)));
    expect(wrongMethod.status).toBe(401);
    expect(wrongMethod.json).toEqual(invalidClientBody('pkj-secret-client'));

    jwtClient('pkj-key-client');
    const withSecret = await post(
      `${t.baseUrl}/oauth/token`,
      { grant_type: 'client_credentials' },
      { authorization: basic('pkj-key-client', secret) },
    );
    expect(withSecret.status).toBe(401);
    expect(withSecret.json).toEqual(invalidClientBody('pkj-key-client'));
  });

  it('two methods at once (assertion and Basic) is invalid_client, even when each would pass', async () => {
    const secret = t.createClient('pkj-two', SCOPE);
    const key = jwtClient('pkj-two-key');
    const res = await post(
      `${t.baseUrl}/oauth/token`,
      assertionForm(await clientAssertion(key, 'pkj-two-key', tokenUrl)),
      { authorization: basic('pkj-two', secret) },
    );
    expect(res.status).toBe(401);
    expect(res.json).toEqual(invalidClientBody());
  });

  it('a client_id naming another client than the assertion is invalid_request', async () => {
    const key = jwtClient('pkj-cid');
    const res = await post(`${t.baseUrl}/oauth/token`, assertionForm(await clientAssertion(key, 'pkj-cid', tokenUrl), { client_id: 'pkj-other' }));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_request' });
  });

  it('a client_assertion without its type is invalid_request', async () => {
    const key = jwtClient('pkj-notype');
    const res = await post(`${t.baseUrl}/oauth/token`, { grant_type: 'client_credentials', client_assertion: await clientAssertion(key, 'pkj-notype', tokenUrl) });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_request' });
  });

  it('introspection accepts private_key_jwt too (aud = issuer)', async () => {
    const key = jwtClient('pkj-intro');
    const token = (await post(`${t.baseUrl}/oauth/token`, assertionForm(await clientAssertion(key, 'pkj-intro', tokenUrl)))).json as { access_token: string };
    const res = await post(`${t.baseUrl}/oauth/introspect`, {
      token: token.access_token,
      client_assertion_type: JWT_BEARER,
      client_assertion: await clientAssertion(key, 'pkj-intro', tokenUrl, { aud: issuer }),
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ active: true, client_id: 'pkj-intro' });
  });
});

describe('replay protection survives a restart', () => {
  it('a jti seen before the restart is still refused after it', async () => {
    const first = await startTestServer();
    let second: TestServer | null = null;
    try {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      first.server.registry.create(
        { id: 'pkj-restart', scope: SCOPE, authMethod: 'private_key_jwt', publicJwk: JSON.stringify(pair.publicKey.export({ format: 'jwk' })) },
        'test',
      );
      const url = `${first.server.config.issuer}/oauth/token`;
      const assertion = await clientAssertion(pair.privateKey, 'pkj-restart', url);
      expect((await post(`${first.baseUrl}/oauth/token`, assertionForm(assertion))).status).toBe(200);
      await first.server.close();
      second = await startTestServer({ dataDir: first.dataDir, certsDir: first.certsDir });
      const replay = await post(`${second.baseUrl}/oauth/token`, assertionForm(assertion));
      expect(replay.status).toBe(401);
      expect(replay.json).toEqual(invalidClientBody('pkj-restart'));
    } finally {
      await second?.close();
      await first.close();
    }
  });
});
