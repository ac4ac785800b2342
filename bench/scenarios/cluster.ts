import { join } from 'node:path';
import { type BenchContext, launch, type Scenario, size } from '../harness/context.js';
import { BENCH_POSTGRES, type BenchDatabase, createBenchDatabase, postgresMissing } from '../harness/bench_postgres.js';
import { ClusterMeter, perOperation, type Usage } from '../harness/cluster_meter.js';
import { RepCollector } from '../harness/collector.js';
import { openFileLimit } from '../harness/proc.js';
import { type BenchRedis, commandDelta, redisMissing, startBenchRedis } from '../harness/redis_server.js';
import { compareRow, type Measurement, type Row, skippedRow } from '../harness/results.js';
import type { ServerHandle } from '../harness/server_process.js';
import { median } from '../harness/stats.js';
import { connectStorm, type StormResult } from '../loadgen/connect_storm.js';
import { connectPacket } from '../loadgen/encode.js';
import { latencyProbe } from '../loadgen/latency.js';
import { RawMqttClient, type Target } from '../loadgen/mqtt_client.js';
import { pubSub } from '../loadgen/pubsub.js';
import { publishUnderPatterns } from '../loadgen/redis_patterns.js';
import { refusedNote } from './connect.js';
import { createClients, type Credential, fetchTokens, type LatchkeyUnderTest, mqttTarget, startLatchkey } from './fixtures.js';
import { measureIdleSessions, settle } from './idle_memory.js';

const SCENARIO = 'cluster';

/** Every row this scenario reports, so a machine without PostgreSQL or Redis reports the same rows, skipped. */
const ROWS = {
  connectCpu: { id: 'cluster.connect-cpu', title: 'Node CPU per connect (every token new), 2 nodes on PostgreSQL+Redis vs 1 SQLite node' },
  messageCpu0: { id: 'cluster.message-cpu-qos0', title: 'Node CPU per message, QoS 0, publish on A → subscriber on B vs 1 SQLite node' },
  messageCpu1: { id: 'cluster.message-cpu-qos1', title: 'Node CPU per message, QoS 1, publish on A → subscriber on B vs 1 SQLite node' },
  latency0: { id: 'cluster.latency-qos0', title: 'Delivery latency, QoS 0, publish on A → receive on B vs same node (1 SQLite node)' },
  latency1: { id: 'cluster.latency-qos1', title: 'Delivery latency, QoS 1, publish on A → receive on B vs same node (1 SQLite node)' },
  memory: { id: 'cluster.memory', title: 'Memory per idle session (one QoS 1 subscription each) on a cluster node vs 1 SQLite node' },
  redisPublish: { id: 'cluster.redis-per-publish', title: 'Redis commands per publish (QoS 0; QoS 1 in the notes)' },
  redisConnect: { id: 'cluster.redis-per-connect', title: 'Redis commands per connect' },
  pgConnect: { id: 'cluster.pg-per-connect', title: 'PostgreSQL transactions per connect' },
  redisPatterns: { id: 'cluster.redis-publish-patterns', title: 'Redis time per PUBLISH with many subscription patterns held (one per wildcard device subscription) vs none' },
} as const;

/** Concurrent connecting workers, split evenly over the cluster's nodes. */
const WORKERS = 50;
const PAYLOAD_BYTES = 64;
const TOPIC = 'bench/load/1';
const FILTER = 'bench/load/+';
/** Paced rate of the latency probe, messages per second: far below capacity, so it measures the path, not a queue. */
const PROBE_RATE = 200;

interface Shape {
  qos: 0 | 1;
  /** Messages in a full run (a run also stops sending at ctx.runMs). */
  messages: number;
}
const SHAPES: Shape[] = [
  { qos: 0, messages: 40_000 },
  { qos: 1, messages: 15_000 },
];

/** The two configurations compared: one SQLite node, or two nodes sharing PostgreSQL and Redis. */
interface Side {
  name: 'single' | 'cluster';
  nodes: LatchkeyUnderTest[];
  meter: ClusterMeter;
}

/**
 * What clustering costs: two latchkey nodes on one PostgreSQL database and
 * one Redis (both started by the scenario: a database it creates and
 * drops, a private redis-server on the server core) against one SQLite
 * node in the same run. Every figure also feeds the capacity estimate in
 * docs/CLUSTER.md: CPU per connect and per message on the nodes, Redis and
 * PostgreSQL; Redis commands per publish and per connect; PostgreSQL
 * transactions per connect; memory per session on a node and in Redis.
 */
