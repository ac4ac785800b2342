import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import { freePort } from '../../src/app/free_port.js';

/**
 * The real PostgreSQL and Redis the cluster tests run against.
 *
 * PostgreSQL is one server for the whole run (`.ci/run` starts Debian's and
 * creates the `latchkey` role); each test makes its own database and drops
 * it. Redis is cheap to start, so each test starts its own `redis-server` on
 * an ephemeral loopback port and stops it by PID: nothing leaks between files.
 */

/** Where the test PostgreSQL server is: `LATCHKEY_TEST_POSTGRES`, or the role `.ci/run` creates. */
export const TEST_POSTGRES = process.env.LATCHKEY_TEST_POSTGRES ?? 'postgres://latchkey:latchkey@127.0.0.1:5432/postgres';

/**
 * Whether the test PostgreSQL server answers. Outside CI a test that needs it
 * skips and says so in its name; with `CI` set its absence is an error.
 *
 * @example describe.skipIf(!havePostgres())('… (skipped without PostgreSQL)', …)
 */
export function havePostgres(): boolean {
  const url = new URL(TEST_POSTGRES);
  const ready = spawnSync('pg_isready', ['-q', '-h', url.hostname, '-p', url.port || '5432'], { stdio: 'ignore' }).status === 0;
  if (!ready && process.env.CI) throw new Error(`CI is set but PostgreSQL does not answer at ${url.host}: .ci/run must install and start it`);
  return ready;
}

/** Whether `redis-server` is installed (same CI rule as {@link havePostgres}). */
export function haveRedis(): boolean {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.CI) throw new Error('CI is set but redis-server is not installed: .ci/run must install it');
  return found;
}

export interface TestDatabase {
  /** `postgres://…/lk_test_<random>`, empty. */
  url: string;
  drop(): Promise<void>;
}

/**
 * A new, empty PostgreSQL database for one test; `drop()` removes it even
 * while connections are still open (a killed node leaves some behind).
 *
 * @example const db = await postgresDatabase(); try { … db.url … } finally { await db.drop(); }
 */
export async function postgresDatabase(): Promise<TestDatabase> {
  const name = `lk_test_${randomBytes(6).toString('hex')}`;
  await asPostgresAdmin(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_POSTGRES);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => void (await asPostgresAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

/**
 * One statement as the test server's administrator (its own connection to
 * the `TEST_POSTGRES` database, closed after).
 *
 * @example await asPostgresAdmin('SELECT pg_terminate_backend($1)', [pid]);
 */
export async function asPostgresAdmin(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a private `redis-server` (no persistence) on a free loopback port
 * and waits until it accepts commands.
 *
 * @example const redis = await startRedis(); try { … redis.url … } finally { await redis.stop(); }
 */
export async function startRedis(): Promise<TestRedis> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort('127.0.0.1');
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = await Promise.race([
      waitFor(() => output.includes('Ready to accept connections'), 10_000).then(() => true),
      once(child, 'exit').then(() => false),
    ]);
    if (started) {
      const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await once(child, 'exit');
      };
      return { url: `redis://127.0.0.1:${port}`, port, process: child, stop };
    }
    // Another test took the port between our probe and redis binding it: try another.
    if (attempt >= 4) throw new Error(`redis-server did not start:\n${output}`);
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
