import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLoginLink } from '../../console/login_links.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { OPERATOR_CLAIM_LIMITS } from '../../onboarding/claims.js';
import { PKI_FILES } from '../../pki/pki_files.js';
import type { MqttAction } from '../../policy/index.js';
import { ClaimRegistry } from '../../registry/claims.js';
import { importClients, type ImportedClient, type ImportRow } from '../../registry/client_import.js';
import { credentialRevokers } from '../../registry/credential_revokers.js';
import { SessionRegistry } from '../../registry/sessions.js';
import { StaticPasswordRegistry } from '../../registry/static_passwords.js';
import { TemplateRegistry } from '../../registry/templates.js';
import { ApiKeyRegistry } from '../../registry/api_keys.js';
import type { CertificateRegistry } from '../../registry/certificates.js';
import { explain } from '../../registry/explain.js';
import { PatRegistry } from '../../registry/personal_access_tokens.js';
import { pruneAuditEvents } from '../../audit/audit_prune.js';
import { rotateKeys } from '../../registry/signing_keys.js';
import { listLiveTokens, revokeToken } from '../../registry/tokens.js';
import { UserRegistry } from '../../registry/users.js';
import type { StoreSession } from '../context.js';
import type { AuditEntry, AuditFilter, ClaimInput, ClientInput, ImportedRow, IssuedCertificate, Operations, StaticPasswordClientInput, TemplateInput } from './operations.js';

/**
 * Operations on this machine's database, through the same registries the
 * server uses: validated, durable, on the change feed a running server
 * follows, audited as `actor`.
 */
export class LocalOperations implements Operations {
  readonly #users: UserRegistry;
  readonly #pats: PatRegistry;
  readonly #apiKeys: ApiKeyRegistry;
  readonly #templates: TemplateRegistry;
  readonly #claims: ClaimRegistry;

  constructor(
    private readonly session: StoreSession,
    private readonly actor: string,
  ) {
    this.#users = new UserRegistry(session.store, session.audit);
    this.#pats = new PatRegistry(session.store, session.audit);
    this.#apiKeys = new ApiKeyRegistry(session.store, session.audit);
    this.#templates = new TemplateRegistry(session.store, session.audit);
    this.#claims = new ClaimRegistry(session.store, session.audit);
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
  async disableClientCascade(id: string) {
    const live_sessions = this.session.sessions.count(id);
    const { hub, disabled } = this.session.registry.disableCascade(id, this.actor);
    return { view: hub, live_sessions, cascade: disabled };
  }
  async createStaticPasswordClient(input: StaticPasswordClientInput) {
    const { registry, passwords } = this.session;
    const created = registry.create(
      { id: input.id, scope: input.scope, ...(input.tokenTtl !== undefined ? { tokenTtl: input.tokenTtl } : {}), authMethod: 'client_secret_basic', noSecret: true },
      this.actor,
    );
    const { mqtt_password } = passwords.set(created.client_id, 0, this.actor);
    return { client_id: created.client_id, client_secret: null, mqtt_password };
  }
  async setStaticPassword(id: string, graceSeconds: number) {
    return this.session.passwords.set(id, graceSeconds, this.actor);
  }
  async revokeStaticPassword(id: string) {
    return this.session.passwords.revoke(id, this.actor);
  }
  async importClients(
    rows: readonly ImportRow[],
    opts: { certificateDays?: number },
    deliver: { check(secrets: number): void; write(clients: readonly ImportedRow[]): void; undo(): void },
  ) {
    const { store, registry } = this.session;
    const certificates = opts.certificateDays !== undefined ? { registry: await this.#certificates(), days: opts.certificateDays } : undefined;
    const imported = await importClients(
      registry,
      rows,
      {
        ...(certificates ? { certificates } : {}),
        // Checked only now, after every row: a bad file is reported as such first.
        deliver: (clients) => {
          const made = clients.map(importedRow);
          deliver.check(made.filter((c) => c.client_secret !== null).length);
          deliver.write(made);
        },
        undo: () => deliver.undo(),
      },
      this.actor,
      (id) => store.nameTaken(id),
    );
    return imported.map(importedRow);
  }
  async deleteClient(id: string) {
    const live_sessions = this.session.sessions.count(id);
    const { revokedCertificates } = this.session.registry.delete(id, this.actor);
    return { live_sessions, revoked_certificates: revokedCertificates };
  }
  async listSessions(principal?: string) {
    return this.session.sessions.list(principal);
  }
  async kickSession(clientId: string, revoke: boolean) {
    return this.#sessionRegistry().kick(clientId, { revoke }, this.actor);
  }
  async waitSessionGone(clientId: string, ms: number) {
    return this.session.sessions.waitUntilGone(clientId, ms, true);
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

  async createTemplate(input: TemplateInput) {
    return this.#templates.create(input, this.actor);
  }
  async listTemplates() {
    return this.#templates.list();
  }
  async showTemplate(name: string) {
    return this.#templates.show(name);
  }
  async deleteTemplate(name: string) {
    this.#templates.delete(name, this.actor);
    return { name, deleted: true as const };
  }
  async createClaim(input: ClaimInput) {
    // Loaded here, not at start: it brings the X.509 library, which other commands need not pay for.
    const { onboardingEndpoint } = await import('../../registry/onboarding_endpoint.js');
    const { config } = this.session;
    const caPem = readPem(join(config.certsDir, PKI_FILES.caCert));
    if (caPem === null) throw new LatchkeyError('not_found', `no CA in ${config.certsDir}: run latchkey init first`);
    const endpoint = onboardingEndpoint(
      { host: config.host, publicHost: input.publicHost ?? config.publicHost },
      { mqtts: input.mqttsPort ?? config.mqttsPort, https: input.httpsPort ?? config.httpsPort },
      caPem,
      readPem(join(config.certsDir, PKI_FILES.serverCert)),
    );
    return this.#claims.create(input.template, { uses: input.uses, expiresIn: input.expiresIn }, OPERATOR_CLAIM_LIMITS, this.actor, endpoint);
  }
  async listClaims() {
    return this.#claims.list();
  }
  async revokeClaim(id: string) {
    const { view, alreadyRevoked } = this.#claims.revoke(id, this.actor);
    return { id: view.id, used: view.used, uses: view.uses, already_revoked: alreadyRevoked };
  }
  async createLoginLink(user: string | null) {
    const { secret, expiresAt } = createLoginLink(this.session.store, this.session.audit, user, this.actor, Date.now());
    return { secret, user: user ?? 'operator', expires_at: new Date(expiresAt).toISOString(), base: this.session.config.issuer };
  }

  /** The session registry with every revoker, for `sessions kick --revoke`; the PKI loads only if a certificate is revoked. */
  #sessionRegistry(): SessionRegistry {
    const { store, audit } = this.session;
    return new SessionRegistry(
      store,
      audit,
      credentialRevokers({ store, audit, pats: this.#pats, passwords: new StaticPasswordRegistry(store, audit), certificates: () => this.#certificates() }),
    );
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

function readPem(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

function importedRow(c: ImportedClient): ImportedRow {
  return {
    row: c.row,
    line: c.line,
    client_id: c.client_id,
    auth_method: c.auth_method,
    client_secret: c.client_secret,
    certificate: c.certificate ? { serial: c.certificate.serial, cert_pem: c.certificate.certPem, key_pem: c.certificate.keyPem!, ca_pem: c.certificate.caPem } : null,
  };
}
