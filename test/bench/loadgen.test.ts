import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchServer } from '../../bench/servers/bench_server.js';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { listen } from '../../bench/references/listen.js';
import { startPlainAedes } from '../../bench/references/aedes_plain.js';
import { startSignRoute } from '../../bench/references/sign_route.js';
import { connectStorm } from '../../bench/loadgen/connect_storm.js';
import { connectPacket, publishBatch, publishTemplate } from '../../bench/loadgen/encode.js';
import { FrameReader } from '../../bench/loadgen/frame_reader.js';
import { formPost, httpLoad } from '../../bench/loadgen/http_load.js';
import { RawMqttClient, type Target } from '../../bench/loadgen/mqtt_client.js';
import { pubSub } from '../../bench/loadgen/pubsub.js';

// The load generator must never measure nothing: every count it reports is
// checked here against what a real (plain) Aedes saw or delivered.

let broker: Aedes;
let server: Server;
let target: Target;
/** What the broker itself saw: connects accepted and publishes received from clients. */
const seen = { clients: 0, publishes: 0 };

beforeAll(async () => {
  broker = await Aedes.createBroker();
  broker.on('client', () => seen.clients++);
  broker.on('publish', (_packet, client) => {
    if (client) seen.publishes++;
  });
  server = createServer(broker.handle);
  target = { host: '127.0.0.1', port: await listen(server) };
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => broker.close(() => resolve()));
});

describe('FrameReader', () => {
  it('splits packets fed one byte at a time, including multi-byte Remaining Length', () => {
    const big = publishTemplate('a/b', Buffer.alloc(300, 1), 1); // Remaining Length takes 2 bytes
    const small = publishTemplate('a/b', Buffer.alloc(3, 2), 0);
    const stream = Buffer.concat([publishBatch(big, 2, 7), small.bytes]);
    const seen: [number, number, number][] = [];
    const reader = new FrameReader((type, flags, body) => seen.push([type, flags, body.length]));
    for (const byte of stream) reader.push(Buffer.from([byte]));
    expect(seen).toEqual([
      [3, 2, 2 + 3 + 2 + 300],
      [3, 2, 2 + 3 + 2 + 300],
      [3, 0, 2 + 3 + 3],
    ]);
  });

  it('numbers QoS 1 batches with consecutive packet ids, wrapping past 65535', () => {
    const t = publishTemplate('x', Buffer.alloc(1), 1);
    const batch = publishBatch(t, 3, 65534);
    const ids = [0, 1, 2].map((i) => batch.readUInt16BE(i * t.bytes.length + t.idOffset));
    expect(ids).toEqual([65534, 65535, 1]);
  });
});

