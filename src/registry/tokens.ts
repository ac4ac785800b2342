import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import type { Store } from '../store/store.js';
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