export const clusterScenario: Scenario = {
  name: SCENARIO,
  title: 'Cluster: 2 nodes on PostgreSQL + Redis vs 1 SQLite node',
  async run(ctx) {
    const missing = redisMissing() ?? (await postgresMissing(BENCH_POSTGRES));
    if (missing) {
      ctx.log(`  skipped: ${missing}`);
      return Object.values(ROWS).map((r) => skippedRow({ ...r, scenario: SCENARIO, why: missing }));
    }
    const redis = await startBenchRedis(join(ctx.workDir, 'redis.log'));
    let db: BenchDatabase | null = null;
    const started: LatchkeyUnderTest[] = [];
    try {
      db = await createBenchDatabase(BENCH_POSTGRES);
      const single = await startLatchkey(ctx, 'cluster-single', { name: 'single' });
      started.push(single);
      // One after the other: the first brings the shared schema up.
      const a = await startLatchkey(ctx, 'cluster-a', { name: 'node-a', store: db.url, cluster: redis.url });
      started.push(a);
      const b = await startLatchkey(ctx, 'cluster-b', { name: 'node-b', store: db.url, cluster: redis.url });
      started.push(b);
      const sides: Side[] = [
        { name: 'single', nodes: [single], meter: new ClusterMeter([single.server]) },
        { name: 'cluster', nodes: [a, b], meter: new ClusterMeter([a.server, b.server], redis, db) },
      ];
      const idle = await sides[1]!.meter.calibrate(size(ctx, 5_000, 2_000));
      ctx.log(`  cluster idle: ${idle.redisPerS.toFixed(1)} Redis commands/s, ${idle.commitsPerS.toFixed(2)} PostgreSQL commits/s`);
      const idleNote = `idle nodes' own traffic (${idle.redisPerS.toFixed(1)} Redis commands/s, ${idle.commitsPerS.toFixed(2)} PostgreSQL commits/s) taken out`;

      const rows: Row[] = [];
      rows.push(...(await connects(ctx, sides, idleNote)));
      const messageRows = await messages(ctx, sides);
      rows.push(...messageRows.rows);
      rows.push(...(await latencies(ctx, sides)));
      const memoryRows = await memory(ctx, sides, redis, started);
      rows.push(...memoryRows.rows);
      rows.push(await patternCost(ctx, redis, messageRows.publishUsec, memoryRows.patterns));
      return rows;
    } finally {
      await Promise.all(started.map((n) => n.server.stop()));
      await db?.drop().catch((err: unknown) => ctx.log(`  could not drop ${db?.name}: ${(err as Error).message}`));
      await redis.stop();
    }
  },
};

// ---------------------------------------------------------------- connects

