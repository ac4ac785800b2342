/**
 * JSON schemas shared by the admin routes: they validate input and
 * describe every route in `/openapi.json`.
 */

/** A client, user or API key name (docs/INTERFACE.md#command-line). */
export const NAME = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } as const;

/** A space-separated scope string (docs/INTERFACE.md#scopes). */
export const SCOPE = { type: 'string', minLength: 1, maxLength: 4096, description: 'space-separated scopes, as in OAuth 2.0' } as const;

export const TIME = { type: 'string', format: 'date-time' } as const;
export const NULLABLE_TIME = { type: ['string', 'null'], format: 'date-time' } as const;

export const ERROR = {
  type: 'object',
  description: 'an error: 400 invalid_request, 401 invalid_token, 403 insufficient_scope, 404 not_found, 409 conflict',
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
  required: ['error', 'error_description'],
} as const;

/** Every admin route answers these besides its success. */
export const ERROR_RESPONSES = { 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR } as const;

/** Marks a route as needing a bearer token with `admin:<access>`, for the OpenAPI document. */
export function secured(access: 'read' | 'write'): { security: { bearer: string[] }[]; description: string } {
  return { security: [{ bearer: [] }], description: `Needs a PAT or API key with admin:${access}${access === 'read' ? ' (or admin:write)' : ''}.` };
}

export const CLIENT_VIEW = {
  type: 'object',
  properties: {
    client_id: { type: 'string' },
    scope: { type: 'string' },
    token_ttl: { type: 'integer' },
    auth_method: { type: 'string' },
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    created_at: TIME,
    updated_at: TIME,
    secrets: { type: 'array', items: { type: 'object', properties: { expires_at: NULLABLE_TIME } } },
    static_password: { type: 'boolean', description: 'whether a static MQTT password is set (never the password)' },
  },
} as const;
