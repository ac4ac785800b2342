import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { LatchkeyError } from '../errors/latchkey_error.js';

/** A validated public JWK (RFC 7517) with only its public members. */
export interface PublicJwk {
  kty: 'EC' | 'RSA' | 'OKP';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid?: string;
  alg?: string;
}

/** Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) each key type may sign client assertions with. */
const ALGORITHMS: Record<string, readonly string[]> = {
  'EC:P-256': ['ES256'],
  'EC:P-384': ['ES384'],
  'EC:P-521': ['ES512'],
  RSA: ['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'],
  'OKP:Ed25519': ['EdDSA', 'Ed25519'],
};

/** Every algorithm a registered key may use, for RFC 8414 `token_endpoint_auth_signing_alg_values_supported`. */
export const CLIENT_ASSERTION_ALGORITHMS: readonly string[] = [...new Set(Object.values(ALGORITHMS).flat())];

/**
 * Reads the public key a `private_key_jwt` client registers: a JWK (or a
 * JWK Set holding exactly one key), a PEM public key, or a PEM certificate
 * whose key is taken. Private keys are refused outright, so an operator who
 * picks the wrong file learns it before the key is stored anywhere.
 * Accepts EC P-256/P-384/P-521, RSA ≥ 2048 bits and Ed25519.
 *
 * @example parsePublicJwk('{"kty":"EC","crv":"P-256","x":"…","y":"…"}') // { kty: 'EC', crv: 'P-256', x, y }
 * @throws LatchkeyError invalid_argument
 */
export function parsePublicJwk(text: string): PublicJwk {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return fromPem(trimmed);
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw invalid('the key is neither JSON (a JWK) nor PEM');
  }
  if (isObject(parsed) && Array.isArray(parsed.keys)) {
    if (parsed.keys.length !== 1) throw invalid('a JWK Set must hold exactly one key');
    parsed = parsed.keys[0];
  }
  if (!isObject(parsed)) throw invalid('a JWK is a JSON object');
  const jwk = parsed;
  for (const member of PRIVATE_MEMBERS) {
    if (member in jwk) throw invalid(`this is a private or symmetric key ("${member}"): register the public key only`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid('the key\'s "use" must be "sig"');
  const publicJwk = pick(jwk);
  checkKey(publicJwk);
  return publicJwk;
}

/**
 * The Node key for a stored public JWK (JSON), for verifying assertions.
 *
 * @example const key = publicKeyOf(client.publicJwk!); await jwtVerify(assertion, key, …)
 */
export function publicKeyOf(jwk: PublicJwk): KeyObject {
  return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
}

/**
 * The JWS algorithms a key may sign with: those of its type and curve, or
 * only its own `alg` when it names one. Never `none`, never HMAC.
 *
 * @example assertionAlgorithms({ kty: 'EC', crv: 'P-256', … }) // ['ES256']
 */
export function assertionAlgorithms(jwk: PublicJwk): string[] {
  const allowed = ALGORITHMS[jwk.kty === 'RSA' ? 'RSA' : `${jwk.kty}:${jwk.crv ?? ''}`] ?? [];
  if (jwk.alg === undefined) return [...allowed];
  return allowed.includes(jwk.alg) ? [jwk.alg] : [];
}

function fromPem(pem: string): PublicJwk {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw invalid('this is a private key: register the public key only');
  let jwk: JsonWebKey;
  try {
    // A certificate works too: its subject public key is taken.
    jwk = createPublicKey(pem).export({ format: 'jwk' });
  } catch {
    throw invalid('the PEM is not a public key or certificate');
  }
  const publicJwk = pick(jwk as Record<string, unknown>);
  checkKey(publicJwk);
  return publicJwk;
}

function pick(jwk: Record<string, unknown>): PublicJwk {
  const out: Record<string, string> = {};
  for (const member of ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg']) {
    const value = jwk[member];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > 2048) throw invalid(`"${member}" must be a string`);
    out[member] = value;
  }
  if (out.kty !== 'EC' && out.kty !== 'RSA' && out.kty !== 'OKP') throw invalid('the key type (kty) must be EC, RSA or OKP');
  return out as unknown as PublicJwk;
}

function checkKey(jwk: PublicJwk): void {
  if (assertionAlgorithms({ ...jwk, alg: undefined }).length === 0) {
    throw invalid('unsupported key: use EC P-256, P-384 or P-521, RSA or Ed25519');
  }
  if (jwk.alg !== undefined && assertionAlgorithms(jwk).length === 0) throw invalid(`"alg" ${jwk.alg} does not fit this key`);
  let key: KeyObject;
  try {
    key = publicKeyOf(jwk);
  } catch {
    throw invalid('the key does not parse');
  }
  // NIST SP 800-57: RSA keys below 2048 bits no longer give 112-bit strength.
  if (jwk.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw invalid('RSA keys must have at least 2048 bits');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): LatchkeyError {
  return new LatchkeyError('invalid_argument', `--jwk: ${message}`);
}
