/**
 * The part of a SQL connection the tables use: exactly the subset of
 * better-sqlite3's `Database` they call, so a better-sqlite3 connection is
 * a `Db` as it is (no wrapper, no cost on the SQLite path) and the
 * PostgreSQL connection (postgres/postgres_db.ts) implements the same
 * shape. Every table class is written once, against this.
 */

/** What a write reports. */
export interface RunResult {
  changes: number;
}

/**
 * A prepared statement. Parameters are positional (`?`) or one object for
 * `@name` placeholders, as in better-sqlite3.
 */
export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** From now on `get` and `all` return the first column's value instead of a row. */
  pluck(toggle?: boolean): this;
}

/** `db.transaction(fn)`: calling it runs `fn` in a transaction (a savepoint when nested). */
export interface Transaction<F extends VariableArgFunction> {
  (...args: ArgumentTypes<F>): ReturnType<F>;
  /** Takes the write lock at BEGIN (SQLite); the same as a call on PostgreSQL. */
  immediate(...args: ArgumentTypes<F>): ReturnType<F>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's own spelling, so its Database fits
export type VariableArgFunction = (...params: any[]) => unknown;
export type ArgumentTypes<F extends VariableArgFunction> = F extends (...args: infer A) => unknown ? A : never;

export interface Db {
  prepare(sql: string): Statement;
  transaction<F extends VariableArgFunction>(fn: F): Transaction<F>;
  exec(sql: string): unknown;
  /** SQLite pragmas; on PostgreSQL the few latchkey uses have equivalents or do nothing. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  readonly open: boolean;
  close(): unknown;
}

/**
 * Whether `err` is a unique (or primary key) violation, on either backend:
 * better-sqlite3's SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY, PostgreSQL's SQLSTATE 23505.
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
