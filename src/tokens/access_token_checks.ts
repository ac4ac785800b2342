import { TokenError } from './token_error.js';

/** The claims latchkey puts in every access token (RFC 9068 §2.2). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  nbf?: number;
  jti: string;
  /** RFC 8705 §3.1: bound to this client certificate. */
  cnf?: { 'x5t#S256': string };
  /** The incarnation of the client it was issued to (tokens/incarnation.ts); absent in tokens from before it existed. */
  lk_inc?: string;
}

export interface ClaimExpectations {
  issuer: string;
  audience: string;
  /** Seconds since the epoch. */
  now: number;
  /** Allowed clock skew, seconds. */
  leeway?: number;
}

/** Header parameters that would make a verifier fetch or trust keys named by the token itself. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;

/**
 * Checks a decoded JOSE header before any signature work: ES256 only (no
 * `none`, no HS256 confusion), `typ` at+jwt (RFC 9068 §2.1), no key-carrying
 * or `crit` parameters, and a `kid` we publish.
 *
 * @example checkHeader({ alg: 'ES256', typ: 'at+jwt', kid }, (k) => ring.has(k))
 */
export function checkHeader(header: Record<string, unknown>, isKnownKid: (kid: string) => boolean): string {
  if (header.alg !== 'ES256') throw new TokenError('unsupported_alg', `alg ${String(header.alg)} is not accepted`);
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
  if (typ !== 'at+jwt' && typ !== 'application/at+jwt') throw new TokenError('wrong_typ', 'typ must be at+jwt');
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) throw new TokenError('forbidden_header', `header parameter ${name} is not accepted`);
  }
  if (typeof header.kid !== 'string' || !isKnownKid(header.kid)) throw new TokenError('unknown_kid', 'unknown kid');
  return header.kid;
}

/**
 * Validates the claims of a signature-verified token: every required claim
 * present and typed, `iss` and `aud` ours, `exp`/`nbf` against the clock.
 *
 * @example checkClaims(payload, { issuer, audience, now: Date.now() / 1000 })
 */
export function checkClaims(payload: Record<string, unknown>, expect: ClaimExpectations): AccessTokenClaims {
  const leeway = expect.leeway ?? 0;
  for (const name of ['iss', 'sub', 'client_id', 'jti'] as const) {
    if (typeof payload[name] !== 'string' || payload[name] === '') throw new TokenError('missing_claim', `claim ${name} missing`);
  }
  for (const name of ['exp', 'iat'] as const) {
    if (typeof payload[name] !== 'number' || !Number.isFinite(payload[name])) throw new TokenError('missing_claim', `claim ${name} missing`);
  }
  if (typeof payload.scope !== 'string') throw new TokenError('missing_claim', 'claim scope missing');
  if (payload.iss !== expect.issuer) throw new TokenError('wrong_issuer', 'iss is not this server');
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(expect.audience)) throw new TokenError('wrong_audience', 'aud does not name this broker');
  if ((payload.exp as number) <= expect.now - leeway) throw new TokenError('expired', 'token expired');
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') throw new TokenError('malformed', 'nbf is not a number');
    if (payload.nbf > expect.now + leeway) throw new TokenError('not_yet_valid', 'token not yet valid');
  }
  if (payload.sub !== payload.client_id) throw new TokenError('malformed', 'sub differs from client_id');
  if (payload.lk_inc !== undefined && (typeof payload.lk_inc !== 'string' || payload.lk_inc === '')) {
    throw new TokenError('malformed', 'lk_inc is not a string');
  }
  return payload as unknown as AccessTokenClaims;
}
