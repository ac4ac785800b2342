import type { Db } from './database.js';

/**
 * `private_jwk` holds the private key as a JWK, or, when
 * `LATCHKEY_KEY_PASSPHRASE` is set, that JWK sealed (src/keys/key_sealing.ts).
 */
export const SIGNING_KEYS_SCHEMA = `
CREATE TABLE signing_keys (
  kid         TEXT PRIMARY KEY,
  private_jwk TEXT NOT NULL,
  public_jwk  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER,
  -- once retired, the public key is published until every token it signed has expired
  publish_until INTEGER
);`;

export interface SigningKeyRecord {
  kid: string;
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
  retiredAt: number | null;
  publishUntil: number | null;
}

const COLUMNS =
  'kid, private_jwk AS privateJwk, public_jwk AS publicJwk, created_at AS createdAt, retired_at AS retiredAt, publish_until AS publishUntil';

/** The signing_keys table: one current key (retired_at NULL) and retired ones still published. */
export class SigningKeysTable {
  readonly #published;
  readonly #insert;
  readonly #retire;
  readonly #prune;
  readonly #all;
  readonly #setPrivate;

  constructor(db: Db) {
    this.#all = db.prepare(`SELECT ${COLUMNS} FROM signing_keys ORDER BY created_at DESC`);
    this.#setPrivate = db.prepare('UPDATE signing_keys SET private_jwk = ? WHERE kid = ?');
    this.#published = db.prepare(
      `SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL OR publish_until > ? ORDER BY created_at DESC`,
    );
    this.#insert = db.prepare(
      'INSERT INTO signing_keys (kid, private_jwk, public_jwk, created_at) VALUES (?, ?, ?, ?)',
    );
    this.#retire = db.prepare(
      'UPDATE signing_keys SET retired_at = ?, publish_until = ? WHERE retired_at IS NULL',
    );
    this.#prune = db.prepare('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND publish_until <= ?');
  }

  /** The current key first, then retired keys still published at `now` (ms). */
  published(now: number): SigningKeyRecord[] {
    return this.#published.all(now) as SigningKeyRecord[];
  }

  insert(kid: string, privateJwk: string, publicJwk: string, now: number): void {
    this.#insert.run(kid, privateJwk, publicJwk, now);
  }

  /** Retires the current key; its public half stays published until `publishUntil` (ms). */
  retireCurrent(now: number, publishUntil: number): void {
    this.#retire.run(now, publishUntil);
  }

  /** Every stored key, published or not, newest first. */
  all(): SigningKeyRecord[] {
    return this.#all.all() as SigningKeyRecord[];
  }

  /** Replaces a key's stored private half (when it is sealed under a passphrase). */
  setPrivate(kid: string, privateJwk: string): void {
    this.#setPrivate.run(privateJwk, kid);
  }

  prune(now: number): void {
    this.#prune.run(now);
  }
}
