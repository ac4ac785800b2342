import { looksLikeCredential } from '../../audit/credential_shape.js';
import { clientAuthFailed, OAuthError } from '../../errors/oauth_error.js';
import { checkClientCertificate } from '../client_certificate.js';
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
 * Brute-force protection (docs/INTERFACE.md#oauth-over-http). Failures are counted per client id
 * AND address pair, and per address over every id, never per client id
 * alone: client ids are not secret (they appear in topics), so a count per
 * id would let anyone lock a device out from everywhere. Failures from one
 * address never lock the device out at another.
 * Deliberately our own counter of FAILED authentications rather than a rate
 * limit on every request: a fleet of healthy devices fetching tokens must
 * never be throttled, only guessers.
 */
export interface AuthThrottle {
  /** Key: `<client id> <address>` (a client id has no space). */
  byClientAtAddress: FailureLimiter;
  byAddress: FailureLimiter;
}

/**
 * @param limit failures for one client id from one address before 429
 * @param addressLimit failures from one address, any client ids, before 429
 * @param windowSeconds counting window, and the first lock's length
 */
export function createAuthThrottle(limit: number, addressLimit: number, windowSeconds: number): AuthThrottle {
  return {
    byClientAtAddress: new FailureLimiter({ limit, windowSeconds }),
    byAddress: new FailureLimiter({ limit: addressLimit, windowSeconds }),
  };
}

/**
 * The one `invalid_client` answer (RFC 6749 §5.2): unknown client, wrong
 * secret and wrong method look alike. The description points the caller at
 * the audit log for the id the request named (null: none well-formed).
 */
export function invalidClient(detail: string, basicAttempted: boolean, claimedClientId: string | null = null, description?: string): OAuthError {
  return new OAuthError(401, 'invalid_client', description ?? clientAuthFailed(claimedClientId), detail, basicAttempted ? { 'www-authenticate': BASIC_CHALLENGE } : {});
}

/** `client_secret_basic` and `client_secret_post` are one secret over two transports: one registration (as Keycloak does). */
const SECRET_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

/** May a client registered for `registered` authenticate with `used`? */
export function methodAccepted(registered: ClientAuthMethod, used: ClientAuthMethod): boolean {
  return registered === used || (SECRET_METHODS.includes(registered) && SECRET_METHODS.includes(used));
}

/**
 * Authenticates the client of a token, introspection or revocation request
 * with exactly one method, the one the client registered (never whichever
 * the request happens to carry). Named steps:
 *
 * 1. detect: exactly one method's credentials present (none or two: invalid_client);
 * 2. claim: read the claimed id and proof (malformed: invalid_request);
 * 3. throttle: a locked (client id, address) pair or a locked address gets
 *    429 before any proof is checked, so a locked-out guesser learns
 *    nothing, known id or not;
 * 4. look up the client; 5. registered method must be accepted (the two
 *    secret transports count as one);
 * 6. verify the proof (unknown clients and wrong methods verify against
 *    dummy data, so all three failures cost the same and answer the same).
 *
 * Failures count against the (client id, address) pair and the address;
 * success clears the pair's count. Every refusal goes through `refuse` with
 * its private reason; the caller sees a generic description that names the
 * audit command for the id it claimed.
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
    // Whom the audit row names: the claimed id, unless it is shaped like a secret and names no
    // client (a secret pasted into client_id must not be stored). One indexed read, only then.
    const principal = wellFormed && (!looksLikeCredential(claim.clientId) || env.store.clients.get(claim.clientId)) ? claim.clientId : null;

    // 3. throttle (RFC 6749 §5.2 has no code for this; `slow_down` is the
    //    closest registered one, RFC 8628 §3.5, with Retry-After per RFC 9110 §10.2.3)
    const pairKey = wellFormed ? `${claim.clientId} ${remote}` : null;
    const wait = Math.max(pairKey ? this.throttle.byClientAtAddress.retryAfter(pairKey) : 0, this.throttle.byAddress.retryAfter(remote));
    if (wait > 0) {
      throw refuse(
        principal,
        new OAuthError(429, 'slow_down', 'too many failed attempts, retry later', `rate limited (${method.name})`, { 'retry-after': String(wait) }),
      );
    }

    // 4. look up, 5. method, 6. verify
    const client = wellFormed ? (env.store.clients.get(claim.clientId) ?? null) : null;
    const methodMatches = client !== null && methodAccepted(client.authMethod, method.name);
    const failure = await claim.verify(methodMatches ? client : null, env);
    let reason: string | null = null;
    if (!client) reason = wellFormed ? 'unknown client' : 'malformed client id';
    else if (!methodMatches) reason = `wrong method: registered ${client.authMethod}, used ${method.name}`;
    else reason = failure;

    if (reason !== null) {
      if (pairKey) this.throttle.byClientAtAddress.fail(pairKey);
      this.throttle.byAddress.fail(remote);
      const description = client && !methodMatches ? wrongMethodDescription(client, method.name, input, env) : undefined;
      throw refuse(principal, invalidClient(reason, basic, principal, description));
    }
    this.throttle.byClientAtAddress.reset(pairKey!);
    return { client: client!, method: method.name };
  }
}

/**
 * Says which method a client is registered for, but only to a caller that
 * has proven it IS that client: over mutual TLS with a valid latchkey
 * certificate naming it (the device that just received a certificate and
 * tries `tls_client_auth` before the operator moved it). Anyone else gets
 * the generic answer, so the refusal is no oracle for which ids exist or how
 * they authenticate.
 */
function wrongMethodDescription(client: ClientRecord, used: ClientAuthMethod, input: ClientAuthInput, env: ClientAuthEnv): string | undefined {
  if (!input.peerCertificate) return undefined;
  const checked = checkClientCertificate(input.peerCertificate, env);
  if (!checked.ok || checked.identity.clientId !== client.id) return undefined;
  // RFC 6749 §5.2: error_description allows no double quote or backslash; a client id has neither.
  const registered = `client ${client.id} is registered for ${client.authMethod}, not ${used}`;
  // A device with a certificate that still sends its secret should just drop the secret;
  // one registered for a secret that now has a certificate needs the operator.
  if (client.authMethod === 'tls_client_auth') return `${registered}: send client_id without a secret`;
  return `${registered}; the operator can move it with \`latchkey client set-auth-method ${client.id} ${used}\``;
}
