import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { get } from './http.js';

const ISSUER = 'https://auth.latchkey.test/';
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ issuer: ISSUER });
});
afterAll(async () => {
  await t.close();
});

const METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth'];
/** private_key_jwt: every algorithm a registered key can sign assertions with (never none, never HMAC). */
const ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'];

describe('RFC 8414 metadata', () => {
  it('describes the server, every URL built from the issuer', async () => {
    const res = await get(`${t.baseUrl}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json).toEqual({
      issuer: ISSUER,
      token_endpoint: 'https://auth.latchkey.test/oauth/token',
      jwks_uri: 'https://auth.latchkey.test/.well-known/jwks.json',
      introspection_endpoint: 'https://auth.latchkey.test/oauth/introspect',
      revocation_endpoint: 'https://auth.latchkey.test/oauth/revoke',
      grant_types_supported: ['client_credentials'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: METHODS,
      token_endpoint_auth_signing_alg_values_supported: ALGS,
      introspection_endpoint_auth_methods_supported: METHODS,
      introspection_endpoint_auth_signing_alg_values_supported: ALGS,
      revocation_endpoint_auth_methods_supported: METHODS,
      revocation_endpoint_auth_signing_alg_values_supported: ALGS,
      tls_client_certificate_bound_access_tokens: true,
      access_token_signing_alg_values_supported: ['ES256'],
    });
  });
});

describe('JWKS', () => {
  it('publishes the public signing key only, briefly cacheable', async () => {
    const res = await get(`${t.baseUrl}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    const { keys } = res.json as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty('d');
  });
});

describe('operations', () => {
  it('/healthz is 200 {"status":"ok"} while ready', async () => {
    const res = await get(`${t.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('/metrics is Prometheus text with the token counter', async () => {
    const secret = t.createClient('metrics-1', 'mqtt:publish:x');
    await t.token('metrics-1', secret);
    const res = await get(`${t.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^latchkey_tokens_issued_total\{channel="http"\} 1$/m);
  });
});
