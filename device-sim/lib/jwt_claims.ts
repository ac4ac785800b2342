/** The claims a device cares about; it never verifies them (the broker does). */
export interface PeekedClaims {
  jti?: string;
  exp?: number;
  scope?: string;
}

/**
 * Reads a JWT's payload without verifying it, to learn `exp` (when to renew)
 * and `jti` (the only part of a token that may be logged). Returns `{}` for
 * anything that is not a well-formed JWS compact serialisation: the token is
 * opaque to the device and the broker is the judge.
 *
 * @example peekClaims(accessToken).jti // 'f3b1…', safe to log
 */
export function peekClaims(token: string): PeekedClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return {};
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null) return {};
    const claims = payload as Record<string, unknown>;
    const out: PeekedClaims = {};
    if (typeof claims.jti === 'string') out.jti = claims.jti;
    if (typeof claims.exp === 'number') out.exp = claims.exp;
    if (typeof claims.scope === 'string') out.scope = claims.scope;
    return out;
  } catch {
    return {};
  }
}
