import { OAuthError } from '../../errors/oauth_error.js';
import { CLIENT_ID_PATTERN } from '../../policy/index.js';
import type { ClientAuthMethod, ClientRecord } from '../../store/clients.js';
import { FailureLimiter } from '../failure_limiter.js';
import { BASIC_CHALLENGE, usesBasic } from './client_secret_basic.js';
import type { ClientAuthEnv, ClientAuthInput, ClientAuthMethodHandler } from './method.js';

/** A client that proved who it is, and how. */
export interface AuthenticatedClient {
  client: ClientRecord;
  method: ClientAuthMethod;
}

/** Records a refusal (audit, metrics) and returns the error to throw. */
export type Refuse = (principal: string | null, error: OAuthError) => OAuthError;

/**
 * Brute-force protection, per client id and per remote address (CONTRACT §4).
 * Deliberately our own counter of FAILED authentications rather than
 * @fastify/rate-limit on every request: a fleet of healthy devices fetching
 * tokens must never be throttled, only guessers.
 */
export interface AuthThrottle {
  byClient: FailureLimiter;
  byAddress: FailureLimiter;
}

export function createAuthThrottle(limit: number, windowSeconds: number): AuthThrottle {
  return {
    byClient: new FailureLimiter({ limit, windowSeconds }),
    byAddress: new FailureLimiter({ limit, windowSeconds }),
  };
}

/** The one `invalid_client` answer (RFC 6749 §5.2): unknown client, wrong secret and wrong method look alike. */
export function invalidClient(detail: string, basicAttempted: boolean): OAuthError {
  return new OAuthError(401, 'invalid_client', 'client authentication failed', detail, basicAttempted ? { 'www-authenticate': BASIC_CHALLENGE } : {});
}

/**
 * Authenticates the client of a token, introspection or revocation request
 * with exactly one method, the one the client registered (never whichever
 * the request happens to carry). Named steps:
 *
 * 1. detect: exactly one method's credentials present (none or two: invalid_client);
 * 2. claim: read the claimed id and proof (malformed: invalid_request);
 * 3. throttle: a locked client id or address gets 429 before any proof is
 *    checked, so a locked-out guesser learns nothing, known id or not;
 * 4. look up the client; 5. registered method must match;
 * 6. verify the proof (unknown clients and wrong methods verify against
 *    dummy data, so all three failures cost the same and answer the same).
 *
 * Failures count against the client id and the address; success clears the
 * client's count. Every refusal goes through `refuse` with its private reason.
 */
export class ClientAuthenticator {
  constructor(
    private readonly methods: readonly ClientAuthMethodHandler[],
    private readonly throttle: AuthThrottle,
  ) {}

  /** The registered method names, for RFC 8414 metadata. */
  get methodNames(): ClientAuthMethod[] {
    return this.methods.map((m) => m.name);
  }

  /** Signing algorithms accepted for client assertions, for RFC 8414 metadata. */
  get signingAlgs(): string[] {
    return [...new Set(this.methods.flatMap((m) => m.signingAlgs ?? []))];
  }

  /**
   * @throws OAuthError invalid_client (401), invalid_request (400), slow_down (429)
   */
  async authenticate(input: ClientAuthInput, remote: string, env: ClientAuthEnv, refuse: Refuse): Promise<AuthenticatedClient> {
    const basic = usesBasic(input.authorization);

    // 1. detect
    const present = this.methods.filter((m) => m.present(input));
    if (present.length === 0) throw refuse(null, invalidClient('no client authentication', true));
    // RFC 6749 §2.3 forbids more than one method per request; §5.2 would allow invalid_request,
    // but a request proving itself two ways has not proven it is one registered client: invalid_client (issue 5).
    if (present.length > 1) throw refuse(null, invalidClient(`two methods at once: ${present.map((m) => m.name).join(', ')}`, basic));
    const method = present[0]!;

    // 2. claim
    let claim;
    try {
      claim = method.claim(input);
    } catch (err) {
      if (err instanceof OAuthError) throw refuse(null, err);
      throw err;
    }
    const wellFormed = CLIENT_ID_PATTERN.test(claim.clientId);
    const principal = wellFormed ? claim.clientId : null;
    const clientKey = wellFormed ? claim.clientId : null;

    // 3. throttle (RFC 6749 §5.2 has no code for this; `slow_down` is the
    //    closest registered one, RFC 8628 §3.5, with Retry-After per RFC 9110 §10.2.3)
    const wait = Math.max(clientKey ? this.throttle.byClient.retryAfter(clientKey) : 0, this.throttle.byAddress.retryAfter(remote));
    if (wait > 0) {
      throw refuse(
        principal,
        new OAuthError(429, 'slow_down', 'too many failed attempts, retry later', `rate limited (${method.name})`, { 'retry-after': String(wait) }),
      );
    }

    // 4. look up, 5. method, 6. verify
    const client = wellFormed ? (env.store.clients.get(claim.clientId) ?? null) : null;
    const methodMatches = client !== null && client.authMethod === method.name;
    const failure = await claim.verify(methodMatches ? client : null, env);
    let reason: string | null = null;
    if (!client) reason = wellFormed ? 'unknown client' : 'malformed client id';
    else if (!methodMatches) reason = `wrong method: registered ${client.authMethod}, used ${method.name}`;
    else reason = failure;

    if (reason !== null) {
      if (clientKey) this.throttle.byClient.fail(clientKey);
      this.throttle.byAddress.fail(remote);
      throw refuse(principal, invalidClient(reason, basic));
    }
    this.throttle.byClient.reset(clientKey!);
    return { client: client!, method: method.name };
  }
}
