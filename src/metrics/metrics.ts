import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The Prometheus metrics of docs/INTERFACE.md#metrics-and-logs, on a registry of their own (not
 * the global one) so several servers can live in one test process.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly sessionsOpen = new Gauge({ name: 'latchkey_sessions_open', help: 'MQTT sessions currently authenticated', labelNames: ['method'] as const, registers: [this.registry] });
  readonly connects = new Counter({ name: 'latchkey_connects_total', help: 'MQTT CONNECT attempts by outcome and reason', labelNames: ['outcome', 'reason'] as const, registers: [this.registry] });
  readonly tokensIssued = new Counter({ name: 'latchkey_tokens_issued_total', help: 'Access tokens issued', labelNames: ['channel'] as const, registers: [this.registry] });
  readonly tokenRequestsRefused = new Counter({ name: 'latchkey_token_requests_refused_total', help: 'Token requests refused, by OAuth error', labelNames: ['error'] as const, registers: [this.registry] });
  readonly denials = new Counter({ name: 'latchkey_authorization_denials_total', help: 'MQTT publish/subscribe/forward denials', labelNames: ['action'] as const, registers: [this.registry] });
  readonly brokerDisconnects = new Counter({ name: 'latchkey_broker_disconnects_total', help: 'Sessions ended by the broker, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly auditWriteFailures = new Counter({ name: 'latchkey_audit_write_failures_total', help: 'Audit batches the database refused (they are retried), by SQLite error code', labelNames: ['code'] as const, registers: [this.registry] });
  readonly auditDropped = new Counter({ name: 'latchkey_audit_events_dropped_total', help: 'Audit events dropped because the database refused writes for longer than the buffer holds', registers: [this.registry] });
  readonly crlSigned = new Counter({ name: 'latchkey_crl_signed_total', help: 'CRLs signed for GET /pki/crl (served from cache otherwise)', registers: [this.registry] });

  /**
   * @param defaultLabels labels on every series; a cluster node passes
   *   `{ node: <its id> }` so each node's series can be told apart.
   */
  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
