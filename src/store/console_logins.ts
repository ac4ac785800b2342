import type { Db } from './database.js';

export const CONSOLE_LOGINS_SCHEMA = `
CREATE TABLE IF NOT EXISTS console_logins (
  hash       BLOB PRIMARY KEY,
  user       TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);`;

/** Who a redeemed login link logs in: a user, or (null) the operator who ran the CLI. */
export interface RedeemedLogin {
  user: string | null;
}

/**
 * One-time console login links (`latchkey console`). The CLI is another
 * process, so the link lives in the database, and only as the SHA-256 of
 * its secret: the row alone cannot log anyone in. Times are milliseconds.
 */
export class ConsoleLoginsTable {
  readonly #insert;
  readonly #use;
  readonly #read;
  readonly #prune;

  constructor(db: Db) {
    // "user" quoted: a reserved word in PostgreSQL (where a bare `user` is the session's role).
    this.#insert = db.prepare('INSERT INTO console_logins (hash, "user", created_at, expires_at) VALUES (?, ?, ?, ?)');
    // One statement decides single use: of two racing redemptions exactly one updates the row.
    this.#use = db.prepare('UPDATE console_logins SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?');
    this.#read = db.prepare('SELECT "user" FROM console_logins WHERE hash = ?');
    this.#prune = db.prepare('DELETE FROM console_logins WHERE expires_at < ?');
  }

  /** @example store.consoleLogins.add(hashSecret(secret), 'alice', Date.now(), Date.now() + 300_000) */
  add(hash: Buffer, user: string | null, now: number, expiresAt: number): void {
    this.#prune.run(now - 24 * 3600_000);
    this.#insert.run(hash, user, now, expiresAt);
  }

  /**
   * Marks the link used, if it exists, is unused and has not expired.
   *
   * @returns who it logs in, or null (unknown, used or expired: the caller need not know which)
   */
  redeem(hash: Buffer, now: number): RedeemedLogin | null {
    if (this.#use.run(now, hash, now).changes !== 1) return null;
    const row = this.#read.get(hash) as { user: string | null } | undefined;
    return row ? { user: row.user } : null;
  }
}
