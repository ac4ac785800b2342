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

/** Longest an event waits in memory before it is written. */
const FLUSH_INTERVAL_MS = 100;
/** A burst this large is written at once rather than waiting for the timer. */
const FLUSH_BATCH = 500;

/**
 * Every decision worth keeping: written to the audit table and logged as a
 * JSON line. Events are buffered and written at most {@link FLUSH_INTERVAL_MS}
 * later in one transaction: under a connect storm a commit per event-loop
 * turn was 14% of the broker's CPU. Credential changes do not wait on this;
 * they are durable before they are acknowledged, and only their audit
 * record can lag.
 */
export class AuditLog {
  #buffer: AuditEvent[] = [];
  #timer: NodeJS.Timeout | null = null;

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
    if (this.#buffer.length >= FLUSH_BATCH) {
      setImmediate(() => this.flush());
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Writes what is buffered; called by the timer and before exit. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#buffer.length === 0 || !this.store.db.open) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.store.audit.insertMany(batch);
  }
}
