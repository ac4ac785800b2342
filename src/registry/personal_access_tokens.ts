import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { checkPrefixedToken, generatePrefixedToken, randomBase62, TOKEN_PREFIX } from '../keys/prefixed_token.js';
import { hashSecret, secretMatches } from '../keys/secrets.js';
import { formatScopes, missingScopes, parseScopeString } from '../policy/index.js';
import type { PatRecord } from '../store/personal_access_tokens.js';
import type { Store } from '../store/store.js';
import type { UserRecord } from '../store/users.js';
import type { Actor } from './clients.js';
import { CredentialRefusal } from './credential_refusal.js';
import { LastUseRecorder } from './last_use.js';
import { requireScopes } from './users.js';

/** docs/INTERFACE.md#people-and-integrations: 30 days unless asked otherwise; "never" only when asked for. */
export const DEFAULT_PAT_LIFETIME_SECONDS = 30 * 86_400;

/** A label: 1-64 printable characters, so a list stays one line per token. */
const LABEL_PATTERN = /^[\x20-\x7e]{1,64}$/;

export type PatStatus = 'active' | 'expired' | 'revoked';

/** What an operator sees of a token: prefix and last four characters, never the token. */
export interface PatView {
  id: string;
  user: string;
  name: string;
  scope: string;
  prefix: string;
  last4: string;
  status: PatStatus;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  last_used_addr: string | null;
}

export interface NewPat {
  user: string;
  /** The label. */
  name: string;
  scope: string;
  /** Seconds; `'never'` for no expiry; absent for the 30-day default. */
  expiresIn?: number | 'never';
}

/** A token that checked out, and whose it is. */
export interface VerifiedPat {
  pat: PatRecord;
  user: UserRecord;
}

/**
 * Personal access tokens, in the manner of GitHub's fine-grained tokens:
 * several per user, each named, scoped within the user's scopes, expiring,
 * revocable one by one. Stored as SHA-256 hashes; the token is shown once.
 */
