import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit_log.js';
import type { Config } from '../config/options.js';
import type { KeyRing } from '../keys/key_ring.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CertificateAuthority } from '../pki/ca.js';
import type { CrlCache } from '../pki/crl_cache.js';
import type { ClaimRegistry } from '../registry/claims.js';
import type { ClientRegistry } from '../registry/clients.js';
import type { Provisioner } from '../registry/provisioning.js';
import type { Store } from '../store/store.js';
import type { RevocationList } from '../tokens/revocation_list.js';
import type { TokenIssuer } from '../tokens/token_issuer.js';
import type { ClientAuthenticator } from './client_auth/authenticate_client.js';
import type { ClientAuthEnv, ClientAuthInput } from './client_auth/method.js';
import { peerCertificate } from './peer_certificate.js';

/** Everything the OAuth server needs, handed in by the composition root (src/app.ts). */
export interface OAuthServerDeps {
  config: Readonly<Config>;
  store: Store;
  ring: KeyRing;
  revocations: RevocationList;
  issuer: TokenIssuer;
  registry: ClientRegistry;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  pki: { ca: CertificateAuthority; serverCertPem: string; serverKeyPem: string };
  /** The signed CRL, shared by the HTTP and HTTPS listeners; without it each listener keeps its own. */
  crl?: CrlCache;
  /** Ends live MQTT sessions at once after an HTTP revocation. */
  broker: { onTokenRevoked(jti: string): void };
  /** `/healthz` answers 200 only while this is true. */
  ready(): boolean;
  /** With `--cluster`: whether Redis answers (MQTT routing); always true on one node. */
  routing(): boolean;
  /** `POST /provision`; absent, the route is not offered. */
  onboarding?: {
    claims: Pick<ClaimRegistry, 'lookup'>;
    provisioner: Pick<Provisioner, 'provision'>;
    /** Failed claims per remote address, shared with the broker. */
    guesses: { retryAfter(key: string): number; fail(key: string): void };
  };
}

/** The public endpoint URLs, built from the issuer (the public base URL). */
export interface EndpointUrls {
  issuer: string;
  token: string;
  jwks: string;
  introspection: string;
  revocation: string;
}

export function endpointUrls(issuer: string): EndpointUrls {
  const base = issuer.replace(/\/+$/, '');
  return {
    issuer,
    token: `${base}/oauth/token`,
    jwks: `${base}/.well-known/jwks.json`,
    introspection: `${base}/oauth/introspect`,
    revocation: `${base}/oauth/revoke`,
  };
}

/** What every route module gets. */
export interface OAuthContext {
  deps: OAuthServerDeps;
  /** This listener is the HTTPS one. */
  tls: boolean;
  auth: ClientAuthenticator;
  urls: EndpointUrls;
}

/** The client-authentication input of a request. */
export function clientAuthInput(request: FastifyRequest, params: Readonly<Record<string, string>>): ClientAuthInput {
  return { authorization: request.headers.authorization, params, peerCertificate: peerCertificate(request) };
}

/** The environment a client-authentication method checks against, for one request. */
export function clientAuthEnv(ctx: OAuthContext, endpointUrl: string): ClientAuthEnv {
  return { store: ctx.deps.store, config: ctx.deps.config, ca: ctx.deps.pki.ca, nowMs: Date.now(), endpointUrl };
}
