import { CONNACK, ConnackError } from '../../errors/connack_error.js';
import { TOKEN_PREFIX } from '../../keys/prefixed_token.js';
import { claimUsable, idAllowed } from '../../onboarding/provision.js';
import type { ClaimRegistry } from '../../registry/claims.js';
import type { Store } from '../../store/store.js';
import type { PrincipalSource, PrincipalState } from '../principals.js';
import type { Authenticated, ConnectAttempt, PasswordResolver } from './credential_resolver.js';

/** The username that marks a provisioning CONNECT. */
export const CLAIM_USERNAME = '$claim';

/** A provisioning session lasts at most this long (seconds): enough to send a CSR and read the answer. */
export const CLAIM_SESSION_SECONDS = 60;

/** Counts failed claims per remote address (the OAuth failure limiter fits). */
export interface GuessLimiter {
  retryAfter(key: string): number;
  fail(key: string): void;
}

/**
 * Onboarding claims at CONNECT (username `$claim`, password `lk_clm_…`,
 * client id = the id the device asks for). Steps: TLS only, the username,
 * the guess limiter, the claim itself (format, hash, revoked, used up,
 * expired), then the id (template prefix, pattern, free). The session it
 * opens is a provisioning session: jailed to `$provision/<id>/`, ending
 * after success or {@link CLAIM_SESSION_SECONDS}.
 */
export class ClaimResolver implements PasswordResolver {
  readonly name = 'claim';

  constructor(
    private readonly claims: Pick<ClaimRegistry, 'lookup'>,
    private readonly store: Store,
    private readonly guesses: GuessLimiter,
    /** Whether a live session holds this client id. */
    private readonly isLive: (clientId: string) => boolean,
  ) {}

  handles(password: string): boolean {
    return password.startsWith(TOKEN_PREFIX.clm);
  }

  async resolve(attempt: ConnectAttempt, password: string): Promise<Authenticated> {
    // A claim over plain TCP is already exposed; refuse it whatever it is, before any lookup.
    if (!attempt.tls) throw new ConnackError(CONNACK.notAuthorized, 'claim over plain TCP: provisioning needs MQTTS');
    if (attempt.username !== CLAIM_USERNAME) throw new ConnackError(CONNACK.badCredentials, `claim refused: the username must be ${CLAIM_USERNAME}`);
    // A provisioning session lives for one exchange: a persistent one would keep its subscriptions
    // (and queue answers that carry secrets) for a principal that stops existing when it ends.
    if (!attempt.cleanSession) throw new ConnackError(CONNACK.notAuthorized, 'claim refused: a provisioning session must be clean (clean=true)');
    const address = attempt.remote ?? 'unknown';
    if (this.guesses.retryAfter(address) > 0) throw new ConnackError(CONNACK.notAuthorized, 'claim refused: too many failed claims from this address');
    const now = Date.now();
    const claim = this.claims.lookup(password);
    const refusal = claimUsable(claim, now);
    if (refusal) {
      this.guesses.fail(address);
      const code = claim?.revokedAt != null ? CONNACK.notAuthorized : CONNACK.badCredentials;
      throw new ConnackError(code, `claim refused: ${refusal.description}`);
    }
    const template = this.store.templates.get(claim!.template);
    if (!template) throw new ConnackError(CONNACK.notAuthorized, `claim refused: the template of ${claim!.id} no longer exists`);
    const idRefusal = idAllowed(template, attempt.clientId, this.store.nameTaken(attempt.clientId));
    if (idRefusal) throw new ConnackError(CONNACK.identifierRejected, `claim refused: ${idRefusal.description}`);
    // Another claim holder must not take over a provisioning session and read its answer.
    if (this.isLive(attempt.clientId)) throw new ConnackError(CONNACK.identifierRejected, `claim refused: "${attempt.clientId}" is provisioning in another session`);
    return {
      principal: { kind: 'claim', name: attempt.clientId },
      credential: {
        method: 'claim',
        id: claim!.id,
        scopes: [],
        exp: Math.min(now / 1000 + CLAIM_SESSION_SECONDS, claim!.expiresAt / 1000),
        iat: now / 1000,
        certificateSerial: null,
        certificateThumbprint: null,
      },
    };
  }
}

const PROVISIONING: PrincipalState = Object.freeze({ enabled: true, scopes: Object.freeze([]) });

/**
 * Provisioning sessions as principals: always "enabled" with no scopes,
 * since what they may do is their topic jail and their life is the claim
 * session's time limit. Registering the client (a `client` change for the
 * same name) must not end the session before the answer is delivered.
 */
export class ClaimPrincipals implements PrincipalSource {
  readonly kind = 'claim' as const;

  lookup(): PrincipalState {
    return PROVISIONING;
  }

  forget(): void {}
}
