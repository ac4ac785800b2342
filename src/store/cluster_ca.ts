import type { Db } from './sql.js';

/** The CA every node of a cluster shares, as its files hold it (the key sealed when a passphrase is set). */
export interface ClusterCaRecord {
  certPem: string;
  keyPem: string;
}

/**
 * The cluster_ca table (PostgreSQL only, see postgres/schema.ts): one row,
 * so a device certificate issued by one node is accepted by every other.
 */
export class ClusterCaTable {
  readonly #get;
  readonly #put;

  constructor(db: Db) {
    this.#get = db.prepare('SELECT cert_pem AS certPem, key_pem AS keyPem FROM cluster_ca WHERE id = 1');
    // The first node's CA wins; the same CA's key may be replaced by its sealed form.
    this.#put = db.prepare(
      `INSERT INTO cluster_ca (id, cert_pem, key_pem, created_at) VALUES (1, @certPem, @keyPem, @now)
       ON CONFLICT (id) DO UPDATE SET key_pem = excluded.key_pem WHERE cluster_ca.cert_pem = excluded.cert_pem`,
    );
  }

  get(): ClusterCaRecord | undefined {
    return this.#get.get() as ClusterCaRecord | undefined;
  }

  put(record: ClusterCaRecord, now: number): void {
    this.#put.run({ ...record, now });
  }
}
