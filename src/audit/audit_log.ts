import type { Logger } from '../log/logger.js';
import type { AuditEvent, AuditOutcome } from '../store/audit.js';
import type { Store } from '../store/store.js';

export interface AuditEntry {
  event: string;
  principal?: string | null;
  outcome: AuditOutcome;
  reason?: string | null;
  remote?: string | null;
  detail?: Record<string, unknown> | null;
}

/**
 * Every decision worth keeping: written to the audit table and logged as a
 * JSON line. Events are buffered and written once per tick in one
 * transaction, so a burst of token requests costs one commit, not hundreds.
 */
export class AuditLog {
  #buffer: AuditEvent[] = [];
  #scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  record(entry: AuditEntry): void {
    const event: AuditEvent = {
      at: Date.now(),
      event: entry.event,
      principal: entry.principal ?? null,
      outcome: entry.outcome,
      reason: entry.reason ?? null,
      remote: entry.remote ?? null,
      detail: entry.detail ?? null,
    };
    this.log[event.outcome === 'success' ? 'info' : 'warn']({ audit: event }, event.event);
    this.#buffer.push(event);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is buffered; called each tick and before exit. */
  flush(): void {
    this.#scheduled = false;
    if (this.#buffer.length === 0 || !this.store.db.open) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.store.audit.insertMany(batch);
  }
}
