import { randomBytes } from 'node:crypto';

/**
 * The private claim that names the incarnation of the client a token was
 * issued to (RFC 7519 §4.3: a private name, prefixed so it collides with no
 * registered one).
 */
export const INCARNATION_CLAIM = 'lk_inc';

/**
 * A fresh incarnation for a client row: 128 random bits, hex.
 *
 * Why not the creation time: `iat` has one-second resolution, so a token of
 * a client deleted and re-created within the same second would be
 * indistinguishable from the new client's by time alone (and wall clocks
 * step). A random value carried in the signed token leaves no window.
 *
 * @example clients.insert({ ..., incarnation: newIncarnation() })
 */
export function newIncarnation(): string {
  return randomBytes(16).toString('hex');
}

/** What a token tells about whom it was issued to. */
export interface IssuedTo {
  /** The token's incarnation claim; null when it carries none (issued before migration 5). */
  incarnation: string | null;
  /** Seconds since the epoch. */
  iat: number;
}

/**
 * Was this token issued to the client row as it is now, not to an earlier,
 * deleted client of the same id? Deny by default:
 *
 * - a client with an incarnation accepts exactly the tokens carrying it;
 * - a legacy client (created before migration 5, incarnation null) accepts
 *   only tokens without the claim, issued no earlier than the second it was
 *   created in. A token issued to its deleted predecessor in that very
 *   second would pass; such tokens predate the upgrade and expire within
 *   the longest token lifetime.
 *
 * @example belongsToIncarnation({ incarnation: claims.lk_inc ?? null, iat: claims.iat }, client)
 */
export function belongsToIncarnation(token: IssuedTo, client: { incarnation: string | null; createdAt: number }): boolean {
  if (client.incarnation !== null) return token.incarnation === client.incarnation;
  return token.incarnation === null && token.iat >= Math.floor(client.createdAt / 1000);
}
