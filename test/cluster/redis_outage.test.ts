import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, test } from 'vitest';
import { collect, connackCode, connectDevice, eventually } from '../helpers/mqtt.js';
import { haveRedis, startRedis, type TestRedis } from '../helpers/services.js';
import { newCluster, type Cluster, type Node, startNode, tokenFrom } from './nodes.js';

/**
 * Redis going away under a running node (docs/CLUSTER.md#redis-unreachable):
 * the node says so on /healthz, refuses CONNECT (3) and closes a connection
 * whose PUBLISH it cannot route instead of acknowledging it, keeps issuing
 * tokens, and serves again once Redis is back.
 */
let redis: TestRedis | undefined;
let restarted: ChildProcess | undefined;
let cluster: Cluster | undefined;
let node: Node | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await node?.close();
  await redis?.stop();
  if (restarted && restarted.exitCode === null) {
    restarted.kill('SIGKILL');
    await once(restarted, 'exit');
  }
  cluster?.remove();
});

const health = async () => (await fetch(`${node!.baseUrl}/healthz`)).status;

describe.skipIf(!haveRedis())('Redis unreachable at run time (skipped without redis-server)', () => {
  test('refuses what it cannot route, keeps issuing tokens, and serves again when Redis is back', async () => {
    redis = await startRedis();
    cluster = newCluster(redis.url);
    node = await startNode(cluster);
    const secret = node.server.registry.create({ id: 'dev', scope: 'mqtt:publish:m/{client_id} mqtt:subscribe:m/#' }, 'test').client_secret!;
    const device = await connectDevice(node.mqttUrl, 'dev', await tokenFrom(node.baseUrl, 'dev', secret));
    clients.push(device);
    expect(await health()).toBe(200);

    await redis.stop();
    await eventually(async () => (await health()) === 503, 5000, '/healthz 503');
    expect(await (await fetch(`${node!.baseUrl}/healthz`)).json()).toEqual({ status: 'unavailable', reason: 'cluster_unavailable' });
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.publish('m/dev', 'not routable', { qos: 1 });
    await closed;
    const token = await tokenFrom(node.baseUrl, 'dev', secret);
    expect(token).toEqual(expect.any(String));
    expect(await connackCode(connectDevice(node.mqttUrl, 'dev', token))).toBe(3);

    restarted = spawn('redis-server', ['--port', String(redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually(async () => (await health()) === 200, 15_000, '/healthz 200 again');
    const back = await connectDevice(node.mqttUrl, 'dev', await tokenFrom(node.baseUrl, 'dev', secret));
    clients.push(back);
    const seen = collect(back);
    await back.subscribeAsync('m/#', { qos: 1 });
    await back.publishAsync('m/dev', 'routed', { qos: 1 });
    await eventually(() => seen.some((m) => m.payload === 'routed'), 5000, 'a message routed after the outage');
  });
});
