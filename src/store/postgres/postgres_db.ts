/**
 * The PostgreSQL store as a {@link Db}: the statements the tables prepare
 * (SQLite dialect, translated once per prepare), run over a
 * {@link SyncConnection}, with transactions nested as savepoints as in
 * better-sqlite3, and a read cache for the tables the hot paths read.
 *
 * The cache: a SELECT that touches only {@link CACHED_TABLES}, run outside a
 * transaction, is answered from memory when the same statement ran with the
 * same arguments before. It is emptied by every local write and by every
 * change another node or the CLI commits (their change-feed row is
 * announced by NOTIFY, see change_listener.ts, which calls
 * {@link PostgresDb.changedElsewhere}). An empty answer is kept for at most
 * {@link ABSENCE_TTL_MS}, so a credential created elsewhere is never refused
 * for long even if its writer appended no change; while the listener is not
 * connected, nothing is cached.
 */
import type { Db, RunResult, Statement, Transaction, VariableArgFunction } from '../sql.js';
import { CACHED_TABLES, LOCKS, POSTGRES_MIGRATIONS } from './schema.js';
import { StoreUnavailable, SyncConnection } from './sync_connection.js';
import { bindValues, tablesOf, translate, type TranslatedSql } from './translate.js';
import type { QueryAnswer } from './protocol.js';

/** How long an empty answer (no such client, no such certificate) may be served from memory. */
export const ABSENCE_TTL_MS = 1_000;
/** How long any answer may be; changes invalidate far sooner, this only bounds a missed one. */
export const PRESENCE_TTL_MS = 60_000;
/** Most cached answers; the oldest go first. */
export const CACHE_ENTRIES = 10_000;

/** A statement as prepared once: its PostgreSQL text and what it means for the cache. */
interface Prepared {
  sql: TranslatedSql;
  /** A SELECT of cached tables only. */
  cacheable: boolean;
  /** A write to a cached table: empties the cache. */
  invalidates: boolean;
}

interface CachedAnswer {
  rows: Record<string, unknown>[];
  fields: string[];
  until: number;
}

export class PostgresDb implements Db {
  readonly #connection: SyncConnection;
  readonly #translations = new Map<string, Prepared>();
  readonly #cache = new Map<string, CachedAnswer>();
  #depth = 0;
  /** A write to a cached table happened in the open transaction. */
  #dirty = false;
  #version = 0;
  #cacheEnabled = false;

  constructor(connection: SyncConnection) {
    this.#connection = connection;
  }

