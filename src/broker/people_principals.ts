import { sharedScopes } from './shared_scopes.js';
import type { Store } from '../store/store.js';
import type { PrincipalSource, PrincipalState } from './principals.js';

const CACHE_LIMIT = 100_000;

/** A principal source that caches each name's state until the change feed says it changed. */
abstract class CachedSource implements PrincipalSource {
  abstract readonly kind: PrincipalSource['kind'];
  readonly #cache = new Map<string, PrincipalState | null>();

  protected abstract read(name: string): PrincipalState | null;

  lookup(name: string): PrincipalState | null {
    let state = this.#cache.get(name);
    if (state === undefined) {
      state = this.read(name);
      // Bounded: unknown names from attackers must not grow the cache forever.
      if (this.#cache.size > CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(name, state);
    }
    return state;
  }

  forget(name: string): void {
    this.#cache.delete(name);
  }
}

/**
 * Users as principals: enabled, and the scopes they may hold (a PAT
 * session gets its token's scopes cut to these). Disabling a user ends
 * every session on any of their tokens.
 *
 * @example broker.addCredentialKind(new PatResolver(pats), new UserPrincipals(store))
 */
export class UserPrincipals extends CachedSource {
  readonly kind = 'user' as const;

  constructor(private readonly store: Store) {
    super();
  }

  protected read(name: string): PrincipalState | null {
    const user = this.store.users.get(name);
    return user ? { enabled: user.status === 'enabled', scopes: sharedScopes(user.scope) } : null;
  }
}

/**
 * API keys as principals: enabled, and the key's scopes. A deleted key has
 * no state, so its sessions end.
 *
 * @example broker.addCredentialKind(new ApiKeyResolver(apiKeys), new ApiKeyPrincipals(store))
 */
export class ApiKeyPrincipals extends CachedSource {
  readonly kind = 'apikey' as const;

  constructor(private readonly store: Store) {
    super();
  }

  protected read(name: string): PrincipalState | null {
    const key = this.store.apiKeys.get(name);
    return key ? { enabled: key.status === 'enabled', scopes: sharedScopes(key.scope) } : null;
  }
}
