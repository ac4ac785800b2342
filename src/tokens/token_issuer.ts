import type { AuditLog } from '../audit/audit_log.js';
import { clientAuthFailed, OAuthError } from '../errors/oauth_error.js';
import type { KeyRing } from '../keys/key_ring.js';
import type { Metrics } from '../metrics/metrics.js';
import { formatScopes, missingScopes, parseScopeString, ScopeError } from '../policy/index.js';
import type { ClientRecord } from '../store/clients.js';
import { issueAccessToken, type TokenIssuerSettings } from './issue_access_token.js';
import type { IssuedTokenLog } from './issued_token_log.js';

/** RFC 6749 §5.1 success body. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export interface IssueContext {
  /** Where the request came from: `http` (token endpoint) or `mqtt` (renewal over $auth). */
  channel: 'http' | 'https' | 'mqtt';
  remote: string | null;
  /** RFC 8705: bind the token to this certificate. */
  certificateThumbprint?: string;
}

/**
 * The client_credentials grant after the client has been authenticated:
 * the client must be enabled, the requested scope a subset of its own
 * (RFC 6749 §3.3, docs/INTERFACE.md#scopes), then an access token is signed and audited.
 * The token endpoint and renewal over MQTT both come here.
 */
export class TokenIssuer {
  constructor(
    private readonly ring: KeyRing,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
    private readonly settings: TokenIssuerSettings,
    /** Where issued tokens' metadata goes for `token list`; none in tools that only sign. */
    private readonly issued: Pick<IssuedTokenLog, 'record'> | null = null,
  ) {}

  /**
   * @throws OAuthError invalid_client (disabled), invalid_scope
   */
  async issue(client: ClientRecord, requestedScope: string | undefined, ctx: IssueContext): Promise<{ response: TokenResponse; jti: string; exp: number }> {
    if (client.status !== 'enabled') {
      throw this.#refuse(client.id, ctx, new OAuthError(401, 'invalid_client', clientAuthFailed(client.id), 'client disabled'));
    }
    const scope = this.#grantedScope(client, requestedScope, ctx);
    const issued = await issueAccessToken(this.ring, this.settings, {
      clientId: client.id,
      scope,
      ttl: client.tokenTtl,
      incarnation: client.incarnation,
      ...(ctx.certificateThumbprint ? { certificateThumbprint: ctx.certificateThumbprint } : {}),
    });
    this.metrics.tokensIssued.inc({ channel: ctx.channel });
    this.issued?.record({
      jti: issued.jti,
      clientId: client.id,
      iat: issued.exp - issued.expiresIn,
      exp: issued.exp,
      channel: ctx.channel,
      scope,
      bound: ctx.certificateThumbprint !== undefined,
    });
    this.audit.record({
      event: 'token.issued',
      principal: client.id,
      outcome: 'success',
      remote: ctx.remote,
      detail: { jti: issued.jti, exp: issued.exp, scope, channel: ctx.channel, ...(ctx.certificateThumbprint ? { bound: true } : {}) },
    });
    return { response: { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope }, jti: issued.jti, exp: issued.exp };
  }

  /** Records a refused request (audit + metric) and returns the error to throw. */
  refuse(principal: string | null, ctx: IssueContext, error: OAuthError): OAuthError {
    return this.#refuse(principal, ctx, error);
  }

  #grantedScope(client: ClientRecord, requested: string | undefined, ctx: IssueContext): string {
    const held = parseScopeString(client.scope);
    if (requested === undefined || requested.trim() === '') return formatScopes(held);
    let asked;
    try {
      asked = parseScopeString(requested);
    } catch (err) {
      const why = err instanceof ScopeError ? err.message : 'malformed scope';
      throw this.#refuse(client.id, ctx, new OAuthError(400, 'invalid_scope', why));
    }
    const missing = missingScopes(held, asked, client.id);
    if (missing.length > 0) {
      throw this.#refuse(client.id, ctx, new OAuthError(400, 'invalid_scope', `scope not allowed: ${formatScopes(missing)}`));
    }
    return formatScopes(asked);
  }

  #refuse(principal: string | null, ctx: IssueContext, error: OAuthError): OAuthError {
    this.metrics.tokenRequestsRefused.inc({ error: error.error });
    this.audit.record({ event: 'token.refused', principal, outcome: 'failure', reason: `${error.error}: ${error.detail}`, remote: ctx.remote, detail: { channel: ctx.channel } });
    return error;
  }
}
