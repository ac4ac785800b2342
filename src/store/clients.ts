import type { Db } from './database.js';

export const CLIENTS_SCHEMA = `
CREATE TABLE clients (
  id          TEXT PRIMARY KEY,
  scope       TEXT NOT NULL,
  token_ttl   INTEGER NOT NULL,
  auth_method TEXT NOT NULL DEFAULT 'client_secret_basic',
  public_jwk  TEXT,
  status      TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE TABLE client_secrets (
  id         INTEGER PRIMARY KEY,
  client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  hash       BLOB NOT NULL,
  not_after  INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX client_secrets_by_client ON client_secrets(client_id);`;

/**
 * Migration 5: each client row is one incarnation of its id. Rows made
 * before it keep NULL ("legacy"); every client created since gets a random
 * value that its access tokens carry, so a token of a deleted client never
 * fits a later client of the same id.
 */
export const CLIENTS_INCARNATION_COLUMN = 'ALTER TABLE clients ADD COLUMN incarnation TEXT;';

/** How a client proves itself at the token endpoint (RFC 8414 names). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth';
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
];

export type ClientStatus = 'enabled' | 'disabled';

export interface ClientRecord {
  id: string;
  /** Allowed scopes, space separated as in OAuth 2.0. */
  scope: string;
  /** Access-token lifetime, seconds. */
  tokenTtl: number;
  authMethod: ClientAuthMethod;
  /** JSON of the public JWK for `private_key_jwt`. */
  publicJwk: string | null;
  status: ClientStatus;
  /** Random per client row (hex); null for clients created before migration 5. See tokens/incarnation.ts. */
  incarnation: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A stored secret hash; `notAfter` null means no end (the current secret). */
export interface SecretRecord {
  hash: Buffer;
  notAfter: number | null;
}

const CLIENT_COLUMNS =
  'id, scope, token_ttl AS tokenTtl, auth_method AS authMethod, public_jwk AS publicJwk, status, incarnation, created_at AS createdAt, updated_at AS updatedAt';

/** The clients and client_secrets tables. Callers wrap writes in `durably`. */
export class ClientsTable {
  readonly #get;
  readonly #list;
  readonly #insert;
  readonly #setScope;
  readonly #setStatus;
  readonly #delete;
  readonly #secrets;
  readonly #addSecret;
  readonly #endSecrets;

  constructor(db: Db) {
    this.#get = db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE id = ?`);
    this.#list = db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY id`);
    this.#insert = db.prepare(
      'INSERT INTO clients (id, scope, token_ttl, auth_method, public_jwk, status, incarnation, created_at, updated_at) VALUES (@id, @scope, @tokenTtl, @authMethod, @publicJwk, @status, @incarnation, @createdAt, @updatedAt)',
    );
    this.#setScope = db.prepare('UPDATE clients SET scope = ?, updated_at = ? WHERE id = ?');
    this.#setStatus = db.prepare('UPDATE clients SET status = ?, updated_at = ? WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM clients WHERE id = ?');
    this.#secrets = db.prepare(
      'SELECT hash, not_after AS notAfter FROM client_secrets WHERE client_id = ? AND (not_after IS NULL OR not_after > ?)',
    );
    this.#addSecret = db.prepare('INSERT INTO client_secrets (client_id, hash, not_after, created_at) VALUES (?, ?, NULL, ?)');
    this.#endSecrets = db.prepare(
      'UPDATE client_secrets SET not_after = ? WHERE client_id = ? AND (not_after IS NULL OR not_after > ?)',
    );
  }

  get(id: string): ClientRecord | undefined {
    return this.#get.get(id) as ClientRecord | undefined;
  }

  list(): ClientRecord[] {
    return this.#list.all() as ClientRecord[];
  }

  insert(client: ClientRecord): void {
    this.#insert.run(client);
  }

  setScope(id: string, scope: string): boolean {
    return this.#setScope.run(scope, Date.now(), id).changes > 0;
  }

  setStatus(id: string, status: ClientStatus): boolean {
    return this.#setStatus.run(status, Date.now(), id).changes > 0;
  }

  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0;
  }

  /** Secrets valid at `now` (ms): the current one and any still in their grace. */
  validSecrets(id: string, now: number): SecretRecord[] {
    return this.#secrets.all(id, now) as SecretRecord[];
  }

  /**
   * Adds a new current secret; every secret valid now stays valid until
   * `graceEndsAt` (ms) — pass `now` to end them at once.
   */
  replaceSecret(id: string, hash: Buffer, graceEndsAt: number, now: number): void {
    this.#endSecrets.run(graceEndsAt, id, now);
    this.#addSecret.run(id, hash, now);
  }
}
