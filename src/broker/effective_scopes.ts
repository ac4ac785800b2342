import { type Scope, scopeCovers } from '../policy/index.js';

/**
 * What a session may do now: the scopes its credential carries, cut down to
 * those the principal still holds (an operator may have narrowed them since
 * the token was issued). A credential without scopes of its own (a device
 * certificate) gets exactly the principal's.
 *
 * @example effectiveScopes(tokenScopes, clientScopes, 't1')
 */
export function effectiveScopes(credentialScopes: readonly Scope[] | null, principalScopes: readonly Scope[], name: string): readonly Scope[] {
  // Both lists are shared (see sharedScopes) and never mutated: return them as they are
  // when nothing is cut, so a session holds no array of its own.
  if (credentialScopes === null) return principalScopes;
  // A scope the principal holds verbatim covers itself (the usual case: a token carries its
  // client's scope string); only the others need the filter comparison.
  const kept = credentialScopes.filter((wanted) => principalScopes.some((held) => held.raw === wanted.raw || scopeCovers(held, wanted, name)));
  return kept.length === credentialScopes.length ? credentialScopes : kept;
}
