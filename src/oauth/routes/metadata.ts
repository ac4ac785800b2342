import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../context.js';

/**
 * RFC 8414 authorization server metadata. Every URL derives from the
 * issuer, the public base URL, so the document is the same on HTTP and HTTPS.
 */
export function registerMetadata(app: FastifyInstance, ctx: OAuthContext): void {
  const methods = ctx.auth.methodNames;
  const algs = ctx.auth.signingAlgs;
  const document = {
    issuer: ctx.urls.issuer,
    token_endpoint: ctx.urls.token,
    jwks_uri: ctx.urls.jwks,
    introspection_endpoint: ctx.urls.introspection,
    revocation_endpoint: ctx.urls.revocation,
    grant_types_supported: ['client_credentials'],
    // RFC 8414 §2: REQUIRED, but there is no authorization endpoint, so no response type.
    response_types_supported: [],
    token_endpoint_auth_methods_supported: methods,
    // RFC 8414 §2: required once a JWT-based method (private_key_jwt) is listed; meaningless before.
    ...(algs.length > 0 ? { token_endpoint_auth_signing_alg_values_supported: algs } : {}),
    introspection_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    ...(algs.length > 0
      ? { introspection_endpoint_auth_signing_alg_values_supported: algs, revocation_endpoint_auth_signing_alg_values_supported: algs }
      : {}),
    // RFC 8705 §3.3: tokens issued over mutual TLS carry cnf.x5t#S256.
    tls_client_certificate_bound_access_tokens: true,
    // RFC 9068: access tokens are ES256 JWTs.
    access_token_signing_alg_values_supported: ['ES256'],
    // scopes_supported is left out: mqtt:publish:<filter> and mqtt:subscribe:<filter> are templates, not a finite list.
  };
  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return document;
  });
}
