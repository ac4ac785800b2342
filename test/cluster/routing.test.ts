import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { collect, connectDevice, connectDeviceCollecting, eventually, subscribeCodes } from '../helpers/mqtt.js';
import { haveRedis, startRedis, type TestRedis } from '../helpers/services.js';
import { newCluster, type Cluster, type Node, startNode, tokenFrom } from './nodes.js';

/**
 * Two in-process latchkey nodes on one Redis (docs/CLUSTER.md): messages,
 * retained messages and persistent sessions cross nodes, a client id lives
 * on one node at a time, and the delivering node still authorizes.
 */
const SENSOR = 'mqtt:publish:plant/{client_id}/# mqtt:subscribe:plant/{client_id}/cmd';
const CONTROL = 'mqtt:subscribe:plant/# mqtt:publish:plant/#';

let redis: TestRedis;
let cluster: Cluster;
let a: Node;
let b: Node;
const secrets: Record<string, string> = {};
const clients: MqttClient[] = [];

beforeEach(async () => {
  redis = await startRedis();
  cluster = newCluster(redis.url);
  a = await startNode(cluster);
  b = await startNode(cluster);
  for (const id of ['s1', 's2']) secrets[id] = a.server.registry.create({ id, scope: SENSOR }, 'test').client_secret!;
  secrets.ctl = a.server.registry.create({ id: 'ctl', scope: CONTROL }, 'test').client_secret!;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.allSettled([a?.close(), b?.close()]);
  await redis?.stop();
  cluster?.remove();
});

async function device(node: Node, id: string, options = {}): Promise<MqttClient> {
  const client = await connectDevice(node.mqttUrl, id, await tokenFrom(node.baseUrl, id, secrets[id]!), options);
  clients.push(client);
  return client;
}

