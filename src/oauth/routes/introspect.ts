import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../errors/oauth_error.js';
import { hasAdmin, parseScopeString } from '../../policy/index.js';
import type { AccessTokenClaims } from '../../tokens/access_token_checks.js';
import { credentialFloor, tokenVoidReason } from '../../tokens/credential_floor.js';
import { belongsToIncarnation } from '../../tokens/incarnation.js';
import { verifyAccessToken } from '../../tokens/verify_access_token.js';
import type { ClientRecord } from '../../store/clients.js';
import type { OAuthContext } from '../context.js';
import { noStore } from '../errors.js';
import { authenticateCaller, tokenParam } from './authenticate_caller.js';

/** RFC 7662 §2.2 answer for a live token. */
export interface ActiveIntrospection {
  active: true;
  scope: string;
  client_id: string;
  sub: string;
  exp: number;
  iat: number;
  nbf?: number;
  iss: string;
  aud: string | string[];
  jti: string;
  token_type: 'Bearer';
  /** RFC 8705 §3.2: the certificate the token is bound to. */
  cnf?: { 'x5t#S256': string };
}

/**
 * May `caller` learn about a token issued to `owner`? Its own tokens always;
 * anyone's with `admin:read` (operators' tools). Otherwise the answer is
 * `{active:false}`, so a device cannot probe another device's tokens.
 */
function mayIntrospect(caller: ClientRecord, ownerId: string): boolean {
  if (caller.id === ownerId) return true;
  try {
    return hasAdmin(parseScopeString(caller.scope), 'read');
  } catch {
    return false;
  }
}

/**
 * `POST /oauth/introspect` (RFC 7662). The caller authenticates as a
 * client. Fail closed: the answer is `{active:false}` unless every step
 * passes: signature by a published key, `typ`, claims, not revoked, the
 * subject client still exists and is enabled, and the caller may see it.
 */
export function registerIntrospect(app: FastifyInstance, ctx: OAuthContext): void {
  const { deps } = ctx;
  const settings = { issuer: deps.config.issuer, audience: deps.config.audience, maxTokenBytes: deps.config.maxPasswordBytes };
  app.post('/oauth/introspect', async (request, reply) => {
    noStore(reply);
    const { client: caller, params } = await authenticateCaller(ctx, request, 'introspection.refused', ctx.urls.introspection);
    let token: string;
    try {
      token = tokenParam(params);
    } catch (err) {
      if (err instanceof OAuthError) deps.audit.record({ event: 'introspection.refused', principal: caller.id, outcome: 'failure', reason: `${err.error}: ${err.detail}`, remote: request.ip });
      throw err;
    }
    // RFC 7662 §2.1: token_type_hint is only a hint; we issue one kind of token.
    let claims: AccessTokenClaims;
    try {
      claims = await verifyAccessToken(token, deps.ring, deps.revocations, settings);
    } catch {
      return { active: false };
    }
    const owner = deps.store.clients.get(claims.client_id);
    if (!owner || owner.status !== 'enabled') return { active: false };
    // Issued before the client changed its auth method, or while a since-retired secret was accepted.
    const now = Date.now();
    const grace = deps.store.clients.graceEnds(owner.id, now);
    if (tokenVoidReason(claims.iat, credentialFloor(owner.credentialsNotBefore, grace.ended, grace.ends), now / 1000)) return { active: false };
    // A token of a deleted client is nothing to a later client of the same id.
    if (!belongsToIncarnation({ incarnation: claims.lk_inc ?? null, iat: claims.iat }, owner)) return { active: false };
    if (!mayIntrospect(caller, claims.client_id)) return { active: false };
    const answer: ActiveIntrospection = {
      active: true,
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}),
      iss: claims.iss,
      aud: claims.aud,
      jti: claims.jti,
      token_type: 'Bearer',
      ...(claims.cnf ? { cnf: claims.cnf } : {}),
    };
    return answer;
  });
}
