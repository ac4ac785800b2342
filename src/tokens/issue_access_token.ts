import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../keys/key_ring.js';
import { SIGNING_ALG } from '../keys/key_ring.js';
import { INCARNATION_CLAIM } from './incarnation.js';
import { signEs256 } from './sign_es256.js';

export interface AccessTokenRequest {
  clientId: string;
  scope: string;
  /** Lifetime, seconds. */
  ttl: number;
  /** RFC 8705 x5t#S256 of the client certificate the token is bound to. */
  certificateThumbprint?: string;
  /** The client's incarnation (tokens/incarnation.ts); null for a client from before migration 5. */
  incarnation?: string | null;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  exp: number;
  expiresIn: number;
}

export interface TokenIssuerSettings {
  issuer: string;
  audience: string;
}

/**
 * Signs an RFC 9068 access token with the current key.
 *
 * @example const { token } = await issueAccessToken(ring, settings, { clientId: 't1', scope: '...', ttl: 600 });
 */
export async function issueAccessToken(
  ring: KeyRing,
  settings: TokenIssuerSettings,
  request: AccessTokenRequest,
): Promise<IssuedAccessToken> {
  const { kid, signingKey } = ring.current;
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + request.ttl;
  // Hex, not base64url: a jti starting with '-' would read as an option in `latchkey token revoke <jti>`.
  const jti = randomBytes(16).toString('hex');
  // RFC 9068 §2.2 claims.
  const claims: Record<string, unknown> = {
    iss: settings.issuer,
    sub: request.clientId,
    aud: settings.audience,
    client_id: request.clientId,
    scope: request.scope,
    iat,
    exp,
    jti,
  };
  if (request.incarnation) claims[INCARNATION_CLAIM] = request.incarnation;
  if (request.certificateThumbprint) claims.cnf = { 'x5t#S256': request.certificateThumbprint };
  const token = signEs256({ alg: SIGNING_ALG, typ: 'at+jwt', kid }, claims, signingKey);
  return { token, jti, exp, expiresIn: request.ttl };
}
