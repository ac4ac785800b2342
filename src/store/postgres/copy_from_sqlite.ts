/**
 * Copies a SQLite deployment into an empty PostgreSQL store, in one
 * PostgreSQL transaction, and checks the copy before committing it: either
 * every durable row, the CA and the audit record of the move arrive, or
 * nothing does. The plan (which tables, how they are checked) is in
 * migration_plan.ts.
 */
import { createHash } from 'node:crypto';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { AuditTable } from '../audit.js';
import { ClusterCaTable, type ClusterCaRecord } from '../cluster_ca.js';
import type { SqliteDb } from '../database.js';
import { LIVE_SESSION_STALE_MS } from '../live_sessions.js';
import type { Db } from '../sql.js';
import {
  COPIED_TABLES,
  type CopiedTable,
  insertStatement,
  KEY_EXPRESSIONS,
  mismatches,
  rowsPerInsert,
  type TableCount,
  unknownTables,
} from './migration_plan.js';
import type { PostgresDb } from './postgres_db.js';

export interface CopyRequest {
  source: SqliteDb;
  target: PostgresDb;
  /** `ca.crt` and `ca.key` exactly as the deployment's files hold them (the key sealed or not). */
  ca: ClusterCaRecord;
  /** For the `store.migrated` audit event: who, from where, to where (the URL without its password). */
  actor: string;
  from: string;
  to: string;
  now: number;
}

/** MQTT state the SQLite deployment holds that does not move (docs/CLUSTER.md#moving-up-from-sqlite). */
export interface LeftBehind {
  retained_messages: number;
  persistent_sessions: number;
  queued_messages: number;
}

export interface CopyReport {
  tables: Record<CopiedTable, TableCount>;
  left_behind: LeftBehind;
}

/**
 * Copies `source` into `target` and verifies the copy (row counts per
 * table, and the keys of clients, certificates, signing keys, revocations,
 * users, API keys and PATs) inside the transaction; commits only then.
 *
 * @example const { tables } = copySqliteToPostgres({ source: sqlite.sqlite!, target: pg.postgres!, ca, actor: 'cli', from, to, now: Date.now() });
 * @throws LatchkeyError conflict (exit 4) when a node still runs on the SQLite database, or the target already holds rows
 * @throws LatchkeyError internal when the copy does not verify (nothing committed)
 */
export function copySqliteToPostgres(request: CopyRequest): CopyReport {
  const { source, target } = request;
  refuseUnknownTables(source);
  refuseRunningNode(source, request.now);
  // One read snapshot of SQLite (WAL) for the whole copy, so counts and rows agree.
  return source.transaction(() =>
    target.transaction(() => {
      refuseNonEmptyTarget(target);
      const tables = {} as Record<CopiedTable, TableCount>;
      for (const table of COPIED_TABLES) tables[table] = { source: copyTable(source, target, table), copied: 0 };
      new ClusterCaTable(target).put(request.ca, request.now);
      continueSequences(target);

      for (const table of COPIED_TABLES) tables[table].copied = count(target, table);
      const wrong = mismatches(tables, keyDigests(source), keyDigests(target));
      const stored = new ClusterCaTable(target).get();
      if (stored?.certPem !== request.ca.certPem || stored.keyPem !== request.ca.keyPem) wrong.push('cluster_ca: not the CA of the deployment');
      if (wrong.length > 0) throw new LatchkeyError('internal', `the copy did not verify, nothing was written: ${wrong.join('; ')}`);

      const rows = Object.values(tables).reduce((sum, t) => sum + t.source, 0);
      new AuditTable(target).insertMany([
        {
          at: request.now,
          event: 'store.migrated',
          principal: null,
          outcome: 'success',
          reason: null,
          remote: null,
          detail: { actor: request.actor, from: request.from, to: request.to, rows },
        },
      ]);
      return { tables, left_behind: leftBehind(source) };
    })(),
  )();
}

