import { BATCH_BUSY_TIMEOUT_MS, withBusyTimeout } from './busy_timeout.js';
import type { Db } from './database.js';

export const LIVE_SESSIONS_SCHEMA = `
CREATE TABLE live_instances (
  instance   TEXT PRIMARY KEY,
  host       TEXT NOT NULL,
  pid        INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  seen_at    INTEGER NOT NULL
);
CREATE TABLE live_sessions (
  instance      TEXT NOT NULL,
  client_id     TEXT NOT NULL,
  principal     TEXT NOT NULL,
  kind          TEXT NOT NULL,
  method        TEXT NOT NULL,
  credential_id TEXT NOT NULL,
  remote        TEXT,
  connected_at  INTEGER NOT NULL,
  expires_at    INTEGER,
  subscriptions TEXT NOT NULL,
  PRIMARY KEY (instance, client_id)
);
CREATE INDEX live_sessions_by_principal ON live_sessions(principal);
CREATE INDEX live_sessions_by_client_id ON live_sessions(client_id);`;

/** How often a server process says it is alive (its live_instances row). */
export const LIVE_SESSION_HEARTBEAT_MS = 5_000;
/**
 * A process not heard from for this long is taken for dead: readers ignore
 * its rows, and the next process to heartbeat deletes them.
 */
export const LIVE_SESSION_STALE_MS = 3 * LIVE_SESSION_HEARTBEAT_MS;

/**
 * A live MQTT session as a server process publishes it for the CLI and
 * other nodes. `credential_id` is a jti, certificate serial, PAT id or
 * secret id: an identifier, never a secret.
 */
export interface LiveSessionRecord {
  instance: string;
  clientId: string;
  principal: string;
  kind: string;
  method: string;
  credentialId: string;
  remote: string | null;
  connectedAt: number;
  /** Milliseconds; null when the credential never expires. */
  expiresAt: number | null;
  subscriptions: string[];
}

const COLUMNS =
  'instance, client_id AS clientId, principal, kind, method, credential_id AS credentialId, remote, connected_at AS connectedAt, expires_at AS expiresAt, subscriptions';
/** Only sessions of processes that have shown a sign of life recently. */
const FRESH = 'instance IN (SELECT instance FROM live_instances WHERE seen_at > @freshSince)';

/**
 * The live_sessions and live_instances tables. Each server process has a
 * random instance id, heartbeats its live_instances row, and owns the
 * live_sessions rows of that id. Readers see only fresh instances, so the
 * rows of a process killed with -9 stop counting after the staleness
 * window and are deleted by the next process that starts or heartbeats.
 * Writes are plain (not `durably`): this is a view of memory, rebuilt on start.
 */
export class LiveSessionsTable {
  readonly #upsertInstance;
  readonly #instanceKnown;
  readonly #upsert;
  readonly #remove;
  readonly #list;
  readonly #byClientId;
  readonly #countByPrincipal;
  readonly #dropInstance;
  readonly #dropInstanceSessions;
  readonly #staleInstances;
  readonly #begin;

