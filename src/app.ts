import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ChangeWatcher } from './app/change_watcher.js';
import { freePort } from './app/free_port.js';
import { registerAdminApi } from './admin/admin_api.js';
import { BearerGuard } from './admin/bearer_guard.js';
import { AuditLog } from './audit/audit_log.js';
import { pruneAudit } from './audit/audit_retention.js';
import { LatchkeyBroker } from './broker/broker.js';
import { redactUrl } from './config/redact_url.js';
import { connectRedisCluster, type RedisCluster } from './cluster/redis_cluster.js';
import { ApiKeyResolver } from './broker/credentials/api_key_resolver.js';
import { ClaimPrincipals, ClaimResolver } from './broker/credentials/claim_resolver.js';
import { PatResolver } from './broker/credentials/pat_resolver.js';
import { StaticPasswordResolver } from './broker/credentials/static_password_resolver.js';
import { ApiKeyPrincipals, UserPrincipals } from './broker/people_principals.js';
import { formatDuration } from './config/duration.js';
import type { Config } from './config/options.js';
import { AssetCache, consoleAssets } from './console/assets.js';
import { registerConsoleRoutes } from './console/console_routes.js';
import { ConsoleSessions } from './console/console_sessions.js';
import { LiveFeed } from './console/live_feed.js';
import { ConsoleSessionAuth, COOKIE_NAME, readCookie } from './console/session_auth.js';
import { initialise } from './init.js';
import { databasePath, openDatabase } from './store/database.js';
import { describeStore } from './store/store_location.js';
import { KEY_PASSPHRASE_ENV, keyPassphrase } from './keys/key_sealing.js';
import { createLogger, type Logger } from './log/logger.js';
import { Metrics } from './metrics/metrics.js';
import { FailureLimiter } from './oauth/failure_limiter.js';
import { createOAuthServer } from './oauth/server.js';
import { CrlCache } from './pki/crl_cache.js';
import { ApiKeyRegistry } from './registry/api_keys.js';
import { CertificateRegistry } from './registry/certificates.js';
import { ClaimRegistry, type OnboardingEndpoint } from './registry/claims.js';
import { ClientRegistry } from './registry/clients.js';
import { credentialRevokers } from './registry/credential_revokers.js';
import { onboardingEndpoint } from './registry/onboarding_endpoint.js';
import { TemplateRegistry } from './registry/templates.js';
import { PatRegistry } from './registry/personal_access_tokens.js';
import { Provisioner } from './registry/provisioning.js';
import { SessionRegistry } from './registry/sessions.js';
import { StaticPasswordRegistry } from './registry/static_passwords.js';
import { UserRegistry } from './registry/users.js';
import type { Store } from './store/store.js';
import { IssuedTokenLog } from './tokens/issued_token_log.js';
import { RevocationList } from './tokens/revocation_list.js';
import { TokenIssuer } from './tokens/token_issuer.js';

/** How long an audit write waits for the database lock before it is retried later. */
const AUDIT_BUSY_TIMEOUT_MS = 100;
/** `--audit-retention` is applied at start and this often. */
const AUDIT_PRUNE_INTERVAL_MS = 3600_000;

export interface RunningLatchkey {
  readonly config: Readonly<Config>;
  /** The ports actually bound (differs from config when 0 was asked for). */
  readonly ports: { mqtt: number; mqtts: number; ws: number; wss: number; http: number; https: number };
  readonly store: Store;
  readonly broker: LatchkeyBroker;
  readonly registry: ClientRegistry;
  /** Users, their personal access tokens, and API keys (docs/INTERFACE.md#people-and-integrations). */
  readonly people: { users: UserRegistry; pats: PatRegistry; apiKeys: ApiKeyRegistry };
  readonly audit: AuditLog;
  /** Live sessions of every node, from the store; kick (CLI `sessions`, `GET /admin/sessions`, the console). */
  readonly sessions: SessionRegistry;
  /** Static MQTT passwords of stock devices. */
  readonly passwords: StaticPasswordRegistry;
  /** Issued tokens' metadata, written in batches (`token list`). */
  readonly issuedTokens: IssuedTokenLog;
  close(): Promise<void>;
}

/**
 * The composition root: the only place that wires every part together.
 * Starts the OAuth server (HTTP and HTTPS) and the broker (MQTT and MQTTS)
 * in one process over one store.
 *
 * @example const server = await startLatchkey(loadConfig({ httpPort: '0' }));
 */
