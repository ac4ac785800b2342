import { AggregatedAudit } from '../audit/aggregated_audit.js';
import type { AuditLog } from '../audit/audit_log.js';

/** Registered clients that get rows of their own per (address, reason) per window; the rest share one. */
const NAMED_PER_WINDOW = 5;

/**
 * Refused CONNECTs, aggregated per (remote address, reason) per second.
 * The first refusal is audited at once; a storm of bad CONNECTs from one
 * address becomes one row a second with `count` and up to 5 sample
 * usernames (or client ids). So that `latchkey audit --client X` still
 * shows X's refusals, a refusal naming a registered client gets a row
 * filed under that client, for up to {@link NAMED_PER_WINDOW} clients per
 * (address, reason) per second; refusals naming nobody registered, and
 * clients beyond that, share the (address, reason) row. The metric
 * `latchkey_connects_total{outcome="refused"}` still counts each one.
 */
export class ConnectRefusalLog {
  readonly #rows: AggregatedAudit;
  readonly #named = new NamedBudget(NAMED_PER_WINDOW);

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
   * `principal` is whom the row is filed under; `registered` says it names a
   * registered client. `clientId` and `connack` are null for a connection
   * cut before its CONNECT was read.
   */
  record(refusal: {
    username: string | null;
    clientId: string | null;
    principal?: string | null;
    registered?: boolean;
    reason: string;
    remote: string | null;
    connack: number | null;
  }): void {
    const principal = refusal.principal === undefined ? refusal.username : refusal.principal;
    const group = `${refusal.remote ?? '-'}\u0000${refusal.reason}`;
    const own = refusal.registered === true && principal !== null && this.#named.admit(group, principal, Date.now(), this.#rows.windowMs);
    this.#rows.record(`${group}\u0000${own ? principal : '*'}`, refusal.username ?? refusal.clientId ?? '-', () => ({
      event: 'mqtt.connect',
      principal,
      outcome: 'failure',
      reason: refusal.reason,
      remote: refusal.remote,
      detail: refusal.connack === null ? { client_id: refusal.clientId } : { client_id: refusal.clientId, connack: refusal.connack },
    }));
  }
}

/** At most `limit` distinct names per group per window (a tumbling window); memory follows the current traffic. */
class NamedBudget {
  readonly #groups = new Map<string, { start: number; names: Set<string> }>();

  constructor(private readonly limit: number) {}

  admit(group: string, name: string, now: number, windowMs: number): boolean {
    let entry = this.#groups.get(group);
    if (!entry || now - entry.start >= windowMs) {
      if (this.#groups.size >= 1024) this.#sweep(now, windowMs);
      entry = { start: now, names: new Set() };
      this.#groups.set(group, entry);
    }
    if (entry.names.has(name)) return true;
    if (entry.names.size >= this.limit) return false;
    entry.names.add(name);
    return true;
  }

  #sweep(now: number, windowMs: number): void {
    for (const [group, entry] of this.#groups) if (now - entry.start >= windowMs) this.#groups.delete(group);
  }
}
