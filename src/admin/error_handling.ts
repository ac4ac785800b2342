import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { LatchkeyError, type LatchkeyErrorCode } from '../errors/latchkey_error.js';
import type { Logger } from '../log/logger.js';
import { AdminError } from './admin_error.js';

/** How each registry error answers over HTTP. */
const STATUS_OF: Record<LatchkeyErrorCode, { status: number; error: AdminError['error'] }> = {
  invalid_option: { status: 400, error: 'invalid_request' },
  invalid_duration: { status: 400, error: 'invalid_request' },
  invalid_id: { status: 400, error: 'invalid_request' },
  invalid_scope: { status: 400, error: 'invalid_request' },
  invalid_argument: { status: 400, error: 'invalid_request' },
  invalid_csr: { status: 400, error: 'invalid_request' },
  not_found: { status: 404, error: 'not_found' },
  already_exists: { status: 409, error: 'conflict' },
  conflict: { status: 409, error: 'conflict' },
  // Start-up refusals; an HTTP request never meets them, and the details stay in the log.
  insecure_files: { status: 500, error: 'server_error' },
  bad_passphrase: { status: 500, error: 'server_error' },
  ca_mismatch: { status: 500, error: 'server_error' },
  provisioning_refused: { status: 409, error: 'conflict' },
  not_initialised: { status: 500, error: 'server_error' },
  unauthorized: { status: 401, error: 'invalid_token' },
  forbidden: { status: 403, error: 'insufficient_scope' },
  unavailable: { status: 500, error: 'server_error' },
  internal: { status: 500, error: 'server_error' },
};

export function sendAdminError(reply: FastifyReply, error: AdminError): FastifyReply {
  reply.code(error.status).header('cache-control', 'no-store');
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.type('application/json; charset=utf-8').send(error.toJSON());
}

/**
 * Ajv says only "must NOT have additional properties"; name the field, so a
 * misspelt one ("scopes" for "scope") is obvious. Its name only, never its value.
 */
function unknownFieldMessage(validation: unknown): string | null {
  if (!Array.isArray(validation)) return null;
  const failure = (validation as { keyword?: string; instancePath?: string; params?: { additionalProperty?: unknown } }[]).find(
    (v) => v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string',
  );
  if (!failure) return null;
  const field = String(failure.params!.additionalProperty).slice(0, 64);
  return `unknown field ${JSON.stringify(field)} in the request body${failure.instancePath ? ` at ${failure.instancePath}` : ''}`;
}

/** Turns anything thrown by an admin route into an AdminError; null for the unexpected. */
export function toAdminError(error: unknown): AdminError | null {
  if (error instanceof AdminError) return error;
  if (error instanceof LatchkeyError) {
    const { status, error: code } = STATUS_OF[error.code];
    return new AdminError(status, code, status === 500 ? 'the server could not complete the request' : error.message);
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  // Schema validation: fastify's message names the field and the rule, never a secret.
  if (fastifyError.validation) return new AdminError(400, 'invalid_request', unknownFieldMessage(fastifyError.validation) ?? fastifyError.message ?? 'invalid request');
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AdminError(413, 'invalid_request', 'the request body is too large');
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AdminError(415, 'invalid_request', 'the request body must be application/json');
    return new AdminError(400, 'invalid_request', 'the request could not be read');
  }
  return null;
}

/**
 * The admin API's own error serialiser (the OAuth server's answers in RFC
 * 6749 terms, which do not fit here): `{"error","error_description"}` with
 * the right status; anything unexpected is logged and becomes a bare 500.
 */
export function installAdminErrorHandling(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((error, request, reply) => {
    const mapped = toAdminError(error);
    if (mapped) return sendAdminError(reply, mapped);
    log.error({ err: error, method: request.method, route: request.routeOptions.url ?? null }, 'unexpected error in the admin API');
    return sendAdminError(reply, new AdminError(500, 'server_error', 'the server could not complete the request'));
  });
}
