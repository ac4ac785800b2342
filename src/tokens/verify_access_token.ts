import { decodeProtectedHeader } from 'jose';
import type { KeyRing } from '../keys/key_ring.js';
import { type AccessTokenClaims, checkClaims, checkHeader } from './access_token_checks.js';
import type { RevocationList } from './revocation_list.js';
import { TokenError } from './token_error.js';
import { verifyEs256 } from './verify_es256.js';

export interface VerifierSettings {
  issuer: string;
  audience: string;
  /** Longest token accepted, bytes: refused before any parsing. */
  maxTokenBytes: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Could `text` be meant as a JWT at all (three dot-separated parts)? Says
 * nothing about whether it verifies; lets a caller tell "not a token" (a
 * client secret pasted as a password, which has no dots) from "a token that
 * fails", whose precise reason (`malformed`, `bad_signature`, …) matters.
 *
 * @example looksLikeJwt('a.b.c') // true
 * @example looksLikeJwt('Zm9vYmFy') // false
 */
export function looksLikeJwt(text: string): boolean {
  return text.split('.', 4).length === 3;
}

/**
 * Verifies an access token locally: size, shape, header, ES256 signature by
 * a published key, claims, and the revocation list. Named steps, each
 * failing with its own {@link TokenError} code.
 *
 * @example const claims = await verifyAccessToken(token, ring, revocations, settings);
 */
export async function verifyAccessToken(
  token: string,
  ring: KeyRing,
  revocations: RevocationList,
  settings: VerifierSettings,
): Promise<AccessTokenClaims> {
  if (Buffer.byteLength(token) > settings.maxTokenBytes) throw new TokenError('too_large', 'token too large');
  if (!COMPACT_JWS.test(token)) throw new TokenError('malformed', 'not a compact JWS');
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    throw new TokenError('malformed', 'header is not valid JSON');
  }
  const kid = checkHeader(header, (k) => ring.verificationKey(k) !== undefined);
  if (!verifyEs256(token, ring.verificationKey(kid)!)) throw new TokenError('bad_signature', 'signature does not verify');
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new TokenError('malformed', 'payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new TokenError('malformed', 'payload is not an object');
  const claims = checkClaims(payload, { issuer: settings.issuer, audience: settings.audience, now: Date.now() / 1000 });
  if (revocations.has(claims.jti)) throw new TokenError('revoked', 'token revoked');
  return claims;
}