export async function startLatchkey(requested: Readonly<Config>, log: Logger = createLogger(requested.logLevel, 'stdout', requested.logFormat)): Promise<RunningLatchkey> {
  const config = await withIssuerPort(requested);
  const passphrase = keyPassphrase();
  const { store, ring, pki } = await initialise(config, passphrase);
  if (passphrase === null) {
    // Once, at start: the operator should know, and the fix is one variable.
    log.warn({ env: KEY_PASSPHRASE_ENV }, `signing keys and the CA key are stored unencrypted; set ${KEY_PASSPHRASE_ENV} to encrypt them at rest`);
  }
  // One id per process: Aedes', the live-sessions instance, and in a cluster the metrics' `node` label.
  const nodeId = randomBytes(8).toString('hex');
  let cluster: RedisCluster | undefined;
  if (config.cluster) {
    try {
      cluster = await connectRedisCluster(config.cluster, log);
    } catch (err) {
      store.close();
      throw err;
    }
    log.info({ node: nodeId, redis: redactUrl(config.cluster) }, 'cluster node: MQTT routing and state on Redis');
  }
  // PostgreSQL holds credentials and audit for the cluster; without --cluster this node's MQTT session state stays in its own SQLite file.
  const mqttState = store.sqlite || cluster ? undefined : openDatabase(databasePath(config));
  await store.listen((err) => log.warn({ err: err.message }, 'the store change listener is not connected; retrying (reads go to PostgreSQL meanwhile)'));
  const metrics = new Metrics(cluster ? { node: nodeId } : {});
  // A short lock wait: an audit write blocks the event loop, and a failed one is retried, never lost silently.
  const audit = new AuditLog(store, log, { metrics, busyTimeoutMs: AUDIT_BUSY_TIMEOUT_MS });
  const revocations = new RevocationList(store);
  const issuedTokens = new IssuedTokenLog(store, log);
  const issuer = new TokenIssuer(ring, audit, metrics, { issuer: config.issuer, audience: config.audience }, issuedTokens);
  const registry = new ClientRegistry(store, audit, config.tokenTtl);
  let ready = false;

  const people = { users: new UserRegistry(store, audit), pats: new PatRegistry(store, audit), apiKeys: new ApiKeyRegistry(store, audit) };

  let broker: LatchkeyBroker;
  try {
    broker = await LatchkeyBroker.create({ config, store, ring, revocations, issuer, audit, metrics, log, pki, nodeId, ...(cluster ? { cluster } : {}), ...(mqttState ? { mqttState } : {}) });
  } catch (err) {
    await cluster?.close();
    store.close();
    mqttState?.close();
    throw err;
  }
  broker.addCredentialKind(new PatResolver(people.pats), new UserPrincipals(store));
  broker.addCredentialKind(new ApiKeyResolver(people.apiKeys), new ApiKeyPrincipals(store));
  const passwords = new StaticPasswordRegistry(store, audit);
  broker.addCredentialKind(new StaticPasswordResolver(passwords));
  const certificates = new CertificateRegistry(store, audit, pki.ca);
  const sessions = new SessionRegistry(
    store,
    audit,
    credentialRevokers({ store, audit, pats: people.pats, passwords, certificates: async () => certificates }),
    () => broker.published.flush(),
  );

  // Onboarding: claims at CONNECT and POST /provision share one guess limiter per address.
  const claims = new ClaimRegistry(store, audit);
  const provisioner = new Provisioner(store, audit, certificates, registry);
  const guesses = new FailureLimiter({ limit: config.authFailureLimit, windowSeconds: config.authFailureWindow });
  let endpoint: OnboardingEndpoint | null = null;
  // Known once the listeners are bound (ports of 0 become real ones); hubs' and the admin API's claims share it.
  const onboardingAt = () => (endpoint ??= onboardingEndpoint(config, { mqtts: ports.mqtts, https: ports.https }, pki.ca.certPem, pki.serverCertPem));
  broker.addCredentialKind(new ClaimResolver(claims, store, guesses, (id) => broker.hasSession(id)), new ClaimPrincipals());
  broker.enableOnboarding({ claims, provisioner, endpoint: onboardingAt });
  const watcher = new ChangeWatcher(
    store,
    {
      token_revoked: (jti) => {
        revocations.reload();
        broker.onTokenRevoked(jti);
      },
      client: (id) => broker.onClientChanged(id),
      principal_deleted: (name) => broker.onPrincipalDeleted(name),
      // A rotation may retire the secret (grace 0) or schedule its end: the client's sessions are re-judged.
      secret: (id) => broker.onClientChanged(id),
      keys: async () => {
        await ring.reload();
        broker.onKeysChanged();
      },
      certificate_revoked: (serial) => broker.onCertificateRevoked(serial),
      principal: (name) => broker.onPrincipalChanged(name),
      static_password: (id) => broker.onPrincipalChanged(id),
      session_kick: (clientId) => void broker.kick(clientId),
    },
    log,
  );

  const crl = new CrlCache(() => metrics.crlSigned.inc());
  // A cluster node that cannot reach Redis cannot route: not ready (docs/CLUSTER.md).
  const deps = { config, store, ring, revocations, issuer, registry, audit, metrics, log, pki, crl, broker, ready: () => ready, routing: () => cluster?.reachable() ?? true, onboarding: { claims, provisioner, guesses } };
  // The operator console: in-memory sessions shared by the HTTP and HTTPS listeners.
  const consoleSessions = new ConsoleSessions();
  const sessionAuth = new ConsoleSessionAuth(consoleSessions, store, people.pats, audit);
  const feed = new LiveFeed({
    metrics,
    store,
    audit,
    // Every node's sessions, as `latchkey sessions` and GET /admin/sessions list them.
    broker: { sessions: () => sessions.list() },
    stillAllowed: (request) => {
      const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
      return cookie !== undefined && sessionAuth.current(cookie, Date.now()) !== undefined;
    },
  });
  let brokerPorts: { mqtt: number; mqtts: number; ws: number; wss: number } = { mqtt: 0, mqtts: 0, ws: config.wsPort, wss: config.wssPort };
  const consoleDeps = {
    store,
    audit,
    sessions: consoleSessions,
    auth: sessionAuth,
    guard: new BearerGuard(people.pats, people.apiKeys, audit),
    assets: new AssetCache(consoleAssets()),
    feed,
    wsPorts: () => brokerPorts,
  };
  const adminDeps = {
    store,
    audit,
    log,
    clients: registry,
    certificates,
    ...people,
    broker,
    sessions,
    passwords,
    issuedTokens,
    templates: new TemplateRegistry(store, audit),
    claims,
    onboardingEndpoint: onboardingAt,
    publicUrl: config.issuer,
    limits: { maxLevels: config.maxTopicLevels, maxBytes: 65_535 },
    sessionAuth,
  };
  const beforeRoutes = async (app: FastifyInstance) => {
    await registerAdminApi(app, adminDeps);
    registerConsoleRoutes(app, consoleDeps);
  };
  const http = await createOAuthServer(deps, { tls: false, beforeRoutes });
  const https = await createOAuthServer(deps, { tls: true, beforeRoutes });
  try {
    await http.listen({ host: config.host, port: config.httpPort });
    await https.listen({ host: config.host, port: config.httpsPort });
    brokerPorts = await broker.listen(config.host, { mqtt: config.mqttPort, mqtts: config.mqttsPort, ws: config.wsPort, wss: config.wssPort });
  } catch (err) {
    // A port taken: leave nothing half-started behind.
    feed.close();
    await Promise.allSettled([broker.close(), http.close(), https.close()]);
    audit.flush();
    issuedTokens.flush();
    store.close();
    mqttState?.close();
    throw err;
  }
  watcher.start(config.changePollMs);
  const housekeeping = setInterval(() => {
    try {
      revocations.prune();
      store.changes.prune(24 * 3600_000);
      issuedTokens.prune(Math.floor(Date.now() / 1000));
    } catch (err) {
      // The store busy or away (PostgreSQL down): pruning waits for the next minute.
      log.warn({ err: (err as Error).message }, 'housekeeping failed; retrying in a minute');
    }
  }, 60_000);
  housekeeping.unref();
  const retention = auditRetention(store, audit, log, config.auditRetention);
  ready = true;

  const ports = {
    ...brokerPorts,
    http: (http.server.address() as AddressInfo).port,
    https: (https.server.address() as AddressInfo).port,
  };
  log.info({ ports, issuer: config.issuer, store: describeStore(config) }, 'latchkey listening');
  // Whoever started us (a supervisor, a test, the demo) waits for this line: do not buffer it.
  log.flush();

  let closing: Promise<void> | null = null;
  return {
    config,
    ports,
    store,
    broker,
    registry,
    people,
    audit,
    sessions,
    passwords,
    issuedTokens,
    close: () =>
      (closing ??= (async () => {
        ready = false;
        clearInterval(housekeeping);
        retention.stop();
        watcher.stop();
        feed.close();
        await broker.close();
        await Promise.all([http.close(), https.close()]);
        if (!audit.flush()) log.error({ lost: audit.pending }, 'audit events could not be written before shutdown');
        issuedTokens.flush();
        store.close();
        mqttState?.close();
      })()),
  };
}

