import type { Scope } from '../policy/index.js';
import type { Store } from '../store/store.js';
import { credentialFloor, type CredentialFloor } from '../tokens/credential_floor.js';
import type { Principal } from './session.js';
import { sharedScopes } from './shared_scopes.js';

/** What the broker needs to know of a principal right now. */
export interface PrincipalState {
  enabled: boolean;
  scopes: readonly Scope[];
  /** Which of the client's access tokens its credential changes voided (auth method, retired secrets). */
  tokenFloor?: CredentialFloor;
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
      if (state && record) {
        // Read once per change of the client: a grace still running is kept as its end, so the
        // cached state voids the tokens on time without another read (credential_floor.ts).
        const grace = this.store.clients.graceEnds(name, Date.now());
        if (record.credentialsNotBefore != null || grace.ended !== null || grace.ends !== null) {
          state = Object.freeze({ ...state, tokenFloor: credentialFloor(record.credentialsNotBefore, grace.ended, grace.ends) });
        }
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