export class PatRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly lastUse = new LastUseRecorder(),
  ) {}

  /**
   * Issues a token. Its scopes must be within the user's (missingScopes).
   *
   * @example pats.create({ user: 'alice', name: 'laptop', scope: 'admin:read' }, 'cli') // { id, token, expires_at }
   * @throws LatchkeyError not_found, invalid_argument, invalid_scope, invalid_duration, conflict, already_exists
   */
  create(input: NewPat, actor: Actor): { id: string; token: string; expires_at: string | null } {
    const user = this.#user(input.user);
    const name = input.name.trim();
    if (!LABEL_PATTERN.test(name)) throw new LatchkeyError('invalid_argument', 'the token name must be 1-64 printable characters');
    const { scopes, scope } = requireScopes(input.scope);
    const missing = missingScopes(parseScopeString(user.scope), scopes, user.name);
    if (missing.length > 0) {
      throw new LatchkeyError('invalid_scope', `user "${user.name}" may not hold ${formatScopes(missing)} (the user may hold: ${user.scope})`);
    }
    const lifetime = input.expiresIn ?? DEFAULT_PAT_LIFETIME_SECONDS;
    if (lifetime !== 'never' && (!Number.isSafeInteger(lifetime) || lifetime <= 0)) {
      throw new LatchkeyError('invalid_duration', 'the token lifetime must be longer than 0s, or "never"');
    }
    const now = Date.now();
    // Whole seconds, so HTTP checks and the broker's expiry wheel agree on the instant.
    const expiresAt = lifetime === 'never' ? null : Math.ceil((now + lifetime * 1000) / 1000) * 1000;
    const id = `pat_${randomBase62(12)}`;
    const token = generatePrefixedToken('pat');
    this.store.durably(() => {
      const fresh = this.#user(user.name);
      if (fresh.status !== 'enabled') throw new LatchkeyError('conflict', `user "${user.name}" is disabled`);
      if (this.store.personalAccessTokens.list(user.name).some((p) => p.name === name && statusOf(p, now) === 'active')) {
        throw new LatchkeyError('already_exists', `user "${user.name}" already has an active token named "${name}"`);
      }
      this.store.personalAccessTokens.insert({
        id,
        user: user.name,
        name,
        hash: hashSecret(token),
        last4: token.slice(-4),
        scope,
        createdAt: now,
        expiresAt,
      });
      this.store.changes.append('principal', user.name);
    });
    const expires_at = expiresAt === null ? null : new Date(expiresAt).toISOString();
    this.audit.record({ event: 'pat.created', principal: user.name, outcome: 'success', detail: { actor, id, name, scope, expires_at } });
    return { id, token, expires_at };
  }

  /** Every token, or one user's; never a token or its hash. */
  list(user?: string): PatView[] {
    if (user !== undefined) this.#user(user);
    const now = Date.now();
    return this.store.personalAccessTokens.list(user).map((p) => view(p, now));
  }

  /** @throws LatchkeyError not_found */
  show(id: string): PatView {
    return view(this.#require(id), Date.now());
  }

  /**
   * Revokes one token; the user's other tokens are untouched. Idempotent.
   * Live MQTT sessions on it end within a second (the `principal` change).
   */
  revoke(id: string, actor: Actor): { view: PatView; alreadyRevoked: boolean } {
    const pat = this.#require(id);
    const revoked = this.store.durably(() => {
      const changed = this.store.personalAccessTokens.revoke(id, Date.now());
      if (changed) this.store.changes.append('principal', pat.user);
      return changed;
    });
    this.audit.record({
      event: 'pat.revoked',
      principal: pat.user,
      outcome: 'success',
      reason: revoked ? null : 'already revoked',
      detail: { actor, id, name: pat.name },
    });
    return { view: this.show(id), alreadyRevoked: !revoked };
  }

  /**
   * Checks a presented token: format and checksum first (a typo is refused
   * with no lookup), then the hash, revocation, expiry and the user's state.
   * Records the last use (time, address), at most once a minute per token.
   *
   * @throws CredentialRefusal
   */
  verify(token: string, remote: string | null): VerifiedPat {
    const format = checkPrefixedToken(token);
    if (!format.ok || format.kind !== 'pat') {
      throw new CredentialRefusal('malformed', `malformed personal access token: ${format.ok ? 'prefix' : format.problem}`);
    }
    // The lookup is by SHA-256 of the token, which an attacker cannot steer;
    // the constant-time compare below is the check that decides.
    const pat = this.store.personalAccessTokens.byHash(hashSecret(token));
    if (!pat || !secretMatches(token, [pat.hash])) throw new CredentialRefusal('unknown', 'unknown personal access token');
    const now = Date.now();
    if (pat.revokedAt !== null) throw new CredentialRefusal('revoked', `personal access token revoked: ${pat.id}`, pat.user);
    if (pat.expiresAt !== null && pat.expiresAt <= now) throw new CredentialRefusal('expired', `personal access token expired: ${pat.id}`, pat.user);
    const user = this.store.users.get(pat.user);
    if (!user) throw new CredentialRefusal('unknown', 'unknown personal access token');
    if (user.status !== 'enabled') throw new CredentialRefusal('disabled', `user disabled: ${user.name}`, user.name);
    if (this.lastUse.due(pat.id, now)) this.store.personalAccessTokens.touch(pat.id, now, remote);
    return { pat, user };
  }

  /**
   * For the broker after a change: the token's expiry (seconds; Infinity
   * for none), or null once it is revoked or gone.
   */
  currentExpiry(id: string): number | null {
    const pat = this.store.personalAccessTokens.byId(id);
    if (!pat || pat.revokedAt !== null) return null;
    return pat.expiresAt === null ? Infinity : pat.expiresAt / 1000;
  }

  #user(name: string): UserRecord {
    const user = this.store.users.get(name);
    if (!user) throw new LatchkeyError('not_found', `no user "${name}"`);
    return user;
  }

  #require(id: string): PatRecord {
    const pat = this.store.personalAccessTokens.byId(id);
    if (!pat) throw new LatchkeyError('not_found', `no personal access token "${id}"`);
    return pat;
  }
}

function statusOf(p: PatRecord, now: number): PatStatus {
  if (p.revokedAt !== null) return 'revoked';
  if (p.expiresAt !== null && p.expiresAt <= now) return 'expired';
  return 'active';
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function view(p: PatRecord, now: number): PatView {
  return {
    id: p.id,
    user: p.user,
    name: p.name,
    scope: p.scope,
    prefix: TOKEN_PREFIX.pat,
    last4: p.last4,
    status: statusOf(p, now),
    created_at: new Date(p.createdAt).toISOString(),
    expires_at: iso(p.expiresAt),
    revoked_at: iso(p.revokedAt),
    last_used_at: iso(p.lastUsedAt),
    last_used_addr: p.lastUsedAddr,
  };
}
