import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedAt, closedWithin, connect, eventually, refusalCode, sleep, subscribeCodes } from '../helpers/mqtt.js';

let lk: TestServer;

beforeAll(async () => {
  lk = await startTestServer();
  lk.createClient('t1', 'mqtt:publish:home/{client_id}/telemetry');
});
afterAll(() => lk.close());

const people = () => lk.server.people;

/** Connects as a person or integration: username = name, password = PAT or API key. */
function connectAs(name: string, secret: string, clientId = name) {
  return connect(lk.mqttUrl, { clientId, username: name, password: secret });
}

function lastConnectRefusal(principal: string): string | null {
  lk.server.audit.flush();
  return lk.auditEvents({ principal, event: 'mqtt.connect', limit: 1 })[0]?.reason ?? null;
}

function retype(token: string, i: number): string {
  return token.slice(0, i) + (token[i] === 'x' ? 'y' : 'x') + token.slice(i + 1);
}

describe('MQTT with personal access tokens (docs/INTERFACE.md#people-and-integrations)', () => {
  test('a PAT connects as its user, with client id = name or name@suffix, and gets only its own scopes', async () => {
    people().users.create({ name: 'alice', scope: 'mqtt:subscribe:home/# mqtt:publish:home/+/setpoint' }, 'test');
    const { token } = people().pats.create({ user: 'alice', name: 'laptop', scope: 'mqtt:subscribe:home/+/telemetry' }, 'test');
    const plain = await connectAs('alice', token);
    const laptop = await connectAs('alice', token, 'alice@laptop');
    // The user may subscribe to home/#, but this token was given only home/+/telemetry.
    expect(await subscribeCodes(laptop, ['home/t1/telemetry', 'home/#'])).toEqual([1, 128]);
    expect(lk.server.broker.sessions().find((s) => s.client_id === 'alice@laptop')).toMatchObject({ principal: 'alice', kind: 'user', method: 'pat' });
    await Promise.all([plain.endAsync(), laptop.endAsync()]);
  });

  test('a person cannot take over a device\'s client id: CONNACK 2', async () => {
    people().users.create({ name: 'mallory' }, 'test');
    const { token } = people().pats.create({ user: 'mallory', name: 'x', scope: 'mqtt:subscribe:home/#' }, 'test');
    expect(await refusalCode(connectAs('mallory', token, 't1'))).toBe(2);
    expect(await refusalCode(connectAs('mallory', token, 'mallory@'))).toBe(2);
    expect(await refusalCode(connectAs('mallory', token, 'alice@laptop'))).toBe(2);
  });

  test('username must be the token\'s user: CONNACK 4', async () => {
    people().users.create({ name: 'bob' }, 'test');
    const { token } = people().pats.create({ user: 'bob', name: 'x', scope: 'mqtt:subscribe:home/#' }, 'test');
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 'alice', username: 'alice', password: token }))).toBe(4);
  });

  test('a typo is refused by its checksum, before any lookup', async () => {
    people().users.create({ name: 'typo' }, 'test');
    const { token } = people().pats.create({ user: 'typo', name: 'x', scope: 'mqtt:subscribe:home/#' }, 'test');
    expect(await refusalCode(connectAs('typo', retype(token, 20)))).toBe(4);
    // The audit row is written just after the CONNACK: wait for it rather than for a fixed time.
    await eventually(() => lastConnectRefusal('typo') !== null, 5000, 'audited refusal');
    expect(lastConnectRefusal('typo')).toBe('malformed personal access token: checksum');
    const { key } = people().apiKeys.create({ name: 'typo-key', scope: 'mqtt:subscribe:home/#' }, 'test');
    expect(await refusalCode(connectAs('typo-key', retype(key, 20)))).toBe(4);
    await eventually(() => lastConnectRefusal('typo-key') !== null, 5000, 'audited refusal');
    expect(lastConnectRefusal('typo-key')).toBe('malformed API key: checksum');
  });

  test('revoking the PAT ends its live session within 1 s; the user\'s other tokens keep working', async () => {
    people().users.create({ name: 'carol' }, 'test');
    const a = people().pats.create({ user: 'carol', name: 'a', scope: 'mqtt:subscribe:home/#' }, 'test');
    const b = people().pats.create({ user: 'carol', name: 'b', scope: 'mqtt:subscribe:home/#' }, 'test');
    const onA = await connectAs('carol', a.token, 'carol@a');
    const onB = await connectAs('carol', b.token, 'carol@b');
    people().pats.revoke(a.id, 'test');
    expect(await closedWithin(onA, 1000)).toBeLessThanOrEqual(1000);
    await sleep(200);
    expect(onB.connected).toBe(true);
    expect(await refusalCode(connectAs('carol', a.token, 'carol@a'))).toBe(5);
    await onB.endAsync();
  });

  test('an expiring PAT ends its session within 1 s of its expiry', async () => {
    people().users.create({ name: 'dave' }, 'test');
    const { token, expires_at } = people().pats.create({ user: 'dave', name: 'short', scope: 'mqtt:subscribe:home/#', expiresIn: 2 }, 'test');
    const client = await connectAs('dave', token);
    const lateBy = (await closedAt(client)) - Date.parse(expires_at!);
    expect(lateBy).toBeGreaterThanOrEqual(0);
    expect(lateBy).toBeLessThan(1000);
    expect(await refusalCode(connectAs('dave', token))).toBe(4);
  });

  test('disabling the user ends every session on any of their tokens within 1 s', async () => {
    people().users.create({ name: 'erin' }, 'test');
    const a = people().pats.create({ user: 'erin', name: 'a', scope: 'mqtt:subscribe:home/#' }, 'test');
    const b = people().pats.create({ user: 'erin', name: 'b', scope: 'mqtt:subscribe:home/#' }, 'test');
    const clients = [await connectAs('erin', a.token, 'erin@a'), await connectAs('erin', b.token, 'erin@b')];
    people().users.setStatus('erin', 'disabled', 'test');
    const disabledAt = Date.now();
    for (const c of clients) expect(await closedWithin(c, 1000, disabledAt)).toBeLessThanOrEqual(1000);
    expect(await refusalCode(connectAs('erin', a.token))).toBe(5);
  });

  test('narrowing the user narrows live PAT sessions: subscriptions no longer allowed are dropped', async () => {
    people().users.create({ name: 'frank', scope: 'mqtt:subscribe:home/#' }, 'test');
    const { token } = people().pats.create({ user: 'frank', name: 'a', scope: 'mqtt:subscribe:home/#' }, 'test');
    const client = await connectAs('frank', token);
    expect(await subscribeCodes(client, ['home/t1/telemetry'])).toEqual([1]);
    people().users.setScope('frank', 'mqtt:subscribe:office/#', 'test');
    // The narrowing reaches the live session through the change feed: poll for it, no fixed sleep.
    await eventually(async () => (await subscribeCodes(client, ['home/t1/telemetry']))[0] === 128, 5000, 'narrowed subscribe');
    expect(await subscribeCodes(client, ['home/t1/telemetry'])).toEqual([128]);
    await client.endAsync();
  });
});

