import { AggregatedAudit } from '../audit/aggregated_audit.js';
import type { AuditLog } from '../audit/audit_log.js';

/**
 * Refused CONNECTs, aggregated: at most one audit row per (remote address,
 * reason) per second. The first refusal is audited at once; a storm of
 * bad CONNECTs from one address becomes one row a second with `count` and up
 * to 5 sample usernames (or client ids). The metric
 * `latchkey_connects_total{outcome="refused"}` still counts each one.
 */
export class ConnectRefusalLog {
  readonly #rows: AggregatedAudit;

  constructor(audit: AuditLog, windowMs = 1000) {
    this.#rows = new AggregatedAudit(audit, windowMs);
  }

  start(): void {
    this.#rows.start();
  }

  stop(): void {
    this.#rows.stop();
  }

  /**
   * `clientId` and `connack` are null for a connection cut before its CONNECT
   * was read. `principal` (whom the row is filed under) is asked only for a
   * refusal that starts a row.
   */
  record(refusal: {
    username: string | null;
    clientId: string | null;
    principal?: () => string | null;
    reason: string;
    remote: string | null;
    connack: number | null;
  }): void {
    this.#rows.record(`${refusal.remote ?? '-'}\u0000${refusal.reason}`, refusal.username ?? refusal.clientId ?? '-', () => ({
      event: 'mqtt.connect',
      principal: refusal.principal ? refusal.principal() : refusal.username,
      outcome: 'failure',
      reason: refusal.reason,
      remote: refusal.remote,
      detail: refusal.connack === null ? { client_id: refusal.clientId } : { client_id: refusal.clientId, connack: refusal.connack },
    }));
  }
}
