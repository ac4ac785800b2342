import type { AuditLog } from '../audit/audit_log.js';
import type { Metrics } from '../metrics/metrics.js';

interface Tally {
  principal: string;
  action: string;
  reason: string;
  firstTopic: string;
  remote: string | null;
  count: number;
}

/**
 * Authorization denials, aggregated: the first denial of a kind (principal,
 * action, reason) is audited at once, repeats within the window are counted
 * and audited as one summary when it closes. A client flooding denied
 * requests costs a counter increment, not a database row each.
 */
export class DenialLog {
  #window = new Map<string, Tally>();
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
    private readonly windowMs = 1000,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.flush(), this.windowMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.flush();
  }

  record(principal: string, action: string, topic: string, reason: string, remote: string | null): void {
    this.metrics.denials.inc({ action });
    const key = `${principal}\u0000${action}\u0000${reason}`;
    const tally = this.#window.get(key);
    if (tally) {
      tally.count++;
      return;
    }
    this.#window.set(key, { principal, action, reason, firstTopic: topic, remote, count: 0 });
    this.audit.record({ event: `mqtt.${action}_denied`, principal, outcome: 'denied', reason, remote, detail: { topic } });
  }

  flush(): void {
    for (const t of this.#window.values()) {
      if (t.count === 0) continue;
      this.audit.record({
        event: `mqtt.${t.action}_denied`,
        principal: t.principal,
        outcome: 'denied',
        reason: t.reason,
        remote: t.remote,
        detail: { topic: t.firstTopic, repeated: t.count },
      });
    }
    this.#window = new Map();
  }
}
