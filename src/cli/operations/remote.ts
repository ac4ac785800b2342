import type { MqttAction } from '../../policy/index.js';
import type { ApiKeyView } from '../../registry/api_keys.js';
import type { CertificateView } from '../../registry/certificates.js';
import type { AuthMethodChange, ClientView } from '../../registry/clients.js';
import type { Explanation } from '../../registry/explain.js';
import type { PatView } from '../../registry/personal_access_tokens.js';
import type { KeyRotation } from '../../registry/signing_keys.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import type { ClaimView, CreatedClaim } from '../../registry/claims.js';
import type { LiveSessionView, RevokedCredential } from '../../registry/sessions.js';
import type { TemplateView } from '../../registry/templates.js';
import type { LiveTokenView } from '../../registry/tokens.js';
import type { UserView } from '../../registry/users.js';
import { ImportError, rowGetsSecret, type ImportRow } from '../../registry/client_import.js';
import type { ClientAuthMethod } from '../../store/clients.js';
import { AdminRefusal, type AdminClient } from './admin_client.js';
import type { AuditEntry, AuditFilter, ClaimInput, ClientInput, ImportedRow, IssuedCertificate, Operations, StaticPasswordClientInput, TemplateInput } from './operations.js';

/** Path segments are names and serials checked by the server; encoding keeps a stray `/` from changing the route. */
const seg = encodeURIComponent;

/**
 * Operations on a latchkey elsewhere, over its admin API (`/admin/…`) with
 * a PAT or API key: every method is one request (two where the local
 * command also shows the result), answering with the same data as
 * {@link LocalOperations}, so the CLI's output is the same in both modes.
 */
export class RemoteOperations implements Operations {
  constructor(private readonly admin: AdminClient) {}

