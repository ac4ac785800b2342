import { Aedes, type Client } from 'aedes';
import type { AuditLog } from '../audit/audit_log.js';
import type { Config } from '../config/options.js';
import type { KeyRing } from '../keys/key_ring.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CertificateAuthority } from '../pki/ca.js';
import type { RedisCluster } from '../cluster/redis_cluster.js';
import { createSqlitePersistence, type SqlitePersistence } from '../store/aedes_persistence.js';
import { createCredentialSafePersistence, type CredentialSafePersistence } from '../store/credential_safe_persistence.js';
import type { Store } from '../store/store.js';
import type { SqliteDb } from '../store/database.js';
import { tokenVoidsAt } from '../tokens/credential_floor.js';
import type { RevocationList } from '../tokens/revocation_list.js';
import type { TokenIssuer } from '../tokens/token_issuer.js';
import { isAuthRequestTopic, sendExpiringIfDue, warningTime } from './auth_topics.js';
import { auditableClientId } from './audit_name.js';
import { createAuthenticate, tokenVoided } from './authenticate.js';
import { createAuthorizeForward } from './authorize_forward.js';
import { createAuthorizePublish } from './authorize_publish.js';
import { createAuthorizeSubscribe } from './authorize_subscribe.js';
import type { BrokerContext, EndReason, OnboardingServices } from './broker_context.js';
import type { PasswordResolver } from './credentials/credential_resolver.js';
import { JwtResolver } from './credentials/jwt_resolver.js';
import { ConnectRefusalLog } from './connect_refusal_log.js';
import { DenialLog } from './denial_log.js';
import { effectiveScopes } from './effective_scopes.js';
import { ExpiryWheel } from './expiry_wheel.js';
import { LiveSessionPublisher, subscriptionsOf } from './live_session_publisher.js';
import { Listeners } from './listeners.js';
import { PolicyCache } from './policy_cache.js';
import { ClientPrincipals, type PrincipalSource, Principals } from './principals.js';
import type { Session } from './session.js';
import { SessionTable } from './session_table.js';

export interface BrokerDeps {
  config: Readonly<Config>;
  store: Store;
  ring: KeyRing;
  revocations: RevocationList;
  issuer: TokenIssuer;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  pki: { ca: CertificateAuthority; serverCertPem: string; serverKeyPem: string };
  /** This node's id, stable for the process: the Aedes id, the live-sessions instance, the metrics `node` label. */
  nodeId: string;
  /** With `--cluster`: routing and MQTT state in Redis instead of this process and SQLite. */
  cluster?: RedisCluster;
  /**
   * Where MQTT session state lives without `--cluster` when the store is not
   * SQLite (PostgreSQL holds credentials only): a SQLite file of this node.
   * Defaults to the store's own connection.
   */
  mqttState?: SqliteDb;
}

/** A live session as the admin API shows it. */
export interface SessionView {
  client_id: string;
  principal: string;
  kind: Session['principal']['kind'];
  method: Session['credential']['method'];
  remote: string | null;
  connected_at: string;
  credential_expires_at: string | null;
  subscriptions: string[];
}

/**
 * Aedes with latchkey's hooks, its sessions, and the reactions to every
 * change (revocation, disable, delete, scope change, expiry) on live
 * sessions. Aedes authenticates only at CONNECT; this class keeps each
 * session's credential and acts on it afterwards (STYLE 8).
 */
export class LatchkeyBroker {
  readonly #ctx: BrokerContext;
  readonly #aedes: Aedes;
  readonly #listeners: Listeners;
  readonly #wheel: ExpiryWheel<Session>;
  readonly #deps: BrokerDeps;
  readonly #persistence: CredentialSafePersistence;
  /** This process's live sessions, published into the store for the CLI and other nodes. */
  readonly published: LiveSessionPublisher;

