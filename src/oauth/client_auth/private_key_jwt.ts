import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { OAuthError } from '../../errors/oauth_error.js';
import { assertionAlgorithms, CLIENT_ASSERTION_ALGORITHMS, type PublicJwk, publicKeyOf } from '../../keys/public_jwk.js';
import type { ClientRecord } from '../../store/clients.js';
import { endpointUrls } from '../context.js';
import { invalidClient } from './authenticate_client.js';
import type { ClientAuthEnv, ClientAuthMethodHandler } from './method.js';

/** RFC 7523 §2.2: the only client assertion type latchkey understands. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Assertions are one-shot proofs: at most five minutes of life, so the jti store stays small. */
export const MAX_ASSERTION_LIFETIME_S = 300;
/** Leeway for clock skew on exp, nbf and iat (RFC 7519 §4.1.4 allows "some small leeway"). */
const CLOCK_SKEW_S = 5;
const MAX_JTI_LENGTH = 256;

/** Verified against when the client is unknown or registered for another method, so that costs the same. */
const DUMMY_KEY: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

/**
 * `private_key_jwt` (RFC 7523 §2.2, RFC 7521 §4.2, OIDC Core §9): the client
 * signs a short-lived JWT with its private key; latchkey verifies it with
 * the public key registered for the client (`client create --jwk`).
 * Checks, in order: signature with an algorithm that fits the key,
 * iss = sub = client id, aud = the issuer or token endpoint (or the endpoint
 * called), exp present, not past and at most five minutes ahead, nbf, and a
 * jti this client never used before (kept until its exp, across restarts).
 */
export const privateKeyJwt: ClientAuthMethodHandler = {
  name: 'private_key_jwt',
  signingAlgs: CLIENT_ASSERTION_ALGORITHMS,
  present: (input) => input.params.client_assertion !== undefined || input.params.client_assertion_type !== undefined,
  claim(input) {
    const assertion = input.params.client_assertion;
    const type = input.params.client_assertion_type;
    if (assertion === undefined || assertion === '') throw new OAuthError(400, 'invalid_request', 'client_assertion is required with client_assertion_type');
    if (type === undefined) throw new OAuthError(400, 'invalid_request', 'client_assertion_type is required with client_assertion');
    // RFC 7521 §4.2.1: an assertion that cannot be used is invalid_client.
    if (type !== JWT_BEARER) throw invalidClient(`unsupported client_assertion_type ${type.slice(0, 80)}`, false);
    let sub: unknown;
    try {
      sub = decodeJwt(assertion).sub;
    } catch {
      throw invalidClient('client_assertion is not a JWT', false);
    }
    if (typeof sub !== 'string' || sub === '') throw invalidClient('client_assertion has no sub', false);
    // RFC 7521 §4.2: a client_id next to the assertion must name the same client.
    if (input.params.client_id !== undefined && input.params.client_id !== sub) {
      throw new OAuthError(400, 'invalid_request', 'client_id does not match the client assertion');
    }
    return { clientId: sub, verify: (client, env) => verifyAssertion(assertion, client, env) };
  },
};

/** @returns null when the assertion proves `client`, else the private reason. */
async function verifyAssertion(assertion: string, client: ClientRecord | null, env: ClientAuthEnv): Promise<string | null> {
  let jwk: PublicJwk | null = null;
  if (client?.publicJwk) {
    try {
      jwk = JSON.parse(client.publicJwk) as PublicJwk;
    } catch {
      jwk = null;
    }
  }
  const key = jwk ? publicKeyOf(jwk) : DUMMY_KEY;
  const algorithms = jwk ? assertionAlgorithms(jwk) : ['ES256'];
  const nowS = Math.floor(env.nowMs / 1000);
  const urls = endpointUrls(env.config.issuer);
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(assertion, key, {
      algorithms,
      // RFC 7523 §3: iss and sub are both the client id.
      ...(client ? { issuer: client.id, subject: client.id } : {}),
      audience: [...new Set([urls.issuer, urls.token, env.endpointUrl])],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      currentDate: new Date(env.nowMs),
      clockTolerance: CLOCK_SKEW_S,
    }));
  } catch (err) {
    if (!client) return 'no such client for this method';
    if (!jwk) return 'client has no registered public key';
    return err instanceof joseErrors.JOSEError ? `assertion refused: ${err.code} ${err.message}` : 'assertion refused';
  }
  if (!client) return 'no such client for this method';
  const exp = claims.exp!;
  if (exp - nowS > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) return `assertion exp is more than ${MAX_ASSERTION_LIFETIME_S}s ahead`;
  if (claims.iat !== undefined && claims.iat > nowS + CLOCK_SKEW_S) return 'assertion iat is in the future';
  const jti = claims.jti!;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return 'assertion jti is missing or too long';
  // RFC 7523 §3 item 7: a jti is accepted once; remembered durably until exp, so a restart reopens nothing.
  const fresh = env.store.durably(() => env.store.assertionJtis.use(client.id, jti, exp, nowS));
  return fresh ? null : 'assertion replayed (jti already used)';
}