function refuseUnknownTables(source: SqliteDb): void {
  const names = source.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  const unknown = unknownTables(names);
  if (unknown.length > 0) {
    throw new LatchkeyError('internal', `this latchkey does not know how to migrate table(s) ${unknown.join(', ')}: use the latchkey version that made the database`);
  }
}

/** Rows written after the copy would be lost: the SQLite node must be stopped first. */
function refuseRunningNode(source: SqliteDb, now: number): void {
  const running = source
    .prepare('SELECT host, pid, seen_at AS seenAt FROM live_instances WHERE seen_at > ? ORDER BY seen_at DESC')
    .get(now - LIVE_SESSION_STALE_MS) as { host: string; pid: number; seenAt: number } | undefined;
  if (!running) return;
  throw new LatchkeyError(
    'conflict',
    `a latchkey node still runs on this database (pid ${running.pid} on ${running.host}, seen ${Math.max(0, Math.round((now - running.seenAt) / 1000))} s ago): stop it first, so no change is made after the copy (a node killed with -9 counts for ${LIVE_SESSION_STALE_MS / 1000} s)`,
  );
}

/** Any row already there would collide with the copied ones, or mean another deployment: refuse before writing. */
function refuseNonEmptyTarget(target: PostgresDb): void {
  const held = [...COPIED_TABLES, 'cluster_ca'].filter((table) => target.prepare(`SELECT EXISTS (SELECT 1 FROM ${table}) AS held`).pluck().get() === true);
  if (held.length === 0) return;
  throw new LatchkeyError(
    'conflict',
    `the target already holds a latchkey deployment (rows in ${held.join(', ')}); nothing was written: migrate into a new, empty database (createdb), or drop this one if it is not needed`,
  );
}

/** Streams one table across in multi-row INSERTs; returns how many rows SQLite holds. */
function copyTable(source: SqliteDb, target: PostgresDb, table: CopiedTable): number {
  const read = source.prepare(`SELECT * FROM ${table}`).raw(true);
  const columns = read.columns().map((c) => c.name);
  const perInsert = rowsPerInsert(columns.length);
  const full = target.prepare(insertStatement(table, columns, perInsert));
  let batch: unknown[][] = [];
  let rows = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    const insert = batch.length === perInsert ? full : target.prepare(insertStatement(table, columns, batch.length));
    insert.run(...batch.flat());
    rows += batch.length;
    batch = [];
  };
  for (const row of read.iterate() as IterableIterator<unknown[]>) {
    batch.push(row);
    if (batch.length === perInsert) flush();
  }
  flush();
  return rows;
}

/** Identity columns (client_secrets.id, audit_events.id, …) continue after the copied ids. */
function continueSequences(target: PostgresDb): void {
  const identities = target
    .prepare("SELECT table_name AS tableName, column_name AS columnName FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'")
    .all() as { tableName: string; columnName: string }[];
  for (const { tableName, columnName } of identities) {
    target
      .prepare(`SELECT setval(pg_get_serial_sequence('${tableName}', '${columnName}'), COALESCE((SELECT MAX("${columnName}") FROM ${tableName}), 0) + 1, false)`)
      .get();
  }
}

function count(db: Db, table: string): number {
  return Number(db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get());
}

/** A digest of each checked table's keys, sorted here (the two databases collate text differently). */
function keyDigests(db: Db): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [table, expression] of Object.entries(KEY_EXPRESSIONS)) {
    const keys = (db.prepare(`SELECT ${expression} FROM ${table}`).pluck().all() as string[]).sort();
    digests[table] = createHash('sha256').update(keys.join('\n')).digest('hex');
  }
  return digests;
}

function leftBehind(source: SqliteDb): LeftBehind {
  const n = (sql: string): number => source.prepare(sql).pluck().get() as number;
  return {
    retained_messages: n('SELECT COUNT(*) FROM aedes_retained'),
    persistent_sessions: n('SELECT COUNT(DISTINCT client_id) FROM aedes_subscriptions'),
    queued_messages: n('SELECT COUNT(*) FROM aedes_outgoing'),
  };
}