  private constructor(deps: BrokerDeps, ctx: BrokerContext, aedes: Aedes, wheel: ExpiryWheel<Session>, persistence: CredentialSafePersistence) {
    this.#deps = deps;
    this.#persistence = persistence;
    this.#ctx = ctx;
    this.#aedes = aedes;
    this.#wheel = wheel;
    this.#listeners = new Listeners(aedes, deps.config, deps.log, (remote, reason) =>
      ctx.connectRefusals.record({ username: null, clientId: null, reason, remote, connack: null }),
    );
    this.published = new LiveSessionPublisher(deps.store, (id) => ctx.sessions.byClientId(id), () => ctx.sessions.all(), deps.log, deps.nodeId);
  }

  static async create(deps: BrokerDeps): Promise<LatchkeyBroker> {
    const { config, store, log, audit, metrics } = deps;
    const principals = new Principals();
    const limits = { maxLevels: config.maxTopicLevels, maxBytes: 65_535 };
    principals.add(new ClientPrincipals(store));
    let aedes: Aedes | null = null;
    // Packets on $auth and $provision topics carry tokens and secrets: they stay in memory (see the module),
    // whether the rest goes to SQLite or, in a cluster, to Redis.
    const persistence = createCredentialSafePersistence(deps.cluster?.persistence ?? sqlitePersistence(deps), { neverDelivered: isAuthRequestTopic });
    let broker: LatchkeyBroker | null = null;
    const wheel = new ExpiryWheel<Session>((session) => broker?.onDeadline(session));
    const ctx: BrokerContext = {
      config,
      log,
      audit,
      metrics,
      store,
      issuer: deps.issuer,
      sessions: new SessionTable(),
      principals,
      jwt: new JwtResolver(deps.ring, deps.revocations, {
        issuer: config.issuer,
        audience: config.audience,
        maxTokenBytes: config.maxPasswordBytes,
      }),
      passwordResolvers: [],
      denials: new DenialLog(audit, metrics),
      connectRefusals: new ConnectRefusalLog(audit),
      limits,
      policies: new PolicyCache(limits),
      pending: new WeakMap(),
      onboarding: null,
      aedes: () => aedes!,
      routable: () => deps.cluster?.reachable() ?? true,
      persistRetained: (packet) =>
        persistence.storeRetained({ cmd: 'publish', topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: true }),
      endSession: (session, reason, detail) => broker!.endSession(session, reason, detail),
      applyScopes: (session) => broker!.applyScopes(session),
      scheduleExpiry: (session) => broker!.scheduleExpiry(session),
    };
    aedes = await Aedes.createBroker({
      id: deps.nodeId,
      persistence,
      // Shared by every node in a cluster (credential topics excepted); Aedes' own in-process one otherwise.
      ...(deps.cluster ? { mq: deps.cluster.mq } : {}),
      authenticate: createAuthenticate(ctx),
      authorizePublish: createAuthorizePublish(ctx),
      authorizeSubscribe: createAuthorizeSubscribe(ctx),
      authorizeForward: createAuthorizeForward(ctx),
      maxTopicLevels: Math.min(config.maxTopicLevels, 100),
      // MQTT 3.1 ids; 3.1.1 ids are bounded by our own id pattern instead.
      maxClientsIdLength: 23,
    });
    broker = new LatchkeyBroker(deps, ctx, aedes, wheel, persistence);
    broker.#wire();
    return broker;
  }

  /** Lets another kind of password in: users' PATs and API keys (docs/INTERFACE.md#people-and-integrations), static passwords of clients. */
  addCredentialKind(resolver: PasswordResolver, source?: PrincipalSource): void {
    this.#ctx.passwordResolvers.push(resolver);
    if (source) this.#ctx.principals.add(source);
  }

  /** Lets devices provision themselves, hubs mint claims, certificate sessions renew (onboarding). */
  enableOnboarding(services: OnboardingServices): void {
    this.#ctx.onboarding = services;
  }

  async listen(
    host: string,
    ports: { mqtt: number; mqtts: number; ws: number; wss: number },
  ): Promise<{ mqtt: number; mqtts: number; ws: number; wss: number }> {
    this.#wheel.start();
    this.#ctx.denials.start();
    this.#ctx.connectRefusals.start();
    this.published.start();
    const { pki } = this.#deps;
    const material = { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.ca.certPem };
    const tcp = await this.#listeners.listen(host, ports.mqtt, ports.mqtts, material);
    const ws = await this.#listeners.listenWebSockets(host, ports.ws, ports.wss, material);
    return { ...tcp, ...ws };
  }

  async close(): Promise<void> {
    this.#wheel.stop();
    await this.#listeners.close();
    await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
    // After Aedes: closing clients may still write their state. Redis connections are quit here.
    await this.#persistence.destroy().catch((err: unknown) => this.#deps.log.warn({ err: (err as Error).message }, 'closing the MQTT persistence failed'));
    await this.#deps.cluster?.close();
    this.#ctx.denials.stop();
    this.#ctx.connectRefusals.stop();
    this.published.stop();
  }

  sessions(): SessionView[] {
    return [...this.#ctx.sessions.all()].map((s) => ({
      client_id: s.clientId,
      principal: s.principal.name,
      kind: s.principal.kind,
      method: s.credential.method,
      remote: s.remote,
      connected_at: new Date(s.connectedAt).toISOString(),
      credential_expires_at: Number.isFinite(s.credential.exp) ? new Date(s.credential.exp * 1000).toISOString() : null,
      subscriptions: subscriptionsOf(s),
    }));
  }

  /**
   * Ends the session with this MQTT client id on this node, on an
   * operator's word (`sessions kick`); false when there is none here.
   */
  kick(clientId: string): boolean {
    const session = this.#ctx.sessions.byClientId(clientId);
    if (!session || session.ending) return false;
    this.endSession(session, 'kicked', 'ended by an operator');
    return true;
  }

  // ---- reactions to changes (the change feed calls these) ----

  onTokenRevoked(jti: string): void {
    for (const session of this.#ctx.sessions.byCredential(jti)) this.endSession(session, 'revoked', 'token revoked');
  }

  /** A client was created, changed, disabled or deleted: re-judge its sessions. */
  onClientChanged(id: string): void {
    this.#ctx.principals.forget(id);
    for (const session of this.#ctx.sessions.byPrincipal(id)) {
      this.applyScopes(session);
      // A secret rotation with a grace voids the session's token when the grace ends: a deadline.
      if (!session.ending) this.#reschedule(session);
    }
  }

  /**
   * A client, user or API key was deleted (and maybe re-created since). Its
   * live sessions end on the change that precedes this one; here its
   * persistent sessions are forgotten (the rows went with the deletion, the
   * in-memory index goes now), so a later principal of the same name starts
   * clean instead of resuming the old one's subscriptions, queue and will.
   */
  async onPrincipalDeleted(name: string): Promise<void> {
    await this.#persistence.forgetPrincipal(name);
  }

  /** A user, PAT, API key or static password changed. */
  onPrincipalChanged(name: string): void {
    this.#ctx.principals.forget(name);
    for (const session of this.#ctx.sessions.byPrincipal(name)) {
      const resolver = this.#ctx.passwordResolvers.find((r) => r.name === session.credential.method);
      if (resolver?.currentExpiry) {
        const exp = resolver.currentExpiry(session.credential);
        if (exp === null) {
          this.endSession(session, 'revoked', `${session.credential.method} revoked`);
          continue;
        }
        if (exp !== session.credential.exp) {
          session.credential = { ...session.credential, exp };
          this.scheduleExpiry(session);
        }
      }
      this.applyScopes(session);
    }
  }

  onCertificateRevoked(serial: string): void {
    for (const session of this.#ctx.sessions.byCertificate(serial)) this.endSession(session, 'certificate_revoked', 'certificate revoked');
  }

  onKeysChanged(): void {
    // Tokens stay valid while their key is published; only the cache of verified tokens is dropped.
    this.#ctx.jwt.forgetVerified();
  }

  // ---- session lifecycle ----

  /** Re-reads the principal; ends the session or narrows it, dropping subscriptions no longer allowed. */
  applyScopes(session: Session): void {
    const state = this.#ctx.principals.lookup(session.principal);
    if (!state) return this.endSession(session, 'deleted', `${session.principal.kind} deleted`);
    if (!state.enabled) return this.endSession(session, 'disabled', `${session.principal.kind} disabled`);
    const voided = tokenVoided(session.credential, state);
    if (voided) return this.endSession(session, 'revoked', voided);
    // Deleted and re-created before this process heard of either: the session stands on the old one.
    if (!this.#ctx.principals.accepts(session.principal, session.credential)) {
      return this.endSession(session, 'deleted', `${session.principal.kind} deleted: its credential belongs to an earlier ${session.principal.kind} of the same id`);
    }
    session.setPolicy(this.#ctx.policies.get(session.principal.name, effectiveScopes(session.credential.scopes, state.scopes, session.principal.name)));
    const client = session.client as unknown as Client & { subscriptions: Record<string, unknown> };
    const dropped = Object.keys(client.subscriptions ?? {}).filter((filter) => !session.decide('subscribe', filter).allow);
    if (dropped.length === 0) return;
    // No messageId: Aedes then removes them without an UNSUBACK; persistent sessions forget them too.
    const persistence = (this.#aedes as unknown as { persistence: { removeSubscriptions(c: Client, s: string[]): Promise<void> } }).persistence;
    void persistence.removeSubscriptions(client, dropped).catch(() => {});
    client.unsubscribe({ unsubscriptions: dropped } as never, () => {});
    this.published.touch(session.clientId);
    this.#ctx.audit.record({
      event: 'session.subscriptions_dropped',
      principal: session.principal.name,
      outcome: 'success',
      reason: 'scope no longer allows them',
      remote: session.remote,
      detail: { filters: dropped },
    });
  }

  scheduleExpiry(session: Session): void {
    this.#reschedule(session);
    // Called on connect and whenever the credential moves: the published expiry follows.
    this.published.touch(session.clientId);
  }

  /** Puts the session on the wheel at its next deadline: warning, expiry, or a secret grace voiding its token. */
  #reschedule(session: Session): void {
    const { exp, iat } = session.credential;
    const due = session.warned ? exp : warningTime(this.#ctx, exp, iat, session.credential.method);
    this.#wheel.schedule(session, Math.min(due, this.#voidsAt(session) ?? Infinity));
  }

  /** When a secret grace running now voids the session's token (seconds), or null. */
  #voidsAt(session: Session): number | null {
    if (session.principal.kind !== 'client' || session.credential.method !== 'jwt') return null;
    const floor = this.#ctx.principals.lookup(session.principal)?.tokenFloor;
    return floor ? tokenVoidsAt(session.credential.iat, floor) : null;
  }

  /** The wheel calls this at a session's warning time, at its expiry, and when a secret grace voids its token. */
  onDeadline(session: Session): void {
    if (session.ending || this.#ctx.sessions.byClientId(session.clientId) !== session) return;
    const state = this.#ctx.principals.lookup(session.principal);
    const voided = state && tokenVoided(session.credential, state);
    if (voided) return this.endSession(session, 'revoked', voided);
    const { exp, iat } = session.credential;
    const now = Date.now() / 1000;
    if (now >= exp) return this.endSession(session, 'expired', `${session.credential.method} expired`);
    if (session.warned || now < warningTime(this.#ctx, exp, iat, session.credential.method)) {
      // Woken for a void time that no longer applies (a later rotation moved the grace): the usual deadline.
      this.#reschedule(session);
      return;
    }
    sendExpiringIfDue(this.#ctx, session);
    session.warned = true;
    this.#reschedule(session);
  }

  endSession(session: Session, reason: EndReason, detail?: string): void {
    if (session.ending) return;
    session.ending = true;
    this.#wheel.cancel(session);
    this.#ctx.metrics.brokerDisconnects.inc({ reason });
    this.#ctx.audit.record({
      event: 'mqtt.disconnected_by_broker',
      principal: session.principal.name,
      outcome: 'success',
      reason: detail ?? reason,
      remote: session.remote,
      detail: { client_id: session.clientId, credential: session.credential.method },
    });
    session.client.close();
  }

  /** `--revoke-replaced`: the first connect with a renewed certificate revokes the one it replaced. */
  #revokeReplaced(session: Session): void {
    const serial = session.credential.certificateSerial;
    if (!this.#deps.config.revokeReplaced || session.credential.method !== 'certificate' || serial === null || !this.#ctx.onboarding) return;
    try {
      this.#ctx.onboarding.provisioner.revokeReplaced(serial);
    } catch (err) {
      this.#ctx.log.error({ err }, 'revoking a replaced certificate failed');
    }
  }

  /** Whether a live session holds `clientId` (a provisioning CONNECT must not take one over). */
  hasSession(clientId: string): boolean {
    return this.#ctx.sessions.byClientId(clientId) !== undefined;
  }

  #wire(): void {
    const { sessions, pending, metrics, audit } = this.#ctx;
    // 'client' fires once Aedes has registered the connection (after any takeover), before CONNACK.
    this.#aedes.on('client', (client) => {
      const session = pending.get(client);
      if (!session) return;
      pending.delete(client);
      const replaced = sessions.byClientId(client.id);
      if (replaced && replaced !== session) sessions.remove(replaced);
      sessions.add(session);
      this.scheduleExpiry(session);
      metrics.sessionsOpen.inc({ method: session.credential.method });
      metrics.connects.inc({ outcome: 'accepted', reason: session.credential.method });
      audit.record({
        event: 'mqtt.connect',
        principal: session.principal.name,
        outcome: 'success',
        reason: `authenticated by ${session.credential.method}`,
        remote: session.remote,
        detail: { client_id: client.id, credential_kind: session.credential.method, credential: session.credential.id.slice(0, 8) },
      });
      this.#revokeReplaced(session);
    });
    this.#aedes.on('clientDisconnect', (client) => {
      const session = sessions.byClientId(client.id);
      if (!session || session.client !== client) return;
      sessions.remove(session);
      this.#wheel.cancel(session);
      metrics.sessionsOpen.dec({ method: session.credential.method });
      this.published.touch(client.id);
    });
    this.#aedes.on('subscribe', (_subscriptions, client) => this.published.touch(client.id));
    this.#aedes.on('unsubscribe', (_unsubscriptions, client) => this.published.touch(client.id));
    // The client id is whatever the connection sent, and may be a secret pasted in the wrong field.
    this.#aedes.on('clientError', (client, err) => this.#ctx.log.debug({ client: auditableClientId(client.id), err: err.message }, 'client error'));
    this.#aedes.on('connectionError', (_client, err) => this.#ctx.log.debug({ err: err.message }, 'connection error'));
  }
}

/** The MQTT state of a node without `--cluster`: SQLite (the store's, or the node's own file beside PostgreSQL). */
function sqlitePersistence(deps: BrokerDeps): SqlitePersistence {
  const mqttState = deps.mqttState ?? deps.store.sqlite;
  if (!mqttState) throw new Error('the broker needs a SQLite connection for MQTT session state (mqttState)');
  return createSqlitePersistence(mqttState);
}
