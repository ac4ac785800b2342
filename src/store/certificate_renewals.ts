import type { Db } from './database.js';

export const CERTIFICATE_RENEWALS_SCHEMA = `
CREATE TABLE certificate_renewals (
  serial     TEXT PRIMARY KEY,
  replaces   TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  first_used_at INTEGER
);`;

/** A certificate issued by renewal over MQTT, and the one it replaces. */
export interface RenewalRecord {
  /** Serial of the new certificate (lowercase hex). */
  serial: string;
  /** Serial of the certificate the session renewed with. */
  replaces: string;
  clientId: string;
  createdAt: number;
  /** When the new certificate first connected; null until then. */
  firstUsedAt: number | null;
}

const COLUMNS = 'serial, replaces, client_id AS clientId, created_at AS createdAt, first_used_at AS firstUsedAt';

/** The certificate_renewals table. Callers wrap writes in `durably`. */
export class CertificateRenewalsTable {
  readonly #insert;
  readonly #get;
  readonly #markUsed;

  constructor(db: Db) {
    this.#insert = db.prepare('INSERT INTO certificate_renewals (serial, replaces, client_id, created_at) VALUES (@serial, @replaces, @clientId, @createdAt)');
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM certificate_renewals WHERE serial = ?`);
    this.#markUsed = db.prepare('UPDATE certificate_renewals SET first_used_at = ? WHERE serial = ? AND first_used_at IS NULL');
  }

  insert(record: Omit<RenewalRecord, 'firstUsedAt'>): void {
    this.#insert.run(record);
  }

  get(serial: string): RenewalRecord | undefined {
    return this.#get.get(serial) as RenewalRecord | undefined;
  }

  /** True only for the first use: exactly one connection acts on it. */
  markFirstUse(serial: string, now: number): boolean {
    return this.#markUsed.run(now, serial).changes > 0;
  }
}
