import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import type { Store } from '../store/store.js';
import type { UserRecord, UserStatus } from '../store/users.js';
import type { Actor } from './clients.js';
import { normaliseScopes, validateName } from './validate.js';

/**
 * What a user may hold when `user create` is given no `--scope`: everything
 * an operator could grant (admin and every non-`$` topic). A user holds
 * nothing by this alone: each personal access token names its own scopes
 * (`pat create --scope` is required), and this is only their ceiling.
 * Give `--scope` to narrow it, e.g. `admin:read` for an auditor.
 */
export const DEFAULT_USER_SCOPE = 'admin:write mqtt:publish:# mqtt:subscribe:#';

/** What an operator sees of a user. */
export interface UserView {
  name: string;
  scope: string;
  status: UserStatus;
  created_at: string;
  updated_at: string;
}

/**
 * Users: people who hold personal access tokens (docs/INTERFACE.md#people-and-integrations). Every change
 * is validated, written durably with a `principal` change (so a running
 * server re-judges live sessions) and audited.
 */
export class UserRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  /**
   * @example users.create({ name: 'alice', scope: 'admin:read' }, 'cli')
   * @throws LatchkeyError invalid_id, invalid_scope, already_exists
   */
  create(input: { name: string; scope?: string }, actor: Actor): UserView {
    const name = validateName(input.name, 'user name');
    const { scope } = requireScopes(input.scope ?? DEFAULT_USER_SCOPE);
    const now = Date.now();
    this.store.durably(() => {
      if (this.store.nameTaken(name)) throw new LatchkeyError('already_exists', `"${name}" already exists (names are shared by clients, users and API keys)`);
      this.store.users.insert({ name, scope, status: 'enabled', createdAt: now, updatedAt: now });
      this.store.changes.append('principal', name);
    });
    this.audit.record({ event: 'user.created', principal: name, outcome: 'success', detail: { actor, scope } });
    return this.show(name);
  }

  list(): UserView[] {
    return this.store.users.list().map(view);
  }

  /** @throws LatchkeyError not_found */
  show(name: string): UserView {
    return view(this.require(name));
  }

  /** Disabling stops every token of the user at once, over HTTP and MQTT. */
  setStatus(name: string, status: UserStatus, actor: Actor): UserView {
    this.require(name);
    this.store.durably(() => {
      this.store.users.setStatus(name, status, Date.now());
      this.store.changes.append('principal', name);
    });
    this.audit.record({ event: status === 'enabled' ? 'user.enabled' : 'user.disabled', principal: name, outcome: 'success', detail: { actor } });
    return this.show(name);
  }

  /**
   * Deletes the user and every personal access token of theirs: the tokens
   * stop at once over HTTP, live MQTT sessions on them end within a second
   * (the `principal` change), and the name is free again. A later user of
   * the same name inherits nothing: the tokens are gone, not disabled.
   *
   * @example users.delete('alice', 'cli') // { name: 'alice', deleted: true }
   * @throws LatchkeyError not_found
   */
  delete(name: string, actor: Actor): { name: string; deleted: true } {
    this.require(name);
    const tokens = this.store.durably(() => {
      const count = this.store.personalAccessTokens.list(name).length;
      this.store.users.delete(name);
      // Their persistent MQTT sessions (alice, alice@laptop) are not for a later user of this name.
      this.store.forgetPersistedSessions(name);
      this.store.changes.append('principal', name);
      this.store.changes.append('principal_deleted', name);
      return count;
    });
    this.audit.record({ event: 'user.deleted', principal: name, outcome: 'success', detail: { actor, tokens_deleted: tokens } });
    return { name, deleted: true };
  }

  /** Narrowing applies at once: tokens keep only what the user still holds. */
  setScope(name: string, scopeText: string, actor: Actor): UserView {
    this.require(name);
    const { scope } = requireScopes(scopeText);
    this.store.durably(() => {
      this.store.users.setScope(name, scope, Date.now());
      this.store.changes.append('principal', name);
    });
    this.audit.record({ event: 'user.scope_changed', principal: name, outcome: 'success', detail: { actor, scope } });
    return this.show(name);
  }

  /** @throws LatchkeyError not_found */
  require(name: string): UserRecord {
    const user = this.store.users.get(name);
    if (!user) throw new LatchkeyError('not_found', `no user "${name}"`);
    return user;
  }
}

/** Scopes that must name at least one: an empty set is a quoting slip, not a wish. */
export function requireScopes(text: string): ReturnType<typeof normaliseScopes> {
  const parsed = normaliseScopes(text);
  if (parsed.scopes.length === 0) throw new LatchkeyError('invalid_scope', 'the scope must name at least one scope, e.g. "admin:read"');
  return parsed;
}

function view(u: UserRecord): UserView {
  return {
    name: u.name,
    scope: u.scope,
    status: u.status,
    created_at: new Date(u.createdAt).toISOString(),
    updated_at: new Date(u.updatedAt).toISOString(),
  };
}
