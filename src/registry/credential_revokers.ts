import type { AuditLog } from '../audit/audit_log.js';
import type { Store } from '../store/store.js';
import type { CertificateRegistry } from './certificates.js';
import type { PatRegistry } from './personal_access_tokens.js';
import type { CredentialRevokers } from './sessions.js';
import type { StaticPasswordRegistry } from './static_passwords.js';
import { revokeToken } from './tokens.js';

/**
 * What `sessions kick --revoke` can revoke, by credential kind: the
 * session's access token (by jti), certificate (by serial), PAT (by id) or
 * the client's static passwords. An API key is left out on purpose: it
 * belongs to an integration with other users; `apikey roll` or `delete` it.
 * `certificates` is loaded lazily: the CLI imports the PKI only when needed.
 *
 * @example new SessionRegistry(store, audit, credentialRevokers({ store, audit, pats, passwords, certificates: async () => certs }))
 */
export function credentialRevokers(deps: {
  store: Store;
  audit: AuditLog;
  pats: Pick<PatRegistry, 'revoke'>;
  passwords: Pick<StaticPasswordRegistry, 'revoke'>;
  certificates: () => Promise<Pick<CertificateRegistry, 'revoke'>>;
}): CredentialRevokers {
  return {
    jwt: (session, actor) => ({
      already_revoked: !revokeToken(
        deps.store,
        deps.audit,
        { jti: session.credentialId, clientId: session.principal, ...(session.expiresAt !== null ? { exp: Math.ceil(session.expiresAt / 1000) } : {}) },
        actor,
      ),
    }),
    certificate: async (session, actor) => ({ already_revoked: (await deps.certificates()).revoke(session.credentialId, actor).already_revoked }),
    pat: (session, actor) => ({ already_revoked: deps.pats.revoke(session.credentialId, actor).alreadyRevoked }),
    static_password: (session, actor) => ({ already_revoked: deps.passwords.revoke(session.principal, actor).revoked === 0 }),
  };
}
