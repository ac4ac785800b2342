import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedAt, closedWithin, collect, connackCode, connectDevice, eventually, refusalCode, sleep, subscribeCodes } from '../helpers/mqtt.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';

let lk: TestServer;

beforeAll(async () => {
  lk = await startTestServer({ expiryWarning: '2s' });
});
afterAll(() => lk.close());

describe('session lifecycle (docs/INTERFACE.md#mqtt)', () => {
  test('the broker disconnects a session within 1 s of its token expiry, after warning on $auth/<id>/expiring', async () => {
    const secret = lk.createClient('short', SCOPE, { tokenTtl: 3 });
    const { access_token } = await lk.token('short', secret);
    const exp = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).exp as number;
    const client = await connectDevice(lk.mqttUrl, 'short', access_token);
    const seen = collect(client);
    expect(await subscribeCodes(client, ['$auth/short/#'])).toEqual([1]);
    const lateBy = (await closedAt(client)) / 1000 - exp;
    expect(lateBy).toBeLessThan(1);
    const warning = seen.find((m) => m.topic === '$auth/short/expiring');
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!.payload)).toMatchObject({ exp });
    const audit = lk.auditEvents({ principal: 'short', event: 'mqtt.disconnected_by_broker', limit: 1 });
    expect(audit[0]?.reason).toBe('jwt expired');
  });

  test('renewal over $auth/<id>/token/request keeps the session past the first token expiry', async () => {
    const secret = lk.createClient('renewer', SCOPE, { tokenTtl: 3 });
    const { access_token } = await lk.token('renewer', secret);
    const firstExp = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).exp as number;
    const client = await connectDevice(lk.mqttUrl, 'renewer', access_token);
    const seen = collect(client);
    client.on('message', (topic) => {
      if (topic === '$auth/renewer/expiring') client.publish('$auth/renewer/token/request', JSON.stringify({ request_id: 'r1' }));
    });
    await subscribeCodes(client, ['$auth/renewer/#']);
    await eventually(() => seen.some((m) => m.topic === '$auth/renewer/token/response'), 4000, 'token response');
    const response = JSON.parse(seen.find((m) => m.topic === '$auth/renewer/token/response')!.payload);
    expect(response).toMatchObject({ request_id: 'r1', token_type: 'Bearer', expires_in: 3, scope: SCOPE });
    // The request itself, which carries nothing secret here but could, is never delivered back.
    expect(seen.some((m) => m.topic === '$auth/renewer/token/request')).toBe(false);
    await sleep(Math.max(0, (firstExp + 0.8) * 1000 - Date.now()));
    expect(client.connected).toBe(true);
    await client.publishAsync('home/renewer/telemetry', 'alive', { qos: 1 });
    await client.endAsync();
  });

  test('reauth with a token obtained elsewhere becomes the session credential', async () => {
    const secret = lk.createClient('reauther', SCOPE, { tokenTtl: 30 });
    const client = await connectDevice(lk.mqttUrl, 'reauther', (await lk.token('reauther', secret)).access_token);
    const seen = collect(client);
    await subscribeCodes(client, ['$auth/reauther/#']);
    const narrower = await lk.token('reauther', secret, 'mqtt:publish:home/{client_id}/telemetry');
    client.publish('$auth/reauther/reauth', JSON.stringify({ request_id: 'x', access_token: narrower.access_token }));
    await eventually(() => seen.some((m) => m.topic === '$auth/reauther/reauth/response'));
    expect(JSON.parse(seen.find((m) => m.topic === '$auth/reauther/reauth/response')!.payload)).toMatchObject({ request_id: 'x', ok: true });
    // Scopes were replaced: the setpoint subscription is no longer allowed.
    expect(await subscribeCodes(client, ['home/reauther/setpoint'])).toEqual([128]);
    client.publish('$auth/reauther/reauth', JSON.stringify({ request_id: 'y', access_token: 'forged.token.value' }));
    await sleep(1100);
    client.publish('$auth/reauther/reauth', JSON.stringify({ request_id: 'z', access_token: 'forged.token.value' }));
    await eventually(() => seen.some((m) => m.topic === '$auth/reauther/reauth/response' && JSON.parse(m.payload).request_id === 'z'));
    expect(JSON.parse(seen.find((m) => JSON.parse(m.payload).request_id === 'z')!.payload).error).toBeDefined();
    await client.endAsync();
  });

  test('reauth refuses a token issued before the client changed its auth method', async () => {
    const oldSecret = lk.createClient('remover', SCOPE, { tokenTtl: 60 });
    const before = (await lk.token('remover', oldSecret)).access_token;
    const iat = JSON.parse(Buffer.from(before.split('.')[1]!, 'base64url').toString()).iat as number;
    while (Math.floor(Date.now() / 1000) <= iat) await sleep(50); // iat is whole seconds
    lk.server.registry.setAuthMethod('remover', 'tls_client_auth', {}, 'test');
    const { client_secret } = lk.server.registry.setAuthMethod('remover', 'client_secret_basic', {}, 'test');
    const client = await connectDevice(lk.mqttUrl, 'remover', (await lk.token('remover', client_secret!)).access_token);
    const seen = collect(client);
    await subscribeCodes(client, ['$auth/remover/#']);
    client.publish('$auth/remover/reauth', JSON.stringify({ request_id: 'old', access_token: before }));
    await eventually(() => seen.some((m) => m.topic === '$auth/remover/reauth/response'));
    expect(JSON.parse(seen.find((m) => m.topic === '$auth/remover/reauth/response')!.payload)).toEqual({
      request_id: 'old',
      error: 'invalid_grant',
      error_description: 'token issued before the client changed its auth method',
    });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  test('a revocation made by the CLI in another process ends the live session within 1 s', async () => {
    const secret = lk.createClient('victim', SCOPE);
    const client = await connectDevice(lk.mqttUrl, 'victim', (await lk.token('victim', secret)).access_token);
    const result = await runCli(['client', 'disable', 'victim', '--data-dir', lk.dataDir, '--certs-dir', lk.certsDir]);
    // The change is committed by the time the CLI returns: the second starts there, not before its start-up.
    const committedAt = Date.now();
    expect(result.code).toBe(0);
    await closedWithin(client, 1000, committedAt);
  });

  test('a token already verified once is still refused after its revocation', async () => {
    const secret = lk.createClient('returning', SCOPE);
    const { access_token } = await lk.token('returning', secret);
    const first = await connectDevice(lk.mqttUrl, 'returning', access_token);
    await first.endAsync();
    const jti = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).jti as string;
    expect((await lk.cli('token', 'revoke', jti)).code).toBe(0);
    // The server applies a change made by another process within one poll (100 ms); poll for it, do not sleep a guess.
    await eventually(async () => (await connackCode(connectDevice(lk.mqttUrl, 'returning', access_token))) === 5, 5000, 'CONNACK 5');
    expect(await refusalCode(connectDevice(lk.mqttUrl, 'returning', access_token))).toBe(5);
  });

  test('a token revoked over HTTP ends its live session at once', async () => {
    const secret = lk.createClient('http-revoked', SCOPE);
    const { access_token } = await lk.token('http-revoked', secret);
    const client = await connectDevice(lk.mqttUrl, 'http-revoked', access_token);
    await fetch(`${lk.baseUrl}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`http-revoked:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ token: access_token }),
    });
    // Measured from the answer (the revocation is committed by then), not from before the request left this process.
    await closedWithin(client, 500);
  });
});
