import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { collect, connectDevice, connectDeviceCollecting, eventually, subscribeCodes } from '../helpers/mqtt.js';
import { havePostgres, haveRedis, postgresDatabase, startRedis, type TestDatabase, type TestRedis } from '../helpers/services.js';

/**
 * The whole cluster: credentials in PostgreSQL (`--store`), routing and MQTT
 * state in Redis (`--cluster`), each node with its own data directory.
 */
describe.skipIf(!havePostgres() || !haveRedis())('--store postgres:// with --cluster redis:// (skipped without PostgreSQL and redis-server)', { timeout: spawnTimeout(4) }, () => {
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

  it('a message crosses nodes and a persistent session made on node A resumes on node B with its queue', async () => {
    db = await postgresDatabase();
    redis = await startRedis();
    const a = await startTestServer({ store: db.url, cluster: redis.url });
    servers.push(a);
    const b = await startTestServer({ store: db.url, cluster: redis.url });
    servers.push(b);
    const secrets = { dev: a.createClient('dev', 'mqtt:subscribe:site/{client_id}/#'), ops: a.createClient('ops', 'mqtt:publish:site/#') };

    const first = await connectDevice(a.mqttUrl, 'dev', (await a.token('dev', secrets.dev)).access_token, { clean: false });
    clients.push(first);
    const live = collect(first);
    expect(await subscribeCodes(first, ['site/dev/#'])).toEqual([1]);
    const ops = await connectDevice(b.mqttUrl, 'ops', (await b.token('ops', secrets.ops)).access_token);
    clients.push(ops);
    await ops.publishAsync('site/dev/cmd', 'live', { qos: 1 });
    await eventually(() => live.some((m) => m.payload === 'live'), 5000, 'live message from node B on node A');

    await first.endAsync();
    await eventually(() => !a.server.broker.hasSession('dev'), 5000, 'dev offline on node A');
    await ops.publishAsync('site/dev/cmd', 'queued', { qos: 1 });
    const { client, seen } = await connectDeviceCollecting(b.mqttUrl, 'dev', (await b.token('dev', secrets.dev)).access_token, { clean: false });
    clients.push(client);
    await eventually(() => seen.some((m) => m.payload === 'queued'), 5000, 'queued message on node B');
    expect(seen.map((m) => m.payload)).toEqual(['queued']);
  });
});
