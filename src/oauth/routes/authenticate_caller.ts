import type { FastifyRequest } from 'fastify';
import { OAuthError } from '../../errors/oauth_error.js';
import type { ClientRecord } from '../../store/clients.js';
import { invalidClient } from '../client_auth/authenticate_client.js';
import { usesBasic } from '../client_auth/client_secret_basic.js';
import { clientAuthEnv, clientAuthInput, type OAuthContext } from '../context.js';
import { formParams } from '../form.js';

/**
 * The common front of introspection and revocation: read the form and
 * authenticate the calling client (the same code as the token endpoint,
 * throttle included). A disabled client is refused like an unknown one.
 * Refusals are audited as `<event>` with the private reason.
 *
 * @example const { client, params } = await authenticateCaller(ctx, request, 'introspection.refused', ctx.urls.introspection);
 */
export async function authenticateCaller(
  ctx: OAuthContext,
  request: FastifyRequest,
  event: string,
  endpointUrl: string,
): Promise<{ client: ClientRecord; params: Readonly<Record<string, string>> }> {
  const refuse = (principal: string | null, error: OAuthError): OAuthError => {
    ctx.deps.audit.record({ event, principal, outcome: 'failure', reason: `${error.error}: ${error.detail}`, remote: request.ip });
    return error;
  };
  let params;
  try {
    params = formParams(request);
  } catch (err) {
    throw err instanceof OAuthError ? refuse(null, err) : err;
  }
  const { client } = await ctx.auth.authenticate(clientAuthInput(request, params), request.ip, clientAuthEnv(ctx, endpointUrl), refuse);
  if (client.status !== 'enabled') throw refuse(client.id, invalidClient('client disabled', usesBasic(request.headers.authorization), client.id));
  return { client, params };
}

/** The `token` parameter, required by RFC 7662 §2.1 and RFC 7009 §2.1. */
export function tokenParam(params: Readonly<Record<string, string>>): string {
  const token = params.token;
  if (token === undefined || token === '') throw new OAuthError(400, 'invalid_request', 'token is required');
  return token;
}
