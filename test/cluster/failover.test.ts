import { Redis } from 'ioredis';
import { afterEach, describe, expect, test } from 'vitest';
import type { ChildServer } from '../helpers/child_server.js';
import { runCli, spawnTimeout } from '../helpers/cli.js';
import { connectDevice, connectDeviceCollecting, eventually, subscribeCodes } from '../helpers/mqtt.js';
import { haveRedis, startRedis, type TestRedis } from '../helpers/services.js';
import { createClientByCli, newCluster, type Cluster, startChildNode, tokenFrom } from './nodes.js';

/**
 * Nodes as child processes: one is killed with -9 and its devices carry on
 * at another; a node refuses to start without its Redis.
 */
let redis: TestRedis | undefined;
let cluster: Cluster | undefined;
const nodes: ChildServer[] = [];

afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.crash()));
  await redis?.stop();
  cluster?.remove();
  redis = cluster = undefined;
});

const urls = (node: ChildServer) => ({ mqtt: `mqtt://127.0.0.1:${node.ports.mqtt}`, http: `http://127.0.0.1:${node.ports.http}` });

describe.skipIf(!haveRedis())('a node killed with -9 (skipped without redis-server)', { timeout: spawnTimeout(5) }, () => {
  test('its devices reconnect to node B and keep their persistent sessions: subscriptions and queued QoS 1 messages', async () => {
    redis = await startRedis();
    cluster = newCluster(redis.url);
    const a = await startChildNode(cluster);
    nodes.push(a);
    const secrets = {
      dev: await createClientByCli(cluster, 'dev', 'mqtt:subscribe:site/{client_id}/cmd'),
      ops: await createClientByCli(cluster, 'ops', 'mqtt:publish:site/#'),
    };
    const b = await startChildNode(cluster);
    nodes.push(b);

    const onA = await connectDevice(urls(a).mqtt, 'dev', await tokenFrom(urls(a).http, 'dev', secrets.dev), { clean: false });
    expect(await subscribeCodes(onA, ['site/dev/cmd'])).toEqual([1]);
    const ops = await connectDevice(urls(b).mqtt, 'ops', await tokenFrom(urls(b).http, 'ops', secrets.ops));
    // Delivered through node B to the device on node A: the subscription is known cluster-wide.
    const live = new Promise<string>((resolve) => onA.once('message', (_t, payload) => resolve(payload.toString())));
    await ops.publishAsync('site/dev/cmd', 'before', { qos: 1 });
    expect(await live).toBe('before');
    // Its PUBACK recorded in Redis (the library's per-client queue is empty), else QoS 1 rightly delivers it again.
    const db = new Redis(redis.url);
    await eventually(async () => (await db.llen('outgoing:dev')) === 0, 5000, 'the PUBACK recorded');
    db.disconnect();

    await a.crash();
    nodes.splice(nodes.indexOf(a), 1);
    // Queued while the device has no connection (node A's socket is gone with the process).
    for (let i = 0; i < 5; i++) await ops.publishAsync('site/dev/cmd', `queued-${i}`, { qos: 1 });

    const token = await tokenFrom(urls(b).http, 'dev', secrets.dev);
    const { client, seen } = await connectDeviceCollecting(urls(b).mqtt, 'dev', token, { clean: false, reconnectPeriod: 0 });
    await eventually(() => seen.length >= 5, 10_000, 'queued messages at node B');
    expect(seen.map((m) => m.payload)).toEqual(['queued-0', 'queued-1', 'queued-2', 'queued-3', 'queued-4']);
    // The subscription came back with the session: no SUBSCRIBE was sent on node B.
    await ops.publishAsync('site/dev/cmd', 'after', { qos: 1 });
    await eventually(() => seen.some((m) => m.payload === 'after'), 5000, 'a new message on the restored subscription');
    await Promise.all([client.endAsync(), ops.endAsync(), onA.endAsync(true)]);
  });
});

describe('--cluster at start (docs/CLUSTER.md#redis-unreachable)', { timeout: spawnTimeout(3) }, () => {
  test('a URL that is not redis:// or rediss:// is a usage error (exit 2) that does not repeat the password', async () => {
    const result = await runCli(['start', '--cluster', 'http://user:hunter2secret@127.0.0.1:6379', '--data-dir', '/nonexistent/never', '--certs-dir', '/nonexistent/never']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --cluster must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(result.stderr + result.stdout).not.toContain('hunter2secret');
  });

  test.skipIf(!haveRedis())('a Redis that does not answer: the node refuses to start (exit 7), password not shown', async () => {
    redis = await startRedis();
    const port = redis.port;
    await redis.stop();
    cluster = newCluster(`redis://:hunter2secret@127.0.0.1:${port}`);
    const result = await runCli(['start', '--cluster', cluster.redisUrl, '--data-dir', cluster.dataDir, '--certs-dir', cluster.certsDir,
      '--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0']);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(new RegExp(`^error: --cluster: Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} does not answer`));
    expect(result.stderr + result.stdout).not.toContain('hunter2secret');
  });
});
