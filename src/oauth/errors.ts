import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { OAuthError } from '../errors/oauth_error.js';
import type { Logger } from '../log/logger.js';

/** RFC 6749 §5.1: token responses, and anything carrying credentials, must not be cached. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/** Sends an OAuthError as its RFC 6749 §5.2 JSON, with its headers. */
export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  noStore(reply).code(error.status);
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.type('application/json; charset=utf-8').send(error.toJSON());
}

/** What fastify's own 4xx errors (raised before a handler runs) mean to a client. */
function fromFastifyError(error: FastifyError): OAuthError | null {
  const status = error.statusCode ?? 500;
  if (status >= 500) return null;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new OAuthError(400, 'invalid_request', 'the request body must be application/x-www-form-urlencoded', error.code);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OAuthError(413, 'invalid_request', 'the request body is too large', error.code);
    default:
      return new OAuthError(400, 'invalid_request', 'the request could not be read', error.code ?? `status ${status}`);
  }
}

/**
 * The one error serialiser of the OAuth server. An OAuthError becomes its
 * RFC 6749 §5.2 JSON; fastify's own errors (body parsing, content type,
 * size) become `invalid_request`; anything else is logged and becomes a bare
 * 500 `server_error`. No stack trace or internal message ever reaches the client.
 */
export function installErrorHandling(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error: FastifyError | OAuthError | Error, request, reply) => {
    if (error instanceof OAuthError) return sendOAuthError(reply, error);
    const mapped = 'statusCode' in error || 'code' in error ? fromFastifyError(error as FastifyError) : null;
    if (mapped) {
      // The route pattern, never request.url: a careless client may put credentials in the query string.
      log.debug({ code: mapped.detail, route: request.routeOptions.url ?? null }, 'request refused before its handler');
      return sendOAuthError(reply, mapped);
    }
    log.error({ err: error, method: request.method, route: request.routeOptions.url ?? null }, 'unexpected error in the OAuth server');
    return sendOAuthError(reply, new OAuthError(500, 'server_error', 'the server could not complete the request'));
  });
  app.setNotFoundHandler((request, reply) =>
    noStore(reply).code(404).type('application/json; charset=utf-8').send({ error: 'not_found', error_description: 'no such endpoint' }),
  );
}
