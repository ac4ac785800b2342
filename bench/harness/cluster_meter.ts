import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type BackendCpu, backendCpuDelta, type BenchDatabase, type PgReading, rowsWrittenDelta } from './bench_postgres.js';
import { type BenchRedis, type CommandStats, commandDelta, totalCalls } from './redis_server.js';
import type { ServerHandle } from './server_process.js';

/**
 * PostgreSQL (15+) publishes a backend's counters at most once a second,
 * and a backend that went idle within that second only after 10 s
 * (PGSTAT_IDLE_INTERVAL): a reading waits this long after the work.
 */
export const PG_FLUSH_MS = 10_500;

let profiles = 0;

/** What a timed part cost, on every process that served it. */
export interface Usage {
  /** Wall time of the part, ms. */
  ms: number;
  /** utime + stime of the latchkey nodes, summed, ms. */
  nodeCpuMs: number;
  /** redis-server's CPU, ms (0 without Redis). */
  redisCpuMs: number;
  /** CPU of the database's PostgreSQL backends, ms (0 without PostgreSQL). */
  pgCpuMs: number;
  /** Redis commands, per command, less what the nodes send when idle over the same time. */
  redis: CommandStats;
  redisCalls: number;
  /** PostgreSQL transactions committed, less the idle rate and the meter's own readings. */
  pgCommits: number;
  /** Rows written per table. */
  pgRows: Map<string, number>;
}

interface Mark {
  at: number;
  nodeCpu: number[];
  redisCpu: number;
  redis: CommandStats;
  pg: BackendCpu;
}

/**
 * Reads the counters of a set of latchkey nodes, and of the Redis and
 * PostgreSQL they share when they are cluster nodes, around a timed part.
 * CPU and Redis commands are read right before and after the part;
 * PostgreSQL's transaction counters a little after (they lag), with what
 * the nodes commit when idle taken out (see {@link calibrate}).
 *
 * @example const { result, usage } = await meter.measure(() => connectStorm(opts));
 */
export class ClusterMeter {
  #idleRedisPerMs = new Map<string, number>();
  #idleCommitsPerMs = 0;

  constructor(
    readonly nodes: ServerHandle[],
    readonly redis: BenchRedis | null = null,
    readonly db: BenchDatabase | null = null,
  ) {}

  /** Replaces the node processes (after a restart), keeping the shared services and the idle rates. */
  withNodes(nodes: ServerHandle[]): ClusterMeter {
    const meter = new ClusterMeter(nodes, this.redis, this.db);
    meter.#idleRedisPerMs = this.#idleRedisPerMs;
    meter.#idleCommitsPerMs = this.#idleCommitsPerMs;
    return meter;
  }

  /**
   * What the nodes do to Redis and PostgreSQL with nothing to serve
   * (heartbeats, live-session batches), over `ms`: taken out of every
   * later measurement. Returns the idle rates, per second, for the report.
   */
  async calibrate(ms: number): Promise<{ redisPerS: number; commitsPerS: number }> {
    if (!this.redis && !this.db) return { redisPerS: 0, commitsPerS: 0 };
    const pgBefore = await this.#settledPg();
    const before = await this.#mark();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const after = await this.#mark();
    const pgAfter = await this.#settledPg();
    const elapsed = after.at - before.at;
    this.#idleRedisPerMs = new Map([...commandDelta(before.redis, after.redis)].map(([name, s]) => [name, s.calls / elapsed]));
    this.#idleCommitsPerMs = pgBefore && pgAfter ? Math.max(0, pgAfter.reading.commits - pgBefore.reading.commits - 1) / (pgAfter.at - pgBefore.at) : 0;
    let redisPerMs = 0;
    for (const rate of this.#idleRedisPerMs.values()) redisPerMs += rate;
    return { redisPerS: redisPerMs * 1000, commitsPerS: this.#idleCommitsPerMs * 1000 };
  }

  /**
   * Runs `work` and returns its result with what it cost everywhere.
   * PostgreSQL's counters only with `pg` (they cost two waits of
   * {@link PG_FLUSH_MS}); without it `pgCommits` is NaN.
   */
  async measure<T>(work: () => Promise<T>, opts: { pg?: boolean; label?: string } = {}): Promise<{ result: T; usage: Usage }> {
    const pgBefore = opts.pg ? await this.#settledPg() : null;
    // `--profile`: the timed part only, one profile per node.
    const profiled = this.nodes.filter((n) => n.profileDir);
    await Promise.all(profiled.map((n) => n.request('profileStart')));
    const before = await this.#mark();
    const result = await work();
    const after = await this.#mark();
    const label = `${opts.label ?? 'cluster'}-${++profiles}`;
    await Promise.all(profiled.map((n) => n.request('profileStop', { file: join(n.profileDir!, `${label}-${n.name}.cpuprofile`) })));
    const pgAfter = opts.pg ? await this.#settledPg() : null;
    const ms = after.at - before.at;
    const redis = commandDelta(before.redis, after.redis);
    for (const [name, perMs] of this.#idleRedisPerMs) {
      const s = redis.get(name);
      if (!s) continue;
      const calls = Math.max(0, Math.round(s.calls - perMs * ms));
      if (calls === 0) redis.delete(name);
      else redis.set(name, { calls, usec: s.usec });
    }
    let pgCommits = this.db ? Number.NaN : 0;
    let pgRows = new Map<string, number>();
    if (pgBefore && pgAfter) {
      // One commit is the first reading's own query.
      const raw = pgAfter.reading.commits - pgBefore.reading.commits - 1;
      pgCommits = Math.max(0, raw - this.#idleCommitsPerMs * (pgAfter.at - pgBefore.at));
      pgRows = rowsWrittenDelta(pgBefore.reading, pgAfter.reading);
    }
    return {
      result,
      usage: {
        ms,
        nodeCpuMs: after.nodeCpu.reduce((sum, v, i) => sum + v - before.nodeCpu[i]!, 0),
        redisCpuMs: after.redisCpu - before.redisCpu,
        pgCpuMs: backendCpuDelta(before.pg, after.pg),
        redis,
        redisCalls: totalCalls(redis),
        pgCommits,
        pgRows,
      },
    };
  }

  async #mark(): Promise<Mark> {
    const [redis, pg] = await Promise.all([this.redis?.commandStats() ?? new Map(), this.db?.backendCpu() ?? new Map()]);
    return {
      at: performance.now(),
      nodeCpu: this.nodes.map((n) => n.cpuMs()),
      redisCpu: this.redis?.cpuMs() ?? 0,
      redis: redis as CommandStats,
      pg: pg as BackendCpu,
    };
  }

  async #settledPg(): Promise<{ at: number; reading: PgReading } | null> {
    if (!this.db) return null;
    await new Promise((resolve) => setTimeout(resolve, PG_FLUSH_MS));
    return { at: performance.now(), reading: await this.db.read() };
  }
}

/**
 * `publish 1.00, hset 0.50` — Redis commands (or rows per table) per
 * operation, busiest first, leaving out what rounds to 0.00.
 *
 * @example perOperation(usage.redis, 1000) // 'publish 1.00'
 */
export function perOperation(stats: CommandStats | Map<string, number>, operations: number, top = 6): string {
  const entries = [...stats].map(([name, s]) => [name, typeof s === 'number' ? s : s.calls] as const);
  return entries
    .filter(([, calls]) => calls / Math.max(1, operations) >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, calls]) => `${name} ${(calls / Math.max(1, operations)).toFixed(2)}`)
    .join(', ');
}