  constructor(private readonly db: Db) {
    this.#upsertInstance = db.prepare(
      'INSERT INTO live_instances (instance, host, pid, started_at, seen_at) VALUES (@instance, @host, @pid, @startedAt, @seenAt) ON CONFLICT(instance) DO UPDATE SET seen_at = excluded.seen_at',
    );
    this.#instanceKnown = db.prepare('SELECT 1 FROM live_instances WHERE instance = ?');
    this.#upsert = db.prepare(
      `INSERT INTO live_sessions (instance, client_id, principal, kind, method, credential_id, remote, connected_at, expires_at, subscriptions)
       VALUES (@instance, @clientId, @principal, @kind, @method, @credentialId, @remote, @connectedAt, @expiresAt, @subscriptions)
       ON CONFLICT(instance, client_id) DO UPDATE SET principal = excluded.principal, kind = excluded.kind, method = excluded.method,
         credential_id = excluded.credential_id, remote = excluded.remote, connected_at = excluded.connected_at,
         expires_at = excluded.expires_at, subscriptions = excluded.subscriptions`,
    );
    this.#remove = db.prepare('DELETE FROM live_sessions WHERE instance = ? AND client_id = ?');
    this.#list = db.prepare(
      `SELECT ${COLUMNS} FROM live_sessions WHERE ${FRESH} AND (CAST(@principal AS TEXT) IS NULL OR principal = @principal) ORDER BY client_id, instance`,
    );
    this.#byClientId = db.prepare(`SELECT ${COLUMNS} FROM live_sessions WHERE ${FRESH} AND client_id = @clientId ORDER BY instance`);
    this.#countByPrincipal = db.prepare(`SELECT COUNT(*) FROM live_sessions WHERE ${FRESH} AND principal = @principal`).pluck();
    this.#dropInstance = db.prepare('DELETE FROM live_instances WHERE instance = ?');
    this.#dropInstanceSessions = db.prepare('DELETE FROM live_sessions WHERE instance = ?');
    this.#staleInstances = db
      .prepare('SELECT instance FROM live_instances WHERE seen_at <= ? UNION SELECT DISTINCT instance FROM live_sessions WHERE instance NOT IN (SELECT instance FROM live_instances)')
      .pluck();
    // The server's writes here are best effort and retried: never hold the event loop for a lock.
    this.#begin = (work: () => void) => withBusyTimeout(db, BATCH_BUSY_TIMEOUT_MS, () => db.transaction(work).immediate());
  }

  /**
   * Registers or heartbeats a process. Returns false when its row was
   * missing: first start, or another process took it for dead (its event
   * loop stalled past the staleness window) and deleted its sessions.
   */
  heartbeat(instance: { instance: string; host: string; pid: number; startedAt: number }, now: number): boolean {
    let known = false;
    this.#begin(() => {
      known = this.#instanceKnown.get(instance.instance) !== undefined;
      this.#upsertInstance.run({ ...instance, seenAt: now });
    });
    return known;
  }

  /** Applies a batch of upserts and removals for one instance in one transaction. */
  applyBatch(instance: string, upserts: readonly LiveSessionRecord[], removals: readonly string[]): void {
    this.#begin(() => {
      for (const clientId of removals) this.#remove.run(instance, clientId);
      for (const r of upserts) this.#upsert.run({ ...r, subscriptions: JSON.stringify(r.subscriptions) });
    });
  }

  /** Sessions of fresh instances; only `principal`'s when given. */
  list(freshSince: number, principal: string | null = null): LiveSessionRecord[] {
    return (this.#list.all({ freshSince, principal }) as RawRow[]).map(parseRow);
  }

  byClientId(clientId: string, freshSince: number): LiveSessionRecord[] {
    return (this.#byClientId.all({ freshSince, clientId }) as RawRow[]).map(parseRow);
  }

  countByPrincipal(principal: string, freshSince: number): number {
    return this.#countByPrincipal.get({ freshSince, principal }) as number;
  }

  /** Deletes an instance and its sessions (its clean shutdown, or its staleness). */
  dropInstance(instance: string): void {
    this.#begin(() => {
      this.#dropInstanceSessions.run(instance);
      this.#dropInstance.run(instance);
    });
  }

  /** Deletes every instance not seen since `staleBefore`, and orphaned session rows; returns how many instances. */
  dropStale(staleBefore: number): number {
    const stale = this.#staleInstances.all(staleBefore) as string[];
    for (const instance of stale) this.dropInstance(instance);
    return stale.length;
  }
}

type RawRow = Omit<LiveSessionRecord, 'subscriptions'> & { subscriptions: string };

function parseRow(row: RawRow): LiveSessionRecord {
  return { ...row, subscriptions: JSON.parse(row.subscriptions) as string[] };
}