/**
 * `--audit-retention`: deletes older audit events now and every hour, and
 * audits the deletion itself. 0 keeps every event. A failure (the database
 * busy or full) is logged and tried again at the next hour.
 */
function auditRetention(store: Store, audit: AuditLog, log: Logger, retentionSeconds: number): { stop(): void } {
  if (retentionSeconds === 0) return { stop() {} };
  const run = async (): Promise<void> => {
    try {
      const deleted = await pruneAudit(store, retentionSeconds, { busyTimeoutMs: AUDIT_BUSY_TIMEOUT_MS });
      if (deleted > 0) {
        audit.record({ event: 'audit.pruned', outcome: 'success', detail: { actor: 'retention', older_than: formatDuration(retentionSeconds), deleted } });
      }
    } catch (err) {
      log.error({ err }, 'pruning the audit log failed; will try again');
    }
  };
  void run();
  const timer = setInterval(() => void run(), AUDIT_PRUNE_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * With `--http-port 0` and no `--issuer`, the issuer would name port 0;
 * pick the port first so tokens and RFC 8414 metadata name the real one.
 */
async function withIssuerPort(config: Readonly<Config>): Promise<Readonly<Config>> {
  if (config.httpPort !== 0 || config.issuer !== 'http://localhost:0') return config;
  const httpPort = await freePort(config.host);
  return Object.freeze({ ...config, httpPort, issuer: `http://localhost:${httpPort}` });
}
