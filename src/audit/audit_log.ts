import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AuditEvent, AuditOutcome } from '../store/audit.js';
import type { Store } from '../store/store.js';

export interface AuditEntry {
  event: string;
  principal?: string | null;
  outcome: AuditOutcome;
  reason?: string | null;
  remote?: string | null;
  detail?: Record<string, unknown> | null;
  /** Events this entry stands for, when it aggregates several (default 1). */
  count?: number;
  /** When it happened, ms; default now. */
  at?: number;
}

export interface AuditLogOptions {
  /** Counts failed writes and dropped events; the CLI has none. */
  metrics?: Metrics;
  /** Most events held in memory while the database refuses writes; beyond it the oldest are dropped. */
  maxBuffered?: number;
  /**
   * How long one write may wait for the database lock. The server keeps it
   * short: a write blocks the event loop, and a failed one is retried.
   * Default: the connection's own busy timeout.
   */
  busyTimeoutMs?: number;
  /** First retry delay after a failed write; doubles up to {@link MAX_RETRY_MS}. */
  retryMs?: number;
}

/** Longest an event waits in memory before it is written. */
const FLUSH_INTERVAL_MS = 100;
/** A burst this large is written at once rather than waiting for the timer. */
const FLUSH_BATCH = 500;
const DEFAULT_MAX_BUFFERED = 10_000;
const DEFAULT_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * Every decision worth keeping: written to the audit table and logged as a
 * JSON line. Events are buffered and written at most {@link FLUSH_INTERVAL_MS}
 * later in one transaction: under a connect storm a commit per event-loop
 * turn was 14% of the broker's CPU. Credential changes do not wait on this;
 * they are durable before they are acknowledged, and only their audit
 * record can lag.
 *
 * A write that fails (SQLITE_BUSY, SQLITE_FULL, a read-only file) never
 * throws into the caller or the event loop: it is logged, counted in
 * `latchkey_audit_write_failures_total`, and retried with backoff while the
 * events wait in a bounded buffer. When the buffer is full the oldest event
 * is dropped and counted (`latchkey_audit_events_dropped_total`): memory
 * stays bounded however long the database is unavailable.
 */
export class AuditLog {
  #buffer: AuditEvent[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** Non-zero while writes fail: the delay before the next attempt. */
  #retryMs = 0;
  #droppedSinceFailure = 0;
  readonly #maxBuffered: number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly options: AuditLogOptions = {},
  ) {
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.#buffer.length;
  }

  record(entry: AuditEntry): void {
    const event: AuditEvent = {
      at: entry.at ?? Date.now(),
      event: entry.event,
      principal: entry.principal ?? null,
      outcome: entry.outcome,
      reason: entry.reason ?? null,
      remote: entry.remote ?? null,
      detail: entry.detail ?? null,
      ...(entry.count !== undefined && entry.count !== 1 ? { count: entry.count } : {}),
    };
    this.log[event.outcome === 'success' ? 'info' : 'warn']({ audit: event }, event.event);
    if (this.#buffer.length >= this.#maxBuffered) {
      // Bounded: the newest events say more about an ongoing incident than the oldest.
      this.#buffer.shift();
      this.#droppedSinceFailure++;
      this.options.metrics?.auditDropped.inc();
    }
    this.#buffer.push(event);
    if (this.#retryMs > 0) return; // the retry timer is set; writing sooner would only fail again
    if (this.#buffer.length >= FLUSH_BATCH) {
      setImmediate(() => this.flush());
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /**
   * Writes what is buffered; called by the timer, by readers that want to see
   * the latest events, and before exit. Never throws: true when nothing is
   * left waiting, false when the write failed and will be retried.
   */
  flush(): boolean {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#buffer.length === 0) return true;
    if (!this.store.db.open) return false;
    const batch = this.#buffer;
    this.#buffer = [];
    try {
      this.store.audit.insertMany(batch, this.options.busyTimeoutMs);
    } catch (err) {
      this.#failed(batch, err);
      return false;
    }
    if (this.#retryMs > 0) {
      this.log.warn({ written: batch.length, dropped: this.#droppedSinceFailure }, 'audit writes recovered');
      this.#retryMs = 0;
      this.#droppedSinceFailure = 0;
    }
    return true;
  }

  /** Puts the batch back in front of what arrived meanwhile, trims to the bound, and schedules a retry. */
  #failed(batch: AuditEvent[], err: unknown): void {
    this.options.metrics?.auditWriteFailures.inc({ code: errorCode(err) });
    const merged = batch.concat(this.#buffer);
    const excess = merged.length - this.#maxBuffered;
    if (excess > 0) {
      merged.splice(0, excess);
      this.#droppedSinceFailure += excess;
      this.options.metrics?.auditDropped.inc(excess);
    }
    this.#buffer = merged;
    this.#retryMs = this.#retryMs === 0 ? (this.options.retryMs ?? DEFAULT_RETRY_MS) : Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    this.log.error({ err: errorCode(err), message: (err as Error)?.message, buffered: merged.length, retry_ms: this.#retryMs }, 'audit write failed; will retry');
    this.#timer = setTimeout(() => this.flush(), this.#retryMs);
    this.#timer.unref();
  }
}

/** `SQLITE_BUSY`, `SQLITE_FULL`, a PostgreSQL SQLSTATE, `store_unavailable`, … or `unknown`: a label with few values, for the metric. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code) ? code : 'unknown';
}
