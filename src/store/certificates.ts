import type { Db } from './database.js';

export const CERTIFICATES_SCHEMA = `
CREATE TABLE certificates (
  issuer      TEXT NOT NULL,
  serial      TEXT NOT NULL,
  client_id   TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  not_before  INTEGER NOT NULL,
  not_after   INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER,
  PRIMARY KEY (issuer, serial)
);
CREATE INDEX certificates_by_client ON certificates(client_id);`;

/** Revocation checks look certificates up by serial alone, on every mutual-TLS connect (migration 4). */
export const CERTIFICATES_BY_SERIAL_INDEX = 'CREATE INDEX IF NOT EXISTS certificates_by_serial ON certificates(serial);';

/**
 * Migration 5: before it, deleting a client left its certificates valid, so
 * a client re-created under the same id inherited them. Revokes (so they
 * appear in the CRL) every unrevoked certificate whose client is gone or was
 * created after the certificate was recorded: it belonged to an earlier
 * client of that id (`cert issue` records only for an existing client).
 */
export const REVOKE_ORPHANED_CERTIFICATES = `
UPDATE certificates SET revoked_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
WHERE revoked_at IS NULL AND NOT EXISTS (
  SELECT 1 FROM clients c WHERE c.id = certificates.client_id AND c.created_at <= certificates.created_at
);`;

export interface CertificateRecord {
  issuer: string;
  /** Lowercase hex. */
  serial: string;
  clientId: string;
  /** x5t#S256 of the DER. */
  fingerprint: string;
  notBefore: number;
  notAfter: number;
  createdAt: number;
  revokedAt: number | null;
}

const COLUMNS =
  'issuer, serial, client_id AS clientId, fingerprint, not_before AS notBefore, not_after AS notAfter, created_at AS createdAt, revoked_at AS revokedAt';

/** Device certificates issued by the latchkey CA, keyed by issuer and serial. */
export class CertificatesTable {
  readonly #insert;
  readonly #list;
  readonly #listByClient;
  readonly #bySerial;
  readonly #revoke;
  readonly #revoked;
  readonly #unrevokedOf;
  readonly #issuers;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO certificates (issuer, serial, client_id, fingerprint, not_before, not_after, created_at) VALUES (@issuer, @serial, @clientId, @fingerprint, @notBefore, @notAfter, @createdAt)',
    );
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM certificates ORDER BY created_at DESC`);
    this.#listByClient = db.prepare(`SELECT ${COLUMNS} FROM certificates WHERE client_id = ? ORDER BY created_at DESC`);
    this.#bySerial = db.prepare(`SELECT ${COLUMNS} FROM certificates WHERE serial = ?`);
    this.#revoke = db.prepare('UPDATE certificates SET revoked_at = ? WHERE serial = ? AND revoked_at IS NULL');
    this.#revoked = db.prepare(`SELECT ${COLUMNS} FROM certificates WHERE revoked_at IS NOT NULL`);
    this.#unrevokedOf = db.prepare('SELECT serial FROM certificates WHERE client_id = ? AND revoked_at IS NULL').pluck();
    this.#issuers = db.prepare('SELECT DISTINCT issuer FROM certificates').pluck();
  }

  insert(record: Omit<CertificateRecord, 'revokedAt'>): void {
    this.#insert.run(record);
  }

  list(clientId?: string): CertificateRecord[] {
    return (clientId === undefined ? this.#list.all() : this.#listByClient.all(clientId)) as CertificateRecord[];
  }

  bySerial(serial: string): CertificateRecord | undefined {
    return this.#bySerial.get(serial) as CertificateRecord | undefined;
  }

  revoke(serial: string, now: number): boolean {
    return this.#revoke.run(now, serial).changes > 0;
  }

  /** Revokes every unrevoked certificate of `clientId`; returns their serials. */
  revokeAllOf(clientId: string, now: number): string[] {
    const serials = this.#unrevokedOf.all(clientId) as string[];
    for (const serial of serials) this.#revoke.run(now, serial);
    return serials;
  }

  revoked(): CertificateRecord[] {
    return this.#revoked.all() as CertificateRecord[];
  }

  /** Every CA (issuer key) that signed a recorded certificate. */
  issuers(): string[] {
    return this.#issuers.all() as string[];
  }
}
