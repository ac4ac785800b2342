import type { FastifyRequest } from 'fastify';
import { OAuthError } from '../errors/oauth_error.js';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/**
 * The parameters of an OAuth POST: the body must be
 * application/x-www-form-urlencoded (RFC 6749 §4.4.2, RFC 7662 §2.1,
 * RFC 7009 §2.1) and no parameter may appear twice (RFC 6749 §3.2).
 * Fastify parses JSON and text bodies too, so the media type is checked
 * here rather than trusted from the parser.
 *
 * @example const params = formParams(request); params.grant_type // 'client_credentials'
 * @throws OAuthError invalid_request
 */
export function formParams(request: FastifyRequest): Readonly<Record<string, string>> {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== FORM_CONTENT_TYPE) {
    throw new OAuthError(400, 'invalid_request', `the request body must be ${FORM_CONTENT_TYPE}`, `content type "${mediaType.slice(0, 80)}"`);
  }
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const body = request.body;
  if (body === undefined || body === null) return params;
  if (typeof body !== 'object') throw new OAuthError(400, 'invalid_request', 'the request body could not be read');
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    if (typeof value !== 'string') throw new OAuthError(400, 'invalid_request', `parameter ${safeName(name)} is repeated`);
    params[name] = value;
  }
  return params;
}

/** A parameter name fit to echo back: printable ASCII, short. */
function safeName(name: string): string {
  return /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? name : '(unnamed)';
}
