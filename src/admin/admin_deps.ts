import type { Logger } from '../log/logger.js';
import type { ApiKeyRegistry } from '../registry/api_keys.js';
import type { CertificateRegistry } from '../registry/certificates.js';
import type { ClaimRegistry, OnboardingEndpoint } from '../registry/claims.js';
import type { ClientRegistry } from '../registry/clients.js';
import type { PatRegistry } from '../registry/personal_access_tokens.js';
import type { SessionRegistry } from '../registry/sessions.js';
import type { StaticPasswordRegistry } from '../registry/static_passwords.js';
import type { TemplateRegistry } from '../registry/templates.js';
import type { UserRegistry } from '../registry/users.js';
import type { Store } from '../store/store.js';
import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit_log.js';
import type { AdminCaller } from './bearer_guard.js';

/** A live MQTT session as the admin API shows it (the broker's SessionView). */
export interface AdminSessionView {
  client_id: string;
  principal: string;
  kind: string;
  method: string;
  remote: string | null;
  connected_at: string;
  credential_expires_at: string | null;
  subscriptions: string[];
}

/** What the admin API works with, handed in by the composition root. */
export interface AdminDeps {
  store: Store;
  audit: AuditLog;
  log: Logger;
  clients: ClientRegistry;
  certificates: CertificateRegistry;
  users: UserRegistry;
  pats: PatRegistry;
  apiKeys: ApiKeyRegistry;
  broker: { sessions(): AdminSessionView[] };
  /** Live sessions of every node, and kicking one: the same code path as the CLI's `sessions`. */
  sessions: SessionRegistry;
  passwords: StaticPasswordRegistry;
  /** Issued tokens' metadata; flushed before `GET /admin/tokens` reads it. */
  issuedTokens: { flush(): void };
  /** Provisioning templates and onboarding claims: the same registries as `latchkey template|claim`. */
  templates: TemplateRegistry;
  claims: ClaimRegistry;
  /** Where devices reach this latchkey, for the onboarding strings of claims minted here. */
  onboardingEndpoint(): OnboardingEndpoint;
  /** Topic limits of the broker, for explain. */
  limits: { maxLevels: number; maxBytes: number };
  /** Another way to be the caller than a Bearer token: the console's session cookie (src/console/). */
  sessionAuth?: SessionAuthenticator;
}

/** Authenticates a request by something other than a Bearer token; null when it carries none. */
export interface SessionAuthenticator {
  /** @throws AdminError 401 (bad session) or 403 (a change without the CSRF token or from another origin) */
  authenticate(request: FastifyRequest, access: 'read' | 'write'): AdminCaller | null;
}

/** What every admin route module gets. */
export interface AdminContext {
  deps: AdminDeps;
  /** The caller the guard authenticated for this request (in an onRequest hook, before any parsing). */
  caller(request: FastifyRequest): AdminCaller;
}
