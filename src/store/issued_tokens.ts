import { BATCH_BUSY_TIMEOUT_MS, withBusyTimeout } from './busy_timeout.js';
import type { Db } from './database.js';

export const ISSUED_TOKENS_SCHEMA = `
CREATE TABLE issued_tokens (
  jti       TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  iat       INTEGER NOT NULL,
  exp       INTEGER NOT NULL,
  channel   TEXT NOT NULL,
  scope     TEXT NOT NULL,
  bound     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX issued_tokens_by_exp ON issued_tokens(exp);
CREATE INDEX issued_tokens_by_client ON issued_tokens(client_id, exp);`;

/**
 * What is kept of an issued access token: its metadata, never the token.
 * `iat` and `exp` are seconds since the epoch, as in the JWT.
 */
export interface IssuedTokenRecord {
  jti: string;
  clientId: string;
  iat: number;
  exp: number;
  /** How it was issued: `http`, `https` (token endpoint) or `mqtt` (renewal over `$auth`). */
  channel: string;
  scope: string;
  /** Bound to a client certificate (RFC 8705). */
  bound: boolean;
}

const COLUMNS = 'jti, client_id AS clientId, iat, exp, channel, scope, bound';

/** The issued_tokens table: written in batches, pruned once tokens expire. */
export class IssuedTokensTable {
  readonly #insert;
  readonly #live;
  readonly #prune;
  readonly #insertMany;

  constructor(private readonly db: Db) {
    this.#insert = db.prepare(
      'INSERT OR IGNORE INTO issued_tokens (jti, client_id, iat, exp, channel, scope, bound) VALUES (@jti, @clientId, @iat, @exp, @channel, @scope, @bound)',
    );
    this.#live = db.prepare(
      `SELECT ${COLUMNS} FROM issued_tokens WHERE exp > @now AND (CAST(@clientId AS TEXT) IS NULL OR client_id = @clientId)
       AND jti NOT IN (SELECT jti FROM revoked_tokens) ORDER BY iat DESC, jti LIMIT @limit`,
    );
    this.#prune = db.prepare('DELETE FROM issued_tokens WHERE exp <= ?');
    this.#insertMany = db.transaction((records: readonly IssuedTokenRecord[]) => {
      for (const r of records) this.#insert.run({ ...r, bound: r.bound ? 1 : 0 });
    });
  }

  /** One transaction; waits at most {@link BATCH_BUSY_TIMEOUT_MS} for the write lock, else throws SQLITE_BUSY. */
  insertMany(records: readonly IssuedTokenRecord[]): void {
    withBusyTimeout(this.db, BATCH_BUSY_TIMEOUT_MS, () => this.#insertMany.immediate(records));
  }

  /** Unexpired, unrevoked tokens, newest first. `now` in seconds. */
  live(now: number, clientId: string | null, limit: number): IssuedTokenRecord[] {
    return (this.#live.all({ now, clientId, limit }) as (Omit<IssuedTokenRecord, 'bound'> & { bound: number })[]).map((r) => ({
      ...r,
      bound: r.bound === 1,
    }));
  }

  /** Drops tokens expired at `now` (seconds); returns how many. */
  prune(now: number): number {
    return withBusyTimeout(this.db, BATCH_BUSY_TIMEOUT_MS, () => this.#prune.run(now).changes);
  }
}
