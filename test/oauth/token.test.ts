import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';

// A real URL: oauth4webapi checks the metadata's issuer against it (RFC 8414 §3.3).
const ISSUER = 'https://latchkey.test';
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ issuer: ISSUER });
});
afterAll(async () => {
  await t.close();
});

/** Discovers the server with oauth4webapi, then points the endpoints at the test port (the issuer is a fixed name). */
async function discover(): Promise<oauth.AuthorizationServer> {
  const res = await fetch(`${t.baseUrl}/.well-known/oauth-authorization-server`);
  const as = await oauth.processDiscoveryResponse(new URL(ISSUER), res);
  return { ...as, token_endpoint: `${t.baseUrl}/oauth/token`, jwks_uri: `${t.baseUrl}/.well-known/jwks.json` };
}

async function verifyWithServedJwks(token: string) {
  const jwks = createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`));
  return jwtVerify(token, jwks, { issuer: ISSUER, audience: 'urn:latchkey:mqtt', typ: 'at+jwt', algorithms: ['ES256'] });
}

describe('client_credentials with a real OAuth client (oauth4webapi)', () => {
  it.each([
    { method: 'client_secret_basic' as const, auth: oauth.ClientSecretBasic },
    { method: 'client_secret_post' as const, auth: oauth.ClientSecretPost },
  ])('obtains a token with $method and it verifies against the served JWKS', async ({ method, auth }) => {
    const id = `lib-${method.replace(/_/g, '-')}`;
    const { client_secret } = t.server.registry.create(
      { id, scope: 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/+/cmd', authMethod: method },
      'test',
    );
    const as = await discover();
    const client: oauth.Client = { client_id: id };
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth(client_secret!), { scope: 'mqtt:subscribe:home/+/cmd' }, {
      [oauth.allowInsecureRequests]: true,
    });
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    expect(tokens.token_type).toBe('bearer'); // oauth4webapi lower-cases it
    expect(tokens.expires_in).toBe(600);
    expect(tokens.scope).toBe('mqtt:subscribe:home/+/cmd');

    const { payload, protectedHeader } = await verifyWithServedJwks(tokens.access_token);
    const jwks = (await (await fetch(`${t.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(jwks.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
    expect(payload).toMatchObject({ iss: ISSUER, aud: 'urn:latchkey:mqtt', sub: id, client_id: id, scope: 'mqtt:subscribe:home/+/cmd' });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('answers with the RFC 6749 §5.1 body and no-store headers', async () => {
    const secret = t.createClient('plain-1', 'mqtt:publish:a/b');
    const res = await fetch(`${t.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`plain-1:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'mqtt:publish:a/b' });
  });

  it('decodes RFC 6749 §2.3.1 form-encoded Basic credentials', async () => {
    // Every character percent-encoded, as a conforming client may send it; the server must decode both parts.
    const secret = t.createClient('enc.client_1', 'mqtt:publish:x');
    const pct = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const res = await fetch(`${t.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${pct('enc.client_1')}:${pct(secret)}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(res.status).toBe(200);
  });

  it('records the issue in the audit log and the metrics', async () => {
    const secret = t.createClient('audited-1', 'mqtt:publish:x');
    await t.token('audited-1', secret);
    t.server.audit.flush();
    const events = t.auditEvents({ principal: 'audited-1', limit: 10 });
    expect(events.map((e) => e.event)).toContain('token.issued');
  });
});