describe.skipIf(!haveRedis())('routing across nodes (skipped without redis-server)', () => {
  test('a message published on node A reaches a subscriber on node B at QoS 0, 1 and 2, every one, in order', async () => {
    const ctl = await device(b, 'ctl');
    const seen = collect(ctl);
    expect(await subscribeCodes(ctl, ['plant/s1/telemetry/#'])).toEqual([1]);
    // The subscription is announced over Redis; the publisher's node must have heard of it.
    const s1 = await device(a, 's1');
    const perQos = 200;
    for (const qos of [0, 1, 2] as const) {
      await eventually(async () => {
        await s1.publishAsync(`plant/s1/telemetry/probe`, 'probe', { qos: 1 });
        return seen.some((m) => m.topic === 'plant/s1/telemetry/probe');
      }, 5000, 'subscription known on node A');
      seen.length = 0;
      const sent: Promise<unknown>[] = [];
      for (let i = 0; i < perQos; i++) sent.push(s1.publishAsync(`plant/s1/telemetry/q${qos}`, String(i), { qos }));
      await Promise.all(sent);
      await eventually(() => seen.filter((m) => m.topic === `plant/s1/telemetry/q${qos}`).length >= perQos, 10_000, `${perQos} QoS ${qos} messages on node B`);
      const payloads = seen.filter((m) => m.topic === `plant/s1/telemetry/q${qos}`).map((m) => Number(m.payload));
      expect(payloads).toEqual([...Array(perQos).keys()]);
    }
  });

  test('a retained message published on node A is delivered to a new subscriber on node B', async () => {
    const ctl = await device(a, 'ctl');
    await ctl.publishAsync('plant/s1/cmd', 'open-valve', { qos: 1, retain: true });
    const s1 = await device(b, 's1');
    const seen = collect(s1);
    expect(await subscribeCodes(s1, ['plant/s1/cmd'])).toEqual([1]);
    await eventually(() => seen.length === 1, 5000, 'retained message on node B');
    expect(seen[0]).toMatchObject({ topic: 'plant/s1/cmd', payload: 'open-valve', retain: true });
  });

  test('a persistent session made on node A gets on node B what was published on either node while it was offline', async () => {
    const first = await device(a, 's1', { clean: false });
    expect(await subscribeCodes(first, ['plant/s1/cmd'])).toEqual([1]);
    await first.endAsync();
    await eventually(() => !a.server.broker.hasSession('s1'), 5000, 's1 offline on node A');
    const onA = await device(a, 'ctl');
    for (let i = 0; i < 5; i++) await onA.publishAsync('plant/s1/cmd', `a${i}`, { qos: 1 });
    await onA.endAsync();
    const later = await device(b, 'ctl');
    for (let i = 0; i < 5; i++) await later.publishAsync('plant/s1/cmd', `b${i}`, { qos: 1 });
    const token = await tokenFrom(b.baseUrl, 's1', secrets.s1!);
    const { client, seen } = await connectDeviceCollecting(b.mqttUrl, 's1', token, { clean: false });
    clients.push(client);
    await eventually(() => seen.length >= 10, 5000, 'queued messages on node B');
    expect(seen.map((m) => m.payload)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
  });

  test('takeover: the same client id connecting to node B ends its connection on node A', async () => {
    const onA = await device(a, 's1');
    const closed = new Promise<number>((resolve) => onA.once('close', () => resolve(Date.now())));
    const onB = await device(b, 's1');
    const since = Date.now();
    await expect(Promise.race([closed, new Promise((_, fail) => setTimeout(() => fail(new Error('node A kept the connection')), 5000))])).resolves.toBeGreaterThanOrEqual(since - 5000);
    expect(onB.connected).toBe(true);
    await eventually(() => !a.server.broker.hasSession('s1'), 2000, 'session gone from node A');
    expect(b.server.broker.hasSession('s1')).toBe(true);
  });

  test('the delivering node authorizes: node B withholds a queued message the receiver may no longer read', async () => {
    secrets.watch = a.server.registry.create({ id: 'watch', scope: 'mqtt:subscribe:plant/+/telemetry' }, 'test').client_secret!;
    // Subscribed on the publishers' node, which then queues for it at once; delivered later by node B.
    const watch = await device(a, 'watch', { clean: false });
    expect(await subscribeCodes(watch, ['plant/+/telemetry'])).toEqual([1]);
    await watch.endAsync();
    // Offline first: a live session would have the subscription dropped (and forgotten) by the change.
    await eventually(() => !a.server.broker.hasSession('watch'), 5000, 'watch offline on node A');
    // Narrowed while offline: the persistent subscription stays, its messages must not all be delivered.
    a.server.registry.setScope('watch', 'mqtt:subscribe:plant/s1/telemetry', 'test');
    const s1 = await device(a, 's1');
    const s2 = await device(a, 's2');
    await s2.publishAsync('plant/s2/telemetry', 'forbidden', { qos: 1 });
    await s1.publishAsync('plant/s1/telemetry', 'allowed', { qos: 1 });
    const token = await tokenFrom(b.baseUrl, 'watch', secrets.watch!);
    const { client, seen } = await connectDeviceCollecting(b.mqttUrl, 'watch', token, { clean: false });
    clients.push(client);
    await eventually(() => seen.length >= 1, 5000, 'the allowed message on node B');
    // Denials are counted where they happen: node B's /metrics, under its node label.
    await eventually(async () => /latchkey_authorization_denials_total\{action="deliver",node="[0-9a-f]+"\} [1-9]/.test(await (await fetch(`${b.baseUrl}/metrics`)).text()), 5000, 'delivery denial on node B');
    expect(seen.map((m) => m.payload)).toEqual(['allowed']);
    const metricsB = await (await fetch(`${b.baseUrl}/metrics`)).text();
    expect(metricsB).toContain(`node="${b.id}"`);
    expect(metricsB).not.toContain(`node="${a.id}"`);
  });

  test('a deleted client\'s persistent session is forgotten in Redis: a new client of the same id starts clean', async () => {
    const first = await device(a, 's1', { clean: false });
    expect(await subscribeCodes(first, ['plant/s1/cmd'])).toEqual([1]);
    await first.endAsync();
    const ctl = await device(b, 'ctl');
    await ctl.publishAsync('plant/s1/cmd', 'for the old s1', { qos: 1 });
    const db = new Redis(redis.url);
    try {
      expect(await db.sismember('clients', 's1')).toBe(1);
      expect(await db.llen('outgoing:s1')).toBe(1);
      a.server.registry.delete('s1', 'test');
      await eventually(async () => (await db.sismember('clients', 's1')) === 0 && (await db.exists('client:s1', 'outgoing:s1')) === 0, 5000, 'the session gone from Redis');
      // The queued message went with it: no packet is left that only s1's queue referred to.
      expect(await db.keys('packet:*')).toEqual([]);
    } finally {
      db.disconnect();
    }
    secrets.s1 = a.server.registry.create({ id: 's1', scope: SENSOR }, 'test').client_secret!;
    const token = await tokenFrom(b.baseUrl, 's1', secrets.s1);
    const { client, seen } = await connectDeviceCollecting(b.mqttUrl, 's1', token, { clean: false });
    clients.push(client);
    await ctl.publishAsync('plant/s1/cmd', 'after', { qos: 1 });
    // No subscription came back, so nothing reaches the new s1 (a probe on a subscription it makes itself does).
    expect(await subscribeCodes(client, ['plant/s1/cmd'])).toEqual([1]);
    await ctl.publishAsync('plant/s1/cmd', 'probe', { qos: 1 });
    await eventually(() => seen.some((m) => m.payload === 'probe'), 5000, 'probe');
    expect(seen.map((m) => m.payload)).toEqual(['probe']);
  });
});
