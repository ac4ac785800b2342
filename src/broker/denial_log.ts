import { AggregatedAudit } from '../audit/aggregated_audit.js';
import type { AuditLog } from '../audit/audit_log.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * Authorization denials, aggregated: at most one audit row per (principal,
 * action) per second. The first denial of a quiet pair is audited at once;
 * repeats within the second become one row with `count` and up to 5 sample
 * topics. Every denial still counts in `latchkey_authorization_denials_total`.
 */
export class DenialLog {
  readonly #rows: AggregatedAudit;

  constructor(
    audit: AuditLog,
    private readonly metrics: Metrics,
    windowMs = 1000,
  ) {
    this.#rows = new AggregatedAudit(audit, windowMs);
  }

  start(): void {
    this.#rows.start();
  }

  stop(): void {
    this.#rows.stop();
  }

  record(principal: string, action: string, topic: string, reason: string, remote: string | null): void {
    this.metrics.denials.inc({ action });
    this.#rows.record(`${principal}\u0000${action}`, topic, () => ({
      event: `mqtt.${action}_denied`,
      principal,
      outcome: 'denied',
      reason,
      remote,
      detail: { topic },
    }));
  }
}
