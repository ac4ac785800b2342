/** Prefixes of latchkey's own secrets (PAT, API key, onboarding claim): never a name. */
export const SECRET_PREFIX = /^lk_[a-z]{3}_/;

/** Exactly the shape of a generated client secret (32 random bytes, base64url). */
export const CLIENT_SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Does a name that fits the id pattern have the shape of one of latchkey's
 * secrets (a PAT, API key or claim, or a client secret)? Such a name goes
 * into the audit trail only when it really names a registered principal:
 * people paste secrets into id fields, and a refusal must not store them.
 *
 * @example looksLikeCredential('t1') // false
 * @example looksLikeCredential('lk_pat_…') // true
 */
export function looksLikeCredential(name: string): boolean {
  return SECRET_PREFIX.test(name) || CLIENT_SECRET_SHAPE.test(name);
}
