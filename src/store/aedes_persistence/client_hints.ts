import type { Database } from 'better-sqlite3';

/** The tables whose rows belong to one MQTT client. */
export type ClientTable = 'aedes_subscriptions' | 'aedes_outgoing' | 'aedes_incoming' | 'aedes_wills';

/**
 * Which client ids may have rows in each per-client table: loaded once,
 * added to on every write, dropped when a client's rows are all deleted.
 * A clean session with no stored state — nearly every connection — then
 * costs no query at CONNECT or PUBACK. The hint can only err towards a
 * query (an id still listed after its last row went), never towards
 * skipping one.
 */
export class ClientHints {
  readonly #ids: Record<ClientTable, Set<string>>;

  constructor(db: Database) {
    const load = (table: ClientTable) => new Set(db.prepare(`SELECT DISTINCT client_id FROM ${table}`).pluck().all() as string[]);
    this.#ids = {
      aedes_subscriptions: load('aedes_subscriptions'),
      aedes_outgoing: load('aedes_outgoing'),
      aedes_incoming: load('aedes_incoming'),
      aedes_wills: load('aedes_wills'),
    };
  }

  mayHave(table: ClientTable, clientId: string): boolean {
    return this.#ids[table].has(clientId);
  }

  wrote(table: ClientTable, clientId: string): void {
    this.#ids[table].add(clientId);
  }

  /** Every row of this client in `table` was deleted. */
  cleared(table: ClientTable, clientId: string): void {
    this.#ids[table].delete(clientId);
  }
}
