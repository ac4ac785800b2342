import type { Db } from './database.js';

export const PERSONAL_ACCESS_TOKENS_SCHEMA = `
CREATE TABLE personal_access_tokens (
  id             TEXT PRIMARY KEY,
  user_name      TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  hash           BLOB NOT NULL UNIQUE,
  last4          TEXT NOT NULL,
  scope          TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER,
  revoked_at     INTEGER,
  last_used_at   INTEGER,
  last_used_addr TEXT
);
CREATE INDEX personal_access_tokens_by_user ON personal_access_tokens(user_name);`;

/** A stored personal access token: its SHA-256 hash, never the token. */
export interface PatRecord {
  /** Public id (`pat_…`), for listing and revoking; not a secret. */
  id: string;
  user: string;
  /** The label its owner gave it ("laptop", "ci"). */
  name: string;
  hash: Buffer;
  last4: string;
  scope: string;
  createdAt: number;
  /** Milliseconds; null when created with `--expires-in never`. */
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  lastUsedAddr: string | null;
}

const COLUMNS =
  'id, user_name AS user, name, hash, last4, scope, created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt, last_used_at AS lastUsedAt, last_used_addr AS lastUsedAddr';

/** The personal_access_tokens table. Callers wrap writes in `durably`. */
export class PersonalAccessTokensTable {
  readonly #insert;
  readonly #byId;
  readonly #byHash;
  readonly #list;
  readonly #listByUser;
  readonly #revoke;
  readonly #touch;

  constructor(db: Db) {
    this.#insert = db.prepare(
      `INSERT INTO personal_access_tokens (id, user_name, name, hash, last4, scope, created_at, expires_at)
       VALUES (@id, @user, @name, @hash, @last4, @scope, @createdAt, @expiresAt)`,
    );
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM personal_access_tokens WHERE id = ?`);
    this.#byHash = db.prepare(`SELECT ${COLUMNS} FROM personal_access_tokens WHERE hash = ?`);
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM personal_access_tokens ORDER BY user_name, created_at`);
    this.#listByUser = db.prepare(`SELECT ${COLUMNS} FROM personal_access_tokens WHERE user_name = ? ORDER BY created_at`);
    this.#revoke = db.prepare('UPDATE personal_access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.#touch = db.prepare('UPDATE personal_access_tokens SET last_used_at = ?, last_used_addr = ? WHERE id = ?');
  }

  insert(record: Omit<PatRecord, 'revokedAt' | 'lastUsedAt' | 'lastUsedAddr'>): void {
    this.#insert.run(record);
  }

  byId(id: string): PatRecord | undefined {
    return this.#byId.get(id) as PatRecord | undefined;
  }

  /** The lookup of a presented token, by the SHA-256 of the whole token. */
  byHash(hash: Buffer): PatRecord | undefined {
    return this.#byHash.get(hash) as PatRecord | undefined;
  }

  list(user?: string): PatRecord[] {
    return (user === undefined ? this.#list.all() : this.#listByUser.all(user)) as PatRecord[];
  }

  /** Returns false when there is no such token or it was already revoked. */
  revoke(id: string, now: number): boolean {
    return this.#revoke.run(now, id).changes > 0;
  }

  touch(id: string, at: number, addr: string | null): void {
    this.#touch.run(at, addr, id);
  }
}
