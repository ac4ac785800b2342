import type { Db } from './database.js';

export const ASSERTION_JTIS_SCHEMA = `
CREATE TABLE IF NOT EXISTS assertion_jtis (
  client_id TEXT NOT NULL,
  jti       TEXT NOT NULL,
  exp       INTEGER NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX IF NOT EXISTS assertion_jtis_by_exp ON assertion_jtis(exp);`;

/**
 * The `jti` of every client assertion (RFC 7523 §3 item 7) accepted and not
 * yet expired. Kept in SQLite, not memory, so a restart does not reopen the
 * replay window; a row is useless once `exp` (seconds) has passed.
 */
export class AssertionJtisTable {
  readonly #insert;
  readonly #prune;

  constructor(db: Db) {
    this.#insert = db.prepare('INSERT OR IGNORE INTO assertion_jtis (client_id, jti, exp) VALUES (?, ?, ?)');
    this.#prune = db.prepare('DELETE FROM assertion_jtis WHERE exp < ?');
  }

  /**
   * Records a jti for `clientId`, dropping expired ones first.
   *
   * @returns false when this client already used the jti (a replay)
   * @example if (!store.assertionJtis.use('t1', claims.jti, claims.exp, now)) refuse('replayed');
   */
  use(clientId: string, jti: string, exp: number, nowSeconds: number): boolean {
    this.#prune.run(nowSeconds);
    return this.#insert.run(clientId, jti, exp).changes > 0;
  }
}
