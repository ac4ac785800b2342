import type { Scope } from '../policy/index.js';
import type { Store } from '../store/store.js';
import { credentialFloor, type CredentialFloor } from '../tokens/credential_floor.js';
import { belongsToIncarnation } from '../tokens/incarnation.js';
import type { Credential, Principal } from './session.js';
import { sharedScopes } from './shared_scopes.js';

/** Why a token of a deleted client is refused, at CONNECT and at reauth (CONNACK 5: a revoked credential). */
export const FORMER_INCARNATION = 'token revoked: issued to a deleted client of the same id';

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
  /**
   * Whether `credential` was issued to the principal as it exists now, not
   * to a deleted one of the same name. Sources whose credentials die with
   * the principal (PATs, API keys: deleted with it) need not implement it.
   */
  accepts?(name: string, credential: Credential): boolean;
}

/**
 * Device clients, cached in memory so a CONNECT reads no database; the
 * change feed calls {@link forget} when a client changes.
 */
export class ClientPrincipals implements PrincipalSource {
  readonly kind = 'client' as const;
  readonly #cache = new Map<string, CachedClient | null>();

  constructor(private readonly store: Store) {}

  lookup(name: string): PrincipalState | null {
    return this.#entry(name)?.state ?? null;
  }

  /** A JWT must carry the incarnation of the client row that exists now (tokens/incarnation.ts). */
  accepts(name: string, credential: Credential): boolean {
    if (credential.method !== 'jwt') return true;
    const entry = this.#entry(name);
    return entry !== null && belongsToIncarnation({ incarnation: credential.incarnation ?? null, iat: credential.iat }, entry);
  }

  #entry(name: string): CachedClient | null {
    let entry = this.#cache.get(name);
    if (entry === undefined) {
      const record = this.store.clients.get(name);
      let state = record ? principalState(record.status === 'enabled', sharedScopes(record.scope)) : null;
      if (state && record) {
        // Read once per change of the client: a grace still running is kept as its end, so the
        // cached state voids the tokens on time without another read (credential_floor.ts).
        const grace = this.store.clients.graceEnds(name, Date.now());
        if (record.credentialsNotBefore != null || grace.ended !== null || grace.ends !== null) {
          state = Object.freeze({ ...state, tokenFloor: credentialFloor(record.credentialsNotBefore, grace.ended, grace.ends) });
        }
      }
      entry = record && state ? { state, incarnation: record.incarnation, createdAt: record.createdAt } : null;
      // Bounded: unknown names from attackers must not grow the cache forever.
      if (this.#cache.size > 100_000) this.#cache.clear();
      this.#cache.set(name, entry);
    }
    return entry;
  }

  forget(name: string): void {
    this.#cache.delete(name);
  }
}

interface CachedClient {
  state: PrincipalState;
  incarnation: string | null;
  createdAt: number;
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

  /** See {@link PrincipalSource.accepts}; true for kinds that do not track incarnations. */
  accepts(principal: Principal, credential: Credential): boolean {
    const source = this.#sources.get(principal.kind);
    return source?.accepts === undefined || source.accepts(principal.name, credential);
  }

  forget(name: string): void {
    for (const source of this.#sources.values()) source.forget(name);
  }
}
