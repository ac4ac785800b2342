import type { MqttAction } from '../../policy/index.js';
import type { ApiKeyView } from '../../registry/api_keys.js';
import type { CertificateView } from '../../registry/certificates.js';
import type { AuthMethodChange, ClientView } from '../../registry/clients.js';
import type { Explanation } from '../../registry/explain.js';
import type { PatView } from '../../registry/personal_access_tokens.js';
import type { KeyRotation } from '../../registry/signing_keys.js';
import type { ClaimView, CreatedClaim } from '../../registry/claims.js';
import type { ImportRow } from '../../registry/client_import.js';
import type { LiveSessionView, RevokedCredential } from '../../registry/sessions.js';
import type { TemplateView } from '../../registry/templates.js';
import type { LiveTokenView } from '../../registry/tokens.js';
import type { UserView } from '../../registry/users.js';
import type { ClientAuthMethod } from '../../store/clients.js';

/** A new device client, as `client create` takes it. */
export interface ClientInput {
  id: string;
  scope: string;
  /** Seconds; the server default when absent. */
  tokenTtl?: number;
  authMethod: ClientAuthMethod;
  publicJwk?: string;
}

/** A new stock device with a static MQTT password instead of a client secret. */
export type StaticPasswordClientInput = Omit<ClientInput, 'authMethod' | 'publicJwk'>;

/** A provisioning template, as `template create` takes it. */
export interface TemplateInput {
  name: string;
  scope: string;
  idPrefix: string;
  certDays: number;
  auth: string;
}

/**
 * A claim to mint. The endpoint overrides say where devices dial; only the
 * local files need them (a server knows its own endpoint).
 */
export interface ClaimInput {
  template: string;
  uses: number;
  /** Seconds. */
  expiresIn: number;
  publicHost?: string;
  mqttsPort?: number;
  httpsPort?: number;
}

/** What `client import` made for one row: its secret (once) and, when asked, a certificate with its key. */
export interface ImportedRow {
  row: number;
  line: number | null;
  client_id: string;
  auth_method: ClientAuthMethod;
  client_secret: string | null;
  certificate: { serial: string; cert_pem: string; key_pem: string; ca_pem: string } | null;
}

/** A certificate signed for a device, with its key when latchkey (or the CLI) made it. */
export interface IssuedCertificate {
  serial: string;
  client_id: string;
  cert_pem: string;
  /** Null when the device sent a CSR and keeps its own key. */
  key_pem: string | null;
  ca_pem: string;
  not_after: string;
  fingerprint: string;
}

/** An audit event as the CLI prints it (and the admin API answers it). */
export interface AuditEntry {
  at: string;
  event: string;
  principal: string | null;
  outcome: string;
  reason: string | null;
  remote: string | null;
  detail: Record<string, unknown> | null;
  /** Events this row stands for (aggregated denials and refused CONNECTs). */
  count: number;
}

export interface AuditFilter {
  principal?: string;
  event?: string;
  /** Milliseconds since the epoch. */
  since?: number;
  limit: number;
}

/**
 * Everything an operator command does, whichever latchkey it does it to:
 * {@link LocalOperations} works on this machine's database, RemoteOperations
 * on a server's admin API. A command body is written once against this
 * interface and prints the same output in both modes; adding a command is
 * one method here and one in each implementation.
 */
