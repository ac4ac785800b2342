import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../errors/oauth_error.js';
import { hasAdmin, parseScopeString } from '../../policy/index.js';
import { revokeToken } from '../../registry/tokens.js';
import type { ClientRecord } from '../../store/clients.js';
import type { AccessTokenClaims } from '../../tokens/access_token_checks.js';
import { verifyAccessToken } from '../../tokens/verify_access_token.js';
import type { OAuthContext } from '../context.js';
import { noStore } from '../errors.js';
import { authenticateCaller, tokenParam } from './authenticate_caller.js';

function isAdminWriter(client: ClientRecord): boolean {
  try {
    return hasAdmin(parseScopeString(client.scope), 'write');
  } catch {
    return false;
  }
}

/**
 * `POST /oauth/revoke` (RFC 7009). The caller authenticates as a client.
 * A token that verifies and was issued to the caller (or any token, for a
 * caller holding `admin:write`) goes on the durable deny-list, into this
 * process's revocation list, and its live MQTT sessions end — all before
 * the answer. Invalid, expired, already revoked or unknown tokens get the
 * same empty 200 (RFC 7009 §2.2). A live token of another client is refused
 * with `invalid_request` (RFC 7009 §2.1: the server "verifies whether the
 * token was issued to the client making the revocation request"; if not,
 * "the request is refused").
 * `token_type_hint` is only a hint (§2.1); we issue access tokens only, so
 * it is ignored rather than answered with `unsupported_token_type`.
 */
export function registerRevoke(app: FastifyInstance, ctx: OAuthContext): void {
  const { deps } = ctx;
  // Expired tokens are simply "nothing to do", so the usual checks apply.
  const settings = { issuer: deps.config.issuer, audience: deps.config.audience, maxTokenBytes: deps.config.maxPasswordBytes };
  app.post('/oauth/revoke', async (request, reply) => {
    noStore(reply);
    const { client: caller, params } = await authenticateCaller(ctx, request, 'revocation.refused', ctx.urls.revocation);
    const refuse = (error: OAuthError): OAuthError => {
      deps.audit.record({ event: 'revocation.refused', principal: caller.id, outcome: 'failure', reason: `${error.error}: ${error.detail}`, remote: request.ip });
      return error;
    };
    let token: string;
    try {
      token = tokenParam(params);
    } catch (err) {
      throw err instanceof OAuthError ? refuse(err) : err;
    }
    let claims: AccessTokenClaims | null = null;
    try {
      claims = await verifyAccessToken(token, deps.ring, deps.revocations, settings);
    } catch {
      claims = null; // invalid, expired or already revoked: nothing to do (RFC 7009 §2.2)
    }
    if (claims) {
      if (claims.client_id !== caller.id && !isAdminWriter(caller)) {
        throw refuse(new OAuthError(400, 'invalid_request', 'the token was not issued to this client', `token of ${claims.client_id}, jti ${claims.jti}`));
      }
      revokeToken(deps.store, deps.audit, { jti: claims.jti, exp: claims.exp, clientId: claims.client_id, remote: request.ip }, caller.id === claims.client_id ? 'oauth' : `oauth:${caller.id}`);
      deps.revocations.add(claims.jti, claims.exp);
      deps.broker.onTokenRevoked(claims.jti);
    }
    return reply.code(200).send();
  });
}
