import { peekClaims } from './jwt_claims.js';

/** An access token and what the device needs to know about it. */
export interface AccessToken {
  /** The bearer token itself. Never log it: log {@link AccessToken.jti}. */
  readonly value: string;
  /** Epoch milliseconds after which the broker ends the session. */
  readonly expiresAt: number;
  readonly scope?: string;
  readonly jti?: string;
}

/**
 * Builds an {@link AccessToken} from a token response. The JWT's own `exp`
 * wins over `expires_in`, which only says how long the token had left when
 * the response was written.
 *
 * @example const token = accessToken(json.access_token, json.expires_in, json.scope);
 */
export function accessToken(value: string, expiresIn?: number, scope?: string, now = Date.now()): AccessToken {
  const claims = peekClaims(value);
  const expiresAt =
    claims.exp !== undefined ? claims.exp * 1000 : expiresIn !== undefined ? now + expiresIn * 1000 : Number.POSITIVE_INFINITY;
  const resolvedScope = scope ?? claims.scope;
  return {
    value,
    expiresAt,
    ...(resolvedScope !== undefined ? { scope: resolvedScope } : {}),
    ...(claims.jti !== undefined ? { jti: claims.jti } : {}),
  };
}

/**
 * True when a token should be replaced before it is presented again: it has
 * `marginMs` or less left (so it would expire before or soon after CONNECT).
 *
 * @example if (isNearExpiry(token, 5_000)) token = await fetchToken(...);
 */
export function isNearExpiry(token: AccessToken, marginMs: number, now = Date.now()): boolean {
  return token.expiresAt - now <= marginMs;
}
