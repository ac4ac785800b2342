import type { FastifyInstance } from 'fastify';
import { revokeToken } from '../../registry/tokens.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, secured } from '../schemas.js';

/**
 * `POST /admin/tokens/revoke`: puts an access token on the deny-list by its
 * jti, as `latchkey token revoke` does; live sessions using it end within a
 * second (the change feed). Idempotent.
 */
export function registerTokenRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
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