async function connects(ctx: BenchContext, sides: Side[], idleNote: string): Promise<Row[]> {
  const ids = Array.from({ length: WORKERS }, (_, i) => `storm-${i}`);
  const creds = new Map<string, Credential[]>();
  for (const side of sides) creds.set(side.name, await createClients(side.nodes[0]!.server, ids, 'mqtt:publish:bench/{client_id}/#'));
  await knownEverywhere(sides[1]!, creds.get('cluster')![0]!);

  const c = new RepCollector();
  const costs = {
    tokens: new Map<string, number[]>(),
    tokenRates: new Map<string, number[]>(),
    tokenCommits: [] as number[],
    tokenRows: '',
    cluster: [] as { usage: Usage; connects: number }[],
  };
  const rates = new Map<string, number>();
  for (const side of sides) {
    // Untimed: JIT, pools, and a first rate to size each run's supply of new tokens.
    const warm = await storm(side, await tokensFor(side, creds.get(side.name)!, 4), 4, 30_000);
    if (warm.accepted !== warm.attempts) throw new Error(`${side.name} warm-up refused: ${JSON.stringify(warm.refused)}`);
    rates.set(side.name, rate(warm));
  }
  const perWorker = size(ctx, 400, 100);
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const side of sides) {
      const need = Math.min(perWorker, Math.max(2, Math.ceil((rates.get(side.name)! * 1.5 * ctx.runMs) / 1000 / WORKERS)));
      // Token issuance is measured on the way: a storm of reconnecting devices asks for tokens too.
      const issued = await side.meter.measure(() => tokensFor(side, creds.get(side.name)!, need), { pg: true, label: `tokens-${side.name}` });
      const tokenUs = (issued.usage.nodeCpuMs * 1000) / (need * WORKERS);
      costs.tokens.set(side.name, [...(costs.tokens.get(side.name) ?? []), tokenUs]);
      costs.tokenRates.set(side.name, [...(costs.tokenRates.get(side.name) ?? []), (need * WORKERS * 1000) / issued.usage.ms]);
      if (side.name === 'cluster') {
        costs.tokenCommits.push(issued.usage.pgCommits / (need * WORKERS));
        costs.tokenRows = perOperation(issued.usage.pgRows, need * WORKERS);
      }
      await Promise.all(side.nodes.map((n) => n.server.request('gc').catch(() => undefined)));
      const { result, usage } = await side.meter.measure(() => storm(side, issued.result, need, ctx.runMs), { pg: true, label: `connect-${side.name}` });
      rates.set(side.name, rate(result));
      const n = Math.max(1, result.accepted);
      const cpuUs = (usage.nodeCpuMs * 1000) / n;
      ctx.log(
        `  connect ${side.name} rep ${rep + 1}: ${rate(result).toFixed(0)}/s, nodes ${cpuUs.toFixed(0)} µs/connect` +
          (side.name === 'cluster'
            ? `, redis ${((usage.redisCpuMs * 1000) / n).toFixed(0)} µs, postgres ${((usage.pgCpuMs * 1000) / n).toFixed(0)} µs, ${(usage.redisCalls / n).toFixed(2)} Redis cmds, ${(usage.pgCommits / n).toFixed(2)} PG commits per connect`
            : ''),
      );
      c.add(side.name, { value: cpuUs, latencies: result.latencies, ...refusedNote(result) });
      c.add(`${side.name}-rate`, { value: rate(result) });
      if (side.name === 'cluster') {
        c.add('redis-cpu', { value: (usage.redisCpuMs * 1000) / n });
        c.add('pg-cpu', { value: (usage.pgCpuMs * 1000) / n });
        c.add('redis-calls', { value: usage.redisCalls / n });
        c.add('pg-commits', { value: usage.pgCommits / n });
        costs.cluster.push({ usage, connects: n });
      }
    }
  }
  const cluster = c.get('cluster', 'µs CPU/connect');
  const single = c.get('single', 'µs CPU/connect');
  const clusterRate = c.get('cluster-rate', 'connects/s');
  const singleRate = c.get('single-rate', 'connects/s');
  const tokenCost = (name: string) => median(costs.tokens.get(name) ?? []);
  const last = costs.cluster.at(-1);
  const rowsWritten = last ? perOperation(last.usage.pgRows, last.connects) : '';
  return [
    compareRow({
      ...ROWS.connectCpu,
      scenario: SCENARIO,
      latchkey: cluster && {
        ...cluster,
        detail: `${clusterRate?.value.toFixed(0)} connects/s`,
      },
      reference: single && { name: '1 SQLite node', m: { ...single, detail: `${singleRate?.value.toFixed(0)} connects/s` } },
      target: { kind: 'none' },
      notes: [
        `${WORKERS} concurrent (${WORKERS / 2} per node in the cluster), up to ${ctx.runMs / 1000} s per rep, a token the node never saw on every connect`,
        `connects/s: cluster ${num(clusterRate?.value)}, single ${num(singleRate?.value)} (${ratio(clusterRate?.value, singleRate?.value)})`,
        `cluster also spends per connect: Redis ${num(c.get('redis-cpu', 'µs')?.value)} µs, PostgreSQL backends ${num(c.get('pg-cpu', 'µs')?.value)} µs CPU`,
        `token issuance (50 keep-alive connections), node CPU per token: cluster ${num(tokenCost('cluster'))} µs at ${num(median(costs.tokenRates.get('cluster') ?? []))} tokens/s, single ${num(tokenCost('single'))} µs at ${num(median(costs.tokenRates.get('single') ?? []))} tokens/s; ${median(costs.tokenCommits).toFixed(2)} PostgreSQL commits per token${costs.tokenRows ? ` (rows per token: ${costs.tokenRows})` : ''}`,
        'nodes, Redis and the generator share 2 cores (PostgreSQL floats): ratios bound overhead, they do not show scaling out',
      ],
      invalid: Boolean(cluster?.note ?? single?.note),
    }),
    compareRow({
      ...ROWS.redisConnect,
      scenario: SCENARIO,
      latchkey: c.get('redis-calls', 'commands/connect'),
      reference: null,
      target: { kind: 'none' },
      notes: [
        last ? `by command (last rep): ${perOperation(last.usage.redis, last.connects)}` : '',
        'connect + DISCONNECT of a clean session, no subscription; INFO commandstats delta over both nodes',
        idleNote,
      ].filter(Boolean),
    }),
    compareRow({
      ...ROWS.pgConnect,
      scenario: SCENARIO,
      latchkey: c.get('pg-commits', 'commits/connect'),
      reference: null,
      target: { kind: 'none' },
      notes: [
        'pg_stat_database xact_commit delta (pg_stat_statements is not loaded: statements inside one transaction count once)',
        rowsWritten ? `rows written per connect (last rep): ${rowsWritten}` : 'no rows written',
        idleNote,
      ],
    }),
  ];
}

