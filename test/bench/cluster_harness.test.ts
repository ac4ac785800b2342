import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { Aedes } from 'aedes';
import { listen } from '../../bench/references/listen.js';
import { createBenchDatabase } from '../../bench/harness/bench_postgres.js';
import { ClusterMeter, perOperation } from '../../bench/harness/cluster_meter.js';
import { commandDelta, parseCommandStats, startBenchRedis, totalCalls } from '../../bench/harness/redis_server.js';
import { consoleTable } from '../../bench/harness/report.js';
import { compareRow, skippedRow, type RunResults } from '../../bench/harness/results.js';
import { connectPacket, publishBatch, publishTemplate } from '../../bench/loadgen/encode.js';
import { latencyProbe } from '../../bench/loadgen/latency.js';
import { publishUnderPatterns } from '../../bench/loadgen/redis_patterns.js';
import { RawMqttClient, type Target } from '../../bench/loadgen/mqtt_client.js';
import { havePostgres, haveRedis, TEST_POSTGRES } from '../helpers/services.js';

// The cluster scenario's own parts, each checked against something real:
// a plain Aedes for the latency probe, a redis-server for the command
// counts, PostgreSQL for the transaction counters.

const run = promisify(execFile);

let broker: Aedes;
let server: Server;
let target: Target;

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  target = { host: '127.0.0.1', port: await listen(server) };
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => broker.close(() => resolve()));
});

describe('cluster bench parts', () => {
  it('hands every received payload to onPublish, after the packet id at QoS 1', async () => {
    const { client: sub } = await RawMqttClient.connect(target, connectPacket({ clientId: 'payload-sub' }));
    expect(await sub.subscribe('payload/#', 1)).toBe(1);
    const payloads: string[] = [];
    sub.onPublish = (payload) => payloads.push(payload.toString());
    const { client: pub } = await RawMqttClient.connect(target, connectPacket({ clientId: 'payload-pub' }));
    await pub.write(publishBatch(publishTemplate('payload/0', Buffer.from('zero'), 0), 1, 0));
    await pub.write(publishBatch(publishTemplate('payload/1', Buffer.from('one'), 1), 1, 9));
    await expect.poll(() => payloads.length, { timeout: 5_000 }).toBe(2);
    expect(payloads.sort()).toEqual(['one', 'zero']);
    await Promise.all([pub.disconnect(), sub.disconnect()]);
  });

  it('the latency probe sends at its pace and times every message it sent', async () => {
    for (const qos of [0, 1] as const) {
      const r = await latencyProbe({
        publisherTarget: target,
        subscriberTarget: target,
        publisher: connectPacket({ clientId: `probe-pub-${qos}` }),
        subscriber: connectPacket({ clientId: `probe-sub-${qos}` }),
        topic: 'probe/x',
        filter: 'probe/+',
        qos,
        ratePerSecond: 100,
        durationMs: 500,
        payloadBytes: 32,
      });
      // 100/s for 0.5 s: about 50, however late the timers fired.
      expect(r.sent).toBeGreaterThanOrEqual(45);
      expect(r.sent).toBeLessThanOrEqual(52);
      expect(r.received).toBe(r.sent);
      expect(r.timedOut).toBe(false);
      expect(r.latencies).toHaveLength(r.sent);
      expect(r.latencies.every((ms) => ms >= 0 && ms < 5_000)).toBe(true);
    }
  });

  it('reads Redis command counts and leaves its own INFO out', () => {
    const stats = parseCommandStats('# Commandstats\r\ncmdstat_publish:calls=7,usec=21,usec_per_call=3.00\r\ncmdstat_info:calls=4,usec=9,usec_per_call=2.25\r\ncmdstat_del:calls=2,usec=2,usec_per_call=1.00\r\n');
    expect([...stats]).toEqual([
      ['publish', { calls: 7, usec: 21 }],
      ['del', { calls: 2, usec: 2 }],
    ]);
    const later = parseCommandStats('cmdstat_publish:calls=10,usec=30,usec_per_call=3.00\r\ncmdstat_del:calls=2,usec=2,usec_per_call=1.00\r\ncmdstat_get:calls=1,usec=1,usec_per_call=1.00\r\n');
    const delta = commandDelta(stats, later);
    expect([...delta]).toEqual([
      ['publish', { calls: 3, usec: 9 }],
      ['get', { calls: 1, usec: 1 }],
    ]);
    expect(totalCalls(delta)).toBe(4);
    expect(perOperation(delta, 2)).toBe('publish 1.50, get 0.50');
  });

  it('a skipped row is neither met nor missed, and says why', () => {
    const skipped = skippedRow({ id: 'cluster.x', scenario: 'cluster', title: 'Cluster figure', why: 'redis-server is not installed' });
    const measured = compareRow({ id: 'cluster.y', scenario: 'cluster', title: 'Known figure', latchkey: { value: 2, unit: 'x', reps: [2] }, reference: null, target: { kind: 'none' } });
    expect(skipped.pass).toBeNull();
    expect(measured.pass).toBeNull();
    const table = consoleTable({ rows: [skipped, measured], failures: [] } as unknown as RunResults);
    expect(table).toMatch(/Cluster figure .* skipped/);
    expect(table).toContain('skipped: redis-server is not installed');
    expect(table).not.toMatch(/Known figure .*(MISS|pass|skipped)/);
  });
});

