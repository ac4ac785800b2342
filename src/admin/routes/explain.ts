import type { FastifyInstance } from 'fastify';
import type { MqttAction } from '../../policy/index.js';
import { explain } from '../../registry/explain.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, SCOPE, secured } from '../schemas.js';

interface ExplainQuery {
  principal: string;
  action: MqttAction;
  topic: string;
  scope?: string;
}

/**
 * `GET /admin/explain`: `latchkey explain` over HTTP, from the same pure
 * decide(). With `scope`, judges that scope instead of the principal's
 * (the console's live "what this allows" preview before a scope is saved).
 */
export function registerExplainRoutes(app: FastifyInstance, { deps }: AdminContext): void {
  app.get<{ Querystring: ExplainQuery }>(
    '/explain',
    {
      schema: {
        summary: 'Would this principal be allowed to publish or subscribe here, and why?',
        tags: ['policy'],
        ...secured('read'),
        querystring: {
          type: 'object',
          properties: {
            principal: NAME,
            action: { type: 'string', enum: ['publish', 'subscribe'] },
            topic: { type: 'string', minLength: 1, maxLength: 65_535, description: 'topic name (publish) or filter (subscribe)' },
            scope: { ...SCOPE, description: 'judge this scope string instead of the principal\'s (a preview)' },
          },
          required: ['principal', 'action', 'topic'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              allow: { type: 'boolean' },
              reason: { type: 'string' },
              scope: { type: ['string', 'null'], description: 'the scope that allowed it, or on a deny the one that would' },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { principal, action, topic, scope } = request.query;
      return explain(deps.store, deps.limits, principal, action, topic, scope);
    },
  );
}
