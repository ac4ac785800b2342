import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { LIVE_SESSION_STALE_MS as STALE_AFTER_MS, type LiveSessionRecord } from '../store/live_sessions.js';
import type { Store } from '../store/store.js';
import type { Actor } from './clients.js';
import { validateName } from './validate.js';

/** A live MQTT session as operators see it (`sessions --json`, `GET /admin/sessions`). */
export interface LiveSessionView {
  /** The MQTT client id: what `sessions kick` takes. */
  client_id: string;
  /** The client, user or API key name. */
  principal: string;
  kind: string;
  /** The credential kind: jwt, certificate, pat, apikey or static_password. */
  method: string;
  /** jti, certificate serial, PAT id or secret id: an identifier, never a secret. */
  credential_id: string;
  remote: string | null;
  connected_at: string;
  /** null when the credential never expires. */
  credential_expires_at: string | null;
  subscriptions: string[];
  /** The server process (node) holding the session. */
  instance: string;
}

/** What `kick --revoke` did to the session's credential. */
export interface RevokedCredential {
  method: string;
  credential_id: string;
  already_revoked: boolean;
}

/** Revokes the credential a session used, one function per credential kind; a kind without one cannot be revoked from here. */
export type CredentialRevokers = Partial<Record<string, (session: LiveSessionRecord, actor: Actor) => { already_revoked: boolean } | Promise<{ already_revoked: boolean }>>>;

/**
 * Live sessions as every server process publishes them into the store, for
 * the CLI, the admin API and the console alike; and ending one (`kick`),
 * which is a change-feed entry every server acts on within a second.
 */
export class SessionRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly revokers: CredentialRevokers = {},
    /** Makes this process's own pending writes visible first (the server's publisher); none in the CLI. */
    private readonly beforeRead: () => void = () => {},
  ) {}

  /**
   * Live sessions, by client id; only `principal`'s (a client, user or API key name) when given.
   *
   * @example sessions.list('thermostat-1') // [{ client_id: 'thermostat-1', method: 'jwt', … }]
   */
  list(principal?: string): LiveSessionView[] {
    this.beforeRead();
    return this.store.liveSessions.list(Date.now() - STALE_AFTER_MS, principal ?? null).map(view);
  }

  /** How many live sessions the principal has now. */
  count(principal: string): number {
    this.beforeRead();
    return this.store.liveSessions.countByPrincipal(principal, Date.now() - STALE_AFTER_MS);
  }

  /**
   * Ends the session with this MQTT client id on whichever node holds it
   * and, with `revoke`, first revokes the credential it used (so it cannot
   * simply reconnect).
   *
   * @example await sessions.kick('plug-1', { revoke: true }, 'cli') // { client_id: 'plug-1', kicked: 1, revoked: [{ method: 'static_password', … }] }
   * @throws LatchkeyError invalid_id, not_found (no live session), conflict (a credential that cannot be revoked here)
   */
  async kick(clientId: string, opts: { revoke?: boolean }, actor: Actor): Promise<{ client_id: string; kicked: number; revoked: RevokedCredential[] }> {
    validateName(clientId.split('@')[0]!);
    if (clientId.length > 200) throw new LatchkeyError('invalid_id', 'client id too long');
    this.beforeRead();
    const sessions = this.store.liveSessions.byClientId(clientId, Date.now() - STALE_AFTER_MS);
    if (sessions.length === 0) throw new LatchkeyError('not_found', `no live session "${clientId}"`);
    const revoked: RevokedCredential[] = [];
    if (opts.revoke) {
      for (const session of sessions) {
        const revoker = this.revokers[session.method];
        if (!revoker) {
          throw new LatchkeyError('conflict', `a ${session.method} credential cannot be revoked from a session; use the ${session.method} commands`);
        }
      }
      for (const session of sessions) {
        const result = await this.revokers[session.method]!(session, actor);
        revoked.push({ method: session.method, credential_id: session.credentialId, already_revoked: result.already_revoked });
      }
    }
    this.store.durably(() => this.store.changes.append('session_kick', clientId));
    this.audit.record({
      event: 'session.kicked',
      principal: sessions[0]!.principal,
      outcome: 'success',
      detail: { actor, client_id: clientId, revoke: opts.revoke === true, credentials: revoked.map((r) => `${r.method}:${r.credential_id}`) },
    });
    return { client_id: clientId, kicked: sessions.length, revoked };
  }

  /**
   * Waits until the principal (or, with `byClientId`, the client id) has no
   * live session left or `ms` passes; returns how many are left. The CLI
   * uses it to confirm that a disable, delete or kick took effect.
   */
  async waitUntilGone(name: string, ms: number, byClientId = false): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = byClientId ? this.store.liveSessions.byClientId(name, Date.now() - STALE_AFTER_MS).length : this.count(name);
      if (left === 0 || Date.now() >= deadline) return left;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function view(r: LiveSessionRecord): LiveSessionView {
  return {
    client_id: r.clientId,
    principal: r.principal,
    kind: r.kind,
    method: r.method,
    credential_id: r.credentialId,
    remote: r.remote,
    connected_at: new Date(r.connectedAt).toISOString(),
    credential_expires_at: iso(r.expiresAt),
    subscriptions: r.subscriptions,
    instance: r.instance,
  };
}