/** Fresh tokens for every worker, `perWorker` each, asked of the side's nodes in turn. */
async function tokensFor(side: Side, creds: Credential[], perWorker: number): Promise<Buffer[][]> {
  const parts = splitWorkers(creds, side.nodes.length);
  const tokens = await Promise.all(parts.map((part, i) => fetchTokens(side.nodes[i]!.server, part, perWorker)));
  return tokens.flat().map((list, w) => list.map((t) => connectPacket({ clientId: creds[w]!.id, username: creds[w]!.id, password: t })));
}

/** A connect storm over every node of a side at once, each node taking its share of the workers. */
async function storm(side: Side, workers: Buffer[][], perWorker: number, timeLimitMs: number): Promise<StormResult> {
  const parts = splitWorkers(workers, side.nodes.length);
  const results = await Promise.all(parts.map((part, i) => connectStorm({ target: mqttTarget(side.nodes[i]!.server, 'mqtt'), workers: part, perWorker, timeLimitMs })));
  const refused: Record<string, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.refused)) refused[code] = (refused[code] ?? 0) + n;
  return {
    attempts: results.reduce((s, r) => s + r.attempts, 0),
    accepted: results.reduce((s, r) => s + r.accepted, 0),
    refused,
    durationMs: Math.max(...results.map((r) => r.durationMs)),
    latencies: results.flatMap((r) => r.latencies),
  };
}

/** `items` in `n` consecutive, even parts. */
function splitWorkers<T>(items: T[], n: number): T[][] {
  const per = Math.ceil(items.length / n);
  return Array.from({ length: n }, (_, i) => items.slice(i * per, (i + 1) * per));
}

function rate(r: StormResult): number {
  return (r.accepted * 1000) / r.durationMs;
}

/**
 * Waits until every node of the cluster accepts `cred` (created on the
 * first): the others learn of new clients from PostgreSQL's change feed.
 */
async function knownEverywhere(side: Side, cred: Credential): Promise<void> {
  const [token] = (await fetchTokens(side.nodes[0]!.server, [cred], 1))[0]!;
  const packet = connectPacket({ clientId: cred.id, username: cred.id, password: token! });
  for (const node of side.nodes) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { client, returnCode } = await RawMqttClient.connect(mqttTarget(node.server, 'mqtt'), packet);
      await client.disconnect();
      if (returnCode === 0) break;
      if (Date.now() > deadline) throw new Error(`${node.server.name} still refuses ${cred.id} (${returnCode}) 30 s after it was created`);
      await settle(100);
    }
  }
}

// ---------------------------------------------------------------- messages

interface PubSubClients {
  publisher: Buffer;
  subscriber: Buffer;
}

/** A publisher (mqtt:publish:bench/#) and a subscriber (mqtt:subscribe:bench/#) registered on each side, with tokens. */
async function pubSubClients(sides: Side[], prefix: string): Promise<Map<string, PubSubClients>> {
  const out = new Map<string, PubSubClients>();
  for (const side of sides) {
    const server = side.nodes[0]!.server;
    const [pub] = await createClients(server, [`${prefix}-pub`], 'mqtt:publish:bench/#');
    const [sub] = await createClients(server, [`${prefix}-sub`], 'mqtt:subscribe:bench/#');
    const tokens = await fetchTokens(server, [pub!, sub!], 1);
    out.set(side.name, {
      publisher: connectPacket({ clientId: pub!.id, username: pub!.id, password: tokens[0]![0]! }),
      subscriber: connectPacket({ clientId: sub!.id, username: sub!.id, password: tokens[1]![0]! }),
    });
    if (side.nodes.length > 1) await knownEverywhere(side, sub!);
  }
  return out;
}

