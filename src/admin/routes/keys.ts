import type { FastifyInstance } from 'fastify';
import { rotateKeys } from '../../registry/signing_keys.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NULLABLE_TIME, secured } from '../schemas.js';

/**
 * `POST /admin/keys/rotate`: a new token-signing key, as `latchkey keys
 * rotate` does; the server loads it from the change feed and keeps the old
 * public key in JWKS until its tokens have expired.
 */
export function registerKeyRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.post(
    '/keys/rotate',
    {
      schema: {
        summary: 'Make a new signing key current; the old one stays published until its tokens expire',
        tags: ['keys'],
        ...secured('write'),
        response: {
          200: { type: 'object', properties: { kid: { type: 'string' }, retired_kid: { type: ['string', 'null'] }, retired_published_until: NULLABLE_TIME } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => rotateKeys(deps.store, deps.audit, caller(request).actor),
  );
}
