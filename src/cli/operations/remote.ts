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
import type { AdminClient } from './admin_client.js';
import type { AuditEntry, AuditFilter, ClientInput, IssuedCertificate, Operations } from './operations.js';

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
  async deleteClient(id: string) {
    const { live_sessions } = await this.admin.call<{ live_sessions: number }>('DELETE', `/admin/clients/${seg(id)}`);
    // The server revokes the certificates too; its answer does not list them.
    return { live_sessions, revoked_certificates: [] };
  }
  async listSessions(principal?: string) {
    const query = principal === undefined ? '' : `?client_id=${seg(principal)}`;
    return (await this.admin.call<{ sessions: LiveSessionView[] }>('GET', `/admin/sessions${query}`)).sessions;
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
}
