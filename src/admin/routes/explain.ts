import type { FastifyInstance } from 'fastify';
import { explainAccess } from '../../registry/explain.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, secured } from '../schemas.js';

/** `GET /admin/explain`: would this principal be allowed to publish or subscribe there, and why (as `latchkey explain`). */
export function registerExplainRoutes(app: FastifyInstance, { deps }: AdminContext): void {
  app.get<{ Querystring: { principal: string; action: 'publish' | 'subscribe'; topic: string } }>(
    '/explain',
    {
      schema: {
        summary: 'The broker\'s decision for a publish or subscribe, and why',
        tags: ['clients'],
        ...secured('read'),
        querystring: {
          type: 'object',
          properties: { principal: NAME, action: { type: 'string', enum: ['publish', 'subscribe'] }, topic: { type: 'string', minLength: 1, maxLength: 65_535 } },
          required: ['principal', 'action', 'topic'],
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { allow: { type: 'boolean' }, reason: { type: 'string' }, scope: { type: ['string', 'null'] } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { principal, action, topic } = request.query;
      return explainAccess(deps.store, principal, action, topic, deps.maxTopicLevels);
    },
  );
}
