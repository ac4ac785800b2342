import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { cpuMs } from './proc.js';

/** The PostgreSQL server the cluster scenario uses: `LATCHKEY_BENCH_POSTGRES`, or the role the tests use. */
export const BENCH_POSTGRES = process.env.LATCHKEY_BENCH_POSTGRES ?? 'postgres://latchkey:latchkey@127.0.0.1:5432/postgres';

/** A counter reading of one database (`pg_stat_database`, `pg_stat_user_tables`) and its backends' CPU. */
export interface PgReading {
  /** Transactions committed in the database (every autocommit statement is one). */
  commits: number;
  rollbacks: number;
  /** Rows inserted, updated or deleted, per table. */
  rowsWritten: Map<string, number>;
}

/** utime + stime of each server process (backend) connected to the database now, ms, by pid. */
export type BackendCpu = Map<number, number>;

/** A database the bench created for one run: nodes share it; `drop()` removes it, connections and all. */
export interface BenchDatabase {
  url: string;
  name: string;
  /**
   * The database's counters. PostgreSQL publishes a backend's counts up to
   * a second after its transaction ends, so read after a pause of over a
   * second; each reading is itself one transaction, counted in the next.
   */
  read(): Promise<PgReading>;
  /** The backends' CPU now; read over a connection to another database, so it adds nothing to {@link read}. */
  backendCpu(): Promise<BackendCpu>;
  drop(): Promise<void>;
}

/**
 * Why the bench cannot use PostgreSQL at `url`, or null when it can.
 *
 * @example const why = await postgresMissing(BENCH_POSTGRES);
 */
export async function postgresMissing(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return `PostgreSQL at ${redacted(url)} does not answer (${(err as Error).message}); set LATCHKEY_BENCH_POSTGRES`;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates an empty database on the server of `url` (its role needs
 * CREATEDB or superuser) and a monitoring connection to it.
 *
 * @example const db = await createBenchDatabase(BENCH_POSTGRES); try { … } finally { await db.drop(); }
 */
export async function createBenchDatabase(url: string): Promise<BenchDatabase> {
  const name = `lk_bench_${randomBytes(6).toString('hex')}`;
  await admin(url, `CREATE DATABASE ${name}`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const monitor = new pg.Client({ connectionString: dbUrl.toString() });
  const outside = new pg.Client({ connectionString: url });
  for (const client of [monitor, outside]) {
    client.on('error', () => {});
    await client.connect();
  }
  // The monitor's own backend is not what is measured.
  const monitorPid = (await monitor.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  let dropped = false;
  return {
    url: dbUrl.toString(),
    name,
    async read() {
      // One statement, one transaction: what it adds to the counters is exactly one commit.
      const { rows } = await monitor.query<{ commits: string; rollbacks: string; tables: Record<string, string> | null }>(
        `SELECT d.xact_commit AS commits, d.xact_rollback AS rollbacks,
                (SELECT json_object_agg(relname, n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables) AS tables
           FROM pg_stat_database d WHERE d.datname = current_database()`,
      );
      const row = rows[0]!;
      return {
        commits: Number(row.commits),
        rollbacks: Number(row.rollbacks),
        rowsWritten: new Map(Object.entries(row.tables ?? {}).map(([table, n]) => [table, Number(n)])),
      };
    },
    async backendCpu() {
      const { rows } = await outside.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2', [name, monitorPid]);
      const out: BackendCpu = new Map();
      for (const { pid } of rows) {
        try {
          out.set(pid, cpuMs(pid));
        } catch {
          // The backend ended between the query and the read.
        }
      }
      return out;
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await Promise.all([monitor.end().catch(() => {}), outside.end().catch(() => {})]);
      await admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Rows written per table between two readings, tables that moved only. */
export function rowsWrittenDelta(before: PgReading, after: PgReading): Map<string, number> {
  const out = new Map<string, number>();
  for (const [table, n] of after.rowsWritten) {
    const d = n - (before.rowsWritten.get(table) ?? 0);
    if (d > 0) out.set(table, d);
  }
  return out;
}

/**
 * CPU the backends spent between two readings, ms: a backend that was not
 * there at the first reading counts from zero, one gone by the second is lost.
 */
export function backendCpuDelta(before: BackendCpu, after: BackendCpu): number {
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