/** Publisher on the side's first node, subscriber on its last: A → B in the cluster, one node otherwise. */
function ends(side: Side): { pub: Target; sub: Target } {
  return { pub: mqttTarget(side.nodes[0]!.server, 'mqtt'), sub: mqttTarget(side.nodes.at(-1)!.server, 'mqtt') };
}

async function messages(ctx: BenchContext, sides: Side[]): Promise<{ rows: Row[]; publishUsec: number }> {
  const clients = await pubSubClients(sides, 'flow');
  const rows: Row[] = [];
  let publishUsec = Number.NaN;
  for (const shape of SHAPES) {
    const count = size(ctx, shape.messages, Math.ceil(shape.messages / 10));
    const run = (side: Side, n: number) =>
      pubSub({
        target: ends(side).pub,
        subscriberTarget: ends(side).sub,
        publishers: [clients.get(side.name)!.publisher],
        subscribers: [clients.get(side.name)!.subscriber],
        topic: TOPIC,
        filter: FILTER,
        qos: shape.qos,
        messagesPerPublisher: n,
        sendTimeMs: ctx.runMs,
        payloadBytes: PAYLOAD_BYTES,
        window: 100,
        timeLimitMs: 60_000,
      });
    for (const side of sides) await run(side, Math.ceil(count / 10));
    const c = new RepCollector();
    const perCommand: { usage: Usage; publishes: number }[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const side of sides) {
        await Promise.all(side.nodes.map((n) => n.server.request('gc').catch(() => undefined)));
        const { result, usage } = await side.meter.measure(() => run(side, count), { label: `qos${shape.qos}-${side.name}` });
        const lost = result.expected - result.delivered;
        const delivered = Math.max(1, result.delivered);
        const rateNow = (result.delivered * 1000) / result.durationMs;
        const cpuUs = (usage.nodeCpuMs * 1000) / delivered;
        ctx.log(
          `  QoS ${shape.qos} ${side.name} rep ${rep + 1}: ${rateNow.toFixed(0)} msg/s, nodes ${cpuUs.toFixed(1)} µs/msg, lost ${lost}` +
            (side.name === 'cluster' ? `, redis ${((usage.redisCpuMs * 1000) / delivered).toFixed(1)} µs/msg, ${(usage.redisCalls / Math.max(1, result.published)).toFixed(2)} Redis cmds/publish` : ''),
        );
        const note = lost !== 0 || result.timedOut ? { note: `lost ${lost} of ${result.expected}${result.timedOut ? ' (timed out)' : ''}` } : {};
        c.add(side.name, { value: cpuUs, ...note });
        c.add(`${side.name}-rate`, { value: rateNow });
        if (side.name === 'cluster') {
          c.add('redis-cpu', { value: (usage.redisCpuMs * 1000) / delivered });
          c.add('redis-calls', { value: usage.redisCalls / Math.max(1, result.published) });
          const publish = usage.redis.get('publish');
          if (publish) c.add('publish-usec', { value: publish.usec / publish.calls });
          perCommand.push({ usage, publishes: Math.max(1, result.published) });
        }
      }
    }
    const cluster = c.get('cluster', 'µs CPU/msg');
    const single = c.get('single', 'µs CPU/msg');
    const clusterRate = c.get('cluster-rate', 'msg/s')?.value;
    const singleRate = c.get('single-rate', 'msg/s')?.value;
    const last = perCommand.at(-1);
    const redisCalls = c.get('redis-calls', 'commands/publish');
    const usec = c.get('publish-usec', 'µs')?.value ?? Number.NaN;
    if (shape.qos === 0) publishUsec = usec;
    rows.push(
      compareRow({
        ...(shape.qos === 0 ? ROWS.messageCpu0 : ROWS.messageCpu1),
        scenario: SCENARIO,
        latchkey: cluster && { ...cluster, detail: `${num(clusterRate)} msg/s` },
        reference: single && { name: '1 SQLite node', m: { ...single, detail: `${num(singleRate)} msg/s` } },
        target: { kind: 'none' },
        notes: [
          `1 publisher → 1 subscriber, ${PAYLOAD_BYTES}-byte payloads${shape.qos ? ', 100 in flight' : ''}, sending for up to ${ctx.runMs / 1000} s per rep; CPU summed over both nodes, per delivery; zero loss required`,
          `msg/s: cluster ${num(clusterRate)}, single ${num(singleRate)} (${ratio(clusterRate, singleRate)})`,
          `Redis CPU ${num(c.get('redis-cpu', 'µs')?.value, 1)} µs per message`,
        ],
        invalid: Boolean(cluster?.note ?? single?.note),
      }),
    );
    if (shape.qos === 0) {
      rows.push(
        compareRow({
          ...ROWS.redisPublish,
          scenario: SCENARIO,
          latchkey: redisCalls && { ...redisCalls, detail: `${num(usec, 1)} µs of Redis time per PUBLISH` },
          reference: null,
          target: { kind: 'none' },
          notes: [last ? `QoS 0 by command (last rep): ${perOperation(last.usage.redis, last.publishes)}` : ''].filter(Boolean),
        }),
      );
    } else {
      const qos0 = rows.find((r) => r.id === ROWS.redisPublish.id);
      qos0?.notes.push(`QoS 1: ${num(redisCalls?.value, 2)} commands per publish${last ? ` (${perOperation(last.usage.redis, last.publishes)})` : ''}`);
    }
  }
  return { rows, publishUsec };
}

