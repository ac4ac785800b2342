import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import type { Store } from '../store/store.js';
import { credentialFloor, type CredentialFloor, tokenVoidReason } from '../tokens/credential_floor.js';
import type { Actor } from './clients.js';

const JTI_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Revokes an access token by its jti. `exp` (seconds) bounds how long the
 * deny-list entry must live; when unknown (the CLI has only the jti), the
 * longest lifetime any client may get is used, so the entry outlives the token.
 *
 * @returns false when the jti was already revoked
 */
export function revokeToken(
  store: Store,
  audit: AuditLog,
  input: { jti: string; exp?: number; clientId?: string | null; remote?: string | null },
  actor: Actor,
): boolean {
  if (!JTI_PATTERN.test(input.jti)) throw new LatchkeyError('invalid_argument', `invalid jti "${input.jti}"`);
  const now = Date.now();
  const exp = input.exp ?? Math.ceil(now / 1000) + store.longestTokenTtl();
  const added = store.durably(() => {
    const inserted = store.revocations.insert(input.jti, exp, input.clientId ?? null, now);
    if (inserted) store.changes.append('token_revoked', input.jti);
    return inserted;
  });
  audit.record({
    event: 'token.revoked',
    principal: input.clientId ?? null,
    outcome: 'success',
    remote: input.remote ?? null,
    reason: added ? null : 'already revoked',
    detail: { actor, jti: input.jti },
  });
  return added;
}

/** A live access token as `token list` shows it: its metadata, never the token. */
export interface LiveTokenView {
  jti: string;
  client_id: string;
  scope: string;
  issued_at: string;
  expires_at: string;
  /** `http`/`https` (token endpoint) or `mqtt` (renewal over `$auth`). */
  issued_via: string;
  /** Bound to a client certificate (RFC 8705). */
  certificate_bound: boolean;
}

/** The most `token list` shows at once. */
export const TOKEN_LIST_LIMIT = 1000;

/**
 * Unexpired, unrevoked access tokens that no credential change of their
 * client voided, newest first; only `clientId`'s when
 * given. `beforeRead` lets the server write its pending records first.
 *
 * @example listLiveTokens(store, { clientId: 't1' }) // [{ jti: '9f1c…', client_id: 't1', … }]
 */
export function listLiveTokens(store: Store, opts: { clientId?: string; limit?: number } = {}): LiveTokenView[] {
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  // Tokens its client's credential changes voided (auth method, retired secret) are not live either.
  const floors = new Map<string, CredentialFloor | null>();
  const floorOf = (clientId: string): CredentialFloor | null => {
    if (!floors.has(clientId)) {
      const client = store.clients.get(clientId);
      const grace = store.clients.graceEnds(clientId, nowMs);
      floors.set(clientId, client ? credentialFloor(client.credentialsNotBefore, grace.ended, grace.ends) : null);
    }
    return floors.get(clientId)!;
  };
  const live = store.issuedTokens.live(now, opts.clientId ?? null, Math.min(opts.limit ?? TOKEN_LIST_LIMIT, TOKEN_LIST_LIMIT)).filter((r) => {
    const floor = floorOf(r.clientId);
    return floor === null || tokenVoidReason(r.iat, floor, nowMs / 1000) === null;
  });
  return live.map((r) => ({
    jti: r.jti,
    client_id: r.clientId,
    scope: r.scope,
    issued_at: new Date(r.iat * 1000).toISOString(),
    expires_at: new Date(r.exp * 1000).toISOString(),
    issued_via: r.channel,
    certificate_bound: r.bound,
  }));
}
