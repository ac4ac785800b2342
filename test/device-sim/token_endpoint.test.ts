import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToken, TokenEndpointError } from '../../device-sim/lib/token_endpoint.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';

describe('fetchToken (client_secret_basic against a real latchkey)', () => {
  let server: TestServer;
  let secret: string;
  let tokenEndpoint: string;

  beforeAll(async () => {
    server = await startTestServer();
    secret = server.createClient('sensor-1', 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint', { tokenTtl: 120 });
    tokenEndpoint = `${server.baseUrl}/oauth/token`;
  });
  afterAll(() => server?.close());

  it('returns the token with its jti, expiry and scope', async () => {
    const before = Date.now();
    const token = await fetchToken({ tokenEndpoint, clientId: 'sensor-1', clientSecret: secret });
    expect(token.value.split('.')).toHaveLength(3);
    expect(token.jti).toMatch(/.+/);
    expect(token.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 119_000);
    expect(token.expiresAt).toBeLessThanOrEqual(Date.now() + 121_000);
    expect(token.scope).toBe('mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint');
  });

  it('asks for a subset of the scopes', async () => {
    const token = await fetchToken({ tokenEndpoint, clientId: 'sensor-1', clientSecret: secret, scope: 'mqtt:publish:home/{client_id}/telemetry' });
    expect(token.scope).toBe('mqtt:publish:home/{client_id}/telemetry');
  });

  it('surfaces RFC 6749 §5.2 errors with their code and status', async () => {
    const rows: Array<{ name: string; clientId: string; clientSecret: string; scope?: string; code: string; status: number; permanent: boolean }> = [
      { name: 'wrong secret', clientId: 'sensor-1', clientSecret: 'not-the-secret', code: 'invalid_client', status: 401, permanent: true },
      { name: 'unknown client', clientId: 'nobody', clientSecret: 'x', code: 'invalid_client', status: 401, permanent: true },
      { name: 'scope not held', clientId: 'sensor-1', clientSecret: '', scope: 'mqtt:subscribe:#', code: 'invalid_scope', status: 400, permanent: true },
    ];
    for (const row of rows) {
      const clientSecret = row.clientSecret === '' ? secret : row.clientSecret;
      const err = await fetchToken({ tokenEndpoint, clientId: row.clientId, clientSecret, ...(row.scope ? { scope: row.scope } : {}) }).catch((e: unknown) => e);
      expect(err, row.name).toBeInstanceOf(TokenEndpointError);
      const e = err as TokenEndpointError;
      expect({ code: e.code, status: e.status, permanent: e.permanent }, row.name).toEqual({ code: row.code, status: row.status, permanent: row.permanent });
      expect(e.message, row.name).not.toContain(clientSecret);
    }
  });

  it('reports an unreachable endpoint as a network error', async () => {
    const err = await fetchToken({ tokenEndpoint: 'http://127.0.0.1:1/oauth/token', clientId: 'sensor-1', clientSecret: secret }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenEndpointError);
    expect((err as TokenEndpointError).code).toBe('network');
    expect((err as TokenEndpointError).status).toBeNull();
  });
});
