import type { Db } from './database.js';

export const STATIC_PASSWORDS_SCHEMA = `
CREATE TABLE client_static_passwords (
  id             TEXT PRIMARY KEY,
  client_id      TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  hash           BLOB NOT NULL UNIQUE,
  last4          TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  not_after      INTEGER,
  revoked_at     INTEGER,
  last_used_at   INTEGER,
  last_used_addr TEXT
);
CREATE INDEX client_static_passwords_by_client ON client_static_passwords(client_id);`;

/**
 * A static MQTT password of a device that cannot fetch tokens. Only the
 * SHA-256 of the password is stored. `notAfter` null is the current one;
 * a rotated one keeps working until its grace ends.
 */
export interface StaticPasswordRecord {
  /** Public id (`mqp_…`); not a secret. */
  id: string;
  clientId: string;
  hash: Buffer;
  last4: string;
  createdAt: number;
  notAfter: number | null;
  /** Set by `revoke-password`: refused as revoked (CONNACK 5) until a new password replaces it. */
  revokedAt: number | null;
  lastUsedAt: number | null;
  lastUsedAddr: string | null;
}

const COLUMNS =
  'id, client_id AS clientId, hash, last4, created_at AS createdAt, not_after AS notAfter, revoked_at AS revokedAt, last_used_at AS lastUsedAt, last_used_addr AS lastUsedAddr';

/** The client_static_passwords table. Callers wrap writes in `durably`. */
export class StaticPasswordsTable {
  readonly #add;
  readonly #valid;
  readonly #byId;
  readonly #byHash;
  readonly #end;
  readonly #dropEnded;
  readonly #revokeAll;
  readonly #touch;
  readonly #clientsWith;

  constructor(db: Db) {
    this.#add = db.prepare(
      'INSERT INTO client_static_passwords (id, client_id, hash, last4, created_at, not_after) VALUES (@id, @clientId, @hash, @last4, @createdAt, NULL)',
    );
    this.#valid = db.prepare(
      `SELECT ${COLUMNS} FROM client_static_passwords WHERE client_id = ? AND revoked_at IS NULL AND (not_after IS NULL OR not_after > ?) ORDER BY (not_after IS NULL) DESC, created_at DESC`,
    );
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM client_static_passwords WHERE id = ?`);
    this.#byHash = db.prepare(`SELECT ${COLUMNS} FROM client_static_passwords WHERE hash = ?`);
    this.#end = db.prepare(
      'UPDATE client_static_passwords SET not_after = ? WHERE client_id = ? AND revoked_at IS NULL AND (not_after IS NULL OR not_after > ?)',
    );
    this.#dropEnded = db.prepare('DELETE FROM client_static_passwords WHERE client_id = ? AND not_after IS NOT NULL AND not_after <= ?');
    this.#revokeAll = db.prepare(
      'UPDATE client_static_passwords SET revoked_at = @now, not_after = @now WHERE client_id = @clientId AND revoked_at IS NULL AND (not_after IS NULL OR not_after > @now)',
    );
    this.#touch = db.prepare('UPDATE client_static_passwords SET last_used_at = ?, last_used_addr = ? WHERE id = ?');
    this.#clientsWith = db
      .prepare('SELECT DISTINCT client_id FROM client_static_passwords WHERE revoked_at IS NULL AND (not_after IS NULL OR not_after > ?)')
      .pluck();
  }

  /** Passwords valid at `now`: the current one and any rotated one still in its grace. */
  valid(clientId: string, now: number): StaticPasswordRecord[] {
    return this.#valid.all(clientId, now) as StaticPasswordRecord[];
  }

  byId(id: string): StaticPasswordRecord | undefined {
    return this.#byId.get(id) as StaticPasswordRecord | undefined;
  }

  /** The lookup of a presented password, by the SHA-256 of the whole password. */
  byHash(hash: Buffer): StaticPasswordRecord | undefined {
    return this.#byHash.get(hash) as StaticPasswordRecord | undefined;
  }

  /**
   * Adds a new current password; every one valid now stays valid until
   * `graceEndsAt` (ms; `now` ends them at once). Ones already over (or revoked) are dropped.
   */
  replace(record: Pick<StaticPasswordRecord, 'id' | 'clientId' | 'hash' | 'last4' | 'createdAt'>, graceEndsAt: number, now: number): void {
    this.#dropEnded.run(record.clientId, now);
    this.#end.run(graceEndsAt, record.clientId, now);
    this.#add.run(record);
  }

  /**
   * Revokes every valid password of the client; returns how many. The rows
   * stay (hash only) so a revoked password is refused as revoked, until the
   * next rotation drops them.
   */
  revokeAll(clientId: string, now: number): number {
    return this.#revokeAll.run({ clientId, now }).changes;
  }

  touch(id: string, at: number, addr: string | null): void {
    this.#touch.run(at, addr, id);
  }

  /** Ids of clients with a valid static password at `now`. */
  clientsWithPassword(now: number): Set<string> {
    return new Set(this.#clientsWith.all(now) as string[]);
  }
}