export interface Operations {
  createClient(input: ClientInput): Promise<{ client_id: string; client_secret: string | null }>;
  listClients(): Promise<ClientView[]>;
  showClient(id: string): Promise<ClientView>;
  setClientScope(id: string, scope: string): Promise<ClientView>;
  rotateClientSecret(id: string, graceSeconds: number): Promise<{ client_id: string; client_secret: string }>;
  /** `live_sessions`: how many sessions the client had when it changed (a disable ends them). */
  setClientStatus(id: string, status: 'enabled' | 'disabled'): Promise<{ view: ClientView; live_sessions: number }>;
  setClientAuthMethod(id: string, method: string, publicJwk?: string): Promise<AuthMethodChange>;
  /** Disables a hub and every device it vouched for (`provision:<template>`); `cascade` names those devices. */
  disableClientCascade(id: string): Promise<{ view: ClientView; live_sessions: number; cascade: string[] }>;
  /** Registers a stock device with a static MQTT password (no client secret); the password is in this answer only. */
  createStaticPasswordClient(input: StaticPasswordClientInput): Promise<{ client_id: string; client_secret: null; mqtt_password: string }>;
  /** A new static password (or a first one); the previous one works for `graceSeconds` more. */
  setStaticPassword(id: string, graceSeconds: number): Promise<{ client_id: string; mqtt_password: string; previous_expires_at: string | null }>;
  revokeStaticPassword(id: string): Promise<{ client_id: string; revoked: number }>;
  /**
   * Creates many clients, all or nothing. Locally `deliver` (writing the
   * secrets and key files) runs before the commit and `undo` if the commit
   * fails. Remotely the server commits first, so `deliver.check` runs before
   * the request with the number of rows that will get a secret, to refuse
   * an import whose secrets would have nowhere to go.
   * @throws ImportError with every row's problem
   */
  importClients(
    rows: readonly ImportRow[],
    opts: { certificateDays?: number },
    deliver: { check(secrets: number): void; write(clients: readonly ImportedRow[]): void; undo(): void },
  ): Promise<ImportedRow[]>;
  deleteClient(id: string): Promise<{ live_sessions: number; revoked_certificates: string[] }>;
  /** Live sessions on every server process sharing the store; only `principal`'s when given. */
  listSessions(principal?: string): Promise<LiveSessionView[]>;
  /** Ends the session with this MQTT client id (on every node); `revoke` first revokes its credential. */
  kickSession(clientId: string, revoke: boolean): Promise<{ client_id: string; kicked: number; revoked: RevokedCredential[] }>;
  /** Sessions with this MQTT client id still listed after waiting up to `ms` for them to end. */
  waitSessionGone(clientId: string, ms: number): Promise<number>;
  /** Live access tokens by jti (never the tokens). */
  listTokens(clientId?: string): Promise<LiveTokenView[]>;

  /**
   * Signs a device certificate. Without `csrPem` a key is made for the
   * device (locally by the CLI in remote mode: it never crosses the network).
   * `deliver` writes the files before the certificate is recorded, so bad
   * input writes nothing.
   */
  issueCertificate(id: string, opts: { days: number; csrPem?: string }, deliver: (issued: IssuedCertificate) => void): Promise<IssuedCertificate>;
  listCertificates(clientId?: string): Promise<CertificateView[]>;
  revokeCertificate(serial: string): Promise<{ serial: string; client_id: string; already_revoked: boolean }>;

  createUser(input: { name: string; scope?: string }): Promise<UserView>;
  listUsers(): Promise<UserView[]>;
  showUser(name: string): Promise<UserView>;
  setUserStatus(name: string, status: 'enabled' | 'disabled'): Promise<UserView>;
  setUserScope(name: string, scope: string): Promise<UserView>;
  deleteUser(name: string): Promise<{ name: string; deleted: true }>;

  createPat(input: { user: string; name: string; scope: string; expiresIn: number | 'never' }): Promise<{ id: string; token: string; expires_at: string | null }>;
  listPats(user?: string): Promise<PatView[]>;
  revokePat(id: string): Promise<{ id: string; user: string; name: string; already_revoked: boolean }>;

  createApiKey(input: { name: string; scope: string }): Promise<{ id: string; key: string }>;
  listApiKeys(): Promise<ApiKeyView[]>;
  rollApiKey(name: string, graceSeconds: number): Promise<{ id: string; key: string; previous_expires_at: string }>;
  deleteApiKey(name: string): Promise<void>;
  setApiKeyStatus(name: string, status: 'enabled' | 'disabled'): Promise<ApiKeyView>;

  revokeToken(jti: string): Promise<{ already_revoked: boolean }>;
  rotateKeys(): Promise<KeyRotation>;
  auditEvents(filter: AuditFilter): Promise<AuditEntry[]>;
  /** Deletes audit events older than `seconds`; `label` is how the operator said it (`90d`), for the audit trail. */
  pruneAudit(seconds: number, label: string): Promise<{ deleted: number }>;
  explain(id: string, act: MqttAction, topic: string): Promise<Explanation>;

  createTemplate(input: TemplateInput): Promise<TemplateView>;
  listTemplates(): Promise<TemplateView[]>;
  showTemplate(name: string): Promise<TemplateView>;
  deleteTemplate(name: string): Promise<{ name: string; deleted: true }>;
  createClaim(input: ClaimInput): Promise<CreatedClaim>;
  listClaims(): Promise<ClaimView[]>;
  revokeClaim(id: string): Promise<{ id: string; used: number; uses: number; already_revoked: boolean }>;

  /** A one-time console login link for `user` (null: the operator locally, the caller's own user remotely). */
  createLoginLink(user: string | null): Promise<{ secret: string; user: string; expires_at: string; base: string }>;
}