describe.skipIf(!haveRedis())('bench redis-server (skipped without redis-server)', () => {
  it('counts the commands sent to it, on a private port, and stops', async () => {
    const redis = await startBenchRedis('/dev/null');
    try {
      const meter = new ClusterMeter([], redis);
      const cli = (...args: string[]) => run('redis-cli', ['-p', String(redis.port), ...args]);
      const { usage } = await meter.measure(async () => {
        for (let i = 0; i < 3; i++) await cli('PUBLISH', 'bench/x', 'hello');
        await cli('SET', 'k', 'v');
      });
      expect(usage.redis.get('publish')?.calls).toBe(3);
      expect(usage.redis.get('set')?.calls).toBe(1);
      expect(usage.redisCalls).toBe(4);
    } finally {
      await redis.stop();
    }
    await expect(run('redis-cli', ['-p', String(redis.port), 'PING'])).rejects.toThrow();
  });

  it('holds the patterns it was asked for while it publishes, and Redis counts every PUBLISH', async () => {
    const redis = await startBenchRedis('/dev/null');
    try {
      let held = -1;
      let sent = 0;
      let counted = 0;
      await publishUnderPatterns(redis.port, 12_000, 100, async (publish) => {
        held = Number(/^pubsub_patterns:(\d+)/m.exec((await run('redis-cli', ['-p', String(redis.port), 'INFO', 'stats'])).stdout)?.[1]);
        const before = await redis.commandStats();
        sent = await publish();
        counted = commandDelta(before, await redis.commandStats()).get('publish')?.calls ?? 0;
      });
      expect(held).toBe(12_000);
      expect(sent).toBeGreaterThanOrEqual(50);
      expect(counted).toBe(sent);
    } finally {
      await redis.stop();
    }
  });
});

describe.skipIf(!havePostgres())('bench PostgreSQL database (skipped without PostgreSQL)', () => {
  it('sees the rows and transactions written to its database, then drops it', async () => {
    const db = await createBenchDatabase(TEST_POSTGRES);
    try {
      const before = await db.read();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query('CREATE TABLE t (n int)');
        for (let i = 0; i < 5; i++) await client.query('INSERT INTO t VALUES ($1)', [i]);
        expect((await db.backendCpu()).size).toBe(1);
      } finally {
        // A backend publishes its counters when it ends (an idle one, up to 10 s later).
        await client.end();
      }
      await expect.poll(async () => (await db.read()).rowsWritten.get('t'), { timeout: 10_000, interval: 200 }).toBe(5);
      const after = await db.read();
      expect(after.commits - before.commits).toBeGreaterThanOrEqual(6);
    } finally {
      await db.drop();
    }
    const admin = new pg.Client({ connectionString: TEST_POSTGRES });
    await admin.connect();
    try {
      expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name])).rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });
});
