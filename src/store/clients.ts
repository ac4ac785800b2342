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

/**
 * Migration 11: tokens of a client issued before this time (ms) are void.
 * Set when the client moves to another authentication method, so what was
 * obtained with the old credential (a secret now deleted, a replaced key)
 * stops at once instead of renewing itself over MQTT.
 */
export const CLIENTS_CREDENTIALS_NOT_BEFORE = 'ALTER TABLE clients ADD COLUMN credentials_not_before INTEGER;';

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
  /** Access tokens issued before this time (ms) are void: the client changed its auth method then. */
  credentialsNotBefore?: number | null;
}

/** A stored secret hash; `notAfter` null means no end (the current secret). */
export interface SecretRecord {
  hash: Buffer;
  notAfter: number | null;
}

const CLIENT_COLUMNS =
  'id, scope, token_ttl AS tokenTtl, auth_method AS authMethod, public_jwk AS publicJwk, status, incarnation, created_at AS createdAt, updated_at AS updatedAt, credentials_not_before AS credentialsNotBefore';

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
  readonly #setAuthMethod;
  readonly #deleteSecrets;

  constructor(db: Db) {
    this.#get = db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE id = ?`);
    this.#list = db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY id`);
    this.#insert = db.prepare(
      'INSERT INTO clients (id, scope, token_ttl, auth_method, public_jwk, status, incarnation, created_at, updated_at) VALUES (@id, @scope, @tokenTtl, @authMethod, @publicJwk, @status, @incarnation, @createdAt, @updatedAt)',
    );
    this.#setScope = db.prepare('UPDATE clients SET scope = ?, updated_at = ? WHERE id = ?');
    this.#setStatus = db.prepare('UPDATE clients SET status = ?, updated_at = ? WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM clients WHERE id = ?');
    this.#setAuthMethod = db.prepare(
      'UPDATE clients SET auth_method = ?, public_jwk = ?, credentials_not_before = COALESCE(?, credentials_not_before), updated_at = ? WHERE id = ?',
    );
    this.#deleteSecrets = db.prepare('DELETE FROM client_secrets WHERE client_id = ?');
    // Every secret row of the client, whatever `now`: the same statement and arguments on each
    // CONNECT, so the PostgreSQL store answers it from memory; the time filter is applied here.
    this.#secrets = db.prepare('SELECT hash, not_after AS notAfter FROM client_secrets WHERE client_id = ? ORDER BY id');
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

  /**
   * Sets how the client authenticates and its public key (null unless
   * private_key_jwt); `voidTokensBefore` (ms), when given, voids every
   * access token of the client issued before it.
   */
  setAuthMethod(id: string, authMethod: ClientAuthMethod, publicJwk: string | null, voidTokensBefore: number | null): boolean {
    return this.#setAuthMethod.run(authMethod, publicJwk, voidTokensBefore, Date.now(), id).changes > 0;
  }

  /** Deletes every secret of the client, current and in grace; returns how many. */
  deleteSecrets(id: string): number {
    return this.#deleteSecrets.run(id).changes;
  }

  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0;
  }

  /** Secrets valid at `now` (ms): the current one and any still in their grace. */
  validSecrets(id: string, now: number): SecretRecord[] {
    return (this.#secrets.all(id) as SecretRecord[]).filter((s) => s.notAfter === null || s.notAfter > now);
  }

  /**
   * The latest end (ms) of a retired secret's grace at or before `now`, and
   * the next one after it: tokens issued before a grace end are void from
   * then on (tokens/credential_floor.ts). Ended rows are kept for this.
   */
  graceEnds(id: string, now: number): { ended: number | null; ends: number | null } {
    let ended: number | null = null;
    let ends: number | null = null;
    for (const { notAfter } of this.#secrets.all(id) as SecretRecord[]) {
      if (notAfter === null) continue;
      if (notAfter <= now) ended = ended === null ? notAfter : Math.max(ended, notAfter);
      else ends = ends === null ? notAfter : Math.min(ends, notAfter);
    }
    return { ended, ends };
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
