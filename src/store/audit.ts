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
      'INSERT INTO audit_events (at, event, principal, outcome, reason, remote, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#prune = db.prepare('DELETE FROM audit_events WHERE at < ?');
  }

  /** Inserts a batch in one transaction (the audit log buffers per tick). */
  insertMany(events: readonly AuditEvent[]): void {
    this.#db.transaction(() => {
      for (const e of events) {
        this.#insert.run(e.at, e.event, e.principal, e.outcome, e.reason, e.remote, e.detail ? JSON.stringify(e.detail) : null);
      }
    })();
  }

  /** Newest first. */
  query(q: AuditQuery): AuditEvent[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.principal !== undefined) (where.push('principal = ?'), params.push(q.principal));
    if (q.event !== undefined) (where.push('event = ?'), params.push(q.event));
    if (q.since !== undefined) (where.push('at >= ?'), params.push(q.since));
    if (q.until !== undefined) (where.push('at <= ?'), params.push(q.until));
    const sql = `SELECT at, event, principal, outcome, reason, remote, detail FROM audit_events ${
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
      .prepare('SELECT id, at, event, principal, outcome, reason, remote, detail FROM audit_events WHERE id > ? ORDER BY id LIMIT ?')
      .all(afterId, limit) as (Omit<AuditEvent, 'detail'> & { id: number; detail: string | null })[];
    return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
  }

  /** The newest event's row id (0 when there is none). */
  lastId(): number {
    return (this.#db.prepare('SELECT COALESCE(MAX(id), 0) FROM audit_events').pluck().get() as number) ?? 0;
  }

  prune(beforeMs: number): number {
    return this.#prune.run(beforeMs).changes;
  }
}
