import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSecret, hashSecret } from '../../src/keys/secrets.js';
import { listLiveTokens } from '../../src/registry/tokens.js';
import { VOIDED_BY_SECRET_ROTATION } from '../../src/tokens/credential_floor.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, collect, connectDevice, eventually, refusalCode, sleep, subscribeCodes } from '../helpers/mqtt.js';
import { basic, claimsOf, post } from '../oauth/http.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry';

let lk: TestServer;
let opsSecret: string;

beforeAll(async () => {
  lk = await startTestServer({ authFailureLimit: '1000' });
  opsSecret = lk.createClient('rot-ops', 'admin:write');
});
afterAll(() => lk.close());

const introspect = async (token: string) =>
  ((await post(`${lk.baseUrl}/oauth/introspect`, { token }, { authorization: basic('rot-ops', opsSecret) })).json as { active: boolean }).active;

/** A token of `id` whose second of issue is over, so a change made now is strictly after its `iat`. */
async function settledToken(id: string, secret: string): Promise<string> {
  const { access_token } = await lk.token(id, secret);
  const iat = claimsOf(access_token).iat as number;
  while (Math.floor(Date.now() / 1000) <= iat) await sleep(50);
  return access_token;
}

/** A device session listening on its own `$auth` topics. */
async function device(id: string, token: string): Promise<{ client: MqttClient; seen: ReturnType<typeof collect> }> {
  const client = await connectDevice(lk.mqttUrl, id, token);
  const seen = collect(client);
  expect(await subscribeCodes(client, [`$auth/${id}/#`])).toEqual([1]);
  return { client, seen };
}

const answer = (seen: ReturnType<typeof collect>, id: string, requestId: string) => {
  const found = seen.find((m) => m.topic === `$auth/${id}/token/response` && JSON.parse(m.payload).request_id === requestId);
  return found ? (JSON.parse(found.payload) as Record<string, unknown>) : undefined;
};

describe('a retired client secret leaves no token behind', () => {
  test('rotate-secret with grace 0 ends a session on an old-secret token within 1 s; it gets no renewal, no reconnect, no active introspection, no place in token list', async () => {
    const oldSecret = lk.createClient('leaky', SCOPE, { tokenTtl: 600 });
    const oldToken = await settledToken('leaky', oldSecret);
    const { client, seen } = await device('leaky', oldToken);

    const rotatedAt = Date.now();
    const { client_secret: newSecret } = lk.server.registry.rotateSecret('leaky', 0, 'test');
    // The attacker's move: renew on the session's authority before the broker acts.
    client.publish('$auth/leaky/token/request', JSON.stringify({ request_id: 'late' }));
    await closedWithin(client, 2000);
    expect(Date.now() - rotatedAt).toBeLessThan(1000);
    expect(seen.some((m) => m.payload.includes('access_token'))).toBe(false);
    expect(lk.auditEvents({ principal: 'leaky', event: 'token.issued', limit: 100 }).filter((e) => e.detail?.channel === 'mqtt')).toEqual([]);
    expect(lk.auditEvents({ principal: 'leaky', event: 'mqtt.disconnected_by_broker', limit: 1 })[0]?.reason).toBe(VOIDED_BY_SECRET_ROTATION);

    expect(await refusalCode(connectDevice(lk.mqttUrl, 'leaky', oldToken))).toBe(5);
    expect(await introspect(oldToken)).toBe(false);
    lk.server.issuedTokens.flush();
    expect(listLiveTokens(lk.server.store, { clientId: 'leaky' }).map((t) => t.jti)).not.toContain(claimsOf(oldToken).jti);
    // The device with the new secret carries on.
    const fresh = await connectDevice(lk.mqttUrl, 'leaky', (await lk.token('leaky', newSecret)).access_token);
    await fresh.endAsync();
  });

  test('renewal reads the secret state afresh: a rotation the broker has not applied yet already refuses it', async () => {
    const secret = lk.createClient('unseen', SCOPE, { tokenTtl: 600 });
    const { client, seen } = await device('unseen', await settledToken('unseen', secret));
    // Written without a change-feed entry, as a rotation by another process looks until the next poll.
    const now = Date.now();
    lk.server.store.durably(() => lk.server.store.clients.replaceSecret('unseen', hashSecret(generateSecret()), now, now));
    client.publish('$auth/unseen/token/request', JSON.stringify({ request_id: 'r1' }));
    await eventually(() => answer(seen, 'unseen', 'r1') !== undefined);
    expect(answer(seen, 'unseen', 'r1')).toEqual({ request_id: 'r1', error: 'invalid_grant', error_description: VOIDED_BY_SECRET_ROTATION });
    await client.endAsync();
  });

  test('with a grace, renewal works during it; when it ends the session ends and every token issued before stops counting', async () => {
    const oldSecret = lk.createClient('graceful', SCOPE, { tokenTtl: 600 });
    const { client, seen } = await device('graceful', await settledToken('graceful', oldSecret));

    const { client_secret: newSecret } = lk.server.registry.rotateSecret('graceful', 4, 'test');
    const graceEnds = Date.now() + 4000;
    client.publish('$auth/graceful/token/request', JSON.stringify({ request_id: 'during' }));
    await eventually(() => answer(seen, 'graceful', 'during') !== undefined);
    const renewed = answer(seen, 'graceful', 'during')!.access_token as string;
    expect(typeof renewed).toBe('string');
    expect(await introspect(renewed)).toBe(true);
    expect(client.connected).toBe(true);
    lk.server.issuedTokens.flush();
    expect(listLiveTokens(lk.server.store, { clientId: 'graceful' }).map((t) => t.jti)).toContain(claimsOf(renewed).jti);

    await closedWithin(client, graceEnds - Date.now() + 2500);
    const closedAt = Date.now();
    // Effective from the start of the grace end's second (iat is whole seconds), and within 1 s of it.
    expect(closedAt).toBeGreaterThanOrEqual(Math.floor(graceEnds / 1000) * 1000 - 50);
    expect(closedAt - graceEnds).toBeLessThan(1000);
    expect(lk.auditEvents({ principal: 'graceful', event: 'mqtt.disconnected_by_broker', limit: 1 })[0]?.reason).toBe(VOIDED_BY_SECRET_ROTATION);

    expect(await refusalCode(connectDevice(lk.mqttUrl, 'graceful', renewed))).toBe(5);
    expect(await introspect(renewed)).toBe(false);
    expect(listLiveTokens(lk.server.store, { clientId: 'graceful' }).map((t) => t.jti)).not.toContain(claimsOf(renewed).jti);
    const fresh = await connectDevice(lk.mqttUrl, 'graceful', (await lk.token('graceful', newSecret)).access_token);
    await fresh.endAsync();
  });

  test('a second rotation during a grace moves its end, and an ended grace stays ended', async () => {
    const first = lk.createClient('twice', SCOPE, { tokenTtl: 600 });
    const early = await settledToken('twice', first);
    lk.server.registry.rotateSecret('twice', 1, 'test');
    await sleep(1100);
    // The first grace is over: tokens from before it are void, also while a later grace runs.
    const { client_secret: second } = lk.server.registry.rotateSecret('twice', 60, 'test');
    expect(await refusalCode(connectDevice(lk.mqttUrl, 'twice', early))).toBe(5);
    expect(await introspect(early)).toBe(false);
    const duringGrace = await lk.token('twice', second);
    const client = await connectDevice(lk.mqttUrl, 'twice', duringGrace.access_token);
    await client.endAsync();
  });
});
