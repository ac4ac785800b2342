import type { FastifyInstance } from 'fastify';
import { listLiveTokens, revokeToken, TOKEN_LIST_LIMIT } from '../../registry/tokens.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, secured, TIME } from '../schemas.js';

const TOKEN_VIEW = {
  type: 'object',
  properties: {
    jti: { type: 'string' },
    client_id: { type: 'string' },
    scope: { type: 'string' },
    issued_at: TIME,
    expires_at: TIME,
    issued_via: { type: 'string', enum: ['http', 'https', 'mqtt'] },
    certificate_bound: { type: 'boolean' },
  },
} as const;

/**
 * `GET /admin/tokens`: live (unexpired, unrevoked) access tokens by jti,
 * as `latchkey token list` shows them; never the tokens themselves.
 * `POST /admin/tokens/revoke`: puts an access token on the deny-list by its
 * jti, as `latchkey token revoke` does; live sessions using it end within a
 * second (the change feed). Idempotent.
 */
export function registerTokenRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.get<{ Querystring: { client_id?: string; limit?: number } }>(
    '/tokens',
    {
      schema: {
        summary: 'Live access tokens (jti and metadata, never the token)',
        tags: ['revocations'],
        ...secured('read'),
        querystring: {
          type: 'object',
          properties: { client_id: NAME, limit: { type: 'integer', minimum: 1, maximum: TOKEN_LIST_LIMIT } },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: TOKEN_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      deps.issuedTokens.flush();
      const { client_id, limit } = request.query;
      return { tokens: listLiveTokens(deps.store, { ...(client_id !== undefined ? { clientId: client_id } : {}), ...(limit !== undefined ? { limit } : {}) }) };
    },
  );

  app.post<{ Body: { jti: string } }>(
    '/tokens/revoke',
    {
      schema: {
        summary: 'Revoke an access token by its jti',
        tags: ['revocations'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: { jti: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' } },
          required: ['jti'],
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { jti: { type: 'string' }, revoked: { type: 'boolean' }, already_revoked: { type: 'boolean' } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      const added = revokeToken(deps.store, deps.audit, { jti: request.body.jti, remote: request.ip }, actor);
      return { jti: request.body.jti, revoked: true, already_revoked: !added };
    },
  );
}