// ---------------------------------------------------------------- latency

async function latencies(ctx: BenchContext, sides: Side[]): Promise<Row[]> {
  const clients = await pubSubClients(sides, 'probe');
  const rows: Row[] = [];
  const durationMs = ctx.runMs;
  for (const qos of [0, 1] as const) {
    const c = new RepCollector();
    // Context: two clients on one cluster node still go through Redis.
    const variants = [
      { key: 'single', side: sides[0]!, crossNode: true },
      { key: 'cluster', side: sides[1]!, crossNode: true },
      { key: 'cluster-same-node', side: sides[1]!, crossNode: false },
    ];
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const v of variants) {
        const e = ends(v.side);
        const r = await latencyProbe({
          publisherTarget: e.pub,
          subscriberTarget: v.crossNode ? e.sub : e.pub,
          publisher: clients.get(v.side.name)!.publisher,
          subscriber: clients.get(v.side.name)!.subscriber,
          topic: TOPIC,
          filter: FILTER,
          qos,
          ratePerSecond: PROBE_RATE,
          durationMs,
          payloadBytes: PAYLOAD_BYTES,
        });
        const lost = r.sent - r.received;
        ctx.log(`  latency QoS ${qos} ${v.key} rep ${rep + 1}: ${r.received}/${r.sent}, p50 ${pct(r.latencies, 50)} ms, p99 ${pct(r.latencies, 99)} ms`);
        c.add(v.key, { value: Number.NaN, latencies: r.latencies, ...(lost ? { note: `lost ${lost} of ${r.sent}` } : {}) });
      }
    }
    const asP99 = (key: string): Measurement | null => {
      const m = c.get(key, 'ms p99');
      return m && { ...m, value: m.p99Ms ?? Number.NaN, reps: [] };
    };
    const cluster = asP99('cluster');
    const single = asP99('single');
    const same = asP99('cluster-same-node');
    rows.push(
      compareRow({
        ...(qos === 0 ? ROWS.latency0 : ROWS.latency1),
        scenario: SCENARIO,
        latchkey: cluster,
        reference: single && { name: '1 SQLite node', m: single },
        others: [{ name: 'cluster, same node', m: same }],
        target: { kind: 'none' },
        notes: [`${PROBE_RATE} msg/s paced for ${durationMs / 1000} s per rep, send time in the payload (one clock); medians of each rep's p50 and p99`],
        invalid: Boolean(cluster?.note ?? single?.note),
      }),
    );
  }
  return rows;
}

function pct(samples: number[], p: number): string {
  if (samples.length === 0) return '–';
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(2);
}

// ---------------------------------------------------------------- memory

/** What one PUBLISH cost Redis with every idle session's wildcard subscription held on node A. */
interface ThroughLatchkey {
  sessions: number;
  usecPerPublish: number;
  note: string;
}

