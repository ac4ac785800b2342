/**
 * What `latchkey migrate --to postgres://…` moves from a SQLite deployment
 * into PostgreSQL, and how it checks the copy. Pure: copy_from_sqlite.ts
 * does the I/O.
 *
 * Every durable table is copied row for row, ids and times included: a
 * device, token or audit line means the same thing on both sides. What
 * belongs to one running process (its live sessions, the change feed it
 * polls) or to the MQTT broker (aedes_*, never kept in PostgreSQL) stays.
 */
import { POSTGRES_TABLES } from './schema.js';

const SKIPPED = {
  changes: 'the change feed tells running nodes what changed; nodes on PostgreSQL start from its own',
  live_instances: 'per process: each node announces itself',
  live_sessions: 'per process: sessions are announced again when devices reconnect',
  aedes_retained: 'MQTT state is not kept in PostgreSQL',
  aedes_subscriptions: 'MQTT state is not kept in PostgreSQL',
  aedes_outgoing: 'MQTT state is not kept in PostgreSQL',
  aedes_incoming: 'MQTT state is not kept in PostgreSQL',
  aedes_wills: 'MQTT state is not kept in PostgreSQL',
  sqlite_sequence: "SQLite's own bookkeeping (AUTOINCREMENT); PostgreSQL's sequences are set after the copy",
} as const;

/** The tables left behind, and why (docs/CLUSTER.md#moving-up-from-sqlite). */
export const SKIPPED_TABLES: Readonly<Record<string, string>> = SKIPPED;

export type CopiedTable = Exclude<(typeof POSTGRES_TABLES)[number], keyof typeof SKIPPED>;

/** The tables copied: every table of the PostgreSQL store but the skipped ones, in its foreign-key order. */
export const COPIED_TABLES: readonly CopiedTable[] = POSTGRES_TABLES.filter((table): table is CopiedTable => !(table in SKIPPED_TABLES));

/**
 * Checks that every table of the source is either copied or knowingly
 * skipped, so a table added by a later SQLite migration cannot be lost
 * silently by a migrate that does not know it.
 *
 * @example unknownTables(['clients', 'widgets']) // ['widgets']
 */
export function unknownTables(sourceTables: readonly string[]): string[] {
  const known = new Set<string>([...COPIED_TABLES, ...Object.keys(SKIPPED_TABLES)]);
  return sourceTables.filter((t) => !known.has(t));
}

/**
 * What identifies a row, for the cheap check that the same rows (not just
 * as many) arrived: an SQL expression per table, common to both dialects.
 */
export const KEY_EXPRESSIONS: Partial<Record<CopiedTable, string>> = {
  clients: 'id',
  certificates: "issuer || ':' || serial",
  signing_keys: 'kid',
  revoked_tokens: 'jti',
  users: 'name',
  api_keys: 'name',
  personal_access_tokens: 'id',
};

/** PostgreSQL takes at most 65,535 parameters per statement; stay well below, and keep statements short. */
const MAX_PARAMETERS = 30_000;
const MAX_ROWS = 500;

/**
 * How many rows one multi-row INSERT carries for a table of `columns` columns.
 *
 * @example rowsPerInsert(9) // 500
 */
export function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / Math.max(1, columns))));
}

/**
 * A multi-row INSERT in the dialect the store's statements use (`?`
 * placeholders), the column names quoted so a reserved word (`user`) works.
 *
 * @example insertStatement('users', ['name', 'scope'], 2) // 'INSERT INTO users ("name", "scope") VALUES (?, ?), (?, ?)'
 */
export function insertStatement(table: string, columns: readonly string[], rows: number): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;
}

/** Rows per table on each side. */
export interface TableCount {
  source: number;
  copied: number;
}

/**
 * The tables whose counts or keys differ between source and target: empty
 * when the copy is verified.
 *
 * @example mismatches({ clients: { source: 2, copied: 2 } }, {}, {}) // []
 */
export function mismatches(
  counts: Readonly<Record<string, TableCount>>,
  sourceKeys: Readonly<Record<string, string>>,
  targetKeys: Readonly<Record<string, string>>,
): string[] {
  const wrong: string[] = [];
  for (const [table, { source, copied }] of Object.entries(counts)) {
    if (source !== copied) wrong.push(`${table}: ${source} rows in SQLite, ${copied} in PostgreSQL`);
  }
  for (const [table, digest] of Object.entries(sourceKeys)) {
    if (targetKeys[table] !== digest) wrong.push(`${table}: not the same rows on both sides`);
  }
  return wrong;
}