describe('connectStorm against plain Aedes', () => {
  it('makes exactly the connects it reports, each answered by CONNACK 0', async () => {
    const before = seen.clients;
    const workers = Array.from({ length: 5 }, (_, w) => [connectPacket({ clientId: `storm-${w}`, username: `u${w}`, password: 'p' })]);
    const r = await connectStorm({ target, workers, perWorker: 10, timeLimitMs: 20_000 });
    expect(seen.clients - before).toBe(50);
    expect(r.attempts).toBe(50);
    expect(r.accepted).toBe(50);
    expect(r.refused).toEqual({});
    expect(r.latencies).toHaveLength(50);
    expect(r.latencies.every((ms) => ms > 0 && ms < 20_000)).toBe(true);
  });

  it('reports a refusal as the socket closing before CONNACK', async () => {
    // Protocol level 3 with name "MQTT" is invalid for Aedes: it answers CONNACK 1 or closes.
    const bad = Buffer.from(connectPacket({ clientId: 'bad' }));
    bad[8] = 99; // protocol level byte
    const r = await connectStorm({ target, workers: [[bad]], perWorker: 1, timeLimitMs: 5_000 });
    expect(r.accepted).toBe(0);
    expect(Object.values(r.refused).reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe('pubSub against plain Aedes', () => {
  const cases = [
    { name: 'QoS 0, 1→2', qos: 0 as const, publishers: 1, subscribers: 2, messages: 500 },
    { name: 'QoS 1, 2→1', qos: 1 as const, publishers: 2, subscribers: 1, messages: 300 },
    { name: 'QoS 1, 1→3', qos: 1 as const, publishers: 1, subscribers: 3, messages: 250 },
  ];
  for (const c of cases) {
    it(`counts every delivery, ${c.name}`, async () => {
      const before = seen.publishes;
      const r = await pubSub({
        target,
        publishers: Array.from({ length: c.publishers }, (_, i) => connectPacket({ clientId: `pub-${c.qos}-${i}` })),
        subscribers: Array.from({ length: c.subscribers }, (_, i) => connectPacket({ clientId: `sub-${c.qos}-${i}` })),
        topic: `t/${c.qos}/${c.publishers}/x`,
        filter: `t/${c.qos}/${c.publishers}/+`,
        qos: c.qos,
        messagesPerPublisher: c.messages,
        payloadBytes: 16,
        window: 50,
        timeLimitMs: 15_000,
      });
      expect(r.timedOut).toBe(false);
      expect(r.published).toBe(c.messages * c.publishers);
      expect(r.expected).toBe(c.messages * c.publishers * c.subscribers);
      expect(r.delivered).toBe(r.expected);
      expect(seen.publishes - before).toBe(r.published);
      expect(r.durationMs).toBeGreaterThan(0);
    });
  }

  it('stops sending at the send budget and still waits for every message sent', async () => {
    const r = await pubSub({
      target,
      publishers: [connectPacket({ clientId: 'budget-pub' })],
      subscribers: [connectPacket({ clientId: 'budget-sub-1' }), connectPacket({ clientId: 'budget-sub-2' })],
      topic: 'budget/x',
      filter: 'budget/+',
      qos: 1,
      messagesPerPublisher: 10_000_000,
      payloadBytes: 8,
      window: 20,
      timeLimitMs: 15_000,
      sendTimeMs: 300,
    });
    expect(r.timedOut).toBe(false);
    expect(r.published).toBeGreaterThan(0);
    expect(r.published).toBeLessThan(10_000_000);
    expect(r.expected).toBe(r.published * 2);
    expect(r.delivered).toBe(r.expected);
  });

  it('notices loss: nothing arrives on a filter nobody publishes to', async () => {
    const r = await pubSub({
      target,
      publishers: [connectPacket({ clientId: 'lonely-pub' })],
      subscribers: [connectPacket({ clientId: 'lonely-sub' })],
      topic: 'elsewhere/x',
      filter: 'nothing/+',
      qos: 0,
      messagesPerPublisher: 10,
      payloadBytes: 4,
      window: 10,
      timeLimitMs: 3_000,
      stallMs: 500,
    });
    expect(r.delivered).toBe(0);
    expect(r.timedOut).toBe(true);
  });

  it('a raw client receives exactly the messages another publishes, and PUBACKs QoS 1', async () => {
    const { client: sub } = await RawMqttClient.connect(target, connectPacket({ clientId: 'raw-sub' }));
    expect(await sub.subscribe('raw/#', 1)).toBe(1);
    const { client: pub } = await RawMqttClient.connect(target, connectPacket({ clientId: 'raw-pub' }));
    const acks: number[] = [];
    pub.onPuback = (id) => acks.push(id);
    await pub.write(publishBatch(publishTemplate('raw/1', Buffer.from('hi'), 1), 5, 1));
    await expect.poll(() => sub.received, { timeout: 5_000 }).toBe(5);
    await expect.poll(() => acks.length, { timeout: 5_000 }).toBe(5);
    expect(acks).toEqual([1, 2, 3, 4, 5]);
    await Promise.all([pub.disconnect(), sub.disconnect()]);
  });
});

describe('references', () => {
  it('plain Aedes in its bench form accepts a raw connect', async () => {
    const plain = await startPlainAedes();
    try {
      const { client, returnCode } = await RawMqttClient.connect({ host: '127.0.0.1', port: plain.ports.mqtt! }, connectPacket({ clientId: 'ref' }));
      expect(returnCode).toBe(0);
      await client.disconnect();
    } finally {
      await plain.close();
    }
  });
});

describe('httpLoad', () => {
  let sign: BenchServer;
  beforeAll(async () => {
    sign = await startSignRoute();
  });
  afterAll(() => sign.close());

  it('completes every request on keep-alive connections and hands over each body', async () => {
    const port = sign.ports.http!;
    const request = formPost(port, '/oauth/token', 'grant_type=client_credentials');
    const tokens = new Set<string>();
    const r = await httpLoad({
      host: '127.0.0.1',
      port,
      connections: [[request], [request], [request]],
      perConnection: 7,
      timeLimitMs: 15_000,
      onBody: (status, body) => {
        if (status === 200) tokens.add((JSON.parse(body.toString()) as { access_token: string }).access_token);
      },
    });
    expect(r.completed).toBe(21);
    expect(r.statuses).toEqual({ 200: 21 });
    expect(r.latencies).toHaveLength(21);
    expect(tokens.size).toBe(21);
  });
});
