import { hash } from 'node:crypto';
import type { AccessTokenClaims } from './access_token_checks.js';

/** Distinct scope strings shared between cached tokens (bounded). */
const SCOPE_TEXTS = 1_000;

/** What a session is built from: subject, id, scopes, lifetime and certificate binding. */
export type VerifiedClaims = Pick<AccessTokenClaims, 'sub' | 'jti' | 'scope' | 'iat' | 'exp' | 'cnf' | 'lk_inc'>;

/**
 * Tokens whose signature and claims have already been verified, keyed by a
 * SHA-256 of the token (the token itself is not kept as a key). A device
 * that reconnects with the same token skips the ECDSA verification; expiry
 * and revocation are still checked by the caller on every use, so a hit can
 * never outlive either.
 *
 * Only the claims a session is built from are kept ({@link VerifiedClaims}),
 * not the whole payload: at 10,000 cached tokens the issuer, audience and
 * client id copies were a measurable part of an idle session's memory.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, VerifiedClaims>();
  readonly #texts = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  /** Claims of a previously verified token that has not expired yet. */
  get(token: string, nowSeconds: number): VerifiedClaims | undefined {
    const key = keyOf(token);
    const claims = this.#entries.get(key);
    if (claims === undefined) return undefined;
    if (claims.exp <= nowSeconds) {
      this.#entries.delete(key);
      return undefined;
    }
    return claims;
  }

  set(token: string, claims: AccessTokenClaims): void {
    if (this.#entries.size >= this.capacity) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    const kept: VerifiedClaims = { sub: claims.sub, jti: claims.jti, scope: this.#sharedText(claims.scope), iat: claims.iat, exp: claims.exp };
    if (claims.cnf !== undefined) kept.cnf = claims.cnf;
    if (claims.lk_inc !== undefined) kept.lk_inc = claims.lk_inc;
    this.#entries.set(keyOf(token), kept);
  }

  clear(): void {
    this.#entries.clear();
  }

  /**
   * One string per distinct scope text: each token's payload parses into its own
   * copy of the same fleet-wide scope string, and 10,000 copies were 0.5 MB.
   */
  #sharedText(text: string): string {
    const shared = this.#texts.get(text);
    if (shared !== undefined) return shared;
    if (this.#texts.size >= SCOPE_TEXTS) this.#texts.clear();
    this.#texts.set(text, text);
    return text;
  }
}

function keyOf(token: string): string {
  return hash('sha256', token, 'base64url');
}
