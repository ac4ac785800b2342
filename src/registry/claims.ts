import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { checkPrefixedToken, generatePrefixedToken, randomBase62, TOKEN_PREFIX } from '../keys/prefixed_token.js';
import { hashSecret, secretMatches } from '../keys/secrets.js';
import { claimStatus, claimTerms, type ClaimLimits, type ClaimStatus } from '../onboarding/claims.js';
import { formatOnboarding } from '../onboarding/onboarding_string.js';
import type { ClaimRecord } from '../store/claims.js';
import type { Store } from '../store/store.js';
import type { Actor } from './clients.js';

/** Where devices reach this latchkey, for the onboarding string. */
export interface OnboardingEndpoint {
  /** `host:port` of MQTTS. */
  mqtts: string;
  /** `https://host:port`. */
  https: string;
  /** Hex SHA-256 of the CA certificate's DER. */
  caSha256: string;
}

/** What `claim create` prints once: the secret and the onboarding string carrying it. */
export interface CreatedClaim {
  id: string;
  claim: string;
  onboarding: string;
  expires_at: string;
}

/** A claim as operators see it: never the secret, only its prefix and last four characters. */
export interface ClaimView {
  id: string;
  template: string;
  prefix: string;
  last4: string;
  uses: number;
  used: number;
  status: ClaimStatus;
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/**
 * Onboarding claims: a secret (`lk_clm_…`, as PATs: prefix, 32 random
 * base62, checksum) that lets a device provision itself under a template a
 * limited number of times before it expires. Stored as SHA-256 hashes.
 */
export class ClaimRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Mints a claim for `template`. `createdBy` is the actor (`cli`) or
   * `client:<hub>` for a hub's claim; `limits` bound what may be asked.
   *
   * @example claims.create('thermostat', { uses: 1, expiresIn: 900 }, OPERATOR_CLAIM_LIMITS, 'cli', endpoint)
   * @throws LatchkeyError not_found, invalid_argument
   */
  create(template: string, ask: { uses?: unknown; expiresIn?: unknown }, limits: ClaimLimits, createdBy: Actor, endpoint: OnboardingEndpoint): CreatedClaim {
    const { uses, expiresIn } = claimTerms(ask, limits);
    const now = Date.now();
    const expiresAt = now + expiresIn * 1000;
    const id = `clm_${randomBase62(12)}`;
    const claim = generatePrefixedToken('clm');
    this.store.durably(() => {
      if (!this.store.templates.get(template)) throw new LatchkeyError('not_found', `no template "${template}"`);
      this.store.claims.insert({ id, template, hash: hashSecret(claim), last4: claim.slice(-4), uses, expiresAt, createdAt: now, createdBy });
    });
    const expires_at = new Date(expiresAt).toISOString();
    this.audit.record({
      event: 'claim.created',
      principal: createdBy.startsWith('client:') ? createdBy.slice('client:'.length) : null,
      outcome: 'success',
      detail: { actor: createdBy, id, template, uses, expires_at },
    });
    return { id, claim, onboarding: formatOnboarding({ ...endpoint, claim }), expires_at };
  }

  list(): ClaimView[] {
    const now = Date.now();
    return this.store.claims.list().map((c) => view(c, now));
  }

  /** Revokes a claim; unused uses die with it. Idempotent. @throws LatchkeyError not_found */
  revoke(id: string, actor: Actor): { view: ClaimView; alreadyRevoked: boolean } {
    if (!this.store.claims.byId(id)) throw new LatchkeyError('not_found', `no claim "${id}"`);
    const revoked = this.store.durably(() => this.store.claims.revoke(id, Date.now()));
    this.audit.record({ event: 'claim.revoked', principal: null, outcome: 'success', reason: revoked ? null : 'already revoked', detail: { actor, id } });
    return { view: view(this.store.claims.byId(id)!, Date.now()), alreadyRevoked: !revoked };
  }

  /**
   * Finds the claim a presented secret names: format and checksum first (a
   * typo costs no lookup), then the hash, compared in constant time.
   * Whether it may still provision is the caller's decision (claimUsable).
   * Undefined when it names no claim.
   */
  lookup(secret: string): ClaimRecord | undefined {
    const format = checkPrefixedToken(secret);
    if (!format.ok || format.kind !== 'clm') return undefined;
    const claim = this.store.claims.byHash(hashSecret(secret));
    if (!claim || !secretMatches(secret, [claim.hash])) return undefined;
    return claim;
  }
}

function view(c: ClaimRecord, now: number): ClaimView {
  return {
    id: c.id,
    template: c.template,
    prefix: TOKEN_PREFIX.clm,
    last4: c.last4,
    uses: c.uses,
    used: c.used,
    status: claimStatus(c, now),
    created_by: c.createdBy,
    created_at: new Date(c.createdAt).toISOString(),
    expires_at: new Date(c.expiresAt).toISOString(),
    revoked_at: c.revokedAt === null ? null : new Date(c.revokedAt).toISOString(),
  };
}
