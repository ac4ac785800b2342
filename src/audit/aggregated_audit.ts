import type { AuditEntry, AuditLog } from './audit_log.js';
import { BurstFolder } from './burst_folder.js';

/** How often folded rows whose window ended are written. */
const TICK_MS = 200;

/**
 * Audit events that may come in floods (authorization denials, refused
 * CONNECTs), written as at most one row per key per window: the first
 * event of a quiet key at once, the rest folded into one row with `count`
 * and `detail.samples` (up to 5 distinct examples) when the window ends.
 * A flood then costs a counter, not a database row per event.
 *
 * @example
 * const refusals = new AggregatedAudit(audit);
 * refusals.record(`${remote} ${reason}`, username, () => ({ event: 'mqtt.connect', outcome: 'failure', reason, remote }));
 */
export class AggregatedAudit {
  readonly #folder: BurstFolder<() => AuditEntry>;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly audit: AuditLog,
    readonly windowMs = 1000,
  ) {
    this.#folder = new BurstFolder(windowMs);
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#writeDue(Date.now()), Math.min(TICK_MS, this.windowMs));
    this.#timer.unref();
  }

  /** Writes every folded row, window or not: nothing counted is lost at shutdown. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const now = Date.now();
    for (const row of this.#folder.drain()) this.#writeFolded(row.first, row.count, row.samples, row.firstAt, now);
  }

  /**
   * `key` names what one row may stand for; `sample` is this event's example
   * (a topic, a client id). `entry` is called only for an event that starts a
   * row, so a folded event costs no lookups.
   */
  record(key: string, sample: string, entry: () => AuditEntry): void {
    const now = Date.now();
    if (this.#folder.offer(key, now, sample, entry)) this.audit.record({ ...entry(), at: now });
  }

  #writeDue(now: number): void {
    for (const row of this.#folder.due(now)) this.#writeFolded(row.first, row.count, row.samples, row.firstAt, now);
  }

  #writeFolded(firstEntry: () => AuditEntry, count: number, samples: string[], firstAt: number, now: number): void {
    const first = firstEntry();
    this.audit.record({
      ...first,
      at: now,
      count,
      detail: { ...first.detail, samples, first_at: new Date(firstAt).toISOString() },
    });
  }
}
