import type { Db } from './database.js';

export const API_KEYS_SCHEMA = `
CREATE TABLE api_keys (
  name       TEXT PRIMARY KEY,
  scope      TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE api_key_secrets (
  id             TEXT PRIMARY KEY,
  key_name       TEXT NOT NULL REFERENCES api_keys(name) ON DELETE CASCADE,
  hash           BLOB NOT NULL UNIQUE,
  last4          TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  not_after      INTEGER,
  last_used_at   INTEGER,
  last_used_addr TEXT
);
CREATE INDEX api_key_secrets_by_key ON api_key_secrets(key_name);`;

export type ApiKeyStatus = 'enabled' | 'disabled';

export interface ApiKeyRecord {
  name: string;
  scope: string;
  status: ApiKeyStatus;
  createdAt: number;
  updatedAt: number;
}

/** One secret of an API key: the current one (notAfter null) or one rolled and in its grace. */
export interface ApiKeySecretRecord {
  /** Public id (`key_…`); not a secret. */
  id: string;
  keyName: string;
  hash: Buffer;
  last4: string;
  createdAt: number;
  /** Milliseconds; null for the current secret, the end of the grace for a rolled one. */
  notAfter: number | null;
  lastUsedAt: number | null;
  lastUsedAddr: string | null;
}

const KEY_COLUMNS = 'name, scope, status, created_at AS createdAt, updated_at AS updatedAt';
const SECRET_COLUMNS =
  'id, key_name AS keyName, hash, last4, created_at AS createdAt, not_after AS notAfter, last_used_at AS lastUsedAt, last_used_addr AS lastUsedAddr';

/** The api_keys and api_key_secrets tables. Callers wrap writes in `durably`. */
export class ApiKeysTable {
  readonly #get;
  readonly #list;
  readonly #insert;
  readonly #delete;
  readonly #setStatus;
  readonly #addSecret;
  readonly #secrets;
  readonly #secretById;
  readonly #secretByHash;
  readonly #endSecrets;
  readonly #dropEnded;
  readonly #touch;

  constructor(db: Db) {
    this.#get = db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE name = ?`);
    this.#list = db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY name`);
    this.#insert = db.prepare(
      'INSERT INTO api_keys (name, scope, status, created_at, updated_at) VALUES (@name, @scope, @status, @createdAt, @updatedAt)',
    );
    this.#delete = db.prepare('DELETE FROM api_keys WHERE name = ?');
    this.#setStatus = db.prepare('UPDATE api_keys SET status = ?, updated_at = ? WHERE name = ?');
    this.#addSecret = db.prepare(
      'INSERT INTO api_key_secrets (id, key_name, hash, last4, created_at, not_after) VALUES (@id, @keyName, @hash, @last4, @createdAt, NULL)',
    );
    this.#secrets = db.prepare(
      `SELECT ${SECRET_COLUMNS} FROM api_key_secrets WHERE key_name = ? AND (not_after IS NULL OR not_after > ?) ORDER BY (not_after IS NULL) DESC, created_at DESC`,
    );
    this.#secretById = db.prepare(`SELECT ${SECRET_COLUMNS} FROM api_key_secrets WHERE id = ?`);
    this.#secretByHash = db.prepare(`SELECT ${SECRET_COLUMNS} FROM api_key_secrets WHERE hash = ?`);
    this.#endSecrets = db.prepare(
      'UPDATE api_key_secrets SET not_after = ? WHERE key_name = ? AND (not_after IS NULL OR not_after > ?)',
    );
    this.#dropEnded = db.prepare('DELETE FROM api_key_secrets WHERE key_name = ? AND not_after IS NOT NULL AND not_after <= ?');
    this.#touch = db.prepare('UPDATE api_key_secrets SET last_used_at = ?, last_used_addr = ? WHERE id = ?');
  }

  get(name: string): ApiKeyRecord | undefined {
    return this.#get.get(name) as ApiKeyRecord | undefined;
  }

  list(): ApiKeyRecord[] {
    return this.#list.all() as ApiKeyRecord[];
  }

  insert(key: ApiKeyRecord): void {
    this.#insert.run(key);
  }

  /** Deletes the key and (cascade) every secret of it. */
  delete(name: string): boolean {
    return this.#delete.run(name).changes > 0;
  }

  setStatus(name: string, status: ApiKeyStatus, now: number): boolean {
    return this.#setStatus.run(status, now, name).changes > 0;
  }

  /** Secrets valid at `now`: the current one and any rolled one still in its grace. */
  validSecrets(name: string, now: number): ApiKeySecretRecord[] {
    return this.#secrets.all(name, now) as ApiKeySecretRecord[];
  }

  secretById(id: string): ApiKeySecretRecord | undefined {
    return this.#secretById.get(id) as ApiKeySecretRecord | undefined;
  }

  /** The lookup of a presented key, by the SHA-256 of the whole key. */
  secretByHash(hash: Buffer): ApiKeySecretRecord | undefined {
    return this.#secretByHash.get(hash) as ApiKeySecretRecord | undefined;
  }

  /**
   * Adds a new current secret; every secret valid now stays valid until
   * `graceEndsAt` (ms; `now` ends them at once). Secrets whose grace is
   * already over are dropped: they can never be used again.
   */
  replaceSecret(secret: Pick<ApiKeySecretRecord, 'id' | 'keyName' | 'hash' | 'last4' | 'createdAt'>, graceEndsAt: number, now: number): void {
    this.#dropEnded.run(secret.keyName, now);
    this.#endSecrets.run(graceEndsAt, secret.keyName, now);
    this.#addSecret.run(secret);
  }

  touch(secretId: string, at: number, addr: string | null): void {
    this.#touch.run(at, addr, secretId);
  }
}
