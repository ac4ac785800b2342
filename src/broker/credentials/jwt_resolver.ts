import { CONNACK, ConnackError } from '../../errors/connack_error.js';
import type { KeyRing } from '../../keys/key_ring.js';
import type { AccessTokenClaims } from '../../tokens/access_token_checks.js';
import type { RevocationList } from '../../tokens/revocation_list.js';
import { TokenError } from '../../tokens/token_error.js';
import { type VerifiedClaims, VerifiedTokenCache } from '../../tokens/verified_token_cache.js';
import { looksLikeJwt, verifyAccessToken, type VerifierSettings } from '../../tokens/verify_access_token.js';
import type { Credential } from '../session.js';
import { sharedScopes } from '../shared_scopes.js';
import type { Authenticated, ConnectAttempt, PasswordResolver } from './credential_resolver.js';

/**
 * The refusal reason (audit, log) for a CONNECT password that is no token at
 * all: nearly always a device sending its client secret straight to the broker.
 */
export const NOT_AN_ACCESS_TOKEN = 'the password is not an access token: trade the client secret at POST /oauth/token first';

/**
 * Access tokens from the token endpoint (docs/INTERFACE.md#mqtt): username = client id,
 * password = the JWT, verified locally against the published keys.
 */
export class JwtResolver implements PasswordResolver {
  readonly name = 'jwt';
  readonly #verified = new VerifiedTokenCache();

  constructor(
    private readonly ring: KeyRing,
    private readonly revocations: RevocationList,
    private readonly settings: VerifierSettings,
  ) {}

  /** After a key rotation: a token is trusted only while its key is published. */
  forgetVerified(): void {
    this.#verified.clear();
  }

  /** Anything that is not a PAT or API key is taken for a JWT. */
  handles(): boolean {
    return true;
  }

  async resolve(attempt: ConnectAttempt, password: string): Promise<Authenticated> {
    // PATs and API keys were routed elsewhere by their prefix; what is left without a JWT's
    // three parts is no token (usually the client secret): say what to do rather than "malformed".
    if (!looksLikeJwt(password)) throw new ConnackError(CONNACK.badCredentials, NOT_AN_ACCESS_TOKEN);
    const claims = await this.verify(password);
    if (attempt.username !== claims.sub) throw new ConnackError(CONNACK.badCredentials, 'username differs from the token subject');
    if (attempt.clientId !== claims.sub) throw new ConnackError(CONNACK.identifierRejected, 'client id differs from the token subject');
    checkCertificateBinding(claims, attempt.certificate);
    return { principal: { kind: 'client', name: claims.sub }, credential: jwtCredential(claims, attempt.certificate) };
  }

  /**
   * Verifies a token for CONNECT or in-session reauth, mapping refusals to
   * CONNACK codes: a revoked token is "not authorized" (5), anything else
   * "bad credentials" (4).
   */
  async verify(token: string): Promise<VerifiedClaims> {
    try {
      const cached = this.#verified.get(token, Date.now() / 1000);
      if (cached) {
        // Signature and claims were checked before; what can change since is revocation.
        if (this.revocations.has(cached.jti)) throw new TokenError('revoked', 'token revoked');
        return cached;
      }
      const claims = await verifyAccessToken(token, this.ring, this.revocations, this.settings);
      this.#verified.set(token, claims);
      return claims;
    } catch (err) {
      if (err instanceof TokenError) {
        throw new ConnackError(err.code === 'revoked' ? CONNACK.notAuthorized : CONNACK.badCredentials, `token ${err.code}: ${err.message}`);
      }
      throw err;
    }
  }
}

/** RFC 8705 §3: a certificate-bound token is good only with that very certificate. */
export function checkCertificateBinding(claims: Pick<AccessTokenClaims, 'cnf'>, certificate: PresentedCertificate | null): void {
  const bound = claims.cnf?.['x5t#S256'];
  if (bound === undefined) return;
  if (certificate?.fingerprint !== bound) {
    throw new ConnackError(CONNACK.badCredentials, 'certificate-bound token presented without its certificate');
  }
}

/** The certificate a connection presented, as far as tokens care. */
export interface PresentedCertificate {
  serial: string;
  fingerprint: string;
}

/** A session credential from a verified (or just issued) token on a connection with `certificate`. */
export function jwtCredential(claims: Pick<AccessTokenClaims, 'jti' | 'exp' | 'iat' | 'scope' | 'lk_inc'>, certificate: PresentedCertificate | null): Credential {
  return {
    method: 'jwt',
    id: claims.jti,
    scopes: sharedScopes(claims.scope),
    exp: claims.exp,
    iat: claims.iat,
    certificateSerial: certificate?.serial ?? null,
    certificateThumbprint: certificate?.fingerprint ?? null,
    incarnation: claims.lk_inc ?? null,
  };
}