  /**
   * Connects and brings the schema up to date, under an advisory lock so
   * nodes starting together do not race.
   *
   * @example const db = PostgresDb.open('postgres://latchkey@db/latchkey');
   */
  static open(url: string, timeoutMs?: number): PostgresDb {
    const db = new PostgresDb(new SyncConnection(url, timeoutMs));
    try {
      db.migrate();
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  }

  /** Applies every PostgreSQL migration not yet recorded in `schema_migrations`. */
  migrate(): void {
    this.withLock(LOCKS.schema, () => {
      this.#connection.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const applied = new Set(this.#raw('SELECT version FROM schema_migrations', []).rows.map((r) => Number(r.version)));
      for (const migration of POSTGRES_MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        this.transaction(() => {
          this.#connection.exec(migration.sql);
          this.#raw('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()]);
        })();
      }
    });
  }

  /**
   * Runs `work` holding a session-level advisory lock: one node at a time
   * across the cluster (schema, first signing key, the CA).
   */
  withLock<T>(key: number, work: () => T): T {
    this.#raw('SELECT pg_advisory_lock($1)', [key]);
    try {
      return work();
    } finally {
      this.#raw('SELECT pg_advisory_unlock($1)', [key]);
    }
  }

  /** A round trip, never cached, waiting at most `timeoutMs`: is PostgreSQL there? */
  ping(timeoutMs = 1_000): void {
    this.#connection.probe(timeoutMs);
  }

  /**
   * {@link withLock} around async work (key generation). The lock is taken
   * with `pg_try_advisory_lock`, retried between event-loop turns: a
   * blocking wait would hold this thread while the holder (possibly this
   * very process, another Store) needs it to finish.
   */
  async withLockAsync<T>(key: number, work: () => Promise<T>, waitMs = 60_000): Promise<T> {
    const deadline = Date.now() + waitMs;
    while (this.#raw('SELECT pg_try_advisory_lock($1) AS taken', [key]).rows[0]?.taken !== true) {
      if (Date.now() > deadline) throw new StoreUnavailable(`another node held lock ${key} for more than ${waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      return await work();
    } finally {
      this.#raw('SELECT pg_advisory_unlock($1)', [key]);
    }
  }

  get open(): boolean {
    return !this.#connection.closed;
  }

  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  prepare(sql: string): Statement {
    return new PostgresStatement(this, this.#translation(sql));
  }

  transaction<F extends VariableArgFunction>(fn: F): Transaction<F> {
    const run = (...args: Parameters<F>): ReturnType<F> => {
      const depth = this.#depth;
      const savepoint = `lk_sp_${depth}`;
      this.#raw(depth === 0 ? 'BEGIN' : `SAVEPOINT ${savepoint}`, []);
      this.#depth++;
      try {
        const result = fn(...args) as ReturnType<F>;
        this.#depth--;
        this.#raw(depth === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`, []);
        if (depth === 0 && this.#dirty) this.#cache.clear();
        if (depth === 0) this.#dirty = false;
        return result;
      } catch (err) {
        this.#depth = depth;
        if (depth === 0) this.#dirty = false;
        this.#cache.clear();
        try {
          this.#raw(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`, []);
          if (depth > 0) this.#raw(`RELEASE SAVEPOINT ${savepoint}`, []);
        } catch {
          // The connection is gone: the server rolled back with it. The first error is the one to report.
        }
        throw err;
      }
    };
    return Object.assign(run, { immediate: run, deferred: run, exclusive: run, default: run }) as unknown as Transaction<F>;
  }

  exec(sql: string): this {
    this.#cache.clear();
    this.#connection.exec(sql);
    return this;
  }

  /**
   * The SQLite pragmas latchkey sets or reads. `data_version` is the number
   * of change notifications heard (what the change watcher polls); the lock
   * and durability ones have no meaning here (PostgreSQL commits durably and
   * waits for row locks itself).
   */
  pragma(source: string, options?: { simple?: boolean }): unknown {
    const name = /^\s*(\w+)/.exec(source)?.[1]?.toLowerCase();
    const value = (v: number): unknown => (options?.simple ? v : [{ [name!]: v }]);
    switch (name) {
      case 'data_version':
        return value(this.#version);
      case 'busy_timeout':
      case 'synchronous':
      case 'secure_delete':
      case 'foreign_keys':
      case 'journal_mode':
        return source.includes('=') ? [] : value(0);
      default:
        throw new Error(`PRAGMA ${name} has no PostgreSQL equivalent`);
    }
  }

  close(): this {
    this.#connection.close();
    this.#cache.clear();
    return this;
  }

  /** Another process committed a change (NOTIFY heard): forget what is cached. */
  changedElsewhere(): void {
    this.#cache.clear();
    this.#version++;
  }

  /** Answers from memory only while changes made elsewhere are heard (the listener is connected). */
  setCacheEnabled(enabled: boolean): void {
    this.#cacheEnabled = enabled;
    this.#cache.clear();
  }

  /** How many answers are cached (tests). */
  get cachedAnswers(): number {
    return this.#cache.size;
  }

  /** @internal A statement's execution, cached when it may be. */
  execute(translated: Prepared, params: readonly unknown[]): QueryAnswer {
    const values = bindValues(translated.sql, params);
    const useCache = translated.cacheable && this.#cacheEnabled && this.#depth === 0;
    if (!useCache) {
      const answer = this.#raw(translated.sql.text, values);
      if (translated.invalidates) {
        // Also now: a read later in this transaction is not cached, but one by a caller outside it must not see the old row.
        this.#cache.clear();
        if (this.#depth > 0) this.#dirty = true;
      }
      return answer;
    }
    const key = cacheKey(translated.sql.text, values);
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return { rows: hit.rows.map((r) => ({ ...r })), fields: hit.fields, rowCount: hit.rows.length };
    const answer = this.#raw(translated.sql.text, values);
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, {
      rows: answer.rows.map((r) => ({ ...r })),
      fields: answer.fields,
      until: now + (answer.rows.length === 0 ? ABSENCE_TTL_MS : PRESENCE_TTL_MS),
    });
    return answer;
  }

  #raw(sql: string, values: unknown[]): QueryAnswer {
    const answer = this.#connection.query(sql, values);
    for (const row of answer.rows) {
      for (const [k, v] of Object.entries(row)) if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
    return answer;
  }

  #translation(sql: string): Prepared {
    let known = this.#translations.get(sql);
    if (!known) {
      const reads = /^\s*SELECT\b/i.test(sql);
      const tables = tablesOf(sql);
      known = {
        sql: translate(sql),
        cacheable: reads && tables.length > 0 && tables.every((t) => CACHED_TABLES.has(t)),
        // Cascades (ON DELETE CASCADE) only run from cached tables to cached tables, so the tables named suffice.
        invalidates: !reads && (tables.length === 0 || tables.some((t) => CACHED_TABLES.has(t))),
      };
      this.#translations.set(sql, known);
    }
    return known;
  }
}

class PostgresStatement implements Statement {
  #pluck = false;

  constructor(
    private readonly db: PostgresDb,
    private readonly translated: Prepared,
  ) {}

  run(...params: unknown[]): RunResult {
    return { changes: this.db.execute(this.translated, params).rowCount };
  }

  get(...params: unknown[]): unknown {
    const answer = this.db.execute(this.translated, params);
    const row = answer.rows[0];
    if (row === undefined) return undefined;
    return this.#pluck ? row[answer.fields[0]!] : row;
  }

  all(...params: unknown[]): unknown[] {
    const answer = this.db.execute(this.translated, params);
    if (!this.#pluck) return answer.rows;
    const field = answer.fields[0]!;
    return answer.rows.map((r) => r[field]);
  }

  pluck(toggle = true): this {
    this.#pluck = toggle;
    return this;
  }
}

function cacheKey(sql: string, values: readonly unknown[]): string {
  return `${sql}\u0000${JSON.stringify(values, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? `\u0001${Buffer.from((v as { data: number[] }).data).toString('hex')}` : v))}`;
}
