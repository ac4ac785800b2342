import type { MqttAction } from '../../policy/index.js';
import { ApiKeyRegistry } from '../../registry/api_keys.js';
import type { CertificateRegistry } from '../../registry/certificates.js';
import { explain } from '../../registry/explain.js';
import { PatRegistry } from '../../registry/personal_access_tokens.js';
import { pruneAuditEvents } from '../../audit/audit_prune.js';
import { rotateKeys } from '../../registry/signing_keys.js';
import { listLiveTokens, revokeToken } from '../../registry/tokens.js';
import { UserRegistry } from '../../registry/users.js';
import type { StoreSession } from '../context.js';
import type { AuditEntry, AuditFilter, ClientInput, IssuedCertificate, Operations } from './operations.js';

/**
 * Operations on this machine's database, through the same registries the
 * server uses: validated, durable, on the change feed a running server
 * follows, audited as `actor`.
 */
export class LocalOperations implements Operations {
  readonly #users: UserRegistry;
  readonly #pats: PatRegistry;
  readonly #apiKeys: ApiKeyRegistry;

  constructor(
    private readonly session: StoreSession,
    private readonly actor: string,
  ) {
    this.#users = new UserRegistry(session.store, session.audit);
    this.#pats = new PatRegistry(session.store, session.audit);
    this.#apiKeys = new ApiKeyRegistry(session.store, session.audit);
  }

  async createClient(input: ClientInput) {
    return this.session.registry.create(
      {
        id: input.id,
        scope: input.scope,
        authMethod: input.authMethod,
        ...(input.tokenTtl !== undefined ? { tokenTtl: input.tokenTtl } : {}),
        ...(input.publicJwk !== undefined ? { publicJwk: input.publicJwk } : {}),
      },
      this.actor,
    );
  }
  async listClients() {
    return this.session.registry.list();
  }
  async showClient(id: string) {
    return this.session.registry.show(id);
  }
  async setClientScope(id: string, scope: string) {
    return this.session.registry.setScope(id, scope, this.actor);
  }
  async rotateClientSecret(id: string, graceSeconds: number) {
    return this.session.registry.rotateSecret(id, graceSeconds, this.actor);
  }
  async setClientStatus(id: string, status: 'enabled' | 'disabled') {
    const live_sessions = this.session.sessions.count(id);
    return { view: this.session.registry.setStatus(id, status, this.actor), live_sessions };
  }
  async setClientAuthMethod(id: string, method: string, publicJwk?: string) {
    return this.session.registry.setAuthMethod(id, method, publicJwk !== undefined ? { publicJwk } : {}, this.actor);
  }
  async deleteClient(id: string) {
    const live_sessions = this.session.sessions.count(id);
    const { revokedCertificates } = this.session.registry.delete(id, this.actor);
    return { live_sessions, revoked_certificates: revokedCertificates };
  }
  async listSessions(principal?: string) {
    return this.session.sessions.list(principal);
  }
  async listTokens(clientId?: string) {
    return listLiveTokens(this.session.store, clientId !== undefined ? { clientId } : {});
  }

  async issueCertificate(id: string, opts: { days: number; csrPem?: string }, deliver: (issued: IssuedCertificate) => void) {
    const issued = await (await this.#certificates()).issue(id, opts, this.actor, (material) => deliver(certificateOf(material)));
    return certificateOf(issued);
  }
  async listCertificates(clientId?: string) {
    return (await this.#certificates()).list(clientId);
  }
  async revokeCertificate(serial: string) {
    return (await this.#certificates()).revoke(serial, this.actor);
  }

  async createUser(input: { name: string; scope?: string }) {
    return this.#users.create(input, this.actor);
  }
  async listUsers() {
    return this.#users.list();
  }
  async showUser(name: string) {
    return this.#users.show(name);
  }
  async setUserStatus(name: string, status: 'enabled' | 'disabled') {
    return this.#users.setStatus(name, status, this.actor);
  }
  async setUserScope(name: string, scope: string) {
    return this.#users.setScope(name, scope, this.actor);
  }

  async deleteUser(name: string) {
    return this.#users.delete(name, this.actor);
  }

  async createPat(input: { user: string; name: string; scope: string; expiresIn: number | 'never' }) {
    return this.#pats.create(input, this.actor);
  }
  async listPats(user?: string) {
    return this.#pats.list(user);
  }
  async revokePat(id: string) {
    const { view, alreadyRevoked } = this.#pats.revoke(id, this.actor);
    return { id: view.id, user: view.user, name: view.name, already_revoked: alreadyRevoked };
  }

  async createApiKey(input: { name: string; scope: string }) {
    return this.#apiKeys.create(input, this.actor);
  }
  async listApiKeys() {
    return this.#apiKeys.list();
  }
  async rollApiKey(name: string, graceSeconds: number) {
    return this.#apiKeys.roll(name, graceSeconds, this.actor);
  }
  async deleteApiKey(name: string) {
    this.#apiKeys.delete(name, this.actor);
  }

  async setApiKeyStatus(name: string, status: 'enabled' | 'disabled') {
    return this.#apiKeys.setStatus(name, status, this.actor);
  }

  async revokeToken(jti: string) {
    return { already_revoked: !revokeToken(this.session.store, this.session.audit, { jti }, this.actor) };
  }
  async rotateKeys() {
    return rotateKeys(this.session.store, this.session.audit, this.actor);
  }
  async auditEvents(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.session.store.audit.query(filter).map((e) => ({
      at: new Date(e.at).toISOString(),
      event: e.event,
      principal: e.principal,
      outcome: e.outcome,
      reason: e.reason,
      remote: e.remote,
      detail: e.detail,
      // An aggregated row stands for `count` events; detail.samples holds up to 5 of their topics or client ids.
      count: e.count ?? 1,
    }));
  }
  async pruneAudit(seconds: number, label: string) {
    return pruneAuditEvents(this.session.store, this.session.audit, seconds, label, this.actor);
  }
  async explain(id: string, act: MqttAction, topic: string) {
    return explain(this.session.store, { maxLevels: this.session.config.maxTopicLevels, maxBytes: 65_535 }, id, act, topic);
  }

  /**
   * The PKI modules load only here (they are slow to import), and the CA
   * only when something is signed: `ensurePki` makes one if `latchkey init`
   * was never run, as `start` would.
   */
  async #certificates(): Promise<CertificateRegistry> {
    const { CertificateRegistry } = await import('../../registry/certificates.js');
    const { ensurePki } = await import('../../pki/ca.js');
    const certsDir = this.session.config.certsDir;
    return new CertificateRegistry(this.session.store, this.session.audit, async () => (await ensurePki(certsDir)).ca);
  }
}

function certificateOf(m: { serial: string; clientId: string; certPem: string; keyPem: string | null; caPem: string; notAfter: Date; fingerprint: string }): IssuedCertificate {
  return {
    serial: m.serial,
    client_id: m.clientId,
    cert_pem: m.certPem,
    key_pem: m.keyPem,
    ca_pem: m.caPem,
    not_after: m.notAfter.toISOString(),
    fingerprint: m.fingerprint,
  };
}
