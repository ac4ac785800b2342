import type { Aedes } from 'aedes';
import type { AuditLog } from '../audit/audit_log.js';
import type { Config } from '../config/options.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TopicLimits } from '../policy/topic.js';
import type { ClaimRegistry, OnboardingEndpoint } from '../registry/claims.js';
import type { Provisioner } from '../registry/provisioning.js';
import type { Store } from '../store/store.js';
import type { TokenIssuer } from '../tokens/token_issuer.js';
import type { PasswordResolver } from './credentials/credential_resolver.js';
import type { JwtResolver } from './credentials/jwt_resolver.js';
import type { ConnectRefusalLog } from './connect_refusal_log.js';
import type { DenialLog } from './denial_log.js';
import type { PolicyCache } from './policy_cache.js';
import type { Principals } from './principals.js';
import type { Session } from './session.js';
import type { SessionTable } from './session_table.js';

/** Why the broker ended a session; also the metric label. */
export type EndReason = 'expired' | 'revoked' | 'disabled' | 'deleted' | 'certificate_revoked' | 'kicked' | 'shutdown' | 'provisioned';

/** What the broker needs to provision devices, mint hub claims and renew certificates. */
export interface OnboardingServices {
  claims: ClaimRegistry;
  provisioner: Provisioner;
  /** Where devices reach this server (known once the listeners are bound). */
  endpoint(): OnboardingEndpoint;
}

/** Everything the hooks share. Built once by the broker; hooks hold no state of their own. */
export interface BrokerContext {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly audit: AuditLog;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly issuer: TokenIssuer;
  readonly sessions: SessionTable;
  readonly principals: Principals;
  readonly jwt: JwtResolver;
  /** PAT and API key resolvers, tried by prefix before the JWT one. */
  readonly passwordResolvers: PasswordResolver[];
  readonly denials: DenialLog;
  /** Refused CONNECTs, one audit row per (address, reason) per second. */
  readonly connectRefusals: ConnectRefusalLog;
  readonly limits: TopicLimits;
  /** Compiled policies with their decision caches, shared between sessions. */
  readonly policies: PolicyCache;
  /** Sessions authenticated whose CONNACK is not yet sent. */
  readonly pending: WeakMap<object, Session>;
  /** Provisioning, hub claims and certificate renewal; null until the composition root enables them. */
  onboarding: OnboardingServices | null;
  aedes(): Aedes;
  /**
   * Whether messages can be routed now: always on one node; in a cluster,
   * while Redis answers. When not, CONNECT and PUBLISH are refused rather
   * than acknowledged and lost (docs/CLUSTER.md#redis-unreachable).
   */
  routable(): boolean;
  /** Writes a retained message to persistence now (see authorize_publish.ts). */
  persistRetained(packet: { topic: string; payload: Buffer | string; qos: number }): Promise<void>;
  /** Ends a session on the broker's initiative, audited once. */
  endSession(session: Session, reason: EndReason, detail?: string): void;
  /** Re-reads what `session` may do after a change, dropping subscriptions no longer allowed. */
  applyScopes(session: Session): void;
  /** Puts the session's credential expiry (and its warning) on the timer wheel. */
  scheduleExpiry(session: Session): void;
}

/** The remote address of a connection, for audit. */
export function remoteOf(conn: unknown): string | null {
  const socket = conn as { remoteAddress?: string };
  return socket.remoteAddress ?? null;
}
