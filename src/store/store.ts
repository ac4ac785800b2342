import Database from 'better-sqlite3';
import { forgetPersistedSessions } from './aedes_persistence.js';
import { AssertionJtisTable } from './assertion_jtis.js';
import { ApiKeysTable } from './api_keys.js';
import { AuditTable } from './audit.js';
import { CertificatesTable } from './certificates.js';
import { CertificateRenewalsTable } from './certificate_renewals.js';
import { ChangeFeed } from './changes.js';
import { ClaimsTable } from './claims.js';
import { ClientsTable } from './clients.js';
import { ClusterCaTable } from './cluster_ca.js';
import { ConsoleLoginsTable } from './console_logins.js';
import { type Db, durably, openDatabase, type SqliteDb } from './database.js';
import { ChangeListener } from './postgres/change_listener.js';
import { PostgresDb } from './postgres/postgres_db.js';
import { LOCKS } from './postgres/schema.js';
import { isPostgresUrl } from '../config/store_url.js';
import { IssuedTokensTable } from './issued_tokens.js';
import { LiveSessionsTable } from './live_sessions.js';
import { PersonalAccessTokensTable } from './personal_access_tokens.js';
import { ProvisionedClientsTable } from './provisioned_clients.js';
import { RevocationsTable } from './revocations.js';
import { SigningKeysTable } from './signing_keys.js';
import { StaticPasswordsTable } from './static_passwords.js';
import { TemplatesTable } from './templates.js';
import { UsersTable } from './users.js';

/** Every table, over one connection. The only way the rest of latchkey reaches SQL. */
export class Store {
  readonly clients: ClientsTable;
  readonly signingKeys: SigningKeysTable;
  readonly revocations: RevocationsTable;
  readonly certificates: CertificatesTable;
  readonly audit: AuditTable;
  readonly changes: ChangeFeed;
  readonly users: UsersTable;
  readonly personalAccessTokens: PersonalAccessTokensTable;
  readonly apiKeys: ApiKeysTable;
  readonly assertionJtis: AssertionJtisTable;
  readonly consoleLogins: ConsoleLoginsTable;
  readonly liveSessions: LiveSessionsTable;
  readonly issuedTokens: IssuedTokensTable;
  readonly staticPasswords: StaticPasswordsTable;
  readonly templates: TemplatesTable;
  readonly claims: ClaimsTable;
  readonly provisionedClients: ProvisionedClientsTable;
  readonly certificateRenewals: CertificateRenewalsTable;
  /** The SQLite connection (also the MQTT persistence's), or null on PostgreSQL. */
  readonly sqlite: SqliteDb | null;
  /** The PostgreSQL connection, or null on SQLite. */
  readonly postgres: PostgresDb | null;
  /** The CA the nodes share (PostgreSQL only). */
  readonly clusterCa: ClusterCaTable | null;
  #listener: ChangeListener | null = null;
  readonly #nameTaken;
  readonly #longestTtl;

  constructor(
    readonly db: Db,
    private readonly postgresUrl: string | null = null,
  ) {
    this.sqlite = db instanceof Database ? db : null;
    this.postgres = db instanceof PostgresDb ? db : null;
    this.clusterCa = this.postgres ? new ClusterCaTable(db) : null;
    this.clients = new ClientsTable(db);
    this.signingKeys = new SigningKeysTable(db);
    this.revocations = new RevocationsTable(db);
    this.certificates = new CertificatesTable(db);
    this.audit = new AuditTable(db);
    this.changes = new ChangeFeed(db);
    this.users = new UsersTable(db);
    this.personalAccessTokens = new PersonalAccessTokensTable(db);
    this.apiKeys = new ApiKeysTable(db);
    this.assertionJtis = new AssertionJtisTable(db);
    this.consoleLogins = new ConsoleLoginsTable(db);
    this.liveSessions = new LiveSessionsTable(db);
    this.issuedTokens = new IssuedTokensTable(db);
    this.staticPasswords = new StaticPasswordsTable(db);
    this.templates = new TemplatesTable(db);
    this.claims = new ClaimsTable(db);
    this.provisionedClients = new ProvisionedClientsTable(db);
    this.certificateRenewals = new CertificateRenewalsTable(db);
    this.#nameTaken = db.prepare(
      'SELECT 1 FROM clients WHERE id = @name UNION ALL SELECT 1 FROM users WHERE name = @name UNION ALL SELECT 1 FROM api_keys WHERE name = @name',
    );
    this.#longestTtl = db.prepare('SELECT COALESCE(MAX(token_ttl), 86400) FROM clients').pluck();
  }

  /** Names are unique across devices, users and API keys (docs/INTERFACE.md#people-and-integrations). */
  nameTaken(name: string): boolean {
    return this.#nameTaken.get({ name }) !== undefined;
  }

  /** The longest access-token lifetime any client has, seconds. */
  longestTokenTtl(): number {
    return this.#longestTtl.get() as number;
  }

  /**
   * Opens a SQLite file (`<dataDir>/latchkey.db`, or `:memory:`), or a
   * PostgreSQL store by URL (`--store`), bringing its schema up to date.
   *
   * @throws StoreUnavailable (code store_unavailable) when PostgreSQL does not answer
   */
  static open(location: string): Store {
    if (isPostgresUrl(location)) return new Store(PostgresDb.open(location), location);
    return new Store(openDatabase(location));
  }

  /**
   * On PostgreSQL: hear changes committed by other nodes and the CLI (the
   * read cache is off until then). The server calls it; a CLI command does not need it.
   * Resolves once listening, or after the first failed attempt (it keeps retrying).
   */
  async listen(onError?: (err: Error) => void): Promise<void> {
    if (!this.postgres || !this.postgresUrl || this.#listener) return;
    this.#listener = new ChangeListener(this.postgresUrl, this.postgres, onError);
    await this.#listener.start();
  }

  /**
   * Runs a check-then-create that every node does at start (the first
   * signing key, the CA) one node at a time: on PostgreSQL under an advisory
   * lock, so all nodes end up with the same key and CA. On SQLite it just runs.
   */
  async oneAtATime<T>(what: keyof typeof LOCKS, work: () => Promise<T>): Promise<T> {
    return this.postgres ? this.postgres.withLockAsync(LOCKS[what], work) : work();
  }

  /** Whether the store answers now; the reason when it does not (for /healthz). */
  reachable(): { ok: true } | { ok: false; reason: string } {
    if (!this.db.open) return { ok: false, reason: 'the store is closed' };
    if (!this.postgres) return { ok: true };
    try {
      this.postgres.ping();
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  /**
   * Forgets the persistent MQTT sessions of a deleted client, user or API key
   * kept in this store (run it inside the deletion's transaction). Only SQLite
   * keeps MQTT state; on PostgreSQL it lives in Redis, where every node forgets
   * it on the `principal_deleted` change.
   */
  forgetPersistedSessions(principal: string): void {
    if (this.sqlite) forgetPersistedSessions(this.sqlite, principal);
  }

  /** A credential or revocation change: one transaction, fsynced before it returns. */
  durably<T>(work: () => T): T {
    return durably(this.db, work);
  }

  /**
   * Moves whenever another connection commits (SQLite), or whenever a
   * change committed anywhere is announced (PostgreSQL); cheap enough to poll.
   */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  close(): void {
    void this.#listener?.stop();
    this.#listener = null;
    if (this.db.open) this.db.close();
  }
}