describe('MQTT with API keys (docs/INTERFACE.md#people-and-integrations)', () => {
  test('an API key connects as its name with exactly its scopes', async () => {
    const { key } = people().apiKeys.create({ name: 'bridge', scope: 'mqtt:subscribe:home/+/telemetry' }, 'test');
    const client = await connectAs('bridge', key, 'bridge@eu-1');
    expect(await subscribeCodes(client, ['home/t1/telemetry', 'home/t1/setpoint'])).toEqual([1, 128]);
    expect(await refusalCode(connectAs('bridge', key, 't1'))).toBe(2);
    await client.endAsync();
  });

  test('roll with a grace: the old key works during the grace, its session ends within 1 s of the grace end, then it is refused', async () => {
    const { key: oldKey } = people().apiKeys.create({ name: 'rolling', scope: 'mqtt:subscribe:home/#' }, 'test');
    const onOld = await connectAs('rolling', oldKey, 'rolling@old');
    const rolled = people().apiKeys.roll('rolling', 2, 'test');
    expect(rolled.key).not.toBe(oldKey);
    await sleep(300);
    expect(onOld.connected).toBe(true);
    // Still inside the grace: the old key connects.
    const again = await connectAs('rolling', oldKey, 'rolling@again');
    const onNew = await connectAs('rolling', rolled.key, 'rolling@new');
    const lateBy = (await closedAt(onOld)) - Date.parse(rolled.previous_expires_at);
    expect(lateBy).toBeGreaterThanOrEqual(0);
    expect(lateBy).toBeLessThan(1000);
    await closedWithin(again, 500);
    expect(await refusalCode(connectAs('rolling', oldKey))).toBe(4);
    expect(onNew.connected).toBe(true);
    await onNew.endAsync();
  });

  test('deleting the key ends its sessions within 1 s', async () => {
    const { key } = people().apiKeys.create({ name: 'doomed', scope: 'mqtt:subscribe:home/#' }, 'test');
    const client = await connectAs('doomed', key);
    people().apiKeys.delete('doomed', 'test');
    expect(await closedWithin(client, 1000)).toBeLessThanOrEqual(1000);
    expect(await refusalCode(connectAs('doomed', key))).toBe(4);
  });

  test('last use over MQTT is recorded: time and address', async () => {
    const { key } = people().apiKeys.create({ name: 'used', scope: 'mqtt:subscribe:home/#' }, 'test');
    expect(people().apiKeys.show('used').last_used_at).toBeNull();
    const client = await connectAs('used', key);
    const view = people().apiKeys.show('used');
    expect(Date.now() - Date.parse(view.last_used_at!)).toBeLessThan(5000);
    expect(view.last_used_addr).toMatch(/127\.0\.0\.1/);
    await client.endAsync();
  });
});