async function memory(ctx: BenchContext, sides: Side[], redis: BenchRedis, started: LatchkeyUnderTest[]): Promise<{ rows: Row[]; patterns: ThroughLatchkey }> {
  let sessions = size(ctx, 5_000, 500);
  const notes: string[] = [];
  const limit = openFileLimit(process.pid);
  if (limit < sessions + 300) {
    notes.push(`open-file limit ${limit}: ${limit - 300} sessions instead of ${sessions}`);
    sessions = limit - 300;
  }
  const ids = Array.from({ length: sessions }, (_, i) => `idle-${i}`);
  const filters = ids.map((id) => `idle/${id}/#`);
  const single = sides[0]!.nodes[0]!;
  const [a, b] = sides[1]!.nodes as [LatchkeyUnderTest, LatchkeyUnderTest];
  ctx.log(`  registering ${sessions} clients on each side and fetching their tokens`);
  const provision = async (server: ServerHandle) => {
    const creds = await createClients(server, ids, 'mqtt:subscribe:idle/{client_id}/#');
    const tokens = await fetchTokens(server, creds, 1);
    return ids.map((id, i) => connectPacket({ clientId: id, username: id, password: tokens[i]![0]! }));
  };
  const singlePackets = await provision(single.server);
  // The cluster provisions through B, so that A, restarted, starts as fresh as the single node.
  const clusterPackets = await provision(b.server);

  // Fresh processes on the same data: provisioning and the earlier parts grew both heaps.
  const restart = async (node: LatchkeyUnderTest) => {
    await node.server.stop();
    // The node stays in `started`, so the scenario's end stops the new process.
    node.server = await launch(ctx, node.server.name, 'latchkey', node.options);
    return node.server;
  };
  const freshSingle = await restart(single);
  const freshA = await restart(a);
  await settle(2_000);

  let redisBytes = Number.NaN;
  let patternUsec = Number.NaN;
  let patternNote = '';
  // Registered through B, so A's heap has seen nothing but the sessions measured.
  const probe = await pubSubClients([{ ...sides[1]!, nodes: [b, a] }], 'patterns');
  const redisBefore = await redis.usedMemory();
  const clusterMemory = await measureIdleSessions(ctx, freshA, mqttTarget(freshA, 'mqtt'), clusterPackets, {
    countSessions: true,
    filters,
    whileOpen: async () => {
      redisBytes = await redis.usedMemory();
      // With every idle session's pattern subscribed on A, what one PUBLISH costs Redis.
      const meter = sides[1]!.meter.withNodes([freshA, b.server]);
      const { result, usage } = await meter.measure(() =>
        pubSub({
          target: mqttTarget(freshA, 'mqtt'),
          subscriberTarget: mqttTarget(b.server, 'mqtt'),
          publishers: [probe.get('cluster')!.publisher],
          subscribers: [probe.get('cluster')!.subscriber],
          topic: TOPIC,
          filter: FILTER,
          qos: 0,
          messagesPerPublisher: size(ctx, 10_000, 1_000),
          sendTimeMs: ctx.runMs / 2,
          payloadBytes: PAYLOAD_BYTES,
          window: 100,
          timeLimitMs: 60_000,
        }),
      );
      const publish = usage.redis.get('publish');
      patternUsec = publish ? publish.usec / publish.calls : Number.NaN;
      patternNote = `${num((result.delivered * 1000) / result.durationMs)} msg/s A → B, Redis CPU ${num((usage.redisCpuMs * 1000) / Math.max(1, result.delivered), 1)} µs per message`;
      if (result.delivered !== result.expected) patternNote += `, lost ${result.expected - result.delivered}`;
    },
  });
  const singleMemory = await measureIdleSessions(ctx, freshSingle, mqttTarget(freshSingle, 'mqtt'), singlePackets, { countSessions: true, filters });
  const redisPerSession = (redisBytes - redisBefore) / sessions;
  const rows = [
    compareRow({
      ...ROWS.memory,
      scenario: SCENARIO,
      latchkey: clusterMemory,
      reference: { name: '1 SQLite node', m: singleMemory },
      target: { kind: 'none' },
      notes: [
        ...notes,
        `${sessions.toLocaleString('en-US')} sessions, each subscribed to idle/<id>/# at QoS 1; VmRSS growth after GC ÷ sessions, fresh processes; one repetition`,
        `Redis used_memory grew ${num(redisPerSession)} B per session`,
        `cluster node ${clusterMemory.detail ?? ''}; single node ${singleMemory.detail ?? ''}`,
      ],
      invalid: Boolean(clusterMemory.note ?? singleMemory.note),
    }),
  ];
  return { rows, patterns: { sessions, usecPerPublish: patternUsec, note: patternNote } };
}

// ---------------------------------------------------------------- Redis patterns

/**
 * Redis' time per PUBLISH against the number of subscription patterns it
 * holds, straight on the cluster's Redis (the nodes idle): the routing
 * cost of wildcard subscriptions at device counts the machine cannot hold
 * as sessions, with the point measured through latchkey beside it.
 */
