import { Redis } from 'ioredis';
import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, test } from 'vitest';
import { collect, connect, connectDevice, eventually, sleep } from '../helpers/mqtt.js';
import { rawMqtt, withoutCleanSession } from '../helpers/raw_mqtt.js';
import { haveRedis, startRedis, type TestRedis } from '../helpers/services.js';
import { newCluster, type Cluster, type Node, startNode, tokenFrom } from './nodes.js';

/**
 * The credential-topic rule on a cluster: `$auth/…` packets carry tokens
 * and never reach Redis, neither as stored state (a QoS 2 reauth awaiting
 * PUBREL, an answer queued for an offline persistent session) nor in
 * passing (pub/sub between nodes). Redis' MONITOR sees every command any
 * node sends; afterwards every key's value is read too.
 */
let redis: TestRedis | undefined;
let cluster: Cluster | undefined;
const nodes: Node[] = [];
const clients: MqttClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.allSettled(nodes.splice(0).map((n) => n.close()));
  await redis?.stop();
  cluster?.remove();
});

/** The part of a JWT no one can recompute: finding it means the token was sent or stored. */
function signatureOf(jwt: string): string {
  const signature = jwt.split('.')[2];
  if (!signature || signature.length < 40) throw new Error('not a JWT');
  return signature;
}

/** Every value of every key, as bytes, by type. */
async function everyValue(db: Redis): Promise<Buffer[]> {
  const values: Buffer[] = [];
  for (const key of await db.keysBuffer('*')) {
    values.push(key);
    const type = await db.type(key);
    if (type === 'string') values.push((await db.getBuffer(key))!);
    else if (type === 'hash') values.push(...Object.values(await db.hgetallBuffer(key)));
    else if (type === 'list') values.push(...(await db.lrangeBuffer(key, 0, -1)));
    else if (type === 'set') values.push(...(await db.smembersBuffer(key)));
    else if (type === 'zset') values.push(...(await db.zrangeBuffer(key, 0, -1)));
  }
  return values;
}

describe.skipIf(!haveRedis())('credential topics and Redis (skipped without redis-server)', () => {
  test('a QoS 2 $auth reauth awaiting PUBREL and a $auth answer queued for an offline persistent session never reach Redis', async () => {
    redis = await startRedis();
    cluster = newCluster(redis.url);
    const a = await startNode(cluster);
    nodes.push(a);
    const b = await startNode(cluster);
    nodes.push(b);
    const secret = a.server.registry.create({ id: 'dev', scope: 'mqtt:subscribe:site/{client_id}/cmd' }, 'test').client_secret!;
    a.server.people.users.create({ name: 'alice', scope: 'mqtt:subscribe:x/#' }, 'test');
    const pat = a.server.people.pats.create({ user: 'alice', name: 'phone', scope: 'mqtt:subscribe:x/#' }, 'test').token;

    const monitor = await new Redis(redis.url).monitor();
    const monitored: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => monitored.push(args.join(' ')));
    const needles = new Map<string, string>([['PAT', pat]]);

    // 1. A reauth at QoS 2 whose PUBREL never comes: held by node A until then.
    const connectToken = await tokenFrom(a.baseUrl, 'dev', secret);
    const pending = await tokenFrom(a.baseUrl, 'dev', secret);
    needles.set('reauth awaiting PUBREL', signatureOf(pending));
    const raw = rawMqtt(Number(new URL(a.mqttUrl).port), { clientId: 'dev', username: 'dev', password: connectToken, clean: false }, withoutCleanSession);
    expect(await raw.connack).toBe(0);
    const pubrec = new Promise<void>((resolve) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => p.cmd === 'pubrec' && resolve());
      raw.socket.on('data', (d) => parser.parse(d));
    });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$auth/dev/#', qos: 1 }, { topic: 'site/dev/cmd', qos: 1 }] });
    raw.send({ cmd: 'publish', topic: '$auth/dev/reauth', payload: JSON.stringify({ request_id: 'held', access_token: pending }), qos: 2, messageId: 7, retain: false, dup: false });
    await pubrec;
    raw.socket.destroy();

    // 2. The same persistent session on node B renews at QoS 1: the answer with a new token passes the session's queue.
    const onB = await connectDevice(b.mqttUrl, 'dev', await tokenFrom(b.baseUrl, 'dev', secret), { clean: false });
    clients.push(onB);
    const answers = collect(onB);
    await onB.publishAsync('$auth/dev/token/request', JSON.stringify({ request_id: 'r1' }), { qos: 1 });
    await eventually(() => answers.some((m) => m.topic === '$auth/dev/token/response'), 5000, 'token/response');
    const issued = JSON.parse(answers.find((m) => m.topic === '$auth/dev/token/response')!.payload) as { access_token: string };
    needles.set('token/response', signatureOf(issued.access_token));

    // 3. A user's persistent session offline on node A; its other session on node B reauths with the PAT at QoS 1 and 2.
    const phone = await connect(a.mqttUrl, { clientId: 'alice@phone', username: 'alice', password: pat, clean: false });
    await phone.subscribeAsync('$auth/alice/#', { qos: 1 });
    await phone.endAsync();
    const laptop = await connect(b.mqttUrl, { clientId: 'alice@laptop', username: 'alice', password: pat });
    clients.push(laptop);
    const atLaptop = collect(laptop);
    await laptop.subscribeAsync('$auth/alice/#', { qos: 1 });
    await laptop.publishAsync('$auth/alice/reauth', JSON.stringify({ request_id: 'q1', access_token: pat }), { qos: 1 });
    await sleep(1100); // one renewal per second per session
    await laptop.publishAsync('$auth/alice/reauth', JSON.stringify({ request_id: 'q2', access_token: pat }), { qos: 2 });
    await eventually(() => atLaptop.filter((m) => m.topic === '$auth/alice/reauth/response').length >= 2, 5000, 'answers to the laptop');

    // Redis did hold the sessions (the test looks at the right place) ...
    expect(monitored.some((line) => line.includes('client:dev'))).toBe(true);
    expect(monitored.some((line) => line.includes('client:alice%40phone'))).toBe(true);
    // ... and never a credential, stored or in passing.
    await monitor.disconnect();
    const reader = new Redis(redis.url);
    const inRedis = Buffer.concat(await everyValue(reader));
    reader.disconnect();
    const found = [...needles].filter(([, needle]) => inRedis.includes(Buffer.from(needle)) || monitored.some((line) => line.includes(needle))).map(([label]) => label);
    expect(found).toEqual([]);
    expect(needles.size).toBe(3);
  });
});
