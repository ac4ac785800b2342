import type { Db } from './database.js';

export const CLAIMS_SCHEMA = `
CREATE TABLE claims (
  id         TEXT PRIMARY KEY,
  template   TEXT NOT NULL REFERENCES provisioning_templates(name) ON DELETE CASCADE,
  hash       BLOB NOT NULL UNIQUE,
  last4      TEXT NOT NULL,
  uses       INTEGER NOT NULL CHECK (uses > 0),
  used       INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER,
  CHECK (used <= uses)
);
CREATE INDEX claims_by_template ON claims(template);`;

/** A one-time (or few-times) onboarding claim: its SHA-256 hash, never the secret. */
export interface ClaimRecord {
  /** Public id (`clm_…`), for listing, revoking and audit; not a secret. */
  id: string;
  template: string;
  hash: Buffer;
  last4: string;
  /** How many devices it may provision. */
  uses: number;
  /** How many it has provisioned. */
  used: number;
  expiresAt: number;
  createdAt: number;
  /** `cli`, `admin:<name>`, or `client:<hub>` for a claim a hub minted. */
  createdBy: string;
  revokedAt: number | null;
}

const COLUMNS =
  'id, template, hash, last4, uses, used, expires_at AS expiresAt, created_at AS createdAt, created_by AS createdBy, revoked_at AS revokedAt';

/** The claims table. Callers wrap writes in `durably`. */
export class ClaimsTable {
  readonly #insert;
  readonly #byId;
  readonly #byHash;
  readonly #list;
  readonly #revoke;
  readonly #consume;

  constructor(db: Db) {
    this.#insert = db.prepare(
      `INSERT INTO claims (id, template, hash, last4, uses, expires_at, created_at, created_by)
       VALUES (@id, @template, @hash, @last4, @uses, @expiresAt, @createdAt, @createdBy)`,
    );
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM claims WHERE id = ?`);
    this.#byHash = db.prepare(`SELECT ${COLUMNS} FROM claims WHERE hash = ?`);
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM claims ORDER BY created_at DESC`);
    this.#revoke = db.prepare('UPDATE claims SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    // One statement decides: two devices racing for the last use cannot both see it free.
    this.#consume = db.prepare('UPDATE claims SET used = used + 1 WHERE id = ? AND revoked_at IS NULL AND used < uses AND expires_at > ?');
  }

  insert(record: Omit<ClaimRecord, 'used' | 'revokedAt'>): void {
    this.#insert.run(record);
  }

  byId(id: string): ClaimRecord | undefined {
    return this.#byId.get(id) as ClaimRecord | undefined;
  }

  /** The lookup of a presented claim, by the SHA-256 of the whole secret. */
  byHash(hash: Buffer): ClaimRecord | undefined {
    return this.#byHash.get(hash) as ClaimRecord | undefined;
  }

  list(): ClaimRecord[] {
    return this.#list.all() as ClaimRecord[];
  }

  revoke(id: string, now: number): boolean {
    return this.#revoke.run(now, id).changes > 0;
  }

  /**
   * Takes one use if the claim is still usable at `now`; false when it is
   * revoked, expired or used up. Atomic: call it inside the transaction that
   * registers the device, so a use is spent only on success.
   */
  consume(id: string, now: number): boolean {
    return this.#consume.run(id, now).changes > 0;
  }
}
