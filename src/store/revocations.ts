import type { Db } from './database.js';

export const REVOCATIONS_SCHEMA = `
CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY,
  exp        INTEGER NOT NULL,
  client_id  TEXT,
  revoked_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_by_exp ON revoked_tokens(exp);`;

/**
 * The deny-list of access tokens revoked before their expiry. A row is
 * useless once `exp` (seconds) has passed, so it is pruned then.
 */
export class RevocationsTable {
  readonly #insert;
  readonly #unexpired;
  readonly #has;
  readonly #prune;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT OR IGNORE INTO revoked_tokens (jti, exp, client_id, revoked_at) VALUES (?, ?, ?, ?)',
    );
    this.#unexpired = db.prepare('SELECT jti, exp FROM revoked_tokens WHERE exp > ?');
    this.#has = db.prepare('SELECT 1 FROM revoked_tokens WHERE jti = ?');
    this.#prune = db.prepare('DELETE FROM revoked_tokens WHERE exp <= ?');
  }

  /** Returns false when the jti was already revoked. */
  insert(jti: string, exp: number, clientId: string | null, now: number): boolean {
    return this.#insert.run(jti, exp, clientId, now).changes > 0;
  }

  has(jti: string): boolean {
    return this.#has.get(jti) !== undefined;
  }

  /** Every revocation still relevant at `nowSeconds`, to hold in memory. */
  unexpired(nowSeconds: number): { jti: string; exp: number }[] {
    return this.#unexpired.all(nowSeconds) as { jti: string; exp: number }[];
  }

  prune(nowSeconds: number): number {
    return this.#prune.run(nowSeconds).changes;
  }
}
