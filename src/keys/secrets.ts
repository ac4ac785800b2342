import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A new client secret: 256 bits from the CSPRNG, base64url (43 characters).
 * Shown once; only {@link hashSecret} of it is stored.
 *
 * @example const secret = generateSecret();
 */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * SHA-256 of a secret. A random 256-bit secret cannot be guessed or
 * dictionary-attacked, so a slow password hash would only slow the token
 * endpoint down without adding safety.
 */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * Does `secret` hash to one of `hashes`? Every candidate is compared in
 * constant time and none is skipped, so timing reveals nothing.
 *
 * @example secretMatches(given, client.secrets.map((s) => s.hash))
 */
export function secretMatches(secret: string, hashes: readonly Buffer[]): boolean {
  const candidate = hashSecret(secret);
  let match = false;
  for (const hash of hashes) {
    if (hash.length === candidate.length && timingSafeEqual(hash, candidate)) match = true;
  }
  return match;
}