  async createClient(input: ClientInput) {
    return this.admin.call<{ client_id: string; client_secret: string | null }>('POST', '/admin/clients', {
      client_id: input.id,
      scope: input.scope,
      auth_method: input.authMethod,
      ...(input.tokenTtl !== undefined ? { token_ttl: input.tokenTtl } : {}),
      ...(input.publicJwk !== undefined ? { public_jwk: input.publicJwk } : {}),
    });
  }
  async listClients() {
    return (await this.admin.call<{ clients: ClientView[] }>('GET', '/admin/clients')).clients;
  }
  async showClient(id: string) {
    return this.admin.call<ClientView>('GET', `/admin/clients/${seg(id)}`);
  }
  async setClientScope(id: string, scope: string) {
    return this.admin.call<ClientView>('POST', `/admin/clients/${seg(id)}/scope`, { scope });
  }
  async rotateClientSecret(id: string, graceSeconds: number) {
    return this.admin.call<{ client_id: string; client_secret: string }>('POST', `/admin/clients/${seg(id)}/rotate-secret`, { grace: graceSeconds });
  }
  async setClientStatus(id: string, status: 'enabled' | 'disabled') {
    const { live_sessions, ...view } = await this.admin.call<ClientView & { live_sessions: number }>(
      'POST',
      `/admin/clients/${seg(id)}/${status === 'enabled' ? 'enable' : 'disable'}`,
    );
    return { view: view as ClientView, live_sessions };
  }
  async setClientAuthMethod(id: string, method: string, publicJwk?: string) {
    return this.admin.call<AuthMethodChange>('PUT', `/admin/clients/${seg(id)}/auth-method`, {
      auth_method: method,
      ...(publicJwk !== undefined ? { jwk: publicJwk } : {}),
    });
  }
  async disableClientCascade(id: string) {
    const { live_sessions, cascade, ...view } = await this.admin.call<ClientView & { live_sessions: number; cascade: string[] }>(
      'POST',
      `/admin/clients/${seg(id)}/disable?cascade=true`,
    );
    return { view: view as ClientView, live_sessions, cascade };
  }
  async createStaticPasswordClient(input: StaticPasswordClientInput) {
    return this.admin.call<{ client_id: string; client_secret: null; mqtt_password: string }>('POST', '/admin/clients', {
      client_id: input.id,
      scope: input.scope,
      static_password: true,
      ...(input.tokenTtl !== undefined ? { token_ttl: input.tokenTtl } : {}),
    });
  }
  async setStaticPassword(id: string, graceSeconds: number) {
    return this.admin.call<{ client_id: string; mqtt_password: string; previous_expires_at: string | null }>(
      'POST',
      `/admin/clients/${seg(id)}/static-password`,
      { grace_seconds: graceSeconds },
    );
  }
  async revokeStaticPassword(id: string) {
    return this.admin.call<{ client_id: string; revoked: number }>('DELETE', `/admin/clients/${seg(id)}/static-password`);
  }
  async importClients(
    rows: readonly ImportRow[],
    opts: { certificateDays?: number },
    deliver: { check(secrets: number): void; write(clients: readonly ImportedRow[]): void; undo(): void },
  ) {
    // The server commits before anything is written here: refuse now what could not be delivered then.
    deliver.check(rows.filter(rowGetsSecret).length);
    let answer: { clients: { row: number; client_id: string; auth_method: ClientAuthMethod; client_secret: string | null; certificate: { serial: string; cert: string; key: string; ca: string } | null }[] };
    try {
      answer = await this.admin.call('POST', '/admin/clients:batch', {
        clients: rows.map((r) => r.fields),
        ...(opts.certificateDays !== undefined ? { certificates: { days: opts.certificateDays } } : {}),
      });
    } catch (err) {
      throw rowProblems(err, rows);
    }
    const lineOf = new Map(rows.map((r) => [r.row, r.line]));
    const imported: ImportedRow[] = answer.clients.map((c) => ({
      row: c.row,
      line: lineOf.get(c.row) ?? null,
      client_id: c.client_id,
      auth_method: c.auth_method,
      client_secret: c.client_secret,
      certificate: c.certificate ? { serial: c.certificate.serial, cert_pem: c.certificate.cert, key_pem: c.certificate.key, ca_pem: c.certificate.ca } : null,
    }));
    try {
      deliver.write(imported);
    } catch (err) {
      const said = err instanceof Error ? err.message : String(err);
      throw new LatchkeyError('internal', `the server created the ${imported.length} clients, but writing their secrets or keys failed (${said}): issue new ones with client rotate-secret / cert issue`);
    }
    return imported;
  }
  async deleteClient(id: string) {
    const { live_sessions } = await this.admin.call<{ live_sessions: number }>('DELETE', `/admin/clients/${seg(id)}`);
    // The server revokes the certificates too; its answer does not list them.
    return { live_sessions, revoked_certificates: [] };
  }
  async listSessions(principal?: string) {
    const query = principal === undefined ? '' : `?client_id=${seg(principal)}`;
    return (await this.admin.call<{ sessions: LiveSessionView[] }>('GET', `/admin/sessions${query}`)).sessions;
  }
  async kickSession(clientId: string, revoke: boolean) {
    return this.admin.call<{ client_id: string; kicked: number; revoked: RevokedCredential[] }>(
      'DELETE',
      `/admin/sessions/${seg(clientId)}${revoke ? '?revoke=true' : ''}`,
    );
  }
  async waitSessionGone(clientId: string, ms: number) {
    const deadline = Date.now() + ms;
    for (;;) {
      const { sessions } = await this.admin.call<{ sessions: LiveSessionView[] }>('GET', '/admin/sessions');
      const left = sessions.filter((s) => s.client_id === clientId).length;
      if (left === 0 || Date.now() >= deadline) return left;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  async listTokens(clientId?: string) {
    const query = clientId === undefined ? '' : `?client_id=${seg(clientId)}`;
    return (await this.admin.call<{ tokens: LiveTokenView[] }>('GET', `/admin/tokens${query}`)).tokens;
  }

  async issueCertificate(id: string, opts: { days: number; csrPem?: string }, deliver: (issued: IssuedCertificate) => void) {
    let keyPem: string | null = null;
    let csrPem = opts.csrPem;
    if (csrPem === undefined) {
      const { deviceKeyAndCsr } = await import('../../pki/device_csr.js');
      ({ keyPem, csrPem } = await deviceKeyAndCsr(id));
    }
    const signed = await this.admin.call<{ serial: string; client_id: string; cert: string; ca: string; not_after: string; fingerprint: string }>(
      'POST',
      '/admin/certificates',
      { client_id: id, csr: csrPem, days: opts.days },
    );
    const issued: IssuedCertificate = {
      serial: signed.serial,
      client_id: signed.client_id,
      cert_pem: signed.cert,
      key_pem: keyPem,
      ca_pem: signed.ca,
      not_after: signed.not_after,
      fingerprint: signed.fingerprint,
    };
    deliver(issued);
    return issued;
  }
  async listCertificates(clientId?: string) {
    const query = clientId === undefined ? '' : `?client_id=${seg(clientId)}`;
    return (await this.admin.call<{ certificates: CertificateView[] }>('GET', `/admin/certificates${query}`)).certificates;
  }
  async revokeCertificate(serial: string) {
    return this.admin.call<{ serial: string; client_id: string; already_revoked: boolean }>('POST', `/admin/certificates/${seg(serial)}/revoke`);
  }

  async createUser(input: { name: string; scope?: string }) {
    return this.admin.call<UserView>('POST', '/admin/users', input);
  }
  async listUsers() {
    return (await this.admin.call<{ users: UserView[] }>('GET', '/admin/users')).users;
  }
  async showUser(name: string) {
    return this.admin.call<UserView>('GET', `/admin/users/${seg(name)}`);
  }
  async setUserStatus(name: string, status: 'enabled' | 'disabled') {
    return this.admin.call<UserView>('POST', `/admin/users/${seg(name)}/${status === 'enabled' ? 'enable' : 'disable'}`);
  }
  async setUserScope(name: string, scope: string) {
    return this.admin.call<UserView>('POST', `/admin/users/${seg(name)}/scope`, { scope });
  }

  async deleteUser(name: string) {
    return this.admin.call<{ name: string; deleted: true }>('DELETE', `/admin/users/${seg(name)}`);
  }

  async createPat(input: { user: string; name: string; scope: string; expiresIn: number | 'never' }) {
    return this.admin.call<{ id: string; token: string; expires_at: string | null }>('POST', '/admin/pats', {
      user: input.user,
      name: input.name,
      scope: input.scope,
      expires_in: input.expiresIn,
    });
  }
  async listPats(user?: string) {
    const query = user === undefined ? '' : `?user=${seg(user)}`;
    return (await this.admin.call<{ tokens: PatView[] }>('GET', `/admin/pats${query}`)).tokens;
  }
  async revokePat(id: string) {
    return this.admin.call<{ id: string; user: string; name: string; already_revoked: boolean }>('POST', `/admin/pats/${seg(id)}/revoke`);
  }

  async createApiKey(input: { name: string; scope: string }) {
    return this.admin.call<{ id: string; key: string }>('POST', '/admin/apikeys', input);
  }
  async listApiKeys() {
    return (await this.admin.call<{ api_keys: ApiKeyView[] }>('GET', '/admin/apikeys')).api_keys;
  }
  async rollApiKey(name: string, graceSeconds: number) {
    return this.admin.call<{ id: string; key: string; previous_expires_at: string }>('POST', `/admin/apikeys/${seg(name)}/roll`, { grace: graceSeconds });
  }
  async deleteApiKey(name: string) {
    await this.admin.call('DELETE', `/admin/apikeys/${seg(name)}`);
  }

  async setApiKeyStatus(name: string, status: 'enabled' | 'disabled') {
    return this.admin.call<ApiKeyView>('POST', `/admin/apikeys/${seg(name)}/${status === 'enabled' ? 'enable' : 'disable'}`);
  }

  async revokeToken(jti: string) {
    return this.admin.call<{ already_revoked: boolean }>('POST', '/admin/tokens/revoke', { jti });
  }
  async rotateKeys() {
    return this.admin.call<KeyRotation>('POST', '/admin/keys/rotate');
  }
  async auditEvents(filter: AuditFilter) {
    const query = new URLSearchParams({ limit: String(filter.limit) });
    if (filter.principal !== undefined) query.set('principal', filter.principal);
    if (filter.event !== undefined) query.set('event', filter.event);
    if (filter.since !== undefined) query.set('since', new Date(filter.since).toISOString());
    return (await this.admin.call<{ events: AuditEntry[] }>('GET', `/admin/audit?${query}`)).events;
  }
  async pruneAudit(seconds: number, label: string) {
    return this.admin.call<{ deleted: number }>('POST', '/admin/audit/prune', { older_than: seconds, label: label.trim() });
  }
  async explain(id: string, act: MqttAction, topic: string) {
    return this.admin.call<Explanation>('GET', `/admin/explain?${new URLSearchParams({ principal: id, action: act, topic })}`);
  }

  async createTemplate(input: TemplateInput) {
    return this.admin.call<TemplateView>('POST', '/admin/templates', {
      name: input.name,
      scope: input.scope,
      id_prefix: input.idPrefix,
      cert_days: input.certDays,
      auth: input.auth,
    });
  }
  async listTemplates() {
    return (await this.admin.call<{ templates: TemplateView[] }>('GET', '/admin/templates')).templates;
  }
  async showTemplate(name: string) {
    return this.admin.call<TemplateView>('GET', `/admin/templates/${seg(name)}`);
  }
  async deleteTemplate(name: string) {
    return this.admin.call<{ name: string; deleted: true }>('DELETE', `/admin/templates/${seg(name)}`);
  }
  async createClaim(input: ClaimInput) {
    // The server puts its own endpoint in the onboarding string; silently ignoring an override would mislead.
    if (input.publicHost !== undefined || input.mqttsPort !== undefined || input.httpsPort !== undefined) {
      throw new LatchkeyError('invalid_option', '--public-host, --mqtts-port and --https-port set the endpoint on the server\'s own files only; with --server the server uses its own');
    }
    const { id, claim, onboarding, expires_at } = await this.admin.call<CreatedClaim & { qr_svg: string }>('POST', '/admin/claims', {
      template: input.template,
      uses: input.uses,
      expires_in: input.expiresIn,
    });
    return { id, claim, onboarding, expires_at };
  }
  async listClaims() {
    return (await this.admin.call<{ claims: ClaimView[] }>('GET', '/admin/claims')).claims;
  }
  async revokeClaim(id: string) {
    const { used, uses, already_revoked } = await this.admin.call<{ id: string; used: number; uses: number; already_revoked: boolean }>(
      'DELETE',
      `/admin/claims/${seg(id)}`,
    );
    return { id, used, uses, already_revoked };
  }
  async createLoginLink(user: string | null) {
    const link = await this.admin.call<{ url: string; user: string; expires_at: string }>('POST', '/admin/console/login-links', user === null ? {} : { user });
    // The URL is <base>/console/#login=<secret>: split so `--url` can name the base the browser reaches.
    const at = link.url.lastIndexOf('/console/#login=');
    if (at < 0) throw new LatchkeyError('internal', 'the server answered a login link of an unknown form');
    return { secret: link.url.slice(at + '/console/#login='.length), user: link.user, expires_at: link.expires_at, base: link.url.slice(0, at) };
  }
}

/** The server's per-row refusal as the ImportError a local import throws, with the file's line numbers back. */
function rowProblems(err: unknown, rows: readonly ImportRow[]): unknown {
  const answer = err instanceof AdminRefusal ? (err.answer as { rows?: { row: number; client_id: string | null; error: string }[] }) : undefined;
  if (!Array.isArray(answer?.rows)) return err;
  const lineOf = new Map(rows.map((r) => [r.row, r.line]));
  return new ImportError(
    answer.rows.map((p) => ({ row: p.row, line: lineOf.get(p.row) ?? null, client_id: p.client_id, error: p.error })),
    rows.length,
  );
}
