import { parseScopeString, type Scope } from '../policy/index.js';

/** Distinct scope strings remembered; a fleet shares a handful. */
const CAPACITY = 1_000;

const memo = new Map<string, readonly Scope[]>();

/**
 * The parsed scopes of a scope string, shared by every caller that parses
 * the same text. Scope strings of one fleet are identical (`{client_id}`
 * stays unexpanded in tokens and client records), so 10,000 sessions hold
 * one frozen array instead of 10,000 copies. Bounded: when full it starts
 * over, so odd strings cannot grow it. A string that does not parse throws
 * (ScopeError) every time and is never remembered.
 *
 * @example sharedScopes('mqtt:publish:home/{client_id}/t') === sharedScopes('mqtt:publish:home/{client_id}/t') // true
 */
export function sharedScopes(text: string): readonly Scope[] {
  let scopes = memo.get(text);
  if (scopes === undefined) {
    scopes = Object.freeze(parseScopeString(text).map((s) => Object.freeze(s)));
    if (memo.size >= CAPACITY) memo.clear();
    memo.set(text, scopes);
  }
  return scopes;
}
