/**
 * One change feed across nodes (docs/CLUSTER.md): a change made through one
 * node, or by the CLI on another machine, reaches the live sessions and the
 * keys of every node within a second.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, connectDevice, eventually } from '../helpers/mqtt.js';
import { havePostgres, haveRedis, postgresDatabase, startRedis, type TestDatabase, type TestRedis } from '../helpers/services.js';

const SCOPE = 'mqtt:subscribe:site/{client_id}/#';

describe.skipIf(!havePostgres() || !haveRedis())('changes across nodes (skipped without PostgreSQL and redis-server)', { timeout: spawnTimeout(6) }, () => {
  let db: TestDatabase | null = null;
  let redis: TestRedis | null = null;
  const servers: TestServer[] = [];
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    for (const s of servers.splice(0)) await s.close();
    await redis?.stop();
    await db?.drop();
    db = redis = null;
  });

  async function twoNodes(): Promise<[TestServer, TestServer]> {
    db = await postgresDatabase();
    redis = await startRedis();
    const a = await startTestServer({ store: db.url, cluster: redis.url });
    servers.push(a);
    const b = await startTestServer({ store: db.url, cluster: redis.url });
    servers.push(b);
    return [a, b];
  }

  it('a token revoked through node A (RFC 7009) ends its session on node B within 1 s', async () => {
    const [a, b] = await twoNodes();
    const secret = a.createClient('rev-dev', SCOPE);
    const { access_token } = await a.token('rev-dev', secret);
    const onB = await connectDevice(b.mqttUrl, 'rev-dev', access_token);
    clients.push(onB);
    const revoked = await fetch(`${a.baseUrl}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`rev-dev:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ token: access_token }),
    });
    expect(revoked.status).toBe(200);
    // Counted from the moment node A acknowledged the revocation.
    await closedWithin(onB, 1_000);
  });

  it('`client disable` by the CLI on another machine ends the session on node B within 1 s', async () => {
    const [a, b] = await twoNodes();
    const secret = a.createClient('cli-dev', SCOPE);
    const onB = await connectDevice(b.mqttUrl, 'cli-dev', (await a.token('cli-dev', secret)).access_token);
    clients.push(onB);
    // No data directory of its own: the CLI reaches the cluster through the store.
    const disabled = await runCli(['client', 'disable', 'cli-dev'], { LATCHKEY_STORE: db!.url });
    expect(disabled.code).toBe(0);
    await closedWithin(onB, 1_000);
  });

  it('`keys rotate` on one node: within 1 s node B publishes the new key and accepts tokens node A signs with it', async () => {
    const [a, b] = await twoNodes();
    const kids = async (lk: TestServer) => ((await (await fetch(`${lk.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();
    const before = await kids(b);
    const rotated = await runCli(['keys', 'rotate', '--json'], { LATCHKEY_STORE: db!.url });
    expect(rotated.code).toBe(0);
    const started = Date.now();
    await eventually(async () => (await kids(b)).length === before.length + 1, 1_000, 'node B publishing the new key');
    expect(Date.now() - started).toBeLessThan(1_000);
    await eventually(async () => JSON.stringify(await kids(a)) === JSON.stringify(await kids(b)), 1_000, 'both nodes publishing the same keys');

    const secret = a.createClient('new-key-dev', SCOPE);
    const { access_token } = await a.token('new-key-dev', secret);
    const kid = (JSON.parse(Buffer.from(access_token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(before).not.toContain(kid);
    const onB = await connectDevice(b.mqttUrl, 'new-key-dev', access_token);
    clients.push(onB);
    expect(onB.connected).toBe(true);
  });
});
