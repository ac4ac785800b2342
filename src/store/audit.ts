import type { Db } from './database.js';

export const AUDIT_SCHEMA = `
CREATE TABLE audit_events (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  event     TEXT NOT NULL,
  principal TEXT,
  outcome   TEXT NOT NULL,
  reason    TEXT,
  remote    TEXT,
  detail    TEXT
);
CREATE INDEX audit_by_at ON audit_events(at);
CREATE INDEX audit_by_principal ON audit_events(principal, at);`;

/**
 * Migration 6: an aggregated row stands for `count` events of one kind (a
 * flood of denials or refused CONNECTs folded into one row per second).
 */
export const AUDIT_COUNT_COLUMN = `ALTER TABLE audit_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;`;

export type AuditOutcome = 'success' | 'failure' | 'denied';

/**
 * One audit event. `reason` says why (the scope that allowed it, or what
 * was wrong); `detail` holds small structured extras (a jti, a count).
 * Never a secret or a whole token.
 */
export interface AuditEvent {
  at: number;
  event: string;
  principal: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  remote: string | null;
  detail: Record<string, unknown> | null;
  /** How many events this row stands for (1 unless aggregated); `detail.samples` then holds up to 5 examples. */
  count?: number;
}

export interface AuditQuery {
  principal?: string;
  event?: string;
  since?: number;
  until?: number;
  limit: number;
}

/** The audit_events table. */
export class AuditTable {
  readonly #db: Db;
  readonly #insert;
  readonly #prune;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO audit_events (at, event, principal, outcome, reason, remote, detail, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // In slices, so pruning months of events never holds the write lock (or the event loop) for long.
    this.#prune = db.prepare('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? ORDER BY at LIMIT ?)');
  }

  /**
   * Inserts a batch in one transaction (the audit log buffers per tick).
   * With `busyTimeoutMs`, waits at most that long for the write lock
   * (instead of the connection's timeout) and throws SQLITE_BUSY after.
   *
   * @example table.insertMany(events, 100)
   */
  insertMany(events: readonly AuditEvent[], busyTimeoutMs?: number): void {
    const write = this.#db.transaction(() => {
      for (const e of events) {
        this.#insert.run(e.at, e.event, e.principal, e.outcome, e.reason, e.remote, e.detail ? JSON.stringify(e.detail) : null, e.count ?? 1);
      }
    });
    this.#waitingAtMost(busyTimeoutMs, () => write.immediate());
  }

  /** Newest first. */
  query(q: AuditQuery): AuditEvent[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.principal !== undefined) (where.push('principal = ?'), params.push(q.principal));
    if (q.event !== undefined) (where.push('event = ?'), params.push(q.event));
    if (q.since !== undefined) (where.push('at >= ?'), params.push(q.since));
    if (q.until !== undefined) (where.push('at <= ?'), params.push(q.until));
    const sql = `SELECT at, event, principal, outcome, reason, remote, detail, count FROM audit_events ${
      where.length ? `WHERE ${where.join(' AND ')}` : ''
    } ORDER BY at DESC, id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...params, q.limit) as (Omit<AuditEvent, 'detail'> & { detail: string | null })[];
    return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
  }

  /**
   * Events written after `afterId`, oldest first, with their row ids: what
   * the console's live tail has not shown yet (events from the CLI too).
   */
  after(afterId: number, limit: number): (AuditEvent & { id: number })[] {
    const rows = this.#db
      .prepare('SELECT id, at, event, principal, outcome, reason, remote, detail, count FROM audit_events WHERE id > ? ORDER BY id LIMIT ?')
      .all(afterId, limit) as (Omit<AuditEvent, 'detail'> & { id: number; detail: string | null })[];
    return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
  }

  /** The newest event's row id (0 when there is none). */
  lastId(): number {
    return (this.#db.prepare('SELECT COALESCE(MAX(id), 0) FROM audit_events').pluck().get() as number) ?? 0;
  }

  /**
   * Deletes up to `slice` events older than `beforeMs`, oldest first; returns how many.
   * Call again until it returns less than `slice`. `busyTimeoutMs` as for {@link insertMany}.
   *
   * @example while (table.prune(cutoff, 5000) === 5000);
   */
  prune(beforeMs: number, slice = 5000, busyTimeoutMs?: number): number {
    return this.#waitingAtMost(busyTimeoutMs, () => this.#prune.run(beforeMs, slice).changes);
  }

  /** Runs `work` with the connection's lock wait lowered to `busyTimeoutMs` (when given), then restores it. */
  #waitingAtMost<T>(busyTimeoutMs: number | undefined, work: () => T): T {
    if (busyTimeoutMs === undefined) return work();
    const usual = this.#db.pragma('busy_timeout', { simple: true }) as number;
    this.#db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    try {
      return work();
    } finally {
      this.#db.pragma(`busy_timeout = ${usual}`);
    }
  }
}
