import type { Db } from './database.js';

export const PROVISIONED_CLIENTS_SCHEMA = `
CREATE TABLE provisioned_clients (
  client_id      TEXT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
  template       TEXT NOT NULL,
  claim_id       TEXT NOT NULL,
  provisioned_by TEXT,
  created_at     INTEGER NOT NULL
);
CREATE INDEX provisioned_clients_by_hub ON provisioned_clients(provisioned_by);`;

/** How a client came to be: which template and claim, and which hub vouched for it (if any). */
export interface ProvisionedRecord {
  clientId: string;
  template: string;
  claimId: string;
  /** The hub client whose claim it used; null for an operator's claim. */
  provisionedBy: string | null;
  createdAt: number;
}

const COLUMNS = 'client_id AS clientId, template, claim_id AS claimId, provisioned_by AS provisionedBy, created_at AS createdAt';

/** The provisioned_clients table. Callers wrap writes in `durably`. */
export class ProvisionedClientsTable {
  readonly #insert;
  readonly #get;
  readonly #byHub;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO provisioned_clients (client_id, template, claim_id, provisioned_by, created_at) VALUES (@clientId, @template, @claimId, @provisionedBy, @createdAt)',
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM provisioned_clients WHERE client_id = ?`);
    this.#byHub = db.prepare(`SELECT ${COLUMNS} FROM provisioned_clients WHERE provisioned_by = ? ORDER BY client_id`);
  }

  insert(record: ProvisionedRecord): void {
    this.#insert.run(record);
  }

  get(clientId: string): ProvisionedRecord | undefined {
    return this.#get.get(clientId) as ProvisionedRecord | undefined;
  }

  /** Every client a hub vouched for. */
  byHub(hub: string): ProvisionedRecord[] {
    return this.#byHub.all(hub) as ProvisionedRecord[];
  }
}
