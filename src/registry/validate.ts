import { parseDuration } from '../config/duration.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { CLIENT_ID_PATTERN, formatScopes, parseScopeString, type Scope, ScopeError } from '../policy/index.js';

/**
 * Checks a client, user or API key name against the id pattern of docs/INTERFACE.md#command-line,
 * which keeps it safe inside topics.
 *
 * @throws LatchkeyError `invalid_id`
 */
export function validateName(name: string, what = 'client id'): string {
  if (!CLIENT_ID_PATTERN.test(name)) {
    throw new LatchkeyError('invalid_id', `invalid ${what} "${name}": use 1-64 of A-Z a-z 0-9 . _ -`);
  }
  return name;
}

/**
 * Parses and normalises a scope string.
 *
 * @example normaliseScopes('mqtt:publish:a/b  mqtt:publish:a/b') // 'mqtt:publish:a/b'
 * @throws LatchkeyError `invalid_scope`
 */
export function normaliseScopes(scope: string): { scopes: Scope[]; scope: string } {
  try {
    const scopes = parseScopeString(scope);
    return { scopes, scope: formatScopes(scopes) };
  } catch (err) {
    if (err instanceof ScopeError) throw new LatchkeyError('invalid_scope', err.message);
    throw err;
  }
}

/** A duration flag, in seconds, that must be positive. */
export function positiveDuration(text: string, what: string): number {
  const seconds = parseDuration(text);
  if (seconds <= 0) throw new LatchkeyError('invalid_duration', `${what} must be longer than 0s`);
  return seconds;
}
