import { LatchkeyError } from '../errors/latchkey_error.js';

/** Limits on a claim's life, by who mints it. A hub vouches on the spot: minutes, a few devices. */
export interface ClaimLimits {
  maxUses: number;
  /** Seconds. */
  maxLifetime: number;
}

/** An operator's claim: up to 10,000 devices (a production batch) over up to 30 days. */
export const OPERATOR_CLAIM_LIMITS: ClaimLimits = { maxUses: 10_000, maxLifetime: 30 * 86_400 };
/** A hub's claim (`$auth/<hub>/claim/request`): at most 10 uses and 15 minutes. */
export const HUB_CLAIM_LIMITS: ClaimLimits = { maxUses: 10, maxLifetime: 15 * 60 };

export const DEFAULT_CLAIM_USES = 1;
export const DEFAULT_CLAIM_LIFETIME = 15 * 60;

/**
 * Checks a claim's uses and lifetime (seconds) against `limits`; a larger
 * ask is refused, never quietly cut down. Pure.
 *
 * @example claimTerms({ uses: 3, expiresIn: 600 }, HUB_CLAIM_LIMITS) // { uses: 3, expiresIn: 600 }
 * @throws LatchkeyError invalid_argument
 */
export function claimTerms(ask: { uses?: unknown; expiresIn?: unknown }, limits: ClaimLimits): { uses: number; expiresIn: number } {
  const uses = ask.uses ?? DEFAULT_CLAIM_USES;
  if (typeof uses !== 'number' || !Number.isSafeInteger(uses) || uses < 1 || uses > limits.maxUses) {
    throw new LatchkeyError('invalid_argument', `uses must be a whole number from 1 to ${limits.maxUses}`);
  }
  const expiresIn = ask.expiresIn ?? Math.min(DEFAULT_CLAIM_LIFETIME, limits.maxLifetime);
  if (typeof expiresIn !== 'number' || !Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > limits.maxLifetime) {
    throw new LatchkeyError('invalid_argument', `the claim lifetime must be from 1 s to ${limits.maxLifetime} s`);
  }
  return { uses, expiresIn };
}

export type ClaimStatus = 'active' | 'used' | 'expired' | 'revoked';

/** Where a claim stands at `now` (ms): revoked, then used up, then expired, else active. */
export function claimStatus(claim: { uses: number; used: number; expiresAt: number; revokedAt: number | null }, now: number): ClaimStatus {
  if (claim.revokedAt !== null) return 'revoked';
  if (claim.used >= claim.uses) return 'used';
  if (claim.expiresAt <= now) return 'expired';
  return 'active';
}
