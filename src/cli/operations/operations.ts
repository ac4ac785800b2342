import type { MqttAction } from '../../policy/index.js';
import type { ApiKeyView } from '../../registry/api_keys.js';
import type { CertificateView } from '../../registry/certificates.js';
import type { AuthMethodChange, ClientView } from '../../registry/clients.js';
import type { Explanation } from '../../registry/explain.js';
import type { PatView } from '../../registry/personal_access_tokens.js';
import type { KeyRotation } from '../../registry/signing_keys.js';
import type { LiveSessionView } from '../../registry/sessions.js';
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
  deleteClient(id: string): Promise<{ live_sessions: number; revoked_certificates: string[] }>;
  /** Live sessions on every server process sharing the store; only `principal`'s when given. */
  listSessions(principal?: string): Promise<LiveSessionView[]>;
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
}
