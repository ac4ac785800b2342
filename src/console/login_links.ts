import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { generateSecret, hashSecret } from '../keys/secrets.js';
import { hasAdmin, parseScopeString } from '../policy/index.js';
import type { Store } from '../store/store.js';

/** A login link works once, within this time of its creation. */
export const LOGIN_LINK_TTL_MS = 5 * 60_000;

/** The prefix of a login link secret, so a leaked one is recognisable. */
export const LOGIN_LINK_PREFIX = 'lk_cl_';

/** `lk_cl_` + 43 base64url characters (256 random bits). */
const LOGIN_LINK_PATTERN = /^lk_cl_[A-Za-z0-9_-]{43}$/;

/**
 * Creates a one-time console login link secret for `user` (null: the
 * operator running the CLI, who already controls the data directory).
 * Only its SHA-256 is stored; the secret is returned once.
 *
 * @throws LatchkeyError not_found (no such user), invalid_argument (disabled, or no admin scope)
 * @example const { secret } = createLoginLink(store, audit, 'alice', 'cli', Date.now());
 */
export function createLoginLink(store: Store, audit: AuditLog, user: string | null, actor: string, now: number): { secret: string; expiresAt: number } {
  if (user !== null) {
    const record = store.users.get(user);
    if (!record) throw new LatchkeyError('not_found', `no user "${user}"`);
    if (record.status !== 'enabled') throw new LatchkeyError('invalid_argument', `user "${user}" is disabled`);
    if (!hasAdmin(parseScopeString(record.scope), 'read')) {
      throw new LatchkeyError('invalid_argument', `user "${user}" holds neither admin:read nor admin:write`);
    }
  }
  const secret = LOGIN_LINK_PREFIX + generateSecret();
  const expiresAt = now + LOGIN_LINK_TTL_MS;
  store.consoleLogins.add(hashSecret(secret), user, now, expiresAt);
  audit.record({ event: 'console.login_link_created', principal: user ?? 'operator', outcome: 'success', reason: actor, detail: { expires_at: new Date(expiresAt).toISOString() } });
  return { secret, expiresAt };
}

/**
 * Redeems a login link secret: once, before it expires.
 *
 * @returns who it logs in (user name, or null for the operator), or undefined when it is not valid
 * @example const who = redeemLoginLink(store, secret, Date.now());
 */
export function redeemLoginLink(store: Store, secret: string, now: number): { user: string | null } | undefined {
  if (!LOGIN_LINK_PATTERN.test(secret)) return undefined;
  return store.consoleLogins.redeem(hashSecret(secret), now) ?? undefined;
}
