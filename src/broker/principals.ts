import type { Scope } from '../policy/index.js';
import type { Store } from '../store/store.js';
import type { Principal } from './session.js';
import { sharedScopes } from './shared_scopes.js';

/** What the broker needs to know of a principal right now. */
export interface PrincipalState {
  enabled: boolean;
  scopes: readonly Scope[];
  /** Access tokens with an `iat` (seconds) before this are void: the client changed its auth method. */
  tokensNotBefore?: number;
}

/** Where principals of one kind live; the broker holds their state in memory. */
export interface PrincipalSource {
  readonly kind: Principal['kind'];
  /** Current state, or null when the principal does not exist (deleted). */
  lookup(name: string): PrincipalState | null;
  /** Drops what is cached for `name` after a change. */
  forget(name: string): void;
}

/**
 * Device clients, cached in memory so a CONNECT reads no database; the
 * change feed calls {@link forget} when a client changes.
 */
export class ClientPrincipals implements PrincipalSource {
  readonly kind = 'client' as const;
  readonly #cache = new Map<string, PrincipalState | null>();

  constructor(private readonly store: Store) {}

  lookup(name: string): PrincipalState | null {
    let state = this.#cache.get(name);
    if (state === undefined) {
      const record = this.store.clients.get(name);
      state = record ? principalState(record.status === 'enabled', sharedScopes(record.scope)) : null;
      if (state && record?.credentialsNotBefore != null) {
        // Whole seconds, as `iat` is: a token issued in the second of the change survives (at most 1 s early).
        state = Object.freeze({ ...state, tokensNotBefore: Math.floor(record.credentialsNotBefore / 1000) });
      }
      // Bounded: unknown names from attackers must not grow the cache forever.
      if (this.#cache.size > 100_000) this.#cache.clear();
      this.#cache.set(name, state);
    }
    return state;
  }

  forget(name: string): void {
    this.#cache.delete(name);
  }
}

/** The two possible states per shared scope list, so a fleet's clients share them too. */
const STATES = new WeakMap<readonly Scope[], { enabled: PrincipalState; disabled: PrincipalState }>();

function principalState(enabled: boolean, scopes: readonly Scope[]): PrincipalState {
  let pair = STATES.get(scopes);
  if (!pair) {
    pair = { enabled: Object.freeze({ enabled: true, scopes }), disabled: Object.freeze({ enabled: false, scopes }) };
    STATES.set(scopes, pair);
  }
  return enabled ? pair.enabled : pair.disabled;
}

/** Every principal source by kind. Users and API keys register theirs here. */
export class Principals {
  readonly #sources = new Map<Principal['kind'], PrincipalSource>();

  add(source: PrincipalSource): void {
    this.#sources.set(source.kind, source);
  }

  lookup(principal: Principal): PrincipalState | null {
    return this.#sources.get(principal.kind)?.lookup(principal.name) ?? null;
  }

  forget(name: string): void {
    for (const source of this.#sources.values()) source.forget(name);
  }
}