async function patternCost(ctx: BenchContext, redis: BenchRedis, fewUsec: number, through: ThroughLatchkey): Promise<Row> {
  const counts = ctx.quick ? [0, 1_000, 10_000] : [0, 1_000, 10_000, 100_000];
  // The memory part's sessions have just closed: their patterns leave Redis one by one. Wait for the nodes' own few.
  const deadline = Date.now() + 120_000;
  const settling = Date.now();
  let others = await redis.patternCount();
  while (others > 50 && Date.now() < deadline) {
    await settle(500);
    others = await redis.patternCount();
  }
  const drainedMs = Date.now() - settling;
  ctx.log(`  Redis holds ${others} patterns of the nodes' own (after ${(drainedMs / 1000).toFixed(1)} s)`);
  const points: { patterns: number; usec: number; bytesPerPattern: number; subscribeMs: number }[] = [];
  for (const patterns of counts) {
    const memoryBefore = await redis.usedMemory();
    let point = { patterns, usec: Number.NaN, bytesPerPattern: 0 };
    const { subscribeMs } = await publishUnderPatterns(redis.port, patterns, ctx.quick ? 500 : 1_500, async (publish) => {
      const memoryHeld = await redis.usedMemory();
      const held = await redis.patternCount();
      if (held !== patterns + others) throw new Error(`Redis holds ${held} patterns, expected ${patterns} + the nodes' ${others}`);
      const before = await redis.commandStats();
      const sent = await publish();
      const delta = commandDelta(before, await redis.commandStats()).get('publish');
      const usec = delta ? delta.usec / delta.calls : Number.NaN;
      point = { patterns, usec, bytesPerPattern: patterns ? (memoryHeld - memoryBefore) / patterns : 0 };
      ctx.log(`  Redis with ${patterns.toLocaleString('en-US')} patterns: ${usec.toFixed(2)} µs per PUBLISH (${sent} published)`);
    });
    points.push({ ...point, subscribeMs });
  }
  const none = points[0]!;
  const most = points.at(-1)!;
  const previous = points.at(-2)!;
  // The slope between the two largest counts: what each further pattern adds to every PUBLISH.
  const nsPerPattern = ((most.usec - previous.usec) * 1000) / (most.patterns - previous.patterns);
  const atMillion = most.usec + (nsPerPattern * (1_000_000 - most.patterns)) / 1000;
  return compareRow({
    ...ROWS.redisPatterns,
    scenario: SCENARIO,
    latchkey: { value: most.usec, unit: 'µs/PUBLISH', reps: [most.usec], detail: `${most.patterns.toLocaleString('en-US')} patterns` },
    reference: { name: 'no patterns', m: { value: none.usec, unit: 'µs/PUBLISH', reps: [none.usec] } },
    target: { kind: 'none' },
    notes: [
      `Redis' own time (INFO commandstats) per PUBLISH to a topic no pattern matches, the nodes idle and holding ${others} patterns of their own: ${points.map((p) => `${p.patterns.toLocaleString('en-US')} patterns ${num(p.usec, 2)} µs`).join(', ')}`,
      `≈ ${num(nsPerPattern, 1)} ns per pattern per PUBLISH → ${num(atMillion / 1000, 1)} ms per PUBLISH at 1,000,000 patterns (linear from the last two points; the growth so far was faster than linear), at most ${num(1e6 / atMillion)} PUBLISH/s for the whole cluster`,
      `${num(most.bytesPerPattern)} B of Redis memory per pattern; subscribing them on one connection (as one node does) took ${points.map((p) => `${num(p.subscribeMs / 1000, 1)} s`).join(', ')}`,
      `through latchkey: ${through.sessions.toLocaleString('en-US')} idle sessions with one idle/<id>/# subscription each on node A → ${num(through.usecPerPublish, 1)} µs per PUBLISH (few patterns: ${num(fewUsec, 2)} µs); ${through.note}`,
      'mqemitter-redis PSUBSCRIBEs one pattern per distinct wildcard filter (an exact topic is a SUBSCRIBE, a hash lookup); Redis checks every PUBLISH against every pattern',
      drainedMs >= 1_000 ? `the memory part's closed sessions took ${(drainedMs / 1000).toFixed(1)} s to leave Redis's patterns` : '',
    ].filter(Boolean),
  });
}

// ---------------------------------------------------------------- formatting

function num(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return digits === 0 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';
}
