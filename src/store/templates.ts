import type { Db } from './database.js';

export const TEMPLATES_SCHEMA = `
CREATE TABLE provisioning_templates (
  name       TEXT PRIMARY KEY,
  scope      TEXT NOT NULL,
  id_prefix  TEXT NOT NULL DEFAULT '',
  cert_days  INTEGER NOT NULL,
  auth       TEXT NOT NULL CHECK (auth IN ('cert', 'secret')),
  created_at INTEGER NOT NULL
);`;

/** How a provisioned device proves itself afterwards: a CA-signed certificate, or a client secret. */
export type TemplateAuth = 'cert' | 'secret';

/** What a provisioned device becomes: its scopes, its id pattern and its credential kind. */
export interface TemplateRecord {
  name: string;
  /** Scopes given to every device provisioned with it (may use `{client_id}`). */
  scope: string;
  /** Every provisioned id starts with this ('' = any id). */
  idPrefix: string;
  /** Lifetime of certificates issued at provisioning and renewal, days. */
  certDays: number;
  auth: TemplateAuth;
  createdAt: number;
}

const COLUMNS = 'name, scope, id_prefix AS idPrefix, cert_days AS certDays, auth, created_at AS createdAt';

/** The provisioning_templates table. Callers wrap writes in `durably`. */
export class TemplatesTable {
  readonly #insert;
  readonly #get;
  readonly #list;
  readonly #delete;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO provisioning_templates (name, scope, id_prefix, cert_days, auth, created_at) VALUES (@name, @scope, @idPrefix, @certDays, @auth, @createdAt)',
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM provisioning_templates WHERE name = ?`);
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM provisioning_templates ORDER BY name`);
    this.#delete = db.prepare('DELETE FROM provisioning_templates WHERE name = ?');
  }

  insert(record: TemplateRecord): void {
    this.#insert.run(record);
  }

  get(name: string): TemplateRecord | undefined {
    return this.#get.get(name) as TemplateRecord | undefined;
  }

  list(): TemplateRecord[] {
    return this.#list.all() as TemplateRecord[];
  }

  /** Deletes the template and (ON DELETE CASCADE) its claims. */
  delete(name: string): boolean {
    return this.#delete.run(name).changes > 0;
  }
}
